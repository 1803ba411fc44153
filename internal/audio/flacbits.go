package audio

import (
	"encoding/binary"
	"math/bits"
)

// flacBits reads a FLAC frame MSB-first from a byte slice through a 64-bit
// cache. Reading past the end of the slice yields zero bits and is counted,
// so the hot loops need no per-read bounds test: callers check overrun()
// once per subframe (or when a loop could otherwise spin on zeros) and
// report truncation.
type flacBits struct {
	buf []byte
	// pos is the next byte of buf not yet counted in n. The bits of cache
	// below the top n may already hold the following bytes (refill loads 8
	// bytes but counts 7 or fewer); reloading them ORs in the same values.
	pos   int
	cache uint64
	n     uint // valid bits at the top of cache
	pad   uint // zero bits supplied past the end of buf
}

// reset positions the reader at byte off of buf.
func (r *flacBits) reset(buf []byte, off int) {
	r.buf, r.pos, r.cache, r.n, r.pad = buf, off, 0, 0, 0
}

// refill tops the cache up to at least 56 valid bits. Call only with n < 56.
func (r *flacBits) refill() {
	if r.pos+8 <= len(r.buf) {
		// Branch-free refill: load 8 bytes, count only the whole bytes that
		// fit below the n bits already present.
		r.cache |= binary.BigEndian.Uint64(r.buf[r.pos:]) >> r.n
		r.pos += int((63 - r.n) >> 3)
		r.n |= 56
		return
	}
	r.refillTail()
}

// refillTail is refill near the end of buf: byte by byte, then zeros.
func (r *flacBits) refillTail() {
	for r.n <= 56 {
		if r.pos >= len(r.buf) {
			r.pad += 64 - r.n
			r.n = 64
			return
		}
		r.cache |= uint64(r.buf[r.pos]) << (56 - r.n)
		r.pos++
		r.n += 8
	}
}

// overrun reports that bits past the end of buf have been consumed.
func (r *flacBits) overrun() bool { return r.pad > r.n }

// bitPos is the number of bits consumed from the start of buf.
func (r *flacBits) bitPos() int { return r.pos*8 + int(r.pad) - int(r.n) }

// uint reads k ≤ 56 bits as an unsigned number (k = 0 reads nothing).
func (r *flacBits) uint(k uint) uint64 {
	if r.n < k {
		r.refill()
	}
	v := r.cache >> (64 - k) // Go defines a shift by 64 as 0, so k = 0 works
	r.cache <<= k
	r.n -= k
	return v
}

// int reads k (1 ≤ k ≤ 56) bits as a two's complement number.
func (r *flacBits) int(k uint) int64 {
	if r.n < k {
		r.refill()
	}
	v := int64(r.cache) >> (64 - k)
	r.cache <<= k
	r.n -= k
	return v
}

// unary reads a run of zero bits ended by a one and returns the run's
// length; ok is false when the input ends first.
func (r *flacBits) unary() (q uint64, ok bool) {
	for {
		lz := uint(bits.LeadingZeros64(r.cache))
		if lz < r.n {
			r.cache <<= lz + 1
			r.n -= lz + 1
			return q + uint64(lz), true
		}
		q += uint64(r.n)
		r.cache <<= r.n // keeps the preloaded bits aligned for refill
		r.n = 0
		if r.pos >= len(r.buf) {
			return q, false
		}
		r.refill()
	}
}

// flacSample is the type a subframe decodes into: int32 for every channel
// except a side channel of a 32-bit stream, which needs 33 bits.
type flacSample interface{ int32 | int64 }

// readRice decodes len(dst) Rice-coded residuals with parameter k ≤ 30.
// It returns false if the input ends first.
func readRice[T flacSample](r *flacBits, dst []T, k uint) bool {
	for i := 0; ; i++ {
		i = riceFast(r, dst, i, k)
		if i == len(dst) {
			return true
		}
		// A code longer than the cache holds, or the end of the input.
		if r.n < 56 {
			r.refill()
		}
		q, ok := r.unary()
		if !ok {
			return false
		}
		u := q<<k | r.uint(k)
		dst[i] = T(int64(u>>1) ^ -int64(u&1))
	}
}

// riceFast decodes residuals from dst[i] on while each code fits in the
// cache and 8-byte refills stay inside the input, and returns the index
// where it stopped. It makes no calls but riceRun, so the reader's state
// stays in registers.
func riceFast[T flacSample](r *flacBits, dst []T, i int, k uint) int {
	cache, n, pos, buf := r.cache, r.n, r.pos, r.buf
	last := len(buf) - 8 // the last offset an 8-byte refill may load from
	for i < len(dst) {
		if n < 56 {
			if pos > last {
				break
			}
			cache |= binary.BigEndian.Uint64(buf[pos:]) >> (n & 63)
			pos += int((63 - n) >> 3)
			n |= 56
		}
		start := i
		if k == 0 {
			cache, n, i = riceRun0(dst, i, cache, n)
		} else {
			cache, n, i = riceRun(dst, i, cache, n, k)
		}
		if i == start && n >= 56 {
			break // a code longer than a full cache
		}
	}
	r.cache, r.n, r.pos = cache, n, pos
	return i
}

// riceRun decodes from dst[i] on until a code does not fit in the n bits
// of cache. It is kept out of line so that its loop has few live values
// and nothing spills; every shift count is masked below 64 so the
// compiler emits bare shifts.
//
//go:noinline
func riceRun[T flacSample](dst []T, i int, cache uint64, n, k uint) (uint64, uint, int) {
	kpow := uint64(1) << (k & 63)
	k1 := k + 1
	for ; i < len(dst); i++ {
		lz := uint(bits.LeadingZeros64(cache))
		total := lz + k1 // zeros, the stop bit, k low bits
		if total > n {   // also cache = 0: lz = 64
			break
		}
		// The code's bits as a number are 1<<k + low, so
		// (lz-1)<<k + that is the folded value lz<<k + low.
		u := (uint64(lz)-1)*kpow + cache>>((64-total)&63)
		cache = cache << ((total - 1) & 63) << 1
		n -= total
		dst[i] = T(int64(u>>1) ^ -int64(u&1))
	}
	return cache, n, i
}

// riceRun0 is riceRun for k = 0 (pure unary codes), common in the quiet
// stretches of speech recordings.
//
//go:noinline
func riceRun0[T flacSample](dst []T, i int, cache uint64, n uint) (uint64, uint, int) {
	for ; i < len(dst); i++ {
		lz := uint(bits.LeadingZeros64(cache))
		if lz >= n { // also cache = 0: lz = 64
			break
		}
		cache = cache << (lz & 63) << 1
		n -= lz + 1
		u := uint64(lz)
		dst[i] = T(int64(u>>1) ^ -int64(u&1))
	}
	return cache, n, i
}

// CRC-8 (polynomial x^8+x^2+x+1) guards each frame header; CRC-16
// (x^16+x^15+x^2+1) each whole frame. Both are MSB-first with initial value
// 0 (RFC 9639 section 9.1.8 and 9.3). CRC-16 runs over every byte of the
// file, so it is computed eight bytes at a time ("slicing-by-8").
var (
	flacCRC8Table  = makeFLACCRC8()
	flacCRC16Table = makeFLACCRC16()
)

func makeFLACCRC8() (t [256]uint8) {
	for i := range t {
		c := uint8(i)
		for range 8 {
			if c&0x80 != 0 {
				c = c<<1 ^ 0x07
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}

// makeFLACCRC16 returns t with t[k][b] the CRC of byte b followed by k zero
// bytes.
func makeFLACCRC16() (t [8][256]uint16) {
	for i := range t[0] {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x8005
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range t[k] {
			c := t[k-1][i]
			t[k][i] = c<<8 ^ t[0][c>>8]
		}
	}
	return t
}

func flacCRC8(b []byte) uint8 {
	var c uint8
	for _, v := range b {
		c = flacCRC8Table[c^v]
	}
	return c
}

func flacCRC16(b []byte) uint16 {
	var c uint16
	t := &flacCRC16Table
	for len(b) >= 8 {
		c = t[7][b[0]^byte(c>>8)] ^ t[6][b[1]^byte(c)] ^
			t[5][b[2]] ^ t[4][b[3]] ^ t[3][b[4]] ^ t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]]
		b = b[8:]
	}
	for _, v := range b {
		c = c<<8 ^ t[0][byte(c>>8)^v]
	}
	return c
}

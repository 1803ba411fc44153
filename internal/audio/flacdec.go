package audio

import (
	"errors"
	"fmt"
)

// Our own FLAC decoder (RFC 9639). It decodes straight from the input
// slice into per-stream buffers, so a frame costs no allocation; see
// decodeFLAC for how frames reach the sink.
//
// Error policy: a frame whose header CRC-8 or whole-frame CRC-16 does not
// match, or whose fields are impossible, makes the file KindCorrupt (as
// libFLAC's reference decoder reports it; skipping frames would splice
// audio silently). Input that ends inside a frame is truncation: the frames
// before it are kept (Clip.Truncated), as is input that ends on a frame
// boundary short of the length STREAMINFO states. A 128-byte ID3v1 tag
// after the last frame is ignored; any other trailing bytes are
// KindCorrupt ("lost frame sync"). MD5 signatures are not checked: the
// CRC-16 of every frame already covers the coded data.
//
// Buffers: one int32 buffer per channel, sized by the larger of the
// STREAMINFO maximum block size and the first frame's (both at most 65536),
// allocated once per stream; an int64 buffer only for the 33-bit side
// channel of a 32-bit stream.

// flacMaxChannels is the most channels a FLAC frame can carry.
const flacMaxChannels = 8

var (
	errFLACTruncated = errors.New("audio: flac: input ends inside a frame")
	errFLACEnd       = errors.New("audio: flac: end of stream")
)

// flacCorrupt is a damaged-stream error with a safe detail.
func flacCorrupt(detail string) error { return errCorrupt("flac", detail, nil) }

// flacStreamInfo is the STREAMINFO block (RFC 9639 section 8.2).
type flacStreamInfo struct {
	minBlock, maxBlock int
	rate               int
	channels           int
	bps                uint
	totalSamples       uint64 // 0: unknown
}

// flacFrameHeader is what decoding a frame needs from its header.
type flacFrameHeader struct {
	blockSize int
	channels  int
	// assign is the channel assignment code: 0–7 independent channels,
	// 8 left/side, 9 side/right, 10 mid/side.
	assign uint8
	bps    uint
}

// flacDecoder decodes the frames of one stream.
type flacDecoder struct {
	data []byte // the stream, starting at "fLaC"
	off  int    // byte offset of the next frame
	info flacStreamInfo
	br   flacBits
	// ch[c][:blockSize] holds channel c of the last decoded frame.
	ch     [flacMaxChannels][]int32
	store  []int32
	wide   []int64 // the 33-bit side channel of a 32-bit stream, on demand
	coeffs [32]int32
}

// parseHeader reads the "fLaC" marker and the metadata blocks. Blocks
// other than STREAMINFO are skipped by their stated length, which is
// checked against the input first and never used to size anything.
func (d *flacDecoder) parseHeader(b []byte) error {
	d.data = b
	if len(b) < 4 || string(b[:4]) != "fLaC" {
		return flacCorrupt("no FLAC marker")
	}
	off := 4
	for first := true; ; first = false {
		if len(b)-off < 4 {
			return errTruncated("flac", nil)
		}
		h := b[off]
		last, typ := h&0x80 != 0, h&0x7F
		length := int(b[off+1])<<16 | int(b[off+2])<<8 | int(b[off+3])
		off += 4
		switch {
		case first && typ != 0:
			return flacCorrupt("first metadata block is not STREAMINFO")
		case !first && typ == 0:
			return flacCorrupt("second STREAMINFO block")
		case typ == 127:
			return flacCorrupt("invalid metadata block type")
		case typ == 0 && length != 34:
			return flacCorrupt("bad STREAMINFO length")
		}
		if length > len(b)-off {
			return errTruncated("flac", nil)
		}
		if typ == 0 {
			if err := d.parseStreamInfo(b[off : off+34]); err != nil {
				return err
			}
		}
		off += length
		if last {
			break
		}
	}
	d.off = off
	return nil
}

func (d *flacDecoder) parseStreamInfo(p []byte) error {
	si := &d.info
	si.minBlock = int(p[0])<<8 | int(p[1])
	si.maxBlock = int(p[2])<<8 | int(p[3])
	// p[4:10]: minimum and maximum frame size, unused.
	si.rate = int(p[10])<<12 | int(p[11])<<4 | int(p[12])>>4
	si.channels = int(p[12]>>1&7) + 1
	si.bps = uint(p[12]&1)<<4 | uint(p[13]>>4) + 1
	si.totalSamples = uint64(p[13]&0x0F)<<32 | uint64(p[14])<<24 | uint64(p[15])<<16 | uint64(p[16])<<8 | uint64(p[17])
	// p[18:34]: MD5 of the audio, not checked (the frame CRCs are).
	switch {
	case si.minBlock < 16 || si.maxBlock < 16:
		return flacCorrupt("block size under 16 in STREAMINFO")
	case si.rate == 0:
		return flacCorrupt("sample rate 0")
	case si.bps < 4:
		return errUnsupported("flac", fmt.Sprintf("%d-bit samples", si.bps))
	}
	return nil
}

// Frame header tables (RFC 9639 section 9.1).
var (
	flacBlockSizes = [16]int{0, 192, 576, 1152, 2304, 4608, -8, -16, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768}
	flacBitDepths  = [8]uint{0, 8, 12, 0, 16, 20, 24, 32}
)

// parseFrameHeader parses the frame header at d.off and returns it with
// its length in bytes. errFLACEnd means the input ended cleanly before it.
func (d *flacDecoder) parseFrameHeader() (flacFrameHeader, int, error) {
	var h flacFrameHeader
	b := d.data[d.off:]
	if len(b) == 0 {
		return h, 0, errFLACEnd
	}
	if len(b) < 2 {
		return h, 0, errFLACTruncated
	}
	if b[0] != 0xFF || b[1]&0xFE != 0xF8 {
		// An ID3v1 tag after the last frame is a known tagger habit.
		if len(b) == 128 && string(b[:3]) == "TAG" {
			return h, 0, errFLACEnd
		}
		return h, 0, flacCorrupt("lost frame sync")
	}
	// Sync (14 bits), reserved bit (b[1]&2, must be 0 per the spec but
	// ignored like libFLAC), blocking strategy: only the frame/sample
	// number's length depends on it.
	variable := b[1]&1 != 0
	if len(b) < 5 {
		return h, 0, errFLACTruncated
	}
	bsCode, rateCode := b[2]>>4, b[2]&0x0F
	chCode, bpsCode := b[3]>>4, b[3]>>1&7
	if b[3]&1 != 0 {
		return h, 0, flacCorrupt("reserved bit set in frame header")
	}
	// Coded frame or sample number: UTF-8-like, 1–7 bytes.
	n := 1
	switch c := b[4]; {
	case c < 0x80:
	case c >= 0xC0 && c < 0xE0:
		n = 2
	case c >= 0xE0 && c < 0xF0:
		n = 3
	case c >= 0xF0 && c < 0xF8:
		n = 4
	case c >= 0xF8 && c < 0xFC:
		n = 5
	case c >= 0xFC && c < 0xFE:
		n = 6
	case c == 0xFE && variable:
		n = 7
	default:
		return h, 0, flacCorrupt("bad frame number")
	}
	p := 4 + n
	if len(b) < p {
		return h, 0, errFLACTruncated
	}
	for _, c := range b[5:p] {
		if c&0xC0 != 0x80 {
			return h, 0, flacCorrupt("bad frame number")
		}
	}
	switch bs := flacBlockSizes[bsCode]; {
	case bs == 0:
		return h, 0, flacCorrupt("reserved block size")
	case bs == -8:
		if len(b) < p+1 {
			return h, 0, errFLACTruncated
		}
		h.blockSize = int(b[p]) + 1
		p++
	case bs == -16:
		if len(b) < p+2 {
			return h, 0, errFLACTruncated
		}
		h.blockSize = int(b[p])<<8 | int(b[p+1]) + 1
		p += 2
	default:
		h.blockSize = bs
	}
	switch rateCode {
	case 12:
		p++
	case 13, 14:
		p += 2
	case 15:
		return h, 0, flacCorrupt("bad sample rate in frame header")
	}
	// The frame's own rate is informational: STREAMINFO's is used.
	switch {
	case chCode < 8:
		h.channels = int(chCode) + 1
	case chCode <= 10:
		h.channels = 2
	default:
		return h, 0, flacCorrupt("reserved channel assignment")
	}
	h.assign = chCode
	if h.channels != d.info.channels {
		return h, 0, flacCorrupt("frame channel count differs from STREAMINFO")
	}
	switch {
	case bpsCode == 0:
		h.bps = d.info.bps
	case bpsCode == 3:
		return h, 0, flacCorrupt("reserved bit depth")
	default:
		h.bps = flacBitDepths[bpsCode]
	}
	if len(b) < p+1 {
		return h, 0, errFLACTruncated
	}
	if flacCRC8(b[:p]) != b[p] {
		return h, 0, flacCorrupt("frame header checksum mismatch")
	}
	return h, p + 1, nil
}

// next decodes the frame at d.off into d.ch and advances past it.
func (d *flacDecoder) next() (flacFrameHeader, error) {
	h, hlen, err := d.parseFrameHeader()
	if err != nil {
		return h, err
	}
	n := h.blockSize
	if len(d.ch[0]) < n {
		// One allocation per stream: every channel at the larger of the
		// STREAMINFO maximum and this frame's size, both at most 65536.
		size := max(n, d.info.maxBlock)
		d.store = make([]int32, size*h.channels)
		for c := range h.channels {
			d.ch[c] = d.store[c*size : (c+1)*size : (c+1)*size]
		}
	}
	d.br.reset(d.data, d.off+hlen)
	for c := range h.channels {
		bps := h.bps
		side := h.assign == 8 && c == 1 || h.assign == 9 && c == 0 || h.assign == 10 && c == 1
		if side {
			bps++
		}
		if bps > 32 {
			if len(d.wide) < n {
				d.wide = make([]int64, max(n, d.info.maxBlock))
			}
			err = decodeSubframe(&d.br, d.wide[:n], bps, &d.coeffs)
		} else {
			err = decodeSubframe(&d.br, d.ch[c][:n], bps, &d.coeffs)
		}
		if d.br.overrun() {
			return h, errFLACTruncated
		}
		if err != nil {
			return h, err
		}
	}
	end := (d.br.bitPos() + 7) / 8
	if len(d.data)-end < 2 {
		return h, errFLACTruncated
	}
	if flacCRC16(d.data[d.off:end]) != uint16(d.data[end])<<8|uint16(d.data[end+1]) {
		return h, flacCorrupt("frame checksum mismatch")
	}
	d.off = end + 2
	d.decorrelate(h)
	return h, nil
}

// decorrelate turns side-coded channel pairs back into left and right
// (RFC 9639 section 4.2).
func (d *flacDecoder) decorrelate(h flacFrameHeader) {
	if h.assign < 8 {
		return
	}
	n := h.blockSize
	a, b := d.ch[0][:n], d.ch[1][:n]
	wide := h.bps == 32
	switch h.assign {
	case 8: // left, side → right = left - side
		if wide {
			for i, s := range d.wide[:n] {
				b[i] = int32(int64(a[i]) - s)
			}
			return
		}
		for i := range b {
			b[i] = a[i] - b[i]
		}
	case 9: // side, right → left = side + right
		if wide {
			for i, s := range d.wide[:n] {
				a[i] = int32(s + int64(b[i]))
			}
			return
		}
		for i := range a {
			a[i] += b[i]
		}
	case 10: // mid, side
		if wide {
			for i, s := range d.wide[:n] {
				m := int64(a[i])<<1 | s&1
				a[i], b[i] = int32((m+s)>>1), int32((m-s)>>1)
			}
			return
		}
		for i := range a {
			s := int64(b[i])
			m := int64(a[i])<<1 | s&1
			a[i], b[i] = int32((m+s)>>1), int32((m-s)>>1)
		}
	}
}

// decodeSubframe decodes one channel of a frame into x (len = block size)
// at bps bits per sample (RFC 9639 section 9.2).
func decodeSubframe[T flacSample](r *flacBits, x []T, bps uint, coeffs *[32]int32) error {
	h := r.uint(8)
	if h&0x80 != 0 {
		return flacCorrupt("subframe padding bit set")
	}
	typ := int(h >> 1 & 0x3F)
	var wasted uint
	if h&1 != 0 {
		q, ok := r.unary()
		if !ok {
			return errFLACTruncated
		}
		if q+1 >= uint64(bps) {
			return flacCorrupt("wasted bits not below the bit depth")
		}
		wasted = uint(q) + 1
		bps -= wasted
	}
	switch {
	case typ == 0: // CONSTANT
		v := T(r.int(bps))
		for i := range x {
			x[i] = v
		}
	case typ == 1: // VERBATIM
		for i := range x {
			x[i] = T(r.int(bps))
		}
	case typ >= 8 && typ <= 12: // FIXED
		order := typ - 8
		if order > len(x) {
			return flacCorrupt("predictor order above the block size")
		}
		for i := range order {
			x[i] = T(r.int(bps))
		}
		if err := decodeResidual(r, x, order); err != nil {
			return err
		}
		fixedPredict(x, order)
	case typ >= 32: // LPC
		order := typ - 31
		if order > len(x) {
			return flacCorrupt("predictor order above the block size")
		}
		for i := range order {
			x[i] = T(r.int(bps))
		}
		prec := uint(r.uint(4))
		if prec == 15 {
			return flacCorrupt("bad LPC precision")
		}
		prec++
		shift := r.int(5)
		if shift < 0 {
			return flacCorrupt("negative LPC shift")
		}
		// Stored lag 1 first; kept reversed so that c[m] multiplies
		// x[i-order+m] and the prediction loop walks forward.
		c := coeffs[:order]
		for j := range c {
			c[order-1-j] = int32(r.int(prec))
		}
		if err := decodeResidual(r, x, order); err != nil {
			return err
		}
		lpcPredict(x, c, uint(shift))
	default:
		return flacCorrupt("reserved subframe type")
	}
	if wasted > 0 {
		for i := range x {
			x[i] <<= wasted
		}
	}
	return nil
}

// decodeResidual reads the partitioned Rice residual of a predicted
// subframe into x[order:] (RFC 9639 section 9.2.7).
func decodeResidual[T flacSample](r *flacBits, x []T, order int) error {
	method := r.uint(2)
	if method > 1 {
		return flacCorrupt("reserved residual coding method")
	}
	paramBits := uint(4 + method)
	escape := uint64(1)<<paramBits - 1
	porder := uint(r.uint(4))
	n := len(x)
	psize := n >> porder
	if psize<<porder != n || psize < order {
		return flacCorrupt("bad Rice partition order")
	}
	start := order
	for end := psize; end <= n; end += psize {
		part := x[start:end]
		start = end
		k := r.uint(paramBits)
		if k != escape {
			if !readRice(r, part, uint(k)) {
				return errFLACTruncated
			}
			continue
		}
		eb := uint(r.uint(5))
		if eb == 0 {
			clear(part)
			continue
		}
		for i := range part {
			part[i] = T(r.int(eb))
		}
		if r.overrun() {
			return errFLACTruncated
		}
	}
	return nil
}

// fixedPredict adds the fixed polynomial predictions to the residuals in
// x[order:]. Wrapping arithmetic is exact here: the predictor has integer
// coefficients and no shift, so the result is right whenever it fits.
func fixedPredict[T flacSample](x []T, order int) {
	switch order {
	case 1:
		a := x[0]
		for i := 1; i < len(x); i++ {
			a += x[i]
			x[i] = a
		}
	case 2:
		a, b := x[1], x[0]
		for i := 2; i < len(x); i++ {
			v := x[i] + 2*a - b
			x[i], a, b = v, v, a
		}
	case 3:
		a, b, c := x[2], x[1], x[0]
		for i := 3; i < len(x); i++ {
			v := x[i] + 3*(a-b) + c
			x[i], a, b, c = v, v, a, b
		}
	case 4:
		a, b, c, e := x[3], x[2], x[1], x[0]
		for i := 4; i < len(x); i++ {
			v := x[i] + 4*(a+c) - 6*b - e
			x[i], a, b, c, e = v, v, a, b, c
		}
	}
}

// lpcPredict adds the LPC predictions to the residuals in x[len(c):]; c
// holds the coefficients highest lag first. The sum is taken in int64 (a
// 15-bit coefficient times a 33-bit sample, 32 times, fits) because the
// shift would not commute with wrapping.
//
// Orders up to 12 (libFLAC's highest standard setting) run through
// kernels with the coefficients in registers, zero-padded to 4, 8 or 12:
// a multiply by zero costs less than a loop.
func lpcPredict[T flacSample](x []T, c []int32, shift uint) {
	order := len(c)
	var width int
	switch {
	case order <= 4:
		width = 4
	case order <= 8:
		width = 8
	case order <= 12:
		width = 12
	default:
		lpcGeneric(x, c, shift, order, len(x))
		return
	}
	// The first samples lack a full padded window.
	first := min(width, len(x))
	lpcGeneric(x, c, shift, order, first)
	if first == len(x) {
		return
	}
	var p [12]int32
	copy(p[width-order:width], c)
	switch width {
	case 4:
		lpc4(x, (*[4]int32)(p[:4]), shift)
	case 8:
		lpc8(x, (*[8]int32)(p[:8]), shift)
	default:
		lpc12(x, &p, shift)
	}
}

// lpcGeneric predicts x[order:end].
func lpcGeneric[T flacSample](x []T, c []int32, shift uint, order, end int) {
	shift &= 63
	for i := order; i < end; i++ {
		w := x[i-order : i]
		w = w[:len(c)]
		var s int64
		for j, cj := range c {
			s += int64(cj) * int64(w[j])
		}
		x[i] += T(s >> shift)
	}
}

// In each kernel the newest sample stays in a register (last) and its
// term is added last, so the loop-carried chain is one multiply and two
// adds rather than a store, a reload and the whole sum. The window is a
// slice that advances one sample per step, so each load is one
// instruction with a constant offset.
func lpc4[T flacSample](x []T, c *[4]int32, shift uint) {
	shift &= 63
	c0, c1, c2, c3 := int64(c[0]), int64(c[1]), int64(c[2]), int64(c[3])
	last := int64(x[3])
	for len(x) > 4 {
		w := x[:5:5]
		s := c0*int64(w[0]) + c1*int64(w[1]) + c2*int64(w[2])
		v := w[4] + T((s+c3*last)>>shift)
		w[4] = v
		last = int64(v)
		x = x[1:]
	}
}

func lpc8[T flacSample](x []T, c *[8]int32, shift uint) {
	shift &= 63
	c0, c1, c2, c3 := int64(c[0]), int64(c[1]), int64(c[2]), int64(c[3])
	c4, c5, c6, c7 := int64(c[4]), int64(c[5]), int64(c[6]), int64(c[7])
	last := int64(x[7])
	for len(x) > 8 {
		w := x[:9:9]
		s := c0*int64(w[0]) + c1*int64(w[1]) + c2*int64(w[2]) + c3*int64(w[3]) +
			c4*int64(w[4]) + c5*int64(w[5]) + c6*int64(w[6])
		v := w[8] + T((s+c7*last)>>shift)
		w[8] = v
		last = int64(v)
		x = x[1:]
	}
}

func lpc12[T flacSample](x []T, c *[12]int32, shift uint) {
	shift &= 63
	c0, c1, c2, c3 := int64(c[0]), int64(c[1]), int64(c[2]), int64(c[3])
	c4, c5, c6, c7 := int64(c[4]), int64(c[5]), int64(c[6]), int64(c[7])
	c8, c9, c10, c11 := int64(c[8]), int64(c[9]), int64(c[10]), int64(c[11])
	last := int64(x[11])
	for len(x) > 12 {
		w := x[:13:13]
		s := c0*int64(w[0]) + c1*int64(w[1]) + c2*int64(w[2]) + c3*int64(w[3]) +
			c4*int64(w[4]) + c5*int64(w[5]) + c6*int64(w[6]) + c7*int64(w[7]) +
			c8*int64(w[8]) + c9*int64(w[9]) + c10*int64(w[10])
		v := w[12] + T((s+c11*last)>>shift)
		w[12] = v
		last = int64(v)
		x = x[1:]
	}
}

package audio

import (
	"testing"
)

// Hand-built frames for what no encoder writes: invalid fields the decoder
// must reject, and edge values it must get right.

type bitWriter struct {
	b   []byte
	acc byte
	n   uint
}

func (w *bitWriter) put(v uint64, k uint) {
	for i := k; i > 0; i-- {
		w.acc = w.acc<<1 | byte(v>>(i-1)&1)
		if w.n++; w.n == 8 {
			w.b = append(w.b, w.acc)
			w.acc, w.n = 0, 0
		}
	}
}

// craftFLAC builds a stream of one frame of blockSize samples (16 kHz, bps
// bits, channel assignment chCode) whose subframes body writes.
func craftFLAC(bps, channels int, chCode byte, blockSize int, body func(w *bitWriter)) []byte {
	si := make([]byte, 34)
	si[0], si[1], si[2], si[3] = byte(blockSize>>8), byte(blockSize), byte(blockSize>>8), byte(blockSize)
	rate := 16000
	si[10], si[11] = byte(rate>>12), byte(rate>>4)
	si[12] = byte(rate&0xF)<<4 | byte(channels-1)<<1 | byte(bps-1)>>4
	si[13] = byte(bps-1) << 4
	si[16], si[17] = byte(blockSize>>8), byte(blockSize)
	out := append([]byte("fLaC\x80\x00\x00\x22"), si...)
	bpsCode := map[int]byte{8: 1, 12: 2, 16: 4, 20: 5, 24: 6, 32: 7}[bps]
	hdr := []byte{0xFF, 0xF8, 0x70, chCode<<4 | bpsCode<<1, 0, byte((blockSize - 1) >> 8), byte(blockSize - 1)}
	hdr = append(hdr, flacCRC8(hdr))
	w := &bitWriter{b: hdr}
	body(w)
	for w.n != 0 {
		w.put(0, 1)
	}
	crc := flacCRC16(w.b)
	return append(append(out, w.b...), byte(crc>>8), byte(crc))
}

// subHeaderWasted writes a subframe header: type code and wasted bits.
func (w *bitWriter) subHeaderWasted(typ uint64, wasted uint) {
	if wasted == 0 {
		w.put(typ<<1, 8)
		return
	}
	w.put(typ<<1|1, 8)
	w.put(0, wasted-1)
	w.put(1, 1)
}

func TestFLACCraftedRejects(t *testing.T) {
	const n = 16
	lpcHead := func(w *bitWriter, order int, precCode uint64, shift int64) {
		w.subHeaderWasted(uint64(31+order), 0)
		for range order {
			w.put(0, 16) // warm-up
		}
		w.put(precCode, 4)
		w.put(uint64(shift)&0x1F, 5)
		for range order {
			w.put(1, uint(precCode)+1)
		}
	}
	rice := func(w *bitWriter, porder uint64, count int) {
		w.put(0, 2) // Rice, 4-bit parameters
		w.put(porder, 4)
		w.put(0, 4) // k = 0
		for range count {
			w.put(1, 1) // residual 0
		}
	}
	for _, c := range []struct {
		detail string
		body   func(w *bitWriter)
	}{
		{"negative LPC shift", func(w *bitWriter) { lpcHead(w, 2, 3, -1); rice(w, 0, n-2) }},
		{"bad LPC precision", func(w *bitWriter) { lpcHead(w, 1, 15, 0) }},
		{"reserved residual coding method", func(w *bitWriter) { lpcHead(w, 1, 3, 0); w.put(2, 2) }},
		{"bad Rice partition order", func(w *bitWriter) { lpcHead(w, 1, 3, 0); rice(w, 5, n) }},
		{"reserved subframe type", func(w *bitWriter) { w.subHeaderWasted(2, 0) }},
		{"reserved subframe type", func(w *bitWriter) { w.subHeaderWasted(13, 0) }},
		{"wasted bits not below the bit depth", func(w *bitWriter) { w.subHeaderWasted(0, 16); w.put(0, 8) }},
		{"subframe padding bit set", func(w *bitWriter) { w.put(0x80, 8) }},
		{"predictor order above the block size", func(w *bitWriter) { w.subHeaderWasted(31+32, 0) }},
	} {
		b := craftFLAC(16, 1, 0, n, c.body)
		var s sink
		if ae := wantKind(t, decodeFLAC(b, Options{}, &s), KindCorrupt); ae.Detail != c.detail {
			t.Fatalf("detail %q, want %q", ae.Detail, c.detail)
		}
	}
}

func TestFLACCraftedEdges(t *testing.T) {
	// 32-bit mid/side with a side sample that needs 33 bits: left at the
	// top of the range, right at the bottom.
	l, r := int64(1<<31-1), int64(-1<<31)
	b := craftFLAC(32, 2, 10, 16, func(w *bitWriter) {
		mid, side := (l+r)>>1, l-r
		w.subHeaderWasted(1, 0) // VERBATIM mid, 32 bits
		for range 16 {
			w.put(uint64(mid), 32)
		}
		w.subHeaderWasted(1, 0) // VERBATIM side, 33 bits
		for range 16 {
			w.put(uint64(side), 33)
		}
	})
	got, _, err := flacInts(b)
	if err != nil || got[0][15] != int32(l) || got[1][15] != int32(r) {
		t.Fatalf("33-bit side: %v %v", got, err)
	}
	// An escaped partition of 0 bits is all zeros; wasted bits on a
	// CONSTANT; FIXED order 4 on a 16-sample block of 4 warm-ups.
	b = craftFLAC(16, 1, 0, 16, func(w *bitWriter) {
		w.subHeaderWasted(8+4, 3) // FIXED 4, 3 wasted bits
		for _, v := range []int64{1, 2, 3, 4} {
			w.put(uint64(v), 13)
		}
		w.put(0, 2)  // Rice
		w.put(0, 4)  // one partition
		w.put(15, 4) // escape
		w.put(0, 5)  // 0 bits
	})
	got, _, err = flacInts(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got[0] { // a cubic predictor on 1,2,3,4 continues the line
		if v != int32(8*(i+1)) {
			t.Fatalf("sample %d = %d, want %d", i, v, 8*(i+1))
		}
	}
}

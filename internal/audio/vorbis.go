package audio

import (
	"encoding/binary"

	"github.com/jfreymuth/vorbis"
)

type vorbisStream struct {
	dec vorbis.Decoder
	ch  int
	buf []float32
}

// newVorbisStream validates the identification header before handing it
// to the decoder, which sizes buffers from the block sizes and channel count.
func newVorbisStream(ident []byte, opt Options, s *sink) (*vorbisStream, error) {
	const format = "ogg/vorbis"
	if len(ident) < 30 {
		return nil, errCorrupt(format, "bad Vorbis header", nil)
	}
	h := ident[7:]
	if binary.LittleEndian.Uint32(h) != 0 {
		return nil, errUnsupported(format, "Vorbis version")
	}
	ch := int(h[4])
	rate := int(binary.LittleEndian.Uint32(h[5:]))
	b0, b1 := h[21]&0x0F, h[21]>>4
	if b0 < 6 || b1 > 13 || b0 > b1 {
		return nil, errCorrupt(format, "bad Vorbis block sizes", nil)
	}
	if err := s.init(format, rate, ch, opt); err != nil {
		return nil, err
	}
	v := &vorbisStream{ch: ch}
	if err := v.dec.ReadHeader(ident); err != nil {
		return nil, errCorrupt(format, "bad Vorbis header", err)
	}
	return v, nil
}

// header reads the comment (skipped: the library would allocate a slice
// sized by an untrusted count) and setup headers.
func (v *vorbisStream) header(p []byte) error {
	const format = "ogg/vorbis"
	if !vorbis.IsHeader(p) {
		return errCorrupt(format, "missing Vorbis header", nil)
	}
	if p[0] == 3 {
		return nil
	}
	if err := v.dec.ReadHeader(p); err != nil {
		return errCorrupt(format, "bad Vorbis setup header", err)
	}
	v.buf = make([]float32, v.dec.BufferSize())
	return nil
}

func (v *vorbisStream) decode(p []byte, s *sink) (int, error) {
	const format = "ogg/vorbis"
	if !v.dec.HeadersRead() {
		return 0, errCorrupt(format, "missing Vorbis setup header", nil)
	}
	if len(p) == 0 {
		return 0, nil
	}
	out, err := v.dec.DecodeInto(p, v.buf)
	if err != nil {
		return 0, errCorrupt(format, "", err)
	}
	n := len(out) / v.ch
	if err := s.mixInterleaved(out[:n*v.ch], v.ch); err != nil {
		return 0, err
	}
	return n, nil
}

package audio

import (
	"errors"
	"io"
)

// decodeFLAC decodes a FLAC stream (optionally behind an ID3v2 tag) with
// our own decoder (flacdec.go) and mixes it to mono in the sink.
func decodeFLAC(b []byte, opt Options, s *sink) error {
	const format = "flac"
	if end := id3v2End(b); end > 0 {
		if end > len(b) {
			return errTruncated(format, nil)
		}
		b = b[end:]
	}
	var d flacDecoder
	if err := d.parseHeader(b); err != nil {
		return err
	}
	info := d.info
	if err := s.init(format, info.rate, info.channels, opt); err != nil {
		return err
	}
	if info.totalSamples > uint64(s.maxFrames) {
		return errTooLong(format, opt)
	}
	// Reserve the stated length up front (one allocation instead of a
	// doubling series), but never more than the input could plausibly
	// hold: a tiny file may claim minutes.
	if info.totalSamples > 0 {
		s.samples = make([]float32, 0, min(int(info.totalSamples), 64*len(b)+4096))
	}
	for {
		h, err := d.next()
		switch {
		case errors.Is(err, errFLACEnd):
			// Cut at a frame boundary: STREAMINFO's length says so.
			s.truncated = uint64(len(s.samples)) < info.totalSamples
			return nil
		case errors.Is(err, errFLACTruncated):
			s.truncated = true
			return nil
		case err != nil:
			return err
		}
		dst, err := s.grow(h.blockSize)
		if err != nil {
			return err
		}
		d.mixTo(dst, h)
	}
}

// mixTo writes the last frame averaged to mono into dst, with the same
// arithmetic (and so the same float32 results) as the decoder before ours.
func (d *flacDecoder) mixTo(dst []float32, h flacFrameHeader) {
	ch := h.channels
	scale := 1 / (float32(int64(1)<<(h.bps-1)) * float32(ch))
	if ch == 1 {
		src := d.ch[0][:len(dst)]
		for i, v := range src {
			dst[i] = float32(v) * scale
		}
		return
	}
	clear(dst)
	for c := range ch {
		src := d.ch[c][:len(dst)]
		for i, v := range src {
			dst[i] += float32(v) * scale
		}
	}
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

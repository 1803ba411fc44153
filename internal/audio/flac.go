package audio

import (
	"bytes"
	"errors"
	"io"

	"github.com/mewkiz/flac"
)

func decodeFLAC(b []byte, opt Options, s *sink) error {
	const format = "flac"
	if end := id3v2End(b); end > 0 {
		if end > len(b) {
			return errTruncated(format, nil)
		}
		b = b[end:]
	}
	stream, err := flac.New(bytes.NewReader(b))
	if err != nil {
		if isEOF(err) {
			return errTruncated(format, err)
		}
		return errCorrupt(format, "", err)
	}
	info := stream.Info
	if info == nil {
		return errCorrupt(format, "", errors.New("audio: flac: no stream info"))
	}
	if err := s.init(format, int(info.SampleRate), int(info.NChannels), opt); err != nil {
		return err
	}
	if info.NSamples > 0 {
		if info.NSamples > uint64(s.maxFrames) {
			return errTooLong(format, opt)
		}
	}
	for {
		f, err := stream.ParseNext()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if isEOF(err) {
				s.truncated = true
				return nil
			}
			return errCorrupt(format, "", err)
		}
		ch := len(f.Subframes)
		if ch == 0 || ch > MaxSourceChannels {
			return errCorrupt(format, "bad channel count in frame", nil)
		}
		n := len(f.Subframes[0].Samples)
		for _, sf := range f.Subframes[1:] {
			if len(sf.Samples) != n {
				return errCorrupt(format, "channels of unequal length", nil)
			}
		}
		bps := int(f.BitsPerSample)
		if bps < 4 || bps > 32 {
			return errCorrupt(format, "bad bit depth in frame", nil)
		}
		dst, err := s.grow(n)
		if err != nil {
			return err
		}
		scale := 1 / (float32(int64(1)<<(bps-1)) * float32(ch))
		if ch == 1 {
			for i, v := range f.Subframes[0].Samples {
				dst[i] = float32(v) * scale
			}
			continue
		}
		clear(dst)
		for _, sf := range f.Subframes {
			for i, v := range sf.Samples {
				dst[i] += float32(v) * scale
			}
		}
	}
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

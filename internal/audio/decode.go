package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// Decode reads at most Options.MaxBytes from r and decodes it.
func Decode(r io.Reader, opt Options) (*Clip, error) {
	limit := opt.maxBytes()
	// Read one byte past the limit to tell "exactly at the limit" from
	// "over it". The buffer grows with the bytes actually received.
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("audio: read input: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge(opt)
	}
	return DecodeBytes(b, opt)
}

// DecodeFile decodes the file at path.
func DecodeFile(path string, opt Options) (*Clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > opt.maxBytes() {
		return nil, errTooLarge(opt)
	}
	return Decode(f, opt)
}

// DecodeBytes decodes b, sniffing its format from magic bytes. b is not
// retained or modified.
func DecodeBytes(b []byte, opt Options) (clip *Clip, err error) {
	if int64(len(b)) > opt.maxBytes() {
		return nil, errTooLarge(opt)
	}
	if len(b) == 0 {
		return nil, errEmpty("")
	}
	format := sniff(b)
	// Third-party decoders may panic on hostile input; a panic must never
	// take the process down, and it says the file is damaged.
	defer func() {
		if p := recover(); p != nil {
			clip = nil
			err = errCorrupt(format, "", fmt.Errorf("audio: %s decoder panic: %v", format, p))
		}
	}()
	var s sink
	switch format {
	case "wav":
		err = decodeWAV(b, opt, &s)
	case "flac":
		err = decodeFLAC(b, opt, &s)
	case "ogg":
		format, err = decodeOgg(b, opt, &s)
	case "webm":
		format, err = decodeWebM(b, opt, &s)
	case "mp3":
		err = decodeMP3(b, opt, &s)
	case "mp4":
		return nil, errUnsupported("mp4", "MP4/M4A (AAC) audio; record as WebM/Opus or WAV")
	case "aac":
		return nil, errUnsupported("aac", "raw AAC audio")
	default:
		if allZero(b) {
			return nil, errEmpty("")
		}
		return nil, newErr(KindNotAudio, "", "", nil)
	}
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Format == "" && ae.Kind != KindTooLarge {
			ae.Format = format
		}
		return nil, err
	}
	if len(s.samples) == 0 {
		if s.truncated {
			return nil, errTruncated(format, nil)
		}
		return nil, errEmpty(format)
	}
	out := s.samples
	if s.rate != SampleRate {
		out = Resample(nil, s.samples, s.rate)
	}
	return &Clip{
		Samples:        out,
		Format:         format,
		SourceRate:     s.rate,
		SourceChannels: s.channels,
		Truncated:      s.truncated,
	}, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// sniff names the container from its first bytes.
func sniff(b []byte) string {
	switch {
	case len(b) >= 12 && (string(b[:4]) == "RIFF" || string(b[:4]) == "RF64") && string(b[8:12]) == "WAVE":
		return "wav"
	case len(b) >= 4 && string(b[:4]) == "fLaC":
		return "flac"
	case len(b) >= 4 && string(b[:4]) == "OggS":
		return "ogg"
	case len(b) >= 4 && b[0] == 0x1A && b[1] == 0x45 && b[2] == 0xDF && b[3] == 0xA3:
		return "webm"
	case len(b) >= 10 && string(b[:3]) == "ID3":
		// FLAC files sometimes carry an ID3v2 tag too; look behind it.
		if end := id3v2End(b); end > 0 && end+4 <= len(b) && string(b[end:end+4]) == "fLaC" {
			return "flac"
		}
		return "mp3"
	case len(b) >= 8 && string(b[4:8]) == "ftyp":
		return "mp4"
	case len(b) >= 4 && b[0] == 0xFF && b[1]&0xF6 == 0xF0:
		return "aac" // ADTS: sync plus layer bits 00
	case len(b) >= 4 && isMP3Header(b):
		return "mp3"
	}
	return ""
}

// id3v2End returns the offset just past a leading ID3v2 tag, or 0.
func id3v2End(b []byte) int {
	if len(b) < 10 || string(b[:3]) != "ID3" {
		return 0
	}
	for _, c := range b[6:10] {
		if c&0x80 != 0 {
			return 0
		}
	}
	size := int(b[6])<<21 | int(b[7])<<14 | int(b[8])<<7 | int(b[9])
	end := 10 + size
	if b[5]&0x10 != 0 { // footer present
		end += 10
	}
	return end
}

// sink collects mono samples at the source rate, enforcing MaxDuration as
// samples arrive so a stream that lies about (or omits) its length is still
// cut off.
type sink struct {
	samples   []float32
	rate      int
	channels  int
	maxFrames int
	truncated bool
	format    string
	opt       Options
}

func (s *sink) init(format string, rate, channels int, opt Options) error {
	if err := checkRate(format, rate); err != nil {
		return err
	}
	if err := checkChannels(format, channels); err != nil {
		return err
	}
	s.format, s.rate, s.channels, s.opt = format, rate, channels, opt
	s.maxFrames = opt.maxFrames(rate)
	return nil
}

// claim rejects early a stream whose header states a length over the
// limit. frames <= 0 means unknown.
func (s *sink) claim(frames int64) error {
	if frames > int64(s.maxFrames) {
		return errTooLong(s.format, s.opt)
	}
	return nil
}

// grow reserves n more mono samples and returns them for the caller to fill.
func (s *sink) grow(n int) ([]float32, error) {
	if n > s.maxFrames-len(s.samples) {
		return nil, errTooLong(s.format, s.opt)
	}
	l := len(s.samples)
	s.samples = slices.Grow(s.samples, n)[:l+n]
	return s.samples[l : l+n], nil
}

// mixInterleaved appends interleaved float frames averaged to mono.
func (s *sink) mixInterleaved(x []float32, ch int) error {
	n := len(x) / ch
	dst, err := s.grow(n)
	if err != nil {
		return err
	}
	switch ch {
	case 1:
		copy(dst, x[:n])
	case 2:
		for i := range dst {
			dst[i] = (x[2*i] + x[2*i+1]) * 0.5
		}
	default:
		inv := 1 / float32(ch)
		for i := range dst {
			f := x[i*ch : i*ch+ch]
			var sum float32
			for _, v := range f {
				sum += v
			}
			dst[i] = sum * inv
		}
	}
	return nil
}

// trimEnd drops the last n samples (container-signalled end padding).
func (s *sink) trimEnd(n int) {
	if n <= 0 {
		return
	}
	if n > len(s.samples) {
		n = len(s.samples)
	}
	s.samples = s.samples[:len(s.samples)-n]
}

// readerNoSeek hides Seek so libraries that would pre-scan a seekable
// source stream instead.
type readerNoSeek struct{ r *bytes.Reader }

func (r readerNoSeek) Read(p []byte) (int, error) { return r.r.Read(p) }

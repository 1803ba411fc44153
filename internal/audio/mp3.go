package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/hajimehoshi/go-mp3"
)

// isMP3Header reports whether b starts with a plausible MPEG audio Layer
// III frame header, and, when the input is long enough, a second header
// right after the first frame (random bytes rarely pass both).
func isMP3Header(b []byte) bool {
	n := mp3FrameLen(b)
	if n <= 0 {
		return false
	}
	if len(b) >= n+4 {
		return mp3FrameLen(b[n:]) > 0
	}
	return true
}

var (
	mp3Bitrates = [2][16]int{
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}, // MPEG-1
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},     // MPEG-2/2.5
	}
	mp3Rates = [4][3]int{ // by version bits: 2.5, reserved, 2, 1
		{11025, 12000, 8000}, {}, {22050, 24000, 16000}, {44100, 48000, 32000},
	}
)

// mp3FrameLen returns the byte length of the Layer III frame whose header
// starts b, or 0 if b does not start with one.
func mp3FrameLen(b []byte) int {
	if len(b) < 4 {
		return 0
	}
	h := binary.BigEndian.Uint32(b)
	if h>>21 != 0x7FF {
		return 0
	}
	version := (h >> 19) & 3
	layer := (h >> 17) & 3
	bri := (h >> 12) & 15
	sri := (h >> 10) & 3
	pad := int((h >> 9) & 1)
	if version == 1 || layer != 1 || bri == 0 || bri == 15 || sri == 3 {
		return 0
	}
	rate := mp3Rates[version][sri]
	if version == 3 {
		return 144*mp3Bitrates[0][bri]*1000/rate + pad
	}
	return 72*mp3Bitrates[1][bri]*1000/rate + pad
}

func decodeMP3(b []byte, opt Options, s *sink) error {
	const format = "mp3"
	// Strip ID3v2 tags here: go-mp3 allocates whatever size a tag claims.
	for len(b) >= 10 && string(b[:3]) == "ID3" {
		end := id3v2End(b)
		if end <= 0 {
			return errCorrupt(format, "bad ID3 tag", nil)
		}
		if end > len(b) {
			return errTruncated(format, nil)
		}
		b = b[end:]
	}
	if len(b) >= 128 && string(b[len(b)-128:len(b)-125]) == "TAG" {
		b = b[:len(b)-128] // ID3v1 trailer
	}
	// Resynchronise on the first frame, skipping junk such as padding.
	start := -1
	for i := 0; i+4 <= len(b) && i < 64<<10; i++ {
		if b[i] == 0xFF && isMP3Header(b[i:]) {
			start = i
			break
		}
	}
	if start < 0 {
		if len(b) < 4 {
			return errTruncated(format, nil)
		}
		return errCorrupt(format, "no MP3 frames", nil)
	}
	b = b[start:]
	if len(b) >= 3 && string(b[:3]) == "TAG" {
		return errEmpty(format)
	}
	skip, pad := lameGapless(b)
	dec, err := mp3.NewDecoder(readerNoSeek{bytes.NewReader(b)})
	if err != nil {
		if isEOF(err) {
			return errTruncated(format, err)
		}
		return errCorrupt(format, "", err)
	}
	// go-mp3 always yields 16-bit little-endian stereo.
	if err := s.init(format, dec.SampleRate(), 2, opt); err != nil {
		return err
	}
	buf := make([]byte, 1152*4*4)
	for {
		n, err := io.ReadFull(dec, buf)
		frames := n / 4
		if skip > 0 {
			k := min(skip, frames)
			skip -= k
			frames -= k
			copy(buf, buf[4*k:n])
		}
		if frames > 0 {
			dst, gerr := s.grow(frames)
			if gerr != nil {
				return gerr
			}
			for i := range dst {
				l := int32(int16(binary.LittleEndian.Uint16(buf[4*i:])))
				r := int32(int16(binary.LittleEndian.Uint16(buf[4*i+2:])))
				dst[i] = float32(l+r) * (1.0 / 65536)
			}
		}
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			s.trimEnd(pad)
			return nil
		}
		if len(s.samples) > 0 {
			s.truncated = true
			return nil
		}
		return errCorrupt(format, "", err)
	}
}

// lameGapless reads the encoder delay and padding LAME writes into the
// Xing/Info frame, so the decoded audio lines up with the original: skip
// covers the Info frame itself (decoded as silence), the encoder delay and
// the decoder's 529-sample delay; pad is what to drop from the end.
func lameGapless(b []byte) (skip, pad int) {
	if len(b) < 4 || mp3FrameLen(b) == 0 {
		return 0, 0
	}
	h := binary.BigEndian.Uint32(b)
	mpeg1 := (h>>19)&3 == 3
	mono := (h>>6)&3 == 3
	side := 32
	switch {
	case mpeg1 && mono:
		side = 17
	case !mpeg1 && mono:
		side = 9
	case !mpeg1:
		side = 17
	}
	frameSamples := 576
	if mpeg1 {
		frameSamples = 1152
	}
	x := 4 + side
	if len(b) < x+8 || (string(b[x:x+4]) != "Xing" && string(b[x:x+4]) != "Info") {
		return 0, 0
	}
	flags := binary.BigEndian.Uint32(b[x+4:])
	o := x + 8
	for _, f := range []struct {
		bit  uint32
		size int
	}{{1, 4}, {2, 4}, {4, 100}, {8, 4}} {
		if flags&f.bit != 0 {
			o += f.size
		}
	}
	if len(b) < o+24 || string(b[o:o+4]) != "LAME" {
		return frameSamples, 0
	}
	delay := int(b[o+21])<<4 | int(b[o+22])>>4
	padding := int(b[o+22]&0x0F)<<8 | int(b[o+23])
	const decoderDelay = 529
	skip = frameSamples + delay + decoderDelay
	pad = max(padding-decoderDelay, 0)
	return skip, pad
}

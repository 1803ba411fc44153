package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// WAV format tags (mmreg.h).
const (
	wavFormatPCM        = 0x0001
	wavFormatFloat      = 0x0003
	wavFormatALaw       = 0x0006
	wavFormatMuLaw      = 0x0007
	wavFormatExtensible = 0xFFFE
)

// ksdataformatSubtypeTail is bytes 2..15 of every KSDATAFORMAT_SUBTYPE_*
// GUID; the first two bytes carry the plain format tag.
var ksdataformatSubtypeTail = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

type wavFormat struct {
	tag      int
	channels int
	rate     int
	bits     int // container bits per sample
}

// decodeWAV parses RIFF/RF64 WAVE. Chunks other than fmt and data are
// skipped; a data size of 0 or 0xFFFFFFFF (streaming writers that never
// patch the header) or one past the end of the input means "to the end".
func decodeWAV(b []byte, opt Options, s *sink) error {
	const format = "wav"
	if len(b) < 12 {
		return errTruncated(format, nil)
	}
	pos := 12
	var fmtc *wavFormat
	for {
		if pos+8 > len(b) {
			if fmtc == nil {
				return errTruncated(format, errors.New("audio: wav: no fmt chunk"))
			}
			return errTruncated(format, errors.New("audio: wav: no data chunk"))
		}
		id := string(b[pos : pos+4])
		size := int64(binary.LittleEndian.Uint32(b[pos+4:]))
		pos += 8
		rest := int64(len(b) - pos)
		switch id {
		case "fmt ":
			if size > rest {
				return errTruncated(format, errors.New("audio: wav: fmt chunk cut off"))
			}
			f, err := parseWAVFormat(b[pos : pos+int(size)])
			if err != nil {
				return err
			}
			fmtc = &f
		case "data":
			if fmtc == nil {
				return errCorrupt(format, "audio data before the format description", nil)
			}
			if size == 0 || size == 0xFFFFFFFF || size > rest {
				if size > rest && size != 0xFFFFFFFF {
					s.truncated = true
				}
				size = rest
			}
			return decodeWAVData(b[pos:pos+int(size)], *fmtc, opt, s)
		}
		// RIFF chunks are padded to even size.
		skip := size + size&1
		if skip > rest {
			return errTruncated(format, fmt.Errorf("audio: wav: chunk %q cut off", id))
		}
		pos += int(skip)
	}
}

func parseWAVFormat(c []byte) (wavFormat, error) {
	const format = "wav"
	if len(c) < 16 {
		return wavFormat{}, errCorrupt(format, "format description too short", nil)
	}
	f := wavFormat{
		tag:      int(binary.LittleEndian.Uint16(c[0:])),
		channels: int(binary.LittleEndian.Uint16(c[2:])),
		rate:     int(binary.LittleEndian.Uint32(c[4:])),
		bits:     int(binary.LittleEndian.Uint16(c[14:])),
	}
	if f.tag == wavFormatExtensible {
		// cbSize(2) validBits(2) channelMask(4) subFormat GUID(16)
		if len(c) < 40 {
			return wavFormat{}, errCorrupt(format, "extensible format description too short", nil)
		}
		guid := c[24:40]
		if [14]byte(guid[2:16]) != ksdataformatSubtypeTail {
			return wavFormat{}, errUnsupported(format, "unknown sub-format")
		}
		f.tag = int(binary.LittleEndian.Uint16(guid[0:]))
	}
	switch f.tag {
	case wavFormatPCM:
		// Odd depths (12, 20 bit) sit in the next whole byte, MSB-aligned.
		f.bits = (f.bits + 7) &^ 7
		if f.bits < 8 || f.bits > 32 {
			return wavFormat{}, errUnsupported(format, fmt.Sprintf("%d-bit samples", f.bits))
		}
	case wavFormatFloat:
		if f.bits != 32 && f.bits != 64 {
			return wavFormat{}, errUnsupported(format, fmt.Sprintf("%d-bit floating-point samples", f.bits))
		}
	case wavFormatALaw, wavFormatMuLaw:
		return wavFormat{}, errUnsupported(format, "A-law/µ-law telephone encoding")
	default:
		return wavFormat{}, errUnsupported(format, fmt.Sprintf("compressed WAV (format 0x%04X)", f.tag))
	}
	if err := checkChannels(format, f.channels); err != nil {
		return wavFormat{}, err
	}
	if err := checkRate(format, f.rate); err != nil {
		return wavFormat{}, err
	}
	return f, nil
}

func decodeWAVData(d []byte, f wavFormat, opt Options, s *sink) error {
	if err := s.init("wav", f.rate, f.channels, opt); err != nil {
		return err
	}
	bps := f.bits / 8
	frameSize := bps * f.channels
	frames := len(d) / frameSize
	if frames*frameSize != len(d) {
		s.truncated = true
	}
	if frames == 0 {
		return nil // the caller reports empty or truncated
	}
	// The frame count comes from bytes actually present, so this
	// allocation is bounded by the input size, not by a header.
	if err := s.claim(int64(frames)); err != nil {
		return err
	}
	dst, err := s.grow(frames)
	if err != nil {
		return err
	}
	d = d[:frames*frameSize]
	ch := f.channels
	inv := 1 / float32(ch)
	switch {
	case f.tag == wavFormatPCM && bps == 2 && ch == 1:
		for i := range dst {
			dst[i] = float32(int16(binary.LittleEndian.Uint16(d[2*i:]))) * (1.0 / 32768)
		}
	case f.tag == wavFormatPCM && bps == 2 && ch == 2:
		for i := range dst {
			l := int32(int16(binary.LittleEndian.Uint16(d[4*i:])))
			r := int32(int16(binary.LittleEndian.Uint16(d[4*i+2:])))
			dst[i] = float32(l+r) * (1.0 / 65536)
		}
	case f.tag == wavFormatPCM:
		scale := inv / float32(int64(1)<<(f.bits-1))
		for i := range dst {
			fr := d[i*frameSize : i*frameSize+frameSize]
			var sum int64
			for c := 0; c < ch; c++ {
				sum += int64(pcmSample(fr[c*bps:], bps))
			}
			dst[i] = float32(sum) * scale
		}
	case f.tag == wavFormatFloat && bps == 4:
		for i := range dst {
			fr := d[i*frameSize : i*frameSize+frameSize]
			var sum float32
			for c := 0; c < ch; c++ {
				sum += sanitize(math.Float32frombits(binary.LittleEndian.Uint32(fr[4*c:])))
			}
			dst[i] = sum * inv
		}
	case f.tag == wavFormatFloat && bps == 8:
		for i := range dst {
			fr := d[i*frameSize : i*frameSize+frameSize]
			var sum float64
			for c := 0; c < ch; c++ {
				sum += float64(sanitize64(math.Float64frombits(binary.LittleEndian.Uint64(fr[8*c:]))))
			}
			dst[i] = float32(sum) * inv
		}
	}
	return nil
}

// pcmSample reads one little-endian integer sample of n bytes, scaled to
// the full int32 range only in the sense of keeping its own bit depth.
func pcmSample(p []byte, n int) int32 {
	switch n {
	case 1:
		return int32(p[0]) - 128 // 8-bit WAV is unsigned
	case 2:
		return int32(int16(binary.LittleEndian.Uint16(p)))
	case 3:
		return int32(uint32(p[0])<<8|uint32(p[1])<<16|uint32(p[2])<<24) >> 8
	default:
		return int32(binary.LittleEndian.Uint32(p))
	}
}

// sanitize maps NaN and ±Inf (which a damaged float file can carry and
// which would poison every later computation) to 0 and clamps the rest to
// a generous range.
func sanitize(v float32) float32 {
	if v != v || v > 8 || v < -8 {
		if v != v {
			return 0
		}
		if v > 8 {
			return 8
		}
		return -8
	}
	return v
}

func sanitize64(v float64) float32 {
	if v != v {
		return 0
	}
	if v > 8 {
		return 8
	}
	if v < -8 {
		return -8
	}
	return float32(v)
}

// EncodeWAV16 writes samples as a 16-bit PCM mono WAV at rate. Samples are
// clipped to [-1, 1]. It exists for tests and for packages that need to
// produce WAV files (evidence clips, fixtures).
func EncodeWAV16(w io.Writer, samples []float32, rate int) error {
	if rate <= 0 {
		return errors.New("audio: EncodeWAV16: rate must be positive")
	}
	dataSize := 2 * len(samples)
	if int64(dataSize) > math.MaxUint32-36 {
		return errors.New("audio: EncodeWAV16: too many samples for a WAV file")
	}
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+dataSize))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], wavFormatPCM)
	binary.LittleEndian.PutUint16(hdr[22:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], uint32(rate))
	binary.LittleEndian.PutUint32(hdr[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(dataSize))
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("audio: EncodeWAV16: %w", err)
	}
	buf := make([]byte, 0, 8192)
	for _, v := range samples {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(floatToInt16(v)))
		if len(buf) == cap(buf) {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("audio: EncodeWAV16: %w", err)
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("audio: EncodeWAV16: %w", err)
		}
	}
	return nil
}

func floatToInt16(v float32) int16 {
	x := math.Round(float64(v) * 32767)
	if x > 32767 {
		return 32767
	}
	if x < -32768 || x != x {
		if x != x {
			return 0
		}
		return -32768
	}
	return int16(x)
}

package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mewkiz/flac"
	"github.com/mewkiz/flac/frame"
	"github.com/mewkiz/flac/meta"
)

func tone(rate int, seconds, freq, amp float64) []float64 {
	n := int(math.Round(seconds * float64(rate)))
	x := make([]float64, n)
	for i := range x {
		x[i] = amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
	}
	return x
}

func toF32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func noise(seed uint64, n int, amp float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, n)
	for i := range x {
		x[i] = amp * (2*r.Float64() - 1)
	}
	return x
}

// toneAmp is the least-squares amplitude of a sinusoid at freq in x
// (sampled at rate), and the RMS of what is left after removing it. Over
// a whole number of periods the fit is exact for a pure tone.
func toneAmp(x []float32, rate int, freq float64) (amp, residualRMS float64) {
	var sc, ss, cc, sx, cx float64
	for i, v := range x {
		w := 2 * math.Pi * freq * float64(i) / float64(rate)
		s, c := math.Sincos(w)
		ss += s * s
		cc += c * c
		sc += s * c
		sx += s * float64(v)
		cx += c * float64(v)
	}
	det := ss*cc - sc*sc
	a := (sx*cc - cx*sc) / det
	b := (cx*ss - sx*sc) / det
	var res float64
	for i, v := range x {
		w := 2 * math.Pi * freq * float64(i) / float64(rate)
		s, c := math.Sincos(w)
		d := float64(v) - a*s - b*c
		res += d * d
	}
	return math.Hypot(a, b), math.Sqrt(res / float64(len(x)))
}

func rms(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func dB(r float64) float64 { return 20 * math.Log10(r) }

// interior drops the first and last 10 % (filter edges, codec ramp-up).
func interior(x []float32) []float32 { return x[len(x)/10 : len(x)-len(x)/10] }

func wantKind(t *testing.T, err error, k Kind) *Error {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *Error of kind %v", err, err, k)
	}
	if ae.Kind != k {
		t.Fatalf("kind = %v (%q), want %v", ae.Kind, ae.Error(), k)
	}
	return ae
}

// wavSpec describes a WAV file to synthesise.
type wavSpec struct {
	tag        int // wavFormatPCM or wavFormatFloat
	bits       int
	rate       int
	extensible bool
	// chunksBefore go between the RIFF header and fmt, chunksAfter between
	// fmt and data (each a complete chunk, id+size+body+pad).
	chunksBefore, chunksAfter [][]byte
	dataSize                  int64 // -1: real size
	cut                       int   // bytes removed from the end
}

func chunk(id string, body []byte) []byte {
	c := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	c = append(c, body...)
	if len(body)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// encodeSample quantises v in [-1,1] as the spec's sample format.
func (s wavSpec) encodeSample(dst []byte, v float64) []byte {
	if s.tag == wavFormatFloat {
		if s.bits == 32 {
			return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(v)))
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	full := float64(int64(1) << (s.bits - 1))
	q := int64(math.Round(v * full))
	q = max(min(q, int64(full)-1), -int64(full))
	switch s.bits {
	case 8:
		return append(dst, byte(q+128))
	case 16:
		return binary.LittleEndian.AppendUint16(dst, uint16(q))
	case 24:
		return append(dst, byte(q), byte(q>>8), byte(q>>16))
	}
	return binary.LittleEndian.AppendUint32(dst, uint32(q))
}

// makeWAV interleaves channels (all the same length) into a WAV file.
func makeWAV(s wavSpec, channels [][]float64) []byte {
	ch := len(channels)
	var data []byte
	for i := range channels[0] {
		for c := range channels {
			data = s.encodeSample(data, channels[c][i])
		}
	}
	fmtBody := make([]byte, 16)
	tag := s.tag
	if s.extensible {
		tag = wavFormatExtensible
	}
	binary.LittleEndian.PutUint16(fmtBody[0:], uint16(tag))
	binary.LittleEndian.PutUint16(fmtBody[2:], uint16(ch))
	binary.LittleEndian.PutUint32(fmtBody[4:], uint32(s.rate))
	binary.LittleEndian.PutUint32(fmtBody[8:], uint32(s.rate*ch*s.bits/8))
	binary.LittleEndian.PutUint16(fmtBody[12:], uint16(ch*s.bits/8))
	binary.LittleEndian.PutUint16(fmtBody[14:], uint16(s.bits))
	if s.extensible {
		fmtBody = binary.LittleEndian.AppendUint16(fmtBody, 22)
		fmtBody = binary.LittleEndian.AppendUint16(fmtBody, uint16(s.bits))
		fmtBody = binary.LittleEndian.AppendUint32(fmtBody, 0)
		fmtBody = binary.LittleEndian.AppendUint16(fmtBody, uint16(s.tag))
		fmtBody = append(fmtBody, ksdataformatSubtypeTail[:]...)
	}
	var body []byte
	body = append(body, "WAVE"...)
	for _, c := range s.chunksBefore {
		body = append(body, c...)
	}
	body = append(body, chunk("fmt ", fmtBody)...)
	for _, c := range s.chunksAfter {
		body = append(body, c...)
	}
	dc := chunk("data", data)
	if s.dataSize >= 0 {
		binary.LittleEndian.PutUint32(dc[4:], uint32(s.dataSize))
	}
	body = append(body, dc...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	out = append(out, body...)
	return out[:len(out)-s.cut]
}

func pcm16(rate int, x []float64) []byte {
	return makeWAV(wavSpec{tag: wavFormatPCM, bits: 16, rate: rate, dataSize: -1}, [][]float64{x})
}

// makeFLAC encodes channels of integer samples with mewkiz/flac.
func makeFLAC(t testing.TB, rate, bps int, channels [][]int32) []byte {
	t.Helper()
	var buf bytes.Buffer
	n := len(channels[0])
	info := &meta.StreamInfo{
		BlockSizeMin: 4096, BlockSizeMax: 4096,
		SampleRate: uint32(rate), NChannels: uint8(len(channels)),
		BitsPerSample: uint8(bps), NSamples: uint64(n),
	}
	enc, err := flac.NewEncoder(&buf, info)
	if err != nil {
		t.Fatal(err)
	}
	layout := map[int]frame.Channels{1: frame.ChannelsMono, 2: frame.ChannelsLR, 3: frame.ChannelsLRC, 4: frame.ChannelsLRLsRs}[len(channels)]
	for start, num := 0, uint64(0); start < n; start, num = start+4096, num+1 {
		end := min(start+4096, n)
		f := &frame.Frame{Header: frame.Header{
			HasFixedBlockSize: true, BlockSize: uint16(end - start), SampleRate: uint32(rate),
			Channels: layout, BitsPerSample: uint8(bps), Num: num,
		}}
		for _, c := range channels {
			f.Subframes = append(f.Subframes, &frame.Subframe{
				SubHeader: frame.SubHeader{Pred: frame.PredVerbatim},
				Samples:   append([]int32(nil), c[start:end]...),
				NSamples:  end - start,
			})
		}
		if err := enc.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func quantize(x []float64, bps int) []int32 {
	full := float64(int64(1) << (bps - 1))
	y := make([]int32, len(x))
	for i, v := range x {
		y[i] = int32(max(min(math.Round(v*full), full-1), -full))
	}
	return y
}

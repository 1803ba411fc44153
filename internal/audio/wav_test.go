package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Every sample format decodes to the same mono signal within its
// quantisation step.
func TestWAVSampleFormats(t *testing.T) {
	left := tone(16000, 0.25, 440, 0.6)
	right := tone(16000, 0.25, 440, -0.2)
	want := make([]float64, len(left))
	for i := range want {
		want[i] = (left[i] + right[i]) / 2
	}
	for _, c := range []struct {
		name string
		spec wavSpec
		tol  float64
	}{
		{"pcm8", wavSpec{tag: wavFormatPCM, bits: 8}, 1.0 / 128},
		{"pcm16", wavSpec{tag: wavFormatPCM, bits: 16}, 1.0 / 32768},
		{"pcm24", wavSpec{tag: wavFormatPCM, bits: 24}, 1e-6},
		{"pcm32", wavSpec{tag: wavFormatPCM, bits: 32}, 1e-6},
		{"float32", wavSpec{tag: wavFormatFloat, bits: 32}, 1e-6},
		{"float64", wavSpec{tag: wavFormatFloat, bits: 64}, 1e-6},
		{"extensible-pcm24", wavSpec{tag: wavFormatPCM, bits: 24, extensible: true}, 1e-6},
		{"extensible-float32", wavSpec{tag: wavFormatFloat, bits: 32, extensible: true}, 1e-6},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.spec.rate, c.spec.dataSize = 16000, -1
			clip, err := DecodeBytes(makeWAV(c.spec, [][]float64{left, right}), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if clip.Format != "wav" || clip.SourceRate != 16000 || clip.SourceChannels != 2 || clip.Truncated {
				t.Fatalf("clip = %+v", *clip)
			}
			if len(clip.Samples) != len(want) {
				t.Fatalf("%d samples, want %d", len(clip.Samples), len(want))
			}
			for i, v := range clip.Samples {
				if math.Abs(float64(v)-want[i]) > c.tol {
					t.Fatalf("sample %d = %v, want %v ± %v", i, v, want[i], c.tol)
				}
			}
		})
	}
}

func TestWAVMultichannel(t *testing.T) {
	chans := make([][]float64, 6)
	for c := range chans {
		chans[c] = tone(48000, 0.5, 1000, 0.1*float64(c+1)) // mean amplitude 0.35
	}
	clip, err := DecodeBytes(makeWAV(wavSpec{tag: wavFormatPCM, bits: 16, rate: 48000, dataSize: -1}, chans), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if clip.SourceChannels != 6 || clip.Duration() != 500*time.Millisecond {
		t.Fatalf("channels %d duration %v", clip.SourceChannels, clip.Duration())
	}
	amp, _ := toneAmp(interior(clip.Samples), SampleRate, 1000)
	if math.Abs(dB(amp/0.35)) > 0.1 {
		t.Fatalf("mixed amplitude %.4f, want 0.35", amp)
	}
	_, err = DecodeBytes(makeWAV(wavSpec{tag: wavFormatPCM, bits: 16, rate: 16000, dataSize: -1}, make([][]float64, 33, 33)), Options{})
	if err == nil {
		t.Fatal("33 channels accepted")
	}
}

func TestWAVSkipsUnknownChunks(t *testing.T) {
	x := tone(16000, 0.1, 500, 0.5)
	spec := wavSpec{tag: wavFormatPCM, bits: 16, rate: 16000, dataSize: -1,
		chunksBefore: [][]byte{chunk("JUNK", make([]byte, 27))},
		chunksAfter:  [][]byte{chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00test\x00")), chunk("fact", []byte{1, 2, 3, 4})},
	}
	clip, err := DecodeBytes(makeWAV(spec, [][]float64{x}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(clip.Samples) != len(x) || math.Abs(float64(clip.Samples[100])-x[100]) > 1e-4 {
		t.Fatalf("got %d samples", len(clip.Samples))
	}
}

// Streaming writers leave the data size at 0 or 0xFFFFFFFF.
func TestWAVStreamingDataSize(t *testing.T) {
	x := tone(16000, 0.2, 500, 0.5)
	for _, size := range []int64{0, 0xFFFFFFFF} {
		clip, err := DecodeBytes(makeWAV(wavSpec{tag: wavFormatPCM, bits: 16, rate: 16000, dataSize: size}, [][]float64{x}), Options{})
		if err != nil {
			t.Fatalf("size %#x: %v", size, err)
		}
		if len(clip.Samples) != len(x) || clip.Truncated {
			t.Fatalf("size %#x: %d samples truncated=%v", size, len(clip.Samples), clip.Truncated)
		}
	}
}

func TestWAVTruncated(t *testing.T) {
	x := tone(16000, 0.2, 500, 0.5)
	full := pcm16(16000, x)
	// Cut mid-sample: the whole frames before the cut survive.
	clip, err := DecodeBytes(full[:len(full)-101], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !clip.Truncated || len(clip.Samples) != len(x)-51 {
		t.Fatalf("truncated=%v samples=%d want %d", clip.Truncated, len(clip.Samples), len(x)-51)
	}
	// No whole frame at all.
	_, err = DecodeBytes(full[:45], Options{})
	wantKind(t, err, KindTruncated)
	// Cut inside the header.
	_, err = DecodeBytes(full[:30], Options{})
	wantKind(t, err, KindTruncated)
}

// A header that claims 4 GiB of samples must not make us allocate them.
func TestWAVHugeClaimAllocatesLittle(t *testing.T) {
	b := makeWAV(wavSpec{tag: wavFormatPCM, bits: 16, rate: 48000, dataSize: 0xFFFFFFF0}, [][]float64{tone(48000, 0.01, 100, 0.1)})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	clip, err := DecodeBytes(b, Options{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !clip.Truncated {
		t.Error("claimed size past the end not reported as truncated")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("allocated %d bytes for a %d-byte file", n, len(b))
	}
	allocs := testing.AllocsPerRun(20, func() { _, _ = DecodeBytes(b, Options{}) })
	if allocs > 20 {
		t.Fatalf("%v allocations per decode", allocs)
	}
}

func TestWAVRateRange(t *testing.T) {
	for _, c := range []struct {
		rate int
		ok   bool
	}{{7999, false}, {8000, true}, {11025, true}, {96000, true}, {96001, false}, {4000, false}, {192000, false}} {
		_, err := DecodeBytes(pcm16(c.rate, tone(c.rate, 0.05, 300, 0.5)), Options{})
		if c.ok && err != nil {
			t.Errorf("%d Hz: %v", c.rate, err)
		}
		if !c.ok {
			e := wantKind(t, err, KindUnsupported)
			if !strings.Contains(e.Error(), "sample rate") {
				t.Errorf("%d Hz: message %q does not mention the sample rate", c.rate, e.Error())
			}
		}
	}
}

func TestWAVUnsupportedFormats(t *testing.T) {
	b := pcm16(16000, tone(16000, 0.05, 300, 0.5))
	alaw := bytes.Clone(b)
	binary.LittleEndian.PutUint16(alaw[20:], wavFormatALaw)
	wantKind(t, decodeErr(alaw), KindUnsupported)
	bits := bytes.Clone(b)
	binary.LittleEndian.PutUint16(bits[34:], 40)
	wantKind(t, decodeErr(bits), KindUnsupported)
	float16 := bytes.Clone(b)
	binary.LittleEndian.PutUint16(float16[20:], wavFormatFloat)
	wantKind(t, decodeErr(float16), KindUnsupported)
}

func decodeErr(b []byte) error {
	_, err := DecodeBytes(b, Options{})
	return err
}

func TestWAVSilenceNoiseClipping(t *testing.T) {
	silence := make([]float64, 16000)
	clip, err := DecodeBytes(pcm16(16000, silence), Options{})
	if err != nil || rms(clip.Samples) != 0 {
		t.Fatalf("silence: %v rms %v", err, rms(clip.Samples))
	}
	clipped := tone(16000, 0.5, 300, 3) // far past full scale
	clip, err = DecodeBytes(makeWAV(wavSpec{tag: wavFormatFloat, bits: 32, rate: 16000, dataSize: -1}, [][]float64{clipped}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var peak float32
	for _, v := range clip.Samples {
		peak = max(peak, v)
	}
	if peak < 2.9 || peak > 8 {
		t.Fatalf("over-range float peak %v: must be kept (bounded), not wrapped", peak)
	}
	nan := makeWAV(wavSpec{tag: wavFormatFloat, bits: 32, rate: 16000, dataSize: -1}, [][]float64{{math.NaN(), math.Inf(1), 0.5}})
	clip, err = DecodeBytes(nan, Options{})
	if err != nil || clip.Samples[0] != 0 || clip.Samples[1] != 8 {
		t.Fatalf("NaN/Inf: %v %v", err, clip.Samples)
	}
	n := noise(3, 48000, 0.5)
	clip, err = DecodeBytes(pcm16(48000, n), Options{})
	if err != nil || clip.Duration() != time.Second {
		t.Fatalf("noise: %v", err)
	}
	// White noise is band-limited by resampling: about a third of its
	// power (0–8 of 24 kHz) survives.
	if r := rms(clip.Samples) / (0.5 / math.Sqrt(3)); r < 0.5 || r > 0.65 {
		t.Fatalf("noise power ratio %.3f, want ≈ 0.577", r)
	}
}

func TestEncodeWAV16RoundTrip(t *testing.T) {
	x := toF32(tone(16000, 0.3, 700, 0.7))
	x = append(x, 1.5, -1.5)
	var buf bytes.Buffer
	if err := EncodeWAV16(&buf, x, 16000); err != nil {
		t.Fatal(err)
	}
	clip, err := DecodeBytes(buf.Bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(clip.Samples) != len(x) {
		t.Fatalf("%d samples, want %d", len(clip.Samples), len(x))
	}
	for i := range x[:len(x)-2] {
		if math.Abs(float64(clip.Samples[i]-x[i])) > 1.0/32767 {
			t.Fatalf("sample %d: %v vs %v", i, clip.Samples[i], x[i])
		}
	}
	if got := clip.Samples[len(x)-2:]; got[0] < 0.999 || got[1] > -0.999 {
		t.Fatalf("clipping: %v", got)
	}
}

func TestErrorsAndLimits(t *testing.T) {
	_, err := DecodeBytes(nil, Options{})
	if e := wantKind(t, err, KindEmpty); e.Error() != "audio is empty" {
		t.Errorf("empty message %q", e.Error())
	}
	_, err = Decode(strings.NewReader(""), Options{})
	wantKind(t, err, KindEmpty)
	_, err = DecodeBytes(make([]byte, 1000), Options{})
	wantKind(t, err, KindEmpty)
	wantKind(t, decodeErr(pcm16(16000, nil)), KindEmpty)

	for _, junk := range []string{"hello, this is a text file\n", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "%PDF-1.7\n", "{\"json\":true}"} {
		_, err := DecodeBytes([]byte(junk), Options{})
		e := wantKind(t, err, KindNotAudio)
		if !strings.Contains(e.Error(), "not an audio file we can read (WAV, FLAC, Ogg/Opus, WebM/Opus, Ogg/Vorbis, MP3)") {
			t.Errorf("not-audio message %q", e.Error())
		}
	}
	m4a := append([]byte{0, 0, 0, 0x20}, "ftypM4A \x00\x00\x00\x00"...)
	wantKind(t, decodeErr(m4a), KindUnsupported)

	long := pcm16(16000, make([]float64, 3*16000))
	_, err = DecodeBytes(long, Options{MaxDuration: 2 * time.Second})
	if e := wantKind(t, err, KindTooLong); e.Error() != "recording is longer than the 2s limit" {
		t.Errorf("too-long message %q", e.Error())
	}
	_, err = DecodeBytes(long, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Streaming header (size unknown) is still cut off while decoding.
	binary.LittleEndian.PutUint32(long[40:], 0xFFFFFFFF)
	_, err = DecodeBytes(long, Options{MaxDuration: 2 * time.Second})
	wantKind(t, err, KindTooLong)
	exact := pcm16(16000, make([]float64, 2*16000))
	if _, err := DecodeBytes(exact, Options{MaxDuration: 2 * time.Second}); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}

	_, err = Decode(bytes.NewReader(long), Options{MaxBytes: 1000})
	if e := wantKind(t, err, KindTooLarge); e.Error() != "file is larger than the 1000 byte limit" {
		t.Errorf("too-large message %q", e.Error())
	}
	_, err = DecodeBytes(long, Options{MaxBytes: 1 << 10})
	if e := wantKind(t, err, KindTooLarge); e.Error() != "file is larger than the 1 KiB limit" {
		t.Errorf("too-large message %q", e.Error())
	}
	path := filepath.Join(t.TempDir(), "a.wav")
	if err := os.WriteFile(path, long, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = DecodeFile(path, Options{MaxBytes: 1000})
	wantKind(t, err, KindTooLarge)
	clip, err := DecodeFile(path, Options{})
	if err != nil || clip.Duration() != 3*time.Second {
		t.Fatalf("DecodeFile: %v", err)
	}
	if _, err := DecodeFile(filepath.Join(t.TempDir(), "missing.wav"), Options{}); err == nil {
		t.Fatal("missing file decoded")
	}
	if KindTooLong.String() != "too_long" {
		t.Errorf("Kind.String() = %q", KindTooLong.String())
	}
}

package audio

import (
	"errors"
	"math"
	"os"
	"testing"
	"time"

	"github.com/mewkiz/flac/frame"
)

// fuzzOptions keep each fuzz iteration small and fast.
var fuzzOptions = Options{MaxDuration: 20 * time.Second, MaxBytes: 1 << 20}

// checkDecode is the property every decoder must have on any input: no
// panic (DecodeBytes recovers library panics, so a panic here is ours), a
// typed error with a message, or a well-formed clip.
func checkDecode(t *testing.T, b []byte) {
	clip, err := DecodeBytes(b, fuzzOptions)
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if ae.Error() == "" || ae.Kind < KindEmpty || ae.Kind > KindTooLarge {
			t.Fatalf("bad error %#v", ae)
		}
		if ae.Kind == KindCorrupt && ae.Err != nil && len(ae.Err.Error()) > 0 && len(ae.Error()) > 200 {
			t.Fatalf("message too long: %q", ae.Error())
		}
		return
	}
	if clip == nil || len(clip.Samples) == 0 {
		t.Fatal("nil error with no samples")
	}
	if clip.Duration() > fuzzOptions.MaxDuration+time.Second {
		t.Fatalf("clip of %v passed the %v limit", clip.Duration(), fuzzOptions.MaxDuration)
	}
	for _, v := range clip.Samples {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatal("non-finite sample")
		}
	}
}

func addFileSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(b[:min(len(b), 64)])
		m := append([]byte(nil), b...)
		for i := 40; i < len(m); i += 97 {
			m[i] ^= 0x55
		}
		f.Add(m)
	}
}

func FuzzDecodeWAV(f *testing.F) {
	x := tone(16000, 0.05, 440, 0.5)
	for _, s := range []wavSpec{
		{tag: wavFormatPCM, bits: 8}, {tag: wavFormatPCM, bits: 16}, {tag: wavFormatPCM, bits: 24},
		{tag: wavFormatPCM, bits: 32}, {tag: wavFormatFloat, bits: 32}, {tag: wavFormatFloat, bits: 64},
		{tag: wavFormatPCM, bits: 24, extensible: true, chunksAfter: [][]byte{chunk("LIST", []byte("abc"))}},
		{tag: wavFormatPCM, bits: 16, dataSize: 0xFFFFFFFF},
	} {
		s.rate = 16000
		if s.dataSize == 0 {
			s.dataSize = -1
		}
		b := makeWAV(s, [][]float64{x, x})
		f.Add(b)
		f.Add(b[:50])
	}
	f.Fuzz(checkDecode)
}

func FuzzDecodeFLAC(f *testing.F) {
	// Small seeds: the fuzzer's throughput falls steeply with input size.
	f.Add(makeFLAC(f, 16000, 16, [][]int32{quantize(tone(16000, 0.03, 440, 0.5), 16)}))
	b := makeFLAC(f, 44100, 24, [][]int32{quantize(tone(44100, 0.01, 440, 0.5), 24), quantize(noise(1, 441, 0.3), 24)})
	f.Add(b)
	f.Add(b[:len(b)/2])
	// Our decoder's paths: LPC with escaped partitions, Rice2, wasted
	// bits, side channels, variable block sizes; and a flac(1) file.
	sig := flacSignals(600, 16)
	for _, c := range []flacCase{
		{rate: 16000, bps: 16, chans: [][]int32{sig["tone+noise"]}, blocks: []int{192, 300}, variable: true,
			sub: subSpec{pred: frame.PredFIR, order: 12, prec: 14, porder: 2, escape: true}},
		{rate: 16000, bps: 16, chans: [][]int32{sig["tone"], sig["tone+noise"]}, blocks: []int{256}, assign: frame.ChannelsMidSide,
			sub: subSpec{pred: frame.PredFixed, order: 3, rice2: true, porder: 3, wasted: 2}},
	} {
		f.Add(c.encode(f))
	}
	fx, err := os.ReadFile("testdata/flac/fixed_8bit_wasted.flac")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fx[:1024])
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
		// DecodeBytes would turn a panic of our decoder into KindCorrupt;
		// called directly, a panic fails the target.
		if sniff(b) == "flac" {
			var s sink
			_ = decodeFLAC(b, fuzzOptions, &s)
		}
	})
}

func FuzzDecodeOgg(f *testing.F) {
	addFileSeeds(f, "tone1k.opus", "tone1k_silk.opus", "tone1k_vorbis.ogg")
	f.Fuzz(checkDecode)
}

func FuzzDecodeWebM(f *testing.F) {
	addFileSeeds(f, "tone1k.webm", "tone1k_live.webm", "tone1k_vorbis.webm")
	f.Fuzz(checkDecode)
}

func FuzzDecodeMP3(f *testing.F) {
	addFileSeeds(f, "tone1k_44k.mp3", "tone1k_22k_mpeg2.mp3")
	f.Fuzz(checkDecode)
}

func FuzzDecode(f *testing.F) {
	addFileSeeds(f, "tone1k.opus", "tone1k.webm", "tone1k_vorbis.ogg", "tone1k_44k.mp3")
	f.Add(pcm16(8000, tone(8000, 0.05, 300, 0.5)))
	f.Add([]byte("not audio"))
	f.Add([]byte{})
	f.Fuzz(checkDecode)
}

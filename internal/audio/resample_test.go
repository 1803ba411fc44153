package audio

import (
	"math"
	"math/rand/v2"
	"testing"
)

var resampleRates = []int{8000, 11025, 12000, 22050, 24000, 32000, 44100, 48000, 88200, 96000, 12345, 44101}

// A 1 kHz tone keeps its frequency and amplitude through every ratio:
// the least-squares fit at exactly 1 kHz recovers 0.5 within 0.1 dB and
// leaves a residual more than 60 dB down (a shifted frequency would
// leave most of the energy in the residual).
func TestResampleKeepsTone(t *testing.T) {
	for _, rate := range resampleRates {
		x := toF32(tone(rate, 1, 1000, 0.5))
		y := Resample(nil, x, rate)
		if want := (len(x)*SampleRate + rate - 1) / rate; len(y) != want {
			t.Errorf("%d Hz: %d outputs, want %d", rate, len(y), want)
		}
		amp, res := toneAmp(interior(y), SampleRate, 1000)
		if d := dB(amp / 0.5); math.Abs(d) > 0.1 {
			t.Errorf("%d Hz: 1 kHz amplitude off by %.3f dB", rate, d)
		}
		if r := dB(res / 0.5); r > -60 {
			t.Errorf("%d Hz: residual %.1f dB relative to the tone", rate, r)
		}
	}
}

// Flat passband: tones up to 7 kHz pass within 0.1 dB.
func TestResamplePassbandFlat(t *testing.T) {
	for _, rate := range []int{44100, 48000, 22050, 96000, 12345} {
		for _, f := range []float64{50, 300, 2000, 4000, 6000, 7000} {
			if f >= float64(rate)/2*passFraction {
				continue
			}
			y := Resample(nil, toF32(tone(rate, 0.5, f, 0.5)), rate)
			amp, _ := toneAmp(interior(y), SampleRate, f)
			if d := dB(amp / 0.5); math.Abs(d) > 0.1 {
				t.Errorf("%d Hz input, %.0f Hz tone: gain %.3f dB", rate, f, d)
			}
		}
	}
}

// Anything above the 8 kHz output Nyquist is removed, not folded back.
func TestResampleRejectsAboveNyquist(t *testing.T) {
	for _, c := range []struct {
		rate int
		freq float64
	}{
		{48000, 10000}, {48000, 8200}, {48000, 15000}, {48000, 23000},
		{44100, 9000}, {44100, 12000}, {44100, 20000}, {22050, 10000},
		{96000, 30000}, {32000, 11000},
	} {
		y := Resample(nil, toF32(tone(c.rate, 0.5, c.freq, 0.5)), c.rate)
		// Total output energy, wherever the alias would land.
		if g := dB(rms(interior(y)) * math.Sqrt2 / 0.5); g > -60 {
			t.Errorf("%d Hz input, %.0f Hz tone: leaks at %.1f dB (want ≤ -60)", c.rate, c.freq, g)
		}
	}
}

// Upsampling (8 kHz telephone audio) must not create images above 4 kHz.
func TestResampleUpsampleNoImages(t *testing.T) {
	for _, rate := range []int{8000, 11025, 12000} {
		y := Resample(nil, toF32(tone(rate, 1, 1000, 0.5)), rate)
		image := float64(rate) - 1000
		amp, _ := toneAmp(interior(y), SampleRate, image)
		if g := dB(amp / 0.5); g > -60 {
			t.Errorf("%d Hz: image at %.0f Hz is %.1f dB", rate, image, g)
		}
	}
}

func TestResampleDC(t *testing.T) {
	for _, rate := range []int{44100, 48000, 8000, 12345} {
		x := make([]float32, rate/2)
		for i := range x {
			x[i] = 0.25
		}
		for _, v := range interior(Resample(nil, x, rate)) {
			if math.Abs(float64(v)-0.25) > 1e-5 {
				t.Fatalf("%d Hz: DC output %v, want 0.25", rate, v)
			}
		}
	}
}

// Chunk-by-chunk streaming equals the one-shot result.
func TestResamplerStreamingMatchesOneShot(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, rate := range []int{44100, 48000, 8000, 12345, 16000} {
		x := toF32(noise(uint64(rate), rate/3, 0.5))
		want := Resample(nil, x, rate)
		rs, err := NewResampler(rate)
		if err != nil {
			t.Fatal(err)
		}
		var got []float32
		for i := 0; i < len(x); {
			n := min(r.IntN(700), len(x)-i)
			got = rs.Process(got, x[i:i+n])
			i += n
		}
		got = rs.Flush(got)
		if len(got) != len(want) {
			t.Fatalf("%d Hz: streaming gave %d samples, one-shot %d", rate, len(got), len(want))
		}
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-6 {
				t.Fatalf("%d Hz: sample %d streaming %v one-shot %v", rate, i, got[i], want[i])
			}
		}
		if cap(rs.buf) > 4*rs.t.tapsOr0()+2048 {
			t.Errorf("%d Hz: streaming buffer grew to %d", rate, cap(rs.buf))
		}
	}
}

func TestNewResamplerRejectsRates(t *testing.T) {
	for _, rate := range []int{0, 7999, 96001, -1} {
		if _, err := NewResampler(rate); err == nil {
			t.Errorf("NewResampler(%d) succeeded", rate)
		}
	}
}

func (t *filterTable) tapsOr0() int {
	if t == nil {
		return 0
	}
	return t.taps
}

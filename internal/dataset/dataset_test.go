package dataset

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/empowerher/empowerher/internal/features"
)

func tone(n int, f, amp float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*f*float64(i)/16000))
	}
	return x
}

func power(x []float32) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s / float64(len(x))
}

func TestMixNoiseHitsTheSNR(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	sig := tone(16000, 440, 0.3)
	noise := make([]float32, 32000)
	for i := range noise {
		noise[i] = float32(r.NormFloat64() * 0.1)
	}
	for _, snr := range []float64{0, 10, 20} {
		y := append([]float32(nil), sig...)
		mixNoise(y, noise, snr, r)
		diff := make([]float32, len(y))
		for i := range y {
			diff[i] = y[i] - sig[i]
		}
		got := 10 * math.Log10(power(sig)/power(diff))
		if math.Abs(got-snr) > 0.1 {
			t.Errorf("SNR %.2f dB, want %.0f", got, snr)
		}
	}
}

func TestTelephoneBand(t *testing.T) {
	// 1 kHz passes (within 1 dB), 100 Hz and 6 kHz are cut (≥ 12 dB):
	// two cascaded Butterworth sections each side.
	for _, c := range []struct {
		f       float64
		minDB   float64
		maxDB   float64
		comment string
	}{
		{1000, -1, 0.5, "passband"},
		{100, -100, -12, "below 300 Hz"},
		{6000, -100, -12, "above 3400 Hz"},
	} {
		x := tone(16000, c.f, 0.5)
		y := append([]float32(nil), x...)
		telephone(y)
		g := 10 * math.Log10(power(y[4000:])/power(x[4000:]))
		if g < c.minDB || g > c.maxDB {
			t.Errorf("%s (%.0f Hz): gain %.1f dB, want %.0f…%.1f", c.comment, c.f, g, c.minDB, c.maxDB)
		}
	}
}

func TestAugmentIsDeterministicAndBounded(t *testing.T) {
	x := tone(32000, 300, 0.5)
	noise := tone(48000, 2000, 0.2)
	a := DefaultAugmentation.apply(x, noise, rand.New(rand.NewPCG(3, 3)))
	b := DefaultAugmentation.apply(x, noise, rand.New(rand.NewPCG(3, 3)))
	if len(a) != len(b) {
		t.Fatal("same seed, different lengths")
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed, different samples")
		}
		if a[i] > 1 || a[i] < -1 {
			t.Fatalf("sample %v outside [-1, 1]", a[i])
		}
	}
	// Speed changes stay within ±8 %.
	if r := float64(len(a)) / float64(len(x)); r < 0.91 || r > 1.09 {
		t.Errorf("length ratio %.3f after speed change", r)
	}
}

func TestSpansCoverTheActivePart(t *testing.T) {
	fps := features.FrameRate
	// 1 s silence, 3 s tone, 1 s silence.
	x := append(append(make([]float32, 16000), tone(48000, 200, 0.3)...), make([]float32, 16000)...)
	n := len(x) / features.HopSize
	spans := Spans(x, n, false, false)
	if len(spans) == 0 {
		t.Fatal("no spans")
	}
	for _, s := range spans {
		if s[1]-s[0] != WindowFrames {
			t.Errorf("span %v is not a 2 s window", s)
		}
		if s[0] < fps-2 || s[1] > 4*fps+2 {
			t.Errorf("span %v reaches into the silence (active part is frames %d–%d)", s, fps, 4*fps)
		}
	}
	// A long background recording is cut into consecutive 2 s segments.
	long := Spans(make([]float32, 16000*9), 9*fps, true, true)
	if len(long) != 4 || long[3][1] != 8*fps {
		t.Errorf("long segments %v", long)
	}
	// A clip shorter than a window is one span.
	if s := Spans(tone(8000, 200, 0.3), fps/2, false, false); len(s) != 1 || s[0] != [2]int{0, fps / 2} {
		t.Errorf("short clip spans %v", s)
	}
}

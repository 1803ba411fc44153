package features

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

// TestRealFFTMatchesGonum checks the hand-written FFT against gonum's
// FFTPACK on random input.
func TestRealFFTMatchesGonum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048} {
		x := make([]float32, n)
		x64 := make([]float64, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
			x64[i] = float64(x[i])
		}
		want := fourier.NewFFT(n).Coefficients(nil, x64)
		re, im := make([]float32, n/2+1), make([]float32, n/2+1)
		newRealFFT(n).transform(re, im, x)
		scale := math.Sqrt(float64(n))
		for k := range want {
			if math.Abs(float64(re[k])-real(want[k])) > 1e-4*scale || math.Abs(float64(im[k])-imag(want[k])) > 1e-4*scale {
				t.Fatalf("n=%d bin %d: got %v%+vi, gonum %v", n, k, re[k], im[k], want[k])
			}
		}
	}
}

func BenchmarkRealFFT512(b *testing.B) {
	f := newRealFFT(512)
	x := make([]float32, 512)
	for i := range x {
		x[i] = float32(i % 7)
	}
	re, im := make([]float32, 257), make([]float32, 257)
	start := cpuTime()
	for b.Loop() {
		f.transform(re, im, x)
	}
	reportRealtime(b, start, 0.032)
}

func BenchmarkGonumFFT512(b *testing.B) {
	f := fourier.NewFFT(512)
	x := make([]float64, 512)
	for i := range x {
		x[i] = float64(i % 7)
	}
	c := make([]complex128, 257)
	for b.Loop() {
		f.Coefficients(c, x)
	}
}

func TestPercentilesMatchSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{1, 2, 3, 5, 10, 17, 33, 101, 400, 1000} {
		for trial := 0; trial < 20; trial++ {
			a := make([]float32, n)
			for i := range a {
				switch trial % 3 {
				case 0:
					a[i] = float32(r.IntN(7)) // many ties
				case 1:
					a[i] = float32(r.NormFloat64())
				default:
					// Signed zeros and ties (the partition compares by sign).
					a[i] = float32(r.IntN(3)-1) * float32(math.Copysign(0, float64(r.IntN(2))-0.5))
					if r.IntN(4) == 0 {
						a[i] = float32(r.IntN(3))
					}
				}
			}
			s := append([]float32(nil), a...)
			slices.Sort(s)
			var got [4]float32
			percentiles(got[:], a, 0.2, 0.5, 0.8, 0.95)
			for q, p := range []float64{0.2, 0.5, 0.8, 0.95} {
				if want := percentile(s, p); math.Abs(float64(got[q]-want)) > 1e-6 {
					t.Fatalf("n=%d p=%.2f: %v, sorted gives %v", n, p, got[q], want)
				}
			}
		}
	}
}

func TestSmoothRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	x := make([]float32, 50)
	newRun := make([]bool, 50)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		newRun[i] = i == 0 || r.IntN(6) == 0
	}
	a, b := make([]float32, 50), make([]float32, 50)
	smoothRuns(a, x, newRun)
	if smoothRadius == 1 {
		smoothRunsRadius(b, x, newRun, 1)
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-6 {
				t.Fatalf("frame %d: radius-1 paths differ: %v vs %v", i, a[i], b[i])
			}
		}
	}
	// Radius 2 on one run: the interior averages five values, the edges
	// three and four.
	y := []float32{1, 2, 3, 4, 5, 6}
	runs := []bool{true, false, false, false, false, false}
	got := make([]float32, len(y))
	smoothRunsRadius(got, y, runs, 2)
	want := []float32{2, 2.5, 3, 4, 4.5, 5}
	if !slices.Equal(got, want) {
		t.Fatalf("radius 2: %v, want %v", got, want)
	}
}

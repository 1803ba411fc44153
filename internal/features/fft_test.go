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
	for _, n := range []int{1, 2, 3, 5, 10, 101, 400} {
		for trial := 0; trial < 20; trial++ {
			a := make([]float32, n)
			for i := range a {
				a[i] = float32(r.IntN(7)) // many ties
				if trial%2 == 1 {
					a[i] = float32(r.NormFloat64())
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

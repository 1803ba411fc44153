package features

import (
	"math"
	"math/rand/v2"
)

// Test signals with known answers. All deterministic.

func tone(hz, amp float64, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*hz*float64(i)/SampleRate))
	}
	return x
}

func whiteNoise(amp float64, n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * r.NormFloat64())
	}
	return x
}

// amTone is a carrier fully (depth m) amplitude-modulated at modHz.
func amTone(carrier, modHz, m float64, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		t := float64(i) / SampleRate
		x[i] = float32(0.3 * (1 + m*math.Cos(2*math.Pi*modHz*t)) / (1 + m) * math.Sin(2*math.Pi*carrier*t))
	}
	return x
}

// harmonicTone is a sum of harmonics of f0 with the given amplitudes.
func harmonicTone(f0 float64, amps []float64, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		t := float64(i) / SampleRate
		var v float64
		for h, a := range amps {
			v += a * math.Sin(2*math.Pi*f0*float64(h+1)*t)
		}
		x[i] = float32(v)
	}
	return x
}

// pulses is a train of zero-mean Ricker ("Mexican hat") pulses, σ =
// 0.4 ms, whose peaks sit exactly at the given intervals (seconds) with
// the given heights: a signal with exactly known peak-to-peak jitter and
// shimmer.
func pulses(periods, amps []float64, total int) []float32 {
	x := make([]float32, total)
	const sigma = 0.0004
	t0 := 0.002
	for c := 0; t0 < float64(total)/SampleRate+0.01; c++ {
		A := amps[c%len(amps)]
		lo, hi := int((t0-6*sigma)*SampleRate), int((t0+6*sigma)*SampleRate)+1
		for i := max(lo, 0); i < min(hi, total); i++ {
			u := (float64(i)/SampleRate - t0) / sigma
			x[i] += float32(A * (1 - u*u) * math.Exp(-u*u/2))
		}
		t0 += periods[c%len(periods)]
	}
	return x
}

// voiceLike is a voiced-like test signal: a glottal-ish harmonic source
// (1/h² harmonics) at a gliding F0 with vibrato, syllable-rate amplitude
// modulation, pauses of breathy noise, and background noise at −30 dB.
// Its peak stays below 0.18, so ×5 does not clip.
func voiceLike(n int) []float32 {
	r := rand.New(rand.NewPCG(7, 9))
	x := make([]float32, n)
	phase := 0.0
	for i := range x {
		t := float64(i) / SampleRate
		f0 := 180 + 40*math.Sin(2*math.Pi*0.7*t) + 4*math.Sin(2*math.Pi*5.5*t)
		phase += 2 * math.Pi * f0 / SampleRate
		var v float64
		for h := 1; h <= 20 && float64(h)*f0 < 7500; h++ {
			v += math.Sin(float64(h)*phase) / float64(h*h)
		}
		syll := 0.5 + 0.5*math.Sin(2*math.Pi*3*t)
		voiced := math.Mod(t, 0.8) < 0.55
		if !voiced {
			v = 0.3 * r.NormFloat64() * 0.1
		} else {
			v *= syll
		}
		x[i] = float32(0.1*v + 0.003*r.NormFloat64())
	}
	return x
}

func scaled(x []float32, g float32) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = v * g
	}
	return y
}

// frames runs a fresh Frontend over x and returns the LLD frames.
func frames(x []float32) [][]float32 {
	flat := NewFrontend().Write(nil, x)
	var out [][]float32
	for len(flat) >= NumLLD {
		out = append(out, flat[:NumLLD])
		flat = flat[NumLLD:]
	}
	return out
}

// column returns LLD i over frames, skipping the first skip frames
// (warm-up: the stream starts with silence).
func column(fr [][]float32, i, skip int) []float64 {
	var c []float64
	for _, f := range fr[skip:] {
		c = append(c, float64(f[i]))
	}
	return c
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func functionalIndex(name string) int {
	for i, n := range functionalNames {
		if n == name {
			return i
		}
	}
	panic("no functional " + name)
}

package dataset

import (
	"math"
	"math/rand/v2"

	"github.com/empowerher/empowerher/internal/audio"
)

// Augmentation makes the model hear what deployment brings that the
// studio corpora lack: noise, other levels, phone lines, other voices.
type Augmentation struct {
	MinSNR, MaxSNR float64 // dB, noise mixed from the same fold group's noise clips
	GainDB         float64 // ± range of random gain
	PhoneProb      float64 // probability of telephone band-limiting (300–3400 Hz)
	SpeedRange     float64 // ± relative speed change (pitch and tempo)
}

// DefaultAugmentation is what `empowerher train` uses.
var DefaultAugmentation = Augmentation{MinSNR: 0, MaxSNR: 20, GainDB: 12, PhoneProb: 0.35, SpeedRange: 0.08}

// apply returns an augmented copy of x. noise may be nil (no mixing).
func (a Augmentation) apply(x []float32, noise []float32, rng *rand.Rand) []float32 {
	y := x
	if a.SpeedRange > 0 {
		f := 1 + (rng.Float64()*2-1)*a.SpeedRange
		// Playing 16 kHz audio as if recorded at 16000·f Hz changes speed
		// and pitch by f together, as a faster or slower talker would.
		y = audio.Resample(nil, y, int(math.Round(audio.SampleRate*f)))
	} else {
		y = append([]float32(nil), y...)
	}
	if rng.Float64() < a.PhoneProb {
		telephone(y)
	}
	if len(noise) > 0 {
		snr := a.MinSNR + rng.Float64()*(a.MaxSNR-a.MinSNR)
		mixNoise(y, noise, snr, rng)
	}
	g := float32(math.Pow(10, (rng.Float64()*2-1)*a.GainDB/20))
	for i := range y {
		v := y[i] * g
		// Loud inputs clip, as a cheap microphone does.
		y[i] = min(max(v, -1), 1)
	}
	return y
}

// mixNoise adds a random stretch of noise to y at the given SNR, measured
// over the active part of y.
func mixNoise(y, noise []float32, snrDB float64, rng *rand.Rand) {
	sig := activePower(y)
	if sig == 0 {
		return
	}
	off := 0
	if len(noise) > len(y) {
		off = rng.IntN(len(noise) - len(y))
	}
	var np float64
	n := 0
	for i := range y {
		v := float64(noise[(off+i)%len(noise)])
		np += v * v
		n++
	}
	np /= float64(n)
	if np == 0 {
		return
	}
	k := float32(math.Sqrt(sig / np / math.Pow(10, snrDB/10)))
	for i := range y {
		y[i] += k * noise[(off+i)%len(noise)]
	}
}

// activePower is the mean power of the 20 ms blocks within 30 dB of the
// loudest, so silence around speech does not inflate the SNR.
func activePower(y []float32) float64 {
	const block = 320
	var powers []float64
	maxP := 0.0
	for s := 0; s+block <= len(y); s += block {
		p := 0.0
		for _, v := range y[s : s+block] {
			p += float64(v) * float64(v)
		}
		p /= block
		powers = append(powers, p)
		maxP = max(maxP, p)
	}
	sum, n := 0.0, 0
	for _, p := range powers {
		if p >= maxP*1e-3 {
			sum += p
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// telephone band-limits y in place to 300–3400 Hz with two cascaded
// second-order sections each side (RBJ audio-EQ cookbook biquads).
func telephone(y []float32) {
	for _, f := range []biquad{
		highpass(300), highpass(300), lowpass(3400), lowpass(3400),
	} {
		f.run(y)
	}
}

type biquad struct{ b0, b1, b2, a1, a2 float64 }

func (f biquad) run(y []float32) {
	var x1, x2, y1, y2 float64
	for i, v := range y {
		x := float64(v)
		o := f.b0*x + f.b1*x1 + f.b2*x2 - f.a1*y1 - f.a2*y2
		x2, x1 = x1, x
		y2, y1 = y1, o
		y[i] = float32(o)
	}
}

func lowpass(fc float64) biquad {
	w := 2 * math.Pi * fc / audio.SampleRate
	alpha := math.Sin(w) / (2 * math.Sqrt2 / 2) // Q = 1/√2 (Butterworth)
	c := math.Cos(w)
	a0 := 1 + alpha
	return biquad{(1 - c) / 2 / a0, (1 - c) / a0, (1 - c) / 2 / a0, -2 * c / a0, (1 - alpha) / a0}
}

func highpass(fc float64) biquad {
	w := 2 * math.Pi * fc / audio.SampleRate
	alpha := math.Sin(w) / (2 * math.Sqrt2 / 2)
	c := math.Cos(w)
	a0 := 1 + alpha
	return biquad{(1 + c) / 2 / a0, -(1 + c) / a0, (1 + c) / 2 / a0, -2 * c / a0, (1 - alpha) / a0}
}

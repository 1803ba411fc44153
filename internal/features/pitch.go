package features

import "math"

// F0 by YIN (de Cheveigné & Kawahara, "YIN, a fundamental frequency
// estimator for speech and music", JASA 111(4), 2002), made cheap:
//
//   - The coarse search runs on a 4 kHz copy of the 40 ms pitch window
//     (160 samples): the difference function comes from the
//     autocorrelation (computed directly, six lags per pass, and only as
//     far as the search needs: a voiced frame at 200 Hz stops at lag 21 of
//     67) plus prefix sums of energy (steps 1–2 of the paper, "shrinking
//     window" form), then the cumulative mean normalised difference (step
//     3), the absolute threshold (step 4) and parabolic interpolation
//     (step 5).
//   - The lag is then refined on the 8 kHz copy by evaluating the
//     difference function directly at five lags around twice the coarse
//     one, with parabolic interpolation again, which brings a 220 Hz tone
//     to within 0.1 Hz.
//
// The difference function is divided by the number of terms it sums, so
// white noise gives a flat d(τ) and a CMND near 1 at every lag instead of a
// bias towards long lags.
const (
	n8       = pitchWindow / 2 // 320 samples at 8 kHz
	n4       = pitchWindow / 4 // 160 samples at 4 kHz
	acfBlock = 6               // lags per autocorrelation pass
	minF0    = 60.0
	maxF0    = 1000.0 // screams reach 1 kHz
	tauMin4  = 4      // 4000/1000
	tauMax4  = 67     // 4000/67 = 59.7 Hz
	tauMin8  = 2 * tauMin4
	tauMax8  = 2*tauMax4 + 2
	// yinThreshold is the CMND below which a lag counts as periodic. The
	// paper uses 0.1–0.15 on full-band audio; on RAVDESS speech (actors
	// 1–4) 0.15 left the voiced ratio at 0.17 and 0.20 lifted it to 0.22
	// with F0 std unchanged (no octave errors), while everyday noise
	// (UrbanSound8K, Speech Commands) stayed at 1–4 % voiced frames.
	yinThreshold = 0.2
	hnrMinDB     = -20
	hnrMaxDB     = 40
	maxPeaks     = n8/tauMin8 + 2
)

type pitchTracker struct {
	acf  [(tauMax4+1)/acfBlock*acfBlock + acfBlock + 1]float32 // [τ], τ ≥ 1
	pre4 [n4 + 1]float64
	pre8 [n8 + 1]float64 // prefix sums of x8²
	d    [tauMax4 + 2]float64
	cm   [tauMax4 + 2]float64
	pkT  [maxPeaks]float64
	pkA  [maxPeaks]float64
}

func newPitchTracker() *pitchTracker { return &pitchTracker{} }

// pitchResult is what one pitch analysis yields.
type pitchResult struct {
	f0, voicing, hnr, jitter, shimmer float32
}

// analyze estimates F0 and voice quality over one pitch window given at
// 4 kHz (x4, n4 samples) and 8 kHz (x8, n8 samples).
func (p *pitchTracker) analyze(x4, x8 []float32) pitchResult {
	res := pitchResult{hnr: hnrMinDB}
	x4 = x4[:n4]
	x8 = x8[:n8]
	var e float64
	p.pre4[0] = 0
	for i, v := range x4 {
		e += float64(v) * float64(v)
		p.pre4[i+1] = e
	}
	if e/n4 < silenceFloor {
		return res // digital silence: unvoiced
	}

	// Difference function (per term) and its cumulative mean
	// normalisation, lag by lag, with the absolute threshold: the first
	// dip below it, followed down to its local minimum, ends the search;
	// without one, the global minimum (and the frame is unvoiced).
	var run float64
	p.cm[0] = 1
	best := -1
	computed := 0 // acf[1…computed] are valid
	for tau := 1; tau <= tauMax4+1; tau++ {
		if tau > computed {
			autocorrBlock(p.acf[computed+1:computed+1+acfBlock], x4, computed+1)
			computed += acfBlock
		}
		d := p.pre4[n4-tau] + (e - p.pre4[tau]) - 2*float64(p.acf[tau])
		if d < 0 {
			d = 0
		}
		d /= float64(n4 - tau)
		p.d[tau] = d
		run += d
		if run > 0 {
			p.cm[tau] = d * float64(tau) / run
		} else {
			p.cm[tau] = 1
		}
		// cm[tau−1] is a local minimum below the threshold.
		if t := tau - 1; t >= tauMin4 && t <= tauMax4 && p.cm[t] < yinThreshold && (p.cm[tau] >= p.cm[t] || t == tauMax4) {
			best = t
			break
		}
	}
	voiced := best >= 0
	if !voiced {
		best = tauMin4
		for tau := tauMin4 + 1; tau <= tauMax4; tau++ {
			if p.cm[tau] < p.cm[best] {
				best = tau
			}
		}
	}
	vp := 1 - p.cm[best]
	res.voicing = float32(clamp(vp, 0, 1))
	tau4, _ := parabolicMin(p.cm[best-1], p.cm[best], p.cm[best+1])
	tau4 += float64(best)

	// Refine on 8 kHz.
	var e8 float64
	for i, v := range x8 {
		e8 += float64(v * v)
		p.pre8[i+1] = e8
	}
	center := int(math.Round(2 * tau4))
	var dd [5]float64
	lo := center - 2
	for iter := 0; ; iter++ {
		if lo < tauMin8-1 {
			lo = tauMin8 - 1
		}
		if lo+4 > tauMax8 {
			lo = tauMax8 - 4
		}
		diffLags(&dd, x8, lo)
		k := 0
		for i := 1; i < len(dd); i++ {
			if dd[i] < dd[k] {
				k = i
			}
		}
		// A minimum on the edge of the five lags: slide towards it (at
		// most twice; the coarse lag is within one 4 kHz sample).
		if iter < 2 && k == 0 && lo > tauMin8-1 {
			lo -= 3
			continue
		}
		if iter < 2 && k == 4 && lo+4 < tauMax8 {
			lo += 3
			continue
		}
		if k == 0 {
			k = 1
		}
		if k == 4 {
			k = 3
		}
		delta, dmin := parabolicMin(dd[k-1], dd[k], dd[k+1])
		tau8 := float64(lo+k) + delta
		if dmin < 0 {
			dmin = 0
		}
		// Normalised autocorrelation at the period: ρ = 1 − d/(ē₁+ē₂), so
		// for a periodic signal plus white noise ρ/(1−ρ) is the
		// harmonic-to-noise power ratio (Boersma 1993, Praat's HNR).
		L := lo + k
		e1 := p.pre8[n8-L] / float64(n8-L)
		e2 := (p.pre8[n8] - p.pre8[L]) / float64(n8-L)
		if e1+e2 > 0 {
			rho := clamp(1-dmin/(e1+e2), 1e-6, 1-1e-6)
			res.hnr = float32(clamp(10*math.Log10(rho/(1-rho)), hnrMinDB, hnrMaxDB))
		}
		if voiced {
			f0 := 8000 / tau8
			if f0 < minF0*0.97 || f0 > maxF0*1.03 {
				break
			}
			res.f0 = float32(f0)
			res.jitter, res.shimmer = p.periodPerturbation(x8, tau8)
		}
		break
	}
	return res
}

// autocorrBlock writes dst[k] = Σ_j x_j·x_{j+t0+k}, j < len(x)−t0−k, for
// the len(dst) ≤ acfBlock lags from t0 (t0+acfBlock−1 < len(x)): one pass
// over x with six independent accumulators (more would not fit the
// registers Go allocates, and spill), then the few terms the longer sums
// have beyond the common range.
func autocorrBlock(dst []float32, x []float32, t0 int) {
	n := len(x)
	common := n - t0 - (acfBlock - 1)
	a, b := x[:common], x[t0:]
	var s0, s1, s2, s3, s4, s5 float32
	for j, v := range a {
		y := b[j : j+acfBlock : j+acfBlock]
		s0 += v * y[0]
		s1 += v * y[1]
		s2 += v * y[2]
		s3 += v * y[3]
		s4 += v * y[4]
		s5 += v * y[5]
	}
	s := [acfBlock]float32{s0, s1, s2, s3, s4, s5}
	for k := range s[:acfBlock-1] {
		for j := common; j < n-t0-k; j++ {
			s[k] += x[j] * x[j+t0+k]
		}
	}
	copy(dst, s[:])
}

// diffLags writes the per-term difference function of x at the five lags
// lo…lo+4 into d: d[i] = Σ (x_j − x_{j+lo+i})² / (len(x)−lo−i).
func diffLags(d *[5]float64, x []float32, lo int) {
	n := len(x)
	common := n - lo - 4
	s0, s1, s2, s3 := sqDiff4(x[:common], x[lo:])
	s4 := sqDiff(x[:common], x[lo+4:])
	s := [5]float32{s0, s1, s2, s3, s4}
	for i := range s[:4] {
		for j := common; j < n-lo-i; j++ {
			v := x[j] - x[j+lo+i]
			s[i] += v * v
		}
	}
	for i, v := range s {
		d[i] = float64(v) / float64(n-lo-i)
	}
}

// sqDiff4 returns Σ_j (a_j − b_{j+k})² for k = 0…3, len(b) ≥ len(a)+3:
// four lags in one pass, four independent accumulators.
func sqDiff4(a, b []float32) (s0, s1, s2, s3 float32) {
	b = b[:len(a)+3]
	for j, v := range a {
		y := b[j : j+4 : j+4]
		d0, d1, d2, d3 := v-y[0], v-y[1], v-y[2], v-y[3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	return
}

// sqDiff is Σ (a_j − b_j)², len(b) ≥ len(a), in four independent
// accumulators (one would make the loop add-latency bound).
func sqDiff(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+3 < len(a); i += 4 {
		d0, d1, d2, d3 := a[i]-b[i], a[i+1]-b[i+1], a[i+2]-b[i+2], a[i+3]-b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// parabolicMin fits a parabola through (−1,a), (0,b), (1,c) and returns
// the offset of its extremum in [−1,1] and the value there.
func parabolicMin(a, b, c float64) (float64, float64) {
	den := a - 2*b + c
	if den <= 0 {
		return 0, b
	}
	delta := 0.5 * (a - c) / den
	delta = clamp(delta, -1, 1)
	return delta, b - 0.25*(a-c)*delta
}

// periodPerturbation measures local jitter and shimmer inside one pitch
// window (8 kHz). It walks the window period by period: each period's
// length is the lag in round(T)±3 that best matches the waveform of the
// period with the next one (the difference function again, with parabolic
// interpolation; waveform matching is what Praat does too, and is far less
// noise-sensitive than picking peaks of smooth waveforms), and its
// amplitude is the RMS over the period. As Praat's "local" measures:
// jitter = mean|T_i − T_{i+1}| / mean T, shimmer = mean|A_i − A_{i+1}| /
// mean A (Praat uses peak amplitudes; RMS is the robust variant). The walk
// starts half a period before the first waveform peak so that a pulse sits
// mid-period. A 40 ms window holds 2–40 periods, so this is a frame-level
// approximation of the cycle-to-cycle measures; with fewer than two
// measured periods (F0 below ~90 Hz) jitter is 0, with fewer than two
// amplitudes shimmer is 0.
func (p *pitchTracker) periodPerturbation(x []float32, period float64) (float32, float32) {
	const slack = 3
	n := len(x)
	ti := int(period + 0.5)
	if ti < 2*slack || 2*ti+slack > n {
		return 0, 0
	}
	s := argmax(x, 0, ti) - ti/2
	if s < 0 {
		s += ti
	}
	np, na := 0, 0
	for s+ti <= n && np < maxPeaks {
		p.pkA[na] = math.Sqrt(max(p.pre8[s+ti]-p.pre8[s], 0) / float64(ti))
		na++
		if s+2*ti+slack > n {
			break
		}
		// The 2·slack+1 = 7 lags in two four-lag passes (lag 3 twice).
		var d [2*slack + 1]float64
		period, next := x[s:s+ti], x[s+ti-slack:]
		d0, d1, d2, d3 := sqDiff4(period, next)
		_, d4, d5, d6 := sqDiff4(period, next[slack:])
		for i, v := range [...]float32{d0, d1, d2, d3, d4, d5, d6} {
			d[i] = float64(v)
		}
		best := 0
		for i := range d {
			if d[i] < d[best] {
				best = i
			}
		}
		L := float64(ti - slack + best)
		if best > 0 && best < 2*slack {
			delta, _ := parabolicMin(d[best-1], d[best], d[best+1])
			L += delta
		}
		p.pkT[np] = L
		np++
		s += int(L + 0.5)
	}
	var jit, shim float64
	if np >= 2 {
		var sumT, sumDT float64
		for i := 0; i < np; i++ {
			sumT += p.pkT[i]
			if i+1 < np {
				sumDT += math.Abs(p.pkT[i+1] - p.pkT[i])
			}
		}
		if sumT > 0 {
			jit = sumDT / float64(np-1) / (sumT / float64(np))
		}
	}
	if na >= 2 {
		var sumA, sumDA float64
		for i := 0; i < na; i++ {
			sumA += p.pkA[i]
			if i+1 < na {
				sumDA += math.Abs(p.pkA[i+1] - p.pkA[i])
			}
		}
		if sumA > 0 {
			shim = sumDA / float64(na-1) / (sumA / float64(na))
		}
	}
	return float32(clamp(jit, 0, 1)), float32(clamp(shim, 0, 1))
}

func argmax(x []float32, lo, hi int) int {
	if lo < 0 {
		lo = 0
	}
	best := lo
	for i := lo + 1; i < hi; i++ {
		if x[i] > x[best] {
			best = i
		}
	}
	return best
}

func clamp(v, lo, hi float64) float64 {
	if v < lo || v != v {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

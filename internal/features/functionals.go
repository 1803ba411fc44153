package features

import "math"

// Functionals follow eGeMAPS (Eyben et al., "The Geneva Minimalistic
// Acoustic Parameter Set (GeMAPS) for Voice Research and Affective
// Computing", IEEE Trans. Affective Computing 7(2), 2016), made level
// independent: loudness is taken relative to the span's own 95th
// percentile, F0 in semitones, everything else is already a ratio, a
// shape or a frequency.
//
// Per contour LLD, eight values: mean; std (for dB, log and signed
// quantities) or coefficient of variation (for positive ratios and
// frequencies); the 20th, 50th and 80th percentiles; the 20–80 range; the
// mean rising and mean falling slope (units per second, of the moving
// average over ±smoothRadius frames, as eGeMAPS smooths its LLDs). Voice-quality LLDs (F0,
// HNR, jitter, shimmer, H1−H2) use voiced frames only, and their slopes
// only within voiced segments. Log-mel bands get mean and std, MFCC deltas
// (regression over ±2 frames, in units per second) their std. Finally loudness peaks per
// second and voiced/unvoiced segment statistics.

type transform uint8

const (
	plain transform = iota
	relLoudness
	semitone
)

type contourSpec struct {
	lld    int
	name   string
	voiced bool // voiced frames only
	cv     bool // coefficient of variation rather than std
	tr     transform
}

var contourSpecs = func() []contourSpec {
	s := []contourSpec{
		{lld: LLDLoudness, name: "loudness_rel_p95_db", tr: relLoudness},
		{lld: LLDVoicingProb, name: "voicing_prob"},
	}
	for i := 0; i < NumMFCC; i++ {
		s = append(s, contourSpec{lld: LLDMFCC1 + i, name: lldNames[LLDMFCC1+i]})
	}
	for _, c := range []struct {
		lld int
		cv  bool
	}{
		{LLDRoughness, true}, {LLDFlux, true}, {LLDCentroid, true}, {LLDRolloff, true},
		{LLDFlatness, true}, {LLDSlope0_500, false}, {LLDSlope500_1500, false},
		{LLDAlphaRatio, false}, {LLDHammarberg, false}, {LLDEnergyRatio1k4k, true},
		{LLDEnergyRatio4k8k, true}, {LLDZCR, true},
	} {
		s = append(s, contourSpec{lld: c.lld, name: lldNames[c.lld], cv: c.cv})
	}
	s = append(s,
		contourSpec{lld: LLDF0, name: "f0_semitone", voiced: true, tr: semitone},
		contourSpec{lld: LLDHNR, name: "hnr_db", voiced: true},
		contourSpec{lld: LLDJitter, name: "jitter_local", voiced: true, cv: true},
		contourSpec{lld: LLDShimmer, name: "shimmer_local", voiced: true, cv: true},
		contourSpec{lld: LLDH1H2, name: "h1_h2_db", voiced: true},
	)
	return s
}()

const (
	perContour     = 8
	numContours    = 2 + NumMFCC + 12 + 5
	numTemporal    = 7
	NumFunctionals = numContours*perContour + 2*NumMel + NumMFCC + numTemporal
)

var functionalNames = func() []string {
	var n []string
	for _, c := range contourSpecs {
		spread := "_std"
		if c.cv {
			spread = "_cv"
		}
		for _, suf := range []string{"_mean", spread, "_p20", "_p50", "_p80", "_range20_80", "_rise_slope", "_fall_slope"} {
			n = append(n, c.name+suf)
		}
	}
	for b := 0; b < NumMel; b++ {
		n = append(n, lldNames[LLDLogMel0+b]+"_mean", lldNames[LLDLogMel0+b]+"_std")
	}
	for k := 0; k < NumMFCC; k++ {
		n = append(n, "delta_"+lldNames[LLDMFCC1+k]+"_std")
	}
	n = append(n, "loudness_peaks_per_s", "voiced_segments_per_s",
		"voiced_segment_len_mean_s", "voiced_segment_len_std_s",
		"unvoiced_segment_len_mean_s", "unvoiced_segment_len_std_s", "voiced_ratio")
	if len(n) != NumFunctionals || len(contourSpecs) != numContours {
		panic("features: functional name table out of date")
	}
	return n
}()

// FunctionalNames returns the name of each functional (a new slice).
func FunctionalNames() []string { return append([]string(nil), functionalNames...) }

// Summarizer computes functionals; it keeps scratch space so that repeated
// calls allocate nothing once it has seen the longest span.
type Summarizer struct {
	col    []float32
	newRun []bool
	sorted []float32
	smooth []float32
	voiced []bool
}

// NewSummarizer returns a Summarizer with empty scratch.
func NewSummarizer() *Summarizer { return &Summarizer{} }

const frameSeconds = float32(HopSize) / SampleRate

// smoothRadius is the half-width, in frames, of the moving average the
// slopes and the loudness peaks are taken on: ±20 ms rounded to frames
// (±1 frame, a 3-frame average at the 20 ms hop), at least 1.
const smoothRadius = max(1, (SampleRate/50+HopSize/2)/HopSize)

// loudnessRangeDB clamps loudness relative to the span's 95th percentile:
// anything quieter is silence, and digital silence (at the power floor
// whatever the gain) must not make the functionals level dependent.
const loudnessRangeDB = -60

// loudnessPeakDB is the prominence (on both sides) a loudness maximum
// needs to count as a peak.
const loudnessPeakDB = 3

// Functionals summarises the LLD frames in llds (flat, NumLLD each; a
// trailing partial frame is ignored) into NumFunctionals values appended
// to dst. Zero frames give zeros.
func (s *Summarizer) Functionals(dst []float32, llds []float32) []float32 {
	n := len(llds) / NumLLD
	off := len(dst)
	dst = append(dst, zeroFunctionals[:]...)
	out := dst[off:]
	if n == 0 {
		return dst
	}
	s.col = grow(s.col, n)
	s.sorted = grow(s.sorted, n)
	s.smooth = grow(s.smooth, n)
	if cap(s.newRun) < n {
		s.newRun = make([]bool, n)
		s.voiced = make([]bool, n)
	}
	s.newRun, s.voiced = s.newRun[:n], s.voiced[:n]
	nVoiced := 0
	for t := 0; t < n; t++ {
		s.voiced[t] = llds[t*NumLLD+LLDF0] > 0
		if s.voiced[t] {
			nVoiced++
		}
	}

	// Loudness reference: the span's 95th percentile.
	for t := 0; t < n; t++ {
		s.sorted[t] = llds[t*NumLLD+LLDLoudness]
	}
	var ref [1]float32
	percentiles(ref[:], s.sorted[:n], 0.95)
	loudRef := ref[0]

	o := 0
	for _, c := range contourSpecs {
		m := 0
		prevIn := false
		for t := 0; t < n; t++ {
			in := !c.voiced || s.voiced[t]
			if in {
				v := llds[t*NumLLD+c.lld]
				switch c.tr {
				case relLoudness:
					v = max(v-loudRef, loudnessRangeDB)
				case semitone:
					v = 12 * log2f(v*(1/27.5))
				}
				s.col[m] = v
				s.newRun[m] = !prevIn
				m++
			}
			prevIn = in
		}
		s.contour(out[o:o+perContour], m, c.cv)
		o += perContour
	}

	// Log-mel means and stds, frame-major (one pass over the frames).
	var melSum, melSq [NumMel]float64
	for t := 0; t < n; t++ {
		fr := llds[t*NumLLD+LLDLogMel0 : t*NumLLD+LLDLogMel0+NumMel]
		for b, v := range fr {
			melSum[b] += float64(v)
			melSq[b] += float64(v) * float64(v)
		}
	}
	for b := range NumMel {
		mean := melSum[b] / float64(n)
		out[o] = float32(mean)
		out[o+1] = float32(math.Sqrt(math.Max(melSq[b]/float64(n)-mean*mean, 0)))
		o += 2
	}

	// Delta MFCC by linear regression over ±2 frames (HTK's formula,
	// edges replicated), per second so that it does not depend on the
	// hop, summarised by its std.
	var dSum, dSq [NumMFCC]float64
	for t := 0; t < n; t++ {
		row := func(dt int) []float32 {
			i := min(max(t+dt, 0), n-1)*NumLLD + LLDMFCC1
			return llds[i : i+NumMFCC]
		}
		m2, m1, p1, p2 := row(-2), row(-1), row(1), row(2)
		for k := range NumMFCC {
			d := float64((p1[k]-m1[k])+2*(p2[k]-m2[k])) * (1 / (10 * float64(frameSeconds)))
			dSum[k] += d
			dSq[k] += d * d
		}
	}
	for k := range NumMFCC {
		mean := dSum[k] / float64(n)
		out[o] = float32(math.Sqrt(math.Max(dSq[k]/float64(n)-mean*mean, 0)))
		o++
	}

	// Loudness peaks per second, on the smoothed relative loudness.
	for t := 0; t < n; t++ {
		s.col[t] = llds[t*NumLLD+LLDLoudness]
		s.newRun[t] = t == 0
	}
	smoothRuns(s.smooth[:n], s.col[:n], s.newRun[:n])
	dur := float32(n) * frameSeconds
	out[o] = float32(countPeaks(s.smooth[:n], loudnessPeakDB)) / dur
	o++

	// Voiced/unvoiced segments.
	var vs, us runStats
	runLen := 0
	for t := 0; t < n; t++ {
		runLen++
		if t == n-1 || s.voiced[t+1] != s.voiced[t] {
			if s.voiced[t] {
				vs.add(float64(runLen) * float64(frameSeconds))
			} else {
				us.add(float64(runLen) * float64(frameSeconds))
			}
			runLen = 0
		}
	}
	out[o] = float32(vs.n) / dur
	out[o+1], out[o+2] = vs.meanStd()
	out[o+3], out[o+4] = us.meanStd()
	out[o+5] = float32(nVoiced) / float32(n)
	return dst
}

var zeroFunctionals [NumFunctionals]float32

// contour writes the eight contour functionals of s.col[:m].
func (s *Summarizer) contour(out []float32, m int, cv bool) {
	if m == 0 {
		return
	}
	col := s.col[:m]
	var sum, sq float64
	for _, v := range col {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	mean := sum / float64(m)
	std := math.Sqrt(math.Max(sq/float64(m)-mean*mean, 0))
	out[0] = float32(mean)
	if cv {
		if math.Abs(mean) > 1e-12 {
			out[1] = float32(std / math.Abs(mean))
		}
	} else {
		out[1] = float32(std)
	}
	sorted := s.sorted[:m]
	copy(sorted, col)
	percentiles(out[2:5], sorted, 0.2, 0.5, 0.8)
	out[5] = out[4] - out[2]

	sm := s.smooth[:m]
	smoothRuns(sm, col, s.newRun[:m])
	// Differences per frame, turned into per second once at the end.
	var rise, fall float32
	var nRise, nFall int
	newRun := s.newRun[:m]
	// Branch-free: a contour's rises and falls alternate unpredictably.
	for t := 1; t < m; t++ {
		if newRun[t] {
			continue
		}
		d := sm[t] - sm[t-1]
		abs := math.Float32frombits(math.Float32bits(d) &^ (1 << 31))
		up, down := (abs+d)*0.5, (abs-d)*0.5 // exactly max(d, 0), max(−d, 0)
		rise += up
		fall += down
		nRise += nonZero(up)
		nFall += nonZero(down)
	}
	if nRise > 0 {
		out[6] = rise / (float32(nRise) * frameSeconds)
	}
	if nFall > 0 {
		out[7] = fall / (float32(nFall) * frameSeconds)
	}
}

// nonZero is 1 for a positive x, 0 for +0 (x ≥ 0).
func nonZero(x float32) int { return int((uint64(math.Float32bits(x)) + 0x7fffffff) >> 31) }

// smoothRuns is a moving average over ±smoothRadius frames that does not
// cross run starts (it shrinks at a run's ends).
func smoothRuns(dst, x []float32, newRun []bool) {
	m := len(x)
	if smoothRadius == 1 {
		dst, newRun = dst[:m], newRun[:m]
		for t := range dst {
			sum, k := x[t], float32(1)
			if t > 0 && !newRun[t] {
				sum += x[t-1]
				k++
			}
			if t+1 < m && !newRun[t+1] {
				sum += x[t+1]
				k++
			}
			dst[t] = sum / k
		}
		return
	}
	smoothRunsRadius(dst, x, newRun, smoothRadius)
}

// smoothRunsRadius is smoothRuns for any radius r ≥ 1 (the general path,
// for hops other than 20 ms).
func smoothRunsRadius(dst, x []float32, newRun []bool, r int) {
	m := len(x)
	for t := 0; t < m; t++ {
		sum, k := x[t], float32(1)
		for j := t; j > t-r && j > 0 && !newRun[j]; j-- {
			sum += x[j-1]
			k++
		}
		for j := t + 1; j <= t+r && j < m && !newRun[j]; j++ {
			sum += x[j]
			k++
		}
		dst[t] = sum / k
	}
}

// countPeaks counts maxima that rise at least delta above the preceding
// minimum and fall at least delta below themselves afterwards.
func countPeaks(x []float32, delta float32) int {
	peaks := 0
	seekingPeak := false
	lo, hi := x[0], x[0]
	for _, v := range x[1:] {
		if seekingPeak {
			if v > hi {
				hi = v
			}
			if hi-v >= delta {
				peaks++
				seekingPeak = false
				lo = v
			}
		} else {
			if v < lo {
				lo = v
			}
			if v-lo >= delta {
				seekingPeak = true
				hi = v
			}
		}
	}
	return peaks
}

// percentile of sorted data, linearly interpolated (the reference for
// percentiles, used in tests).
func percentile(sorted []float32, p float64) float32 {
	if len(sorted) == 0 {
		return 0
	}
	pos := p * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	fr := float32(pos - float64(i))
	return sorted[i] + fr*(sorted[i+1]-sorted[i])
}

type runStats struct {
	n       int
	sum, sq float64
}

func (r *runStats) add(v float64) { r.n++; r.sum += v; r.sq += v * v }

func (r *runStats) meanStd() (float32, float32) {
	if r.n == 0 {
		return 0, 0
	}
	mean := r.sum / float64(r.n)
	return float32(mean), float32(math.Sqrt(math.Max(r.sq/float64(r.n)-mean*mean, 0)))
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

package features

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// warm is the frames until the 128 ms roughness window (which ends 20 ms
// past a frame's centre) is full of signal: 128 ms / 20 ms, rounded up, +1.
const warm = 8

func TestNames(t *testing.T) {
	if got := len(LLDNames()); got != NumLLD {
		t.Fatalf("LLDNames: %d names, NumLLD = %d", got, NumLLD)
	}
	names := FunctionalNames()
	if len(names) != NumFunctionals || NumFunctionals < 200 || NumFunctionals > 450 {
		t.Fatalf("NumFunctionals = %d, names %d; want 200–450", NumFunctionals, len(names))
	}
	seen := map[string]bool{}
	for _, n := range append(names, LLDNames()...) {
		if n == "" || (seen[n] && !slices.Contains(LLDNames(), n)) {
			t.Fatalf("empty or duplicate name %q", n)
		}
		seen[n] = true
	}
}

func TestMelFilterbank(t *testing.T) {
	prevCenter := -1.0
	for b, band := range tab.mel {
		if len(band.w) == 0 {
			t.Fatalf("band %d empty", b)
		}
		// The weighted centre must increase with the band index.
		var s, sw float64
		for i, w := range band.w {
			s += float64(w) * float64(band.start+i)
			sw += float64(w)
		}
		c := s / sw * float64(binHz)
		if c <= prevCenter {
			t.Fatalf("band %d centre %.1f Hz not above %.1f", b, c, prevCenter)
		}
		prevCenter = c
	}
	// The one-pass filterbank the Frontend uses (melSeg, melUp, melDown)
	// is the same as the sparse triangles: compare on random powers.
	r := rand.New(rand.NewPCG(8, 8))
	var pw [numBins]float64
	for k := range pw {
		pw[k] = r.ExpFloat64()
	}
	var onePass [NumMel + 1]float64
	for j := 0; j <= NumMel; j++ {
		for k := tab.melSeg[j]; k < tab.melSeg[j+1]; k++ {
			if j < NumMel {
				onePass[j+1] += float64(tab.melUp[k]) * pw[k]
			}
			onePass[j] += float64(tab.melDown[k]) * pw[k]
		}
	}
	for b, band := range tab.mel {
		var e float64
		for i, w := range band.w {
			e += float64(w) * pw[band.start+i]
		}
		if math.Abs(e-onePass[b+1]) > 1e-5*e {
			t.Fatalf("band %d: one-pass energy %.6g, triangles %.6g", b, onePass[b+1], e)
		}
	}
	// HTK mel: 1000 Hz is 1000 mel, so with 40 bands over mel(20)…mel(8000)
	// a 1 kHz tone lands in band (1000−mel(20))/Δ − 1.
	fr := frames(tone(1000, 0.5, SampleRate))
	lo, hi := 2595*math.Log10(1+20.0/700), 2595*math.Log10(1+8000.0/700)
	want := int(math.Round((1000-lo)/((hi-lo)/(NumMel+1)))) - 1
	f := fr[len(fr)/2]
	best := 0
	for b := 1; b < NumMel; b++ {
		if f[LLDLogMel0+b] > f[LLDLogMel0+best] {
			best = b
		}
	}
	if best != want && best != want+1 && best != want-1 {
		t.Fatalf("1 kHz tone peaks in mel band %d, want %d±1", best, want)
	}
}

func TestF0Tones(t *testing.T) {
	for _, hz := range []float64{65, 110, 220, 440, 800, 990} {
		fr := frames(tone(hz, 0.3, SampleRate))
		for i, v := range column(fr, LLDF0, 4) {
			if math.Abs(v-hz) > 1 {
				t.Fatalf("%.0f Hz tone: frame %d F0 = %.2f Hz, want ±1", hz, i+4, v)
			}
		}
		if vp := mean(column(fr, LLDVoicingProb, 4)); vp < 0.9 {
			t.Errorf("%.0f Hz tone: voicing probability %.2f, want > 0.9", hz, vp)
		}
	}
}

func TestF0Harmonic(t *testing.T) {
	// A 150 Hz source with 1/h harmonics (missing nothing) and one with a
	// weak fundamental: YIN must not jump an octave.
	for _, amps := range [][]float64{{1, .5, .33, .25, .2, .17}, {0.2, 1, 0.8, 0.5}} {
		fr := frames(harmonicTone(150, amps, SampleRate))
		for i, v := range column(fr, LLDF0, 4) {
			if math.Abs(v-150) > 1 {
				t.Fatalf("harmonics %v: frame %d F0 = %.2f Hz, want 150±1", amps, i+4, v)
			}
		}
	}
}

func TestWhiteNoiseUnvoiced(t *testing.T) {
	fr := frames(whiteNoise(0.1, 2*SampleRate, 1))
	voiced := 0
	for _, v := range column(fr, LLDF0, 0) {
		if v > 0 {
			voiced++
		}
	}
	if frac := float64(voiced) / float64(len(fr)); frac > 0.03 {
		t.Fatalf("white noise: %.1f %% of frames voiced, want ≤ 3 %%", 100*frac)
	}
}

func TestHNR(t *testing.T) {
	// Tone + white noise at SNR s. The 16→8 kHz half-band keeps
	// Σh² = 420/1024 of white noise power and all of a 220 Hz tone, so
	// the measured HNR is s + 10·log10(1024/420) = s + 3.87 dB.
	for _, snr := range []float64{0, 10, 20} {
		sig := tone(220, 0.3, 2*SampleRate)
		noiseAmp := 0.3 / math.Sqrt2 / math.Pow(10, snr/20)
		n := whiteNoise(noiseAmp, len(sig), 3)
		for i := range sig {
			sig[i] += n[i]
		}
		got := mean(column(frames(sig), LLDHNR, 4))
		if want := snr + 3.87; math.Abs(got-want) > 1.5 {
			t.Errorf("SNR %.0f dB: HNR %.2f dB, want %.2f ± 1.5", snr, got, want)
		}
	}
	if got := mean(column(frames(tone(220, 0.3, SampleRate)), LLDHNR, 4)); got < 35 {
		t.Errorf("clean tone HNR %.1f dB, want > 35", got)
	}
}

func TestJitterShimmer(t *testing.T) {
	// Alternating 4.9/5.1 ms periods: |ΔT| = 0.2 ms every period, mean
	// 5 ms → local jitter 0.04. Alternating heights 0.3/0.24: |ΔA| = 0.06,
	// mean 0.27 → local shimmer 0.222.
	sig := pulses([]float64{0.0049, 0.0051}, []float64{0.3}, SampleRate)
	fr := frames(sig)
	if j := mean(column(fr, LLDJitter, 4)); math.Abs(j-0.04) > 0.008 {
		t.Errorf("jitter = %.4f, want 0.04 ± 0.008", j)
	}
	if s := mean(column(fr, LLDShimmer, 4)); s > 0.02 {
		t.Errorf("constant amplitude: shimmer = %.4f, want < 0.02", s)
	}
	sig = pulses([]float64{0.005}, []float64{0.3, 0.24}, SampleRate)
	fr = frames(sig)
	if s := mean(column(fr, LLDShimmer, 4)); math.Abs(s-0.2222) > 0.03 {
		t.Errorf("shimmer = %.4f, want 0.222 ± 0.03", s)
	}
	if j := mean(column(fr, LLDJitter, 4)); j > 0.01 {
		t.Errorf("constant period: jitter = %.4f, want < 0.01", j)
	}
	fr = frames(tone(220, 0.3, SampleRate))
	if j, s := mean(column(fr, LLDJitter, 4)), mean(column(fr, LLDShimmer, 4)); j > 0.005 || s > 0.01 {
		t.Errorf("pure tone: jitter %.4f shimmer %.4f, want ≈ 0", j, s)
	}
	// A smooth glottal-like waveform (1/h² harmonics) in noise at 30 dB
	// SNR has no jitter; waveform matching must not invent any (picking
	// the rounded peaks of this waveform gave 4–12 %).
	var amps []float64
	for h := 1; h <= 20; h++ {
		amps = append(amps, 0.2/float64(h*h))
	}
	sig = harmonicTone(180, amps, SampleRate)
	noise := whiteNoise(0.2*0.03, len(sig), 21)
	for i := range sig {
		sig[i] += noise[i]
	}
	fr = frames(sig)
	if j, s := mean(column(fr, LLDJitter, 4)), mean(column(fr, LLDShimmer, 4)); j > 0.01 || s > 0.03 {
		t.Errorf("1/h² source in noise: jitter %.4f shimmer %.4f, want < 0.01, < 0.03", j, s)
	}
}

func TestRoughness(t *testing.T) {
	// Envelope (1+cos)/2 of a 70 Hz AM tone: DC power 1, 70 Hz power 1/2
	// (one-sided), so E(30–150 Hz)/E(all) = 1/3 (less a little for the
	// 2 ms RMS blocks, which average the envelope).
	rough := mean(column(frames(amTone(1000, 70, 1, SampleRate)), LLDRoughness, warm))
	if rough < 0.27 || rough > 0.36 {
		t.Errorf("70 Hz AM: roughness %.3f, want ≈ 1/3", rough)
	}
	if r := mean(column(frames(tone(1000, 0.3, SampleRate)), LLDRoughness, warm)); r > 0.01 {
		t.Errorf("unmodulated tone: roughness %.3f, want ≈ 0", r)
	}
	if r := mean(column(frames(amTone(1000, 4, 1, SampleRate)), LLDRoughness, warm)); r > 0.03 {
		t.Errorf("4 Hz AM: roughness %.3f, want ≈ 0", r)
	}
	if r := mean(column(frames(tone(220, 0.3, SampleRate)), LLDRoughness, warm)); r > 0.02 {
		t.Errorf("220 Hz tone: roughness %.3f, want ≈ 0", r)
	}
}

func TestSpectralTone(t *testing.T) {
	fr := frames(tone(1000, 0.3, SampleRate))
	check := func(name string, i int, want, tol float64) {
		t.Helper()
		if got := mean(column(fr, i, 4)); math.Abs(got-want) > tol {
			t.Errorf("1 kHz tone: %s = %.3f, want %.3f ± %.3f", name, got, want, tol)
		}
	}
	check("centroid", LLDCentroid, 1000, 20)
	check("rolloff", LLDRolloff, 1000, 32)
	check("zcr", LLDZCR, 2000, 40) // two crossings per period
	check("flux", LLDFlux, 0, 1e-4)
	if f := mean(column(fr, LLDFlatness, 4)); f > 0.05 {
		t.Errorf("tone flatness %.3f, want ≈ 0", f)
	}
	// A 10 dB gain moves loudness_db by 10 dB and nothing else, even for
	// a pure digital tone (relative floors keep rounding noise out).
	fr2 := frames(tone(1000, 0.3*math.Sqrt(10), SampleRate))
	for i := range NumLLD {
		mid := len(fr) / 2
		d := float64(fr2[mid][i] - fr[mid][i])
		want := 0.0
		if i == LLDLoudness {
			want = 10
		}
		if math.Abs(d-want) > 0.01*math.Max(1, math.Abs(float64(fr[mid][i]))) {
			t.Errorf("+10 dB: %s moved by %.4f, want %.1f", lldNames[i], d, want)
		}
	}
}

func TestSpectralWhiteNoise(t *testing.T) {
	fr := frames(whiteNoise(0.1, 2*SampleRate, 5))
	check := func(name string, i int, want, tol float64) {
		t.Helper()
		if got := mean(column(fr, i, 4)); math.Abs(got-want) > tol {
			t.Errorf("white noise: %s = %.3f, want %.3f ± %.3f", name, got, want, tol)
		}
	}
	// Flat spectrum: power fractions are bandwidth fractions.
	check("energy 1–4 kHz", LLDEnergyRatio1k4k, 3.0/8, 0.02)
	check("energy 4–8 kHz", LLDEnergyRatio4k8k, 4.0/8, 0.02)
	check("centroid", LLDCentroid, 4000, 100)
	check("rolloff", LLDRolloff, 0.85*8000, 150)
	// 30 bins (62.5–1000 Hz) against 128 (1–5 kHz).
	check("alpha ratio", LLDAlphaRatio, 10*math.Log10(30.0/128), 0.5)
	check("slope 0–500", LLDSlope0_500, 0, 4)
	check("slope 500–1500", LLDSlope500_1500, 0, 1.5)
	check("hammarberg", LLDHammarberg, 0, 2)
	// ZCR of white noise is half the sample rate (P(sign change) = 1/2).
	check("zcr", LLDZCR, SampleRate/2, 300)
	if f := mean(column(fr, LLDFlatness, 4)); f < 0.75 {
		t.Errorf("white noise flatness %.3f, want close to 1", f)
	}
}

func TestH1H2(t *testing.T) {
	// H2 at half H1's amplitude: H1−H2 = 20·log10 2 = 6.02 dB.
	fr := frames(harmonicTone(200, []float64{0.3, 0.15}, SampleRate))
	if got := mean(column(fr, LLDH1H2, 4)); math.Abs(got-6.02) > 0.5 {
		t.Errorf("H1−H2 = %.2f dB, want 6.02", got)
	}
}

func TestSlopes(t *testing.T) {
	// White noise through a one-pole low-pass with its pole at 0.9, whose
	// power response is 1/|1−0.9e^{−jω}|² = 1/(1.81 − 1.8 cos ω): the
	// measured slopes must match the regression of that exact response
	// over the same bins.
	x := whiteNoise(0.1, 2*SampleRate, 11)
	var y float32
	for i, v := range x {
		y = 0.9*y + v
		x[i] = y * 0.1
	}
	fr := frames(x)
	for _, r := range []*bandRegression{&tab.slopeLo, &tab.slopeHi} {
		var sxy float64
		for i, xk := range r.x {
			w := 2 * math.Pi * float64(r.lo+i) * float64(binHz) / SampleRate
			p := 1 / (1.81 - 1.8*math.Cos(w))
			sxy += float64(xk) * 10 * math.Log10(p)
		}
		want := sxy * float64(r.invSxx)
		idx := LLDSlope0_500
		if r == &tab.slopeHi {
			idx = LLDSlope500_1500
		}
		if got := mean(column(fr, idx, 4)); math.Abs(got-want) > 0.15*math.Abs(want)+1 {
			t.Errorf("%s = %.2f dB/kHz, want %.2f", lldNames[idx], got, want)
		}
	}
}

func TestFunctionalsKnown(t *testing.T) {
	fun := Extract(tone(220, 0.3, 2*SampleRate))
	get := func(n string) float64 { return float64(fun[functionalIndex(n)]) }
	// 12·log2(220/27.5) = 36 semitones.
	if v := get("f0_semitone_p50"); math.Abs(v-36) > 0.05 {
		t.Errorf("f0_semitone_p50 = %.3f, want 36", v)
	}
	if v := get("voiced_ratio"); v < 0.95 {
		t.Errorf("voiced_ratio = %.3f, want ≈ 1", v)
	}
	// 0.5 s tone bursts separated by 0.5 s of silence: one voiced segment
	// per second, each 0.5 s long.
	var bursts []float32
	for i := 0; i < 4; i++ {
		bursts = append(bursts, tone(220, 0.3, SampleRate/2)...)
		bursts = append(bursts, make([]float32, SampleRate/2)...)
	}
	fun = Extract(bursts)
	if v := get("voiced_segments_per_s"); math.Abs(v-1) > 0.15 {
		t.Errorf("voiced_segments_per_s = %.3f, want 1", v)
	}
	if v := get("voiced_segment_len_mean_s"); math.Abs(v-0.5) > 0.05 {
		t.Errorf("voiced_segment_len_mean_s = %.3f, want 0.5", v)
	}
	if v := get("unvoiced_segment_len_mean_s"); math.Abs(v-0.5) > 0.06 {
		t.Errorf("unvoiced_segment_len_mean_s = %.3f, want 0.5", v)
	}
	if v := get("loudness_peaks_per_s"); math.Abs(v-1) > 0.3 {
		t.Errorf("loudness_peaks_per_s = %.3f, want ≈ 1", v)
	}
	// The loudest 5 % are the tone, so its median relative loudness is 0.
	if v := get("loudness_rel_p95_db_p80"); math.Abs(v) > 0.5 {
		t.Errorf("loudness_rel_p95_db_p80 = %.3f, want 0", v)
	}
}

func TestLevelInvariance(t *testing.T) {
	// A scream-like signal too: 700 Hz harmonic source, rough (70 Hz AM),
	// in noise.
	scream := harmonicTone(700, []float64{0.1, 0.06, 0.04, 0.02}, 2*SampleRate)
	am := amTone(1, 70, 0.8, len(scream)) // carrier 1 Hz: a slow sine times the AM envelope
	noise := whiteNoise(0.005, len(scream), 12)
	for i := range scream {
		scream[i] = scream[i]*(0.6+float32(math.Abs(float64(am[i])))*3) + noise[i]
	}
	for name, x := range map[string][]float32{"voiceLike": voiceLike(4 * SampleRate), "scream": scream} {
		ref := Extract(x)
		for _, g := range []float32{0.05, 5} {
			got := Extract(scaled(x, g))
			bad := 0
			worst, worstI := 0.0, 0
			for i := range ref {
				a, b := float64(ref[i]), float64(got[i])
				dev := math.Abs(a-b) / (0.02*math.Max(math.Abs(a), math.Abs(b)) + 1e-3)
				if dev > worst {
					worst, worstI = dev, i
				}
				if dev > 1 {
					if bad < 10 {
						t.Errorf("%s gain %g: %s = %.5g, at unit gain %.5g", name, g, functionalNames[i], b, a)
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%s gain %g: %d of %d functionals moved", name, g, bad, NumFunctionals)
			}
			t.Logf("%s gain %g: worst %s at %.2f of tolerance", name, g, functionalNames[worstI], worst)
		}
		if name == "voiceLike" {
			// The test signal must exercise the voice functionals at all.
			if v := ref[functionalIndex("voiced_ratio")]; v < 0.3 || v > 0.9 {
				t.Fatalf("voiceLike voiced_ratio = %.2f, want partly voiced", v)
			}
		}
	}
}

func finite(t *testing.T, what string, v []float32, names []string) {
	t.Helper()
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("%s: %s = %v", what, names[i%len(names)], x)
		}
	}
}

func TestNoNaN(t *testing.T) {
	impulse := make([]float32, SampleRate)
	impulse[8000] = 1
	square := make([]float32, SampleRate)
	for i := range square {
		square[i] = 1
		if (i/40)%2 == 1 {
			square[i] = -1
		}
	}
	cases := map[string][]float32{
		"zeros":     make([]float32, 2*SampleRate),
		"tiny":      scaled(whiteNoise(1, SampleRate, 2), 1e-30),
		"denormal":  scaled(tone(200, 1, SampleRate), 1e-39),
		"impulse":   impulse,
		"square":    square,
		"dc":        scaled(make([]float32, SampleRate), 0),
		"empty":     nil,
		"short":     tone(300, 0.5, 300),
		"one_frame": tone(300, 0.5, HopSize),
	}
	for i := range cases["dc"] {
		cases["dc"][i] = 0.5
	}
	hostile := tone(200, 0.5, SampleRate)
	for i := 0; i < len(hostile); i += 97 {
		hostile[i] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -3e38}[i%5]
	}
	cases["hostile"] = hostile
	for name, x := range cases {
		finite(t, name+" LLD", NewFrontend().Write(nil, x), lldNames)
		f := Extract(x)
		if len(f) != NumFunctionals {
			t.Fatalf("%s: %d functionals", name, len(f))
		}
		finite(t, name+" functionals", f, functionalNames)
		finite(t, name+" MeanMFCC40", MeanMFCC40(x), make([]string, 40))
	}
}

func TestStreamingChunks(t *testing.T) {
	x := voiceLike(SampleRate)
	want := NewFrontend().Write(nil, x)
	if n := len(want) / NumLLD; n != len(x)/HopSize || n != FrameRate {
		t.Fatalf("%d frames from %d samples", n, len(x))
	}
	r := rand.New(rand.NewPCG(4, 4))
	f := NewFrontend()
	for trial := 0; trial < 3; trial++ {
		f.Reset()
		var got []float32
		for rest := x; len(rest) > 0; {
			n := min(r.IntN(700), len(rest))
			got = f.Write(got, rest[:n])
			rest = rest[n:]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: chunked Write differs from one Write", trial)
		}
	}
}

func TestFrontendNoAllocs(t *testing.T) {
	f := NewFrontend()
	x := voiceLike(SampleRate)
	dst := make([]float32, 0, 200*NumLLD)
	allocs := testing.AllocsPerRun(20, func() {
		f.Reset()
		dst = f.Write(dst[:0], x)
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per Write", allocs)
	}
	s := NewSummarizer()
	out := make([]float32, 0, NumFunctionals)
	s.Functionals(out, dst)
	if a := testing.AllocsPerRun(20, func() { s.Functionals(out[:0], dst) }); a != 0 {
		t.Fatalf("%.1f allocations per warm Functionals", a)
	}
	if b := f.StateBytes(); b > 64<<10 {
		t.Fatalf("StateBytes = %d, want ≤ 64 KiB", b)
	}
}

func TestMeanMFCC40(t *testing.T) {
	x := voiceLike(2 * SampleRate)
	a, b := MeanMFCC40(x), MeanMFCC40(scaled(x, 10))
	// ×10 is +20 dB in every mel band; with the ortho DCT that moves only
	// c0, by 20·√128 (top_db clipping is relative, so it moves too).
	if d := float64(b[0] - a[0]); math.Abs(d-20*math.Sqrt(128)) > 0.5 {
		t.Errorf("c0 moved by %.2f, want %.2f", d, 20*math.Sqrt(128))
	}
	for k := 1; k < 40; k++ {
		if math.Abs(float64(b[k]-a[k])) > 0.05 {
			t.Errorf("c%d moved by %.3f under gain", k, b[k]-a[k])
		}
	}
	// A low tone has a strongly positive c1 (energy in the low bands),
	// white noise a negative one with Slaney-normalised bands.
	if lo, hi := MeanMFCC40(tone(200, 0.3, SampleRate)), MeanMFCC40(whiteNoise(0.1, SampleRate, 1)); lo[1] <= hi[1] {
		t.Errorf("c1: 200 Hz tone %.1f, white noise %.1f; want tone > noise", lo[1], hi[1])
	}
}

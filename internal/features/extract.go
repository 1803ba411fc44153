package features

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/dsp/fourier"
)

// extractor is what Extract reuses between calls: a Frontend, a
// Summarizer and the LLD buffer (so that a warm Extract allocates only its
// result).
type extractor struct {
	f    *Frontend
	s    *Summarizer
	llds []float32
}

var extractorPool = sync.Pool{New: func() any {
	return &extractor{f: NewFrontend(), s: NewSummarizer()}
}}

// Extract is Frontend+Functionals over a whole clip (16 kHz mono): it
// returns NumFunctionals values. A clip shorter than one hop (20 ms)
// yields zeros. The trailing < 20 ms that does not complete a frame is not
// analysed.
func Extract(samples []float32) []float32 {
	x := extractorPool.Get().(*extractor)
	defer extractorPool.Put(x)
	x.f.Reset()
	if need := (len(samples)/HopSize + 1) * NumLLD; cap(x.llds) < need {
		x.llds = make([]float32, 0, need)
	}
	x.llds = x.f.Write(x.llds[:0], samples)
	out := x.s.Functionals(make([]float32, 0, NumFunctionals), x.llds)
	// A pooled buffer sized by one very long clip is not kept.
	if cap(x.llds) > 10*60*FrameRate*NumLLD {
		x.llds = nil
	}
	return out
}

// The prototype's recipe, librosa.feature.mfcc(y, sr=22050, n_mfcc=40)
// with its defaults (librosa 0.10: n_fft 2048, hop 512, centred frames
// zero-padded, Hann, power spectrum, 128 Slaney-scale mel bands with
// Slaney area normalisation, power_to_db with ref 1, amin 1e-10, top_db
// 80, DCT-II ortho), averaged over frames. The frame lengths are scaled
// to 16 kHz keeping their durations (93 ms → 1536 points, 23 ms → 372),
// so values are close to, not identical with, librosa's.
const (
	protoNFFT  = 1536
	protoHop   = 372
	protoMels  = 128
	protoMFCCs = 40
)

var protoTables = sync.OnceValue(func() (t struct {
	window []float64
	mel    [][]float64 // [band][bin − melLo[band]], the nonzero span
	melLo  []int
	dct    [][]float64
}) {
	t.window = make([]float64, protoNFFT)
	for i := range t.window {
		t.window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/protoNFFT)
	}
	// Slaney's Auditory Toolbox mel scale: linear to 1 kHz, log above.
	const fSp, minLogHz, minLogMel = 200.0 / 3, 1000.0, 15.0
	logStep := math.Log(6.4) / 27
	hzToMel := func(f float64) float64 {
		if f < minLogHz {
			return f / fSp
		}
		return minLogMel + math.Log(f/minLogHz)/logStep
	}
	melToHz := func(m float64) float64 {
		if m < minLogMel {
			return m * fSp
		}
		return minLogHz * math.Exp(logStep*(m-minLogMel))
	}
	nb := protoNFFT/2 + 1
	pts := make([]float64, protoMels+2)
	top := hzToMel(SampleRate / 2)
	for i := range pts {
		pts[i] = melToHz(top * float64(i) / (protoMels + 1))
	}
	t.mel = make([][]float64, protoMels)
	t.melLo = make([]int, protoMels)
	for b := range t.mel {
		lo, c, hi := pts[b], pts[b+1], pts[b+2]
		norm := 2 / (hi - lo)
		first := -1
		var row []float64
		for k := 0; k < nb; k++ {
			f := float64(k) * SampleRate / protoNFFT
			w := math.Min((f-lo)/(c-lo), (hi-f)/(hi-c))
			if w > 0 {
				if first < 0 {
					first = k
				}
				row = append(row, w*norm)
			} else if first >= 0 {
				break
			}
		}
		t.mel[b], t.melLo[b] = row, max(first, 0)
	}
	t.dct = make([][]float64, protoMFCCs)
	for k := range t.dct {
		row := make([]float64, protoMels)
		s := math.Sqrt(2.0 / protoMels)
		if k == 0 {
			s = math.Sqrt(1.0 / protoMels)
		}
		for b := range row {
			row[b] = s * math.Cos(math.Pi*float64(k)*(float64(b)+0.5)/protoMels)
		}
		t.dct[k] = row
	}
	return t
})

// MeanMFCC40 is the prototype's recipe (librosa-style 40 MFCCs averaged
// over time), kept only to measure the baseline. Unlike Extract it is
// level dependent (c0 is the absolute level), as the prototype was.
// Empty input gives 40 zeros.
func MeanMFCC40(samples []float32) []float32 {
	out := make([]float32, protoMFCCs)
	if len(samples) == 0 {
		return out
	}
	t := protoTables()
	fft := fourier.NewFFT(protoNFFT)
	in := make([]float64, protoNFFT)
	spec := make([]complex128, protoNFFT/2+1)
	power := make([]float64, len(spec))
	nFrames := 1 + len(samples)/protoHop
	melDB := make([][]float64, nFrames)
	maxDB := math.Inf(-1)
	for fr := 0; fr < nFrames; fr++ {
		start := fr*protoHop - protoNFFT/2 // centred, zero-padded
		for i := range in {
			j := start + i
			v := 0.0
			if j >= 0 && j < len(samples) {
				v = float64(sanitize(samples[j]))
			}
			in[i] = v * t.window[i]
		}
		fft.Coefficients(spec, in)
		for k, c := range spec {
			power[k] = real(c)*real(c) + imag(c)*imag(c)
		}
		row := make([]float64, protoMels)
		for b, w := range t.mel {
			var e float64
			for i, wk := range w {
				e += wk * power[t.melLo[b]+i]
			}
			db := 10 * math.Log10(math.Max(e, 1e-10))
			row[b] = db
			maxDB = math.Max(maxDB, db)
		}
		melDB[fr] = row
	}
	acc := make([]float64, protoMFCCs)
	for _, row := range melDB {
		for b := range row {
			row[b] = math.Max(row[b], maxDB-80) // top_db
		}
		for k, d := range t.dct {
			var c float64
			for b, v := range row {
				c += d[b] * v
			}
			acc[k] += c
		}
	}
	for k := range out {
		out[k] = float32(acc[k] / float64(nFrames))
	}
	return out
}

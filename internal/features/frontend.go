package features

import (
	"math"
	"unsafe"
)

// Frontend turns a stream of 16 kHz samples into LLD frames, one every
// HopSize samples. It keeps bounded state (one 40 ms pitch window, its
// 8 kHz and 4 kHz copies, a 128 ms amplitude envelope and one frame of
// history; StateBytes reports the total) and allocates nothing per Write
// once dst has capacity.
//
// Frame k (from 0) is centred on input sample 160·(k+1): the stream is
// taken to start with 160 samples of silence, and frame k is emitted once
// its 40 ms pitch window is complete, i.e. after 480+160·k samples.
type Frontend struct {
	buf [pitchWindow]float32 // newest pitchWindow samples; [0,n) valid
	n   int
	k   uint64 // frames emitted

	// Decimated copies of buf, index-aligned with it (x8[i] ≈ buf[2i],
	// x4[i] ≈ buf[4i], each 3 input samples late: the half-band filters
	// are causal).
	x8 [n8]float32
	x4 [n4]float32

	fft     *realFFT
	fftIn   [FFTSize]float32 // windowed frame, zero-padded
	fftRe   [numBins]float32
	fftIm   [numBins]float32
	power   [numBins]float32
	melDB   [NumMel]float32
	prev    [NumMel]float32 // previous frame's normalised mel magnitudes, for flux
	hasPrev bool

	pitch *pitchTracker
	last  pitchResult // pitch is analysed every pitchEvery frames and held in between

	rough roughnessMeter
}

var zeroFrame [NumLLD]float32

// maxSample bounds input magnitude (see hop): 1e4 is 80 dB over full
// scale, far beyond any decoder's output, and its square stays finite.
const maxSample = 1e4

// sanitize maps NaN to 0 and clips to ±maxSample.
func sanitize(v float32) float32 {
	switch {
	case v > maxSample:
		return maxSample
	case v < -maxSample:
		return -maxSample
	case v != v:
		return 0
	}
	return v
}

// pitchEvery: F0, HNR, jitter, shimmer and roughness are analysed on
// every second frame (a 20 ms pitch hop) and held for the frame in
// between; they are the costliest descriptors and a 20 ms pitch hop is
// what many pitch trackers use anyway.
const pitchEvery = 2

// NewFrontend returns a Frontend at the start of a stream.
func NewFrontend() *Frontend {
	f := &Frontend{fft: newRealFFT(FFTSize), pitch: newPitchTracker()}
	f.rough.init()
	f.Reset()
	return f
}

// Reset starts a new stream; the Frontend keeps its buffers.
func (f *Frontend) Reset() {
	f.buf = [pitchWindow]float32{}
	f.n = HopSize // the 160 samples of leading silence
	f.k = 0
	f.x8 = [n8]float32{}
	f.x4 = [n4]float32{}
	f.hasPrev = false
	f.last = pitchResult{}
	f.rough.reset()
}

// StateBytes is the memory one stream's Frontend holds (its own fields,
// its FFT plans and scratch), excluding the package's shared, read-only
// tables. It is about 40 KB.
func (f *Frontend) StateBytes() int {
	return int(unsafe.Sizeof(*f)) + int(unsafe.Sizeof(*f.pitch)) +
		f.fft.bytes() + f.pitch.fft.bytes() + f.rough.fft.bytes()
}

// Write appends the LLD frames completed by samples to dst (NumLLD values
// each, flat) and returns it. Samples may arrive in chunks of any size;
// the frames are the same as from one Write of the concatenation.
func (f *Frontend) Write(dst []float32, samples []float32) []float32 {
	for len(samples) > 0 {
		// Fill up to the next hop boundary.
		m := HopSize - f.n%HopSize
		if m > len(samples) {
			m = len(samples)
		}
		copy(f.buf[f.n:], samples[:m])
		samples = samples[m:]
		f.n += m
		if f.n%HopSize != 0 {
			break
		}
		f.hop(f.n - HopSize)
		if f.n == pitchWindow {
			dst = f.emit(dst)
			copy(f.buf[:], f.buf[HopSize:])
			copy(f.x8[:], f.x8[HopSize/2:])
			copy(f.x4[:], f.x4[HopSize/4:])
			f.n -= HopSize
		}
	}
	return dst
}

// hop ingests the HopSize samples at buf[s:s+HopSize]: decimation and
// envelope.
func (f *Frontend) hop(s int) {
	// Samples are nominally in [−1, 1]; NaN, ±Inf and absurd magnitudes
	// (a broken decoder, a hostile stream) would poison every feature, so
	// NaN becomes 0 and the rest is clipped to ±maxSample.
	for i, v := range f.buf[s : s+HopSize] {
		if !(v >= -maxSample && v <= maxSample) {
			f.buf[s+i] = sanitize(v)
		}
	}
	// Half-band low-pass (−1, 0, 9, 16, 9, 0, −1)/32 then keep every other
	// sample: −6 dB at fs/4, −25 dB at 3fs/8; enough for pitch, which
	// only needs the low harmonics.
	halfband := func(x []float32, c int) float32 {
		return (16*x[c-3] + 9*(x[c-4]+x[c-2]) - (x[c-6] + x[c])) * (1.0 / 32)
	}
	for j := 0; j < HopSize/2; j++ {
		f.x8[s/2+j] = halfband(f.buf[:], s+2*j)
	}
	s8 := s / 2
	for j := 0; j < HopSize/4; j++ {
		f.x4[s/4+j] = halfband(f.x8[:], s8+2*j)
	}
	f.rough.push(f.buf[s : s+HopSize])
}

func (f *Frontend) emit(dst []float32) []float32 {
	off := len(dst)
	if cap(dst)-off >= NumLLD {
		dst = dst[:off+NumLLD]
	} else {
		dst = append(dst, zeroFrame[:]...)
	}
	out := dst[off:]
	if f.k%pitchEvery == 0 {
		f.last = f.pitch.analyze(f.x4[:], f.x8[:])
		f.rough.value = f.rough.measure()
	}
	f.k++
	lo := (pitchWindow - WindowSize) / 2
	f.spectral(out, f.buf[lo:lo+WindowSize])
	pr := f.last
	out[LLDF0] = pr.f0
	out[LLDVoicingProb] = pr.voicing
	out[LLDHNR] = pr.hnr
	out[LLDJitter] = pr.jitter
	out[LLDShimmer] = pr.shimmer
	out[LLDRoughness] = f.rough.value
	out[LLDH1H2] = 0
	if pr.f0 > 0 {
		out[LLDH1H2] = f.harmonicDiff(pr.f0)
	}
	return dst
}

// harmonicDiff is H1−H2 in dB: the strongest bin within ±1 of F0 minus
// the strongest within ±1 of 2·F0 (uncorrected for formants).
func (f *Frontend) harmonicDiff(f0 float32) float32 {
	peak := func(hz float64) float32 {
		k := hzBin(hz)
		m := float32(powerFloor)
		for i := k - 1; i <= k+1; i++ {
			if i >= 0 && i < numBins && f.power[i] > m {
				m = f.power[i]
			}
		}
		return m
	}
	h1, h2 := peak(float64(f0)), peak(2*float64(f0))
	return dbPerLog2 * (log2f(h1) - log2f(h2))
}

// spectral fills the spectral, cepstral, loudness and ZCR descriptors of
// one 25 ms frame.
func (f *Frontend) spectral(out []float32, w []float32) {
	w = w[:WindowSize]
	var crossings uint32
	prevSign := math.Float32bits(w[0]) >> 31
	in := f.fftIn[:WindowSize]
	for i, v := range w {
		sign := math.Float32bits(v) >> 31
		crossings += sign ^ prevSign
		prevSign = sign
		in[i] = v * tab.hann[i]
	}
	out[LLDZCR] = float32(crossings) * (SampleRate / WindowSize)

	f.fft.transform(f.fftRe[:], f.fftIm[:], f.fftIn[:])
	const (
		b50, b1k, b2k, b4k, b5k = 2, 32, 64, 128, 160
	)
	scale := tab.powScale
	pw := f.power[:numBins]
	re, im := f.fftRe[:numBins], f.fftIm[:numBins]
	var weighted float32
	for k := range pw {
		pw[k] = (re[k]*re[k] + im[k]*im[k]) * scale
	}
	// Two accumulators: these sums are latency-bound otherwise.
	var w0, w1 float32
	for k := 0; k+1 < numBins; k += 2 {
		w0 += pw[k] * float32(k)
		w1 += pw[k+1] * float32(k+1)
	}
	weighted = w0 + w1 + pw[numBins-1]*float32(numBins-1)
	sum := func(lo, hi int) float32 {
		var s0, s1 float32
		x := pw[lo:hi]
		i := 0
		for ; i+1 < len(x); i += 2 {
			s0 += x[i]
			s1 += x[i+1]
		}
		if i < len(x) {
			s0 += x[i]
		}
		return s0 + s1
	}
	maxOf := func(lo, hi int) float32 {
		var m float32
		for _, p := range pw[lo:hi] {
			m = max(m, p)
		}
		return m
	}
	s0_50, s50_1k, s1k_4k, s4k_5k, s5k_8k := sum(0, b50), sum(b50, b1k), sum(b1k, b4k), sum(b4k, b5k), sum(b5k, numBins)
	total := s0_50 + s50_1k + s1k_4k + s4k_5k + s5k_8k
	s1k_5k, s4k_8k := s1k_4k+s4k_5k, s4k_5k+s5k_8k
	max02, max25 := maxOf(0, b2k), maxOf(b2k, b5k)
	db := func(p float32) float32 {
		if p < powerFloor {
			p = powerFloor
		}
		return dbPerLog2 * log2f(p)
	}
	out[LLDAlphaRatio] = db(s50_1k) - db(s1k_5k)
	out[LLDHammarberg] = db(max02) - db(max25)
	if total > powerFloor {
		out[LLDCentroid] = weighted / total * binHz
		out[LLDEnergyRatio1k4k] = s1k_4k / total
		out[LLDEnergyRatio4k8k] = s4k_8k / total
		target := 0.85 * total
		var cum float32
		k := 0
		for ; k < numBins-1; k++ {
			cum += f.power[k]
			if cum >= target {
				break
			}
		}
		out[LLDRolloff] = float32(k) * binHz
	} else {
		out[LLDCentroid], out[LLDEnergyRatio1k4k], out[LLDEnergyRatio4k8k], out[LLDRolloff] = 0, 0, 0, 0
	}
	// Bins more than 80 dB below the frame's strongest are clamped there
	// for the slopes: a near-empty bin's log is dominated by float32
	// rounding in the FFT (~1e-7 of the peak), which is not scale
	// invariant; a relative floor is.
	floor := max(max(max02, maxOf(b5k, numBins))*1e-8, powerFloor)
	out[LLDSlope0_500] = f.slope(&tab.slopeLo, floor)
	out[LLDSlope500_1500] = f.slope(&tab.slopeHi, floor)

	// Mel bands, log-mel, loudness, flatness (the latter over each band's
	// mean power per bin, so that white noise is flat).
	var sumLog2, sumFlatLog2, sumE, loud float32
	var mag [NumMel]float32
	var norm float64
	var bandE [NumMel]float32
	var maxE float32
	for b := range tab.mel {
		band := &tab.mel[b]
		var e float32
		pw := f.power[band.start : band.start+len(band.w)]
		for i, wt := range band.w {
			e += wt * pw[i]
		}
		bandE[b] = e
		maxE = max(maxE, e)
	}
	// Bands are clamped 100 dB below the frame's strongest (float32
	// rounding level, see the slopes) and at the absolute floor.
	melFloor := max(maxE*1e-10, powerFloor)
	for b := range tab.mel {
		band := &tab.mel[b]
		e := max(bandE[b], melFloor)
		l2 := log2f(e)
		f.melDB[b] = dbPerLog2 * l2
		sumLog2 += l2
		sumFlatLog2 += l2 - band.log2W
		sumE += e * band.invW
		// Specific loudness ∝ E^0.3 (Stevens' power law, as in openSMILE's
		// eGeMAPS loudness).
		loud += exp2f(0.3 * l2)
		m := float32(math.Sqrt(float64(e)))
		mag[b] = m
		norm += float64(m) * float64(m)
	}
	// (10/0.3)·log10 L moves by exactly X dB when the input gain moves by
	// X dB, so "loudness_db" reads like a level.
	out[LLDLoudness] = dbPerLog2 / 0.3 * log2f(loud)
	out[LLDFlatness] = exp2f(sumFlatLog2/NumMel) / (sumE / NumMel)
	meanDB := dbPerLog2 * sumLog2 / NumMel
	for b := 0; b < NumMel; b++ {
		out[LLDLogMel0+b] = f.melDB[b] - meanDB
	}
	// Band-major, so the twelve sums are independent chains (a sum of
	// 40 products in one register is latency-bound).
	var cep [NumMFCC]float32
	for b, v := range f.melDB {
		col := &tab.dctT[b]
		for k := range cep {
			cep[k] += col[k] * v
		}
	}
	copy(out[LLDMFCC1:LLDMFCC1+NumMFCC], cep[:])
	inv := float32(1 / math.Sqrt(norm))
	var flux float32
	for b := range mag {
		m := mag[b] * inv
		d := m - f.prev[b]
		flux += d * d
		f.prev[b] = m
	}
	if !f.hasPrev {
		flux = 0
		f.hasPrev = true
	}
	out[LLDFlux] = flux
}

// slope is the least-squares slope (dB per kHz) of the log power spectrum
// over one band, with bins clamped at floor.
func (f *Frontend) slope(r *bandRegression, floor float32) float32 {
	var sxy float32
	for i, x := range r.x {
		p := f.power[r.lo+i]
		if p < floor {
			p = floor
		}
		sxy += x * log2f(p)
	}
	return dbPerLog2 * sxy * r.invSxx
}

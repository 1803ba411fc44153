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
// Frame k (from 0) is centred on input sample HopSize·k (20 ms·k): the
// stream is taken to start with HopSize samples of silence, and frame k
// is emitted once its 40 ms pitch window is complete, i.e. after
// HopSize·(k+1) samples. A stream of n samples thus gives n/HopSize
// frames (rounded down), FrameRate per second.
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
	// relFloor is the current frame's floor for log bin powers (80 dB
	// below its strongest bin).
	relFloor float32

	pitch *pitchTracker

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
	f.n = HopSize // the HopSize samples of leading silence
	f.k = 0
	f.x8 = [n8]float32{}
	f.x4 = [n4]float32{}
	f.hasPrev = false
	f.rough.reset()
}

// StateBytes is the memory one stream's Frontend holds (its own fields,
// its FFT plans and scratch), excluding the package's shared, read-only
// tables. It is about 25 KB.
func (f *Frontend) StateBytes() int {
	return int(unsafe.Sizeof(*f)) + int(unsafe.Sizeof(*f.pitch)) +
		f.fft.bytes() + f.rough.fft.bytes()
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
	halfband(f.x8[s/2:s/2+HopSize/2], f.buf[s-6:s+HopSize])
	halfband(f.x4[s/4:s/4+HopSize/4], f.x8[s/2-6:s/2+HopSize/2])
	f.rough.push(f.buf[s : s+HopSize])
}

// halfband writes dst[j] = the half-band filter's output centred on
// x[2j+3] (x holds 6 samples of history before the 2·len(dst) new ones).
func halfband(dst, x []float32) {
	x = x[:2*len(dst)+6]
	for j := range dst {
		w := x[2*j : 2*j+7 : 2*j+7]
		dst[j] = (16*w[3] + 9*(w[2]+w[4]) - (w[0] + w[6])) * (1.0 / 32)
	}
}

func (f *Frontend) emit(dst []float32) []float32 {
	off := len(dst)
	if cap(dst)-off >= NumLLD {
		dst = dst[:off+NumLLD]
	} else {
		dst = append(dst, zeroFrame[:]...)
	}
	out := dst[off:]
	f.k++
	pr := f.pitch.analyze(f.x4[:], f.x8[:])
	lo := (pitchWindow - WindowSize) / 2
	f.spectral(out, f.buf[lo:lo+WindowSize])
	out[LLDF0] = pr.f0
	out[LLDVoicingProb] = pr.voicing
	out[LLDHNR] = pr.hnr
	out[LLDJitter] = pr.jitter
	out[LLDShimmer] = pr.shimmer
	out[LLDRoughness] = f.rough.measure()
	out[LLDH1H2] = 0
	if pr.f0 > 0 {
		out[LLDH1H2] = f.harmonicDiff(pr.f0)
	}
	return dst
}

// harmonicDiff is H1−H2 in dB: the level of the strongest bin within ±1
// of F0 minus that within ±1 of 2·F0, each refined by a parabola through
// the log powers of the peak bin and its neighbours (a Hann window's main
// lobe is close to a parabola in dB, so this removes most of the up to
// 1.4 dB scalloping loss of an off-bin harmonic). Bins are clamped at the
// frame's relative floor, so a missing harmonic reads as rounding-proof
// silence rather than float32 noise.
func (f *Frontend) harmonicDiff(f0 float32) float32 {
	floor := f.relFloor
	lp := func(i int) float32 {
		if i < 0 || i >= numBins {
			return log2f(floor)
		}
		return log2f(max(f.power[i], floor))
	}
	peak := func(hz float32) float32 {
		k := int(hz/binHz + 0.5)
		best := k
		for i := k - 1; i <= k+1; i++ {
			if i >= 0 && i < numBins && f.power[i] > f.power[min(max(best, 0), numBins-1)] {
				best = i
			}
		}
		a, b, c := lp(best-1), lp(best), lp(best+1)
		if den := a - 2*b + c; den < 0 {
			d := min(max(0.5*(a-c)/den, -0.5), 0.5)
			return b - 0.25*(a-c)*d
		}
		return b
	}
	return dbPerLog2 * (peak(f0) - peak(2*f0))
}

// spectral fills the spectral, cepstral, loudness and ZCR descriptors of
// one 32 ms frame.
func (f *Frontend) spectral(out []float32, w []float32) {
	w = w[:WindowSize]
	var crossings uint32
	prevSign := math.Float32bits(w[0]) >> 31
	in := f.fftIn[:WindowSize]
	hann := tab.hann[:WindowSize]
	for i, v := range w {
		sign := math.Float32bits(v) >> 31
		crossings += sign ^ prevSign
		prevSign = sign
		in[i] = v * hann[i]
	}
	out[LLDZCR] = float32(crossings) * (float32(SampleRate) / WindowSize)

	f.fft.transform(f.fftRe[:], f.fftIm[:], f.fftIn[:])
	// Power, band sums, power-weighted bin sums (centroid) and band maxima
	// in one pass per fixed band.
	const (
		b50, b1k, b2k, b4k, b5k = 2, 32, 64, 128, 160
	)
	var segSum [6]float32
	var weighted, max02, max25, max58 float32
	for i, lim := range [...][2]int{{0, b50}, {b50, b1k}, {b1k, b2k}, {b2k, b4k}, {b4k, b5k}, {b5k, numBins}} {
		s, ws, mx := f.powerSegment(lim[0], lim[1])
		segSum[i] = s
		weighted += ws
		switch {
		case i < 3:
			max02 = max(max02, mx)
		case i < 5:
			max25 = max(max25, mx)
		default:
			max58 = mx
		}
	}
	s0_50, s50_1k, s1k_4k := segSum[0], segSum[1], segSum[2]+segSum[3]
	s4k_5k, s5k_8k := segSum[4], segSum[5]
	total := s0_50 + s50_1k + s1k_4k + s4k_5k + s5k_8k
	s1k_5k, s4k_8k := s1k_4k+s4k_5k, s4k_5k+s5k_8k
	db := func(p float32) float32 { return dbPerLog2 * log2f(max(p, powerFloor)) }
	// Bins more than 80 dB below the frame's strongest are clamped there
	// (for the slopes, H1−H2, Hammarberg and alpha ratio): a near-empty
	// bin's log is dominated by float32 rounding in the FFT (~1e-7 of the
	// peak), which is not scale invariant; a relative floor is.
	floor := max(max(max02, max25, max58)*1e-8, powerFloor)
	f.relFloor = floor
	out[LLDAlphaRatio] = db(max(s50_1k, floor)) - db(max(s1k_5k, floor))
	out[LLDHammarberg] = db(max(max02, floor)) - db(max(max25, floor))
	if total > powerFloor {
		out[LLDCentroid] = weighted / total * binHz
		out[LLDEnergyRatio1k4k] = s1k_4k / total
		out[LLDEnergyRatio4k8k] = s4k_8k / total
		// Roll-off: find the band in which the running sum passes 85 %,
		// then the bin within it.
		target := 0.85 * total
		var cum float32
		k := 0
		for i := 0; i < len(segSum)-1 && cum+segSum[i] < target; i++ {
			cum += segSum[i]
			k = [...]int{b50, b1k, b2k, b4k, b5k}[i]
		}
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
	out[LLDSlope0_500] = f.slope(&tab.slopeLo, floor)
	out[LLDSlope500_1500] = f.slope(&tab.slopeHi, floor)

	// Mel bands in one pass over the bins (each bin is on one band's rising
	// and the previous band's falling slope).
	var bandE [NumMel + 1]float32 // [b+1] is band b; [0] takes the falling slope below band 0
	pw := f.power[:numBins]
	for j := 0; j <= NumMel; j++ {
		lo, hi := tab.melSeg[j], tab.melSeg[j+1]
		p, up, down := pw[lo:hi], tab.melUp[lo:hi], tab.melDown[lo:hi]
		up, down = up[:len(p)], down[:len(p)]
		var su, sd float32
		for i, v := range p {
			su += up[i] * v
			sd += down[i] * v
		}
		if j < NumMel {
			bandE[j+1] += su
		}
		bandE[j] += sd
	}
	var maxE float32
	for _, e := range bandE[1:] {
		maxE = max(maxE, e)
	}
	// Log-mel, loudness, flatness (the latter over each band's mean power
	// per bin, so that white noise is flat). Bands are clamped 100 dB
	// below the frame's strongest (float32 rounding level, see the slopes)
	// and at the absolute floor.
	var sumLog2, sumFlatLog2, sumE, loud, norm float32
	var mag [NumMel]float32
	melFloor := max(maxE*1e-10, powerFloor)
	for b := range NumMel {
		band := &tab.mel[b]
		e := max(bandE[b+1], melFloor)
		l2 := log2f(e)
		f.melDB[b] = dbPerLog2 * l2
		sumLog2 += l2
		sumFlatLog2 += l2 - band.log2W
		sumE += e * band.invW
		// Specific loudness ∝ E^0.3 (Stevens' power law, as in openSMILE's
		// eGeMAPS loudness).
		loud += exp2f(0.3 * l2)
		mag[b] = sqrt32(e)
		norm += e
	}
	// (10/0.3)·log10 L moves by exactly X dB when the input gain moves by
	// X dB, so "loudness_db" reads like a level.
	out[LLDLoudness] = dbPerLog2 / 0.3 * log2f(loud)
	out[LLDFlatness] = exp2f(sumFlatLog2/NumMel) / (sumE / NumMel)
	meanDB := dbPerLog2 * sumLog2 / NumMel
	logMel := out[LLDLogMel0 : LLDLogMel0+NumMel]
	for b, v := range f.melDB {
		logMel[b] = v - meanDB
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
	inv := 1 / sqrt32(norm)
	var flux float32
	for b, m := range mag {
		d := m*inv - f.prev[b]
		flux += d * d
		f.prev[b] = m * inv
	}
	if !f.hasPrev {
		flux = 0
		f.hasPrev = true
	}
	out[LLDFlux] = flux
}

// powerSegment fills f.power[lo:hi] from the FFT and returns its sum, its
// bin-weighted sum Σ k·p_k and its maximum (two accumulators each: these
// sums are latency-bound otherwise).
func (f *Frontend) powerSegment(lo, hi int) (sum, weighted, peak float32) {
	re, im, pw := f.fftRe[lo:hi], f.fftIm[lo:hi], f.power[lo:hi]
	im, pw = im[:len(re)], pw[:len(re)]
	var s0, s1, w0, w1, m0, m1 float32
	k0 := float32(lo)
	i := 0
	for ; i+1 < len(re); i += 2 {
		p0 := re[i]*re[i] + im[i]*im[i]
		p1 := re[i+1]*re[i+1] + im[i+1]*im[i+1]
		pw[i], pw[i+1] = p0, p1
		s0, s1 = s0+p0, s1+p1
		w0, w1 = w0+p0*(k0+float32(i)), w1+p1*(k0+float32(i+1))
		m0, m1 = max(m0, p0), max(m1, p1)
	}
	if i < len(re) {
		p := re[i]*re[i] + im[i]*im[i]
		pw[i] = p
		s0 += p
		w0 += p * (k0 + float32(i))
		m0 = max(m0, p)
	}
	return s0 + s1, w0 + w1, max(m0, m1)
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

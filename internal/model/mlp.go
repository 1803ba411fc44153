package model

import (
	"math"
	"math/rand/v2"
	"unsafe"

	"gonum.org/v1/gonum/blas/blas32"
)

// MLP is a fully connected network with ReLU hidden layers and a softmax
// output. Weights are row-major: layer l maps Sizes[l] inputs to
// Sizes[l+1] outputs with W[l][o*in+i].
type MLP struct {
	Sizes []int
	W     [][]float32
	B     [][]float32
}

// newMLP initialises weights with He initialisation from rng.
func newMLP(sizes []int, rng *rand.Rand) *MLP {
	m := &MLP{Sizes: append([]int(nil), sizes...)}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		w := make([]float32, in*out)
		scale := math.Sqrt(2 / float64(in))
		for i := range w {
			w[i] = float32(rng.NormFloat64() * scale)
		}
		m.W = append(m.W, w)
		m.B = append(m.B, make([]float32, out))
	}
	return m
}

// scratch holds per-goroutine activations so inference allocates nothing.
type scratch struct {
	act [][]float32 // act[0] is the input copy, act[l] layer outputs
}

func (m *MLP) newScratch() *scratch {
	s := &scratch{act: make([][]float32, len(m.Sizes))}
	for l, n := range m.Sizes {
		s.act[l] = alignedFloats(n)
	}
	return s
}

// forward computes the logits for x into s.act; the last layer holds
// logits (softmax is applied by the caller).
func (m *MLP) forward(x []float32, s *scratch) []float32 {
	copy(s.act[0], x)
	for l := range m.W {
		in, out := s.act[l], s.act[l+1]
		w, b := m.W[l], m.B[l]
		n := len(in)
		last := l == len(m.W)-1
		for o := range out {
			row := w[o*n : o*n+n]
			sum := b[o] + dot(row, in)
			if !last && sum < 0 {
				sum = 0
			}
			out[o] = sum
		}
	}
	return s.act[len(s.act)-1]
}

// dot and axpy are the hot loops of inference and training; gonum's
// blas32 runs them in SIMD assembly on amd64, about 3× faster than plain
// Go here (see BenchmarkDot).
func dot(a, b []float32) float32 {
	return blas32.Dot(blas32.Vector{N: len(a), Inc: 1, Data: a}, blas32.Vector{N: len(a), Inc: 1, Data: b})
}

// alignedFloats returns a zeroed slice starting on a 16-byte boundary.
// gonum's dot kernel peels unaligned leading elements of its second
// argument one by one, so the order of summation — and the rounding of
// the result — depends on that argument's address. Every vector passed
// as dot's second argument is allocated here, so training and inference
// give the same bits on every run.
func alignedFloats(n int) []float32 {
	b := make([]float32, n+4)
	off := 0
	if r := uintptr(unsafe.Pointer(&b[0])) % 16; r != 0 {
		off = int(16-r) / 4
	}
	return b[off : off+n : off+n]
}

// axpy computes y += alpha*x.
func axpy(alpha float32, x, y []float32) {
	blas32.Axpy(alpha, blas32.Vector{N: len(x), Inc: 1, Data: x}, blas32.Vector{N: len(x), Inc: 1, Data: y})
}

// softmax turns logits into probabilities in place.
func softmax(z []float32) {
	max := z[0]
	for _, v := range z[1:] {
		if v > max {
			max = v
		}
	}
	var sum float32
	for i, v := range z {
		e := float32(math.Exp(float64(v - max)))
		z[i] = e
		sum += e
	}
	for i := range z {
		z[i] /= sum
	}
}

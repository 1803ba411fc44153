package model

import (
	"math"
	"math/rand/v2"
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
		s.act[l] = make([]float32, n)
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

// dot is unrolled by four: the hot loop of inference and training.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// axpy computes y += alpha*x.
func axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y[i] += alpha * x[i]
		y[i+1] += alpha * x[i+1]
		y[i+2] += alpha * x[i+2]
		y[i+3] += alpha * x[i+3]
	}
	for ; i < len(x); i++ {
		y[i] += alpha * x[i]
	}
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

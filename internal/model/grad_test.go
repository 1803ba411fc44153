package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// loss is the smoothed cross-entropy of one sample, without dropout.
func loss(m *MLP, x []float32, label int, smooth float64) float64 {
	out := m.forward(x, m.newScratch())
	p := append([]float32(nil), out...)
	softmax(p)
	k := float64(len(p))
	l := 0.0
	for c, v := range p {
		t := smooth / k
		if c == label {
			t += 1 - smooth
		}
		l -= t * math.Log(float64(v))
	}
	return l
}

// TestBackpropMatchesNumericalGradient checks accumulate against central
// differences, the standard check for a hand-written backward pass.
func TestBackpropMatchesNumericalGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	m := newMLP([]int{5, 7, 4, 3}, r)
	x := []float32{0.3, -1.2, 0.8, 0.1, -0.5}
	cfg := FitConfig{LabelSmooth: 0.1}
	g := newGrad(m)
	g.accumulate(m, x, 2, 1, cfg, r)
	const eps = 1e-2
	for l := range m.W {
		for _, i := range []int{0, len(m.W[l]) / 2, len(m.W[l]) - 1} {
			orig := m.W[l][i]
			m.W[l][i] = orig + eps
			up := loss(m, x, 2, 0.1)
			m.W[l][i] = orig - eps
			down := loss(m, x, 2, 0.1)
			m.W[l][i] = orig
			num := (up - down) / (2 * eps)
			if math.Abs(num-float64(g.W[l][i])) > 2e-3+0.02*math.Abs(num) {
				t.Errorf("layer %d weight %d: backprop %.5f, numerical %.5f", l, i, g.W[l][i], num)
			}
		}
	}
}

func BenchmarkDot(b *testing.B) {
	x, y := make([]float32, 347), make([]float32, 347)
	var s float32
	for b.Loop() {
		s += dot(x, y)
	}
	_ = s
}

package model

import (
	"math"
	"math/rand/v2"
	"sync"
)

// FitConfig controls training of one MLP.
type FitConfig struct {
	Hidden       []int   // hidden layer sizes, e.g. {256, 128}
	Epochs       int     // passes over the data
	Batch        int     // minibatch size
	LR           float64 // Adam learning rate
	WeightDecay  float64 // decoupled (AdamW) weight decay
	Dropout      float64 // on hidden activations
	InputNoise   float64 // std of Gaussian noise added to standardized inputs
	LabelSmooth  float64
	Seed         uint64
	Workers      int             // goroutines sharing each minibatch
	OnEpoch      func(epoch int) // progress callback, may be nil
	ClassWeights []float64       // per class; nil means balanced
}

// DefaultFit is the configuration `empowerher train` uses.
func DefaultFit() FitConfig {
	return FitConfig{
		Hidden: []int{192, 96}, Epochs: 20, Batch: 64, LR: 1e-3, WeightDecay: 1e-4,
		Dropout: 0.3, InputNoise: 0.15, LabelSmooth: 0.05, Seed: 1, Workers: 2,
	}
}

// fit trains an MLP on standardized rows x (n×d, flat) with labels y in
// [0,k) and per-row weights w (nil for 1). Training is deterministic for
// a given cfg.Seed and Workers.
func fit(x []float32, d int, y []int, w []float32, k int, cfg FitConfig) *MLP {
	n := len(y)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	sizes := append(append([]int{d}, cfg.Hidden...), k)
	m := newMLP(sizes, rng)

	cw := cfg.ClassWeights
	if cw == nil {
		cw = balancedWeights(y, k)
	}
	workers := max(cfg.Workers, 1)
	grads := make([]*grad, workers)
	for i := range grads {
		grads[i] = newGrad(m)
	}
	opt := newAdam(m, cfg.LR)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	// Each worker draws its dropout and noise from its own stream, seeded
	// per step, so results do not depend on goroutine scheduling.
	step := 0
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		// Cosine learning-rate decay.
		opt.lr = cfg.LR * 0.5 * (1 + math.Cos(math.Pi*float64(epoch)/float64(cfg.Epochs)))
		for start := 0; start < n; start += cfg.Batch {
			batch := order[start:min(start+cfg.Batch, n)]
			var wg sync.WaitGroup
			per := (len(batch) + workers - 1) / workers
			for wi := 0; wi < workers; wi++ {
				lo, hi := wi*per, min((wi+1)*per, len(batch))
				g := grads[wi]
				g.zero()
				if lo >= hi {
					continue
				}
				wg.Add(1)
				go func(part []int, seed uint64) {
					defer wg.Done()
					r := rand.New(rand.NewPCG(seed, uint64(step)))
					for _, i := range part {
						sw := float32(cw[y[i]])
						if w != nil {
							sw *= w[i]
						}
						g.accumulate(m, x[i*d:(i+1)*d], y[i], sw, cfg, r)
					}
				}(batch[lo:hi], cfg.Seed*1000+uint64(wi))
			}
			wg.Wait()
			for wi := 1; wi < workers; wi++ {
				grads[0].add(grads[wi])
			}
			opt.step(m, grads[0], float32(1/float64(len(batch))), cfg.WeightDecay)
			step++
		}
		if cfg.OnEpoch != nil {
			cfg.OnEpoch(epoch + 1)
		}
	}
	return m
}

func balancedWeights(y []int, k int) []float64 {
	count := make([]float64, k)
	for _, c := range y {
		count[c]++
	}
	present := 0.0
	for _, c := range count {
		if c > 0 {
			present++
		}
	}
	w := make([]float64, k)
	for c := range w {
		if count[c] > 0 {
			w[c] = float64(len(y)) / (present * count[c])
		}
	}
	return w
}

// grad accumulates gradients for one worker, with its own activations.
type grad struct {
	W, B  [][]float32
	act   [][]float32
	mask  [][]float32
	delta [][]float32
}

func newGrad(m *MLP) *grad {
	g := &grad{}
	for l := range m.W {
		g.W = append(g.W, make([]float32, len(m.W[l])))
		g.B = append(g.B, make([]float32, len(m.B[l])))
	}
	for _, s := range m.Sizes {
		g.act = append(g.act, alignedFloats(s))
		g.mask = append(g.mask, make([]float32, s))
		g.delta = append(g.delta, make([]float32, s))
	}
	return g
}

func (g *grad) zero() {
	for l := range g.W {
		clear(g.W[l])
		clear(g.B[l])
	}
}

func (g *grad) add(o *grad) {
	for l := range g.W {
		axpy(1, o.W[l], g.W[l])
		axpy(1, o.B[l], g.B[l])
	}
}

// accumulate runs forward and backward for one sample.
func (g *grad) accumulate(m *MLP, x []float32, label int, weight float32, cfg FitConfig, r *rand.Rand) {
	in := g.act[0]
	for i, v := range x {
		in[i] = v + float32(r.NormFloat64()*cfg.InputNoise)
	}
	L := len(m.W)
	keep := float32(1 - cfg.Dropout)
	for l := 0; l < L; l++ {
		a, out := g.act[l], g.act[l+1]
		w, b := m.W[l], m.B[l]
		n := len(a)
		for o := range out {
			out[o] = b[o] + dot(w[o*n:o*n+n], a)
		}
		if l < L-1 {
			mask := g.mask[l+1]
			for o := range out {
				if out[o] <= 0 {
					out[o], mask[o] = 0, 0
					continue
				}
				if cfg.Dropout > 0 && r.Float32() >= keep {
					out[o], mask[o] = 0, 0
					continue
				}
				mask[o] = 1 / keep
				out[o] *= mask[o]
			}
		}
	}
	// Output delta: softmax cross-entropy with label smoothing.
	p := g.delta[L]
	copy(p, g.act[L])
	softmax(p)
	k := float32(len(p))
	s := float32(cfg.LabelSmooth)
	for c := range p {
		t := s / k
		if c == label {
			t += 1 - s
		}
		p[c] = (p[c] - t) * weight
	}
	for l := L - 1; l >= 0; l-- {
		d, a := g.delta[l+1], g.act[l]
		n := len(a)
		gw, gb := g.W[l], g.B[l]
		for o, dv := range d {
			if dv == 0 {
				continue
			}
			axpy(dv, a, gw[o*n:o*n+n])
			gb[o] += dv
		}
		if l == 0 {
			break
		}
		prev := g.delta[l]
		clear(prev)
		w := m.W[l]
		for o, dv := range d {
			if dv == 0 {
				continue
			}
			axpy(dv, w[o*n:o*n+n], prev)
		}
		mask := g.mask[l]
		for i := range prev {
			prev[i] *= mask[i]
		}
	}
}

// adam is AdamW.
type adam struct {
	lr        float64
	mW, vW    [][]float32
	mB, vB    [][]float32
	t         int
	beta1, b2 float64
}

func newAdam(m *MLP, lr float64) *adam {
	a := &adam{lr: lr, beta1: 0.9, b2: 0.999}
	for l := range m.W {
		a.mW = append(a.mW, make([]float32, len(m.W[l])))
		a.vW = append(a.vW, make([]float32, len(m.W[l])))
		a.mB = append(a.mB, make([]float32, len(m.B[l])))
		a.vB = append(a.vB, make([]float32, len(m.B[l])))
	}
	return a
}

func (a *adam) step(m *MLP, g *grad, scale float32, decay float64) {
	a.t++
	c1 := 1 - math.Pow(a.beta1, float64(a.t))
	c2 := 1 - math.Pow(a.b2, float64(a.t))
	lr := float32(a.lr * math.Sqrt(c2) / c1)
	wd := float32(1 - a.lr*decay)
	b1, b2 := float32(a.beta1), float32(a.b2)
	upd := func(p, gr, mm, vv []float32, decayed bool) {
		for i := range p {
			gi := gr[i] * scale
			mm[i] = b1*mm[i] + (1-b1)*gi
			vv[i] = b2*vv[i] + (1-b2)*gi*gi
			if decayed {
				p[i] *= wd
			}
			p[i] -= lr * mm[i] / (float32(math.Sqrt(float64(vv[i]))) + 1e-8)
		}
	}
	for l := range m.W {
		upd(m.W[l], g.W[l], a.mW[l], a.vW[l], true)
		upd(m.B[l], g.B[l], a.mB[l], a.vB[l], false)
	}
}

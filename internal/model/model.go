package model

import (
	"fmt"
	"math"
)

// Model is a trained classifier: feature standardization, an ensemble of
// MLPs whose probabilities are averaged, and the calibration of the
// distress score.
type Model struct {
	// Version identifies the model in every output: "eh-" + a hash of the
	// file's content, set when encoded or decoded.
	Version string
	// Classes in output order.
	Classes []string
	// Features names the inputs, so a model cannot silently be used with
	// a feature extractor that changed.
	Features []string
	Mean     []float32
	Std      []float32
	Nets     []*MLP
	// DistressIdx are the classes whose probabilities are summed into the
	// raw distress score.
	DistressIdx []int
	// CalA and CalB calibrate the raw score s: P = σ(CalA·logit(s) + CalB)
	// (Platt scaling fitted on speakers held out from training).
	CalA, CalB float64
	// Threshold on the calibrated score, chosen on training folds only.
	Threshold float64
	// StreamThreshold is the (stricter) level a live stream's smoothed
	// score must reach to alarm.
	StreamThreshold float64
	// Meta records how the model was trained (seed, data, command).
	Meta map[string]string
}

// Predictor runs a Model without allocating; one per goroutine.
type Predictor struct {
	m   *Model
	std []float32
	s   []*scratch
}

// NewPredictor returns a Predictor for m.
func (m *Model) NewPredictor() *Predictor {
	p := &Predictor{m: m, std: make([]float32, len(m.Mean))}
	for _, n := range m.Nets {
		p.s = append(p.s, n.newScratch())
	}
	return p
}

// clampZ bounds standardized inputs: a feature far outside the training
// range (another microphone, another language) must not dominate the
// decision.
const clampZ = 5

// Predict writes class probabilities for feature vector x into dst
// (len(Classes)) and returns the calibrated distress score.
func (p *Predictor) Predict(x []float32, dst []float64) float64 {
	m := p.m
	for i, v := range x {
		z := float32(0) // NaN: treat as the training mean
		if v == v {
			z = min(max((v-m.Mean[i])/m.Std[i], -clampZ), clampZ)
		}
		p.std[i] = z
	}
	clear(dst)
	for i, n := range m.Nets {
		out := n.forward(p.std, p.s[i])
		softmax(out)
		for c, v := range out {
			dst[c] += float64(v)
		}
	}
	inv := 1 / float64(len(m.Nets))
	for c := range dst {
		dst[c] *= inv
	}
	return m.Calibrate(m.RawDistress(dst))
}

// RawDistress sums the distress classes' probabilities.
func (m *Model) RawDistress(probs []float64) float64 {
	s := 0.0
	for _, i := range m.DistressIdx {
		s += probs[i]
	}
	return s
}

// Calibrate maps a raw distress score to a calibrated probability.
func (m *Model) Calibrate(raw float64) float64 {
	return sigmoid(m.CalA*logit(raw) + m.CalB)
}

func logit(p float64) float64 {
	p = math.Min(math.Max(p, 1e-6), 1-1e-6)
	return math.Log(p / (1 - p))
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// validate checks internal consistency, for models read from files.
func (m *Model) validate() error {
	d := len(m.Features)
	if d == 0 || len(m.Mean) != d || len(m.Std) != d {
		return fmt.Errorf("model: feature standardization has %d/%d values for %d features", len(m.Mean), len(m.Std), d)
	}
	for i, s := range m.Std {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("model: feature %d has invalid scale %v", i, s)
		}
	}
	if len(m.Classes) < 2 {
		return fmt.Errorf("model: %d classes", len(m.Classes))
	}
	if len(m.Nets) == 0 {
		return fmt.Errorf("model: no networks")
	}
	for _, n := range m.Nets {
		if len(n.Sizes) < 2 || n.Sizes[0] != d || n.Sizes[len(n.Sizes)-1] != len(m.Classes) {
			return fmt.Errorf("model: network shape %v does not fit %d features and %d classes", n.Sizes, d, len(m.Classes))
		}
		if len(n.W) != len(n.Sizes)-1 || len(n.B) != len(n.Sizes)-1 {
			return fmt.Errorf("model: network has %d layers for sizes %v", len(n.W), n.Sizes)
		}
		for l := range n.W {
			if len(n.W[l]) != n.Sizes[l]*n.Sizes[l+1] || len(n.B[l]) != n.Sizes[l+1] {
				return fmt.Errorf("model: layer %d has wrong size", l)
			}
		}
	}
	if !(m.Threshold >= 0 && m.Threshold <= 1 && m.StreamThreshold >= 0 && m.StreamThreshold <= 1) {
		return fmt.Errorf("model: thresholds %v/%v outside [0,1]", m.Threshold, m.StreamThreshold)
	}
	for _, i := range m.DistressIdx {
		if i < 0 || i >= len(m.Classes) {
			return fmt.Errorf("model: distress class index %d out of range", i)
		}
	}
	return nil
}

// ClassIndex returns the index of class c, or -1.
func (m *Model) ClassIndex(c string) int {
	for i, n := range m.Classes {
		if n == c {
			return i
		}
	}
	return -1
}

// StateBytes is the scratch memory the Predictor holds.
func (p *Predictor) StateBytes() int {
	n := len(p.std) * 4
	for _, s := range p.s {
		for _, a := range s.act {
			n += len(a) * 4
		}
	}
	return n
}

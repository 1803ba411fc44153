package detect

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/empowerher/empowerher/internal/corpus"
	"github.com/empowerher/empowerher/internal/features"
	"github.com/empowerher/empowerher/internal/model"
)

// Detector scores audio with one model. It is safe for concurrent use:
// per-call scratch comes from a pool.
type Detector struct {
	m       *model.Model
	bgIdx   int
	workers sync.Pool // *worker
}

// worker is the scratch one Analyze call needs.
type worker struct {
	fe    *features.Frontend
	sum   *features.Summarizer
	pred  *model.Predictor
	lld   []float32
	fun   []float32
	probs []float64
}

// New returns a Detector for m, refusing a model trained on other
// features than this binary computes.
func New(m *model.Model) (*Detector, error) {
	if !slices.Equal(m.Features, features.FunctionalNames()) {
		return nil, fmt.Errorf("detect: model %s was trained on %d features that differ from this build's %d; retrain it with `empowerher train`", m.Version, len(m.Features), features.NumFunctionals)
	}
	d := &Detector{m: m, bgIdx: m.ClassIndex(corpus.Background)}
	d.workers.New = func() any {
		return &worker{
			fe:    features.NewFrontend(),
			sum:   features.NewSummarizer(),
			pred:  m.NewPredictor(),
			probs: make([]float64, len(m.Classes)),
		}
	}
	return d, nil
}

var (
	defaultOnce sync.Once
	defaultDet  *Detector
	defaultErr  error
)

// Default returns the Detector for the model embedded in the binary.
func Default() (*Detector, error) {
	defaultOnce.Do(func() {
		m, err := model.Embedded()
		if err != nil {
			defaultErr = err
			return
		}
		defaultDet, defaultErr = New(m)
	})
	return defaultDet, defaultErr
}

// ModelVersion identifies the model.
func (d *Detector) ModelVersion() string { return d.m.Version }

// Threshold is the calibrated distress score at or above which a clip
// counts as distress.
func (d *Detector) Threshold() float64 { return d.m.Threshold }

// Classes lists the model's classes in output order.
func (d *Detector) Classes() []string { return d.m.Classes }

// Model returns the underlying model.
func (d *Detector) Model() *model.Model { return d.m }

func (d *Detector) classProbs(p []float64) []ClassProb {
	out := make([]ClassProb, len(p))
	for i, v := range p {
		out[i] = ClassProb{Class: d.m.Classes[i], P: round4(v)}
	}
	return out
}

func argmax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

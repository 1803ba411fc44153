package model

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// blobs makes k Gaussian clusters in d dimensions, n rows each, spread
// over 6 groups.
func blobs(k, d, n int, seed uint64) *Data {
	r := rand.New(rand.NewPCG(seed, 1))
	centers := make([][]float64, k)
	for c := range centers {
		centers[c] = make([]float64, d)
		for j := range centers[c] {
			centers[c][j] = r.NormFloat64() * 2
		}
	}
	data := &Data{D: d}
	for c := 0; c < k; c++ {
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				data.X = append(data.X, float32(centers[c][j]+r.NormFloat64()))
			}
			data.Y = append(data.Y, c)
			data.Group = append(data.Group, i%6)
			data.Clean = append(data.Clean, true)
		}
	}
	return data
}

func testConfig(k, d int) TrainConfig {
	cfg := TrainConfig{Fit: DefaultFit(), Ensemble: 2, CalibrationGroup: -1, WeightPower: 1}
	cfg.Fit.Epochs = 60
	cfg.Fit.Hidden = []int{16}
	for c := 0; c < k; c++ {
		cfg.Classes = append(cfg.Classes, string(rune('a'+c)))
	}
	for j := 0; j < d; j++ {
		cfg.Features = append(cfg.Features, "f")
	}
	cfg.Distress = []string{"a"}
	return cfg
}

func accuracy(m *Model, data *Data) float64 {
	p := m.NewPredictor()
	probs := make([]float64, len(m.Classes))
	ok := 0
	for i := 0; i < data.Len(); i++ {
		p.Predict(data.X[i*data.D:(i+1)*data.D], probs)
		best := 0
		for c := range probs {
			if probs[c] > probs[best] {
				best = c
			}
		}
		if best == data.Y[i] {
			ok++
		}
	}
	return float64(ok) / float64(data.Len())
}

func TestTrainLearnsSeparableClasses(t *testing.T) {
	train, test := blobs(4, 10, 120, 1), blobs(4, 10, 60, 1)
	// Same centres (same seed), fresh noise for the test rows.
	test = blobs(4, 10, 60, 1)
	m, err := Train(train, testConfig(4, 10))
	if err != nil {
		t.Fatal(err)
	}
	if acc := accuracy(m, test); acc < 0.9 {
		t.Fatalf("accuracy %.3f on separable blobs, want ≥ 0.9", acc)
	}
	if m.Threshold <= 0 || m.Threshold >= 1 {
		t.Errorf("threshold %v not in (0,1)", m.Threshold)
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	data := blobs(3, 6, 60, 2)
	var v []string
	for i := 0; i < 2; i++ {
		m, err := Train(data, testConfig(3, 6))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := m.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		v = append(v, m.Version)
	}
	if v[0] != v[1] {
		t.Fatalf("two trainings with one seed gave versions %s and %s", v[0], v[1])
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	data := blobs(3, 5, 30, 3)
	m, err := Train(data, testConfig(3, 5))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != m.Version || !strings.HasPrefix(got.Version, "eh-") {
		t.Fatalf("version %q after decode, %q before", got.Version, m.Version)
	}
	x := data.X[:data.D]
	p1, p2 := make([]float64, 3), make([]float64, 3)
	s1 := m.NewPredictor().Predict(x, p1)
	s2 := got.NewPredictor().Predict(x, p2)
	if s1 != s2 || p1[0] != p2[0] {
		t.Fatalf("decoded model predicts %v/%v, original %v/%v", s2, p2, s1, p1)
	}
}

func TestDecodeRejectsBadFiles(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":   {},
		"garbage": []byte("not a model at all"),
	} {
		if _, err := Decode(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	// A well-formed file whose shapes do not fit is refused, not used.
	m, _ := Train(blobs(2, 3, 20, 4), testConfig(2, 3))
	m.Nets[0].Sizes[0] = 7
	var buf bytes.Buffer
	m.Encode(&buf)
	if _, err := Decode(&buf); err == nil {
		t.Error("inconsistent network shape decoded without error")
	}
}

func TestPlattRecoversKnownScaling(t *testing.T) {
	// Scores drawn so that P(pos | s) = σ(2·logit(s) − 1) exactly.
	r := rand.New(rand.NewPCG(5, 5))
	var raw []float64
	var pos []bool
	for i := 0; i < 20000; i++ {
		s := 0.02 + 0.96*r.Float64()
		raw = append(raw, s)
		pos = append(pos, r.Float64() < sigmoid(2*logit(s)-1))
	}
	a, b := platt(raw, pos)
	if math.Abs(a-2) > 0.1 || math.Abs(b+1) > 0.1 {
		t.Fatalf("platt fit a=%.3f b=%.3f, want 2, -1", a, b)
	}
}

func TestChooseThresholdRespectsBackgroundLimit(t *testing.T) {
	score := []float64{0.9, 0.8, 0.7, 0.6, 0.2, 0.1, 0.85}
	pos := []bool{true, true, true, false, false, false, false}
	bg := []bool{false, false, false, false, false, false, true}
	// Without a limit the best split of the voices is 0.7 (all three
	// positives, no negative voice); background does not count in the UAR.
	if th := chooseThreshold(score, pos, bg, 0); th != 0.7 {
		t.Errorf("threshold %v, want 0.7", th)
	}
	// Background may not fire at all: the threshold must clear 0.85.
	if th := chooseThreshold(score, pos, bg, 0.001); th <= 0.85 {
		t.Errorf("threshold %v lets background through", th)
	}
}

func BenchmarkPredict(b *testing.B) {
	cfg := testConfig(11, 300)
	cfg.Fit.Hidden = []int{256, 128}
	cfg.Fit.Epochs = 1
	cfg.Ensemble = 3
	m, err := Train(blobs(11, 300, 12, 6), cfg)
	if err != nil {
		b.Fatal(err)
	}
	p := m.NewPredictor()
	x := make([]float32, 300)
	probs := make([]float64, 11)
	b.ReportAllocs()
	for b.Loop() {
		p.Predict(x, probs)
	}
}

// The model the binary embeds decodes, is consistent, and names itself.
func TestEmbeddedModelDecodes(t *testing.T) {
	m, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Version, "eh-") || len(m.Classes) != 11 || len(m.Nets) == 0 {
		t.Fatalf("embedded model %s: %d classes, %d networks", m.Version, len(m.Classes), len(m.Nets))
	}
	if m.StreamThreshold < m.Threshold {
		t.Errorf("stream threshold %.3f below the clip threshold %.3f", m.StreamThreshold, m.Threshold)
	}
}

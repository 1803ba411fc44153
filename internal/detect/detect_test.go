package detect

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/empowerher/empowerher/internal/corpus"
	"github.com/empowerher/empowerher/internal/features"
	"github.com/empowerher/empowerher/internal/model"
)

const sr = 16000

// Synthetic sounds with known answers: a "scream" is a loud, high,
// rough (70 Hz amplitude-modulated) harmonic tone; "calm" is a low,
// steady harmonic voice with syllable-rate (4 Hz) envelope; background
// is pink-ish noise.
func scream(n int, r *rand.Rand) []float32 {
	x := make([]float32, n)
	f0 := 900 + 100*r.Float64()
	for i := range x {
		t := float64(i) / sr
		env := 0.5 + 0.5*math.Sin(2*math.Pi*70*t)
		v := 0.0
		for h := 1; h <= 4; h++ {
			v += math.Sin(2*math.Pi*f0*float64(h)*t*(1+0.01*math.Sin(2*math.Pi*5*t))) / float64(h)
		}
		x[i] = float32(0.3*env*v + 0.01*r.NormFloat64())
	}
	return x
}

func calm(n int, r *rand.Rand) []float32 {
	x := make([]float32, n)
	f0 := 110 + 20*r.Float64()
	for i := range x {
		t := float64(i) / sr
		env := math.Max(0, math.Sin(2*math.Pi*4*t))
		v := 0.0
		for h := 1; h <= 8; h++ {
			v += math.Sin(2*math.Pi*f0*float64(h)*t) / float64(h*h)
		}
		x[i] = float32(0.2*env*v + 0.002*r.NormFloat64())
	}
	return x
}

func noise(n int, level float64, r *rand.Rand) []float32 {
	x := make([]float32, n)
	var b float64
	for i := range x {
		b = 0.97*b + 0.03*r.NormFloat64()
		x[i] = float32(level * (b*4 + 0.3*r.NormFloat64()))
	}
	return x
}

var (
	testDetOnce sync.Once
	testDet     *Detector
)

// testDetector trains a small real model on the synthetic sounds, so
// the detector is tested with the same code paths as the shipped one.
func testDetector(t testing.TB) *Detector {
	testDetOnce.Do(func() {
		r := rand.New(rand.NewPCG(1, 2))
		data := &model.Data{D: features.NumFunctionals}
		add := func(x []float32, class string, g int) {
			f := features.Extract(x)
			data.X = append(data.X, f...)
			for i, c := range corpus.Classes {
				if c == class {
					data.Y = append(data.Y, i)
				}
			}
			data.Group = append(data.Group, g)
			data.Clean = append(data.Clean, true)
		}
		for i := 0; i < 36; i++ {
			add(scream(2*sr, r), corpus.Scream, i%6)
			add(calm(2*sr, r), corpus.Neutral, i%6)
			add(noise(2*sr, 0.01+0.05*r.Float64(), r), corpus.Background, i%6)
		}
		cfg := model.TrainConfig{
			Classes: corpus.Classes, Features: features.FunctionalNames(), Distress: corpus.DistressClasses,
			Fit: model.DefaultFit(), Ensemble: 1, CalibrationGroup: -1, WeightPower: 1, Background: corpus.Background,
		}
		cfg.Fit.Hidden = []int{32}
		cfg.Fit.Epochs = 40
		m, err := model.Train(data, cfg)
		if err != nil {
			panic(err)
		}
		testDet, err = New(m)
		if err != nil {
			panic(err)
		}
	})
	return testDet
}

func TestAnalyzeSeparatesScreamFromCalm(t *testing.T) {
	d := testDetector(t)
	r := rand.New(rand.NewPCG(7, 7))
	s := d.Analyze(scream(3*sr, r))
	c := d.Analyze(calm(3*sr, r))
	if !s.Distress || s.Label != corpus.Scream {
		t.Errorf("scream: distress=%v label=%s score=%.3f", s.Distress, s.Label, s.Score)
	}
	if c.Distress {
		t.Errorf("calm voice flagged as distress (score %.3f, label %s)", c.Score, c.Label)
	}
	if s.ModelVersion == "" || s.DurationS != 3 || len(s.Timeline) == 0 || len(s.Classes) != len(corpus.Classes) {
		t.Errorf("incomplete result: %+v", s)
	}
}

func TestAnalyzeSilenceIsNotVoiced(t *testing.T) {
	d := testDetector(t)
	res := d.Analyze(make([]float32, 2*sr))
	if res.Voiced || res.Distress {
		t.Fatalf("digital silence: voiced=%v distress=%v", res.Voiced, res.Distress)
	}
	if res := d.Analyze(nil); res.Distress || res.Voiced {
		t.Fatalf("empty input: %+v", res)
	}
}

// feed streams x in chunks and returns the alarms.
func feed(s *Stream, x []float32, chunk int) []Alarm {
	var alarms []Alarm
	for off := 0; off < len(x); off += chunk {
		s.Write(x[off:min(off+chunk, len(x))], func(u Update) {
			if u.Alarm != nil {
				alarms = append(alarms, *u.Alarm)
			}
		})
	}
	return alarms
}

func concat(parts ...[]float32) []float32 {
	var x []float32
	for _, p := range parts {
		x = append(x, p...)
	}
	return x
}

func TestStreamOneOutburstOneAlarm(t *testing.T) {
	d := testDetector(t)
	r := rand.New(rand.NewPCG(3, 3))
	bg := func(sec float64) []float32 { return noise(int(sec*sr), 0.02, r) }
	x := concat(bg(10), scream(3*sr, r), bg(10))
	alarms := feed(d.NewStream(StreamConfig{}), x, 1600)
	if len(alarms) != 1 {
		t.Fatalf("got %d alarms for one outburst: %+v", len(alarms), alarms)
	}
	a := alarms[0]
	// The outburst is at 10–13 s; the alarm must come while it lasts (at
	// most 1.5 s after its start, the web app's target) and say so.
	if a.EndS < 10 || a.EndS > 11.5 || a.StartS > 11 {
		t.Errorf("alarm %+v does not match the outburst at 10–13 s", a)
	}
	if a.Label != corpus.Scream {
		t.Errorf("alarm label %q", a.Label)
	}
}

func TestStreamCooldown(t *testing.T) {
	d := testDetector(t)
	r := rand.New(rand.NewPCG(4, 4))
	bg := func(sec float64) []float32 { return noise(int(sec*sr), 0.02, r) }
	// Two screams 4 s apart: one outburst within the 10 s cooldown.
	close := concat(bg(5), scream(2*sr, r), bg(4), scream(2*sr, r), bg(5))
	if n := len(feed(d.NewStream(StreamConfig{}), close, 1600)); n != 1 {
		t.Errorf("two screams 4 s apart gave %d alarms, want 1", n)
	}
	// 25 s apart: two outbursts, two alarms.
	far := concat(bg(5), scream(2*sr, r), bg(25), scream(2*sr, r), bg(5))
	if n := len(feed(d.NewStream(StreamConfig{}), far, 1600)); n != 2 {
		t.Errorf("two screams 25 s apart gave %d alarms, want 2", n)
	}
	// Background and calm speech alone: none.
	quiet := concat(bg(20), calm(10*sr, r), bg(20))
	if a := feed(d.NewStream(StreamConfig{}), quiet, 1600); len(a) != 0 {
		t.Errorf("calm speech and noise raised %d alarms: %+v", len(a), a)
	}
}

func TestStreamChunkSizeDoesNotMatter(t *testing.T) {
	d := testDetector(t)
	r := rand.New(rand.NewPCG(5, 5))
	x := concat(noise(4*sr, 0.02, r), scream(3*sr, r), calm(3*sr, r))
	var ref []Update
	d.NewStream(StreamConfig{}).Write(x, func(u Update) { ref = append(ref, u) })
	for _, chunk := range []int{1, 160, 333, 4096} {
		var got []Update
		s := d.NewStream(StreamConfig{})
		for off := 0; off < len(x); off += chunk {
			s.Write(x[off:min(off+chunk, len(x))], func(u Update) { got = append(got, u) })
		}
		if len(got) != len(ref) {
			t.Fatalf("chunk %d: %d updates, want %d", chunk, len(got), len(ref))
		}
		for i := range got {
			if got[i].Score != ref[i].Score || got[i].Voiced != ref[i].Voiced || (got[i].Alarm == nil) != (ref[i].Alarm == nil) {
				t.Fatalf("chunk %d: update %d = %+v, want %+v", chunk, i, got[i], ref[i])
			}
		}
	}
}

func TestStreamStateIsBounded(t *testing.T) {
	d := testDetector(t)
	s := d.NewStream(StreamConfig{})
	r := rand.New(rand.NewPCG(6, 6))
	feed(s, noise(5*sr, 0.02, r), 1600)
	before := s.StateBytes()
	feed(s, concat(noise(60*sr, 0.02, r), scream(3*sr, r)), 1600)
	after := s.StateBytes()
	if after != before {
		t.Errorf("state grew from %d to %d bytes over a minute of audio", before, after)
	}
	if after > 256<<10 {
		t.Errorf("stream state %d bytes, target ≤ 256 KB", after)
	}
	t.Logf("stream state: %d bytes", after)
}

func TestNewRejectsModelOfOtherFeatures(t *testing.T) {
	m := *testDetector(t).Model()
	m.Features = append([]string{"something else"}, m.Features[1:]...)
	if _, err := New(&m); err == nil {
		t.Fatal("model with other feature names accepted")
	}
}

func BenchmarkAnalyze4s(b *testing.B) {
	d := testDetector(b)
	x := concat(calm(2*sr, rand.New(rand.NewPCG(1, 1))), scream(2*sr, rand.New(rand.NewPCG(2, 2))))
	b.ReportAllocs()
	b.SetBytes(int64(len(x) * 2))
	for b.Loop() {
		d.Analyze(x)
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/4, "s/audio-s")
}

func BenchmarkStream(b *testing.B) {
	d := testDetector(b)
	s := d.NewStream(StreamConfig{})
	x := noise(sr, 0.02, rand.New(rand.NewPCG(1, 1)))
	b.ReportAllocs()
	for b.Loop() {
		for off := 0; off < len(x); off += 1600 {
			s.Write(x[off:off+1600], nil)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/audio-s")
}

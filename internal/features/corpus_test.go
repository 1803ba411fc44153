package features

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/corpus"
)

// On real recordings: speaking F0 lies in the known ranges for men and
// women, screams are higher and rougher than neutral speech, and a 20 dB
// gain change leaves the functionals put.
func TestCorpusSanity(t *testing.T) {
	dir := corpus.Find()
	if dir == "" {
		t.Skip(corpus.SkipMessage)
	}
	load := func(pattern string, n int) [][]float32 {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		slices.Sort(files)
		if len(files) < n {
			t.Fatalf("%s: %d files", pattern, len(files))
		}
		var out [][]float32
		for _, f := range files[:n] {
			c, err := audio.DecodeFile(f, audio.Options{})
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, c.Samples)
		}
		return out
	}
	names := FunctionalNames()
	idx := func(n string) int { return slices.Index(names, n) }
	median := func(clips [][]float32, name string) float64 {
		var v []float64
		for _, c := range clips {
			v = append(v, float64(Extract(c)[idx(name)]))
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	semitoneHz := func(st float64) float64 { return 27.5 * math.Pow(2, st/12) }

	male := load("ravdess/Actor_01/03-01-01-*", 4)   // neutral, actor 1 (male)
	female := load("ravdess/Actor_02/03-01-01-*", 4) // neutral, actor 2 (female)
	screams := load("nonverbal/screaming/*.flac", 8)
	if f0 := semitoneHz(median(male, "f0_semitone_p50")); f0 < 80 || f0 > 180 {
		t.Errorf("male neutral speech median F0 %.0f Hz, want 80–180", f0)
	}
	if f0 := semitoneHz(median(female, "f0_semitone_p50")); f0 < 150 || f0 > 300 {
		t.Errorf("female neutral speech median F0 %.0f Hz, want 150–300", f0)
	}
	speech := append(male, female...)
	if s, n := median(screams, "f0_semitone_p50"), median(speech, "f0_semitone_p50"); s < n+6 {
		t.Errorf("screams' median F0 %.0f Hz not half an octave above speech's %.0f Hz", semitoneHz(s), semitoneHz(n))
	}
	for _, c := range append(speech, screams...) {
		a, b := Extract(c), Extract(scaled(c, 0.1))
		for i := range a {
			if d := math.Abs(float64(a[i] - b[i])); d > 0.02*math.Max(math.Abs(float64(a[i])), math.Abs(float64(b[i])))+1e-3 {
				t.Errorf("−20 dB moved %s from %.4g to %.4g", names[i], a[i], b[i])
			}
		}
	}
}

// BenchmarkExtractRAVDESS runs Extract over real speech clips.
func BenchmarkExtractRAVDESS(b *testing.B) {
	dir := corpus.Find()
	if dir == "" {
		b.Skip(corpus.SkipMessage)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "ravdess/Actor_01/*.flac"))
	var clips [][]float32
	var seconds float64
	for _, f := range files[:min(len(files), 10)] {
		c, err := audio.DecodeFile(f, audio.Options{})
		if err != nil {
			b.Fatal(err)
		}
		clips = append(clips, c.Samples)
		seconds += float64(len(c.Samples)) / SampleRate
	}
	start := cpuTime()
	for b.Loop() {
		for _, c := range clips {
			Extract(c)
		}
	}
	reportRealtime(b, start, seconds)
}

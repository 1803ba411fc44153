package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/empowerher/empowerher/internal/audio"
)

func writeTone(t *testing.T, dir, name string, seconds float64) string {
	t.Helper()
	n := int(seconds * audio.SampleRate)
	x := make([]float32, n)
	for i := range x {
		tt := float64(i) / audio.SampleRate
		x[i] = float32(0.2 * math.Sin(2*math.Pi*150*tt) * math.Max(0, math.Sin(2*math.Pi*3*tt)))
	}
	var buf bytes.Buffer
	if err := audio.EncodeWAV16(&buf, x, audio.SampleRate); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A bad file gets an error line and a non-zero exit; the others are
// still scored, each line naming the embedded model's version.
func TestPredictJSONKeepsGoingPastBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := writeTone(t, dir, "voice.wav", 3)
	bad := filepath.Join(dir, "notes.txt")
	os.WriteFile(bad, []byte("not audio"), 0o600)
	good2 := writeTone(t, dir, "voice2.wav", 1.5)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"predict", "--json", good, bad, good2}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (one bad file); stderr %s", code, errb.String())
	}
	var lines []predictLine
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var l predictLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	for i, l := range lines {
		if !strings.HasPrefix(l.ModelVersion, "eh-") {
			t.Errorf("line %d: model version %q", i, l.ModelVersion)
		}
	}
	if lines[1].Error == "" || lines[1].File != bad {
		t.Errorf("bad file line %+v", lines[1])
	}
	for _, i := range []int{0, 2} {
		l := lines[i]
		if l.Error != "" || len(l.Emotions) != 11 || l.Score < 0 || l.Score > 1 {
			t.Errorf("line %d: %+v", i, l)
		}
		sum := 0.0
		for _, p := range l.Emotions {
			sum += p
		}
		if math.Abs(sum-1) > 0.01 {
			t.Errorf("line %d: probabilities sum to %.4f", i, sum)
		}
	}
	if math.Abs(lines[0].DurationS-3) > 0.01 {
		t.Errorf("duration %v, want 3", lines[0].DurationS)
	}
}

func TestListenJSON(t *testing.T) {
	p := writeTone(t, t.TempDir(), "calm.wav", 20)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"listen", "--json", p}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// Every line, if any, is an alarm with the documented fields.
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var a map[string]any
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"start_s", "end_s", "score", "label", "model_version"} {
			if _, ok := a[k]; !ok {
				t.Errorf("alarm %v lacks %q", a, k)
			}
		}
	}
	if code := run(context.Background(), []string{"listen"}, &out, &errb); code != 2 {
		t.Errorf("listen without a file: exit %d, want 2", code)
	}
}

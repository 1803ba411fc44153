package browsertest

import (
	"testing"

	"github.com/empowerher/empowerher/internal/corpus"

	"github.com/empowerher/empowerher/internal/detect"
)

// BenchmarkStreamSecond is the server's cost of one second of live audio
// on one stream (the load test's budget: 2 cores / 500 streams = 4 ms).
func BenchmarkStreamSecond(b *testing.B) {
	root := corpus.Find()
	if root == "" {
		b.Skip(corpus.SkipMessage)
	}
	d := testDetector(b, root)
	x := make([]float32, 16000)
	for i := range x {
		x[i] = float32(0.2 * float64((i*7919)%200-100) / 100)
	}
	s := d.NewStream(detect.StreamConfig{})
	b.ResetTimer()
	for b.Loop() {
		for off := 0; off < len(x); off += 1600 {
			s.Write(x[off:off+1600], nil)
		}
	}
}

func TestStreamStateBytes(t *testing.T) {
	root := corpus.Find()
	if root == "" {
		t.Skip(corpus.SkipMessage)
	}
	d := testDetector(t, root)
	s := d.NewStream(detect.StreamConfig{})
	t.Logf("detect.Stream state: %d bytes", s.StateBytes())
}

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
	// Real voice (screams), so every window is voiced and fully analysed.
	clips := screamClips(b, root)
	_, all := micFile(b, root, 0, 0, clips...)
	x := all[:16000*(len(all)/16000)]
	voiced, hops := 0, 0
	s := d.NewStream(detect.StreamConfig{})
	count := func(u detect.Update) {
		hops++
		if u.Voiced {
			voiced++
		}
	}
	b.ResetTimer()
	sec := 0
	for b.Loop() {
		off := (sec * 16000) % len(x)
		for k := off; k < off+16000; k += 1600 {
			s.Write(x[k:k+1600], count)
		}
		sec++
	}
	b.ReportMetric(float64(voiced)/float64(max(hops, 1)), "voiced/hop")
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

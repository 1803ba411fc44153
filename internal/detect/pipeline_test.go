package detect

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/corpus"
)

// BenchmarkPipeline is the speed target of issue 2: decode + features +
// inference with the embedded model, on one core (run with -cpu 1).
// x-realtime is audio seconds per second of benchmark time, x-realtime-cpu
// per second of process CPU time (with -cpu 1, one core).
func BenchmarkPipelineWAV4s(b *testing.B) {
	d, err := Default()
	if err != nil {
		b.Skip(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	x := concat(calm(2*sr, r), scream(2*sr, r))
	var buf bytes.Buffer
	if err := audio.EncodeWAV16(&buf, x, sr); err != nil {
		b.Fatal(err)
	}
	benchPipeline(b, d, [][]byte{buf.Bytes()})
}

// BenchmarkPipelineRAVDESS runs the same over 48 RAVDESS FLAC files (two
// per actor) when the corpora are present.
func BenchmarkPipelineRAVDESS(b *testing.B) {
	d, err := Default()
	if err != nil {
		b.Skip(err)
	}
	dir := corpus.Find()
	if dir == "" {
		b.Skip(corpus.SkipMessage)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "ravdess", "Actor_*", "03-01-0[56]-01-01-01-*.flac"))
	var blobs [][]byte
	for _, f := range files {
		blob, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		blobs = append(blobs, blob)
	}
	if len(blobs) == 0 {
		b.Skip("no RAVDESS files matched")
	}
	benchPipeline(b, d, blobs)
}

func benchPipeline(b *testing.B, d *Detector, blobs [][]byte) {
	var seconds float64
	for _, blob := range blobs {
		c, err := audio.DecodeBytes(blob, audio.Options{})
		if err != nil {
			b.Fatal(err)
		}
		seconds += c.Duration().Seconds()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, blob := range blobs {
			c, err := audio.DecodeBytes(blob, audio.Options{})
			if err != nil {
				b.Fatal(err)
			}
			d.Analyze(c.Samples)
		}
	}
	// Wall-clock and CPU-time real-time factors: on a busy machine the
	// wall figure drops while the CPU figure (audio seconds per second of
	// this process's CPU) still measures the code.
	b.ReportMetric(seconds*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(seconds*float64(b.N)/cpu, "x-realtime-cpu")
	}
}

package features

import (
	"testing"
	"time"
)

// go test ./internal/features -run '^$' -bench . -benchmem
//
// Besides ns/op each benchmark reports cpu-ns/op (process CPU time per op,
// robust to an oversubscribed machine) and x-realtime (audio seconds
// processed per CPU second).

func reportRealtime(b *testing.B, start time.Duration, audioSeconds float64) {
	cpu := cpuTime() - start
	if cpu <= 0 || b.N == 0 {
		return
	}
	perOp := float64(cpu.Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp, "cpu-ns/op")
	b.ReportMetric(audioSeconds/(perOp*1e-9), "x-realtime")
}

func BenchmarkFrontend1s(b *testing.B) {
	x := voiceLike(SampleRate)
	f := NewFrontend()
	dst := make([]float32, 0, 200*NumLLD)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		f.Reset()
		dst = f.Write(dst[:0], x)
	}
	reportRealtime(b, start, 1)
}

func BenchmarkSummarizer4s(b *testing.B) {
	llds := NewFrontend().Write(nil, voiceLike(4*SampleRate))
	s := NewSummarizer()
	out := make([]float32, 0, NumFunctionals)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		out = s.Functionals(out[:0], llds)
	}
	reportRealtime(b, start, 4)
}

func BenchmarkExtract4s(b *testing.B) {
	x := voiceLike(4 * SampleRate)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		Extract(x)
	}
	reportRealtime(b, start, 4)
}

func BenchmarkMeanMFCC40_4s(b *testing.B) {
	x := voiceLike(4 * SampleRate)
	start := cpuTime()
	for b.Loop() {
		MeanMFCC40(x)
	}
	reportRealtime(b, start, 4)
}

package features

// Per-stage benchmarks of one LLD frame (cpu-ns/op is CPU time per frame),
// to see where the Frontend's time goes:
//
//	go test ./internal/features -run '^$' -bench Part -cpu 1

import "testing"

func BenchmarkPartSpectral(b *testing.B) {
	x := voiceLike(SampleRate)
	f := NewFrontend()
	var out [NumLLD]float32
	i := 0
	start := cpuTime()
	for b.Loop() {
		f.spectral(out[:], x[i:i+WindowSize])
		i = (i + HopSize) % (SampleRate - WindowSize)
	}
	reportRealtime(b, start, 0.02)
}

func BenchmarkPartPitch(b *testing.B) {
	x := voiceLike(SampleRate)
	f := NewFrontend()
	f.Write(nil, x[:8000])
	start := cpuTime()
	for b.Loop() {
		f.pitch.analyze(f.x4[:], f.x8[:])
	}
	reportRealtime(b, start, 0.02)
}

func BenchmarkPartRough(b *testing.B) {
	x := voiceLike(SampleRate)
	f := NewFrontend()
	f.Write(nil, x[:8000])
	start := cpuTime()
	for b.Loop() {
		f.rough.measure()
	}
	reportRealtime(b, start, 0.02)
}

func BenchmarkPartHop(b *testing.B) {
	x := voiceLike(SampleRate)
	f := NewFrontend()
	f.Write(nil, x[:8000])
	start := cpuTime()
	for b.Loop() {
		f.hop(HopSize)
	}
	reportRealtime(b, start, 0.02)
}

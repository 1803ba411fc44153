package audio

import (
	"os"
	"syscall"
	"testing"
)

// reportRealtime adds "x_realtime": seconds of audio processed per second
// of wall time, the unit the pipeline target (≥ 1000× real time) is stated
// in. On a shared, loaded machine run with -cpu 1 and compare
// x_realtime_cpu, which divides by the process's CPU time instead.
func reportRealtime(b *testing.B, audioSeconds float64) {
	b.ReportMetric(audioSeconds*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
	if cpu := cpuSeconds() - benchCPUStart; cpu > 0 {
		b.ReportMetric(audioSeconds*float64(b.N)/cpu, "x_realtime_cpu")
	}
}

var benchCPUStart float64

// startCPU marks the start of the timed loop for x_realtime_cpu.
func startCPU() { benchCPUStart = cpuSeconds() }

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func benchDecode(b *testing.B, data []byte, seconds float64) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	startCPU()
	for b.Loop() {
		if _, err := DecodeBytes(data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	reportRealtime(b, seconds)
}

func BenchmarkDecodeWAV4s(b *testing.B) {
	benchDecode(b, pcm16(16000, tone(16000, 4, 440, 0.5)), 4)
}

func BenchmarkDecodeWAV4s48kStereo(b *testing.B) {
	x := tone(48000, 4, 440, 0.5)
	benchDecode(b, makeWAV(wavSpec{tag: wavFormatPCM, bits: 16, rate: 48000, dataSize: -1}, [][]float64{x, x}), 4)
}

func BenchmarkDecodeFLAC4s(b *testing.B) {
	benchDecode(b, makeFLAC(b, 16000, 16, [][]int32{quantize(tone(16000, 4, 440, 0.5), 16)}), 4)
}

func benchFile(b *testing.B, name string) {
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data, 1)
}

func BenchmarkDecodeOggOpus1s(b *testing.B)   { benchFile(b, "tone1k.opus") }
func BenchmarkDecodeWebMOpus1s(b *testing.B)  { benchFile(b, "tone1k.webm") }
func BenchmarkDecodeOggVorbis1s(b *testing.B) { benchFile(b, "tone1k_vorbis.ogg") }
func BenchmarkDecodeMP31s(b *testing.B)       { benchFile(b, "tone1k_44k.mp3") }

func benchResample(b *testing.B, rate int) {
	x := toF32(tone(rate, 1, 440, 0.5))
	dst := make([]float32, 0, SampleRate+16)
	Resample(dst, x, rate) // build the cached table outside the timing
	b.ReportAllocs()
	startCPU()
	for b.Loop() {
		dst = Resample(dst[:0], x, rate)
	}
	reportRealtime(b, 1)
}

func BenchmarkResample48k(b *testing.B) { benchResample(b, 48000) }
func BenchmarkResample44k(b *testing.B) { benchResample(b, 44100) }
func BenchmarkResample8k(b *testing.B)  { benchResample(b, 8000) }
func BenchmarkResample96k(b *testing.B) { benchResample(b, 96000) }
func BenchmarkResampleOdd(b *testing.B) { benchResample(b, 12345) }

func BenchmarkResamplerStream48k(b *testing.B) {
	x := toF32(tone(48000, 1, 440, 0.5))
	r, _ := NewResampler(48000)
	dst := make([]float32, 0, 2048)
	b.ReportAllocs()
	startCPU()
	for b.Loop() {
		for i := 0; i < len(x); i += 960 { // 20 ms chunks, as a microphone sends them
			dst = r.Process(dst[:0], x[i:i+960])
		}
	}
	reportRealtime(b, 1)
}

package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"testing"
	"time"
)

func TestFLAC(t *testing.T) {
	for _, c := range []struct {
		rate, bps, ch int
	}{{16000, 16, 1}, {44100, 16, 2}, {48000, 24, 1}, {22050, 8, 3}} {
		chans := make([][]int32, c.ch)
		for i := range chans {
			chans[i] = quantize(tone(c.rate, 0.5, 1000, 0.5), c.bps)
		}
		b := makeFLAC(t, c.rate, c.bps, chans)
		clip, err := DecodeBytes(b, Options{})
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if clip.Format != "flac" || clip.SourceRate != c.rate || clip.SourceChannels != c.ch || clip.Duration() != 500*time.Millisecond {
			t.Fatalf("%+v: clip %s %d %d %v", c, clip.Format, clip.SourceRate, clip.SourceChannels, clip.Duration())
		}
		amp, res := toneAmp(interior(clip.Samples), SampleRate, 1000)
		if math.Abs(dB(amp/0.5)) > 0.1 || dB(res/0.5) < -200 || dB(res/0.5) > -40 {
			t.Fatalf("%+v: amplitude %.4f residual %.1f dB", c, amp, dB(res/0.5))
		}
		// Cut mid-frame: the frames before survive.
		clip, err = DecodeBytes(b[:len(b)*3/4], Options{})
		if err != nil || !clip.Truncated || clip.Duration() < 250*time.Millisecond {
			t.Fatalf("%+v truncated: %v", c, err)
		}
	}
	b := makeFLAC(t, 16000, 16, [][]int32{quantize(tone(16000, 3, 300, 0.5), 16)})
	_, err := DecodeBytes(b, Options{MaxDuration: time.Second})
	wantKind(t, err, KindTooLong)
	// A stream-info claim of 2^36 samples is rejected before decoding.
	huge := bytes.Clone(b)
	// NSamples: low 36 bits of bytes 18..25 of the StreamInfo body (file offset 8+10).
	huge[21] |= 0x0F
	_, err = DecodeBytes(huge, Options{})
	wantKind(t, err, KindTooLong)
	bad := bytes.Clone(b)
	for i := 200; i < 260; i++ {
		bad[i] ^= 0x5A
	}
	_, err = DecodeBytes(bad, Options{})
	wantKind(t, err, KindCorrupt)
	_, err = DecodeBytes(b[:30], Options{})
	wantKind(t, err, KindTruncated)
}

// checkFixture decodes a tiny committed file of a 1 kHz, 1 s, 0.5-amplitude
// tone (see testdata/README.md) and checks what a lossy codec preserves.
func checkFixture(t *testing.T, name, format string, rate, channels int, durTol time.Duration) *Clip {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	clip, err := DecodeBytes(b, Options{})
	if err != nil {
		t.Fatalf("%s: %v (%v)", name, err, err.(*Error).Err)
	}
	if clip.Format != format || clip.SourceRate != rate || clip.SourceChannels != channels || clip.Truncated {
		t.Fatalf("%s: %s %d Hz %d ch truncated=%v", name, clip.Format, clip.SourceRate, clip.SourceChannels, clip.Truncated)
	}
	if d := clip.Duration() - time.Second; d < -durTol || d > durTol {
		t.Fatalf("%s: duration %v, want 1s ± %v", name, clip.Duration(), durTol)
	}
	amp, res := toneAmp(interior(clip.Samples), SampleRate, 1000)
	if math.Abs(dB(amp/0.5)) > 1 {
		t.Fatalf("%s: 1 kHz amplitude %.3f, want 0.5 ± 1 dB", name, amp)
	}
	// Per 100 ms, the tone must stand well clear of the coding noise.
	// pion/opus glitches for one frame where libopus switches between
	// CELT and hybrid modes (about 17 dB there, 40–50 dB elsewhere; libopus
	// itself decodes these files at 31 dB overall), so one bad segment in
	// ten is tolerated.
	bad := 0
	for s := 0; s+1600 <= len(clip.Samples); s += 1600 {
		a, r := toneAmp(clip.Samples[s:s+1600], SampleRate, 1000)
		if dB(a/math.Sqrt2/r) < 20 {
			bad++
		}
	}
	if bad > 1 {
		t.Fatalf("%s: %d of 10 segments have tone-to-noise under 20 dB", name, bad)
	}
	if snr := dB(amp / math.Sqrt2 / res); snr < 12 {
		t.Fatalf("%s: tone-to-residual %.1f dB, want ≥ 12", name, snr)
	}
	// The tone starts at t=0: a misaligned pre-skip or encoder delay would
	// leave the first 20 ms (and the last) silent or shift the phase.
	head := clip.Samples[160:480]
	if r := rms(head); r < 0.25 {
		t.Fatalf("%s: start of the tone missing (rms %.3f)", name, r)
	}
	return clip
}

func TestOggOpus(t *testing.T) {
	checkFixture(t, "tone1k.opus", "ogg/opus", 48000, 1, time.Millisecond)
	checkFixture(t, "tone1k_silk.opus", "ogg/opus", 48000, 1, time.Millisecond)
	checkFixture(t, "tone1k_hybrid.opus", "ogg/opus", 48000, 1, time.Millisecond)
}

func TestOggVorbis(t *testing.T) {
	checkFixture(t, "tone1k_vorbis.ogg", "ogg/vorbis", 44100, 2, time.Millisecond)
}

// Old Firefox MediaRecorder wrote Vorbis in WebM; no end trimming there, so
// up to one Vorbis block (≤ 2048 samples at 44.1 kHz) of padding remains.
func TestWebMVorbis(t *testing.T) {
	checkFixture(t, "tone1k_vorbis.webm", "webm/vorbis", 44100, 2, 50*time.Millisecond)
}

func TestWebMOpus(t *testing.T) {
	checkFixture(t, "tone1k.webm", "webm/opus", 48000, 1, time.Millisecond)
	live := checkFixture(t, "tone1k_live.webm", "webm/opus", 48000, 1, time.Millisecond)
	// MediaRecorder (Chrome, Firefox) writes Segments and Clusters of
	// unknown size; rewrite the live file that way and decode it again.
	b, _ := os.ReadFile("testdata/tone1k_live.webm")
	u := unknownSizeClusters(t, b)
	clip, err := DecodeBytes(u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !equalF32(clip.Samples, live.Samples) {
		t.Fatal("unknown-size clusters decode differently")
	}
	// Cut in the middle: the first half survives.
	clip, err = DecodeBytes(u[:len(u)/2], Options{})
	if err != nil || !clip.Truncated || clip.Duration() < 300*time.Millisecond {
		t.Fatalf("truncated webm: %v", err)
	}
	_, err = DecodeBytes(u[:40], Options{})
	wantKind(t, err, KindTruncated)
}

func TestMP3(t *testing.T) {
	checkFixture(t, "tone1k_44k.mp3", "mp3", 44100, 2, 0)
	// MPEG-2 at 22.05 kHz (no gapless tag handling needed for the checks).
	b, _ := os.ReadFile("testdata/tone1k_22k_mpeg2.mp3")
	clip, err := DecodeBytes(b, Options{})
	if err != nil || clip.SourceRate != 22050 {
		t.Fatalf("mpeg2: %v", err)
	}
	amp, _ := toneAmp(interior(clip.Samples), SampleRate, 1000)
	if math.Abs(dB(amp/0.5)) > 1 {
		t.Fatalf("mpeg2 amplitude %.3f", amp)
	}
	// A leading ID3v2 tag claiming 256 MiB must not be allocated.
	tag := []byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f")
	_, err = DecodeBytes(append(tag, b...), Options{})
	wantKind(t, err, KindTruncated)
}

func TestOggDamage(t *testing.T) {
	b, _ := os.ReadFile("testdata/tone1k.opus")
	clip, err := DecodeBytes(b[:len(b)*2/3], Options{})
	if err != nil || !clip.Truncated || clip.Duration() < 300*time.Millisecond {
		t.Fatalf("truncated: %v", err)
	}
	bad := bytes.Clone(b)
	bad[len(bad)/2] ^= 0xFF
	_, err = DecodeBytes(bad, Options{})
	wantKind(t, err, KindCorrupt)
	_, err = DecodeBytes(b[:20], Options{})
	wantKind(t, err, KindTruncated)
	_, err = DecodeBytes(b, Options{MaxDuration: 500 * time.Millisecond})
	wantKind(t, err, KindTooLong)
	v, _ := os.ReadFile("testdata/tone1k_vorbis.ogg")
	_, err = DecodeBytes(v, Options{MaxDuration: 500 * time.Millisecond})
	wantKind(t, err, KindTooLong)
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// unknownSizeClusters rewrites every Cluster of an (unknown-size Segment)
// WebM file with an 8-byte "unknown" size, as live recorders write them.
func unknownSizeClusters(t *testing.T, b []byte) []byte {
	t.Helper()
	var out []byte
	pos := 0
	n := 0
	for pos < len(b) {
		id, il, ok := readEBMLID(b[pos:])
		size, sl, ok2 := readEBMLSize(b[pos+il:])
		if !ok || !ok2 {
			t.Fatalf("bad element at %d", pos)
		}
		switch id {
		case ebmlIDHeader:
			out = append(out, b[pos:pos+il+sl+int(size)]...)
			pos += il + sl + int(size)
		case mkvSegment:
			if size != ebmlUnknownSize {
				t.Fatal("fixture segment has a known size")
			}
			out = append(out, b[pos:pos+il+sl]...)
			pos += il + sl
		default:
			if id == mkvCluster {
				out = binary.BigEndian.AppendUint32(out, mkvCluster)
				out = append(out, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
				n++
			} else {
				out = append(out, b[pos:pos+il+sl]...)
			}
			out = append(out, b[pos+il+sl:pos+il+sl+int(size)]...)
			pos += il + sl + int(size)
		}
	}
	if n == 0 {
		t.Fatal("no clusters")
	}
	return out
}

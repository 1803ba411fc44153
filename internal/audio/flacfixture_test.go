package audio

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mewkiz/flac"
	"github.com/mewkiz/flac/frame"
)

// flacFixtures are files in testdata/flac written by the reference encoder,
// flac(1) 1.4.2, from the synthetic signals of fixtureSignal, with the
// options that reach what mewkiz's encoder cannot: high-order LPC chosen by
// libFLAC, 32-bit stereo (33-bit side channels), 65535-sample blocks.
// Regenerate with EMPOWERHER_MAKE_FLAC_FIXTURES=1 go test -run TestMakeFLACFixtures.
var flacFixtures = []struct {
	name  string
	args  []string
	check func(t *testing.T, st fixtureStats)
}{
	{"lpc12_16bit.flac", []string{"-8"}, func(t *testing.T, st fixtureStats) {
		if st.maxLPC < 9 {
			t.Errorf("max LPC order %d, want up to 12", st.maxLPC)
		}
	}},
	{"lpc32_16bit.flac", []string{"--lax", "-l", "32", "-b", "4096", "-r", "8", "-p"}, func(t *testing.T, st fixtureStats) {
		if st.maxLPC <= 12 {
			t.Errorf("max LPC order %d, want above 12", st.maxLPC)
		}
	}},
	{"stereo_24bit.flac", []string{"-8", "-b", "1152"}, func(t *testing.T, st fixtureStats) {
		if len(st.assigns) < 2 {
			t.Errorf("channel assignments %v, want several", st.assigns)
		}
	}},
	{"stereo_32bit.flac", []string{"--lax", "-8"}, func(t *testing.T, st fixtureStats) {
		if st.assigns[8]+st.assigns[9]+st.assigns[10] == 0 {
			t.Errorf("channel assignments %v, want side coding (33-bit side)", st.assigns)
		}
	}},
	{"fixed_8bit_wasted.flac", []string{"-0", "-b", "192"}, func(t *testing.T, st fixtureStats) {
		if !st.wasted || st.maxLPC != 0 {
			t.Errorf("wasted bits %v, max LPC order %d; want wasted bits, fixed predictors only", st.wasted, st.maxLPC)
		}
	}},
	{"block65535_16bit.flac", []string{"--lax", "-5", "-b", "65535"}, nil},
}

// fixtureSignal is the audio behind a fixture, in integers so that it is
// the same on every platform: noise through a
// bank of two-pole resonators, which LPC predicts well, and for stereo a
// second channel that is by turns correlated with the first, independent
// and mirrored, so the encoder picks different channel assignments.
func fixtureSignal(name string) (rate, bps int, chans [][]int32) {
	rate, bps, ch, n, wasted, sparse := 16000, 16, 1, 8000, 0, false
	switch name {
	case "stereo_24bit.flac":
		rate, bps, ch, n = 48000, 24, 2, 3456
	case "stereo_32bit.flac":
		bps, ch, n = 32, 2, 2304
	case "fixed_8bit_wasted.flac":
		rate, bps, n, wasted = 8000, 8, 4000, 2
	case "block65535_16bit.flac":
		n, sparse = 66000, true
	}
	r := rand.New(rand.NewPCG(uint64(len(name)), 9))
	full := int64(1) << (bps - 1)
	// Resonator coefficients in Q14: c1 = 2ρcos(ω), c2 = ρ², ρ ≈ 0.995.
	c1s := []int64{31000, 26000, 17000, 3000, -11000, -24000, -30500, 9000}
	const c2 = 16220
	gen := func() []int64 {
		y := make([]int64, n)
		if sparse { // triangle waves: long blocks of near-zero residual
			for i := range y {
				p := int64(i % 160)
				if p > 80 {
					p = 160 - p
				}
				y[i] = (p - 40) * 3
			}
			return y
		}
		var st [8][2]int64
		for i := range y {
			e := r.Int64N(1<<10) - 1<<9
			var sum int64
			for k, c1 := range c1s {
				v := (c1*st[k][0]-c2*st[k][1])>>14 + e
				st[k][1], st[k][0] = st[k][0], v
				sum += v
			}
			y[i] = sum
		}
		var peak int64 = 1
		for _, v := range y {
			peak = max(peak, v, -v)
		}
		for i := range y { // to about half of full scale
			y[i] = y[i] * (full / 2) / peak
		}
		return y
	}
	a, b := gen(), gen()
	chans = make([][]int32, ch)
	for c := range chans {
		x := make([]int32, n)
		for i := range x {
			v := a[i]
			if c == 1 {
				switch i / 1152 % 3 {
				case 0:
					v = a[i]*7/8 + b[i]/64
				case 1:
					v = b[i]
				default:
					v = -a[i] / 2
				}
			}
			v = max(min(v, full-1), -full)
			x[i] = int32(v &^ (int64(1)<<wasted - 1))
		}
		chans[c] = x
	}
	return rate, bps, chans
}

type fixtureStats struct {
	maxLPC  int
	wasted  bool
	assigns map[uint8]int
}

func TestFLACFixtures(t *testing.T) {
	for _, f := range flacFixtures {
		b, err := os.ReadFile(filepath.Join("testdata", "flac", f.name))
		if err != nil {
			t.Fatal(err)
		}
		rate, bps, want := fixtureSignal(f.name)
		got, truncated, err := flacInts(b)
		if err != nil || truncated {
			t.Fatalf("%s: truncated=%v %v", f.name, truncated, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d channels, want %d", f.name, len(got), len(want))
		}
		for c := range want {
			if i := firstDiff(got[c], want[c]); i >= 0 {
				t.Fatalf("%s: channel %d differs from the encoded signal at sample %d", f.name, c, i)
			}
		}
		st := fixtureStats{assigns: map[uint8]int{}}
		var d flacDecoder
		if err := d.parseHeader(b); err != nil {
			t.Fatal(err)
		}
		if d.info.rate != rate || int(d.info.bps) != bps {
			t.Fatalf("%s: %d Hz %d bit", f.name, d.info.rate, d.info.bps)
		}
		for {
			h, err := d.next()
			if err != nil {
				break
			}
			st.assigns[h.assign]++
		}
		if bps < 32 { // mewkiz/flac decodes 33-bit side channels wrongly
			sameAsMewkiz(t, f.name, b)
			stream, err := flac.New(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			for {
				fr, err := stream.ParseNext()
				if err != nil {
					break
				}
				for _, sf := range fr.Subframes {
					if sf.Pred == frame.PredFIR {
						st.maxLPC = max(st.maxLPC, sf.Order)
					}
					st.wasted = st.wasted || sf.Wasted > 0
				}
			}
		}
		if f.check != nil {
			f.check(t, st)
		}
		if _, err := DecodeBytes(b, Options{}); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
	}
}

func TestMakeFLACFixtures(t *testing.T) {
	if os.Getenv("EMPOWERHER_MAKE_FLAC_FIXTURES") == "" {
		t.Skip("set EMPOWERHER_MAKE_FLAC_FIXTURES=1 to rewrite testdata/flac with flac(1)")
	}
	if err := os.MkdirAll(filepath.Join("testdata", "flac"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range flacFixtures {
		rate, bps, chans := fixtureSignal(f.name)
		full := float64(int64(1) << (bps - 1))
		fl := make([][]float64, len(chans))
		for c, x := range chans {
			fl[c] = make([]float64, len(x))
			for i, v := range x {
				fl[c][i] = float64(v) / full
			}
		}
		wav := filepath.Join(t.TempDir(), "in.wav")
		if err := os.WriteFile(wav, makeWAV(wavSpec{tag: wavFormatPCM, bits: bps, rate: rate, dataSize: -1}, fl), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join("testdata", "flac", f.name)
		args := append([]string{"-s", "-f", "--no-padding", "--no-seektable", "-o", out}, f.args...)
		if msg, err := exec.Command("flac", append(args, wav)...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", f.name, err, msg)
		}
	}
}

package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"testing"

	"github.com/mewkiz/flac"
	"github.com/mewkiz/flac/frame"
	"github.com/mewkiz/flac/meta"
)

// The decoder is checked bit for bit against github.com/mewkiz/flac, on
// streams that mewkiz's encoder writes with every subframe type, residual
// coding, channel assignment and block size we choose (below), on flac(1)
// fixtures (flacfixture_test.go) and on the corpora (flaccorpus_test.go).

// flacInts decodes b with our decoder into per-channel integer samples.
func flacInts(b []byte) (chans [][]int32, truncated bool, err error) {
	var d flacDecoder
	if err := d.parseHeader(b); err != nil {
		return nil, false, err
	}
	chans = make([][]int32, d.info.channels)
	for {
		h, err := d.next()
		switch {
		case errors.Is(err, errFLACEnd):
			return chans, false, nil
		case errors.Is(err, errFLACTruncated):
			return chans, true, nil
		case err != nil:
			return chans, false, err
		}
		for c := range chans {
			chans[c] = append(chans[c], d.ch[c][:h.blockSize]...)
		}
	}
}

// mewkizInts decodes b with mewkiz/flac into per-channel integer samples.
func mewkizInts(b []byte) ([][]int32, error) {
	stream, err := flac.New(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	chans := make([][]int32, stream.Info.NChannels)
	for {
		f, err := stream.ParseNext()
		if err == io.EOF {
			return chans, nil
		}
		if err != nil {
			return chans, err
		}
		for c, sf := range f.Subframes {
			chans[c] = append(chans[c], sf.Samples...)
		}
	}
}

// decodeFLACMewkiz is decodeFLAC as it was before our decoder: mewkiz/flac
// frames mixed into the sink. Kept to prove the switch changed no sample.
func decodeFLACMewkiz(b []byte, opt Options, s *sink) error {
	const format = "flac"
	if end := id3v2End(b); end > 0 {
		if end > len(b) {
			return errTruncated(format, nil)
		}
		b = b[end:]
	}
	stream, err := flac.New(bytes.NewReader(b))
	if err != nil {
		if isEOF(err) {
			return errTruncated(format, err)
		}
		return errCorrupt(format, "", err)
	}
	info := stream.Info
	if err := s.init(format, int(info.SampleRate), int(info.NChannels), opt); err != nil {
		return err
	}
	if info.NSamples > uint64(s.maxFrames) {
		return errTooLong(format, opt)
	}
	for {
		f, err := stream.ParseNext()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if isEOF(err) {
				s.truncated = true
				return nil
			}
			return errCorrupt(format, "", err)
		}
		ch := len(f.Subframes)
		n := len(f.Subframes[0].Samples)
		bps := int(f.BitsPerSample)
		dst, err := s.grow(n)
		if err != nil {
			return err
		}
		scale := 1 / (float32(int64(1)<<(bps-1)) * float32(ch))
		if ch == 1 {
			for i, v := range f.Subframes[0].Samples {
				dst[i] = float32(v) * scale
			}
			continue
		}
		clear(dst)
		for _, sf := range f.Subframes {
			for i, v := range sf.Samples {
				dst[i] += float32(v) * scale
			}
		}
	}
}

// sameAsMewkiz checks that both decoders give the same integers, and that
// decodeFLAC gives the same float32 samples (bit for bit) as before.
func sameAsMewkiz(t *testing.T, name string, b []byte) {
	t.Helper()
	want, err := mewkizInts(b)
	if err != nil {
		t.Fatalf("%s: mewkiz: %v", name, err)
	}
	got, truncated, err := flacInts(b)
	if err != nil || truncated {
		t.Fatalf("%s: truncated=%v err=%v", name, truncated, err)
	}
	for c := range want {
		if i := firstDiff(got[c], want[c]); i >= 0 {
			t.Fatalf("%s: channel %d differs from mewkiz at sample %d of %d/%d", name, c, i, len(got[c]), len(want[c]))
		}
	}
	var s1, s2 sink
	err1 := decodeFLAC(b, Options{}, &s1)
	err2 := decodeFLACMewkiz(b, Options{}, &s2)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: decodeFLAC %v, before %v", name, err1, err2)
	}
	if s1.rate != s2.rate || s1.channels != s2.channels || s1.truncated != s2.truncated || !equalF32(s1.samples, s2.samples) {
		t.Fatalf("%s: mono float samples differ from the mewkiz-based decoder", name)
	}
}

func firstDiff(a, b []int32) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// subSpec says how the test encoder codes every subframe.
type subSpec struct {
	pred   frame.Pred
	order  int
	prec   int  // LPC coefficient precision (bits)
	rice2  bool // 5-bit Rice parameters
	porder int  // wanted partition order (lowered until it is valid)
	escape bool // every other partition stored verbatim ("escaped")
	wasted uint // wanted wasted bits (lowered to what the samples allow)
}

type flacCase struct {
	name     string
	rate     int
	bps      int
	chans    [][]int32
	blocks   []int // frame sizes, repeated; a fixed-size stream uses blocks[0]
	variable bool
	assign   frame.Channels // for two channels: LR, LeftSide, SideRight or MidSide
	sub      subSpec
}

// encode writes c with mewkiz's encoder, analysis off so that each
// subframe is exactly what c.sub asks for.
func (c flacCase) encode(t testing.TB) []byte {
	t.Helper()
	n := len(c.chans[0])
	bmin, bmax := slices.Min(c.blocks), slices.Max(c.blocks)
	if !c.variable {
		bmin, bmax = c.blocks[0], c.blocks[0]
	}
	info := &meta.StreamInfo{
		BlockSizeMin: uint16(max(bmin, 16)), BlockSizeMax: uint16(max(bmax, 16)),
		SampleRate: uint32(c.rate), NChannels: uint8(len(c.chans)),
		BitsPerSample: uint8(c.bps), NSamples: uint64(n),
	}
	var buf bytes.Buffer
	enc, err := flac.NewEncoder(&buf, info)
	if err != nil {
		t.Fatal(err)
	}
	enc.AnalysisEnabled = false
	layout := map[int]frame.Channels{1: frame.ChannelsMono, 2: frame.ChannelsLR, 3: frame.ChannelsLRC, 4: frame.ChannelsLRLsRs,
		5: frame.ChannelsLRCLsRs, 6: frame.ChannelsLRCLfeLsRs, 7: frame.ChannelsLRCLfeCsSlSr, 8: frame.ChannelsLRCLfeLsRsSlSr}[len(c.chans)]
	if len(c.chans) == 2 && c.assign != 0 {
		layout = c.assign
	}
	for start, k := 0, 0; start < n; k++ {
		size := c.blocks[0]
		if c.variable {
			size = c.blocks[k%len(c.blocks)]
		}
		end := min(start+size, n)
		f := &frame.Frame{Header: frame.Header{
			HasFixedBlockSize: !c.variable, BlockSize: uint16(end - start), SampleRate: uint32(c.rate),
			Channels: layout, BitsPerSample: uint8(c.bps),
		}}
		coded := decorrelateForTest(c.chans, start, end, layout)
		for ch := range c.chans {
			bps := c.bps
			if (layout == frame.ChannelsLeftSide || layout == frame.ChannelsMidSide) && ch == 1 ||
				layout == frame.ChannelsSideRight && ch == 0 {
				bps++
			}
			sf := c.sub.subframe(coded[ch], bps)
			sf.Samples = append([]int32(nil), c.chans[ch][start:end]...)
			sf.NSamples = end - start
			f.Subframes = append(f.Subframes, sf)
		}
		if err := enc.WriteFrame(f); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		start = end
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decorrelateForTest returns the samples the encoder will code for each
// subframe (mewkiz decorrelates inside WriteFrame).
func decorrelateForTest(chans [][]int32, start, end int, layout frame.Channels) [][]int32 {
	out := make([][]int32, len(chans))
	for c := range chans {
		out[c] = slices.Clone(chans[c][start:end])
	}
	if len(chans) != 2 {
		return out
	}
	l, r := chans[0][start:end], chans[1][start:end]
	for i := range l {
		side := l[i] - r[i]
		switch layout {
		case frame.ChannelsLeftSide:
			out[1][i] = side
		case frame.ChannelsSideRight:
			out[0][i] = side
		case frame.ChannelsMidSide:
			out[0][i] = int32((int64(l[i]) + int64(r[i])) >> 1)
			out[1][i] = side
		}
	}
	return out
}

// subframe chooses the header fields (predictor, coefficients, partition
// parameters) for coding x at bps bits.
func (s subSpec) subframe(x []int32, bps int) *frame.Subframe {
	n := len(x)
	sf := &frame.Subframe{SubHeader: frame.SubHeader{Pred: s.pred}}
	if s.pred == frame.PredConstant {
		for _, v := range x {
			if v != x[0] {
				sf.Pred = frame.PredVerbatim
				break
			}
		}
	}
	// Wasted bits: as many as asked for that every sample has.
	var or int32
	for _, v := range x {
		or |= v
	}
	if or != 0 {
		sf.Wasted = min(s.wasted, uint(bits.TrailingZeros32(uint32(or))), uint(bps-1))
	}
	if sf.Pred == frame.PredConstant || sf.Pred == frame.PredVerbatim {
		return sf
	}
	y := make([]int32, n)
	for i, v := range x {
		y[i] = v >> sf.Wasted
	}
	sf.Order = min(s.order, n)
	var coeffs []int32
	var shift int32
	if sf.Pred == frame.PredFixed {
		sf.Order = min(sf.Order, 4)
		coeffs = frame.FixedCoeffs[sf.Order]
	} else {
		sf.Order = max(sf.Order, 1)
		coeffs, shift = quantizedLPC(y, sf.Order, s.prec)
		sf.Coeffs, sf.CoeffShift, sf.CoeffPrec = coeffs, shift, uint(s.prec)
	}
	res := make([]int32, 0, n)
	for i := sf.Order; i < n; i++ {
		var p int64
		for j, c := range coeffs {
			p += int64(c) * int64(y[i-j-1])
		}
		res = append(res, y[i]-int32(p>>uint(shift)))
	}
	porder := s.porder
	for porder > 0 && (n%(1<<porder) != 0 || n>>porder < sf.Order) {
		porder--
	}
	sf.ResidualCodingMethod = frame.ResidualCodingMethodRice1
	maxK, escape := uint(14), uint(15)
	if s.rice2 {
		sf.ResidualCodingMethod = frame.ResidualCodingMethodRice2
		maxK, escape = 30, 31
	}
	rs := &frame.RiceSubframe{PartOrder: porder}
	psize := n >> porder
	for p := range 1 << porder {
		lo, hi := p*psize-sf.Order, (p+1)*psize-sf.Order
		part := res[max(lo, 0):hi]
		if s.escape && p%2 == 0 {
			var w uint
			for _, r := range part {
				w = max(w, uint(65-bits.LeadingZeros64(uint64(max(int64(r), -int64(r)-1)))))
			}
			if allZero32(part) {
				w = 0
			}
			rs.Partitions = append(rs.Partitions, frame.RicePartition{Param: escape, EscapedBitsPerSample: w})
			continue
		}
		rs.Partitions = append(rs.Partitions, frame.RicePartition{Param: bestRice(part, maxK)})
	}
	sf.RiceSubframe = rs
	return sf
}

func allZero32(x []int32) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

func bestRice(res []int32, maxK uint) uint {
	best, bestCost := uint(0), uint64(math.MaxUint64)
	for k := uint(0); k <= maxK; k++ {
		var cost uint64
		for _, r := range res {
			u := uint64(uint32(r<<1) ^ uint32(r>>31))
			cost += u>>k + 1 + uint64(k)
		}
		if cost < bestCost {
			best, bestCost = k, cost
		}
	}
	return best
}

// quantizedLPC fits an order-p predictor (Levinson–Durbin on the
// autocorrelation) and quantises it to prec-bit coefficients.
func quantizedLPC(x []int32, p, prec int) ([]int32, int32) {
	r := make([]float64, p+1)
	for lag := range r {
		for i := lag; i < len(x); i++ {
			r[lag] += float64(x[i]) * float64(x[i-lag])
		}
	}
	a := make([]float64, p)
	if r[0] > 0 {
		e := r[0] * (1 + 1e-9)
		for i := range p {
			acc := r[i+1]
			for j := range i {
				acc -= a[j] * r[i-j]
			}
			k := acc / e
			prev := slices.Clone(a)
			a[i] = k
			for j := range i {
				a[j] = prev[j] - k*prev[i-1-j]
			}
			e *= 1 - k*k
			if e <= 0 {
				break
			}
		}
	}
	var amax float64
	for _, v := range a {
		amax = max(amax, math.Abs(v))
	}
	lim := float64(int64(1)<<(prec-1)) - 1
	shift := 15
	for shift > 0 && amax*float64(int64(1)<<shift) > lim {
		shift--
	}
	q := make([]int32, p)
	for i, v := range a {
		q[i] = int32(max(min(math.Round(v*float64(int64(1)<<shift)), lim), -lim-1))
	}
	return q, int32(shift)
}

// Test signals, quantised to bps bits.
func flacSignals(n, bps int) map[string][]int32 {
	x := tone(16000, float64(n)/16000, 440, 0.5)
	nz := noise(7, n, 0.9)
	mix := make([]float64, n)
	clip := make([]float64, n)
	for i := range x {
		mix[i] = x[i] + 0.05*nz[i]
		clip[i] = max(min(3*x[i], 1), -1)
	}
	return map[string][]int32{
		"tone": quantize(x, bps), "noise": quantize(nz, bps), "silence": make([]int32, n),
		"clipped": quantize(clip, bps), "tone+noise": quantize(mix, bps),
	}
}

func TestFLACDecoderMatchesMewkizMono(t *testing.T) {
	specs := []subSpec{
		{pred: frame.PredVerbatim},
		{pred: frame.PredConstant},
		{pred: frame.PredFixed, order: 0},
		{pred: frame.PredFixed, order: 1, porder: 3},
		{pred: frame.PredFixed, order: 2, rice2: true},
		{pred: frame.PredFixed, order: 3, porder: 2, escape: true},
		{pred: frame.PredFixed, order: 4, porder: 8},
		{pred: frame.PredFIR, order: 1, prec: 12},
		{pred: frame.PredFIR, order: 2, prec: 5, porder: 1},
		{pred: frame.PredFIR, order: 8, prec: 15, porder: 4},
		{pred: frame.PredFIR, order: 12, prec: 13, porder: 3, rice2: true},
		{pred: frame.PredFIR, order: 17, prec: 14, porder: 2, escape: true},
		{pred: frame.PredFIR, order: 32, prec: 15, porder: 5},
	}
	sizes := []struct {
		blocks   []int
		variable bool
	}{{[]int{4096}, false}, {[]int{1152}, false}, {[]int{192}, false}, {[]int{333, 4608, 16, 1000, 65535}, true}}
	for _, bps := range []int{8, 16, 24} {
		for name, sig := range flacSignals(3000, bps) {
			for si, sp := range specs {
				sz := sizes[si%len(sizes)]
				c := flacCase{name: name, rate: 16000, bps: bps, chans: [][]int32{sig}, blocks: sz.blocks, variable: sz.variable, sub: sp}
				sameAsMewkiz(t, fmtCase(c), c.encode(t))
			}
		}
	}
}

func fmtCase(c flacCase) string {
	return fmt.Sprintf("%s/%dbit/%d-channel(assign %d)/%+v", c.name, c.bps, len(c.chans), c.assign, c.sub)
}

func TestFLACDecoderMatchesMewkizStereo(t *testing.T) {
	for _, bps := range []int{8, 12, 16, 20, 24} {
		sig := flacSignals(2500, bps)
		l := sig["tone+noise"]
		r := make([]int32, len(l))
		for i, v := range l {
			r[i] = int32(float64(v)*0.8) + sig["noise"][i]/64
		}
		for _, assign := range []frame.Channels{frame.ChannelsLR, frame.ChannelsLeftSide, frame.ChannelsSideRight, frame.ChannelsMidSide} {
			for _, sp := range []subSpec{{pred: frame.PredVerbatim}, {pred: frame.PredFixed, order: 2, porder: 2}, {pred: frame.PredFIR, order: 8, prec: 15, porder: 3}} {
				c := flacCase{name: "stereo", rate: 44100, bps: bps, chans: [][]int32{l, r}, blocks: []int{1024}, assign: assign, sub: sp}
				sameAsMewkiz(t, fmtCase(c), c.encode(t))
			}
		}
	}
}

func TestFLACDecoderMatchesMewkizMultichannelWasted(t *testing.T) {
	sig := flacSignals(2000, 16)
	chans := [][]int32{sig["tone"], sig["noise"], sig["silence"], sig["clipped"], sig["tone+noise"], sig["tone"]}
	c := flacCase{name: "6ch", rate: 48000, bps: 16, chans: chans, blocks: []int{576}, sub: subSpec{pred: frame.PredFIR, order: 6, prec: 14, porder: 2}}
	sameAsMewkiz(t, "6ch", c.encode(t))
	// Wasted bits: 12-bit audio in a 16-bit stream, and a constant with
	// wasted bits.
	coarse := make([]int32, 2000)
	for i, v := range sig["tone+noise"] {
		coarse[i] = v &^ 0xF
	}
	for _, sp := range []subSpec{
		{pred: frame.PredVerbatim, wasted: 4}, {pred: frame.PredFixed, order: 2, wasted: 3},
		{pred: frame.PredFIR, order: 10, prec: 15, wasted: 4, porder: 2}, {pred: frame.PredConstant, wasted: 4},
	} {
		c := flacCase{name: "wasted", rate: 16000, bps: 16, chans: [][]int32{coarse, coarse}, blocks: []int{4096}, assign: frame.ChannelsMidSide, sub: sp}
		sameAsMewkiz(t, fmt.Sprintf("wasted/%+v", sp), c.encode(t))
		c.chans = [][]int32{slices.Repeat([]int32{-4096}, 2000)}
		sameAsMewkiz(t, fmt.Sprintf("wasted-const/%+v", sp), c.encode(t))
	}
}

// Every cut of a stream gives a prefix of the full decode, flagged as
// truncated (or KindTruncated when no frame is whole).
func TestFLACTruncatedEverywhere(t *testing.T) {
	sig := flacSignals(1500, 16)
	c := flacCase{name: "cut", rate: 16000, bps: 16, chans: [][]int32{sig["tone+noise"], sig["tone"]}, blocks: []int{256},
		assign: frame.ChannelsMidSide, sub: subSpec{pred: frame.PredFIR, order: 8, prec: 15, porder: 2, escape: true}}
	b := c.encode(t)
	full, err := DecodeBytes(b, Options{})
	if err != nil || full.Truncated {
		t.Fatal(err)
	}
	for cut := 4; cut < len(b); cut++ { // shorter is not recognisable as FLAC
		clip, err := DecodeBytes(b[:cut], Options{})
		if err != nil {
			wantKind(t, err, KindTruncated)
			continue
		}
		if !clip.Truncated || len(clip.Samples) >= len(full.Samples) || !equalF32(clip.Samples, full.Samples[:len(clip.Samples)]) {
			t.Fatalf("cut at %d of %d: truncated=%v, %d of %d samples", cut, len(b), clip.Truncated, len(clip.Samples), len(full.Samples))
		}
	}
}

// Flipping any single byte of the frames is caught by a checksum (or
// leaves the audio unchanged, when it only hits the MD5 in STREAMINFO),
// and never panics.
func TestFLACCorruptionDetected(t *testing.T) {
	sig := flacSignals(1200, 16)
	c := flacCase{name: "flip", rate: 16000, bps: 16, chans: [][]int32{sig["tone+noise"]}, blocks: []int{512},
		sub: subSpec{pred: frame.PredFIR, order: 4, prec: 12, porder: 1}}
	b := c.encode(t)
	full, err := DecodeBytes(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 4; i < len(b); i++ { // flipping the magic makes it another format
		m := bytes.Clone(b)
		m[i] ^= 0x24
		clip, err := DecodeBytes(m, Options{})
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Kind == KindNotAudio {
				t.Fatalf("flip at %d: %v", i, err)
			}
			continue
		}
		// Damage that makes the decoder run off the end of the input reads
		// as truncation (as it did with mewkiz): a prefix, flagged.
		same := equalF32(clip.Samples, full.Samples)
		prefix := clip.Truncated && len(clip.Samples) < len(full.Samples) && equalF32(clip.Samples, full.Samples[:len(clip.Samples)])
		if i >= 42 && !same && !prefix {
			t.Fatalf("flip at %d changed the audio without an error", i)
		}
	}
}

// Metadata lengths are checked against the input, never used to size
// anything.
func TestFLACHugeMetadataClaim(t *testing.T) {
	b := makeFLAC(t, 16000, 16, [][]int32{quantize(tone(16000, 0.1, 440, 0.5), 16)})
	// Clear STREAMINFO's last-block flag and append a block claiming 16 MiB.
	m := bytes.Clone(b[:42])
	m[4] &^= 0x80
	m = append(m, 0x82, 0xFF, 0xFF, 0xFF, 1, 2, 3)
	allocs := testing.AllocsPerRun(10, func() {
		_, err := DecodeBytes(m, Options{})
		wantKind(t, err, KindTruncated)
	})
	if allocs > 4 {
		t.Fatalf("%v allocations for a 16 MiB claim", allocs)
	}
	// A padding block between STREAMINFO and the frames is skipped.
	if b[4]&0x80 == 0 {
		t.Skip("encoder wrote more metadata")
	}
	p := bytes.Clone(b[:42])
	p[4] &^= 0x80
	p = append(p, 0x81, 0, 0, 10)
	p = append(p, make([]byte, 10)...)
	p = append(p, b[42:]...)
	sameAsMewkiz(t, "padding", p)
}

func TestFLACRejects(t *testing.T) {
	b := makeFLAC(t, 16000, 16, [][]int32{quantize(tone(16000, 0.1, 440, 0.5), 16)})
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
		kind Kind
	}{
		{"no streaminfo first", func(m []byte) []byte { m[4] = 0x84; return m }, KindCorrupt},
		{"streaminfo length", func(m []byte) []byte { m[7] = 33; return m }, KindCorrupt},
		{"block size 0", func(m []byte) []byte { m[10], m[11] = 0, 0; return m }, KindCorrupt},
		{"2-bit samples", func(m []byte) []byte { m[20] = m[20]&^0x01 | 0; m[21] = m[21]&0x0F | 0x10; return m }, KindUnsupported},
		{"lost sync", func(m []byte) []byte { m[42] = 0; return m }, KindCorrupt},
		{"header crc", func(m []byte) []byte { m[46] ^= 1; return m }, KindCorrupt},
		{"only metadata", func(m []byte) []byte { return m[:42] }, KindTruncated},
		{"no frames, no length", func(m []byte) []byte { m[21] &^= 0x0F; clear(m[22:26]); return m[:42] }, KindEmpty},
		{"half a header", func(m []byte) []byte { return m[:45] }, KindTruncated},
	} {
		_, err := DecodeBytes(c.edit(bytes.Clone(b)), Options{})
		if err == nil {
			t.Fatalf("%s: no error", c.name)
		}
		if ae := wantKind(t, err, c.kind); ae.Format != "flac" {
			t.Fatalf("%s: format %q", c.name, ae.Format)
		}
	}
	// An ID3v1 tag after the frames is ignored.
	tagged := append(bytes.Clone(b), append([]byte("TAG"), make([]byte, 125)...)...)
	clip, err := DecodeBytes(tagged, Options{})
	if err != nil || clip.Truncated {
		t.Fatalf("ID3v1 trailer: %v", err)
	}
}

func TestFLACDecodeAllocations(t *testing.T) {
	x := quantize(tone(16000, 4, 440, 0.5), 16)
	c := flacCase{name: "allocs", rate: 16000, bps: 16, chans: [][]int32{x}, blocks: []int{4096}, sub: subSpec{pred: frame.PredFIR, order: 8, prec: 15, porder: 4}}
	b := c.encode(t)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := DecodeBytes(b, Options{}); err != nil {
			t.Fatal(err)
		}
	})
	// Per clip: the channel buffer, the samples, the Clip; none per frame
	// (this stream has 16).
	if allocs > 4 {
		t.Fatalf("%v allocations per 4 s clip", allocs)
	}
}

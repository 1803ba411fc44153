package audio

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// Matroska/WebM element IDs (with their length markers, as written).
const (
	ebmlIDHeader       = 0x1A45DFA3
	ebmlIDDocType      = 0x4282
	mkvSegment         = 0x18538067
	mkvInfo            = 0x1549A966
	mkvTimecodeScale   = 0x2AD7B1
	mkvDuration        = 0x4489
	mkvTracks          = 0x1654AE6B
	mkvTrackEntry      = 0xAE
	mkvTrackNumber     = 0xD7
	mkvTrackType       = 0x83
	mkvCodecID         = 0x86
	mkvCodecPrivate    = 0x63A2
	mkvCodecDelay      = 0x56AA
	mkvAudio           = 0xE1
	mkvSamplingFreq    = 0xB5
	mkvChannels        = 0x9F
	mkvCluster         = 0x1F43B675
	mkvSimpleBlock     = 0xA3
	mkvBlockGroup      = 0xA0
	mkvBlock           = 0xA1
	mkvDiscardPadding  = 0x75A2
	mkvSeekHead        = 0x114D9B74
	mkvCues            = 0x1C53BB6B
	mkvTags            = 0x1254C367
	mkvChapters        = 0x1043A770
	mkvAttachments     = 0x1941A469
	ebmlUnknownSize    = -1
	mkvMaxLacedFrames  = 256
	mkvTrackTypeAudio  = 2
	mkvDefaultTimecode = 1000000 // ns per tick
)

// segmentLevel IDs end any open unknown-size Cluster: that is how a reader
// finds the end of the live-recording clusters browsers write.
func segmentLevel(id uint32) bool {
	switch id {
	case mkvCluster, mkvCues, mkvTags, mkvChapters, mkvAttachments, mkvSeekHead, mkvInfo, mkvTracks:
		return true
	}
	return false
}

type mkvTrack struct {
	number   uint64
	typ      uint64
	codec    string
	private  []byte
	delayNs  uint64
	channels uint64
	rate     float64
}

type ebmlCtx struct {
	id  uint32
	end int // exclusive; ebmlUnknownSize when open-ended
}

// webmDecoder walks the element tree flatly: master elements it cares
// about are entered (their children read in place), everything else is
// skipped by size. This copes with unknown-size Segments and Clusters
// without buffering or recursion.
type webmDecoder struct {
	b      []byte
	pos    int
	stack  []ebmlCtx
	tracks []mkvTrack
	opt    Options
	s      *sink

	chosen   bool
	track    uint64
	opus     *opusStream
	vorbis   *vorbisStream
	format   string
	tcScale  float64
	inGroup  bool
	groupOut int   // samples the current BlockGroup's block produced
	discard  int64 // DiscardPadding of the current BlockGroup, ns
}

var errEBMLTruncated = errors.New("audio: webm: element cut off")

func decodeWebM(b []byte, opt Options, s *sink) (string, error) {
	d := &webmDecoder{b: b, opt: opt, s: s, format: "webm", tcScale: mkvDefaultTimecode}
	err := d.run()
	if errors.Is(err, errEBMLTruncated) {
		if d.chosen {
			s.truncated = true
			err = nil
		} else {
			err = errTruncated(d.format, err)
		}
	}
	if err == nil {
		d.endGroup()
		if !d.chosen {
			if len(d.tracks) == 0 {
				return d.format, errEmpty(d.format)
			}
			if err := d.choose(); err != nil {
				return d.format, err
			}
		}
		if d.opus != nil {
			err = d.opus.finish()
		}
	}
	var ae *Error
	if errors.As(err, &ae) && ae.Format == "" {
		ae.Format = d.format
	}
	return d.format, err
}

func (d *webmDecoder) run() error {
	sawHeader := false
	for d.pos < len(d.b) {
		// Close contexts that ended.
		for len(d.stack) > 0 {
			top := d.stack[len(d.stack)-1]
			if top.end != ebmlUnknownSize && d.pos >= top.end {
				d.pop()
				continue
			}
			break
		}
		id, idLen, ok := readEBMLID(d.b[d.pos:])
		if !ok {
			if idLen == 0 {
				return errEBMLTruncated
			}
			return errCorrupt("", "bad element", nil)
		}
		size, sizeLen, ok := readEBMLSize(d.b[d.pos+idLen:])
		if !ok {
			if sizeLen == 0 {
				return errEBMLTruncated
			}
			return errCorrupt("", "bad element size", nil)
		}
		if !sawHeader {
			if id != ebmlIDHeader {
				return errCorrupt("", "missing EBML header", nil)
			}
			sawHeader = true
		}
		if segmentLevel(id) || id == mkvSegment || id == ebmlIDHeader {
			// Siblings of an open-ended element end it.
			for len(d.stack) > 0 {
				top := d.stack[len(d.stack)-1]
				if top.id == mkvSegment && id != mkvSegment && id != ebmlIDHeader {
					break
				}
				d.pop()
			}
		}
		dataStart := d.pos + idLen + sizeLen
		switch id {
		case ebmlIDHeader, mkvSegment, mkvInfo, mkvTracks, mkvTrackEntry, mkvAudio, mkvCluster, mkvBlockGroup:
			end := ebmlUnknownSize
			if size != ebmlUnknownSize {
				end = dataStart + int(size)
				if end > len(d.b) || end < dataStart {
					end = len(d.b) // a cut-off master: read what is there
				}
			} else if id != mkvSegment && id != mkvCluster {
				return errCorrupt("", "unknown size where it is not allowed", nil)
			}
			if err := d.push(id, end); err != nil {
				return err
			}
			d.pos = dataStart
			continue
		}
		if size == ebmlUnknownSize {
			return errCorrupt("", "unknown size where it is not allowed", nil)
		}
		if int64(size) > int64(len(d.b)-dataStart) {
			return errEBMLTruncated
		}
		data := d.b[dataStart : dataStart+int(size)]
		d.pos = dataStart + int(size)
		if err := d.leaf(id, data); err != nil {
			return err
		}
	}
	return nil
}

func (d *webmDecoder) push(id uint32, end int) error {
	if len(d.stack) >= 16 {
		return errCorrupt("", "elements nested too deeply", nil)
	}
	switch id {
	case mkvTrackEntry:
		if len(d.tracks) >= 64 {
			return errUnsupported("", "too many tracks")
		}
		d.tracks = append(d.tracks, mkvTrack{})
	case mkvCluster:
		if !d.chosen {
			if err := d.choose(); err != nil {
				return err
			}
		}
	case mkvBlockGroup:
		d.endGroup()
		d.inGroup, d.groupOut, d.discard = true, 0, 0
	}
	d.stack = append(d.stack, ebmlCtx{id: id, end: end})
	return nil
}

func (d *webmDecoder) pop() {
	top := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	if top.id == mkvBlockGroup {
		d.endGroup()
	}
}

// endGroup applies a BlockGroup's DiscardPadding: the encoder's padding at
// the end of the last packet, in nanoseconds.
func (d *webmDecoder) endGroup() {
	if !d.inGroup {
		return
	}
	d.inGroup = false
	if d.discard > 0 && d.opus != nil {
		n := int(float64(d.discard) * 48000 / 1e9)
		d.s.trimEnd(min(n, d.groupOut))
	}
}

func (d *webmDecoder) parent() uint32 {
	if len(d.stack) == 0 {
		return 0
	}
	return d.stack[len(d.stack)-1].id
}

func (d *webmDecoder) leaf(id uint32, data []byte) error {
	switch d.parent() {
	case ebmlIDHeader:
		if id == ebmlIDDocType {
			if dt := string(data); dt != "webm" && dt != "matroska" {
				return errUnsupported("", "EBML document type "+quoteSafe(dt))
			}
			if string(data) == "matroska" {
				d.format = "webm" // same reader; named as browsers name it
			}
		}
	case mkvInfo:
		switch id {
		case mkvTimecodeScale:
			if v := readUint(data); v > 0 {
				d.tcScale = float64(v)
			}
		case mkvDuration:
			dur := readFloat(data) * d.tcScale
			if !math.IsNaN(dur) && !math.IsInf(dur, 0) && dur > float64(d.opt.maxDuration()+time.Second) {
				return errTooLong("", d.opt)
			}
		}
	case mkvTrackEntry:
		t := &d.tracks[len(d.tracks)-1]
		switch id {
		case mkvTrackNumber:
			t.number = readUint(data)
		case mkvTrackType:
			t.typ = readUint(data)
		case mkvCodecID:
			t.codec = string(data)
		case mkvCodecPrivate:
			t.private = data
		case mkvCodecDelay:
			t.delayNs = readUint(data)
		}
	case mkvAudio:
		if len(d.tracks) == 0 {
			return nil
		}
		t := &d.tracks[len(d.tracks)-1]
		switch id {
		case mkvChannels:
			t.channels = readUint(data)
		case mkvSamplingFreq:
			t.rate = readFloat(data)
		}
	case mkvCluster:
		if id == mkvSimpleBlock {
			_, err := d.block(data)
			return err
		}
	case mkvBlockGroup:
		switch id {
		case mkvBlock:
			n, err := d.block(data)
			d.groupOut += n
			return err
		case mkvDiscardPadding:
			d.discard = readInt(data)
		}
	}
	return nil
}

// choose picks the first audio track and sets up its decoder.
func (d *webmDecoder) choose() error {
	d.chosen = true
	for _, t := range d.tracks {
		if t.typ != mkvTrackTypeAudio {
			continue
		}
		d.track = t.number
		switch t.codec {
		case "A_OPUS":
			d.format = "webm/opus"
			var h opusHead
			if len(t.private) > 0 {
				var err error
				if h, err = parseOpusHead(t.private); err != nil {
					return err
				}
			} else {
				h.channels = int(t.channels)
				if h.channels == 0 {
					h.channels = 1
				}
				if h.channels > 2 {
					return errUnsupported(d.format, "multichannel Opus")
				}
				h.preSkip = int(min(t.delayNs, 1e9) * 48000 / 1e9)
			}
			if err := d.s.init(d.format, 48000, h.channels, d.opt); err != nil {
				return err
			}
			o, err := newOpusStream(h)
			if err != nil {
				return err
			}
			d.opus = o
			return nil
		case "A_VORBIS":
			d.format = "webm/vorbis"
			return d.setupVorbis(t.private)
		}
		return errUnsupported("webm", "audio codec "+quoteSafe(t.codec))
	}
	return errUnsupported("webm", "no audio track")
}

// setupVorbis reads the three Vorbis headers from Xiph-laced CodecPrivate.
func (d *webmDecoder) setupVorbis(p []byte) error {
	frames, err := xiphLace(p)
	if err != nil || len(frames) != 3 {
		return errCorrupt(d.format, "bad Vorbis headers", err)
	}
	v, err := newVorbisStream(frames[0], d.opt, d.s)
	if err != nil {
		return err
	}
	for _, h := range frames[1:] {
		if err := v.header(h); err != nil {
			return err
		}
	}
	d.vorbis = v
	return nil
}

// xiphLace splits [count-1][sizes...][data] as CodecPrivate uses it.
func xiphLace(p []byte) ([][]byte, error) {
	if len(p) < 1 {
		return nil, errors.New("empty")
	}
	n := int(p[0]) + 1
	p = p[1:]
	sizes, rest, err := xiphSizes(p, n-1)
	if err != nil {
		return nil, err
	}
	return splitFrames(rest, sizes, true)
}

func xiphSizes(p []byte, n int) ([]int, []byte, error) {
	sizes := make([]int, 0, n)
	for range n {
		v := 0
		for {
			if len(p) == 0 {
				return nil, nil, errors.New("lacing cut off")
			}
			c := p[0]
			p = p[1:]
			v += int(c)
			if c != 255 {
				break
			}
		}
		sizes = append(sizes, v)
	}
	return sizes, p, nil
}

// splitFrames cuts data by sizes; with last, the remainder is one more frame.
func splitFrames(data []byte, sizes []int, last bool) ([][]byte, error) {
	frames := make([][]byte, 0, len(sizes)+1)
	for _, n := range sizes {
		if n > len(data) {
			return nil, errors.New("laced frame past block end")
		}
		frames = append(frames, data[:n])
		data = data[n:]
	}
	if last {
		frames = append(frames, data)
	}
	return frames, nil
}

// block decodes a (Simple)Block's frames if it belongs to the chosen track
// and returns the samples it added to the sink.
func (d *webmDecoder) block(data []byte) (int, error) {
	if !d.chosen {
		if err := d.choose(); err != nil {
			return 0, err
		}
	}
	track, n, ok := readEBMLSize(data)
	if !ok || track == ebmlUnknownSize || len(data) < n+3 {
		return 0, errCorrupt("", "bad block header", nil)
	}
	if uint64(track) != d.track {
		return 0, nil
	}
	flags := data[n+2]
	payload := data[n+3:]
	var frames [][]byte
	var single [1][]byte
	switch (flags >> 1) & 3 {
	case 0:
		single[0] = payload
		frames = single[:]
	default:
		var err error
		frames, err = unlace(payload, (flags>>1)&3)
		if err != nil {
			return 0, errCorrupt("", "bad block lacing", err)
		}
	}
	before := len(d.s.samples)
	for _, f := range frames {
		var err error
		switch {
		case d.opus != nil:
			_, err = d.opus.decode(f, d.s)
		case d.vorbis != nil:
			_, err = d.vorbis.decode(f, d.s)
		}
		if err != nil {
			return 0, err
		}
	}
	return len(d.s.samples) - before, nil
}

func unlace(p []byte, mode byte) ([][]byte, error) {
	if len(p) < 1 {
		return nil, errors.New("no lace count")
	}
	count := int(p[0]) + 1
	p = p[1:]
	switch mode {
	case 1: // Xiph
		sizes, rest, err := xiphSizes(p, count-1)
		if err != nil {
			return nil, err
		}
		return splitFrames(rest, sizes, true)
	case 2: // fixed
		if len(p)%count != 0 {
			return nil, errors.New("fixed lacing does not divide")
		}
		sizes := make([]int, count-1)
		for i := range sizes {
			sizes[i] = len(p) / count
		}
		return splitFrames(p, sizes, true)
	default: // EBML: first size, then signed differences
		sizes := make([]int, 0, count-1)
		first, n, ok := readEBMLSize(p)
		if !ok || first < 0 {
			return nil, errors.New("bad EBML lace size")
		}
		p = p[n:]
		prev := first
		if count > 1 {
			sizes = append(sizes, int(prev))
		}
		for i := 1; i < count-1; i++ {
			raw, n, ok := readEBMLSize(p)
			if !ok || raw < 0 {
				return nil, errors.New("bad EBML lace delta")
			}
			p = p[n:]
			bias := int64(1)<<(7*n-1) - 1
			prev += raw - bias
			if prev < 0 {
				return nil, errors.New("negative lace size")
			}
			sizes = append(sizes, int(prev))
		}
		return splitFrames(p, sizes, true)
	}
}

// readEBMLID reads an element ID (1–4 bytes, marker kept). n is 0 when b
// is too short to tell.
func readEBMLID(b []byte) (id uint32, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	c := b[0]
	switch {
	case c&0x80 != 0:
		n = 1
	case c&0x40 != 0:
		n = 2
	case c&0x20 != 0:
		n = 3
	case c&0x10 != 0:
		n = 4
	default:
		return 0, 1, false
	}
	if len(b) < n {
		return 0, 0, false
	}
	for _, x := range b[:n] {
		id = id<<8 | uint32(x)
	}
	return id, n, true
}

// readEBMLSize reads a variable-length size (1–8 bytes, marker removed);
// all value bits set means unknown (ebmlUnknownSize). n is 0 when b is
// too short to tell.
func readEBMLSize(b []byte) (v int64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	c := b[0]
	if c == 0 {
		return 0, 1, false
	}
	n = 1
	for mask := byte(0x80); c&mask == 0; mask >>= 1 {
		n++
	}
	if len(b) < n {
		return 0, 0, false
	}
	u := uint64(c) & (0xFF >> n)
	allOnes := u == uint64(0xFF>>n)
	for _, x := range b[1:n] {
		u = u<<8 | uint64(x)
		allOnes = allOnes && x == 0xFF
	}
	if allOnes {
		return ebmlUnknownSize, n, true
	}
	if u > math.MaxInt32 {
		// No element we read is near 2 GiB; treat as past the end.
		return math.MaxInt32, n, true
	}
	return int64(u), n, true
}

func readUint(b []byte) uint64 {
	if len(b) > 8 {
		return 0
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

func readInt(b []byte) int64 {
	if len(b) == 0 || len(b) > 8 {
		return 0
	}
	v := int64(int8(b[0]))
	for _, c := range b[1:] {
		v = v<<8 | int64(c)
	}
	return v
}

func readFloat(b []byte) float64 {
	switch len(b) {
	case 4:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
	case 8:
		return math.Float64frombits(binary.BigEndian.Uint64(b))
	}
	return 0
}

// quoteSafe keeps untrusted strings in messages short and printable.
func quoteSafe(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7E || c == '"' {
			c = '?'
		}
		out = append(out, c)
	}
	return string(append(out, '"'))
}

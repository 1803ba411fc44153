package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// oggReader splits an Ogg byte stream (RFC 3533) into the packets of its
// first logical stream. Pages of other streams (a multiplexed video track)
// are skipped; the stream ends at its end-of-stream page.
type oggReader struct {
	b         []byte
	pos       int
	serial    uint32
	started   bool
	done      bool
	pending   [][]byte // complete packets not yet returned
	partial   []byte   // packet continued on the next page
	inPartial bool

	cut     bool  // the input ended inside a page
	granule int64 // granule of the last page read with one
	eos     bool  // the last page read had the end-of-stream flag
}

var errOggTruncated = errors.New("audio: ogg: page cut off")

// next returns the next packet, or (nil, nil) at the end of the stream.
// The returned slice may alias the input.
func (r *oggReader) next() ([]byte, error) {
	for len(r.pending) == 0 {
		if r.cut {
			return nil, errOggTruncated
		}
		if r.done || r.pos >= len(r.b) {
			return nil, nil
		}
		if err := r.readPage(); err != nil {
			return nil, err
		}
	}
	p := r.pending[0]
	r.pending = r.pending[1:]
	return p, nil
}

func (r *oggReader) readPage() error {
	b := r.b[r.pos:]
	if len(b) < 27 {
		return errOggTruncated
	}
	if string(b[:4]) != "OggS" {
		return errCorrupt("", "lost page sync", errors.New("audio: ogg: missing OggS capture pattern"))
	}
	if b[4] != 0 {
		return errCorrupt("", "unknown Ogg version", nil)
	}
	flags := b[5]
	granule := int64(binary.LittleEndian.Uint64(b[6:]))
	serial := binary.LittleEndian.Uint32(b[14:])
	nseg := int(b[26])
	if len(b) < 27+nseg {
		return errOggTruncated
	}
	lacing := b[27 : 27+nseg]
	bodyLen := 0
	for _, l := range lacing {
		bodyLen += int(l)
	}
	pageLen := 27 + nseg + bodyLen
	cut := len(b) < pageLen
	if cut {
		// The input ends inside this page (an interrupted upload). Its
		// checksum cannot be verified, but the packets wholly present are
		// kept; muxers often put a whole second of audio in one page.
		if !r.started || r.cut {
			return errOggTruncated
		}
		pageLen = len(b)
		r.cut = true
	}
	page := b[:pageLen]
	if !cut && oggCRC(page) != binary.LittleEndian.Uint32(page[22:]) {
		return errCorrupt("", "checksum mismatch", errors.New("audio: ogg: page CRC mismatch"))
	}
	r.pos += pageLen
	if !r.started {
		if flags&0x02 == 0 {
			return errCorrupt("", "stream does not begin with a header page", nil)
		}
		r.started, r.serial = true, serial
	}
	if serial != r.serial {
		return nil
	}
	if flags&0x01 == 0 && r.inPartial {
		// A packet was cut by a lost page; drop it.
		r.partial, r.inPartial = r.partial[:0], false
	}
	body := page[27+nseg:]
	start := 0
	off := 0
	// A continued packet whose beginning we never saw is dropped.
	orphan := flags&0x01 != 0 && !r.inPartial
	for i, l := range lacing {
		off += int(l)
		if off > len(body) {
			break
		}
		if l == 255 && i < len(lacing)-1 {
			continue
		}
		if orphan {
			orphan = false
			if l == 255 {
				break
			}
			start = off
			continue
		}
		if l == 255 { // last segment is 255: the packet continues
			r.partial = append(r.partial, body[start:off]...)
			r.inPartial = true
			break
		}
		seg := body[start:off]
		if r.inPartial {
			r.partial = append(r.partial, seg...)
			seg = bytes.Clone(r.partial)
			r.partial, r.inPartial = r.partial[:0], false
		}
		r.pending = append(r.pending, seg)
		start = off
	}
	if cut {
		r.done = true
		r.inPartial = false
		return nil
	}
	if granule != -1 {
		r.granule = granule
	}
	if flags&0x04 != 0 {
		r.eos, r.done = true, true
	}
	return nil
}

// lastGranule finds the granule of the last intact page of the stream with
// serial, scanning back from the end: a header-like length claim used to
// reject over-long files before decoding them. It returns -1 if unknown.
func lastOggGranule(b []byte, serial uint32) int64 {
	for end := len(b); end > 0; {
		i := bytes.LastIndex(b[:end], []byte("OggS"))
		if i < 0 || len(b)-i < 27 {
			if i < 0 {
				return -1
			}
			end = i
			continue
		}
		h := b[i:]
		if binary.LittleEndian.Uint32(h[14:]) == serial {
			if g := int64(binary.LittleEndian.Uint64(h[6:])); g >= 0 {
				return g
			}
		}
		end = i
		if len(b)-end > 1<<20 {
			return -1 // don't scan megabytes of garbage
		}
	}
	return -1
}

var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04C11DB7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggCRC is the page checksum with the checksum field taken as zero.
func oggCRC(page []byte) uint32 {
	var crc uint32
	for i, c := range page {
		if i >= 22 && i < 26 {
			c = 0
		}
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^c]
	}
	return crc
}

// decodeOgg picks the codec from the first packet.
func decodeOgg(b []byte, opt Options, s *sink) (string, error) {
	r := &oggReader{b: b}
	first, err := r.next()
	if err != nil {
		if errors.Is(err, errOggTruncated) {
			return "ogg", errTruncated("ogg", err)
		}
		return "ogg", err
	}
	switch {
	case first == nil:
		return "ogg", errEmpty("ogg")
	case bytes.HasPrefix(first, []byte("OpusHead")):
		return "ogg/opus", decodeOggOpus(r, first, opt, s)
	case bytes.HasPrefix(first, []byte("\x01vorbis")):
		return "ogg/vorbis", decodeOggVorbis(r, first, opt, s)
	case bytes.HasPrefix(first, []byte("\x7fFLAC")):
		return "ogg", errUnsupported("ogg", "FLAC inside Ogg")
	case bytes.HasPrefix(first, []byte("Speex   ")):
		return "ogg", errUnsupported("ogg", "Speex audio")
	}
	return "ogg", errUnsupported("ogg", "unknown codec")
}

// nextAudio wraps next, turning a cut-off tail into the sink's truncated
// flag so the audio before it is kept.
func (r *oggReader) nextAudio(format string, s *sink) ([]byte, error) {
	p, err := r.next()
	if err != nil {
		if errors.Is(err, errOggTruncated) {
			s.truncated = true
			return nil, nil
		}
		var ae *Error
		if errors.As(err, &ae) {
			ae.Format = format
		}
		return nil, err
	}
	return p, nil
}

func decodeOggOpus(r *oggReader, head []byte, opt Options, s *sink) error {
	const format = "ogg/opus"
	h, err := parseOpusHead(head)
	if err != nil {
		return err
	}
	if err := s.init(format, 48000, h.channels, opt); err != nil {
		return err
	}
	if g := lastOggGranule(r.b, r.serial); g > 0 {
		if err := s.claim(g - int64(h.preSkip)); err != nil {
			return err
		}
	}
	dec, err := newOpusStream(h)
	if err != nil {
		return err
	}
	// Second packet: OpusTags (skipped, may be large; never parsed).
	tags, err := r.nextAudio(format, s)
	if err != nil {
		return err
	}
	if tags == nil {
		return nil
	}
	if !bytes.HasPrefix(tags, []byte("OpusTags")) {
		return errCorrupt(format, "missing comment header", nil)
	}
	total := 0 // samples decoded, at 48 kHz, including pre-skip
	for {
		p, err := r.nextAudio(format, s)
		if err != nil {
			return err
		}
		if p == nil {
			break
		}
		n, err := dec.decode(p, s)
		if err != nil {
			return err
		}
		total += n
	}
	if err := dec.finish(); err != nil {
		return err
	}
	// End trimming (RFC 7845 §4.4): the final granule position counts the
	// samples that are really there, pre-skip included.
	if r.eos && r.granule >= 0 && int64(total) > r.granule {
		s.trimEnd(int(int64(total) - r.granule))
	}
	return nil
}

func decodeOggVorbis(r *oggReader, ident []byte, opt Options, s *sink) error {
	const format = "ogg/vorbis"
	v, err := newVorbisStream(ident, opt, s)
	if err != nil {
		return err
	}
	if g := lastOggGranule(r.b, r.serial); g > 0 {
		if err := s.claim(g); err != nil {
			return err
		}
	}
	for hdr := 1; hdr < 3; hdr++ {
		p, err := r.nextAudio(format, s)
		if err != nil {
			return err
		}
		if p == nil {
			return nil
		}
		if err := v.header(p); err != nil {
			return err
		}
	}
	total := 0
	for {
		p, err := r.nextAudio(format, s)
		if err != nil {
			return err
		}
		if p == nil {
			break
		}
		n, err := v.decode(p, s)
		if err != nil {
			return err
		}
		total += n
	}
	if r.eos && r.granule >= 0 && int64(total) > r.granule {
		s.trimEnd(int(int64(total) - r.granule))
	}
	return nil
}

package audio

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/pion/opus"
)

// opusHead is the Opus identification header (RFC 7845 §5.1), carried as
// the first Ogg packet or as Matroska CodecPrivate.
type opusHead struct {
	channels int // channels of the single coded stream (1 or 2)
	preSkip  int // samples at 48 kHz to drop from the start
	gainDB   float64
}

func parseOpusHead(p []byte) (opusHead, error) {
	if len(p) < 19 || string(p[:8]) != "OpusHead" {
		return opusHead{}, errCorrupt("", "bad Opus header", nil)
	}
	if p[8]>>4 != 0 { // major version 0 only; minor versions are compatible
		return opusHead{}, errUnsupported("", fmt.Sprintf("Opus header version %d", p[8]))
	}
	h := opusHead{
		channels: int(p[9]),
		preSkip:  int(binary.LittleEndian.Uint16(p[10:])),
		gainDB:   float64(int16(binary.LittleEndian.Uint16(p[16:]))) / 256,
	}
	family := p[18]
	switch family {
	case 0:
		if h.channels < 1 || h.channels > 2 {
			return opusHead{}, errCorrupt("", fmt.Sprintf("%d channels in a mono/stereo Opus stream", h.channels), nil)
		}
	default:
		// Families 1 and 255 describe several coded streams in each
		// packet; with one stream it is an ordinary mono or stereo stream.
		if len(p) < 21+h.channels {
			return opusHead{}, errCorrupt("", "bad Opus channel mapping", nil)
		}
		streams, coupled := int(p[19]), int(p[20])
		if streams != 1 || coupled > 1 {
			return opusHead{}, errUnsupported("", fmt.Sprintf("multistream Opus (%d streams)", streams))
		}
		h.channels = 1 + coupled
	}
	return h, nil
}

// opusStream decodes Opus packets at 48 kHz into a sink, dropping the
// pre-skip. A packet the decoder rejects becomes silence of the packet's
// length (what a player's concealment would do) so one bad packet does not
// lose a recording; a stream where most packets fail is corrupt.
type opusStream struct {
	dec     opus.Decoder
	ch      int
	skip    int
	gain    float32
	out     []float32
	packets int
	failed  int
	lastErr error
}

// maxOpusPacketSamples is 120 ms at 48 kHz, the longest an Opus packet can be.
const maxOpusPacketSamples = 5760

func newOpusStream(h opusHead) (*opusStream, error) {
	dec, err := opus.NewDecoderWithOutput(48000, h.channels)
	if err != nil {
		return nil, errUnsupported("", "Opus channel layout")
	}
	st := &opusStream{dec: dec, ch: h.channels, skip: h.preSkip, gain: 1,
		out: make([]float32, maxOpusPacketSamples*h.channels)}
	if h.gainDB != 0 {
		st.gain = float32(math.Pow(10, h.gainDB/20))
	}
	return st, nil
}

// decode decodes one packet into s and returns the samples it produced
// before pre-skip (the unit of Ogg granule positions).
func (o *opusStream) decode(p []byte, s *sink) (int, error) {
	if len(p) == 0 {
		return 0, nil // zero-length packets are legal: "no data"
	}
	o.packets++
	n, err := o.dec.DecodeToFloat32(p, o.out)
	if err != nil || n < 0 || n > maxOpusPacketSamples {
		o.failed++
		o.lastErr = err
		n = opusPacketSamples(p)
		if n <= 0 {
			return 0, nil
		}
		clear(o.out[:n*o.ch])
	}
	pcm := o.out[:n*o.ch]
	if o.skip > 0 {
		k := min(o.skip, n)
		o.skip -= k
		pcm = pcm[k*o.ch:]
	}
	if len(pcm) > 0 {
		if o.gain != 1 {
			for i := range pcm {
				pcm[i] *= o.gain
			}
		}
		if err := s.mixInterleaved(pcm, o.ch); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// finish reports a stream whose packets mostly failed.
func (o *opusStream) finish() error {
	if o.packets > 0 && o.failed*2 > o.packets {
		return errCorrupt("", "Opus packets could not be decoded", o.lastErr)
	}
	return nil
}

// opusPacketSamples is the length at 48 kHz of a packet from its TOC
// (RFC 6716 §3.1), or 0 if the packet is malformed.
func opusPacketSamples(p []byte) int {
	if len(p) < 1 {
		return 0
	}
	cfg := int(p[0] >> 3)
	var frame int // in 48 kHz samples
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]int{480, 960, 1920, 2880}[cfg&3]
	case cfg < 16: // hybrid: 10, 20 ms
		frame = [2]int{480, 960}[cfg&1]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]int{120, 240, 480, 960}[cfg&3]
	}
	var count int
	switch p[0] & 3 {
	case 0:
		count = 1
	case 1, 2:
		count = 2
	default:
		if len(p) < 2 {
			return 0
		}
		count = int(p[1] & 0x3F)
	}
	n := frame * count
	if n > maxOpusPacketSamples {
		return 0
	}
	return n
}

package audio

import "time"

// SampleRate is the rate of every Clip this package returns.
const SampleRate = 16000

// Clip is decoded audio: mono, SampleRate Hz, samples nominally in [-1, 1].
type Clip struct {
	Samples []float32
	// Format names the container/codec that was decoded ("wav", "flac",
	// "ogg/opus", "webm/opus", "ogg/vorbis", "mp3", "pcm").
	Format string
	// SourceRate and SourceChannels describe the input before mixing and
	// resampling.
	SourceRate     int
	SourceChannels int
	// Truncated reports that the input ended in the middle of a frame or
	// packet; Samples hold everything that could be decoded before that.
	// Uploads cut short by a dropped connection still carry usable audio,
	// so this is not an error.
	Truncated bool
}

// Duration is the length of the clip.
func (c *Clip) Duration() time.Duration {
	return time.Duration(len(c.Samples)) * time.Second / SampleRate
}

// Options bound what a decoder accepts.
type Options struct {
	// MaxDuration rejects longer inputs with KindTooLong. Zero means
	// DefaultMaxDuration.
	MaxDuration time.Duration
	// MaxBytes rejects larger inputs with KindTooLarge before they are
	// decoded. Zero means DefaultMaxBytes.
	MaxBytes int64
}

// DefaultMaxDuration is the longest input accepted when Options.MaxDuration is zero.
const DefaultMaxDuration = 10 * time.Minute

// DefaultMaxBytes is the largest input accepted when Options.MaxBytes is zero.
const DefaultMaxBytes = 64 << 20

// MinSourceRate and MaxSourceRate bound the sample rates a source may have;
// outside them a file is almost certainly damaged or not speech audio.
const (
	MinSourceRate = 8000
	MaxSourceRate = 96000
)

// MaxSourceChannels bounds the channel count a source may have.
const MaxSourceChannels = 32

func (o Options) maxDuration() time.Duration {
	if o.MaxDuration <= 0 {
		return DefaultMaxDuration
	}
	return o.MaxDuration
}

func (o Options) maxBytes() int64 {
	if o.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return o.MaxBytes
}

// maxFrames is the most source frames at rate that fit in MaxDuration.
func (o Options) maxFrames(rate int) int {
	d := o.maxDuration()
	sec := int64(d / time.Second)
	rem := int64(d % time.Second)
	return int(sec*int64(rate) + (rem*int64(rate)+int64(time.Second)-1)/int64(time.Second))
}

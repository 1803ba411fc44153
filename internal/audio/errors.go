package audio

import (
	"fmt"
	"strings"
)

// Kind classifies why audio could not be decoded.
type Kind int

// Kinds of decoding failure.
const (
	// KindEmpty: no bytes, or a valid container holding no samples.
	KindEmpty Kind = iota + 1
	// KindNotAudio: the bytes are not any format this package knows.
	KindNotAudio
	// KindUnsupported: a known container with a codec, bit depth, sample
	// rate or channel layout this package does not decode.
	KindUnsupported
	// KindTruncated: the input ends before the first whole frame.
	KindTruncated
	// KindCorrupt: the input is damaged (bad checksums, impossible fields,
	// a decoder that gave up).
	KindCorrupt
	// KindTooLong: longer than Options.MaxDuration.
	KindTooLong
	// KindTooLarge: more bytes than Options.MaxBytes.
	KindTooLarge
)

var kindNames = map[Kind]string{
	KindEmpty:       "empty",
	KindNotAudio:    "not_audio",
	KindUnsupported: "unsupported",
	KindTruncated:   "truncated",
	KindCorrupt:     "corrupt",
	KindTooLong:     "too_long",
	KindTooLarge:    "too_large",
}

// String is a stable machine-readable name, suitable for API error codes.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the only error type this package returns.
//
// Error() is written for the person who uploaded the file and never contains
// text from a third-party decoder; the underlying cause, if any, is in Err
// (reachable with errors.Unwrap) and is meant for logs.
type Error struct {
	Kind Kind
	// Format is the detected format ("wav", "flac", "ogg/opus", ...), or ""
	// when the format could not be recognised.
	Format string
	// Detail is a short, safe explanation ("12-bit samples", "sample rate
	// 4000 Hz"), or "". For KindTooLong and KindTooLarge it names the limit.
	Detail string
	// Err is the underlying cause, for logs; it may be nil.
	Err error
}

func (e *Error) Error() string {
	name := displayFormat(e.Format)
	var msg string
	switch e.Kind {
	case KindEmpty:
		msg = "audio is empty"
		if name != "" {
			msg = "the " + name + " file holds no audio"
		}
	case KindNotAudio:
		return "not an audio file we can read (WAV, FLAC, Ogg/Opus, WebM/Opus, Ogg/Vorbis, MP3)"
	case KindUnsupported:
		msg = "this audio format is not supported"
		if name != "" {
			msg = "this " + name + " file uses a format we cannot read"
		}
	case KindTruncated:
		msg = "the audio file is cut off before any sound"
		if name != "" {
			msg = "the " + name + " file is cut off before any sound"
		}
	case KindCorrupt:
		msg = "the audio file is damaged"
		if name != "" {
			msg = "the " + name + " file is damaged"
		}
	case KindTooLong:
		if e.Detail != "" {
			return "recording is longer than the " + e.Detail + " limit"
		}
		return "recording is too long"
	case KindTooLarge:
		if e.Detail != "" {
			return "file is larger than the " + e.Detail + " limit"
		}
		return "file is too large"
	default:
		msg = "audio could not be decoded"
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func displayFormat(f string) string {
	switch f {
	case "":
		return ""
	case "wav":
		return "WAV"
	case "flac":
		return "FLAC"
	case "ogg/opus":
		return "Ogg/Opus"
	case "ogg/vorbis":
		return "Ogg/Vorbis"
	case "ogg":
		return "Ogg"
	case "webm/opus", "webm":
		return "WebM"
	case "mp3":
		return "MP3"
	case "mp4":
		return "MP4/M4A"
	case "aac":
		return "AAC"
	}
	return strings.ToUpper(f)
}

func newErr(kind Kind, format, detail string, cause error) *Error {
	return &Error{Kind: kind, Format: format, Detail: detail, Err: cause}
}

func errCorrupt(format, detail string, cause error) *Error {
	return newErr(KindCorrupt, format, detail, cause)
}

func errUnsupported(format, detail string) *Error {
	return newErr(KindUnsupported, format, detail, nil)
}

func errTruncated(format string, cause error) *Error {
	return newErr(KindTruncated, format, "", cause)
}

func errEmpty(format string) *Error { return newErr(KindEmpty, format, "", nil) }

func errTooLong(format string, o Options) *Error {
	return newErr(KindTooLong, format, o.maxDuration().String(), nil)
}

func errTooLarge(o Options) *Error {
	n := o.maxBytes()
	var d string
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		d = fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		d = fmt.Sprintf("%d KiB", n>>10)
	default:
		d = fmt.Sprintf("%d byte", n)
	}
	return newErr(KindTooLarge, "", d, nil)
}

// checkRate and checkChannels validate stream parameters before any buffer
// is sized from them.
func checkRate(format string, rate int) error {
	if rate < MinSourceRate || rate > MaxSourceRate {
		return errUnsupported(format, fmt.Sprintf("sample rate %d Hz is outside %d–%d Hz", rate, MinSourceRate, MaxSourceRate))
	}
	return nil
}

func checkChannels(format string, ch int) error {
	if ch < 1 {
		return errCorrupt(format, "no channels", nil)
	}
	if ch > MaxSourceChannels {
		return errUnsupported(format, fmt.Sprintf("%d channels (at most %d)", ch, MaxSourceChannels))
	}
	return nil
}

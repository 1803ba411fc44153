// Package audio decodes untrusted audio (WAV, FLAC, Ogg/Opus, WebM/Opus,
// Ogg/Vorbis, MP3) into 16 kHz mono float32 samples in [-1, 1].
//
// Every decoder is bounded: no allocation is sized by a header field that
// has not been checked against Options, and every failure is an *Error
// whose Kind a caller can switch on and whose message a person understands.
//
// The whole input is read first (at most Options.MaxBytes) and the format
// is sniffed from magic bytes, never from a file name or MIME type:
//
//   - WAV (RIFF and RF64): our own reader; PCM 8 (unsigned), 16, 24, 32
//     bit, IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE, up to
//     MaxSourceChannels channels, MinSourceRate–MaxSourceRate. Unknown
//     chunks are skipped; a data size of 0 or 0xFFFFFFFF means "to the end".
//   - FLAC: our own decoder (RFC 9639): every subframe type, LPC up to
//     order 32, Rice and Rice2 residuals with escapes, all channel
//     assignments, 4–32 bit (33-bit side channels), fixed and variable
//     block sizes up to 65535; CRC-8 and CRC-16 checked (a mismatch is
//     KindCorrupt), no allocation per frame. Tests check it sample for
//     sample against github.com/mewkiz/flac and flac(1) files.
//   - Ogg: our own page reader (CRC-checked); Opus through
//     github.com/pion/opus (SILK, CELT and hybrid packets, decoded at
//     48 kHz; pre-skip, end trimming and output gain honoured), Vorbis
//     through github.com/jfreymuth/vorbis.
//   - WebM/Matroska: our own EBML walker, which accepts the unknown-size
//     Segments and Clusters that browser MediaRecorders write; Opus (pre-skip
//     from CodecPrivate, DiscardPadding honoured) and Vorbis tracks.
//   - MP3: github.com/hajimehoshi/go-mp3, with ID3 tags stripped first and
//     the LAME gapless delay/padding removed.
//
// Channels are averaged to mono and the result is resampled to SampleRate
// with a polyphase Kaiser-windowed-sinc filter (Resample, Resampler), which
// streaming callers can also use directly.
//
// Panics inside third-party decoders are recovered and reported as
// KindCorrupt. Audio cut off mid-stream is returned with Clip.Truncated set
// rather than rejected, so an interrupted upload still counts.
package audio

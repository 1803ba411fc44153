package audio_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/empowerher/empowerher/internal/audio"
)

func Example() {
	// A 440 Hz tone at 48 kHz, written as WAV and decoded back to 16 kHz.
	x := make([]float32, 48000/2)
	for i := range x {
		x[i] = float32(0.5 * math.Sin(2*math.Pi*440*float64(i)/48000))
	}
	var wav bytes.Buffer
	if err := audio.EncodeWAV16(&wav, x, 48000); err != nil {
		panic(err)
	}
	clip, err := audio.DecodeBytes(wav.Bytes(), audio.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(clip.Format, clip.SourceRate, len(clip.Samples), clip.Duration())

	_, err = audio.DecodeBytes([]byte("GIF89a..."), audio.Options{})
	var ae *audio.Error
	if errors.As(err, &ae) {
		fmt.Println(ae.Kind, "-", ae)
	}
	// Output:
	// wav 48000 8000 500ms
	// not_audio - not an audio file we can read (WAV, FLAC, Ogg/Opus, WebM/Opus, Ogg/Vorbis, MP3)
}

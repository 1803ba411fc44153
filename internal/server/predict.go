package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/detect"
)

// silencePeak: a clip whose loudest sample is below -80 dBFS holds no
// sound at all (digital silence or a muted microphone).
const silencePeak = 1e-4

// rawAudioType reports whether a raw /predict body's Content-Type is audio.
// The decoder sniffs the bytes itself; the type only keeps out requests
// that are plainly something else (JSON, forms, text).
func rawAudioType(mt string) bool {
	switch mt {
	case "application/octet-stream", "application/ogg", "video/webm":
		return true
	}
	return strings.HasPrefix(mt, "audio/")
}

// predictResponse keeps the prototype's fields (prediction, confidence)
// and adds the detector's full output.
type predictResponse struct {
	Prediction   string             `json:"prediction"` // "distress" | "normal"
	Confidence   float64            `json:"confidence"` // probability of the prediction
	Score        float64            `json:"score"`      // calibrated P(distress)
	Threshold    float64            `json:"threshold"`
	Label        string             `json:"label"`
	Emotions     []detect.ClassProb `json:"emotions"`
	Probs        map[string]float64 `json:"probabilities"`
	Voiced       bool               `json:"voiced"`
	DurationS    float64            `json:"duration_s"`
	Timeline     []detect.Window    `json:"timeline"`
	ModelVersion string             `json:"model_version"`
	Format       string             `json:"format"`
}

// uploadBufs recycles /predict upload buffers: a 4 s WAV is 128 KB, and
// io.ReadAll allocated about twice that per request (growing as it went),
// which at 200 requests/s was half of the handler's garbage.
var uploadBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledUpload: buffers that grew past this (long clips) are left to
// the garbage collector rather than kept for the next request.
const maxPooledUpload = 2 << 20

func putUpload(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledUpload {
		buf.Reset()
		uploadBufs.Put(buf)
	}
}

// readUpload returns the audio bytes of a /predict request: the multipart
// field "file", or the whole body for an audio Content-Type. The bytes
// live in a pooled buffer: the caller hands it back with putUpload once
// nothing refers to them any more (the decoder copies what it keeps).
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, error) {
	limit := s.opt.MaxUploadBytes
	tooLarge := newError(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("the upload is larger than the %d MiB limit", limit>>20))
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			"send multipart/form-data with a field named file, or a raw body with an audio Content-Type")
	}
	// Multipart framing adds a little; the audio itself is held to limit below.
	r.Body = http.MaxBytesReader(w, r.Body, limit+64<<10)
	var src io.Reader
	switch {
	case mt == "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, newError(http.StatusBadRequest, CodeBadRequest, "malformed multipart body")
		}
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, &apiError{Status: http.StatusBadRequest, Code: CodeBadRequest, Field: "file",
					Message: "the multipart body has no field named file"}
			}
			if err != nil {
				if isTooLarge(err) {
					return nil, tooLarge
				}
				return nil, newError(http.StatusBadRequest, CodeBadRequest, "malformed multipart body")
			}
			if p.FormName() == "file" {
				src = p
				break
			}
			_, _ = io.Copy(io.Discard, p)
		}
	case rawAudioType(mt):
		src = r.Body
	default:
		return nil, newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			"unsupported Content-Type "+mt+": send audio (audio/wav, audio/flac, audio/ogg, audio/webm, audio/mpeg) or multipart/form-data")
	}
	buf := uploadBufs.Get().(*bytes.Buffer)
	if _, err := buf.ReadFrom(io.LimitReader(src, limit+1)); err != nil {
		putUpload(buf)
		if isTooLarge(err) {
			return nil, tooLarge
		}
		return nil, newError(http.StatusBadRequest, CodeBadRequest, "could not read the upload")
	}
	if int64(buf.Len()) > limit {
		putUpload(buf)
		return nil, tooLarge
	}
	return buf, nil
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) {
	buf, err := s.readUpload(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	select {
	case s.predictSlots <- struct{}{}:
		defer func() { <-s.predictSlots }()
	case <-r.Context().Done():
		putUpload(buf)
		return
	}
	clip, err := DecodeAudio(buf.Bytes(), s.opt.MaxAudio, s.opt.MaxUploadBytes)
	putUpload(buf) // the clip holds its own samples
	if err != nil {
		s.writeError(w, r, audioError(err))
		return
	}
	var peak float32
	for _, v := range clip.Samples {
		if a := float32(math.Abs(float64(v))); a > peak {
			peak = a
		}
	}
	if peak < silencePeak {
		s.writeError(w, r, newError(http.StatusUnprocessableEntity, CodeAudioSilent, "the recording is silent: no sound at all was captured (is the microphone muted?)"))
		return
	}
	// Client errors are answered before this, with or without a model.
	if s.opt.Detector == nil {
		s.writeError(w, r, newError(http.StatusServiceUnavailable, CodeUnavailable, "no detector is loaded on this server"))
		return
	}
	res := s.opt.Detector.Analyze(clip.Samples)
	out := predictResponse{
		Prediction: "normal", Confidence: 1 - res.Score, Score: res.Score, Threshold: s.opt.Detector.Threshold(),
		Label: res.Label, Emotions: res.Classes, Probs: make(map[string]float64, len(res.Classes)),
		Voiced: res.Voiced, DurationS: res.DurationS, Timeline: res.Timeline, ModelVersion: res.ModelVersion,
		Format: clip.Format,
	}
	if res.Distress {
		out.Prediction, out.Confidence = "distress", res.Score
	}
	for _, c := range res.Classes {
		out.Probs[c.Class] = c.P
	}
	if out.Emotions == nil {
		out.Emotions = []detect.ClassProb{}
	}
	if out.Timeline == nil {
		out.Timeline = []detect.Window{}
	}
	s.metrics.predictions.WithLabelValues(out.Prediction).Inc()
	writeJSON(w, http.StatusOK, out)
}

// audioError maps a decoder error to its status: too long / too large are
// 413, everything else 422 with the decoder's message, which is written
// for the person who uploaded the file and never holds internal text.
func audioError(err error) error {
	var ae *audio.Error
	if !errors.As(err, &ae) {
		return newError(http.StatusUnprocessableEntity, CodeAudioUndecodable, "the audio could not be decoded")
	}
	switch ae.Kind {
	case audio.KindTooLong, audio.KindTooLarge:
		return newError(http.StatusRequestEntityTooLarge, CodeTooLarge, ae.Error())
	case audio.KindEmpty:
		return newError(http.StatusUnprocessableEntity, CodeAudioSilent, ae.Error())
	}
	return newError(http.StatusUnprocessableEntity, CodeAudioUndecodable, ae.Error())
}

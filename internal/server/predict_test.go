package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/corpus"
	"github.com/empowerher/empowerher/internal/detect"
	"github.com/empowerher/empowerher/internal/features"
	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/model"
)

var (
	detOnce sync.Once
	det     *detect.Detector
	detErr  error
)

// testDetector is the real detector: the embedded model when this build
// has one, else a small model trained here on random feature rows (the
// handler's job — decoding, features, inference, the JSON — is the same).
func testDetector(t testing.TB) *detect.Detector {
	detOnce.Do(func() {
		if det, detErr = detect.Default(); detErr == nil {
			return
		}
		names := features.FunctionalNames()
		classes := []string{corpus.Neutral, corpus.Fearful, corpus.Scream, corpus.Background}
		rng := rand.New(rand.NewPCG(1, 2))
		data := &model.Data{D: len(names)}
		for i := 0; i < 400; i++ {
			y := i % len(classes)
			for j := 0; j < len(names); j++ {
				data.X = append(data.X, float32(rng.NormFloat64())+float32(y))
			}
			data.Y = append(data.Y, y)
			data.Group = append(data.Group, i%4)
			data.Clean = append(data.Clean, true)
		}
		fit := model.DefaultFit()
		fit.Hidden, fit.Epochs = []int{256, 128}, 1
		var m *model.Model
		m, detErr = model.Train(data, model.TrainConfig{Classes: classes, Features: names,
			Distress: []string{corpus.Fearful, corpus.Scream}, Fit: fit, Ensemble: 1, CalibrationGroup: -1,
			WeightPower: 1, MaxBackgroundFPR: 0.1, Background: corpus.Background})
		if detErr != nil {
			return
		}
		// Through the file format, as a shipped model is: that sets Version.
		var buf bytes.Buffer
		if detErr = m.Encode(&buf); detErr != nil {
			return
		}
		if m, detErr = model.Decode(&buf); detErr == nil {
			det, detErr = detect.New(m)
		}
	})
	if detErr != nil {
		t.Fatalf("detector: %v", detErr)
	}
	return det
}

func withDetector(t testing.TB) envOption {
	d := testDetector(t)
	return func(o *Options, _ *incident.Config, _ *incident.WorkerConfig) { o.Detector = d }
}

// wav encodes a test signal: a 220 Hz vowel-like harmonic tone with noise,
// or digital silence.
func wav(t testing.TB, seconds float64, silent bool) []byte {
	n := int(seconds * audio.SampleRate)
	s := make([]float32, n)
	if !silent {
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range s {
			x := float64(i) / audio.SampleRate
			v := 0.0
			for h := 1; h <= 5; h++ {
				v += math.Sin(2*math.Pi*220*float64(h)*x) / float64(h)
			}
			s[i] = float32(0.2*v + 0.01*rng.NormFloat64())
		}
	}
	var b bytes.Buffer
	if err := audio.EncodeWAV16(&b, s, audio.SampleRate); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func multipartBody(t testing.TB, field string, data []byte) ([]byte, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("note", "first part is not the file")
	fw, err := mw.CreateFormFile(field, "clip.wav")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

func checkPrediction(t *testing.T, body []byte) predictResponse {
	t.Helper()
	var p predictResponse
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	_ = json.Unmarshal(body, &raw)
	for _, k := range []string{"prediction", "confidence", "score", "emotions", "probabilities", "timeline", "model_version"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("response lacks %q: %s", k, body)
		}
	}
	if p.Prediction != "distress" && p.Prediction != "normal" {
		t.Errorf("prediction %q", p.Prediction)
	}
	if p.Confidence < 0.5-1e-9 && p.Prediction == "distress" || p.Confidence < 0 || p.Confidence > 1 {
		t.Errorf("confidence %v for %s", p.Confidence, p.Prediction)
	}
	want := p.Score
	if p.Prediction == "normal" {
		want = 1 - p.Score
	}
	if math.Abs(p.Confidence-want) > 1e-12 {
		t.Errorf("confidence %v, score %v", p.Confidence, p.Score)
	}
	if p.ModelVersion == "" || len(p.Emotions) == 0 || len(p.Timeline) == 0 || math.Abs(p.DurationS-4) > 0.01 || p.Format != "wav" {
		t.Errorf("prediction %+v", p)
	}
	sum := 0.0
	for _, c := range p.Emotions {
		sum += c.P
		if p.Probs[c.Class] != c.P {
			t.Errorf("probabilities[%s] = %v, emotions say %v", c.Class, p.Probs[c.Class], c.P)
		}
	}
	if math.Abs(sum-1) > 1e-3 {
		t.Errorf("class probabilities sum to %v", sum)
	}
	return p
}

func TestPredictMultipartAndRawBody(t *testing.T) {
	e := newEnv(t, withDetector(t))
	clip := wav(t, 4, false)
	body, ct := multipartBody(t, "file", clip)
	resp, out := e.do("POST", "/predict", "", body, "Content-Type", ct)
	if resp.StatusCode != 200 {
		t.Fatalf("multipart: %d %s", resp.StatusCode, out)
	}
	a := checkPrediction(t, out)
	for _, ctype := range []string{"audio/wav", "audio/x-wav", "audio/wave", "application/octet-stream", "audio/webm; codecs=opus"} {
		resp, out = e.do("POST", "/predict", "", clip, "Content-Type", ctype)
		if resp.StatusCode != 200 {
			t.Fatalf("raw %s: %d %s", ctype, resp.StatusCode, out)
		}
		if b := checkPrediction(t, out); b.Score != a.Score {
			t.Fatalf("same clip, different scores: %v vs %v", a.Score, b.Score)
		}
	}
	if m := string(e.must(200, "GET", "/metrics", "", nil, nil)); !strings.Contains(m, "empowerher_predictions_total{prediction=\""+a.Prediction+"\"} 6") {
		t.Errorf("predictions metric:\n%s", grep(m, "predictions_total"))
	}
}

func TestPredictRejectsBadInput(t *testing.T) {
	e := newEnv(t, withDetector(t), func(o *Options, _ *incident.Config, _ *incident.WorkerConfig) { o.MaxUploadBytes = 256 << 10 })
	clip := wav(t, 4, false) // 128 KB
	e.errCode(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "POST", "/predict", "", clip, "Content-Type", "text/plain")
	e.errCode(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "POST", "/predict", "", clip, "Content-Type", "application/json")
	e.errCode(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "POST", "/predict", "", clip)
	big := wav(t, 10, false) // 320 KB
	e.errCode(http.StatusRequestEntityTooLarge, CodeTooLarge, "POST", "/predict", "", big, "Content-Type", "audio/wav")
	body, ct := multipartBody(t, "file", big)
	e.errCode(http.StatusRequestEntityTooLarge, CodeTooLarge, "POST", "/predict", "", body, "Content-Type", ct)
	body, ct = multipartBody(t, "audio", clip)
	e.errCode(http.StatusBadRequest, CodeBadRequest, "POST", "/predict", "", body, "Content-Type", ct)
	e.errCode(http.StatusBadRequest, CodeBadRequest, "POST", "/predict", "", []byte("--x\r\n"), "Content-Type", "multipart/form-data; boundary=x")
	e.errCode(http.StatusUnprocessableEntity, CodeAudioUndecodable, "POST", "/predict", "", []byte("RIFF\x10\x00\x00\x00WAVEjunkjunk"), "Content-Type", "audio/wav")
	e.errCode(http.StatusUnprocessableEntity, CodeAudioUndecodable, "POST", "/predict", "", bytes.Repeat([]byte{0x5a}, 5000), "Content-Type", "audio/ogg")
	e.errCode(http.StatusUnprocessableEntity, CodeAudioSilent, "POST", "/predict", "", wav(t, 2, true), "Content-Type", "audio/wav")
	e.errCode(http.StatusUnprocessableEntity, CodeAudioSilent, "POST", "/predict", "", []byte{}, "Content-Type", "audio/wav")
	// Too long for --max-audio: 413 with the decoder's words.
	short := newEnv(t, withDetector(t), func(o *Options, _ *incident.Config, _ *incident.WorkerConfig) { o.MaxAudio = 2e9 })
	short.errCode(http.StatusRequestEntityTooLarge, CodeTooLarge, "POST", "/predict", "", clip, "Content-Type", "audio/wav")

	noModel := newEnv(t)
	noModel.errCode(http.StatusServiceUnavailable, CodeUnavailable, "POST", "/predict", "", clip, "Content-Type", "audio/wav")
	noModel.errCode(http.StatusUnprocessableEntity, CodeAudioUndecodable, "POST", "/predict", "", []byte("nope"), "Content-Type", "audio/wav")
}

// FuzzPredict: no body makes the handler panic or answer outside the
// documented statuses.
func FuzzPredict(f *testing.F) {
	f.Add(wav(f, 0.5, false), "audio/wav")
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt "), "audio/wav")
	f.Add([]byte("fLaC\x00\x00\x00\x22"), "audio/flac")
	f.Add([]byte("OggS\x00\x02"), "audio/ogg")
	f.Add([]byte("\x1a\x45\xdf\xa3"), "audio/webm")
	f.Add([]byte("ID3\x04\x00"), "audio/mpeg")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nxx\r\n--b--\r\n"), "multipart/form-data; boundary=b")
	s := New(Options{Detector: testDetector(f), MaxUploadBytes: 1 << 20, MaxAudio: 5e9, Logger: quietLogger()})
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		req := httptest.NewRequest("POST", "/predict", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		switch w.Code {
		case 200, 400, 413, 415, 422:
		default:
			t.Fatalf("status %d for %q: %s", w.Code, ct, w.Body)
		}
	})
}

// BenchmarkPredict4s is the /predict handler on a 4 s WAV, in process
// (decode, features, model, JSON).
func BenchmarkPredict4s(b *testing.B) {
	s := New(Options{Detector: testDetector(b), Logger: quietLogger()})
	clip := wav(b, 4, false)
	b.SetBytes(int64(len(clip)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/predict", bytes.NewReader(clip))
		req.Header.Set("Content-Type", "audio/wav")
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

package server

import (
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/empowerher/empowerher/internal/audio"
	"github.com/empowerher/empowerher/internal/detect"
	"github.com/empowerher/empowerher/internal/evidence"
	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/store"
)

// Detector is what /predict needs of internal/detect.
type Detector interface {
	Analyze(samples []float32) detect.Result
	ModelVersion() string
	Threshold() float64
}

// Options configure a Server. Store and Incidents are required.
type Options struct {
	Store     store.Store
	Incidents *incident.Service
	// Detector serves /predict; nil answers 503.
	Detector Detector
	// SMSConfigured says whether a real SMS provider exists; when false
	// every /alert response carries a warning saying so.
	SMSConfigured bool
	Logger        *slog.Logger
	// Metrics is the Prometheus registry wrapper; nil makes a fresh one.
	Metrics *Metrics

	// CORSOrigins is the allow-list ("https://app.example.org"); empty
	// means no cross-origin browser access at all.
	CORSOrigins []string
	// MaxUploadBytes bounds a /predict body (default 16 MiB).
	MaxUploadBytes int64
	// MaxAudio bounds a /predict clip's duration (default 60 s).
	MaxAudio time.Duration
	// PredictRate is requests per second per client on /predict (0: no
	// limit), PredictBurst the bucket size.
	PredictRate  float64
	PredictBurst int
	// SignInRate / SignInBurst limit sign-in attempts per client.
	SignInRate  float64
	SignInBurst int
	// TrustProxy takes the client address from X-Forwarded-For (only
	// behind a reverse proxy that sets it).
	TrustProxy bool
	// MetricsToken, when set, is required as a Bearer token on /metrics.
	MetricsToken string
	// TwilioAuthToken verifies status callback signatures; TwilioCallbackURL
	// is the public URL Twilio was told to call (signatures cover it).
	TwilioAuthToken   string
	TwilioCallbackURL string
	Now               func() time.Time
	// Web configures the browser app and live listening (web.go, live.go).
	Web WebOptions
	// Evidence keeps clips around live detections of users who consented
	// (evidence.go); nil turns evidence off.
	Evidence evidence.Store
}

// Server is the HTTP API.
type Server struct {
	opt      Options
	st       store.Store
	inc      *incident.Service
	log      *slog.Logger
	metrics  *Metrics
	limiters map[string]*limiter
	// predictSlots bounds decodes+analyses in flight: each holds a whole
	// clip in memory, so the bound is on memory as much as on CPU.
	predictSlots chan struct{}
	handler      http.Handler
	web          webState // the app's files, live streams (web.go)
	// evidenceWG counts evidence uploads in flight (evidence.go).
	evidenceWG sync.WaitGroup
}

// New builds the server and its routes.
func New(opt Options) *Server {
	if opt.MaxUploadBytes <= 0 {
		opt.MaxUploadBytes = 16 << 20
	}
	if opt.MaxAudio <= 0 {
		opt.MaxAudio = 60 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Metrics == nil {
		opt.Metrics = NewMetrics(opt.Store)
	}
	s := &Server{
		opt: opt, st: opt.Store, inc: opt.Incidents, log: opt.Logger, metrics: opt.Metrics,
		limiters:     map[string]*limiter{},
		predictSlots: make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
	}
	if opt.PredictRate > 0 {
		s.limiters[limitPredict] = newLimiter(opt.PredictRate, max(opt.PredictBurst, 1), opt.Now)
	}
	if opt.SignInRate > 0 {
		s.limiters[limitSignIn] = newLimiter(opt.SignInRate, max(opt.SignInBurst, 1), opt.Now)
	}
	mux := s.routes()
	s.handler = s.withRequestID(s.withRecover(s.withLogAndMetrics(s.withCORS(jsonNotFound(mux)))))
	return s
}

// Handler is the whole API with its middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// Metrics returns the server's metrics (the delivery worker reports into it).
func (s *Server) Metrics() *Metrics { return s.metrics }

// WaitEvidence waits for evidence uploads in flight (graceful shutdown).
func (s *Server) WaitEvidence() { s.evidenceWG.Wait() }

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) logger(r *http.Request) *slog.Logger {
	return s.log.With("request_id", requestID(r.Context()))
}

// DecodeAudio is the decoder /predict uses.
func DecodeAudio(b []byte, maxDur time.Duration, maxBytes int64) (*audio.Clip, error) {
	return audio.DecodeBytes(b, audio.Options{MaxDuration: maxDur, MaxBytes: maxBytes})
}

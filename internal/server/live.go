package server

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/empowerher/empowerher/internal/detect"
	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/store"
)

// Live listening protocol (GET /live, a WebSocket; see docs/api.md):
//
//	client → server  binary: 16-bit little-endian PCM, mono, 16 kHz, at most MaxFrameBytes
//	                 text:   {"type":"location","lat":…,"lon":…,"accuracy":…} | {"type":"ping"}
//	server → client  {"type":"ready",…} once, {"type":"update",…} per hop,
//	                 {"type":"detection",…} when the stream alarms, {"type":"error",…}
//
// On a detection the server itself creates (or joins) a voice-triggered
// incident, which is pending for the cancel window: the alert goes out
// even if the phone is destroyed during the countdown. The page shows the
// countdown, Cancel (POST /incidents/{id}/cancel) and Send now (POST
// /alert with trigger manual, which sends a pending incident at once).

// LiveOptions bound what one live stream may cost.
type LiveOptions struct {
	// MaxStreamsPerUser: a new stream beyond it closes the user's oldest,
	// so a phone that reconnects after a network change is never locked
	// out by its own half-dead connection. Default 3.
	MaxStreamsPerUser int
	// MaxStreams bounds streams on this server (default 4096); beyond it
	// new streams get 503.
	MaxStreams int
	// IdleTimeout closes a stream that sends no message for this long
	// (default 15 s; the page sends audio every 100 ms).
	IdleTimeout time.Duration
	// MaxFrameBytes bounds one message (default 8000 bytes: 0.25 s; the
	// page sends 0.1 s).
	MaxFrameBytes int
	// RateSlack is how much faster than real time audio may arrive on
	// average (default 1.25), Burst how far ahead of real time it may get
	// (default 3 s, for a backlog flushed after a reconnect).
	RateSlack float64
	Burst     time.Duration
}

func (s *Server) liveOptions() LiveOptions {
	o := s.opt.Web.Live
	if o.MaxStreamsPerUser <= 0 {
		o.MaxStreamsPerUser = 3
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = 4096
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 15 * time.Second
	}
	if o.MaxFrameBytes <= 0 {
		o.MaxFrameBytes = 8000
	}
	if o.RateSlack < 1 {
		o.RateSlack = 1.25
	}
	if o.Burst <= 0 {
		o.Burst = 3 * time.Second
	}
	return o
}

const liveRate = 16000

// liveHub tracks open streams per user.
type liveHub struct {
	mu     sync.Mutex
	byUser map[int64][]*liveSlot
	total  int
}

type liveSlot struct{ stop context.CancelFunc }

var errTooManyStreams = newError(http.StatusServiceUnavailable, CodeUnavailable, "this server has too many live streams open; try again shortly")

// add registers a stream, returning the user's streams it displaces.
func (h *liveHub) add(userID int64, sl *liveSlot, o LiveOptions) ([]*liveSlot, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byUser == nil {
		h.byUser = map[int64][]*liveSlot{}
	}
	cur := h.byUser[userID]
	var evict []*liveSlot
	for len(cur) >= o.MaxStreamsPerUser {
		evict = append(evict, cur[0])
		cur = cur[1:]
		h.total--
	}
	if h.total >= o.MaxStreams {
		h.byUser[userID] = cur
		return evict, errTooManyStreams
	}
	h.byUser[userID] = append(cur, sl)
	h.total++
	return evict, nil
}

func (h *liveHub) remove(userID int64, sl *liveSlot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cur := h.byUser[userID]
	for i, c := range cur {
		if c == sl {
			h.byUser[userID] = append(cur[:i:i], cur[i+1:]...)
			h.total--
			break
		}
	}
	if len(h.byUser[userID]) == 0 {
		delete(h.byUser, userID)
	}
}

// liveMetrics registers the live-listening metrics on first use (the
// registry belongs to metrics.go; registering twice is harmless).
func (s *Server) liveMetrics() {
	s.web.metricsOnce.Do(func() {
		s.web.detections = prometheus.NewCounter(prometheus.CounterOpts{
			Name: "empowerher_live_detections_total", Help: "Distress detections on live listening streams."})
		_ = s.metrics.Registry.Register(s.web.detections)
		_ = s.metrics.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "empowerher_live_streams", Help: "Live listening streams open now."},
			func() float64 { return float64(s.LiveStreams()) }))
	})
}

// LiveStreams returns the number of live streams open now.
func (s *Server) LiveStreams() int {
	s.web.live.mu.Lock()
	defer s.web.live.mu.Unlock()
	return s.web.live.total
}

type liveReady struct {
	Type          string        `json:"type"`
	SampleRate    int           `json:"sample_rate"`
	MaxFrameBytes int           `json:"max_frame_bytes"`
	HopS          float64       `json:"hop_s"`
	Threshold     float64       `json:"threshold"`
	CancelWindowS float64       `json:"cancel_window_s"`
	ModelVersion  string        `json:"model_version"`
	Incident      *incidentView `json:"incident"` // the open one, to resume after a reconnect
}

type liveUpdate struct {
	Type   string  `json:"type"`
	T      float64 `json:"t"`
	Level  float64 `json:"level"`
	Score  float64 `json:"score"`
	Voiced bool    `json:"voiced"`
}

type liveDetection struct {
	Type     string        `json:"type"`
	Alarm    detect.Alarm  `json:"alarm"`
	Incident *incidentView `json:"incident,omitempty"`
	Joined   bool          `json:"joined"`
	// CancelInS is how long the countdown has left (0 when the incident
	// was already sent).
	CancelInS float64  `json:"cancel_in_s"`
	Warnings  []string `json:"warnings,omitempty"`
	Error     string   `json:"error,omitempty"`
}

type liveError struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

type liveClientMsg struct {
	Type     string   `json:"type"`
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	Accuracy float64  `json:"accuracy"`
}

// liveOrigins turns the CORS allow-list into the host patterns the
// WebSocket origin check takes; the request's own host is always allowed,
// so other sites' pages cannot open a stream with the user's cookie.
func (s *Server) liveOrigins() []string {
	var out []string
	for _, o := range s.opt.CORSOrigins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			out = append(out, u.Host)
		}
	}
	return out
}

func (s *Server) handleLive(w http.ResponseWriter, r *http.Request) {
	det, ok := s.opt.Detector.(streamDetector)
	if !ok {
		s.writeError(w, r, newError(http.StatusServiceUnavailable, CodeUnavailable, "live listening needs a detector; this server has none"))
		return
	}
	s.liveMetrics()
	u := userFrom(r)
	o := s.liveOptions()
	lg := s.logger(r).With("user", u.ID)
	// After the upgrade the request's context is not ours to use.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	slot := &liveSlot{stop: stop}
	evicted, err := s.web.live.add(u.ID, slot, o)
	for _, e := range evicted {
		e.stop()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer s.web.live.remove(u.ID, slot)

	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.liveOrigins()})
	if err != nil {
		lg.Info("live: upgrade refused", "err", err)
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(int64(o.MaxFrameBytes))
	ls := &liveSession{s: s, c: c, u: u, o: o, ctx: ctx, stream: det.NewStream(detect.StreamConfig{})}
	if s.evidenceOn() && u.EvidenceConsent {
		ls.ring = newPCMRing()
	}
	code, reason := ls.run()
	lg.Info("live: stream ended", "seconds", float64(ls.samples)/liveRate, "code", int(code), "reason", reason)
	_ = c.Close(code, reason)
}

// liveSession is one stream's state: its buffers are fixed-size, so a
// stream costs the same whatever it sends.
type liveSession struct {
	s      *Server
	c      *websocket.Conn
	u      *store.User
	o      LiveOptions
	ctx    context.Context
	stream *detect.Stream

	pcm     []byte
	f32     [1024]float32
	samples int64
	start   time.Time
	loc     *store.Location
	// ring keeps the last evidenceSeconds of PCM, only for a user who
	// consented to evidence on a server that keeps it (evidence.go).
	ring   *pcmRing
	failed error
	idle   atomic.Bool
}

func (ls *liveSession) send(v any) {
	if ls.failed != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		ls.failed = err
		return
	}
	wctx, cancel := context.WithTimeout(ls.ctx, 5*time.Second)
	defer cancel()
	ls.failed = ls.c.Write(wctx, websocket.MessageText, b)
}

func (ls *liveSession) run() (websocket.StatusCode, string) {
	s := ls.s
	// Real time counts from the upgrade: the client may start sending
	// then, before the ready message (a slow store must not make its
	// audio look faster than real time).
	ls.start = time.Now()
	ready := liveReady{Type: "ready", SampleRate: liveRate, MaxFrameBytes: ls.o.MaxFrameBytes,
		HopS: detect.DefaultHop.Seconds(), CancelWindowS: s.inc.Config().CancelWindow.Seconds()}
	if d := s.opt.Detector; d != nil {
		ready.Threshold, ready.ModelVersion = ls.stream.Threshold(), d.ModelVersion()
	}
	if inc, err := s.st.OpenIncident(ls.ctx, ls.u.ID); err == nil {
		v := incView(inc)
		ready.Incident = &v
	}
	ls.send(ready)
	ls.pcm = make([]byte, ls.o.MaxFrameBytes)
	// Idle streams and displaced ones are closed from outside the read,
	// with a close code the client can act on (a read deadline would drop
	// the connection without one).
	idle := time.AfterFunc(ls.o.IdleTimeout, func() {
		ls.idle.Store(true)
		_ = ls.c.Close(websocket.StatusPolicyViolation, "idle: no audio for too long")
	})
	defer idle.Stop()
	stopEvict := context.AfterFunc(ls.ctx, func() { _ = ls.c.Close(4000, "replaced by a newer stream of yours") })
	defer stopEvict()
	for ls.failed == nil {
		typ, rd, err := ls.c.Reader(context.Background())
		if err != nil {
			return ls.readEnded(err)
		}
		idle.Reset(ls.o.IdleTimeout)
		n, err := readMessage(rd, ls.pcm)
		if err != nil {
			// The library reports its read limit only in words.
			if strings.Contains(err.Error(), "read limited") || errors.Is(err, errMessageTooBig) {
				return websocket.StatusMessageTooBig, "message larger than max_frame_bytes"
			}
			return websocket.StatusProtocolError, "read failed"
		}
		if typ == websocket.MessageText {
			ls.text(ls.pcm[:n])
			continue
		}
		if n%2 != 0 {
			return websocket.StatusUnsupportedData, "audio must be 16-bit PCM (an even number of bytes)"
		}
		ls.samples += int64(n / 2)
		allowed := (time.Since(ls.start).Seconds()*ls.o.RateSlack + ls.o.Burst.Seconds()) * liveRate
		if float64(ls.samples) > allowed {
			ls.send(liveError{Type: "error", Code: CodeRateLimited, Message: "audio arrives faster than real time"})
			return websocket.StatusPolicyViolation, "audio faster than real time"
		}
		ls.audio(ls.pcm[:n])
	}
	return websocket.StatusInternalError, "write failed"
}

func (ls *liveSession) readEnded(err error) (websocket.StatusCode, string) {
	switch {
	case ls.idle.Load():
		return websocket.StatusPolicyViolation, "idle: no audio for too long"
	case ls.ctx.Err() != nil:
		return 4000, "replaced by a newer stream of yours"
	case websocket.CloseStatus(err) != -1:
		return websocket.StatusNormalClosure, "closed by client"
	}
	return websocket.StatusGoingAway, "connection lost"
}

var errMessageTooBig = errors.New("server: message larger than the buffer")

// readMessage reads one whole message into buf (the read limit keeps it
// within len(buf)).
func readMessage(rd io.Reader, buf []byte) (int, error) {
	n := 0
	for {
		if n == len(buf) {
			var one [1]byte
			m, err := rd.Read(one[:])
			if m > 0 {
				return n, errMessageTooBig
			}
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			continue
		}
		m, err := rd.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func (ls *liveSession) audio(b []byte) {
	if ls.ring != nil {
		ls.ring.write(b)
	}
	for len(b) > 0 {
		k := min(len(b)/2, len(ls.f32))
		x := ls.f32[:k]
		for i := range x {
			x[i] = float32(int16(binary.LittleEndian.Uint16(b[2*i:]))) / 32768
		}
		b = b[2*k:]
		ls.stream.Write(x, ls.onUpdate)
	}
}

func (ls *liveSession) onUpdate(up detect.Update) {
	ls.send(liveUpdate{Type: "update", T: up.TimeS, Level: up.Level, Score: up.Score, Voiced: up.Voiced})
	if up.Alarm != nil {
		ls.detection(*up.Alarm)
	}
}

func (ls *liveSession) detection(a detect.Alarm) {
	s := ls.s
	ev := liveDetection{Type: "detection", Alarm: a}
	s.web.detections.Inc()
	// The alert must be committed even if the phone hangs up right now.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ls.ctx), 10*time.Second)
	defer cancel()
	out, err := s.inc.Alert(ctx, ls.u, incident.AlertInput{Trigger: incident.TriggerVoice, Score: a.Score, Location: ls.loc})
	if err != nil {
		s.log.Error("live: alert failed", "user", ls.u.ID, "err", err)
		ev.Error = classify(err).Message
		ls.send(ev)
		return
	}
	v := incView(out.Incident)
	ev.Incident, ev.Joined, ev.Warnings = &v, out.Joined, out.Warnings
	if out.Incident.State == store.StatePending {
		ev.CancelInS = max(out.Incident.ActivateAt.Sub(s.inc.Config().Now()).Seconds(), 0)
	}
	s.log.Info("live: detection", "user", ls.u.ID, "incident", out.Incident.ID, "score", a.Score, "label", a.Label, "joined", out.Joined)
	ls.keepEvidence(out.Incident, a)
	ls.send(ev)
}

func (ls *liveSession) text(b []byte) {
	var m liveClientMsg
	if err := json.Unmarshal(b, &m); err != nil {
		ls.send(liveError{Type: "error", Code: CodeInvalidJSON, Message: "text messages must be JSON objects"})
		return
	}
	switch m.Type {
	case "ping":
		ls.send(map[string]string{"type": "pong"})
	case "location":
		loc, err := (&locationInput{Lat: m.Lat, Lon: m.Lon, Accuracy: m.Accuracy}).toStore()
		if err != nil {
			ls.send(liveError{Type: "error", Code: CodeInvalidField, Message: classify(err).Message})
			return
		}
		loc.At = ls.s.opt.Now()
		ls.loc = loc
	default:
		ls.send(liveError{Type: "error", Code: CodeBadRequest, Message: "unknown message type"})
	}
}

package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/notify"
	"github.com/empowerher/empowerher/internal/store"
	"github.com/empowerher/empowerher/internal/store/sqlite"
)

const testWebhookSecret = "test-webhook-secret-0123456789"

// clock is a settable time source shared by the service and the worker,
// so countdowns, escalations and backoff are driven by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 8, 9, 30, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a real server over a real SQLite store with real channels (log,
// and the signed webhook aimed at local receivers).
type env struct {
	t      *testing.T
	st     store.Store
	reg    *notify.Registry
	svc    *incident.Service
	worker *incident.Worker
	srv    *Server
	ts     *httptest.Server
	clock  *clock
	logs   *bytes.Buffer
}

type envOption func(*Options, *incident.Config, *incident.WorkerConfig)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	return newEnvWith(t, notify.Config{
		Webhook:  true,
		Webhooks: notify.WebhookConfig{Secret: testWebhookSecret, AllowPrivateNetworks: true, Timeout: 5 * time.Second},
	}, opts...)
}

// newEnvWith builds an env whose channels are nc (log is always there).
func newEnvWith(t *testing.T, nc notify.Config, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &bytes.Buffer{}
	lg := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg, err := notify.NewRegistry(nc, lg)
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	e := &env{t: t, st: st, reg: reg, clock: clk, logs: logs}
	ts := httptest.NewUnstartedServer(nil)
	icfg := incident.Config{CancelWindow: 10 * time.Second, AckTimeout: 5 * time.Minute, HeartbeatTimeout: 2 * time.Minute,
		Links: incident.NewLinks(secret, "http://"+ts.Listener.Addr().String()), Now: clk.Now, Logger: lg}
	wcfg := incident.WorkerConfig{Owner: "test", Lease: 10 * time.Second, Now: clk.Now, Logger: lg,
		BaseBackoff: 2 * time.Second, MaxBackoff: 5 * time.Minute, MaxAttempts: 4}
	sopt := Options{Store: st, Logger: lg, SMSConfigured: reg.SMSConfigured(), Now: time.Now}
	for _, o := range opts {
		o(&sopt, &icfg, &wcfg)
	}
	metrics := NewMetrics(st)
	wcfg.Observe = metrics.ObserveDelivery
	e.worker = incident.NewWorker(st, reg, wcfg)
	e.svc = incident.New(st, reg, icfg)
	sopt.Incidents, sopt.Metrics = e.svc, metrics
	e.srv = New(sopt)
	ts.Config.Handler = e.srv
	ts.Start()
	t.Cleanup(ts.Close)
	e.ts = ts
	return e
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// user creates an account the way `empowerher user add` does and returns
// it with its API token.
func (e *env) user(name string) (*store.User, string) {
	e.t.Helper()
	u := &store.User{Name: name, DisplayName: strings.ToUpper(name[:1]) + name[1:]}
	if err := e.st.CreateUser(context.Background(), u, nil); err != nil {
		e.t.Fatal(err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	if err := e.st.AddToken(context.Background(), u.ID, incident.HashToken(tok), "test"); err != nil {
		e.t.Fatal(err)
	}
	return u, tok
}

// do sends a request; body may be nil, a string/[]byte (sent as is) or a
// value (sent as JSON).
func (e *env) do(method, path, token string, body any, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// must sends a request and fails unless the status is want; it decodes
// the JSON answer into v when v is not nil.
func (e *env) must(want int, method, path, token string, body, v any) []byte {
	e.t.Helper()
	resp, out := e.do(method, path, token, body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, out)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, out)
		}
	}
	return out
}

// errCode checks a JSON error answer's status and code.
func (e *env) errCode(wantStatus int, wantCode, method, path, token string, body any, hdr ...string) {
	e.t.Helper()
	resp, out := e.do(method, path, token, body, hdr...)
	var eb errorBody
	_ = json.Unmarshal(out, &eb)
	if resp.StatusCode != wantStatus || eb.Error.Code != wantCode {
		e.t.Fatalf("%s %s: got %d %q, want %d %q: %s", method, path, resp.StatusCode, eb.Error.Code, wantStatus, wantCode, out)
	}
	if eb.Error.Message == "" {
		e.t.Fatalf("%s %s: error without a message: %s", method, path, out)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("%s %s: error Content-Type %q", method, path, ct)
	}
}

func (e *env) drain() {
	e.t.Helper()
	if err := e.worker.Drain(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) tick() {
	e.t.Helper()
	if err := e.svc.Tick(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// receiver is a webhook peer: it checks each request's HMAC signature,
// records it, and answers with the status the test scripted for it.
type receiver struct {
	t   *testing.T
	srv *httptest.Server
	mu  sync.Mutex
	got []notify.WebhookPayload
	// status[i] answers the i-th request (0 or missing: 200).
	status []int
	n      int
	bad    int // requests with a wrong signature
}

func newReceiver(t *testing.T, status ...int) *receiver {
	r := &receiver{t: t, status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if !notify.VerifyWebhook(testWebhookSecret, req.Header.Get(notify.HeaderWebhookTimestamp), body, req.Header.Get(notify.HeaderWebhookSignature)) {
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		code := http.StatusOK
		if r.n < len(r.status) && r.status[r.n] != 0 {
			code = r.status[r.n]
		}
		r.n++
		if code != http.StatusOK {
			w.WriteHeader(code)
			return
		}
		var p notify.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		if req.Header.Get(notify.HeaderIdempotencyKey) != p.IdempotencyKey || p.IdempotencyKey == "" {
			t.Errorf("Idempotency-Key header %q, payload %q", req.Header.Get(notify.HeaderIdempotencyKey), p.IdempotencyKey)
		}
		r.got = append(r.got, p)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received() []notify.WebhookPayload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.WebhookPayload(nil), r.got...)
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// contact creates a contact over the API.
func (e *env) contact(token string, body map[string]any) contactView {
	e.t.Helper()
	var c contactView
	e.must(http.StatusCreated, "POST", "/contacts", token, body, &c)
	return c
}

func (e *env) incident(token, id string) incidentDetailView {
	e.t.Helper()
	var v incidentDetailView
	e.must(http.StatusOK, "GET", "/incidents/"+id, token, nil, &v)
	return v
}

// newPlainServer serves h on loopback and returns its URL.
func newPlainServer(t *testing.T, h http.Handler) string {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

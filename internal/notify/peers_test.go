package notify

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTimeout is the per-attempt timeout in tests: short, so the "slow"
// fault costs little, long enough for a loaded CI machine to answer.
const testTimeout = 300 * time.Millisecond

// fault is how a peer misbehaves on its next requests.
type fault string

const (
	faultNone     fault = ""
	fault500      fault = "500"
	fault503Retry fault = "503-retry-after"
	fault429      fault = "429"
	fault400      fault = "400"
	fault401      fault = "401"
	faultSlow     fault = "slow"
	faultReset    fault = "reset"
)

// peer is a local HTTP server speaking a provider's protocol. handle
// checks a well-formed request and writes the provider's success answer;
// the fault, when set, replaces it.
type peer struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	fault  fault
	reqs   []*recordedRequest
	handle func(w http.ResponseWriter, r *recordedRequest)
	// errBody is the provider's error body for 4xx/5xx faults.
	errBody, errType string
	// errFunc, when set, writes the error body for a status instead.
	errFunc func(w http.ResponseWriter, code int)
}

type recordedRequest struct {
	*http.Request
	Body []byte
}

func newPeer(t *testing.T, handle func(w http.ResponseWriter, r *recordedRequest)) *peer {
	t.Helper()
	p := &peer{t: t, handle: handle}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *peer) setFault(f fault) {
	p.mu.Lock()
	p.fault = f
	p.mu.Unlock()
}

func (p *peer) requests() []*recordedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*recordedRequest(nil), p.reqs...)
}

func (p *peer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", 400)
		return
	}
	rr := &recordedRequest{Request: r, Body: body}
	p.mu.Lock()
	p.reqs = append(p.reqs, rr)
	f := p.fault
	p.mu.Unlock()
	errBody := func(code int) {
		if p.errFunc != nil {
			p.errFunc(w, code)
			return
		}
		if p.errType != "" {
			w.Header().Set("Content-Type", p.errType)
		}
		w.WriteHeader(code)
		io.WriteString(w, strings.ReplaceAll(p.errBody, "{code}", http.StatusText(code)))
	}
	switch f {
	case fault500:
		errBody(500)
	case fault503Retry:
		w.Header().Set("Retry-After", "7")
		errBody(503)
	case fault429:
		w.Header().Set("Retry-After", "2")
		errBody(429)
	case fault400:
		errBody(400)
	case fault401:
		errBody(401)
	case faultSlow:
		select {
		case <-r.Context().Done():
		case <-time.After(5 * testTimeout):
		}
		w.WriteHeader(200)
	case faultReset:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	default:
		p.handle(w, rr)
	}
}

// faultCase is one entry of the retry-classification table every HTTP
// channel is run through.
type faultCase struct {
	fault      fault
	retry      bool
	retryAfter time.Duration // 0: none expected
}

var httpFaultCases = []faultCase{
	{fault500, true, 0},
	{fault503Retry, true, 7 * time.Second},
	{fault429, true, 2 * time.Second},
	{fault400, false, 0},
	{fault401, false, 0},
	{faultSlow, true, 0},
	{faultReset, true, 0},
}

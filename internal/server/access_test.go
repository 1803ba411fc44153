package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/store"
)

func TestOneUserCannotReadOrChangeAnothersData(t *testing.T) {
	e := newEnv(t)
	_, tokA := e.user("asha")
	_, tokB := e.user("bela")
	rcv := newReceiver(t)
	c := e.contact(tokA, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tokA, map[string]any{"trigger": "voice", "score": 0.9}, &ar)
	inc, cid := "/incidents/"+ar.Incident.ID, "/contacts/"+itoa(c.ID)

	for _, req := range []struct{ method, path string }{
		{"GET", inc}, {"POST", inc + "/cancel"}, {"POST", inc + "/resolve"}, {"POST", inc + "/heartbeat"},
		{"GET", cid}, {"DELETE", cid}, {"POST", cid + "/test"},
	} {
		e.errCode(http.StatusNotFound, CodeNotFound, req.method, req.path, tokB, nil)
	}
	e.errCode(http.StatusNotFound, CodeNotFound, "POST", inc+"/location", tokB, map[string]any{"lat": 1, "lon": 1})
	e.errCode(http.StatusNotFound, CodeNotFound, "POST", inc+"/feedback", tokB, map[string]any{"feedback": "real"})
	e.errCode(http.StatusNotFound, CodeNotFound, "PUT", cid, tokB, map[string]any{"name": "Mallory", "webhook_url": "https://evil.example/x"})

	var li struct{ Incidents []incidentView }
	e.must(http.StatusOK, "GET", "/incidents", tokB, nil, &li)
	var lc struct{ Contacts []contactView }
	e.must(http.StatusOK, "GET", "/contacts", tokB, nil, &lc)
	if len(li.Incidents) != 0 || len(lc.Contacts) != 0 {
		t.Fatalf("B sees A's data: %+v %+v", li, lc)
	}
	// B's alert is B's own incident, not a join of A's.
	var br alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tokB, map[string]any{"trigger": "voice", "score": 0.9}, &br)
	if br.Joined || br.Incident.ID == ar.Incident.ID || len(br.Recipients) != 0 {
		t.Fatalf("B's alert %+v", br)
	}
	// A's things are untouched.
	v := e.incident(tokA, ar.Incident.ID)
	if v.State != "pending" {
		t.Fatalf("A's incident changed: %s", v.State)
	}
	var got contactView
	e.must(http.StatusOK, "GET", cid, tokA, nil, &got)
	if got.Name != "Bob" {
		t.Fatalf("A's contact changed: %+v", got)
	}
}

func TestErrorStatusesAndCodes(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *incident.Config, _ *incident.WorkerConfig) { o.MaxUploadBytes = 64 << 10 })
	_, tok := e.user("asha")

	e.errCode(http.StatusUnauthorized, CodeUnauthorized, "POST", "/alert", "", map[string]any{})
	e.errCode(http.StatusUnauthorized, CodeUnauthorized, "POST", "/alert", "wrong-token", map[string]any{})
	e.errCode(http.StatusUnauthorized, CodeUnauthorized, "GET", "/incidents", "", nil, "Authorization", "Basic YTpi")
	resp, _ := e.do("GET", "/contacts", "", nil)
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	e.errCode(http.StatusBadRequest, CodeInvalidJSON, "POST", "/alert", tok, `{"trigger": "manual"`)
	e.errCode(http.StatusBadRequest, CodeInvalidJSON, "POST", "/contacts", tok, `{"name": 5}`)
	e.errCode(http.StatusBadRequest, CodeInvalidJSON, "POST", "/contacts", tok, `{} {}`)
	e.errCode(http.StatusBadRequest, CodeInvalidJSON, "POST", "/contacts", tok, ``)
	e.errCode(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "POST", "/contacts", tok, []byte(`{"name":"x"}`), "Content-Type", "text/plain")
	e.errCode(http.StatusRequestEntityTooLarge, CodeTooLarge, "POST", "/contacts", tok, `{"name":"`+strings.Repeat("x", 2<<20)+`"}`)
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/contacts", tok, map[string]any{"name": "Bob", "phone": "07700 900123"})
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/contacts", tok, map[string]any{"name": "Bob", "phone": "+0123456789"})
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/contacts", tok, map[string]any{"name": "Bob"})
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/contacts", tok, map[string]any{"name": "", "phone": "+447700900123"})
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/contacts", tok, map[string]any{"name": "Bob", "email": "not an address"})
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/contacts", tok, map[string]any{"name": "Bob", "webhook_url": "ftp://x"})
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/contacts", tok, map[string]any{"name": "Bob", "phone": "+447700900123", "channels": []string{"pigeon"}})
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/contacts", tok, map[string]any{"name": "Bob", "phone": "+447700900123", "channels": []string{"email"}})
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/alert", tok, map[string]any{"trigger": "telepathy"})
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/alert", tok, map[string]any{"location": map[string]any{"lat": 0, "lon": 200}})
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/alert", tok, map[string]any{"message": strings.Repeat("x", 501)})
	e.errCode(http.StatusNotFound, CodeNotFound, "GET", "/incidents/nope", tok, nil)
	e.errCode(http.StatusNotFound, CodeNotFound, "GET", "/contacts/abc", tok, nil)
	e.errCode(http.StatusNotFound, CodeNotFound, "GET", "/contacts/999", tok, nil)
	e.errCode(http.StatusNotFound, CodeNotFound, "GET", "/no/such/route", "", nil)
	e.errCode(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "DELETE", "/alert", tok, nil)
	e.errCode(http.StatusBadRequest, CodeInvalidField, "GET", "/incidents?limit=0", tok, nil)
	e.errCode(http.StatusNotFound, CodeNotFound, "GET", "/r/short", "", nil, "Accept", "application/json")
	if resp, body := e.do("GET", "/r/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "", nil); resp.StatusCode != 404 || !strings.Contains(string(body), "not valid") {
		t.Fatalf("bad link page: %d %s", resp.StatusCode, body)
	}
	// Internal error text never reaches a client.
	_, body := e.do("POST", "/alert", tok, `{"trigger": "manual"`)
	if bytes.Contains(body, []byte("unexpected EOF")) {
		t.Fatalf("decoder text leaked: %s", body)
	}
}

func TestContactCRUD(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	c := e.contact(tok, map[string]any{"name": "Bob", "phone": "+44 7700-900123", "email": "bob@example.org", "channels": []string{"sms", "email", "sms"}})
	if c.Phone != "+447700900123" || len(c.Channels) != 2 || c.Channels[0] != "sms" || c.Channels[1] != "email" || c.Tier != 0 {
		t.Fatalf("created %+v", c)
	}
	var u contactView
	e.must(http.StatusOK, "PUT", "/contacts/"+itoa(c.ID), tok, map[string]any{"name": "Robert", "email": "bob@example.org", "tier": 2}, &u)
	if u.Name != "Robert" || u.Phone != "" || u.Tier != 2 || len(u.Channels) != 1 || u.Channels[0] != "email" {
		t.Fatalf("updated %+v", u)
	}
	var lc struct{ Contacts []contactView }
	e.must(http.StatusOK, "GET", "/contacts", tok, nil, &lc)
	if len(lc.Contacts) != 1 || lc.Contacts[0].Name != "Robert" {
		t.Fatalf("list %+v", lc)
	}
	e.must(http.StatusNoContent, "DELETE", "/contacts/"+itoa(c.ID), tok, nil, nil)
	e.errCode(http.StatusNotFound, CodeNotFound, "GET", "/contacts/"+itoa(c.ID), tok, nil)
	e.errCode(http.StatusNotFound, CodeNotFound, "DELETE", "/contacts/"+itoa(c.ID), tok, nil)
	var me userView
	e.must(http.StatusOK, "GET", "/me", tok, nil, &me)
	if me.Name != "asha" || me.DisplayName != "Asha" {
		t.Fatalf("me %+v", me)
	}
}

func TestCORSIsClosedByDefault(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.do("GET", "/healthz", "", nil, "Origin", "https://evil.example")
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Fatalf("default CORS allows %q", v)
	}
	e.errCode(http.StatusForbidden, CodeForbidden, "OPTIONS", "/alert", "", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")

	open := newEnv(t, func(o *Options, _ *incident.Config, _ *incident.WorkerConfig) {
		o.CORSOrigins = []string{"https://app.example.org"}
	})
	resp, _ = open.do("OPTIONS", "/alert", "", nil, "Origin", "https://app.example.org", "Access-Control-Request-Method", "POST")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.org" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("allowed preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = open.do("GET", "/healthz", "", nil, "Origin", "https://other.example.org")
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Fatalf("an origin off the list got %q", v)
	}
}

func TestRateLimitOnPredictButNeverOnSOS(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *incident.Config, _ *incident.WorkerConfig) {
		o.PredictRate, o.PredictBurst = 0.01, 3
	})
	_, tok := e.user("asha")
	garbage := []byte("definitely not audio")
	for i := 0; i < 3; i++ {
		e.errCode(http.StatusUnprocessableEntity, CodeAudioUndecodable, "POST", "/predict", "", garbage, "Content-Type", "audio/wav")
	}
	e.errCode(http.StatusTooManyRequests, CodeRateLimited, "POST", "/predict", "", garbage, "Content-Type", "audio/wav")
	resp, _ := e.do("POST", "/predict", "", garbage, "Content-Type", "audio/wav")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// A signed-in user has her own bucket.
	e.errCode(http.StatusUnprocessableEntity, CodeAudioUndecodable, "POST", "/predict", tok, garbage, "Content-Type", "audio/wav")
	// SOS: 40 in a row from the same client all go through.
	for i := 0; i < 40; i++ {
		resp, body := e.do("POST", "/alert", tok, map[string]any{"trigger": "manual"})
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			t.Fatalf("SOS %d: %d %s", i, resp.StatusCode, body)
		}
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	e.must(http.StatusOK, "GET", "/healthz", "", nil, nil)
	e.must(http.StatusOK, "GET", "/readyz", "", nil, nil)
	rcv := newReceiver(t)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL})
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, nil)
	body := string(e.must(http.StatusOK, "GET", "/metrics", "", nil, nil))
	if !strings.Contains(body, "empowerher_delivery_queue_depth 1") {
		t.Fatalf("queue depth before sending:\n%s", grep(body, "queue_depth"))
	}
	e.drain()
	e.errCode(http.StatusUnprocessableEntity, CodeAudioUndecodable, "POST", "/predict", "", []byte("xx"), "Content-Type", "audio/ogg")
	body = string(e.must(http.StatusOK, "GET", "/metrics", "", nil, nil))
	for _, want := range []string{
		`empowerher_deliveries_total{channel="webhook",outcome="sent"} 1`,
		`empowerher_delivery_queue_depth 0`,
		`empowerher_http_requests_total{code="201",route="POST /alert"} 1`,
		`empowerher_http_requests_total{code="422",route="POST /predict"} 1`,
		`go_goroutines`, `process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "/r/") {
		t.Error("a link token path reached the metrics")
	}
	e.st.Close()
	e.errCode(http.StatusServiceUnavailable, CodeUnavailable, "GET", "/readyz", "", nil)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestSessionCookieNeedsCSRFForChanges(t *testing.T) {
	e := newEnv(t)
	u, _ := e.user("asha")
	cookie := "session-token-for-test-0123456789abcdef"
	if err := e.st.CreateSession(context.Background(), &store.Session{TokenHash: incident.HashToken(cookie), UserID: u.ID,
		CSRF: "csrf-123", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c := SessionCookie + "=" + cookie
	if resp, body := e.do("GET", "/me", "", nil, "Cookie", c); resp.StatusCode != 200 || !strings.Contains(string(body), "asha") {
		t.Fatalf("GET with session: %d %s", resp.StatusCode, body)
	}
	e.errCode(http.StatusForbidden, CodeForbidden, "POST", "/alert", "", map[string]any{}, "Cookie", c)
	e.errCode(http.StatusForbidden, CodeForbidden, "POST", "/alert", "", map[string]any{}, "Cookie", c, HeaderCSRF, "csrf-999")
	if resp, body := e.do("POST", "/alert", "", map[string]any{}, "Cookie", c, HeaderCSRF, "csrf-123"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST with session and CSRF: %d %s", resp.StatusCode, body)
	}
	e.errCode(http.StatusUnauthorized, CodeUnauthorized, "GET", "/me", "", nil, "Cookie", SessionCookie+"=unknown")
}

// twilioSign is Twilio's documented request signature: base64 of
// HMAC-SHA1(auth token, URL + each POST field name and value, sorted by name).
func twilioSign(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range form[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestTwilioCallbackIsVerifiedAndRecorded(t *testing.T) {
	const authToken = "twilio-auth-token-for-tests"
	const cbURL = "https://help.example.org/callbacks/twilio"
	e := newEnv(t, func(o *Options, _ *incident.Config, _ *incident.WorkerConfig) {
		o.TwilioAuthToken, o.TwilioCallbackURL = authToken, cbURL
	})
	u, tok := e.user("asha")
	c := e.contact(tok, map[string]any{"name": "Bob", "phone": "+447700900123"})
	ctx := context.Background()
	// A delivery the Twilio channel handed over with SID SM123.
	ds := []store.Delivery{{UserID: u.ID, ContactID: c.ID, Channel: "sms", Purpose: "test", Body: "x", IdempotencyKey: "k1"}}
	if err := e.st.EnqueueDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	leased, err := e.st.LeaseDeliveries(ctx, "t", time.Now(), time.Minute, 1)
	if err != nil || len(leased) != 1 {
		t.Fatal(err, leased)
	}
	leased[0].State, leased[0].ProviderID = store.DeliverySent, "SM123"
	if err := e.st.CompleteDelivery(ctx, &leased[0], "t"); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"MessageSid": {"SM123"}, "MessageStatus": {"delivered"}, "AccountSid": {"AC1"}}
	post := func(sig string) int {
		req, _ := http.NewRequest("POST", e.ts.URL+"/callbacks/twilio?idempotency_key=k1", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("bm9wZQ=="); code != http.StatusForbidden {
		t.Fatalf("bad signature: %d", code)
	}
	if code := post(twilioSign(authToken, cbURL+"?idempotency_key=k1", form)); code != http.StatusNoContent {
		t.Fatalf("good signature: %d", code)
	}
	got, err := e.st.ListDeliveries(ctx, u.ID, "")
	if err != nil || len(got) != 1 || got[0].State != store.DeliveryDelivered {
		t.Fatalf("after callback: %v %+v", err, got)
	}
}

package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testWebhookSecret = "whsec-0123456789abcdef"

func testMessage() Message {
	return Message{
		IdempotencyKey: "inc1-contact2-sms-1",
		To:             Recipient{Name: "Sam Example", Phone: "+14155550123", Email: "sam@example.org"},
		Subject:        "EmpowerHer: Alex needs help",
		Body:           "Alex needs help now (voice alert, 14:02 UTC). Location: https://maps.example/?q=1,2. Respond: https://e.example/r/abc",
		URL:            "https://e.example/r/abc",
		Purpose:        "alert",
		IncidentID:     "inc1",
	}
}

func newTestWebhook(t *testing.T) *Webhook {
	t.Helper()
	w, err := NewWebhook(WebhookConfig{Secret: testWebhookSecret, AllowPrivateNetworks: true, Timeout: testTimeout}, NewRedactor(testWebhookSecret))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// webhookReceiver is what a contact's system does: verify, then decode.
func webhookReceiver(t *testing.T) func(w http.ResponseWriter, r *recordedRequest) {
	return func(w http.ResponseWriter, r *recordedRequest) {
		ts := r.Header.Get(HeaderWebhookTimestamp)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "method/type", 400)
			return
		}
		if !VerifyWebhook(testWebhookSecret, ts, r.Body, r.Header.Get(HeaderWebhookSignature)) {
			http.Error(w, "bad signature", 401)
			return
		}
		if !WebhookFresh(ts, time.Now(), time.Minute) {
			http.Error(w, "stale", 401)
			return
		}
		w.Header().Set("X-Request-Id", "rcv-42")
		w.WriteHeader(202)
	}
}

func TestWebhookDelivers(t *testing.T) {
	p := newPeer(t, webhookReceiver(t))
	ch := newTestWebhook(t)
	m := testMessage()
	m.To.WebhookURL = p.srv.URL + "/hook?x=1"
	res, retry, err := ch.Notify(context.Background(), m)
	if err != nil || retry {
		t.Fatalf("Notify: %v (retry %v)", err, retry)
	}
	if res.ProviderID != "rcv-42" {
		t.Errorf("ProviderID = %q, want the receiver's request id", res.ProviderID)
	}
	reqs := p.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if got := r.Header.Get(HeaderIdempotencyKey); got != m.IdempotencyKey {
		t.Errorf("Idempotency-Key = %q", got)
	}
	if r.URL.Path != "/hook" || r.URL.Query().Get("x") != "1" {
		t.Errorf("request URL = %v", r.URL)
	}
	var got WebhookPayload
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.IncidentID != "inc1" || got.Purpose != "alert" || got.Subject != m.Subject || got.Body != m.Body ||
		got.URL != m.URL || got.RecipientName != "Sam Example" || got.IdempotencyKey != m.IdempotencyKey {
		t.Errorf("payload = %+v", got)
	}
	if d := time.Since(got.SentAt); d < 0 || d > time.Minute {
		t.Errorf("sent_at = %v", got.SentAt)
	}
	// Exact field names are the receivers' contract.
	var raw map[string]any
	_ = json.Unmarshal(r.Body, &raw)
	for _, k := range []string{"incident_id", "purpose", "subject", "body", "url", "recipient_name", "sent_at", "idempotency_key"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("payload lacks %q: %s", k, r.Body)
		}
	}
}

func TestVerifyWebhook(t *testing.T) {
	body := []byte(`{"a":1}`)
	ts := "1764849600"
	// Reference value: printf '1764849600.{"a":1}' | openssl dgst -sha256 -hmac whsec-0123456789abcdef
	sig := SignWebhook(testWebhookSecret, ts, body)
	if want := "sha256=f7f9f067669beaf3a7f745e9bc3757ea770e6e0792a2849be4b1f13ca5baea2f"; sig != want {
		t.Fatalf("SignWebhook = %q, want %q", sig, want)
	}
	if !VerifyWebhook(testWebhookSecret, ts, body, sig) {
		t.Fatal("valid signature rejected")
	}
	for name, tc := range map[string][4]string{
		"body":   {testWebhookSecret, ts, `{"a":2}`, sig},
		"ts":     {testWebhookSecret, "1764849601", string(body), sig},
		"secret": {"other-secret-0123456", ts, string(body), sig},
		"prefix": {testWebhookSecret, ts, string(body), strings.TrimPrefix(sig, "sha256=")},
		"empty":  {testWebhookSecret, ts, string(body), ""},
	} {
		if VerifyWebhook(tc[0], tc[1], []byte(tc[2]), tc[3]) {
			t.Errorf("tampered %s accepted", name)
		}
	}
	now := time.Unix(1764849600, 0)
	if !WebhookFresh(ts, now.Add(30*time.Second), time.Minute) || WebhookFresh(ts, now.Add(2*time.Minute), time.Minute) || WebhookFresh("x", now, time.Minute) {
		t.Error("WebhookFresh window wrong")
	}
}

func TestWebhookFaults(t *testing.T) {
	p := newPeer(t, webhookReceiver(t))
	p.errBody = "{code}"
	ch := newTestWebhook(t)
	m := testMessage()
	m.To.WebhookURL = p.srv.URL + "/hook"
	for _, c := range httpFaultCases {
		p.setFault(c.fault)
		start := time.Now()
		_, retry, err := ch.Notify(context.Background(), m)
		if err == nil {
			t.Errorf("%s: no error", c.fault)
			continue
		}
		if retry != c.retry {
			t.Errorf("%s: retry = %v, want %v (%v)", c.fault, retry, c.retry, err)
		}
		d, ok := RetryAfter(err)
		if c.retryAfter != 0 && (!ok || d != c.retryAfter) {
			t.Errorf("%s: RetryAfter = %v, %v; want %v", c.fault, d, ok, c.retryAfter)
		}
		if c.retryAfter == 0 && ok {
			t.Errorf("%s: unexpected RetryAfter %v", c.fault, d)
		}
		if c.fault == faultSlow && time.Since(start) > 3*testTimeout {
			t.Errorf("slow peer: attempt took %v, timeout %v", time.Since(start), testTimeout)
		}
	}
}

func TestWebhookRefusesBadTargets(t *testing.T) {
	p := newPeer(t, webhookReceiver(t))
	strict, err := NewWebhook(WebhookConfig{Secret: testWebhookSecret, Timeout: testTimeout}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage()
	for _, u := range []string{"ftp://x.example/h", "file:///etc/passwd", "/relative", "", "http://user:pw@x.example/"} {
		m.To.WebhookURL = u
		_, retry, err := strict.Notify(context.Background(), m)
		if retry || !errors.Is(err, ErrInvalidAddress) {
			t.Errorf("%q: retry=%v err=%v, want ErrInvalidAddress", u, retry, err)
		}
	}
	// Loopback (the test server) is refused unless allowed.
	m.To.WebhookURL = p.srv.URL + "/hook"
	_, retry, err := strict.Notify(context.Background(), m)
	if retry || !errors.Is(err, ErrForbiddenTarget) {
		t.Errorf("loopback: retry=%v err=%v, want ErrForbiddenTarget", retry, err)
	}
	if n := len(p.requests()); n != 0 {
		t.Errorf("refused target got %d requests", n)
	}
	if _, err := NewWebhook(WebhookConfig{Secret: "short"}, nil); err == nil {
		t.Error("short secret accepted")
	}
}

func TestWebhookErrorHasNoSecretOrURLToken(t *testing.T) {
	ch := newTestWebhook(t)
	m := testMessage()
	// A closed port: connection refused, URL carries a token.
	m.To.WebhookURL = "http://127.0.0.1:1/hook/tok-" + strconv.Itoa(12345678)
	_, retry, err := ch.Notify(context.Background(), m)
	if err == nil || !retry {
		t.Fatalf("refused connection: retry=%v err=%v", retry, err)
	}
	if strings.Contains(err.Error(), "tok-12345678") || strings.Contains(err.Error(), testWebhookSecret) {
		t.Errorf("error leaks URL token or secret: %q", err)
	}
}

// Channels are called by several worker goroutines at once.
func TestChannelsConcurrent(t *testing.T) {
	wp := newPeer(t, webhookReceiver(t))
	tp := twilioPeer(t)
	wh := newTestWebhook(t)
	tw := newTestTwilio(t, "sms", tp.srv.URL)
	m := testMessage()
	m.To.WebhookURL = wp.srv.URL + "/h"
	const n = 16
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		go func() { _, _, err := wh.Notify(context.Background(), m); errs <- err }()
		go func() { _, _, err := tw.Notify(context.Background(), m); errs <- err }()
	}
	for i := 0; i < 2*n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if len(wp.requests()) != n || len(tp.requests()) != n {
		t.Errorf("requests: webhook %d, twilio %d, want %d each", len(wp.requests()), len(tp.requests()), n)
	}
}

package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	testTwilioSID   = "AC0123456789abcdef0123456789abcdef"
	testTwilioToken = "0123456789abcdef0123456789abcdef"
	testTwilioFrom  = "+15005550006"
)

// twilioPeer speaks the part of Twilio's 2010-04-01 REST API we use and
// checks each request as Twilio would: path, Basic auth, form fields.
func twilioPeer(t *testing.T) *peer {
	p := newPeer(t, func(w http.ResponseWriter, r *recordedRequest) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != testTwilioSID || pass != testTwilioToken {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			w.Write([]byte(`{"code":20003,"message":"Authenticate","status":401}`))
			return
		}
		form, err := url.ParseQuery(string(r.Body))
		if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			w.WriteHeader(400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		prefix := "/2010-04-01/Accounts/" + testTwilioSID
		switch r.URL.Path {
		case prefix + "/Messages.json":
			// +15005550001 is Twilio's test number for "invalid To".
			if !ValidE164(form.Get("To")) || form.Get("To") == "+15005550001" || form.Get("Body") == "" {
				w.WriteHeader(400)
				w.Write([]byte(`{"code":21211,"message":"Invalid 'To' Phone Number","status":400}`))
				return
			}
			if form.Get("To") == "+15005550010" { // accepted, answer cut short
				w.WriteHeader(201)
				w.Write([]byte(`{"sid": "SM0000`))
				return
			}
			w.WriteHeader(201)
			json.NewEncoder(w).Encode(map[string]string{"sid": "SM00000000000000000000000000000001", "status": "queued"})
		case prefix + "/Calls.json":
			w.WriteHeader(201)
			json.NewEncoder(w).Encode(map[string]string{"sid": "CA00000000000000000000000000000001", "status": "queued"})
		default:
			w.WriteHeader(404)
			w.Write([]byte(`{"code":20404,"message":"not found","status":404}`))
		}
	})
	p.errType = "application/json"
	p.errBody = `{"code":20500,"message":"{code}","more_info":"https://www.twilio.com/docs/errors/20500","status":500}`
	return p
}

func newTestTwilio(t *testing.T, kind, baseURL string) *Twilio {
	t.Helper()
	ch, err := NewTwilio(kind, TwilioConfig{
		AccountSID: testTwilioSID, AuthToken: testTwilioToken, From: testTwilioFrom,
		StatusCallbackURL: "https://safety.example.org/callbacks/twilio",
		BaseURL:           baseURL, Timeout: testTimeout,
	}, NewRedactor(testTwilioToken))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestTwilioSMS(t *testing.T) {
	p := twilioPeer(t)
	ch := newTestTwilio(t, "sms", p.srv.URL)
	m := testMessage()
	res, retry, err := ch.Notify(context.Background(), m)
	if err != nil || retry {
		t.Fatalf("Notify: %v (retry %v)", err, retry)
	}
	if res.ProviderID != "SM00000000000000000000000000000001" {
		t.Errorf("ProviderID = %q", res.ProviderID)
	}
	reqs := p.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	form, _ := url.ParseQuery(string(reqs[0].Body))
	if form.Get("To") != m.To.Phone || form.Get("From") != testTwilioFrom || form.Get("Body") != m.Body {
		t.Errorf("form = %v", form)
	}
	cb, err := url.Parse(form.Get("StatusCallback"))
	if err != nil || cb.Host != "safety.example.org" || cb.Path != "/callbacks/twilio" || cb.Query().Get("idempotency_key") != m.IdempotencyKey {
		t.Errorf("StatusCallback = %q", form.Get("StatusCallback"))
	}
}

func TestTwilioAcceptedButUnreadableIsNotRetried(t *testing.T) {
	p := twilioPeer(t)
	ch := newTestTwilio(t, "sms", p.srv.URL)
	m := testMessage()
	m.To.Phone = "+15005550010"
	res, retry, err := ch.Notify(context.Background(), m)
	if err != nil || retry {
		t.Fatalf("accepted message: retry=%v err=%v (a retry would send it twice)", retry, err)
	}
	if res.ProviderID != "twilio-"+m.IdempotencyKey {
		t.Errorf("ProviderID = %q", res.ProviderID)
	}
}

func TestTwilioVoice(t *testing.T) {
	p := twilioPeer(t)
	ch := newTestTwilio(t, "voice", p.srv.URL)
	m := testMessage()
	m.Body = `Alex needs help <now> & "fast". Respond: https://e.example/r/abc`
	res, retry, err := ch.Notify(context.Background(), m)
	if err != nil || retry {
		t.Fatalf("Notify: %v (retry %v)", err, retry)
	}
	if res.ProviderID != "CA00000000000000000000000000000001" {
		t.Errorf("ProviderID = %q", res.ProviderID)
	}
	reqs := p.requests()
	if len(reqs) != 1 || !strings.HasSuffix(reqs[0].URL.Path, "/Calls.json") {
		t.Fatalf("requests: %d", len(reqs))
	}
	form, _ := url.ParseQuery(string(reqs[0].Body))
	if form.Get("To") != m.To.Phone || form.Get("From") != testTwilioFrom {
		t.Errorf("form = %v", form)
	}
	twiml := form.Get("Twiml")
	if strings.Count(twiml, "<Say") != 2 || !strings.Contains(twiml, "<Response>") {
		t.Errorf("Twiml does not say the message twice: %s", twiml)
	}
	if !strings.Contains(twiml, "help &lt;now&gt; &amp; &#34;fast&#34;") {
		t.Errorf("Twiml not escaped: %s", twiml)
	}
	if strings.Contains(twiml, "https://e.example") {
		t.Errorf("Twiml reads a URL aloud: %s", twiml)
	}
	if !strings.Contains(form.Get("StatusCallback"), "idempotency_key=") {
		t.Errorf("StatusCallback = %q", form.Get("StatusCallback"))
	}
}

func TestVoiceTwiMLFitsTwilioLimit(t *testing.T) {
	long := strings.Repeat("help é & ", 1000)
	out := VoiceTwiML(long, "en-US")
	if len(out) > maxTwiML {
		t.Fatalf("TwiML is %d bytes, limit %d", len(out), maxTwiML)
	}
	if !strings.HasSuffix(out, "</Say></Response>") || strings.Count(out, "<Say") != 2 || !strings.Contains(out, "help é") {
		t.Fatalf("truncated TwiML malformed: %q", out[len(out)-60:])
	}
}

func TestTwilioFaults(t *testing.T) {
	p := twilioPeer(t)
	for _, kind := range []string{"sms", "voice"} {
		ch := newTestTwilio(t, kind, p.srv.URL)
		for _, c := range httpFaultCases {
			p.setFault(c.fault)
			start := time.Now()
			_, retry, err := ch.Notify(context.Background(), testMessage())
			if err == nil {
				t.Errorf("%s %s: no error", kind, c.fault)
				continue
			}
			if retry != c.retry {
				t.Errorf("%s %s: retry = %v, want %v (%v)", kind, c.fault, retry, c.retry, err)
			}
			d, ok := RetryAfter(err)
			if c.retryAfter != 0 && (!ok || d != c.retryAfter) {
				t.Errorf("%s %s: RetryAfter = %v, %v; want %v", kind, c.fault, d, ok, c.retryAfter)
			}
			if strings.Contains(err.Error(), testTwilioToken) {
				t.Errorf("%s %s: error leaks the auth token: %v", kind, c.fault, err)
			}
			if c.fault == faultSlow && time.Since(start) > 3*testTimeout {
				t.Errorf("slow peer: attempt took %v", time.Since(start))
			}
		}
	}
	// A non-JSON 502 (a proxy in front of Twilio) still classifies by status.
	p.errType, p.errBody = "text/html", "<html>bad gateway</html>"
	p.setFault(fault500)
	ch := newTestTwilio(t, "sms", p.srv.URL)
	if _, retry, err := ch.Notify(context.Background(), testMessage()); !retry || err == nil {
		t.Errorf("HTML 500: retry=%v err=%v", retry, err)
	}
	p.setFault(faultNone)

	// Twilio's own 400 for a number it rejects: permanent.
	m := testMessage()
	m.To.Phone = "+15005550001"
	if _, retry, err := ch.Notify(context.Background(), m); retry || err == nil || !strings.Contains(err.Error(), "21211") {
		t.Errorf("Twilio 400: retry=%v err=%v", retry, err)
	}
	// Our own check: not E.164, no request made.
	n := len(p.requests())
	m = testMessage()
	m.To.Phone = "0415 555 0123"
	if _, retry, err := ch.Notify(context.Background(), m); retry || !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("bad number: retry=%v err=%v", retry, err)
	}
	if len(p.requests()) != n {
		t.Error("request made for an invalid number")
	}
	// Context cancelled by the caller (shutdown): retry later.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, retry, err := ch.Notify(ctx, testMessage()); !retry || err == nil {
		t.Errorf("cancelled: retry=%v err=%v", retry, err)
	}
}

func TestVerifyTwilioSignature(t *testing.T) {
	fullURL := "https://safety.example.org/callbacks/twilio?idempotency_key=k1"
	form := url.Values{
		"MessageSid":    {"SM0123456789abcdef0123456789abcdef"},
		"MessageStatus": {"delivered"},
		"AccountSid":    {testTwilioSID},
		"To":            {"+14155550123"},
	}
	// Reference: Twilio's documented algorithm (base64 HMAC-SHA1 keyed by
	// the auth token over URL + each name+value in name order), computed
	// independently with Python's hmac module.
	const sig = "zO7e5EXPy3No+Jovcv4dPVpM7IU="
	if !VerifyTwilioSignature(testTwilioToken, fullURL, form, sig) {
		t.Fatal("valid signature rejected")
	}
	tampered := url.Values{}
	for k, v := range form {
		tampered[k] = v
	}
	tampered.Set("MessageStatus", "failed")
	if VerifyTwilioSignature(testTwilioToken, fullURL, tampered, sig) {
		t.Error("tampered form accepted")
	}
	if VerifyTwilioSignature(testTwilioToken, fullURL+"2", form, sig) {
		t.Error("other URL accepted")
	}
	if VerifyTwilioSignature("ffffffffffffffffffffffffffffffff", fullURL, form, sig) {
		t.Error("other token accepted")
	}
	if VerifyTwilioSignature(testTwilioToken, fullURL, form, "") || VerifyTwilioSignature("", fullURL, form, sig) {
		t.Error("empty signature or token accepted")
	}
}

func TestNewTwilioValidates(t *testing.T) {
	good := TwilioConfig{AccountSID: testTwilioSID, AuthToken: testTwilioToken, From: testTwilioFrom}
	for name, mut := range map[string]func(*TwilioConfig){
		"sid":      func(c *TwilioConfig) { c.AccountSID = "XX123" },
		"token":    func(c *TwilioConfig) { c.AuthToken = "" },
		"from":     func(c *TwilioConfig) { c.From = "5551234" },
		"callback": func(c *TwilioConfig) { c.StatusCallbackURL = "ftp://x" },
		"base":     func(c *TwilioConfig) { c.BaseURL = "not a url" },
	} {
		c := good
		mut(&c)
		if _, err := NewTwilio("sms", c, nil); err == nil {
			t.Errorf("%s: bad config accepted", name)
		} else if strings.Contains(err.Error(), testTwilioToken) {
			t.Errorf("%s: error leaks token", name)
		}
	}
	if _, err := NewTwilio("email", good, nil); err == nil {
		t.Error("kind email accepted")
	}
}

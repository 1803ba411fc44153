package notify

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// TwilioConfig configures Twilio for SMS and voice calls.
//
// Idempotency: Twilio's Messages and Calls APIs take no idempotency key, so
// there is a window — Twilio accepted the request, the process died before
// the worker stored the returned SID — in which a restart sends a second
// copy. The worker stores the SID before it marks a delivery sent, which
// makes the window as short as one database write. Every StatusCallback URL
// carries the idempotency key, so callbacks for a copy whose SID was never
// stored can still be tied to their delivery.
type TwilioConfig struct {
	// AccountSID, "AC…" (EMPOWERHER_TWILIO_ACCOUNT_SID).
	AccountSID string
	// AuthToken is the account's auth token (EMPOWERHER_TWILIO_AUTH_TOKEN,
	// or a file named by EMPOWERHER_TWILIO_AUTH_TOKEN_FILE). It signs the
	// status callbacks too. Secret: redacted from every error.
	AuthToken string
	// From is the Twilio number messages and calls come from, E.164
	// (EMPOWERHER_TWILIO_FROM). Required unless MessagingServiceSID is set
	// (calls always need From).
	From string
	// MessagingServiceSID, "MG…", sends SMS through a Messaging Service
	// instead of From (EMPOWERHER_TWILIO_MESSAGING_SERVICE_SID). Optional.
	MessagingServiceSID string
	// StatusCallbackURL is the public URL of the server's Twilio status
	// callback route (EMPOWERHER_TWILIO_STATUS_CALLBACK_URL), e.g.
	// "https://safety.example.org/callbacks/twilio". Optional; without it
	// deliveries stay "sent" and never become "delivered".
	StatusCallbackURL string
	// VoiceLanguage is the <Say> language, e.g. "en-US" (default), "es-ES"
	// (EMPOWERHER_TWILIO_VOICE_LANGUAGE).
	VoiceLanguage string
	// BaseURL replaces https://api.twilio.com, for tests and proxies
	// (EMPOWERHER_TWILIO_BASE_URL). twilio-go hard-codes its host, so the
	// channel's HTTP transport rewrites scheme and host of each request to
	// this URL; the path is kept.
	BaseURL string
	// Timeout bounds one attempt. 0 uses the registry's Timeout.
	Timeout time.Duration
}

// Twilio is the Twilio SMS channel ("sms") or voice channel ("voice").
type Twilio struct {
	kind     string
	cfg      TwilioConfig
	base     *url.URL
	rt       http.RoundTripper
	redactor *Redactor
}

// sharedTwilioTransport keeps connections to Twilio alive across attempts
// and between the SMS and voice channels.
var (
	sharedTwilioTransportOnce sync.Once
	sharedTwilioTransport     http.RoundTripper
)

func twilioTransport() http.RoundTripper {
	sharedTwilioTransportOnce.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 30 * time.Second
		sharedTwilioTransport = t
	})
	return sharedTwilioTransport
}

// NewTwilio builds the Twilio channel for kind "sms" or "voice".
func NewTwilio(kind string, cfg TwilioConfig, red *Redactor) (*Twilio, error) {
	if kind != "sms" && kind != "voice" {
		return nil, fmt.Errorf("notify: twilio: serves \"sms\" or \"voice\", not %q", kind)
	}
	var errs []error
	if !strings.HasPrefix(cfg.AccountSID, "AC") || !isAlnum(cfg.AccountSID) {
		errs = append(errs, errors.New("notify: twilio: account SID must look like AC… (letters and digits; EMPOWERHER_TWILIO_ACCOUNT_SID)"))
	}
	if cfg.AuthToken == "" || !isAlnum(cfg.AuthToken) {
		errs = append(errs, errors.New("notify: twilio: auth token missing or malformed (EMPOWERHER_TWILIO_AUTH_TOKEN or _FILE)"))
	}
	if kind == "voice" || cfg.MessagingServiceSID == "" {
		if !ValidE164(cfg.From) {
			errs = append(errs, fmt.Errorf("notify: twilio: From %q is not an E.164 number (EMPOWERHER_TWILIO_FROM)", cfg.From))
		}
	}
	if cfg.StatusCallbackURL != "" {
		if u, err := url.Parse(cfg.StatusCallbackURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("notify: twilio: status callback URL %q is not an absolute http(s) URL (EMPOWERHER_TWILIO_STATUS_CALLBACK_URL)", cfg.StatusCallbackURL))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.VoiceLanguage == "" {
		cfg.VoiceLanguage = "en-US"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	t := &Twilio{kind: kind, cfg: cfg, rt: twilioTransport(), redactor: red}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("notify: twilio: base URL %q is not an absolute http(s) URL", cfg.BaseURL)
		}
		t.base = u
	}
	return t, nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// Name implements Channel.
func (t *Twilio) Name() string { return t.kind }

// attemptTransport is built per attempt. twilio-go builds its requests with
// context.Background(), so this is where the caller's context (deadline,
// cancellation) is attached; it also rewrites the host for BaseURL and
// remembers the status and Retry-After that twilio-go's error value drops.
type attemptTransport struct {
	ctx        context.Context
	base       *url.URL
	next       http.RoundTripper
	status     int
	retryAfter string
	bodies     []io.ReadCloser
}

func (a *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(a.ctx)
	if a.base != nil {
		req.URL.Scheme = a.base.Scheme
		req.URL.Host = a.base.Host
		req.URL.Path = strings.TrimSuffix(a.base.Path, "/") + req.URL.Path
		req.Host = a.base.Host
	}
	resp, err := a.next.RoundTrip(req)
	if err == nil {
		a.status = resp.StatusCode
		a.retryAfter = resp.Header.Get("Retry-After")
		resp.Body = &limitedBody{ReadCloser: resp.Body, r: io.LimitReader(resp.Body, maxTwilioResponse)}
		a.bodies = append(a.bodies, resp.Body)
	}
	return resp, err
}

// done drains and closes every response body: twilio-go leaves error
// bodies open, which would leak the connection.
func (a *attemptTransport) done() {
	for _, b := range a.bodies {
		_, _ = io.Copy(io.Discard, b)
		_ = b.Close()
	}
}

// maxTwilioResponse bounds what we read of one answer (a message resource
// is about 1 KiB).
const maxTwilioResponse = 1 << 20

type limitedBody struct {
	io.ReadCloser
	r io.Reader
}

func (l *limitedBody) Read(p []byte) (int, error) { return l.r.Read(p) }

func (t *Twilio) api(ctx context.Context) (*twapi.ApiService, *attemptTransport) {
	at := &attemptTransport{ctx: ctx, base: t.base, next: t.rt}
	c := &twclient.Client{
		Credentials: twclient.NewCredentials(t.cfg.AccountSID, t.cfg.AuthToken),
		HTTPClient: &http.Client{
			Transport: at,
			Timeout:   t.cfg.Timeout,
			// A redirect from an API that creates resources is an error,
			// never something to follow with our credentials.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(t.cfg.AccountSID)
	return twapi.NewApiServiceWithClient(c), at
}

// Notify sends an SMS ("sms") or places a call that reads the message
// ("voice").
func (t *Twilio) Notify(ctx context.Context, m Message) (Result, bool, error) {
	if !ValidE164(m.To.Phone) {
		retry, err := finish(t.kind, fmt.Errorf("phone number %q is not E.164: %w", m.To.Phone, ErrInvalidAddress), t.redactor)
		return Result{}, retry, err
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	api, at := t.api(ctx)
	var sid *string
	var err error
	if t.kind == "sms" {
		p := &twapi.CreateMessageParams{}
		p.SetTo(m.To.Phone)
		if t.cfg.MessagingServiceSID != "" {
			p.SetMessagingServiceSid(t.cfg.MessagingServiceSID)
		} else {
			p.SetFrom(t.cfg.From)
		}
		p.SetBody(smsText(m))
		if cb := t.callbackURL(m); cb != "" {
			p.SetStatusCallback(cb)
		}
		var msg *twapi.ApiV2010Message
		if msg, err = api.CreateMessage(p); err == nil {
			sid = msg.Sid
		}
	} else {
		p := &twapi.CreateCallParams{}
		p.SetTo(m.To.Phone)
		p.SetFrom(t.cfg.From)
		p.SetTwiml(VoiceTwiML(voiceText(m), t.cfg.VoiceLanguage))
		if cb := t.callbackURL(m); cb != "" {
			p.SetStatusCallback(cb)
			p.SetStatusCallbackMethod("POST")
		}
		var call *twapi.ApiV2010Call
		if call, err = api.CreateCall(p); err == nil {
			sid = call.Sid
		}
	}
	at.done()
	if err != nil && at.status >= 200 && at.status < 300 {
		// Twilio accepted it but the answer was unreadable: it is on its
		// way, and a retry would send it twice. The callback URL carries
		// the key, so its status still arrives.
		err, sid = nil, nil
	}
	if err != nil {
		retry, ferr := finish(t.kind, t.explain(err, at), t.redactor)
		return Result{}, retry, ferr
	}
	if sid == nil || *sid == "" {
		// Accepted but unidentifiable: retrying could send twice, and
		// the status callback (keyed by idempotency key) still arrives.
		return Result{ProviderID: "twilio-" + m.IdempotencyKey}, false, nil
	}
	return Result{ProviderID: *sid}, false, nil
}

// explain turns twilio-go's error into one Retryable understands, using
// the status the transport saw (twilio-go reports a non-JSON 500 only as a
// decoding error).
func (t *Twilio) explain(err error, at *attemptTransport) error {
	if ctxErr := context.Cause(at.ctx); ctxErr != nil && at.status == 0 {
		return fmt.Errorf("%w (%v)", ctxErr, err)
	}
	if at.status == 0 || at.status < 300 {
		return err // transport error: Retryable reads it as is
	}
	se := &StatusError{Provider: "twilio", StatusCode: at.status}
	var tre *twclient.TwilioRestError
	var v1 *twclient.RestErrorV1
	switch {
	case errors.As(err, &tre):
		se.Code, se.Message = strconv.Itoa(tre.Code), tre.Message
	case errors.As(err, &v1):
		se.Code, se.Message = strconv.Itoa(v1.Code), v1.Message
	}
	if d, ok := ParseRetryAfter(at.retryAfter, time.Now()); ok && RetryableStatus(at.status) {
		return &RetryAfterError{After: d, Err: se}
	}
	return se
}

func (t *Twilio) callbackURL(m Message) string {
	if t.cfg.StatusCallbackURL == "" {
		return ""
	}
	u, err := url.Parse(t.cfg.StatusCallbackURL)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("idempotency_key", m.IdempotencyKey)
	u.RawQuery = q.Encode()
	return u.String()
}

// maxTwiML is Twilio's limit on the Twiml parameter.
const maxTwiML = 4000

// VoiceTwiML is the TwiML for an alert call: the text said twice, with a
// pause, since the first words of a call are often missed. The text is
// XML-escaped and shortened (on a word boundary) to fit Twilio's 4000
// characters.
func VoiceTwiML(text, language string) string {
	build := func(t string) string {
		var esc strings.Builder
		_ = xml.EscapeText(&esc, []byte(t))
		var lang strings.Builder
		_ = xml.EscapeText(&lang, []byte(language))
		say := `<Say language="` + lang.String() + `">` + esc.String() + `</Say>`
		return `<?xml version="1.0" encoding="UTF-8"?><Response>` + say + `<Pause length="1"/>` + say + `</Response>`
	}
	out := build(text)
	if len(out) <= maxTwiML {
		return out
	}
	// Keep the longest prefix whose escaped form fits twice, then cut back
	// to a word boundary so no word is said half.
	budget := (maxTwiML - len(build(""))) / 2
	used, cut := 0, 0
	var esc strings.Builder
	for i, r := range text {
		esc.Reset()
		_ = xml.EscapeText(&esc, []byte(string(r)))
		if used+esc.Len() > budget {
			break
		}
		used += esc.Len()
		cut = i + utf8.RuneLen(r)
	}
	if i := strings.LastIndexByte(text[:cut], ' '); i > 0 {
		cut = i
	}
	return build(text[:cut])
}

// voiceText is what the call says: subject and body; links are useless
// spoken, the SMS and e-mail carry them.
func voiceText(m Message) string {
	text := m.Body
	if m.Subject != "" && !strings.HasPrefix(text, m.Subject) {
		text = m.Subject + ". " + text
	}
	if m.URL != "" {
		text = strings.ReplaceAll(text, m.URL, "")
	}
	return strings.Join(strings.Fields(text), " ")
}

// VerifyTwilioSignature checks the X-Twilio-Signature of a status callback
// with twilio-go's RequestValidator: HMAC-SHA1, keyed by the auth token,
// over the full URL Twilio called followed by each POST parameter name and
// value in name order, base64-encoded. fullURL must be the URL exactly as
// Twilio was given it (scheme, host, path and query).
func VerifyTwilioSignature(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	params := make(map[string]string, len(form))
	for k, v := range form {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	rv := twclient.NewRequestValidator(authToken)
	return rv.Validate(fullURL, params, signature)
}

package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// WebhookConfig configures the signed JSON webhook. The target URL is per
// contact (Recipient.WebhookURL); the secret is shared.
type WebhookConfig struct {
	// Secret keys the HMAC-SHA256 signature receivers check with
	// VerifyWebhook (EMPOWERHER_WEBHOOK_SECRET, or a file named by
	// EMPOWERHER_WEBHOOK_SECRET_FILE). Required, at least 16 bytes.
	Secret string
	// AllowPrivateNetworks lets webhooks reach loopback, private and
	// link-local addresses (EMPOWERHER_WEBHOOK_ALLOW_PRIVATE). Off by
	// default: contacts are user input, and a webhook to 169.254.169.254
	// or an internal admin port must not be something a user can order.
	AllowPrivateNetworks bool
	// Timeout bounds one attempt. 0 uses the registry's Timeout.
	Timeout time.Duration
}

// Webhook headers.
const (
	HeaderWebhookSignature = "X-EmpowerHer-Signature" // "sha256=" + hex HMAC
	HeaderWebhookTimestamp = "X-EmpowerHer-Timestamp" // Unix seconds
	HeaderIdempotencyKey   = "Idempotency-Key"
)

// WebhookPayload is the JSON body a webhook receives.
type WebhookPayload struct {
	IncidentID     string    `json:"incident_id"`
	Purpose        string    `json:"purpose"`
	Subject        string    `json:"subject"`
	Body           string    `json:"body"`
	URL            string    `json:"url"`
	RecipientName  string    `json:"recipient_name"`
	SentAt         time.Time `json:"sent_at"`
	IdempotencyKey string    `json:"idempotency_key"`
}

// Webhook POSTs signed JSON to the contact's URL.
type Webhook struct {
	secret   []byte
	client   *http.Client
	timeout  time.Duration
	redactor *Redactor
	now      func() time.Time
}

// minWebhookSecret: shorter keys make the HMAC guessable offline.
const minWebhookSecret = 16

// NewWebhook builds the webhook channel.
func NewWebhook(cfg WebhookConfig, red *Redactor) (*Webhook, error) {
	if len(cfg.Secret) < minWebhookSecret {
		return nil, fmt.Errorf("notify: webhook: secret must be at least %d bytes (EMPOWERHER_WEBHOOK_SECRET or _FILE)", minWebhookSecret)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	if !cfg.AllowPrivateNetworks {
		// Checked on the resolved address at connect time, so DNS that
		// points a public name at 127.0.0.1 is refused too.
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrForbiddenTarget, address)
			}
			if !publicAddr(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrForbiddenTarget, ap.Addr())
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConns:          32,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	if !cfg.AllowPrivateNetworks {
		tr.Proxy = nil // a proxy would connect for us, past the address check
	}
	return &Webhook{
		secret: []byte(cfg.Secret),
		client: &http.Client{
			Transport: tr,
			Timeout:   cfg.Timeout,
			// Following a redirect would resend the signed alert to a
			// place the contact did not name.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout:  cfg.Timeout,
		redactor: red,
		now:      time.Now,
	}, nil
}

func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() &&
		!a.IsLinkLocalUnicast() && !cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Name implements Channel.
func (w *Webhook) Name() string { return "webhook" }

// ValidWebhookURL reports whether u is an absolute http or https URL
// without credentials in it: what a contact's webhook URL must be.
func ValidWebhookURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" && p.User == nil
}

// SignWebhook returns the X-EmpowerHer-Signature value for a body sent at
// timestamp ts (Unix seconds, as sent in X-EmpowerHer-Timestamp).
func SignWebhook(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a webhook's signature header sig against the
// timestamp header ts and the raw body, in constant time. Receivers should
// also reject timestamps far from now (see WebhookFresh) to stop replays.
func VerifyWebhook(secret, ts string, body []byte, sig string) bool {
	if secret == "" || ts == "" || !strings.HasPrefix(sig, "sha256=") {
		return false
	}
	want := SignWebhook(secret, ts, body)
	return hmac.Equal([]byte(want), []byte(sig))
}

// WebhookFresh reports whether the timestamp header ts is within maxSkew
// of now.
func WebhookFresh(ts string, now time.Time, maxSkew time.Duration) bool {
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	d := now.Sub(time.Unix(secs, 0))
	return d <= maxSkew && d >= -maxSkew
}

// maxWebhookResponse is how much of a receiver's answer we read: enough
// to keep the connection reusable and quote an error, no more.
const maxWebhookResponse = 64 << 10

// Notify POSTs m to m.To.WebhookURL.
func (w *Webhook) Notify(ctx context.Context, m Message) (Result, bool, error) {
	if !ValidWebhookURL(m.To.WebhookURL) {
		retry, err := finish("webhook", fmt.Errorf("webhook URL must be an absolute http(s) URL without credentials: %w", ErrInvalidAddress), w.redactor)
		return Result{}, retry, err
	}
	now := w.now().UTC()
	body, err := json.Marshal(WebhookPayload{
		IncidentID: m.IncidentID, Purpose: m.Purpose, Subject: m.Subject, Body: m.Body,
		URL: m.URL, RecipientName: m.To.Name, SentAt: now.Truncate(time.Second),
		IdempotencyKey: m.IdempotencyKey,
	})
	if err != nil {
		retry, ferr := finish("webhook", err, w.redactor)
		return Result{}, retry, ferr
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.To.WebhookURL, bytes.NewReader(body))
	if err != nil {
		retry, ferr := finish("webhook", fmt.Errorf("%v: %w", err, ErrInvalidAddress), w.redactor)
		return Result{}, retry, ferr
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "EmpowerHer-Webhook/1")
	req.Header.Set(HeaderWebhookTimestamp, ts)
	req.Header.Set(HeaderWebhookSignature, SignWebhook(string(w.secret), ts, body))
	req.Header.Set(HeaderIdempotencyKey, m.IdempotencyKey)

	resp, err := w.client.Do(req)
	if err != nil {
		retry, ferr := finish("webhook", webhookTransportError(err), w.redactor)
		return Result{}, retry, ferr
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookResponse))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookResponse))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The receiver's request id, when it is a sane one, helps both
		// sides find the same delivery in their logs.
		id := resp.Header.Get("X-Request-Id")
		if !saneID(id) {
			id = "webhook-" + m.IdempotencyKey
		}
		return Result{ProviderID: id}, false, nil
	}
	se := &StatusError{Provider: "webhook", StatusCode: resp.StatusCode, Message: firstLine(snippet, 200)}
	var out error = se
	if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok && RetryableStatus(resp.StatusCode) {
		out = &RetryAfterError{After: d, Err: se}
	}
	retry, ferr := finish("webhook", out, w.redactor)
	return Result{}, retry, ferr
}

// webhookTransportError drops the URL from url.Error: a contact's webhook
// URL may carry a token in its path or query.
func webhookTransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request: %w", ue.Op, ue.Err)
	}
	return err
}

func firstLine(b []byte, max int) string {
	s := string(b)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	s = strings.ToValidUTF8(s, "")
	if len(s) > max {
		s = s[:max]
		s = strings.ToValidUTF8(s, "")
	}
	return strings.TrimSpace(s)
}

// saneID accepts short printable-ASCII ids; anything else from a receiver
// is not stored.
func saneID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

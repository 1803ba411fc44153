package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestRetryableStatus(t *testing.T) {
	for code, want := range map[int]bool{500: true, 502: true, 503: true, 504: true, 429: true, 408: true,
		400: false, 401: false, 403: false, 404: false, 409: false, 422: false, 301: false} {
		if got := RetryableStatus(code); got != want {
			t.Errorf("RetryableStatus(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestRetryable(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"invalid address", fmt.Errorf("x: %w", ErrInvalidAddress), false},
		{"forbidden target", &net.OpError{Op: "dial", Err: fmt.Errorf("%w: 127.0.0.1", ErrForbiddenTarget)}, false},
		{"not configured", ErrNotConfigured, false},
		{"retry after", &RetryAfterError{After: time.Second, Err: &StatusError{StatusCode: 400}}, true},
		{"deadline", fmt.Errorf("post: %w", context.DeadlineExceeded), true},
		{"status 503", &StatusError{StatusCode: 503}, true},
		{"status 404", &StatusError{StatusCode: 404}, false},
		{"aws throttling", &smithy.GenericAPIError{Code: "Throttling", Fault: smithy.FaultClient}, true},
		{"aws internal", &smithy.GenericAPIError{Code: "InternalError"}, true},
		{"aws invalid parameter", &smithy.GenericAPIError{Code: "InvalidParameter"}, false},
		{"aws authorization", &smithy.GenericAPIError{Code: "AuthorizationError"}, false},
		{"aws unknown server fault", &smithy.GenericAPIError{Code: "Weird", Fault: smithy.FaultServer}, true},
		{"smtp 451 text", &textproto.Error{Code: 451, Msg: "try later"}, true},
		{"smtp 550 text", &textproto.Error{Code: 550, Msg: "no such user"}, false},
		{"smtp 421 plain", errors.New("421 4.7.0 too busy"), true},
		{"smtp 554 plain", errors.New("554 5.7.1 rejected"), false},
		{"conn reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{"conn refused", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, true},
		{"eof", &url.Error{Op: "Post", URL: "http://x", Err: io.EOF}, true},
		{"dns temporary", &net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}, true},
		{"dns not found", &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, false},
		{"unknown", errors.New("something odd"), true},
	}
	for _, c := range cases {
		if got := Retryable(c.err); got != c.want {
			t.Errorf("%s: Retryable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{"0", 0, true},
		{"86400", maxRetryAfter, true},
		{"Fri, 04 Dec 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Fri, 04 Dec 2026 11:00:00 GMT", 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, c := range cases {
		got, ok := ParseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestFinishKeepsRetryAfterAndSentinelsDropsSecrets(t *testing.T) {
	red := NewRedactor("s3cr3t-token-value")
	inner := fmt.Errorf("calling https://user:s3cr3t-token-value@api.example/x: %w", &StatusError{Provider: "p", StatusCode: 429})
	retry, err := finish("sms", &RetryAfterError{After: 3 * time.Second, Err: inner}, red)
	if !retry {
		t.Fatal("429 with Retry-After: retry = false")
	}
	if d, ok := RetryAfter(err); !ok || d != 3*time.Second {
		t.Fatalf("RetryAfter = %v, %v; want 3s", d, ok)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("secret in error: %q", err)
	}
	if n := strings.Count(err.Error(), "retry after"); n != 1 {
		t.Fatalf("error says the delay %d times: %q", n, err)
	}
	// Nothing in the chain may carry the secret either.
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "s3cr3t") {
			t.Fatalf("secret in wrapped error: %q", e)
		}
	}
	retry, err = finish("sms", fmt.Errorf("bad: %w", ErrInvalidAddress), red)
	if retry || !errors.Is(err, ErrInvalidAddress) {
		t.Fatalf("invalid address: retry=%v, Is=%v", retry, errors.Is(err, ErrInvalidAddress))
	}
	if !strings.HasPrefix(err.Error(), "notify: sms: ") {
		t.Fatalf("error lacks package prefix: %q", err)
	}
}

func TestRedactor(t *testing.T) {
	const token = "f00dfeedbeefcafe0123456789abcdef"
	const pass = "p@ss word/+="
	red := NewRedactor(token, pass, "", "x")
	cases := []string{
		"auth failed for token " + token,
		"GET https://api.example/?auth_token=" + url.QueryEscape(token),
		"535 auth " + pass + " rejected",
		"escaped " + url.QueryEscape(pass),
		"header Authorization: Basic QUMxMjM6" + "c2VjcmV0",
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2026/eu-west-1/sns, Signature=abcdef0123",
		"key AKIAIOSFODNN7EXAMPLE leaked",
		"dial https://alice:hunter22@hooks.example/x",
		"?X-Amz-Signature=abcdef0123&X-Amz-Credential=AKIA/2026",
		"password=hunter22&user=x",
	}
	leaks := []string{token, pass, url.QueryEscape(pass), "QUMxMjM6c2VjcmV0", "AKIAIOSFODNN7EXAMPLE", "hunter22", "abcdef0123"}
	for _, c := range cases {
		got := red.Redact(c)
		for _, l := range leaks {
			if strings.Contains(got, l) {
				t.Errorf("Redact(%q) = %q still contains %q", c, got, l)
			}
		}
		if !strings.Contains(got, Redacted) {
			t.Errorf("Redact(%q) = %q: nothing marked redacted", c, got)
		}
	}
	// Text without secrets is left alone; tiny "secrets" are ignored.
	for _, clean := range []string{"connection refused to x.example", "api error AuthorizationError: not authorized"} {
		if got := red.Redact(clean); got != clean {
			t.Errorf("clean text changed: %q → %q", clean, got)
		}
	}
	var nilRed *Redactor
	if got := nilRed.Redact("token=abc"); strings.Contains(got, "abc") {
		t.Errorf("nil redactor kept pattern secret: %q", got)
	}
}

func TestValidE164(t *testing.T) {
	good := []string{"+14155550123", "+442071838750", "+12345678", "+123456789012345"}
	bad := []string{"", "+", "14155550123", "+04155550123", "+1234567", "+1234567890123456",
		"+1 415 555 0123", "+1-415-555-0123", "+1415555012a", "++14155550123", "+١٢٣٤٥٦٧٨٩"}
	for _, s := range good {
		if !ValidE164(s) {
			t.Errorf("ValidE164(%q) = false", s)
		}
	}
	for _, s := range bad {
		if ValidE164(s) {
			t.Errorf("ValidE164(%q) = true", s)
		}
	}
}

func FuzzValidE164(f *testing.F) {
	for _, s := range []string{"+14155550123", "+0", "+١٢٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidE164(s) {
			return
		}
		if s[0] != '+' || s[1] == '0' || len(s) < 9 || len(s) > 16 || strings.Trim(s[1:], "0123456789") != "" {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestMapTwilioStatus(t *testing.T) {
	cases := map[string]struct {
		state DeliveryStatus
		final bool
	}{
		"queued": {StatusSent, false}, "accepted": {StatusSent, false}, "sending": {StatusSent, false},
		"sent": {StatusSent, false}, "delivered": {StatusDelivered, true}, "read": {StatusDelivered, true},
		"undelivered": {StatusFailed, true}, "failed": {StatusFailed, true},
		"initiated": {StatusSent, false}, "ringing": {StatusSent, false},
		"in-progress": {StatusDelivered, false}, "completed": {StatusDelivered, true},
		"busy": {StatusFailed, true}, "no-answer": {StatusFailed, true}, "canceled": {StatusFailed, true},
	}
	for in, want := range cases {
		st, final, ok := MapTwilioStatus(in)
		if !ok || st != want.state || final != want.final {
			t.Errorf("MapTwilioStatus(%q) = %q, %v, %v; want %q, %v", in, st, final, ok, want.state, want.final)
		}
	}
	if _, _, ok := MapTwilioStatus("exploded"); ok {
		t.Error("unknown status accepted")
	}
	cb, ok := ParseTwilioCallback(url.Values{"idempotency_key": {"k1"}},
		url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}})
	if !ok || cb.SID != "SM1" || cb.Kind != "sms" || cb.State != StatusFailed || cb.IdempotencyKey != "k1" || cb.ErrorText != "twilio 30003: undelivered" {
		t.Errorf("ParseTwilioCallback(sms) = %+v, %v", cb, ok)
	}
	cb, ok = ParseTwilioCallback(nil, url.Values{"CallSid": {"CA1"}, "CallStatus": {"completed"}})
	if !ok || cb.Kind != "voice" || cb.State != StatusDelivered || !cb.Final || cb.ErrorText != "" {
		t.Errorf("ParseTwilioCallback(call) = %+v, %v", cb, ok)
	}
	if _, ok := ParseTwilioCallback(nil, url.Values{"MessageStatus": {"sent"}}); ok {
		t.Error("callback without SID accepted")
	}
}

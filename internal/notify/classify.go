package notify

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	mail "github.com/wneessen/go-mail"
)

// This file is the one place that decides whether a failed attempt is worth
// repeating. Channels call Retryable on whatever their SDK returned; the
// delivery worker only reads the bool (and RetryAfter for the delay).

// ErrInvalidAddress means the recipient cannot be reached on this channel
// (not E.164, no e-mail address, a refused webhook URL). It never retries,
// so the worker falls over to the contact's next channel at once.
var ErrInvalidAddress = errors.New("notify: invalid recipient address")

// ErrForbiddenTarget means a webhook URL resolved to an address the
// webhook channel refuses to call (loopback, private, link-local …).
var ErrForbiddenTarget = errors.New("notify: webhook target address not allowed")

// RetryAfterError is returned when the provider asked us to wait (HTTP 429
// or 503 with Retry-After). The worker should wait at least After before the
// next attempt; errors.As(err, &rae) finds it.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return e.Err.Error() + " (retry after " + e.After.String() + ")"
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter returns the delay a provider asked for, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var rae *RetryAfterError
	if errors.As(err, &rae) {
		return rae.After, true
	}
	return 0, false
}

// StatusError is a provider's HTTP answer outside 2xx.
type StatusError struct {
	Provider   string // "twilio", "webhook" …
	StatusCode int
	Code       string // provider error code when it sent one (Twilio 21211 …)
	Message    string // provider's message, redacted before it leaves the channel
}

func (e *StatusError) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	b.WriteString(": HTTP ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" code ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// RetryableStatus classifies an HTTP status: 5xx, 429 and 408 are worth
// another attempt; every other 4xx (bad number, bad auth, bad request) is
// not, because sending the same request again gives the same answer.
func RetryableStatus(code int) bool {
	switch {
	case code >= 500:
		return true
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
		return true
	}
	return false
}

// maxRetryAfter caps what a provider may ask for: an alert that waits an
// hour is a lost alert, so the worker's own backoff takes over beyond this.
const maxRetryAfter = 5 * time.Minute

// ParseRetryAfter reads a Retry-After header (delta seconds or HTTP date).
// ok is false when the header is absent or malformed.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			secs = int64(maxRetryAfter / time.Second)
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
		if d < 0 {
			d = 0
		}
	} else {
		return 0, false
	}
	if d > maxRetryAfter {
		d = maxRetryAfter
	}
	return d, true
}

// AWS error codes (smithy APIError.ErrorCode) that another attempt may fix.
var awsRetryCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottled": true, "RequestThrottledException": true, "TooManyRequestsException": true,
	"RequestLimitExceeded": true, "SlowDown": true, "KMSThrottlingException": true,
	"InternalError": true, "InternalErrorException": true, "InternalFailure": true,
	"InternalServerError": true, "ServiceUnavailable": true, "ServiceUnavailableException": true,
	"RequestTimeout": true, "RequestTimeoutException": true, "ConcurrentAccess": true,
	"ConcurrentAccessException": true, "EC2ThrottledException": true,
	"ExpiredToken": true, "ExpiredTokenException": true, // credentials refresh on the next attempt
}

// AWS error codes that will fail the same way again.
var awsPermanentCodes = map[string]bool{
	"InvalidParameter": true, "InvalidParameterException": true, "InvalidParameterValue": true,
	"InvalidParameterValueException": true, "ParameterValueInvalid": true,
	"AuthorizationError": true, "AuthorizationErrorException": true, "AccessDenied": true,
	"AccessDeniedException": true, "InvalidClientTokenId": true, "SignatureDoesNotMatch": true,
	"UnrecognizedClientException": true, "IncompleteSignature": true, "MissingAuthenticationToken": true,
	"NotFound": true, "NotFoundException": true, "TopicNotFound": true, "EndpointDisabled": true,
	"EndpointDisabledException": true, "OptedOut": true, "InvalidSecurity": true,
	"InvalidSecurityException": true, "KMSAccessDenied": true, "KMSAccessDeniedException": true,
	"KMSDisabled": true, "KMSDisabledException": true, "KMSNotFound": true, "KMSNotFoundException": true,
	"KMSInvalidState": true, "KMSInvalidStateException": true, "KMSOptInRequired": true,
	"ValidationError": true, "ValidationException": true, "InvalidAction": true,
	"OptInRequired": true, "UserError": true, "PlatformApplicationDisabled": true,
}

// Retryable reports whether another attempt may succeed after err. Unknown
// errors count as retryable: the worker caps attempts, and for an alert a
// wasted retry costs far less than a message given up on too early.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrInvalidAddress) || errors.Is(err, ErrForbiddenTarget) || errors.Is(err, ErrNotConfigured) {
		return false
	}
	var rae *RetryAfterError
	if errors.As(err, &rae) {
		return true
	}
	// Our own cut-off (the per-attempt timeout) or the worker's shutdown:
	// the attempt did not finish, so it has to be made again.
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}

	// AWS SDK: the service's error code is the most precise signal.
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		if awsRetryCodes[code] {
			return true
		}
		if awsPermanentCodes[code] {
			return false
		}
		if apiErr.ErrorFault() == smithy.FaultServer {
			return true
		}
	}
	var awsResp *awshttp.ResponseError
	if errors.As(err, &awsResp) && awsResp.HTTPStatusCode() != 0 {
		return RetryableStatus(awsResp.HTTPStatusCode())
	}

	var se *StatusError
	if errors.As(err, &se) {
		return RetryableStatus(se.StatusCode)
	}

	// SMTP: reply codes 4xx are transient by definition (RFC 5321 §4.2.1),
	// 5xx permanent.
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) {
		if code := sendErr.ErrorCode(); code != 0 {
			return code/100 == 4
		}
		if sendErr.IsTemp() {
			return true
		}
		switch sendErr.Reason {
		case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
			return false
		}
	}
	var tpErr *textproto.Error
	if errors.As(err, &tpErr) {
		return tpErr.Code/100 == 4
	}
	if code, ok := smtpReplyCode(err.Error()); ok {
		return code/100 == 4
	}

	// Network: timeouts, resets, refusals and temporary DNS trouble pass.
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsNotFound || dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	for _, errno := range []error{syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED,
		syscall.EPIPE, syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, errno) {
			return true
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	return true
}

// smtpReplyCode finds an SMTP reply code at the start of an error text
// ("550 5.1.1 no such user"), as some SMTP libraries only give us text.
func smtpReplyCode(s string) (int, bool) {
	if len(s) < 4 || s[3] != ' ' && s[3] != '-' {
		return 0, false
	}
	if s[0] != '4' && s[0] != '5' {
		return 0, false
	}
	code, err := strconv.Atoi(s[:3])
	if err != nil {
		return 0, false
	}
	return code, true
}

// channelError is what leaves a channel: a redacted text that keeps the
// identity of the few sentinels callers test for, and nothing else of the
// original chain (which may hold request URLs, headers or tokens).
type channelError struct {
	msg       string
	sentinels []error
}

func (e *channelError) Error() string { return e.msg }

func (e *channelError) Is(target error) bool {
	for _, s := range e.sentinels {
		if s == target {
			return true
		}
	}
	return false
}

var sentinelErrors = []error{ErrInvalidAddress, ErrForbiddenTarget, ErrNotConfigured,
	context.DeadlineExceeded, context.Canceled}

// finish turns an SDK error into what Notify returns: the retry verdict,
// and a redacted error that still carries RetryAfterError and sentinels.
func finish(kind string, err error, red *Redactor) (bool, error) {
	if err == nil {
		return false, nil
	}
	retry := Retryable(err)
	text := err.Error()
	d, hasDelay := RetryAfter(err)
	if hasDelay {
		// The RetryAfterError returned below says the delay once.
		text = strings.Replace(text, " (retry after "+d.String()+")", "", 1)
	}
	ce := &channelError{msg: "notify: " + kind + ": " + red.Redact(text)}
	for _, s := range sentinelErrors {
		if errors.Is(err, s) {
			ce.sentinels = append(ce.sentinels, s)
		}
	}
	if hasDelay {
		return true, &RetryAfterError{After: d, Err: ce}
	}
	return retry, ce
}

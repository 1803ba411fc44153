package notify

import (
	"net/url"
	"strings"
)

// DeliveryStatus is a provider-reported state of a delivery. The values
// are those of store.DeliveryState, so the server can convert directly.
type DeliveryStatus string

// Provider-reported states. There is no "queued": once a provider has
// accepted a message it is "sent" from our side, and a late "queued"
// callback must never put a delivery back in the worker's queue.
const (
	StatusSent      DeliveryStatus = "sent"      // accepted, on its way
	StatusDelivered DeliveryStatus = "delivered" // reached the phone / call answered
	StatusFailed    DeliveryStatus = "failed"    // will not arrive
)

// MapTwilioStatus maps a Twilio message status (MessageStatus) or call
// status (CallStatus) to our state. final says that no further callback
// will change it; ok is false for a status this code does not know, which
// the callback handler should log and ignore.
//
//	messages: accepted scheduled queued sending sent → sent;
//	          delivered read → delivered; undelivered failed canceled → failed
//	calls:    queued initiated ringing → sent; in-progress completed → delivered;
//	          busy no-answer failed canceled → failed
func MapTwilioStatus(status string) (state DeliveryStatus, final bool, ok bool) {
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "accepted", "scheduled", "queued", "sending", "sent", "initiated", "ringing":
		return StatusSent, false, true
	case "in-progress":
		return StatusDelivered, false, true
	case "delivered", "read", "completed":
		return StatusDelivered, true, true
	case "undelivered", "failed", "canceled", "busy", "no-answer":
		return StatusFailed, true, true
	}
	return "", false, false
}

// TwilioCallback is what a status callback says about one delivery.
type TwilioCallback struct {
	SID            string // MessageSid or CallSid: the stored provider id
	IdempotencyKey string // from the callback URL's query, set by this package
	Kind           string // "sms" or "voice"
	Status         string // Twilio's word
	State          DeliveryStatus
	Final          bool
	ErrorText      string // e.g. "twilio 30003: busy", empty on success
}

// ParseTwilioCallback reads a status callback's form (after the signature
// has been checked with VerifyTwilioSignature) and the query of the URL it
// arrived on. ok is false when the form names no SID or an unknown status.
func ParseTwilioCallback(query, form url.Values) (cb TwilioCallback, ok bool) {
	cb.IdempotencyKey = query.Get("idempotency_key")
	if sid := form.Get("MessageSid"); sid != "" && form.Get("MessageStatus") != "" {
		cb.SID, cb.Kind, cb.Status = sid, "sms", form.Get("MessageStatus")
	} else if sid := form.Get("CallSid"); sid != "" {
		cb.SID, cb.Kind, cb.Status = sid, "voice", form.Get("CallStatus")
	} else if sid := form.Get("SmsSid"); sid != "" {
		cb.SID, cb.Kind, cb.Status = sid, "sms", form.Get("SmsStatus")
	}
	if cb.SID == "" {
		return cb, false
	}
	cb.State, cb.Final, ok = MapTwilioStatus(cb.Status)
	if !ok {
		return cb, false
	}
	if cb.State == StatusFailed {
		cb.ErrorText = "twilio: " + strings.ToLower(cb.Status)
		if code := form.Get("ErrorCode"); code != "" {
			cb.ErrorText = "twilio " + code + ": " + strings.ToLower(cb.Status)
		}
	}
	return cb, true
}

package notify

import (
	"context"
	"errors"
)

// Message is one rendered message to one contact.
type Message struct {
	// IdempotencyKey is stable across retries of the same delivery.
	IdempotencyKey string
	To             Recipient
	Subject        string // email subject / first line
	Body           string // plain text, complete on its own (who, when, where, how to respond)
	URL            string // the contact's link page
	// Purpose is "alert", "escalation", "resolved", "cancelled", "silent" or "test".
	Purpose    string
	IncidentID string
}

// Recipient is where a message goes.
type Recipient struct {
	Name       string
	Phone      string // E.164
	Email      string
	WebhookURL string
}

// Result is what a provider said when it accepted a message.
type Result struct {
	ProviderID string // message SID, SNS MessageId, SMTP queue id …
}

// Channel makes one delivery attempt.
type Channel interface {
	// Name is the channel kind: "sms", "voice", "email", "webhook", "log".
	Name() string
	// Notify sends m. On failure it returns retry=true when another
	// attempt may succeed (5xx, 429, timeouts, connection errors) and
	// false when it will not (other 4xx, invalid address). Errors never
	// contain credentials.
	Notify(ctx context.Context, m Message) (res Result, retry bool, err error)
}

// ErrNotConfigured is returned by Registry.Get for a channel that has no
// provider configured.
var ErrNotConfigured = errors.New("notify: channel not configured")

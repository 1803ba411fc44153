package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns (wrapped with %w) so callers can
// map them to HTTP statuses without knowing the backend.
var (
	// ErrNotFound: no such row, or it belongs to another user. The two are
	// deliberately indistinguishable so one user cannot probe another's ids.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness rule or a state precondition failed.
	ErrConflict = errors.New("store: conflict")
)

// User is an account. Tokens and passwords are never stored in clear.
type User struct {
	ID          int64
	Name        string // unique login name
	DisplayName string // how messages name her ("Asha needs help")
	CreatedAt   time.Time
	// EvidenceConsent: keep audio around detections (off by default).
	EvidenceConsent bool
}

// Channel kinds a contact can be reached on.
const (
	ChannelSMS     = "sms"
	ChannelVoice   = "voice"
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
	ChannelLog     = "log"
)

// Contact is one of a user's emergency contacts.
type Contact struct {
	ID         int64
	UserID     int64
	Name       string
	Phone      string // E.164, may be empty
	Email      string
	WebhookURL string
	// Channels in order of preference; delivery falls over to the next one
	// when a channel fails for good.
	Channels []string
	// Tier orders escalation: tier 0 is alerted first, higher tiers only
	// after nobody acknowledged in time. Authority numbers use a high tier.
	Tier      int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// IncidentState is the lifecycle: pending (countdown) → active →
// acknowledged → resolved | cancelled.
type IncidentState string

const (
	StatePending      IncidentState = "pending"
	StateActive       IncidentState = "active"
	StateAcknowledged IncidentState = "acknowledged"
	StateResolved     IncidentState = "resolved"
	StateCancelled    IncidentState = "cancelled"
)

// Open reports whether new detections should join this incident.
func (s IncidentState) Open() bool {
	return s == StatePending || s == StateActive || s == StateAcknowledged
}

// Location is a position fix from the user's device.
type Location struct {
	Lat      float64
	Lon      float64
	Accuracy float64 // metres, 0 when unknown
	At       time.Time
}

// Incident is one emergency.
type Incident struct {
	ID       string // random, URL-safe
	UserID   int64
	State    IncidentState
	Trigger  string // "manual" | "voice"
	Message  string
	Score    float64 // detector score for voice triggers
	Location *Location
	// ActivateAt is when a pending incident's countdown ends.
	ActivateAt time.Time
	// EscalationLevel counts escalation steps taken; NextEscalationAt is
	// when the next one is due if nobody acknowledges (zero when none).
	EscalationLevel  int
	NextEscalationAt time.Time
	// LastHeartbeatAt is the last heartbeat from the user's device while
	// live listening (zero when none was ever sent).
	LastHeartbeatAt time.Time
	// Feedback is the user's mark on a detection: "", "false_alarm" or "real".
	Feedback  string
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  time.Time
}

// Event is one line of an incident's timeline.
type Event struct {
	ID         int64
	IncidentID string
	Kind       string // "created", "activated", "location", "acknowledged", "escalated", "resolved", "cancelled", "detection", "silent", "delivery"
	Detail     string
	At         time.Time
}

// Recipient is a contact alerted for an incident, with the hash of the
// unguessable token in the link they were sent.
type Recipient struct {
	IncidentID     string
	ContactID      int64
	ContactName    string
	TokenHash      []byte // SHA-256 of the link token
	AcknowledgedAt time.Time
	CreatedAt      time.Time
}

// Delivery states.
type DeliveryState string

const (
	DeliveryQueued    DeliveryState = "queued"
	DeliverySending   DeliveryState = "sending" // leased by a worker
	DeliverySent      DeliveryState = "sent"    // provider accepted it
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed" // failed for good
)

// Delivery is one durable (contact, channel, message) job.
type Delivery struct {
	ID         int64
	UserID     int64
	IncidentID string // empty for contact test messages
	ContactID  int64
	Channel    string
	// Purpose: "alert", "escalation", "resolved", "cancelled", "silent", "test".
	Purpose string
	// Subject and Body are the rendered message; URL is the contact's link.
	Subject string
	Body    string
	URL     string
	// IdempotencyKey is unique per delivery and sent to providers that
	// accept one, so a retry after a crash never sends twice there.
	IdempotencyKey string
	State          DeliveryState
	Attempts       int
	NextAttemptAt  time.Time
	LeaseOwner     string
	LeaseUntil     time.Time
	ProviderID     string
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Session is a web sign-in (cookie). Only the token's hash is stored.
type Session struct {
	TokenHash []byte
	UserID    int64
	CSRF      string
	ExpiresAt time.Time
}

// DefaultListLimit caps list methods: ListIncidents with limit <= 0, and
// ListDeliveries with an empty incident id.
const DefaultListLimit = 100

// Store is everything the service persists. All methods that take a
// userID scope the query to that user and return ErrNotFound for rows of
// other users.
type Store interface {
	Close() error
	Ping(ctx context.Context) error

	// Users and credentials.
	CreateUser(ctx context.Context, u *User, passwordHash []byte) error
	UserByID(ctx context.Context, id int64) (*User, error)
	UserByName(ctx context.Context, name string) (*User, []byte, error) // user, password hash
	UpdateUser(ctx context.Context, u *User) error
	AddToken(ctx context.Context, userID int64, tokenHash []byte, label string) error
	UserByToken(ctx context.Context, tokenHash []byte) (*User, error)
	CreateSession(ctx context.Context, s *Session) error
	SessionByToken(ctx context.Context, tokenHash []byte) (*Session, error) // expired: ErrNotFound
	DeleteSession(ctx context.Context, tokenHash []byte) error

	// Contacts.
	CreateContact(ctx context.Context, c *Contact) error
	ListContacts(ctx context.Context, userID int64) ([]Contact, error)
	GetContact(ctx context.Context, userID, id int64) (*Contact, error)
	UpdateContact(ctx context.Context, c *Contact) error
	DeleteContact(ctx context.Context, userID, id int64) error

	// Incidents. CreateIncident writes the incident, its first event, its
	// recipients and its deliveries in ONE transaction, so an accepted
	// alert is never lost. It generates inc.ID (NewID) when empty, writes
	// a "created" event, gives recipients and deliveries the incident's id
	// (and deliveries its UserID when 0), and on success fills in ids and
	// timestamps in the caller's structs; on failure nothing is written
	// and the caller's structs are untouched.
	CreateIncident(ctx context.Context, inc *Incident, recipients []Recipient, deliveries []Delivery) error
	GetIncident(ctx context.Context, userID int64, id string) (*Incident, error)
	ListIncidents(ctx context.Context, userID int64, limit int) ([]Incident, error)
	OpenIncident(ctx context.Context, userID int64) (*Incident, error) // newest open one; ErrNotFound when none
	// UpdateIncident changes state/fields only if the stored state equals
	// from (optimistic transition); else ErrConflict. It appends ev and
	// enqueues deliveries in the same transaction.
	UpdateIncident(ctx context.Context, inc *Incident, from IncidentState, ev *Event, deliveries []Delivery) error
	SetFeedback(ctx context.Context, userID int64, id, feedback string) error
	AddEvent(ctx context.Context, ev *Event) error
	Events(ctx context.Context, incidentID string) ([]Event, error)
	Recipients(ctx context.Context, incidentID string) ([]Recipient, error)
	AddRecipients(ctx context.Context, rs []Recipient) error
	RecipientByToken(ctx context.Context, tokenHash []byte) (*Recipient, *Incident, error)
	// AcknowledgeRecipient keeps the first acknowledgement's time.
	AcknowledgeRecipient(ctx context.Context, incidentID string, contactID int64, at time.Time) error
	// DueIncidents returns incidents (any user) whose countdown ended or
	// whose escalation or heartbeat deadline passed before now: open ones
	// only; pending with ActivateAt <= now; NextEscalationAt <= now (set,
	// any open state); LastHeartbeatAt set and older than heartbeatTimeout
	// (skipped when heartbeatTimeout <= 0). The caller clears or moves the
	// deadline it acted on, or the incident stays due.
	DueIncidents(ctx context.Context, now time.Time, heartbeatTimeout time.Duration) ([]Incident, error)

	// Delivery queue. EnqueueDeliveries (and CreateIncident,
	// UpdateIncident) store deliveries as queued, NextAttemptAt now when
	// zero, IdempotencyKey NewID() when empty (a duplicate key is
	// ErrConflict), all or nothing.
	EnqueueDeliveries(ctx context.Context, ds []Delivery) error
	// LeaseDeliveries atomically claims up to n queued deliveries whose
	// NextAttemptAt <= now, or sending ones whose lease expired, for owner
	// until now+lease (PostgreSQL: FOR UPDATE SKIP LOCKED), oldest first.
	// Each lease increments Attempts.
	LeaseDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, n int) ([]Delivery, error)
	// CompleteDelivery stores the outcome of an attempt (state sent,
	// delivered, failed, or queued again with a new NextAttemptAt) if the
	// lease is still owner's; else ErrConflict. It writes State, Channel
	// (fall-over), Attempts, NextAttemptAt, ProviderID and LastError.
	CompleteDelivery(ctx context.Context, d *Delivery, owner string) error
	// UpdateDeliveryStatus records a provider status callback by provider id
	// (ErrNotFound when unknown); a late "sent" never downgrades "delivered".
	UpdateDeliveryStatus(ctx context.Context, channel, providerID string, state DeliveryState, errText string) error
	// ListDeliveries lists userID's deliveries for incidentID (ErrNotFound
	// when the incident is not the user's), or, with incidentID "", the
	// user's newest DefaultListLimit deliveries of any kind.
	ListDeliveries(ctx context.Context, userID int64, incidentID string) ([]Delivery, error)
	QueueDepth(ctx context.Context) (int, error)
}

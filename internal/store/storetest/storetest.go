package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/store"
)

// Opener returns a fresh, empty store that lives until the test ends.
type Opener func(t *testing.T) store.Store

// Run runs every conformance test, each against its own fresh store.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Users", testUsers},
		{"Tokens", testTokens},
		{"Sessions", testSessions},
		{"Contacts", testContacts},
		{"ContactIsolation", testContactIsolation},
		{"CreateIncident", testCreateIncident},
		{"CreateIncidentAtomic", testCreateIncidentAtomic},
		{"IncidentIsolation", testIncidentIsolation},
		{"TimesRoundTrip", testTimesRoundTrip},
		{"ListIncidents", testListIncidents},
		{"OpenIncident", testOpenIncident},
		{"UpdateIncident", testUpdateIncident},
		{"Events", testEvents},
		{"Recipients", testRecipients},
		{"DueIncidents", testDueIncidents},
		{"Queue", testQueue},
		{"LeaseExpiry", testLeaseExpiry},
		{"CompleteDelivery", testCompleteDelivery},
		{"IdempotencyKey", testIdempotencyKey},
		{"DeliveryStatus", testDeliveryStatus},
		{"ListDeliveries", testListDeliveries},
		{"LeaseExclusiveOneStore", func(t *testing.T, s store.Store) { LeaseExclusive(t, s) }},
		{"ConcurrentIncidents", testConcurrentIncidents},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if err := s.Ping(ctx(t)); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			tc.fn(t, s)
		})
	}
}

func ctx(t testing.TB) context.Context { return t.Context() }

// hash is how the service derives stored token hashes.
func hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func mustUser(t testing.TB, s store.Store, name string) *store.User {
	t.Helper()
	u := &store.User{Name: name, DisplayName: "Display " + name}
	if err := s.CreateUser(ctx(t), u, []byte("pw-"+name)); err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	if u.ID == 0 {
		t.Fatalf("CreateUser(%q) left ID 0", name)
	}
	return u
}

func mustContact(t testing.TB, s store.Store, userID int64, name string, tier int) *store.Contact {
	t.Helper()
	c := &store.Contact{UserID: userID, Name: name, Phone: "+15550100", Email: name + "@example.org",
		Channels: []string{store.ChannelSMS, store.ChannelEmail}, Tier: tier}
	if err := s.CreateContact(ctx(t), c); err != nil {
		t.Fatalf("CreateContact(%q): %v", name, err)
	}
	return c
}

// mustIncident creates an incident for u with one recipient and one
// delivery per contact.
func mustIncident(t testing.TB, s store.Store, u *store.User, state store.IncidentState, contacts ...*store.Contact) (*store.Incident, []store.Recipient, []store.Delivery) {
	t.Helper()
	inc := &store.Incident{UserID: u.ID, State: state, Trigger: "manual", Message: "help"}
	var rs []store.Recipient
	var ds []store.Delivery
	for _, c := range contacts {
		rs = append(rs, store.Recipient{ContactID: c.ID, ContactName: c.Name, TokenHash: hash(store.NewID())})
		ds = append(ds, store.Delivery{ContactID: c.ID, Channel: store.ChannelSMS, Purpose: "alert", Body: "help " + c.Name})
	}
	if err := s.CreateIncident(ctx(t), inc, rs, ds); err != nil {
		t.Fatalf("CreateIncident: %v", err)
	}
	return inc, rs, ds
}

// enqueue adds n deliveries of u's due at next (zero: now).
func enqueue(t testing.TB, s store.Store, u *store.User, n int, next time.Time) []store.Delivery {
	t.Helper()
	ds := make([]store.Delivery, n)
	for i := range ds {
		ds[i] = store.Delivery{UserID: u.ID, ContactID: int64(i + 1), Channel: store.ChannelLog, Purpose: "test",
			Body: fmt.Sprintf("message %d", i), NextAttemptAt: next}
	}
	if err := s.EnqueueDeliveries(ctx(t), ds); err != nil {
		t.Fatalf("EnqueueDeliveries: %v", err)
	}
	return ds
}

func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func noErr(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// sameTime: stored times must round-trip within a microsecond, in UTC.
func sameTime(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if got.IsZero() != want.IsZero() {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	if got.IsZero() {
		return
	}
	if d := got.Sub(want); d > time.Microsecond || d < -time.Microsecond {
		t.Fatalf("%s: got %v, want %v (off by %v)", what, got, want, d)
	}
	if got.Location() != time.UTC {
		t.Fatalf("%s: location %v, want UTC", what, got.Location())
	}
}

func queueDepth(t testing.TB, s store.Store) int {
	t.Helper()
	n, err := s.QueueDepth(ctx(t))
	noErr(t, "QueueDepth", err)
	return n
}

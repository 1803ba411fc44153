// Package incident is the emergency lifecycle: an alert becomes an
// incident (pending countdown → active → acknowledged → resolved |
// cancelled), each alerted contact gets an unguessable link, nobody
// answering escalates, a silent device is reported, and every message is
// written to a durable queue that the delivery Worker drains with retries,
// backoff and fall-over to the contact's next channel.
//
// Everything that must happen exactly once across several server
// instances is decided by the store: state changes are optimistic
// (UpdateIncident's from state) and every delivery has a deterministic
// idempotency key that the store keeps unique, so two instances acting on
// the same due incident cannot both enqueue the same messages.
package incident

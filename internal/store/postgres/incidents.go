package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/empowerher/empowerher/internal/store"
)

const incidentCols = `id, user_id, state, trigger_kind, message, score, loc_lat, loc_lon, loc_accuracy, loc_at,
	activate_at, escalation_level, next_escalation_at, last_heartbeat_at, feedback, created_at, updated_at, closed_at`

// openStates is the SQL list of store.IncidentState.Open states.
const openStates = "('pending', 'active', 'acknowledged')"

func scanIncident(row scanner) (*store.Incident, error) { return scanIncidentAfter(row) }

// scanIncidentAfter scans pre's columns first, then an incident.
func scanIncidentAfter(row scanner, pre ...any) (*store.Incident, error) {
	var inc store.Incident
	var state string
	var lat, lon, acc pgtype.Float8
	var locAt, activate, nextEsc, heartbeat, created, updated, closed pgtype.Timestamptz
	dst := append(pre, &inc.ID, &inc.UserID, &state, &inc.Trigger, &inc.Message, &inc.Score,
		&lat, &lon, &acc, &locAt, &activate, &inc.EscalationLevel, &nextEsc, &heartbeat, &inc.Feedback,
		&created, &updated, &closed)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	inc.State = store.IncidentState(state)
	if lat.Valid && lon.Valid {
		inc.Location = &store.Location{Lat: lat.Float64, Lon: lon.Float64, Accuracy: acc.Float64, At: fromTS(locAt)}
	}
	inc.ActivateAt = fromTS(activate)
	inc.NextEscalationAt = fromTS(nextEsc)
	inc.LastHeartbeatAt = fromTS(heartbeat)
	inc.CreatedAt, inc.UpdatedAt, inc.ClosedAt = fromTS(created), fromTS(updated), fromTS(closed)
	return &inc, nil
}

func locArgs(l *store.Location) []any {
	if l == nil {
		return []any{nil, nil, nil, nil}
	}
	return []any{l.Lat, l.Lon, l.Accuracy, ts(l.At)}
}

func normIncident(inc *store.Incident) {
	inc.ActivateAt = norm(inc.ActivateAt)
	inc.NextEscalationAt = norm(inc.NextEscalationAt)
	inc.LastHeartbeatAt = norm(inc.LastHeartbeatAt)
	inc.CreatedAt, inc.UpdatedAt, inc.ClosedAt = norm(inc.CreatedAt), norm(inc.UpdatedAt), norm(inc.ClosedAt)
	if inc.Location != nil {
		l := *inc.Location
		l.At = norm(l.At)
		inc.Location = &l
	}
}

// CreateIncident writes inc (ID generated when empty), a "created" event,
// the recipients and the deliveries in one transaction. Recipients and
// deliveries get inc's id (and deliveries inc's user when unset); on
// success their ids and timestamps are filled in.
func (s *Store) CreateIncident(ctx context.Context, inc *store.Incident, recipients []store.Recipient, deliveries []store.Delivery) error {
	in := *inc
	if in.ID == "" {
		in.ID = store.NewID()
	}
	t := now()
	if in.CreatedAt.IsZero() {
		in.CreatedAt = t
	}
	in.UpdatedAt = t
	normIncident(&in)
	rs := append([]store.Recipient(nil), recipients...)
	for i := range rs {
		rs[i].IncidentID = in.ID
	}
	ds := append([]store.Delivery(nil), deliveries...)
	for i := range ds {
		ds[i].IncidentID = in.ID
		if ds[i].UserID == 0 {
			ds[i].UserID = in.UserID
		}
	}
	err := s.write(ctx, "create incident", func(tx pgx.Tx) error {
		args := []any{in.ID, in.UserID, string(in.State), in.Trigger, in.Message, in.Score}
		args = append(args, locArgs(in.Location)...)
		args = append(args, ts(in.ActivateAt), in.EscalationLevel, ts(in.NextEscalationAt), ts(in.LastHeartbeatAt),
			in.Feedback, in.CreatedAt, in.UpdatedAt, ts(in.ClosedAt))
		if _, err := tx.Exec(ctx, "INSERT INTO incidents ("+incidentCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`, args...); err != nil {
			return err
		}
		ev := store.Event{IncidentID: in.ID, Kind: "created", Detail: in.Trigger, At: in.CreatedAt}
		if err := insertEvent(ctx, tx, &ev); err != nil {
			return err
		}
		if err := insertRecipients(ctx, tx, rs); err != nil {
			return err
		}
		return insertDeliveries(ctx, tx, ds, in.UpdatedAt)
	})
	if err != nil {
		return err
	}
	*inc = in
	copy(recipients, rs)
	copy(deliveries, ds)
	return nil
}

// GetIncident returns userID's incident id.
func (s *Store) GetIncident(ctx context.Context, userID int64, id string) (*store.Incident, error) {
	inc, err := scanIncident(s.pool.QueryRow(ctx, "SELECT "+incidentCols+" FROM incidents WHERE id = $1 AND user_id = $2", id, userID))
	if err != nil {
		return nil, wrap("get incident", err)
	}
	return inc, nil
}

// ListIncidents returns userID's newest incidents first; limit <= 0 means
// store.DefaultListLimit.
func (s *Store) ListIncidents(ctx context.Context, userID int64, limit int) ([]store.Incident, error) {
	if limit <= 0 {
		limit = store.DefaultListLimit
	}
	return s.incidents(ctx, "list incidents",
		"SELECT "+incidentCols+" FROM incidents WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2", userID, limit)
}

// OpenIncident returns userID's newest open incident, ErrNotFound if none.
func (s *Store) OpenIncident(ctx context.Context, userID int64) (*store.Incident, error) {
	inc, err := scanIncident(s.pool.QueryRow(ctx,
		"SELECT "+incidentCols+" FROM incidents WHERE user_id = $1 AND state IN "+openStates+" ORDER BY created_at DESC, id DESC LIMIT 1", userID))
	if err != nil {
		return nil, wrap("open incident", err)
	}
	return inc, nil
}

func (s *Store) incidents(ctx context.Context, op, query string, args ...any) ([]store.Incident, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	out, err := collect(rows, scanIncident)
	return out, wrap(op, err)
}

// UpdateIncident stores inc's mutable fields if its stored state is from,
// appending ev (when not nil) and enqueueing deliveries in the same
// transaction. Another user's or a missing incident is ErrNotFound; a
// state other than from is ErrConflict.
func (s *Store) UpdateIncident(ctx context.Context, inc *store.Incident, from store.IncidentState, ev *store.Event, deliveries []store.Delivery) error {
	in := *inc
	in.UpdatedAt = now()
	normIncident(&in)
	var e store.Event
	if ev != nil {
		e = *ev
		e.IncidentID = in.ID
	}
	ds := append([]store.Delivery(nil), deliveries...)
	for i := range ds {
		ds[i].IncidentID = in.ID
		if ds[i].UserID == 0 {
			ds[i].UserID = in.UserID
		}
	}
	err := s.write(ctx, "update incident", func(tx pgx.Tx) error {
		args := []any{string(in.State), in.Message, in.Score}
		args = append(args, locArgs(in.Location)...)
		args = append(args, ts(in.ActivateAt), in.EscalationLevel, ts(in.NextEscalationAt), ts(in.LastHeartbeatAt),
			in.Feedback, in.UpdatedAt, ts(in.ClosedAt), in.ID, in.UserID, string(from))
		err := affected(tx.Exec(ctx, `UPDATE incidents SET state = $1, message = $2, score = $3,
			loc_lat = $4, loc_lon = $5, loc_accuracy = $6, loc_at = $7, activate_at = $8, escalation_level = $9,
			next_escalation_at = $10, last_heartbeat_at = $11, feedback = $12, updated_at = $13, closed_at = $14
			WHERE id = $15 AND user_id = $16 AND state = $17`, args...))
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			ok, err := exists(ctx, tx, "SELECT 1 FROM incidents WHERE id = $1 AND user_id = $2", in.ID, in.UserID)
			if err != nil {
				return err
			}
			if ok {
				return fmt.Errorf("incident %s is not %s: %w", in.ID, from, store.ErrConflict)
			}
			return store.ErrNotFound
		}
		if ev != nil {
			if err := insertEvent(ctx, tx, &e); err != nil {
				return err
			}
		}
		return insertDeliveries(ctx, tx, ds, in.UpdatedAt)
	})
	if err != nil {
		return err
	}
	*inc = in
	if ev != nil {
		*ev = e
	}
	copy(deliveries, ds)
	return nil
}

// SetFeedback stores the user's "false_alarm" / "real" mark.
func (s *Store) SetFeedback(ctx context.Context, userID int64, id, feedback string) error {
	return wrap("set feedback", affected(s.pool.Exec(ctx,
		"UPDATE incidents SET feedback = $1, updated_at = $2 WHERE id = $3 AND user_id = $4", feedback, now(), id, userID)))
}

// AddEvent appends ev to its incident's timeline (ErrNotFound if the
// incident does not exist).
func (s *Store) AddEvent(ctx context.Context, ev *store.Event) error {
	e := *ev
	if err := wrap("add event", insertEvent(ctx, s.pool, &e)); err != nil {
		return err
	}
	*ev = e
	return nil
}

func insertEvent(ctx context.Context, q querier, ev *store.Event) error {
	if ev.At.IsZero() {
		ev.At = now()
	}
	ev.At = norm(ev.At)
	return q.QueryRow(ctx, "INSERT INTO incident_events (incident_id, kind, detail, at) VALUES ($1, $2, $3, $4) RETURNING id",
		ev.IncidentID, ev.Kind, ev.Detail, ev.At).Scan(&ev.ID)
}

// Events returns an incident's timeline, oldest first. The caller has
// already checked that the incident is the user's.
func (s *Store) Events(ctx context.Context, incidentID string) ([]store.Event, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, incident_id, kind, detail, at FROM incident_events WHERE incident_id = $1 ORDER BY id", incidentID)
	if err != nil {
		return nil, wrap("events", err)
	}
	out, err := collect(rows, func(row scanner) (*store.Event, error) {
		var e store.Event
		var at pgtype.Timestamptz
		if err := row.Scan(&e.ID, &e.IncidentID, &e.Kind, &e.Detail, &at); err != nil {
			return nil, err
		}
		e.At = fromTS(at)
		return &e, nil
	})
	return out, wrap("events", err)
}

const recipientCols = "incident_id, contact_id, contact_name, token_hash, acknowledged_at, created_at"

type recipientScan struct {
	r            store.Recipient
	ack, created pgtype.Timestamptz
}

func (x *recipientScan) dst() []any {
	return []any{&x.r.IncidentID, &x.r.ContactID, &x.r.ContactName, &x.r.TokenHash, &x.ack, &x.created}
}

func (x *recipientScan) done() *store.Recipient {
	x.r.AcknowledgedAt, x.r.CreatedAt = fromTS(x.ack), fromTS(x.created)
	return &x.r
}

// Recipients returns the contacts alerted for an incident in the order
// they were added.
func (s *Store) Recipients(ctx context.Context, incidentID string) ([]store.Recipient, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+recipientCols+" FROM recipients WHERE incident_id = $1 ORDER BY created_at, contact_id", incidentID)
	if err != nil {
		return nil, wrap("recipients", err)
	}
	out, err := collect(rows, func(row scanner) (*store.Recipient, error) {
		var x recipientScan
		if err := row.Scan(x.dst()...); err != nil {
			return nil, err
		}
		return x.done(), nil
	})
	return out, wrap("recipients", err)
}

// AddRecipients adds recipients (escalation to the next tier) in one
// transaction; a contact already alerted for the incident is ErrConflict.
func (s *Store) AddRecipients(ctx context.Context, recipients []store.Recipient) error {
	rs := append([]store.Recipient(nil), recipients...)
	err := s.write(ctx, "add recipients", func(tx pgx.Tx) error { return insertRecipients(ctx, tx, rs) })
	if err == nil {
		copy(recipients, rs)
	}
	return err
}

func insertRecipients(ctx context.Context, tx pgx.Tx, rs []store.Recipient) error {
	t := now()
	for i := range rs {
		r := &rs[i]
		if r.CreatedAt.IsZero() {
			r.CreatedAt = t
		}
		r.CreatedAt, r.AcknowledgedAt = norm(r.CreatedAt), norm(r.AcknowledgedAt)
		if len(r.TokenHash) == 0 {
			return fmt.Errorf("recipient for contact %d has no token hash", r.ContactID)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO recipients ("+recipientCols+") VALUES ($1, $2, $3, $4, $5, $6)",
			r.IncidentID, r.ContactID, r.ContactName, r.TokenHash, ts(r.AcknowledgedAt), r.CreatedAt); err != nil {
			return err
		}
	}
	return nil
}

// RecipientByToken finds the recipient whose link token hashes to
// tokenHash, with their incident.
func (s *Store) RecipientByToken(ctx context.Context, tokenHash []byte) (*store.Recipient, *store.Incident, error) {
	row := s.pool.QueryRow(ctx, `SELECT r.incident_id, r.contact_id, r.contact_name, r.token_hash, r.acknowledged_at, r.created_at,
		i.id, i.user_id, i.state, i.trigger_kind, i.message, i.score, i.loc_lat, i.loc_lon, i.loc_accuracy, i.loc_at,
		i.activate_at, i.escalation_level, i.next_escalation_at, i.last_heartbeat_at, i.feedback, i.created_at, i.updated_at, i.closed_at
		FROM recipients r JOIN incidents i ON i.id = r.incident_id WHERE r.token_hash = $1`, tokenHash)
	var x recipientScan
	inc, err := scanIncidentAfter(row, x.dst()...)
	if err != nil {
		return nil, nil, wrap("recipient by token", err)
	}
	return x.done(), inc, nil
}

// AcknowledgeRecipient records that a contact is responding. The first
// acknowledgement's time is kept when a contact presses the button twice.
func (s *Store) AcknowledgeRecipient(ctx context.Context, incidentID string, contactID int64, at time.Time) error {
	return wrap("acknowledge recipient", affected(s.pool.Exec(ctx,
		"UPDATE recipients SET acknowledged_at = COALESCE(acknowledged_at, $1) WHERE incident_id = $2 AND contact_id = $3",
		norm(at), incidentID, contactID)))
}

// DueIncidents returns open incidents of any user that need the
// scheduler: a pending countdown that ended, an escalation that is due, or
// (when heartbeatTimeout > 0) a heartbeat older than heartbeatTimeout.
// The caller clears or moves the deadline it acted on, or the incident
// stays due.
func (s *Store) DueIncidents(ctx context.Context, t time.Time, heartbeatTimeout time.Duration) ([]store.Incident, error) {
	var cutoff any // NULL: no heartbeat clause matches
	if heartbeatTimeout > 0 {
		cutoff = t.Add(-heartbeatTimeout).UTC()
	}
	return s.incidents(ctx, "due incidents", "SELECT "+incidentCols+" FROM incidents WHERE state IN "+openStates+` AND (
		(state = 'pending' AND activate_at <= $1)
		OR next_escalation_at <= $1
		OR last_heartbeat_at < $2::timestamptz)
		ORDER BY created_at, id`, t.UTC(), cutoff)
}

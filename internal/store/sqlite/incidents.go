package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/empowerher/empowerher/internal/store"
)

const incidentCols = `id, user_id, state, trigger_kind, message, score, loc_lat, loc_lon, loc_accuracy, loc_at,
	activate_at, escalation_level, next_escalation_at, last_heartbeat_at, feedback, created_at, updated_at, closed_at`

// openStates is the SQL list of store.IncidentState.Open states.
const openStates = "('pending', 'active', 'acknowledged')"

func scanIncident(row interface{ Scan(...any) error }, extra ...any) (*store.Incident, error) {
	var inc store.Incident
	var lat, lon, acc sql.NullFloat64
	var locAt, activate, nextEsc, heartbeat, created, updated, closed sql.NullInt64
	dst := append([]any{&inc.ID, &inc.UserID, &inc.State, &inc.Trigger, &inc.Message, &inc.Score,
		&lat, &lon, &acc, &locAt, &activate, &inc.EscalationLevel, &nextEsc, &heartbeat, &inc.Feedback,
		&created, &updated, &closed}, extra...)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
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

// normIncident truncates every time to the stored precision.
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
	err := s.write(ctx, "create incident", func(tx wconn) error {
		args := []any{in.ID, in.UserID, string(in.State), in.Trigger, in.Message, in.Score}
		args = append(args, locArgs(in.Location)...)
		args = append(args, ts(in.ActivateAt), in.EscalationLevel, ts(in.NextEscalationAt), ts(in.LastHeartbeatAt),
			in.Feedback, ts(in.CreatedAt), ts(in.UpdatedAt), ts(in.ClosedAt))
		if _, err := tx.ExecContext(ctx, "INSERT INTO incidents ("+incidentCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args...); err != nil {
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
	inc, err := scanIncident(s.queryRow(ctx, "SELECT "+incidentCols+" FROM incidents WHERE id = ? AND user_id = ?", id, userID))
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
		"SELECT "+incidentCols+" FROM incidents WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?", userID, limit)
}

// OpenIncident returns userID's newest open incident, ErrNotFound if none.
func (s *Store) OpenIncident(ctx context.Context, userID int64) (*store.Incident, error) {
	inc, err := scanIncident(s.queryRow(ctx,
		"SELECT "+incidentCols+" FROM incidents WHERE user_id = ? AND state IN "+openStates+" ORDER BY created_at DESC, id DESC LIMIT 1", userID))
	if err != nil {
		return nil, wrap("open incident", err)
	}
	return inc, nil
}

func (s *Store) incidents(ctx context.Context, op, query string, args ...any) ([]store.Incident, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []store.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, *inc)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
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
	err := s.write(ctx, "update incident", func(tx wconn) error {
		args := []any{string(in.State), in.Message, in.Score}
		args = append(args, locArgs(in.Location)...)
		args = append(args, ts(in.ActivateAt), in.EscalationLevel, ts(in.NextEscalationAt), ts(in.LastHeartbeatAt),
			in.Feedback, ts(in.UpdatedAt), ts(in.ClosedAt), in.ID, in.UserID, string(from))
		res, err := tx.ExecContext(ctx, `UPDATE incidents SET state = ?, message = ?, score = ?,
			loc_lat = ?, loc_lon = ?, loc_accuracy = ?, loc_at = ?, activate_at = ?, escalation_level = ?,
			next_escalation_at = ?, last_heartbeat_at = ?, feedback = ?, updated_at = ?, closed_at = ?
			WHERE id = ? AND user_id = ? AND state = ?`, args...)
		if err := affected(res, err); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			ok, err := exists(ctx, tx, "SELECT 1 FROM incidents WHERE id = ? AND user_id = ?", in.ID, in.UserID)
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
	return s.write(ctx, "set feedback", func(tx wconn) error {
		res, err := tx.ExecContext(ctx, "UPDATE incidents SET feedback = ?, updated_at = ? WHERE id = ? AND user_id = ?",
			feedback, ts(now()), id, userID)
		return affected(res, err)
	})
}

// AddEvent appends ev to its incident's timeline (ErrNotFound if the
// incident does not exist).
func (s *Store) AddEvent(ctx context.Context, ev *store.Event) error {
	e := *ev
	err := s.write(ctx, "add event", func(tx wconn) error { return insertEvent(ctx, tx, &e) })
	if err == nil {
		*ev = e
	}
	return err
}

func insertEvent(ctx context.Context, tx wconn, ev *store.Event) error {
	if ev.At.IsZero() {
		ev.At = now()
	}
	ev.At = norm(ev.At)
	return tx.QueryRowContext(ctx, "INSERT INTO incident_events (incident_id, kind, detail, at) VALUES (?, ?, ?, ?) RETURNING id",
		ev.IncidentID, ev.Kind, ev.Detail, ts(ev.At)).Scan(&ev.ID)
}

// Events returns an incident's timeline, oldest first. The caller has
// already checked that the incident is the user's.
func (s *Store) Events(ctx context.Context, incidentID string) ([]store.Event, error) {
	rows, err := s.query(ctx, "SELECT id, incident_id, kind, detail, at FROM incident_events WHERE incident_id = ? ORDER BY id", incidentID)
	if err != nil {
		return nil, wrap("events", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var e store.Event
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &e.IncidentID, &e.Kind, &e.Detail, &at); err != nil {
			return nil, wrap("events", err)
		}
		e.At = fromTS(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("events", err)
	}
	return out, nil
}

const recipientCols = "incident_id, contact_id, contact_name, token_hash, acknowledged_at, created_at"

func scanRecipient(row interface{ Scan(...any) error }, extra ...any) (*store.Recipient, error) {
	var r store.Recipient
	var ack, created sql.NullInt64
	dst := append([]any{&r.IncidentID, &r.ContactID, &r.ContactName, &r.TokenHash, &ack, &created}, extra...)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	r.AcknowledgedAt, r.CreatedAt = fromTS(ack), fromTS(created)
	return &r, nil
}

// Recipients returns the contacts alerted for an incident in the order
// they were added.
func (s *Store) Recipients(ctx context.Context, incidentID string) ([]store.Recipient, error) {
	rows, err := s.query(ctx, "SELECT "+recipientCols+" FROM recipients WHERE incident_id = ? ORDER BY created_at, contact_id", incidentID)
	if err != nil {
		return nil, wrap("recipients", err)
	}
	defer rows.Close()
	var out []store.Recipient
	for rows.Next() {
		r, err := scanRecipient(rows)
		if err != nil {
			return nil, wrap("recipients", err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("recipients", err)
	}
	return out, nil
}

// AddRecipients adds recipients (escalation to the next tier) in one
// transaction; a contact already alerted for the incident is ErrConflict.
func (s *Store) AddRecipients(ctx context.Context, recipients []store.Recipient) error {
	rs := append([]store.Recipient(nil), recipients...)
	err := s.write(ctx, "add recipients", func(tx wconn) error { return insertRecipients(ctx, tx, rs) })
	if err == nil {
		copy(recipients, rs)
	}
	return err
}

var insertRecipientsSQL = batchSQL("INSERT INTO recipients ("+recipientCols+") VALUES ", "(?, ?, ?, ?, ?, ?)", "")

func insertRecipients(ctx context.Context, tx wconn, rs []store.Recipient) error {
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
	}
	for len(rs) > 0 {
		chunk := rs[:min(len(rs), maxBatchRows)]
		rs = rs[len(chunk):]
		args := make([]any, 0, 6*len(chunk))
		for _, r := range chunk {
			args = append(args, r.IncidentID, r.ContactID, r.ContactName, r.TokenHash, ts(r.AcknowledgedAt), ts(r.CreatedAt))
		}
		if _, err := tx.ExecContext(ctx, insertRecipientsSQL(len(chunk)), args...); err != nil {
			return err
		}
	}
	return nil
}

// RecipientByToken finds the recipient whose link token hashes to
// tokenHash, with their incident.
func (s *Store) RecipientByToken(ctx context.Context, tokenHash []byte) (*store.Recipient, *store.Incident, error) {
	row := s.queryRow(ctx, `SELECT r.incident_id, r.contact_id, r.contact_name, r.token_hash, r.acknowledged_at, r.created_at,
		i.id, i.user_id, i.state, i.trigger_kind, i.message, i.score, i.loc_lat, i.loc_lon, i.loc_accuracy, i.loc_at,
		i.activate_at, i.escalation_level, i.next_escalation_at, i.last_heartbeat_at, i.feedback, i.created_at, i.updated_at, i.closed_at
		FROM recipients r JOIN incidents i ON i.id = r.incident_id WHERE r.token_hash = ?`, tokenHash)
	var r store.Recipient
	var ack, created sql.NullInt64
	inc, err := scanIncident(prefixScanner{row, []any{&r.IncidentID, &r.ContactID, &r.ContactName, &r.TokenHash, &ack, &created}})
	if err != nil {
		return nil, nil, wrap("recipient by token", err)
	}
	r.AcknowledgedAt, r.CreatedAt = fromTS(ack), fromTS(created)
	return &r, inc, nil
}

// prefixScanner scans leading columns into pre before handing the rest to
// the wrapped scan destinations.
type prefixScanner struct {
	row interface{ Scan(...any) error }
	pre []any
}

func (p prefixScanner) Scan(dst ...any) error { return p.row.Scan(append(p.pre, dst...)...) }

// AcknowledgeRecipient records that a contact is responding. The first
// acknowledgement's time is kept when a contact presses the button twice.
func (s *Store) AcknowledgeRecipient(ctx context.Context, incidentID string, contactID int64, at time.Time) error {
	return s.write(ctx, "acknowledge recipient", func(tx wconn) error {
		res, err := tx.ExecContext(ctx,
			"UPDATE recipients SET acknowledged_at = COALESCE(acknowledged_at, ?) WHERE incident_id = ? AND contact_id = ?",
			ts(norm(at)), incidentID, contactID)
		return affected(res, err)
	})
}

// DueIncidents returns open incidents of any user that need the
// scheduler: a pending countdown that ended, an escalation that is due, or
// (when heartbeatTimeout > 0) a heartbeat older than heartbeatTimeout.
// The caller clears or moves the deadline it acted on, or the incident
// stays due.
func (s *Store) DueIncidents(ctx context.Context, t time.Time, heartbeatTimeout time.Duration) ([]store.Incident, error) {
	n := t.UnixMicro()
	cutoff := any(nil) // NULL: no heartbeat clause matches
	if heartbeatTimeout > 0 {
		cutoff = t.Add(-heartbeatTimeout).UnixMicro()
	}
	return s.incidents(ctx, "due incidents", "SELECT "+incidentCols+" FROM incidents WHERE state IN "+openStates+` AND (
		(state = 'pending' AND activate_at <= ?)
		OR next_escalation_at <= ?
		OR last_heartbeat_at < ?)
		ORDER BY created_at, id`, n, n, cutoff)
}

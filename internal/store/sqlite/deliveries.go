package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/empowerher/empowerher/internal/store"
)

const deliveryCols = `id, user_id, incident_id, contact_id, channel, purpose, subject, body, url, idempotency_key,
	state, attempts, next_attempt_at, lease_owner, lease_until, provider_id, last_error, created_at, updated_at`

func scanDelivery(row interface{ Scan(...any) error }) (*store.Delivery, error) {
	var d store.Delivery
	var incident sql.NullString
	var next, lease, created, updated sql.NullInt64
	if err := row.Scan(&d.ID, &d.UserID, &incident, &d.ContactID, &d.Channel, &d.Purpose, &d.Subject, &d.Body, &d.URL,
		&d.IdempotencyKey, &d.State, &d.Attempts, &next, &d.LeaseOwner, &lease, &d.ProviderID, &d.LastError,
		&created, &updated); err != nil {
		return nil, err
	}
	d.IncidentID = incident.String
	d.NextAttemptAt, d.LeaseUntil = fromTS(next), fromTS(lease)
	d.CreatedAt, d.UpdatedAt = fromTS(created), fromTS(updated)
	return &d, nil
}

func deliveries(rows *sql.Rows) ([]store.Delivery, error) {
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// maxBatchRows bounds the rows of one multi-row INSERT: an incident's
// recipients and deliveries go in one statement each (one compiled
// statement per row count, cached), bigger batches in chunks.
const maxBatchRows = 32

// rowsSQL is "(row), (row), …" with n rows.
func rowsSQL(row string, n int) string {
	b := make([]byte, 0, n*(len(row)+2))
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, row...)
	}
	return string(b)
}

// batchSQL returns prefix + n rows + suffix for n in 1..maxBatchRows, the
// texts built once.
func batchSQL(prefix, row, suffix string) func(n int) string {
	var texts [maxBatchRows + 1]string
	for n := 1; n <= maxBatchRows; n++ {
		texts[n] = prefix + rowsSQL(row, n) + suffix
	}
	return func(n int) string { return texts[n] }
}

var insertDeliveriesSQL = batchSQL(`INSERT INTO deliveries (user_id, incident_id, contact_id, channel, purpose, subject, body, url,
	idempotency_key, state, attempts, next_attempt_at, lease_owner, lease_until, provider_id, last_error, created_at, updated_at) VALUES `,
	"(?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, '', NULL, '', '', ?, ?)",
	" RETURNING id, idempotency_key")

// insertDeliveries enqueues ds: state queued, NextAttemptAt now unless
// set, a fresh idempotency key unless set. It fills in ids and times
// (t, the transaction's clock).
func insertDeliveries(ctx context.Context, tx wconn, ds []store.Delivery, t time.Time) error {
	for i := range ds {
		d := &ds[i]
		if d.IdempotencyKey == "" {
			d.IdempotencyKey = store.NewID()
		}
		d.State = store.DeliveryQueued
		d.LeaseOwner, d.LeaseUntil, d.ProviderID, d.LastError = "", time.Time{}, "", ""
		d.CreatedAt, d.UpdatedAt = t, t
		if d.NextAttemptAt.IsZero() {
			d.NextAttemptAt = t
		}
		d.NextAttemptAt = norm(d.NextAttemptAt)
	}
	for len(ds) > 0 {
		chunk := ds[:min(len(ds), maxBatchRows)]
		ds = ds[len(chunk):]
		args := make([]any, 0, 13*len(chunk))
		for i := range chunk {
			d := &chunk[i]
			args = append(args, d.UserID, nullString(d.IncidentID), d.ContactID, d.Channel, d.Purpose,
				d.Subject, d.Body, d.URL, d.IdempotencyKey, d.Attempts, ts(d.NextAttemptAt), ts(d.CreatedAt), ts(d.UpdatedAt))
		}
		rows, err := tx.QueryContext(ctx, insertDeliveriesSQL(len(chunk)), args...)
		if err != nil {
			return err
		}
		if err := assignIDs(rows, chunk); err != nil {
			return err
		}
	}
	return nil
}

// assignIDs gives each delivery the id RETURNING reported for its
// idempotency key (unique in the table): RETURNING's row order is not
// specified, so rows are matched by key, not by position.
func assignIDs(rows *sql.Rows, ds []store.Delivery) error {
	defer rows.Close()
	got := 0
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return err
		}
		for i := range ds {
			if ds[i].IdempotencyKey == key {
				ds[i].ID = id
				got++
				break
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if got != len(ds) {
		return fmt.Errorf("insert deliveries: %d ids returned for %d rows", got, len(ds))
	}
	return nil
}

// EnqueueDeliveries adds deliveries to the queue in one transaction.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds []store.Delivery) error {
	cp := append([]store.Delivery(nil), ds...)
	err := s.write(ctx, "enqueue deliveries", func(tx wconn) error { return insertDeliveries(ctx, tx, cp, now()) })
	if err == nil {
		copy(ds, cp)
	}
	return err
}

// LeaseDeliveries claims up to n due deliveries for owner in one
// statement (SQLite has a single writer, so no two callers can claim the
// same row). Each claim counts as an attempt, so a job that crashes its
// worker every time still runs out of attempts.
func (s *Store) LeaseDeliveries(ctx context.Context, owner string, t time.Time, lease time.Duration, n int) ([]store.Delivery, error) {
	if owner == "" || n <= 0 || lease <= 0 {
		return nil, fmt.Errorf("sqlite: lease deliveries: need an owner, n > 0 and lease > 0")
	}
	var out []store.Delivery
	nowTS := t.UnixMicro()
	// One statement, so no transaction around it (see autocommit). The
	// INDEXED BY clauses are needed: left to itself the planner walks the
	// whole table in id order to save sorting the few due rows, so every
	// lease (one per wake-up) read every delivery ever sent.
	err := s.autocommit(ctx, "lease deliveries", func(tx wconn) error {
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries
			SET state = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
			WHERE id IN (
				SELECT id FROM deliveries INDEXED BY deliveries_due WHERE state = 'queued' AND next_attempt_at <= ?
				UNION ALL
				SELECT id FROM deliveries INDEXED BY deliveries_leased WHERE state = 'sending' AND lease_until <= ?
				ORDER BY id LIMIT ?)
			RETURNING `+deliveryCols,
			owner, t.Add(lease).UnixMicro(), ts(now()), nowTS, nowTS, n)
		if err != nil {
			return err
		}
		out, err = deliveries(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	// RETURNING order is unspecified; oldest job first is what callers expect.
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// CompleteDelivery stores the outcome of an attempt if owner still holds
// the lease: state (sent, delivered, failed, or queued to retry at
// NextAttemptAt), channel (fall-over), attempts, provider id and error.
func (s *Store) CompleteDelivery(ctx context.Context, d *store.Delivery, owner string) error {
	switch d.State {
	case store.DeliveryQueued, store.DeliverySent, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		return fmt.Errorf("sqlite: complete delivery %d: %q is not an outcome", d.ID, d.State)
	}
	updated := now()
	next := norm(d.NextAttemptAt)
	if d.State == store.DeliveryQueued && next.IsZero() {
		next = updated
	}
	// One UPDATE in autocommit; only when it matches nothing does a second
	// look tell a lost lease from a missing row.
	err := s.autocommit(ctx, "complete delivery", func(tx wconn) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries
			SET state = ?, channel = ?, attempts = ?, next_attempt_at = COALESCE(?, next_attempt_at), provider_id = ?, last_error = ?,
			    lease_owner = '', lease_until = NULL, updated_at = ?
			WHERE id = ? AND state = 'sending' AND lease_owner = ?`,
			string(d.State), d.Channel, d.Attempts, ts(next), d.ProviderID, d.LastError, ts(updated), d.ID, owner)
		if err := affected(res, err); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			ok, err := exists(ctx, tx, "SELECT 1 FROM deliveries WHERE id = ?", d.ID)
			if err != nil {
				return err
			}
			if ok {
				return fmt.Errorf("delivery %d is not leased by %s: %w", d.ID, owner, store.ErrConflict)
			}
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.UpdatedAt, d.LeaseOwner, d.LeaseUntil = updated, "", time.Time{}
	if !next.IsZero() {
		d.NextAttemptAt = next
	}
	return nil
}

// UpdateDeliveryStatus records a provider's status callback for the
// delivery it knows as providerID on channel. A late "sent" never
// downgrades "delivered" (callbacks arrive out of order); that case is not
// an error. An unknown provider id is ErrNotFound.
func (s *Store) UpdateDeliveryStatus(ctx context.Context, channel, providerID string, state store.DeliveryState, errText string) error {
	if providerID == "" {
		return fmt.Errorf("sqlite: update delivery status: empty provider id: %w", store.ErrNotFound)
	}
	return s.write(ctx, "update delivery status", func(tx wconn) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries
			SET state = ?, last_error = CASE WHEN ? <> '' THEN ? ELSE last_error END, updated_at = ?
			WHERE channel = ? AND provider_id = ? AND NOT (state = 'delivered' AND ? = 'sent')`,
			string(state), errText, errText, ts(now()), channel, providerID, string(state))
		if err := affected(res, err); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			ok, err := exists(ctx, tx, "SELECT 1 FROM deliveries WHERE channel = ? AND provider_id = ?", channel, providerID)
			if err != nil || ok {
				return err
			}
			return store.ErrNotFound
		}
		return nil
	})
}

// ListDeliveries returns userID's deliveries for incidentID (another
// user's incident is ErrNotFound), or with incidentID "" the user's
// newest store.DefaultListLimit deliveries of any kind.
func (s *Store) ListDeliveries(ctx context.Context, userID int64, incidentID string) ([]store.Delivery, error) {
	if incidentID == "" {
		rows, err := s.query(ctx, "SELECT "+deliveryCols+" FROM deliveries WHERE user_id = ? ORDER BY id DESC LIMIT ?", userID, store.DefaultListLimit)
		if err != nil {
			return nil, wrap("list deliveries", err)
		}
		out, err := deliveries(rows)
		return out, wrap("list deliveries", err)
	}
	// One read transaction, so the ownership check and the list agree.
	rtx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, wrap("list deliveries", err)
	}
	defer rtx.Rollback() //nolint:errcheck // read-only
	tx := readTx{s, rtx}
	ok, err := exists(ctx, tx, "SELECT 1 FROM incidents WHERE id = ? AND user_id = ?", incidentID, userID)
	if err != nil {
		return nil, wrap("list deliveries", err)
	}
	if !ok {
		return nil, wrap("list deliveries", store.ErrNotFound)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+deliveryCols+" FROM deliveries WHERE incident_id = ? AND user_id = ? ORDER BY id", incidentID, userID)
	if err != nil {
		return nil, wrap("list deliveries", err)
	}
	out, err := deliveries(rows)
	return out, wrap("list deliveries", err)
}

// QueueDepth counts deliveries not yet finished (queued or sending).
func (s *Store) QueueDepth(ctx context.Context) (int, error) {
	var n int
	if err := s.queryRow(ctx, "SELECT COUNT(*) FROM deliveries WHERE state IN ('queued', 'sending')").Scan(&n); err != nil {
		return 0, wrap("queue depth", err)
	}
	return n, nil
}

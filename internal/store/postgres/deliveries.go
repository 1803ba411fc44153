package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/empowerher/empowerher/internal/store"
)

const deliveryCols = `id, user_id, incident_id, contact_id, channel, purpose, subject, body, url, idempotency_key,
	state, attempts, next_attempt_at, lease_owner, lease_until, provider_id, last_error, created_at, updated_at`

func scanDelivery(row scanner) (*store.Delivery, error) {
	var d store.Delivery
	var incident pgtype.Text
	var state string
	var next, lease, created, updated pgtype.Timestamptz
	if err := row.Scan(&d.ID, &d.UserID, &incident, &d.ContactID, &d.Channel, &d.Purpose, &d.Subject, &d.Body, &d.URL,
		&d.IdempotencyKey, &state, &d.Attempts, &next, &d.LeaseOwner, &lease, &d.ProviderID, &d.LastError,
		&created, &updated); err != nil {
		return nil, err
	}
	d.State = store.DeliveryState(state)
	d.IncidentID = incident.String
	d.NextAttemptAt, d.LeaseUntil = fromTS(next), fromTS(lease)
	d.CreatedAt, d.UpdatedAt = fromTS(created), fromTS(updated)
	return &d, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// insertDeliveries enqueues ds: state queued, NextAttemptAt t unless set,
// a fresh idempotency key unless set. It fills in ids and times.
func insertDeliveries(ctx context.Context, tx pgx.Tx, ds []store.Delivery, t time.Time) error {
	if len(ds) == 0 {
		return nil
	}
	// One round trip for the whole batch: an alert's deliveries are written
	// while the person in danger waits for the answer.
	b := &pgx.Batch{}
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
		b.Queue(`INSERT INTO deliveries (user_id, incident_id, contact_id, channel, purpose, subject, body, url,
			idempotency_key, state, attempts, next_attempt_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10, $11, $12, $13) RETURNING id`,
			d.UserID, nullString(d.IncidentID), d.ContactID, d.Channel, d.Purpose, d.Subject, d.Body, d.URL,
			d.IdempotencyKey, d.Attempts, d.NextAttemptAt, d.CreatedAt, d.UpdatedAt).QueryRow(func(row pgx.Row) error {
			return row.Scan(&d.ID)
		})
	}
	return tx.SendBatch(ctx, b).Close()
}

// EnqueueDeliveries adds deliveries to the queue in one transaction.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds []store.Delivery) error {
	cp := append([]store.Delivery(nil), ds...)
	err := s.write(ctx, "enqueue deliveries", func(tx pgx.Tx) error { return insertDeliveries(ctx, tx, cp, now()) })
	if err == nil {
		copy(ds, cp)
	}
	return err
}

// LeaseDeliveries claims up to n due deliveries for owner. SKIP LOCKED
// lets workers in every instance claim disjoint rows without queueing
// behind each other; a row another worker claimed after this statement's
// snapshot is re-checked against the WHERE clause when locked, so it is
// never claimed twice. Each claim counts as an attempt, so a job that
// kills its worker every time still runs out of attempts.
func (s *Store) LeaseDeliveries(ctx context.Context, owner string, t time.Time, lease time.Duration, n int) ([]store.Delivery, error) {
	if owner == "" || n <= 0 || lease <= 0 {
		return nil, fmt.Errorf("postgres: lease deliveries: need an owner, n > 0 and lease > 0")
	}
	rows, err := s.pool.Query(ctx, `WITH due AS (
			SELECT id FROM deliveries
			WHERE (state = 'queued' AND next_attempt_at <= $1) OR (state = 'sending' AND lease_until <= $1)
			ORDER BY id
			LIMIT $2
			FOR UPDATE SKIP LOCKED)
		UPDATE deliveries d
		SET state = 'sending', lease_owner = $3, lease_until = $4, attempts = d.attempts + 1, updated_at = $5
		FROM due WHERE d.id = due.id
		RETURNING `+prefixed("d.", deliveryCols),
		t.UTC(), n, owner, t.Add(lease).UTC(), now())
	if err != nil {
		return nil, wrap("lease deliveries", err)
	}
	out, err := collect(rows, scanDelivery)
	if err != nil {
		return nil, wrap("lease deliveries", err)
	}
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
		return fmt.Errorf("postgres: complete delivery %d: %q is not an outcome", d.ID, d.State)
	}
	updated := now()
	next := norm(d.NextAttemptAt)
	if d.State == store.DeliveryQueued && next.IsZero() {
		next = updated
	}
	err := s.write(ctx, "complete delivery", func(tx pgx.Tx) error {
		err := affected(tx.Exec(ctx, `UPDATE deliveries
			SET state = $1, channel = $2, attempts = $3, next_attempt_at = COALESCE($4, next_attempt_at), provider_id = $5,
			    last_error = $6, lease_owner = '', lease_until = NULL, updated_at = $7
			WHERE id = $8 AND state = 'sending' AND lease_owner = $9`,
			string(d.State), d.Channel, d.Attempts, ts(next), d.ProviderID, d.LastError, updated, d.ID, owner))
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			ok, err := exists(ctx, tx, "SELECT 1 FROM deliveries WHERE id = $1", d.ID)
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
		return fmt.Errorf("postgres: update delivery status: empty provider id: %w", store.ErrNotFound)
	}
	return s.write(ctx, "update delivery status", func(tx pgx.Tx) error {
		err := affected(tx.Exec(ctx, `UPDATE deliveries
			SET state = $1, last_error = CASE WHEN $2 <> '' THEN $2 ELSE last_error END, updated_at = $3
			WHERE channel = $4 AND provider_id = $5 AND NOT (state = 'delivered' AND $1 = 'sent')`,
			string(state), errText, now(), channel, providerID))
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			ok, err := exists(ctx, tx, "SELECT 1 FROM deliveries WHERE channel = $1 AND provider_id = $2", channel, providerID)
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
		rows, err := s.pool.Query(ctx, "SELECT "+deliveryCols+" FROM deliveries WHERE user_id = $1 ORDER BY id DESC LIMIT $2", userID, store.DefaultListLimit)
		if err != nil {
			return nil, wrap("list deliveries", err)
		}
		out, err := collect(rows, scanDelivery)
		return out, wrap("list deliveries", err)
	}
	ok, err := exists(ctx, s.pool, "SELECT 1 FROM incidents WHERE id = $1 AND user_id = $2", incidentID, userID)
	if err != nil {
		return nil, wrap("list deliveries", err)
	}
	if !ok {
		return nil, wrap("list deliveries", store.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, "SELECT "+deliveryCols+" FROM deliveries WHERE incident_id = $1 AND user_id = $2 ORDER BY id", incidentID, userID)
	if err != nil {
		return nil, wrap("list deliveries", err)
	}
	out, err := collect(rows, scanDelivery)
	return out, wrap("list deliveries", err)
}

// QueueDepth counts deliveries not yet finished (queued or sending).
func (s *Store) QueueDepth(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT COUNT(*) FROM deliveries WHERE state IN ('queued', 'sending')").Scan(&n); err != nil {
		return 0, wrap("queue depth", err)
	}
	return n, nil
}

// prefixed qualifies every column in a comma-separated list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/empowerher/empowerher/internal/store"
)

const contactCols = "id, user_id, name, phone, email, webhook_url, channels, tier, created_at, updated_at"

func scanContact(row interface{ Scan(...any) error }) (*store.Contact, error) {
	var c store.Contact
	var channels string
	var created, updated sql.NullInt64
	if err := row.Scan(&c.ID, &c.UserID, &c.Name, &c.Phone, &c.Email, &c.WebhookURL, &channels, &c.Tier, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(channels), &c.Channels); err != nil {
		return nil, fmt.Errorf("contact %d: channels: %w", c.ID, err)
	}
	c.CreatedAt, c.UpdatedAt = fromTS(created), fromTS(updated)
	return &c, nil
}

func channelsJSON(ch []string) string {
	if ch == nil {
		ch = []string{}
	}
	b, _ := json.Marshal(ch) // []string always marshals
	return string(b)
}

// CreateContact inserts c for c.UserID and sets ID, CreatedAt, UpdatedAt.
func (s *Store) CreateContact(ctx context.Context, c *store.Contact) error {
	c.CreatedAt = now()
	c.UpdatedAt = c.CreatedAt
	return s.write(ctx, "create contact", func(tx wconn) error {
		return tx.QueryRowContext(ctx,
			`INSERT INTO contacts (user_id, name, phone, email, webhook_url, channels, tier, created_at, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.UserID, c.Name, c.Phone, c.Email, c.WebhookURL, channelsJSON(c.Channels), c.Tier,
			ts(c.CreatedAt), ts(c.UpdatedAt)).Scan(&c.ID)
	})
}

// ListContacts returns userID's contacts in escalation order (tier, then
// creation).
func (s *Store) ListContacts(ctx context.Context, userID int64) ([]store.Contact, error) {
	rows, err := s.query(ctx, "SELECT "+contactCols+" FROM contacts WHERE user_id = ? ORDER BY tier, id", userID)
	if err != nil {
		return nil, wrap("list contacts", err)
	}
	defer rows.Close()
	var out []store.Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, wrap("list contacts", err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list contacts", err)
	}
	return out, nil
}

// GetContact returns userID's contact id.
func (s *Store) GetContact(ctx context.Context, userID, id int64) (*store.Contact, error) {
	c, err := scanContact(s.queryRow(ctx, "SELECT "+contactCols+" FROM contacts WHERE id = ? AND user_id = ?", id, userID))
	if err != nil {
		return nil, wrap("get contact", err)
	}
	return c, nil
}

// UpdateContact stores c if it belongs to c.UserID and sets UpdatedAt.
func (s *Store) UpdateContact(ctx context.Context, c *store.Contact) error {
	updated := now()
	err := s.write(ctx, "update contact", func(tx wconn) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE contacts SET name = ?, phone = ?, email = ?, webhook_url = ?, channels = ?, tier = ?, updated_at = ?
			 WHERE id = ? AND user_id = ?`,
			c.Name, c.Phone, c.Email, c.WebhookURL, channelsJSON(c.Channels), c.Tier, ts(updated), c.ID, c.UserID)
		return affected(res, err)
	})
	if err == nil {
		c.UpdatedAt = updated
	}
	return err
}

// DeleteContact removes userID's contact id. Past recipients and
// deliveries keep their record of it.
func (s *Store) DeleteContact(ctx context.Context, userID, id int64) error {
	return s.write(ctx, "delete contact", func(tx wconn) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM contacts WHERE id = ? AND user_id = ?", id, userID)
		return affected(res, err)
	})
}

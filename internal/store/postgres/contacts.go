package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/empowerher/empowerher/internal/store"
)

const contactCols = "id, user_id, name, phone, email, webhook_url, channels, tier, created_at, updated_at"

func scanContact(row scanner) (*store.Contact, error) {
	var c store.Contact
	var channels string
	var created, updated pgtype.Timestamptz
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
	err := s.pool.QueryRow(ctx,
		`INSERT INTO contacts (user_id, name, phone, email, webhook_url, channels, tier, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		c.UserID, c.Name, c.Phone, c.Email, c.WebhookURL, channelsJSON(c.Channels), c.Tier, c.CreatedAt, c.UpdatedAt).Scan(&c.ID)
	return wrap("create contact", err)
}

// ListContacts returns userID's contacts in escalation order (tier, then
// creation).
func (s *Store) ListContacts(ctx context.Context, userID int64) ([]store.Contact, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+contactCols+" FROM contacts WHERE user_id = $1 ORDER BY tier, id", userID)
	if err != nil {
		return nil, wrap("list contacts", err)
	}
	out, err := collect(rows, scanContact)
	return out, wrap("list contacts", err)
}

// GetContact returns userID's contact id.
func (s *Store) GetContact(ctx context.Context, userID, id int64) (*store.Contact, error) {
	c, err := scanContact(s.pool.QueryRow(ctx, "SELECT "+contactCols+" FROM contacts WHERE id = $1 AND user_id = $2", id, userID))
	if err != nil {
		return nil, wrap("get contact", err)
	}
	return c, nil
}

// UpdateContact stores c if it belongs to c.UserID and sets UpdatedAt.
func (s *Store) UpdateContact(ctx context.Context, c *store.Contact) error {
	updated := now()
	err := affected(s.pool.Exec(ctx,
		`UPDATE contacts SET name = $1, phone = $2, email = $3, webhook_url = $4, channels = $5, tier = $6, updated_at = $7
		 WHERE id = $8 AND user_id = $9`,
		c.Name, c.Phone, c.Email, c.WebhookURL, channelsJSON(c.Channels), c.Tier, updated, c.ID, c.UserID))
	if err != nil {
		return wrap("update contact", err)
	}
	c.UpdatedAt = updated
	return nil
}

// DeleteContact removes userID's contact id. Past recipients and
// deliveries keep their record of it.
func (s *Store) DeleteContact(ctx context.Context, userID, id int64) error {
	return wrap("delete contact", affected(s.pool.Exec(ctx, "DELETE FROM contacts WHERE id = $1 AND user_id = $2", id, userID)))
}

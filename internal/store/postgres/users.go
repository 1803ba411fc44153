package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/empowerher/empowerher/internal/store"
)

const userCols = "id, name, display_name, evidence_consent, created_at"

func scanUser(row scanner, extra ...any) (*store.User, error) {
	var u store.User
	var created pgtype.Timestamptz
	if err := row.Scan(append([]any{&u.ID, &u.Name, &u.DisplayName, &u.EvidenceConsent, &created}, extra...)...); err != nil {
		return nil, err
	}
	u.CreatedAt = fromTS(created)
	return &u, nil
}

// CreateUser inserts u and sets its ID and CreatedAt. A taken name is
// ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *store.User, passwordHash []byte) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	u.CreatedAt = norm(u.CreatedAt)
	err := s.pool.QueryRow(ctx,
		`INSERT INTO users (name, display_name, password_hash, evidence_consent, created_at)
		 VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		u.Name, u.DisplayName, passwordHash, u.EvidenceConsent, u.CreatedAt).Scan(&u.ID)
	return wrap("create user", err)
}

// UserByID returns the user with id.
func (s *Store) UserByID(ctx context.Context, id int64) (*store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE id = $1", id))
	if err != nil {
		return nil, wrap("user by id", err)
	}
	return u, nil
}

// UserByName returns the user named name and their password hash (nil
// when the account has none).
func (s *Store) UserByName(ctx context.Context, name string) (*store.User, []byte, error) {
	var hash []byte
	u, err := scanUser(s.pool.QueryRow(ctx, "SELECT "+userCols+", password_hash FROM users WHERE name = $1", name), &hash)
	if err != nil {
		return nil, nil, wrap("user by name", err)
	}
	return u, hash, nil
}

// UpdateUser stores u's name, display name and consent.
func (s *Store) UpdateUser(ctx context.Context, u *store.User) error {
	return wrap("update user", affected(s.pool.Exec(ctx,
		"UPDATE users SET name = $1, display_name = $2, evidence_consent = $3 WHERE id = $4",
		u.Name, u.DisplayName, u.EvidenceConsent, u.ID)))
}

// AddToken stores the hash of a new API token for userID.
func (s *Store) AddToken(ctx context.Context, userID int64, tokenHash []byte, label string) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES ($1, $2, $3, $4)",
		tokenHash, userID, label, now())
	return wrap("add token", err)
}

// UserByToken returns the owner of the API token whose hash is tokenHash.
func (s *Store) UserByToken(ctx context.Context, tokenHash []byte) (*store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx,
		"SELECT u.id, u.name, u.display_name, u.evidence_consent, u.created_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
		tokenHash))
	if err != nil {
		return nil, wrap("user by token", err)
	}
	return u, nil
}

// CreateSession stores a web session.
func (s *Store) CreateSession(ctx context.Context, ss *store.Session) error {
	ss.ExpiresAt = norm(ss.ExpiresAt)
	_, err := s.pool.Exec(ctx, "INSERT INTO sessions (token_hash, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)",
		ss.TokenHash, ss.UserID, ss.CSRF, ss.ExpiresAt)
	return wrap("create session", err)
}

// SessionByToken returns the unexpired session whose token hash is
// tokenHash; an expired session is ErrNotFound, so no caller can forget
// the check.
func (s *Store) SessionByToken(ctx context.Context, tokenHash []byte) (*store.Session, error) {
	var ss store.Session
	var exp pgtype.Timestamptz
	err := s.pool.QueryRow(ctx,
		"SELECT token_hash, user_id, csrf, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
		tokenHash, time.Now()).Scan(&ss.TokenHash, &ss.UserID, &ss.CSRF, &exp)
	if err != nil {
		return nil, wrap("session by token", err)
	}
	ss.ExpiresAt = fromTS(exp)
	return &ss, nil
}

// DeleteSession removes a session (sign-out); a missing one is not an
// error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", tokenHash)
	return wrap("delete session", err)
}

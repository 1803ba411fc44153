package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/empowerher/empowerher/internal/store"
)

const userCols = "id, name, display_name, evidence_consent, created_at"

func scanUser(row interface{ Scan(...any) error }, extra ...any) (*store.User, error) {
	var u store.User
	var created sql.NullInt64
	dst := append([]any{&u.ID, &u.Name, &u.DisplayName, &u.EvidenceConsent, &created}, extra...)
	if err := row.Scan(dst...); err != nil {
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
	return s.write(ctx, "create user", func(tx wconn) error {
		return tx.QueryRowContext(ctx,
			`INSERT INTO users (name, display_name, password_hash, evidence_consent, created_at)
			 VALUES (?, ?, ?, ?, ?) RETURNING id`,
			u.Name, u.DisplayName, passwordHash, u.EvidenceConsent, ts(u.CreatedAt)).Scan(&u.ID)
	})
}

// UserByID returns the user with id.
func (s *Store) UserByID(ctx context.Context, id int64) (*store.User, error) {
	u, err := scanUser(s.queryRow(ctx, "SELECT "+userCols+" FROM users WHERE id = ?", id))
	if err != nil {
		return nil, wrap("user by id", err)
	}
	return u, nil
}

// UserByName returns the user named name and their password hash (nil
// when the account has none).
func (s *Store) UserByName(ctx context.Context, name string) (*store.User, []byte, error) {
	var hash []byte
	u, err := scanUser(s.queryRow(ctx, "SELECT "+userCols+", password_hash FROM users WHERE name = ?", name), &hash)
	if err != nil {
		return nil, nil, wrap("user by name", err)
	}
	return u, hash, nil
}

// UpdateUser stores u's name, display name and consent.
func (s *Store) UpdateUser(ctx context.Context, u *store.User) error {
	return s.write(ctx, "update user", func(tx wconn) error {
		res, err := tx.ExecContext(ctx,
			"UPDATE users SET name = ?, display_name = ?, evidence_consent = ? WHERE id = ?",
			u.Name, u.DisplayName, u.EvidenceConsent, u.ID)
		return affected(res, err)
	})
}

// AddToken stores the hash of a new API token for userID.
func (s *Store) AddToken(ctx context.Context, userID int64, tokenHash []byte, label string) error {
	return s.write(ctx, "add token", func(tx wconn) error {
		_, err := tx.ExecContext(ctx,
			"INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES (?, ?, ?, ?)",
			tokenHash, userID, label, ts(now()))
		return err
	})
}

// UserByToken returns the owner of the API token whose hash is tokenHash.
func (s *Store) UserByToken(ctx context.Context, tokenHash []byte) (*store.User, error) {
	u, err := scanUser(s.queryRow(ctx,
		"SELECT u.id, u.name, u.display_name, u.evidence_consent, u.created_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
		tokenHash))
	if err != nil {
		return nil, wrap("user by token", err)
	}
	return u, nil
}

// CreateSession stores a web session.
func (s *Store) CreateSession(ctx context.Context, ss *store.Session) error {
	ss.ExpiresAt = norm(ss.ExpiresAt)
	return s.write(ctx, "create session", func(tx wconn) error {
		_, err := tx.ExecContext(ctx,
			"INSERT INTO sessions (token_hash, user_id, csrf, expires_at) VALUES (?, ?, ?, ?)",
			ss.TokenHash, ss.UserID, ss.CSRF, ss.ExpiresAt.UnixMicro())
		return err
	})
}

// SessionByToken returns the unexpired session whose token hash is
// tokenHash; an expired session is ErrNotFound, so no caller can forget
// the check.
func (s *Store) SessionByToken(ctx context.Context, tokenHash []byte) (*store.Session, error) {
	var ss store.Session
	var exp sql.NullInt64
	err := s.queryRow(ctx,
		"SELECT token_hash, user_id, csrf, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?",
		tokenHash, time.Now().UnixMicro()).Scan(&ss.TokenHash, &ss.UserID, &ss.CSRF, &exp)
	if err != nil {
		return nil, wrap("session by token", err)
	}
	ss.ExpiresAt = fromTS(exp)
	return &ss, nil
}

// DeleteSession removes a session (sign-out). Deleting one that does not
// exist is not an error: the outcome the caller wants already holds.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return s.write(ctx, "delete session", func(tx wconn) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", tokenHash)
		return err
	})
}

// affected turns "no row changed" into ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

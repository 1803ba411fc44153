package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// Statement caching. Compiling a statement is about half of SQLite's CPU
// per alert (an INSERT into a table with five indexes and two foreign keys
// costs more to plan than to run), so every query text is compiled once
// per connection and kept. Only constant query texts go through the
// caches (the multi-row INSERTs have one text per row count, up to
// maxBatchRows), so they stay a few dozen entries.

// scanner is a single-row result: *sql.Row, or a preparation error.
type scanner interface{ Scan(...any) error }

type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }

// wconn is the writer connection while write or autocommit holds wmu:
// statements run on it, inside the open transaction if there is one.
type wconn struct{ s *Store }

// stmt returns query prepared on the writer connection. The caller holds
// wmu, which also guards the cache.
func (w wconn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := w.s.ws[query]; ok {
		return st, nil
	}
	st, err := w.s.wc.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	w.s.ws[query] = st
	return st, nil
}

func (w wconn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (w wconn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := w.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (w wconn) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	st, err := w.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// readStmt returns query prepared for the read pool; database/sql prepares
// it again on each pool connection the first time it runs there, and
// reuses it after that.
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.rs.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.r.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.rs.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) scanner {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// readTx is a read-only transaction on the pool whose statements come from
// the read cache (tx.StmtContext reuses the connection's prepared copy).
type readTx struct {
	s  *Store
	tx *sql.Tx
}

func (t readTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := t.s.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return t.tx.StmtContext(ctx, st), nil
}

func (t readTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (t readTx) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// closeStmts closes every cached statement.
func (s *Store) closeStmts() error {
	var errs []error
	s.wmu.Lock()
	for q, st := range s.ws {
		errs = append(errs, st.Close())
		delete(s.ws, q)
	}
	s.wmu.Unlock()
	s.rs.Range(func(k, v any) bool {
		errs = append(errs, v.(*sql.Stmt).Close())
		s.rs.Delete(k)
		return true
	})
	return errors.Join(errs...)
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/empowerher/empowerher/internal/store"
)

// FileName is the database file Open creates inside a data directory.
const FileName = "empowerher.db"

// busyTimeout is how long a connection waits for another process's write
// lock before giving up. Generous, because giving up loses an alert.
const busyTimeout = 10 * time.Second

// Store is a store.Store backed by one SQLite file.
type Store struct {
	w   *sql.DB   // exactly one connection, held by wc
	wc  *sql.Conn // the only writer; used only under wmu
	wmu sync.Mutex
	ws  map[string]*sql.Stmt // statements prepared on wc; guarded by wmu
	r   *sql.DB              // read-only pool
	rs  sync.Map             // query → *sql.Stmt on r

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and applies pending
// migrations. path names a data directory, whose database is
// path/FileName, or a database file; see isDataDir for which. Missing
// directories are created owner-only. It fails if the database was
// migrated by a newer binary than this one.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	if isDataDir(path) {
		path = filepath.Join(path, FileName)
	}
	if dir := filepath.Dir(path); dir != "" {
		// 0700: the database holds contacts' phone numbers and locations.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
	}
	// Create the file owner-only before SQLite does (it would use 0644);
	// SQLite gives the -wal and -shm files the same permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	f.Close()
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := pingBusy(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	// The writer keeps its one connection for good, so its prepared
	// statements stay valid and writes queue on wmu (a sync.Mutex hands
	// itself over in FIFO order once waiters queue up, where database/sql
	// picks a random waiter for a free connection: fairer tail latency
	// when 100 alerts arrive at once).
	wc, err := w.Conn(ctx)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		wc.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := min(max(runtime.GOMAXPROCS(0), 2), 8)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		wc.Close()
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return &Store{w: w, wc: wc, ws: map[string]*sql.Stmt{}, r: r}, nil
}

// isDataDir tells a data directory from a database file: an existing
// directory, a path ending in a separator, or a path that does not exist
// and has no database extension (.db, .sqlite, .sqlite3) is a directory,
// so `--data ./empowerher-data` works on a fresh machine.
func isDataDir(path string) bool {
	fi, err := os.Stat(path)
	if err == nil {
		return fi.IsDir()
	}
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(os.PathSeparator)) {
		return true
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".db", ".sqlite", ".sqlite3":
		return false
	}
	return true
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	// NORMAL in WAL mode: a commit is durable against the process being
	// killed (SIGKILL, OOM) the moment it returns, which is what "an
	// accepted alert is never lost" needs; only an OS crash or power cut
	// can roll back the last commits before a checkpoint. FULL would fsync
	// every commit, tripling the cost of an alert here (7 ms vs 2.4 ms on
	// the 2-core CI machine) and serialising 100 concurrent alerts past the
	// 300 ms target.
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes the cached statements, the writer and the read pool. A
// second Close does nothing, as with *sql.DB.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		err := s.closeStmts()
		s.wmu.Lock()
		defer s.wmu.Unlock()
		s.closeErr = errors.Join(err, s.r.Close(), s.wc.Close(), s.w.Close())
	})
	return s.closeErr
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.queryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// write runs fn in one BEGIN IMMEDIATE transaction on the writer. The
// transaction is driven by hand (cached BEGIN/COMMIT statements on the
// held connection) rather than by database/sql's Tx, which could not use
// statements prepared on the connection without compiling them again.
func (s *Store) write(ctx context.Context, op string, fn func(tx wconn) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	w := wconn{s}
	if _, err := w.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return wrap(op, err)
	}
	err := fn(w)
	if err == nil {
		_, err = w.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		// Not on ctx: a cancelled caller must not leave the writer inside
		// a transaction. ROLLBACK fails harmlessly when SQLite has already
		// rolled back (a failed COMMIT, an interrupted statement).
		_, _ = w.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return wrap(op, err)
	}
	return nil
}

// autocommit runs fn's statements on the writer outside a transaction:
// for writes that are one statement, which SQLite makes atomic by itself
// (and which take the write lock, waiting on busy_timeout, as BEGIN
// IMMEDIATE does), saving the BEGIN and COMMIT.
func (s *Store) autocommit(ctx context.Context, op string, fn func(w wconn) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return wrap(op, fn(wconn{s}))
}

// wrap adds the package prefix and maps driver errors onto the store's
// sentinels, keeping the driver error in the chain for logs.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("sqlite: %s: %w (%w)", op, store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			// The row it refers to does not exist (or is not the caller's).
			return fmt.Errorf("sqlite: %s: %w (%w)", op, store.ErrNotFound, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// Times are stored as microseconds since the epoch, NULL for the zero time.

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromTS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// now is the store's clock for CreatedAt/UpdatedAt, truncated to what is
// stored so the caller's struct equals what a later read returns.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// norm truncates a caller-supplied time the same way.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) scanner
}

// exists reports whether query (which selects one row) finds anything.
func exists(ctx context.Context, q queryer, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// pingBusy opens the first connection, retrying while the file is locked.
// Switching a fresh file to WAL takes an exclusive lock for which SQLite
// does not call the busy handler, so when processes start together on a
// new database (serve and `user add`, two instances) all but one get
// SQLITE_BUSY at once; they wait here instead, up to busyTimeout.
func pingBusy(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

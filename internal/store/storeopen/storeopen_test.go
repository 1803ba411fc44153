package storeopen_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/empowerher/empowerher/internal/store"
	"github.com/empowerher/empowerher/internal/store/postgres"
	"github.com/empowerher/empowerher/internal/store/sqlite"
	"github.com/empowerher/empowerher/internal/store/storeopen"
)

func TestKind(t *testing.T) {
	for _, tc := range []struct{ dsn, kind, rest string }{
		{"postgres://u@h/db", "postgres", "postgres://u@h/db"},
		{"postgresql://u@h/db?sslmode=disable", "postgres", "postgresql://u@h/db?sslmode=disable"},
		{"sqlite:/var/lib/eh/db.sqlite", "sqlite", "/var/lib/eh/db.sqlite"},
		{"sqlite://data/x.db", "sqlite", "data/x.db"},
		{"./empowerher-data", "sqlite", "./empowerher-data"},
		{"", "", ""},
	} {
		kind, rest := storeopen.Kind(tc.dsn)
		if kind != tc.kind || rest != tc.rest {
			t.Errorf("Kind(%q) = %q, %q; want %q, %q", tc.dsn, kind, rest, tc.kind, tc.rest)
		}
	}
}

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{dir, "sqlite:" + filepath.Join(dir, "other.db")} {
		s, err := storeopen.Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		if _, ok := s.(*sqlite.Store); !ok {
			t.Fatalf("Open(%q) = %T, want *sqlite.Store", dsn, s)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	for _, f := range []string{sqlite.FileName, "other.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("expected database file: %v", err)
		}
	}
	if _, err := storeopen.Open(t.Context(), ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	if _, err := storeopen.Open(t.Context(), "sqlite:"); err == nil {
		t.Error("Open(\"sqlite:\") succeeded")
	}
}

func TestOpenPostgres(t *testing.T) {
	base := os.Getenv("EMPOWERHER_TEST_POSTGRES")
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set EMPOWERHER_TEST_POSTGRES to a DSN")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Skip("EMPOWERHER_TEST_POSTGRES is not a postgres:// URL")
	}
	// Its own schema, so the database's public schema stays untouched.
	schema := "t_open_" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(store.NewID()))
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") //nolint:errcheck // best effort
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	s, err := storeopen.Open(t.Context(), u.String())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, ok := s.(*postgres.Store); !ok {
		t.Fatalf("Open = %T, want *postgres.Store", s)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

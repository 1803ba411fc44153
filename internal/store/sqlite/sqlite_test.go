package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/empowerher/empowerher/internal/store"
	"github.com/empowerher/empowerher/internal/store/sqlite"
	"github.com/empowerher/empowerher/internal/store/storetest"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, t.TempDir()) })
}

// TestLeaseExclusiveTwoStores models two processes on one file: two
// independent Stores, each with its own writer connection, so the
// exclusion comes from SQLite's locking (BEGIN IMMEDIATE + busy_timeout),
// not from the in-process single writer.
func TestLeaseExclusiveTwoStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	storetest.LeaseExclusive(t, open(t, path), open(t, path))
}

func BenchmarkCreateIncident(b *testing.B) {
	storetest.BenchCreateIncident(b, open(b, b.TempDir()))
}

func BenchmarkLeaseComplete(b *testing.B) {
	storetest.BenchLeaseComplete(b, open(b, b.TempDir()))
}

// TestPersistsAcrossOpen: what one process accepted, the next one finds
// (the restart half of "an alert survives SIGKILL"), and reopening an
// up-to-date database applies nothing.
func TestPersistsAcrossOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	u := &store.User{Name: "asha"}
	if err := s.CreateUser(t.Context(), u, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueDeliveries(t.Context(), []store.Delivery{{UserID: u.ID, Channel: store.ChannelLog}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := open(t, filepath.Join(dir, sqlite.FileName))
	if n, err := s2.QueueDepth(t.Context()); err != nil || n != 1 {
		t.Fatalf("QueueDepth after reopen = %d, %v; want 1", n, err)
	}
}

// TestRefusesNewerSchema: a database migrated by a newer binary is not
// opened (its schema may mean something this binary cannot honour).
func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	open(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var n, latest int
	if err := db.QueryRow("SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&n, &latest); err != nil {
		t.Fatal(err)
	}
	if n != sqlite.LatestVersion() || latest != sqlite.LatestVersion() {
		t.Fatalf("schema_migrations: %d rows up to %d, want %d", n, latest, sqlite.LatestVersion())
	}
	if _, err := db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "9999 is newer") {
		t.Fatalf("Open of a newer database: %v, want a clear refusal", err)
	}
}

// TestConcurrentOpen: processes starting together on a fresh file apply
// the migrations once and all succeed.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Open: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, []byte("not a database, just some bytes that are long enough to be checked"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(t.Context(), f); err == nil || !strings.HasPrefix(err.Error(), "sqlite: ") {
		t.Errorf("Open(garbage file) = %v, want a sqlite: error", err)
	}
}

// BenchmarkCreateIncidentParallel: alerts from many users at once; run
// with -cpu 1,2 -benchtime and read ns/op as time per alert under load.
func BenchmarkCreateIncidentParallel(b *testing.B) {
	b.SetParallelism(50) // 50 × GOMAXPROCS goroutines: the 100-at-once case on 2 cores
	storetest.BenchCreateIncidentParallel(b, open(b, b.TempDir()))
}

// TestFilePermissions: contacts' numbers and locations are not world-readable.
func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // missing: created as a data directory
	open(t, dir)
	for _, p := range []string{dir, filepath.Join(dir, sqlite.FileName)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v, want no group/other access", p, perm)
		}
	}
}

// TestPathKinds: which paths name a data directory and which a file.
func TestPathKinds(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct{ arg, file string }{
		{filepath.Join(root, "fresh-data"), filepath.Join(root, "fresh-data", sqlite.FileName)},
		{filepath.Join(root, "slash") + "/", filepath.Join(root, "slash", sqlite.FileName)},
		{filepath.Join(root, "x.db"), filepath.Join(root, "x.db")},
		{filepath.Join(root, "sub", "y.sqlite3"), filepath.Join(root, "sub", "y.sqlite3")},
	} {
		open(t, tc.arg)
		if fi, err := os.Stat(tc.file); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("Open(%s) did not create the file %s: %v", tc.arg, tc.file, err)
		}
	}
}

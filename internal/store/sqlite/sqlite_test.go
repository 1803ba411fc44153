package sqlite_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestBatchInsertIDs: an incident's recipients and deliveries go in
// multi-row INSERTs of up to 32 rows; with more than that (several
// chunks) every delivery still gets the id of its own row.
func TestBatchInsertIDs(t *testing.T) {
	s := open(t, t.TempDir())
	u := &store.User{Name: "asha"}
	if err := s.CreateUser(t.Context(), u, nil); err != nil {
		t.Fatal(err)
	}
	const n = 70 // chunks of 32, 32 and 6
	rs := make([]store.Recipient, n)
	ds := make([]store.Delivery, n)
	for i := range n {
		rs[i] = store.Recipient{ContactID: int64(i + 1), ContactName: "c" + strconv.Itoa(i), TokenHash: []byte("token-" + strconv.Itoa(i))}
		ds[i] = store.Delivery{ContactID: int64(i + 1), Channel: store.ChannelLog, Body: "body " + strconv.Itoa(i)}
	}
	inc := &store.Incident{UserID: u.ID, State: store.StateActive, Trigger: "manual"}
	if err := s.CreateIncident(t.Context(), inc, rs, ds); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListDeliveries(t.Context(), u.ID, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d deliveries stored, want %d", len(got), n)
	}
	byID := map[int64]store.Delivery{}
	for _, d := range got {
		byID[d.ID] = d
	}
	for i, d := range ds {
		st, ok := byID[d.ID]
		if !ok || st.Body != d.Body || st.IdempotencyKey != d.IdempotencyKey || st.ContactID != d.ContactID {
			t.Fatalf("delivery %d: caller has id %d (%q), stored row is %+v", i, d.ID, d.Body, st)
		}
	}
	stored, err := s.Recipients(t.Context(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != n {
		t.Fatalf("%d recipients stored, want %d", len(stored), n)
	}
	// A duplicate key inside one batch fails the whole incident.
	dup := []store.Delivery{{ContactID: 1, Channel: store.ChannelLog, IdempotencyKey: "k"}, {ContactID: 2, Channel: store.ChannelLog, IdempotencyKey: "k"}}
	inc2 := &store.Incident{ID: store.NewID(), UserID: u.ID, State: store.StateActive, Trigger: "manual"}
	if err := s.CreateIncident(t.Context(), inc2, nil, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate idempotency keys in one batch: %v, want ErrConflict", err)
	}
	if _, err := s.GetIncident(t.Context(), u.ID, inc2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the failed incident was stored: %v", err)
	}
}

// BenchmarkLeaseNothingDue: a worker's lease when nothing is due, with
// 1000 deliveries already sent. It must not grow with the history: the
// lease query reads the queue's partial indexes, not the table.
func BenchmarkLeaseNothingDue(b *testing.B) {
	s := open(b, b.TempDir())
	u := &store.User{Name: "asha"}
	if err := s.CreateUser(b.Context(), u, nil); err != nil {
		b.Fatal(err)
	}
	ds := make([]store.Delivery, 1000)
	for i := range ds {
		ds[i] = store.Delivery{UserID: u.ID, Channel: store.ChannelLog}
	}
	if err := s.EnqueueDeliveries(b.Context(), ds); err != nil {
		b.Fatal(err)
	}
	got, err := s.LeaseDeliveries(b.Context(), "w", time.Now(), time.Hour, len(ds))
	if err != nil || len(got) != len(ds) {
		b.Fatalf("leased %d of %d: %v", len(got), len(ds), err)
	}
	for i := range got {
		got[i].State = store.DeliverySent
		if err := s.CompleteDelivery(b.Context(), &got[i], "w"); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if got, err := s.LeaseDeliveries(b.Context(), "w", time.Now(), time.Hour, 16); err != nil || len(got) != 0 {
			b.Fatalf("leased %d: %v", len(got), err)
		}
	}
}

package postgres_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/empowerher/empowerher/internal/store"
	"github.com/empowerher/empowerher/internal/store/postgres"
	"github.com/empowerher/empowerher/internal/store/storetest"
)

// EnvDSN names the variable holding the test server's DSN; CI sets it.
const EnvDSN = "EMPOWERHER_TEST_POSTGRES"

// freshSchema creates an empty schema t_<random> for this test, dropped
// at cleanup, and returns a DSN whose search_path selects it, so parallel
// runs against one database never see each other's rows.
func freshSchema(t testing.TB, durable bool) string {
	t.Helper()
	base := os.Getenv(EnvDSN)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to a DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", EnvDSN)
	}
	schema := "t_" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(store.NewID()))
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvDSN, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withParams(t, base, schema, durable)
}

// withParams selects schema and, unless durable, turns off waiting for the
// WAL flush at commit: the conformance tests check behaviour, not
// durability, and a test server's fsync would dominate their run time.
// Benchmarks keep the server's default, so their numbers are honest.
func withParams(t testing.TB, dsn, schema string, durable bool) string {
	params := map[string]string{"search_path": schema}
	if !durable {
		params["synchronous_commit"] = "off"
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("%s: %v", EnvDSN, err)
		}
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range params {
		dsn += " " + k + "=" + v
	}
	return dsn
}

func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the suite in one schema, emptied before each
// subtest: creating a schema costs ~0.5 s of DDL on a small machine, while
// deleting a few rows costs milliseconds.
func TestConformance(t *testing.T) {
	dsn := freshSchema(t, false)
	open(t, dsn) // migrate once
	storetest.Run(t, func(t *testing.T) store.Store {
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		// Children first; contacts and users last.
		for _, table := range []string{"deliveries", "recipients", "incident_events", "incidents", "sessions", "api_tokens", "contacts", "users"} {
			if _, err := conn.Exec(t.Context(), "DELETE FROM "+table); err != nil {
				t.Fatalf("empty %s: %v", table, err)
			}
		}
		return open(t, dsn)
	})
}

// TestLeaseExclusiveTwoPools models two instances: separate pools on one
// schema, several workers each, competing for one queue.
func TestLeaseExclusiveTwoPools(t *testing.T) {
	dsn := freshSchema(t, false)
	storetest.LeaseExclusive(t, open(t, dsn), open(t, dsn))
}

// TestMigrations: instances starting together apply each migration once;
// reopening is a no-op; a database migrated by a newer binary is refused.
func TestMigrations(t *testing.T) {
	dsn := freshSchema(t, false)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dsn)
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
	open(t, dsn).Close()

	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n, latest int
	if err := conn.QueryRow(t.Context(), "SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&n, &latest); err != nil {
		t.Fatal(err)
	}
	if n != postgres.LatestVersion() || latest != postgres.LatestVersion() {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d", n, latest, postgres.LatestVersion())
	}
	if _, err := conn.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(t.Context(), dsn)
	if err == nil || !strings.Contains(err.Error(), "9999 is newer") {
		t.Fatalf("Open of a newer database: %v, want a clear refusal", err)
	}
}

func TestOpenBadDSN(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://user:secret@[::1")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Open(bad DSN) = %v: want an error that does not echo the password", err)
	}
}

func BenchmarkCreateIncident(b *testing.B) {
	storetest.BenchCreateIncident(b, open(b, freshSchema(b, true)))
}

func BenchmarkLeaseComplete(b *testing.B) {
	storetest.BenchLeaseComplete(b, open(b, freshSchema(b, true)))
}

// BenchmarkCreateIncidentParallel: alerts from many users at once; run
// with -cpu 1,2 -benchtime and read ns/op as time per alert under load.
func BenchmarkCreateIncidentParallel(b *testing.B) {
	b.SetParallelism(50) // 50 × GOMAXPROCS goroutines: the 100-at-once case on 2 cores
	storetest.BenchCreateIncidentParallel(b, open(b, freshSchema(b, true)))
}

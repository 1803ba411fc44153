package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/empowerher/empowerher/internal/notify"
)

// freshPostgres creates an empty database next to EMPOWERHER_TEST_POSTGRES
// for one test and drops it afterwards.
func freshPostgres(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("EMPOWERHER_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("EMPOWERHER_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "empowerher_e2e_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(ctx)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestTwoInstancesShareOneQueueAndSurviveSIGKILL: two `serve` processes on
// one PostgreSQL drain one queue; one is killed in the middle of deliveries;
// every alert still reaches the peer, and after de-duplicating by
// Idempotency-Key (what a provider does) each was delivered exactly once.
func TestTwoInstancesShareOneQueueAndSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dsn := freshPostgres(t)
	const n = 30
	var mu sync.Mutex
	seen := map[string]int{} // Idempotency-Key → requests that completed
	inflight := 0
	maxInflightAtKill := -1
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !notify.VerifyWebhook(e2eWebhookSecret, r.Header.Get(notify.HeaderWebhookTimestamp), body, r.Header.Get(notify.HeaderWebhookSignature)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		inflight++
		mu.Unlock()
		time.Sleep(150 * time.Millisecond) // slow peer: many requests in flight
		mu.Lock()
		inflight--
		// A sender that died mid-request never learned of this one; a
		// provider would still have sent it, so it counts as delivered.
		seen[r.Header.Get(notify.HeaderIdempotencyKey)]++
		mu.Unlock()
	}))
	defer rcv.Close()

	tokens := make([]string, n)
	for i := range tokens {
		out, err := execUser(t, dsn, fmt.Sprintf("u%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = out
	}
	t.Setenv("EMPOWERHER_LINK_SECRET", "shared-link-secret-for-every-instance-0123456789")
	common := []string{"--db", dsn, "--delivery-lease", "3s", "--delivery-poll", "100ms", "--worker-concurrency", "4"}
	a := startServe(t, append(common, "--data", t.TempDir(), "--instance-id", "a")...)
	b := startServe(t, append(common, "--data", t.TempDir(), "--instance-id", "b")...)

	ids := make([]string, n)
	for i, tok := range tokens {
		p := a
		if i%2 == 1 {
			p = b
		}
		if code := p.call(t, "POST", "/contacts", tok, map[string]any{"name": "Peer", "webhook_url": rcv.URL}, nil); code != 201 {
			t.Fatalf("contact: %d", code)
		}
		var ar struct{ Incident struct{ ID string } }
		if code := p.call(t, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &ar); code != 201 {
			t.Fatalf("alert: %d", code)
		}
		ids[i] = ar.Incident.ID
	}
	// Kill A while deliveries are in flight.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		done, fl := len(seen), inflight
		mu.Unlock()
		if done >= 4 && fl > 0 {
			a.kill(t)
			maxInflightAtKill = fl
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("deliveries never got going")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// B finishes everything, including A's leased jobs once their leases expire.
	deadline = time.Now().Add(40 * time.Second)
	for {
		mu.Lock()
		done := len(seen)
		mu.Unlock()
		if done == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d alerts delivered after SIGKILL", done, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Every job ends "sent" in the database, A's too once its leases expire
	// and B sends them again (with the same key, so the peer can tell).
	deadline = time.Now().Add(20 * time.Second)
	for i := 0; i < len(ids); {
		var inc struct{ Deliveries []struct{ State string } }
		b.call(t, "GET", "/incidents/"+ids[i], tokens[i], nil, &inc)
		if len(inc.Deliveries) == 1 && inc.Deliveries[0].State == "sent" {
			i++
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("incident %s: %+v", ids[i], inc.Deliveries)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // room for a stray duplicate
	mu.Lock()
	dups := 0
	for key, c := range seen {
		if c > 1 {
			dups += c - 1
			t.Logf("key %s arrived %d times (its request was in flight when A died)", key, c)
		}
	}
	distinct := len(seen)
	mu.Unlock()
	// Only requests in flight at the kill can repeat (A's worker holds at
	// most --worker-concurrency of them), and they repeat with their key.
	if distinct != n || dups > maxInflightAtKill || dups > 4 {
		t.Fatalf("%d distinct deliveries (want %d), %d duplicates with %d in flight at the kill", distinct, n, dups, maxInflightAtKill)
	}
}

func execUser(t *testing.T, dsn, name string) (string, error) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"user", "add", "--db", dsn, name}, &out, &errb); code != 0 {
		return "", fmt.Errorf("user add: %s", errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1], nil
}

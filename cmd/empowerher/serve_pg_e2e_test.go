package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
// every alert still reaches the peer (zero lost), and after de-duplicating
// by Idempotency-Key (what a provider or a webhook receiver does) each was
// delivered exactly once (zero duplicates): one key per incident, and no
// incident under two keys.
//
// Raw duplicates (the same key arriving twice) are counted and bounded,
// not forbidden: a request the peer received from A just before A died is
// unknown to the database, so B must send it again when A's lease
// expires, with the same key. No sender can avoid that without the
// receiver's help (docs/deploy-aws.md, "Exactly once"); what the worker
// does avoid is every other repeat: it never re-leases a live lease and
// never starts a call that could outlive its lease.
func TestTwoInstancesShareOneQueueAndSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dsn := freshPostgres(t)
	const n = 30
	var mu sync.Mutex
	seen := map[string]int{}           // Idempotency-Key → requests that completed
	keyIncident := map[string]string{} // Idempotency-Key → the incident it alerts for
	inflight := 0
	maxInflightAtKill := -1
	leasedByA := -1 // deliveries A held a lease on when it died
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
		key := r.Header.Get(notify.HeaderIdempotencyKey)
		seen[key]++
		var p notify.WebhookPayload
		_ = json.Unmarshal(body, &p)
		if prev, ok := keyIncident[key]; ok && prev != p.IncidentID {
			t.Errorf("key %s reused for incidents %s and %s", key, prev, p.IncidentID)
		}
		keyIncident[key] = p.IncidentID
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
			leasedByA = countLeases(t, dsn, "a")
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
	rawDups := 0
	for key, c := range seen {
		if c > 1 {
			rawDups += c - 1
			t.Logf("key %s arrived %d times (its request was in flight when A died)", key, c)
		}
	}
	keysPerIncident := map[string]int{}
	for _, inc := range keyIncident {
		keysPerIncident[inc]++
	}
	mu.Unlock()
	// After de-duplication by key: zero lost, zero duplicated.
	for _, id := range ids {
		if k := keysPerIncident[id]; k != 1 {
			t.Errorf("incident %s reached the peer under %d distinct keys, want exactly 1", id, k)
		}
	}
	if len(keysPerIncident) != n {
		t.Errorf("the peer got alerts for %d incidents, want %d", len(keysPerIncident), n)
	}
	// Raw repeats: only deliveries A had leased and not yet recorded when
	// it died (sent, or being sent, but unknown to the database), and
	// always with their key.
	t.Logf("raw duplicates: %d (A held %d leases at the kill; %d requests in flight at the peer)", rawDups, leasedByA, maxInflightAtKill)
	if rawDups > leasedByA {
		t.Fatalf("%d raw duplicates, but A held only %d leases when it died", rawDups, leasedByA)
	}
}

// countLeases counts the deliveries owner holds a lease on.
func countLeases(t *testing.T, dsn, owner string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM deliveries WHERE state = 'sending' AND lease_owner = $1", owner).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func execUser(t *testing.T, dsn, name string) (string, error) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"user", "add", "--db", dsn, name}, &out, &errb); code != 0 {
		return "", fmt.Errorf("user add: %s", errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1], nil
}

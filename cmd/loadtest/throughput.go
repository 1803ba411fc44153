package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/store"
	"github.com/empowerher/empowerher/internal/store/postgres"
)

// Mode throughput (docs/benchmarks.md, "Deployment: PostgreSQL and several
// instances"): alert delivery throughput, alerts/s from the first POST
// /alert to the webhook receiver getting the last incident's delivery,
// with the same total load (--alerts alerts from --concurrency clients in
// this process) spread over K `serve` instances on one PostgreSQL. Every
// run gets a fresh database. The receiver can answer after --peer-delay,
// as a real provider does, which is what makes the worker's concurrency,
// not the CPU, the limit of one instance.

type throughputConfig struct {
	bin, dsn          string
	instances         []int
	alerts, conc      int
	workerConcurrency int
	peerDelay         time.Duration
	// poolMaxConns, when > 0, is each instance's pgxpool pool_max_conns
	// (pgx's default is max(4, CPUs): 4 on a 2-core machine).
	poolMaxConns int
}

func parseInstances(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 8 {
			check(fmt.Errorf("--instances %q: want a list such as 1,2", s))
		}
		out = append(out, n)
	}
	return out
}

func runThroughput(c throughputConfig) {
	if c.dsn == "" {
		check(fmt.Errorf("mode throughput needs --db postgres://… (a database the runs create fresh databases next to)"))
	}
	for _, k := range c.instances {
		alertsPerSecond(c, k)
	}
}

// freshDatabase creates an empty database next to dsn's and returns its
// DSN and a function that drops it.
func freshDatabase(dsn string) (string, func()) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	check(err)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "empowerher_load_" + hex.EncodeToString(b)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	check(err)
	u, err := url.Parse(dsn)
	check(err)
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(ctx)
	}
}

// seedUsers creates n users with one webhook contact each, straight in the
// store (what `empowerher user add` and POST /contacts write), and returns
// their API tokens. Each alert needs its own user: a second alert of one
// user joins her open incident instead of alerting again.
func seedUsers(dsn string, n int, webhook string) []string {
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn)
	check(err)
	defer st.Close()
	tokens := make([]string, n)
	for i := range tokens {
		u := &store.User{Name: fmt.Sprintf("load%05d", i), DisplayName: fmt.Sprintf("Load %d", i)}
		check(st.CreateUser(ctx, u, nil))
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		tokens[i] = base64.RawURLEncoding.EncodeToString(b)
		check(st.AddToken(ctx, u.ID, incident.HashToken(tokens[i]), "loadtest"))
		check(st.CreateContact(ctx, &store.Contact{UserID: u.ID, Name: "Peer", WebhookURL: webhook, Channels: []string{store.ChannelWebhook}}))
	}
	return tokens
}

func alertsPerSecond(c throughputConfig, k int) {
	dsn, drop := freshDatabase(c.dsn)
	defer drop()
	serveDSN := dsn
	if c.poolMaxConns > 0 {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		serveDSN += sep + "pool_max_conns=" + strconv.Itoa(c.poolMaxConns)
	}
	rcv := newReceiver(c.peerDelay)
	defer rcv.srv.Close()
	// The schema is created by the first instance; users are seeded after.
	os.Setenv("EMPOWERHER_LINK_SECRET", "loadtest-link-secret-shared-by-every-instance-0123")
	servers := make([]*server, k)
	for i := range servers {
		data, err := os.MkdirTemp("", "empowerher-load")
		check(err)
		defer os.RemoveAll(data)
		servers[i] = start(c.bin, "--db", serveDSN, "--data", data, "--instance-id", fmt.Sprintf("load-%d", i),
			"--worker-concurrency", strconv.Itoa(c.workerConcurrency))
		defer servers[i].stop()
	}
	tokens := seedUsers(dsn, c.alerts, rcv.srv.URL)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.conc}}
	work := make(chan int)
	cpu0 := make([]time.Duration, k)
	for i, s := range servers {
		cpu0[i] = s.cpu()
	}
	begin := time.Now()
	var wg sync.WaitGroup
	for range c.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				s := servers[i%k]
				req, _ := http.NewRequest("POST", s.url+"/alert", strings.NewReader(`{"trigger":"manual"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tokens[i])
				resp, err := client.Do(req)
				check(err)
				var ar struct{ Incident struct{ ID string } }
				_ = json.NewDecoder(resp.Body).Decode(&ar)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					check(fmt.Errorf("alert: status %d", resp.StatusCode))
				}
			}
		}()
	}
	for i := range tokens {
		work <- i
	}
	close(work)
	wg.Wait()
	accepted := time.Since(begin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for got := 0; got < c.alerts; got++ {
		select {
		case <-rcv.all:
		case <-ctx.Done():
			check(fmt.Errorf("only %d of %d alerts reached the receiver", got, c.alerts))
		}
	}
	el := time.Since(begin)
	var cpu time.Duration
	for i, s := range servers {
		cpu += s.cpu() - cpu0[i]
	}
	rcv.mu.Lock()
	dups := rcv.dups
	rcv.mu.Unlock()
	pool := "default"
	if c.poolMaxConns > 0 {
		pool = strconv.Itoa(c.poolMaxConns)
	}
	fmt.Printf("throughput, %d instance(s), %d alerts, %d clients, worker concurrency %d, pool_max_conns %s, peer delay %v: %.1f alerts/s delivered (all accepted after %.2fs, all delivered after %.2fs); serve CPU %.2f s = %.2f ms per alert; repeated deliveries %d; %s\n",
		k, c.alerts, c.conc, c.workerConcurrency, pool, c.peerDelay, float64(c.alerts)/el.Seconds(), accepted.Seconds(), el.Seconds(),
		cpu.Seconds(), ms(cpu)/float64(c.alerts), dups, loadavg())
}

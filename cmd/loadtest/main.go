// Command loadtest drives a real `empowerher serve` process over loopback
// and reports what docs/benchmarks.md ("Service") records:
//
//   - predict: /predict throughput and latency percentiles with a 4 s WAV;
//   - alert:   POST /alert (manual) → first provider request latency with
//     N incidents at once (N users, one webhook contact each, a local
//     webhook receiver timing the first request of every incident);
//   - idle:    resident memory of the idle server;
//   - throughput: alert delivery throughput with 1 vs several instances on
//     one PostgreSQL (throughput.go; not part of "all").
//
// It starts the server itself (--bin), so the load comes from another
// process than the one measured.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/empowerher/empowerher/internal/audio"
)

const webhookSecret = "loadtest-webhook-secret-0123456789"

func main() {
	bin := flag.String("bin", "", "path to the empowerher binary (required)")
	mode := flag.String("mode", "all", "predict, alert, idle, all, or throughput")
	db := flag.String("db", "", "throughput: PostgreSQL `DSN`; each run creates (and drops) a fresh database next to it")
	instances := flag.String("instances", "1,2", "throughput: instance counts to measure, one run each")
	alerts := flag.Int("alerts", 1000, "throughput: alerts per run (one user each)")
	workerConc := flag.Int("worker-concurrency", 16, "throughput: serve --worker-concurrency of each instance")
	poolMax := flag.Int("pool-max-conns", 0, "throughput: each instance's PostgreSQL pool size (0: pgx's default, max(4, CPUs))")
	peerDelay := flag.Duration("peer-delay", 0, "throughput: the webhook receiver answers after this (a provider's latency)")
	conc := flag.Int("concurrency", 8, "predict: requests in flight")
	dur := flag.Duration("duration", 10*time.Second, "predict: how long to send")
	incidents := flag.Int("incidents", 100, "alert: incidents at once")
	rounds := flag.Int("rounds", 1, "alert: how many times to fire --incidents alerts at once (new users each round, 1 s apart)")
	wavPath := flag.String("wav", "", "predict: clip to send (default: a synthetic 4 s voice-like WAV)")
	model := flag.String("model", "", "passed to serve --model")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "loadtest: --bin is required (go build -o /tmp/empowerher ./cmd/empowerher)")
		os.Exit(2)
	}
	if *mode == "throughput" {
		runThroughput(throughputConfig{bin: *bin, dsn: *db, instances: parseInstances(*instances), alerts: *alerts,
			conc: *conc, workerConcurrency: *workerConc, peerDelay: *peerDelay, poolMaxConns: *poolMax})
		return
	}
	data, err := os.MkdirTemp("", "empowerher-load")
	check(err)
	defer os.RemoveAll(data)

	rcv := newReceiver(0)
	defer rcv.srv.Close()
	args := []string{"--data", data, "--predict-rate", "0"}
	if *model != "" {
		args = append(args, "--model", *model)
	}
	s := start(*bin, args...)
	defer s.stop()

	if *mode == "idle" || *mode == "all" {
		time.Sleep(3 * time.Second)
		fmt.Printf("idle RSS: %.1f MB\n", float64(s.rss())/1e6)
	}
	if *mode == "predict" || *mode == "all" {
		clip := synthWAV()
		if *wavPath != "" {
			clip, err = os.ReadFile(*wavPath)
			check(err)
		}
		runPredict(s, clip, *conc, *dur)
		fmt.Printf("RSS after predict load: %.1f MB\n", float64(s.rss())/1e6)
	}
	if *mode == "alert" || *mode == "all" {
		runAlerts(*bin, data, s, rcv, *incidents, max(*rounds, 1))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type server struct {
	cmd *exec.Cmd
	url string
}

func start(bin string, args ...string) *server {
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "EMPOWERHER_WEBHOOK_ENABLED=true", "EMPOWERHER_WEBHOOK_SECRET="+webhookSecret,
		"EMPOWERHER_WEBHOOK_ALLOW_PRIVATE=true")
	stderr, err := cmd.StderrPipe()
	check(err)
	check(cmd.Start())
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m struct{ Msg, Addr, Level string }
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				if m.Msg == "listening" {
					addr <- m.Addr
				} else if m.Level == "ERROR" {
					fmt.Fprintln(os.Stderr, "serve:", sc.Text())
				}
			}
		}
	}()
	select {
	case a := <-addr:
		return &server{cmd: cmd, url: "http://" + a}
	case <-time.After(30 * time.Second):
		check(fmt.Errorf("serve did not start"))
	}
	return nil
}

func (s *server) stop() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() }

// cpu is the server's user+system CPU time so far, from /proc (Linux).
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.cmd.Process.Pid), "stat"))
	check(err)
	// Fields after the parenthesised command name; utime and stime are
	// the 14th and 15th fields of the whole line, in clock ticks (100/s).
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// rss is the server's resident set size from /proc (Linux).
func (s *server) rss() int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.cmd.Process.Pid), "status"))
	check(err)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return -1
}

func synthWAV() []byte {
	s := make([]float32, 4*audio.SampleRate)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range s {
		x := float64(i) / audio.SampleRate
		v := 0.0
		for h := 1; h <= 5; h++ {
			v += math.Sin(2*math.Pi*220*float64(h)*x) / float64(h)
		}
		s[i] = float32(0.2*v + 0.01*rng.NormFloat64())
	}
	var b bytes.Buffer
	check(audio.EncodeWAV16(&b, s, audio.SampleRate))
	return b.Bytes()
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(math.Ceil(p/100*float64(len(d)))) - 1
	return d[max(i, 0)]
}

func runPredict(s *server, clip []byte, conc int, dur time.Duration) {
	url := s.url
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	// Warm up (first requests pay for pools and page faults).
	for i := 0; i < 3; i++ {
		resp, err := client.Post(url+"/predict", "audio/wav", bytes.NewReader(clip))
		check(err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			check(fmt.Errorf("predict: %d %s", resp.StatusCode, b))
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	cpu0 := s.cpu()
	deadline := time.Now().Add(dur)
	begin := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t0 := time.Now()
				resp, err := client.Post(url+"/predict", "audio/wav", bytes.NewReader(clip))
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				mu.Lock()
				if ok {
					lat = append(lat, d)
				} else {
					errs++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(begin)
	cpu := s.cpu() - cpu0
	fmt.Printf("predict: %d requests in %.1fs, concurrency %d: %.1f req/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms, errors %d\n",
		len(lat), el.Seconds(), conc, float64(len(lat))/el.Seconds(),
		ms(pct(lat, 50)), ms(pct(lat, 99)), ms(pct(lat, 100)), errs)
	fmt.Printf("predict: server CPU %.2f s = %.1f ms per request, %.2f cores busy; %s\n",
		cpu.Seconds(), ms(cpu)/float64(max(len(lat), 1)), cpu.Seconds()/el.Seconds(), loadavg())
}

// loadavg is the machine's load average, for the record of how busy it was.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	return "load average " + strings.Join(f[:3], " ")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// receiver times the first webhook request of every incident.
type receiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	first map[string]time.Time
	all   chan string
	dups  int // requests for an incident already received
}

// newReceiver answers each request after delay (a provider's latency).
func newReceiver(delay time.Duration) *receiver {
	r := &receiver{first: map[string]time.Time{}, all: make(chan string, 100000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		at := time.Now() // the moment the provider request arrives
		var p struct {
			IncidentID string `json:"incident_id"`
		}
		_ = json.NewDecoder(req.Body).Decode(&p)
		r.mu.Lock()
		if _, ok := r.first[p.IncidentID]; !ok {
			r.first[p.IncidentID] = at
			r.all <- p.IncidentID
		} else {
			r.dups++
		}
		r.mu.Unlock()
		if delay > 0 {
			time.Sleep(delay)
		}
	}))
	return r
}

func runAlerts(bin, data string, s *server, rcv *receiver, n, rounds int) {
	url := s.url
	accts := make([]string, n*rounds) // API tokens
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range accts {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out, err := exec.Command(bin, "user", "add", "--data", data, fmt.Sprintf("load%04d", i)).Output()
			check(err)
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			accts[i] = lines[len(lines)-1]
		}(i)
	}
	wg.Wait()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	call := func(path, token string, body any) (int, []byte) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", url+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		check(err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	for _, tok := range accts {
		if code, out := call("/contacts", tok, map[string]any{"name": "Peer", "webhook_url": rcv.srv.URL}); code != 201 {
			check(fmt.Errorf("contact: %d %s", code, out))
		}
	}
	var allLat, allAnswered []time.Duration
	for r := range rounds {
		if r > 0 {
			time.Sleep(time.Second) // let the previous round's completions settle
		}
		lat, answered := alertRound(call, rcv, s, accts[r*n:(r+1)*n])
		allLat, allAnswered = append(allLat, lat...), append(allAnswered, answered...)
	}
	if rounds > 1 {
		fmt.Printf("alert, all %d rounds (%d incidents): → first provider request p50 %.1f ms, p99 %.1f ms, max %.1f ms; → HTTP answer p99 %.1f ms\n",
			rounds, len(allLat), ms(pct(allLat, 50)), ms(pct(allLat, 99)), ms(pct(allLat, 100)), ms(pct(allAnswered, 99)))
	}
}

// alertRound fires one manual POST /alert per token at once, waits until
// every incident reached the webhook receiver, prints the round's figures
// and returns each incident's latency to its first provider request and
// to its HTTP answer.
func alertRound(call func(path, token string, body any) (int, []byte), rcv *receiver, s *server, tokens []string) ([]time.Duration, []time.Duration) {
	n := len(tokens)
	sent := make([]time.Time, n)
	answered := make([]time.Duration, n)
	ids := make([]string, n)
	start := make(chan struct{})
	cpu0 := s.cpu()
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			sent[i] = time.Now()
			code, out := call("/alert", tok, map[string]any{"trigger": "manual", "location": map[string]any{"lat": 51.5, "lon": -0.12}})
			answered[i] = time.Since(sent[i])
			if code != 201 {
				check(fmt.Errorf("alert: %d %s", code, out))
			}
			var ar struct{ Incident struct{ ID string } }
			_ = json.Unmarshal(out, &ar)
			ids[i] = ar.Incident.ID
		}()
	}
	close(start)
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for got := 0; got < n; got++ {
		select {
		case <-rcv.all:
		case <-ctx.Done():
			check(fmt.Errorf("only %d of %d incidents reached the provider", got, n))
		}
	}
	cpu := s.cpu() - cpu0
	var lat, queued []time.Duration
	rcv.mu.Lock()
	for i, id := range ids {
		lat = append(lat, rcv.first[id].Sub(sent[i]))
		queued = append(queued, rcv.first[id].Sub(sent[i].Add(answered[i])))
	}
	rcv.mu.Unlock()
	fmt.Printf("alert → first provider request, %d incidents at once: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		n, ms(pct(lat, 50)), ms(pct(lat, 99)), ms(pct(lat, 100)))
	fmt.Printf("alert → HTTP answer (201), same run: p50 %.1f ms, p99 %.1f ms\n", ms(pct(answered, 50)), ms(pct(answered, 99)))
	fmt.Printf("alert: HTTP answer → first provider request: p50 %.1f ms, p99 %.1f ms (negative: sent before the answer)\n",
		ms(pct(queued, 50)), ms(pct(queued, 99)))
	fmt.Printf("alert: server CPU %.2f s = %.2f ms per alert (request, queue, delivery); %s\n", cpu.Seconds(), ms(cpu)/float64(n), loadavg())
	return lat, answered
}

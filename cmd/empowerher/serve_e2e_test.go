package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/notify"
)

const e2eWebhookSecret = "e2e-webhook-secret-0123456789abcdef"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// serveBinary builds the empowerher command once per test run.
func serveBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "empowerher-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "empowerher")
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running `empowerher serve`.
type proc struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func startServe(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(serveBinary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "EMPOWERHER_WEBHOOK_ENABLED=true", "EMPOWERHER_WEBHOOK_SECRET="+e2eWebhookSecret,
		"EMPOWERHER_WEBHOOK_ALLOW_PRIVATE=true")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			var m struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &m) == nil && m.Msg == "listening" {
				addr <- m.Addr
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("serve log:\n%s", p.logText())
		}
	})
	select {
	case p.addr = <-addr:
	case <-p.done:
		t.Fatalf("serve exited at start:\n%s", p.logText())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start:\n%s", p.logText())
	}
	return p
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

func (p *proc) call(t *testing.T, method, path, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+p.addr+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func addUser(t *testing.T, data, name string) string {
	t.Helper()
	out, err := exec.Command(serveBinary(t), "user", "add", "--data", data, name, "--display-name", "Asha").Output()
	if err != nil {
		t.Fatalf("user add: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	tok := lines[len(lines)-1]
	if len(tok) < 43 || strings.ContainsAny(tok, " :") {
		t.Fatalf("last line is not a token: %q", tok)
	}
	return tok
}

// TestAlertSurvivesSIGKILL: an accepted alert is sent after the process
// is killed, twice — once before any attempt, once in the middle of the
// provider call — and the receiving peer completes it exactly once.
func TestAlertSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	data := t.TempDir()
	tok := addUser(t, data, "asha")

	var mu sync.Mutex
	completed := map[string]int{} // Idempotency-Key → completed deliveries
	requests := 0
	firstArrived := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !notify.VerifyWebhook(e2eWebhookSecret, r.Header.Get(notify.HeaderWebhookTimestamp), body, r.Header.Get(notify.HeaderWebhookSignature)) {
			t.Errorf("bad webhook signature")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		key := r.Header.Get(notify.HeaderIdempotencyKey)
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		if n == 1 {
			// Hang until the sender dies: the message is never completed.
			close(firstArrived)
			<-r.Context().Done()
			return
		}
		mu.Lock()
		completed[key]++
		mu.Unlock()
	}))
	defer rcv.Close()

	common := []string{"--data", data, "--delivery-lease", "3s", "--delivery-poll", "100ms"}

	// 1. Accepted with no worker running, then SIGKILL.
	p1 := startServe(t, append(common, "--worker=false")...)
	var c struct{ ID int64 }
	if code := p1.call(t, "POST", "/contacts", tok, map[string]any{"name": "Bob", "webhook_url": rcv.URL + "/hook"}, &c); code != 201 {
		t.Fatalf("contact: %d", code)
	}
	var ar struct {
		Incident struct{ ID, State string }
	}
	if code := p1.call(t, "POST", "/alert", tok, map[string]any{"trigger": "manual", "location": map[string]any{"lat": 1.5, "lon": 2.5}}, &ar); code != 201 || ar.Incident.State != "active" {
		t.Fatalf("alert: %d %+v", code, ar)
	}
	p1.kill(t)

	// 2. Restart with the worker: the job is picked up; SIGKILL while the
	// provider is holding the request.
	p2 := startServe(t, common...)
	select {
	case <-firstArrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the queued alert was not attempted after restart")
	}
	p2.kill(t)

	// 3. Restart again: once the dead worker's lease expires, the alert is
	// sent again with the same idempotency key and completes.
	p3 := startServe(t, common...)
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(completed)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the alert was never completed after the second restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show up
	mu.Lock()
	if len(completed) != 1 || requests != 2 {
		t.Fatalf("completed %v after %d requests, want one key once after 2", completed, requests)
	}
	for key, n := range completed {
		if n != 1 || !strings.HasPrefix(key, ar.Incident.ID+"/alert/") {
			t.Fatalf("key %q completed %d times", key, n)
		}
	}
	mu.Unlock()
	var inc struct {
		Deliveries []struct {
			State    string
			Attempts int
		}
	}
	p3.call(t, "GET", "/incidents/"+ar.Incident.ID, tok, nil, &inc)
	if len(inc.Deliveries) != 1 || inc.Deliveries[0].State != "sent" || inc.Deliveries[0].Attempts != 2 {
		t.Fatalf("deliveries %+v", inc.Deliveries)
	}
	// Graceful stop on SIGTERM.
	_ = p3.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p3.done:
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if code := p3.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(p3.logText(), `"msg":"stopped"`) {
		t.Fatalf("exit %d after SIGTERM", code)
	}
}

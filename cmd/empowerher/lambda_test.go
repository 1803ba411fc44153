package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/empowerher/empowerher/internal/evidence"
	lambdaapp "github.com/empowerher/empowerher/internal/lambda"
	"github.com/empowerher/empowerher/internal/notify"
)

func TestServeOnLambdaRefusesSQLite(t *testing.T) {
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "empowerher")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"serve", "--data", t.TempDir()}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "--db (EMPOWERHER_DB) must be postgres://") ||
		!strings.Contains(errb.String(), "--base-url") || !strings.Contains(errb.String(), "EMPOWERHER_LINK_SECRET") {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
}

// v2Event is an API Gateway HTTP API v2 request as the adapter gets it.
func v2Event(method, path, token string, body any) json.RawMessage {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path,
		Headers: map[string]string{"content-type": "application/json", "host": "abc123.execute-api.eu-west-1.amazonaws.com"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "abc123.execute-api.eu-west-1.amazonaws.com", Stage: "$default", RequestID: "req-1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "203.0.113.9"},
		},
	}
	if token != "" {
		ev.Headers["authorization"] = "Bearer " + token
	}
	if body != nil {
		b, _ := json.Marshal(body)
		ev.Body = string(b)
	}
	raw, _ := json.Marshal(ev)
	return raw
}

// TestLambdaServesTheServeHandler dispatches API Gateway v2 events and an
// EventBridge schedule through the handler built the way `serve` builds
// it on Lambda, against PostgreSQL and a real webhook peer: a manual SOS
// reaches the peer before the invocation returns, and the schedule sends
// a voice incident whose countdown ended.
func TestLambdaServesTheServeHandler(t *testing.T) {
	dsn := freshPostgres(t)
	tok, err := execUser(t, dsn, "asha")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []notify.WebhookPayload
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !notify.VerifyWebhook(e2eWebhookSecret, r.Header.Get(notify.HeaderWebhookTimestamp), body, r.Header.Get(notify.HeaderWebhookSignature)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p notify.WebhookPayload
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	defer rcv.Close()
	received := func() []notify.WebhookPayload {
		mu.Lock()
		defer mu.Unlock()
		return append([]notify.WebhookPayload(nil), got...)
	}

	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "empowerher")
	t.Setenv("EMPOWERHER_LINK_SECRET", "lambda-link-secret-for-every-instance-0123456789")
	t.Setenv("EMPOWERHER_WEBHOOK_ENABLED", "true")
	t.Setenv("EMPOWERHER_WEBHOOK_SECRET", e2eWebhookSecret)
	t.Setenv("EMPOWERHER_WEBHOOK_ALLOW_PRIVATE", "true")
	t.Setenv(evidence.KeyEnv, "")
	c, err := parseServe([]string{"--db", dsn, "--base-url", "https://abc123.execute-api.eu-west-1.amazonaws.com",
		"--cancel-window", "1s"}, io.Discard)
	if err != nil || c == nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a, h, err := lambdaApp(context.Background(), c, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	dispatch := lambdaapp.Dispatcher(h, a.tickAndDrain) // what StartWithSchedule runs
	invoke := func(raw json.RawMessage) events.APIGatewayV2HTTPResponse {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := dispatch(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		resp, ok := out.(events.APIGatewayV2HTTPResponse)
		if !ok {
			t.Fatalf("answer %T", out)
		}
		return resp
	}

	if r := invoke(v2Event("GET", "/readyz", "", nil)); r.StatusCode != 200 {
		t.Fatalf("readyz: %d %s", r.StatusCode, r.Body)
	}
	if r := invoke(v2Event("POST", "/alert", "", map[string]any{"trigger": "manual"})); r.StatusCode != 401 {
		t.Fatalf("alert without a token: %d", r.StatusCode)
	}
	if r := invoke(v2Event("POST", "/contacts", tok, map[string]any{"name": "Peer", "webhook_url": rcv.URL})); r.StatusCode != 201 {
		t.Fatalf("contact: %d %s", r.StatusCode, r.Body)
	}
	r := invoke(v2Event("POST", "/alert", tok, map[string]any{"trigger": "manual", "message": "help"}))
	if r.StatusCode != 201 {
		t.Fatalf("alert: %d %s", r.StatusCode, r.Body)
	}
	// Delivered before the invocation returned: nothing runs after it.
	if p := received(); len(p) != 1 || p[0].Purpose != "alert" ||
		!strings.HasPrefix(p[0].URL, "https://abc123.execute-api.eu-west-1.amazonaws.com/r/") {
		t.Fatalf("after the alert invocation the peer has %+v", p)
	}
	var ar struct{ Incident struct{ ID string } }
	_ = json.Unmarshal([]byte(r.Body), &ar)
	if r := invoke(v2Event("POST", "/incidents/"+ar.Incident.ID+"/resolve", tok, nil)); r.StatusCode != 200 {
		t.Fatalf("resolve: %d %s", r.StatusCode, r.Body)
	}
	if p := received(); len(p) != 2 || p[1].Purpose != "resolved" {
		t.Fatalf("after resolve the peer has %d messages", len(p))
	}

	// A voice alert waits its countdown; only the schedule can send it.
	if r := invoke(v2Event("POST", "/alert", tok, map[string]any{"trigger": "voice", "score": 0.9})); r.StatusCode != 201 {
		t.Fatalf("voice alert: %d %s", r.StatusCode, r.Body)
	}
	if p := received(); len(p) != 2 {
		t.Fatalf("a pending incident was sent before its countdown: %d messages", len(p))
	}
	time.Sleep(1100 * time.Millisecond)
	sched, err := os.ReadFile("../../internal/lambda/testdata/scheduled_event.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := dispatch(context.Background(), sched)
	if err != nil {
		t.Fatalf("scheduled event: %v", err)
	}
	if m, _ := out.(map[string]string); m["status"] != "ok" {
		t.Fatalf("scheduled event answered %v", out)
	}
	if p := received(); len(p) != 3 || p[2].Purpose != "alert" {
		t.Fatalf("after the schedule the peer has %d messages", len(p))
	}
}

package lambdaapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// testMux stands in for the server's handler: plain net/http routes that
// report what they received, so the test sees exactly what a handler
// running on Lambda gets.
func testMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"status": "ok", "verbose": r.URL.Query().Get("verbose"), "x": r.URL.Query().Get("x"), "host": r.Host,
		})
	})
	mux.HandleFunc("POST /predict", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		host, port, err := net.SplitHostPort(r.RemoteAddr)
		sum := sha256.Sum256(body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"bytes": len(body), "sha256": hex.EncodeToString(sum[:]), "ctype": r.Header.Get("Content-Type"),
			"ip": host, "port": port, "split_ok": err == nil,
		})
	})
	mux.HandleFunc("POST /alert", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.Error(w, `{"code":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		var in struct {
			Message string `json:"message"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, `{"code":"bad_json"}`, http.StatusBadRequest)
			return
		}
		c, _ := r.Cookie("session")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]string{
			"message": in.Message, "auth": r.Header.Get("Authorization"), "session": c.Value,
		})
	})
	mux.HandleFunc("GET /clip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(binaryBody())
	})
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) {})
	return mux
}

func binaryBody() []byte {
	b := make([]byte, 512)
	for i := range b {
		b[i] = byte(255 - i%256) // 0xFF.. is never valid UTF-8
	}
	return b
}

func loadEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func invoke(t *testing.T, name string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := Handler(testMux())(context.Background(), loadEvent(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return resp
}

func decodeJSON(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	body := resp.Body
	if resp.IsBase64Encoded {
		b, _ := base64.StdEncoding.DecodeString(body)
		body = string(b)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return m
}

func TestGetWithQuery(t *testing.T) {
	resp := invoke(t, "get_healthz.json")
	m := decodeJSON(t, resp)
	if resp.StatusCode != 200 || m["status"] != "ok" || m["verbose"] != "1" || m["x"] != "a b" {
		t.Fatalf("resp %d %v", resp.StatusCode, m)
	}
	if m["host"] != "abc123.execute-api.eu-west-1.amazonaws.com" {
		t.Fatalf("host %v", m["host"])
	}
	if resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("headers %v", resp.Headers)
	}
}

func TestBinaryUploadAndRemoteAddr(t *testing.T) {
	ev := loadEvent(t, "post_predict_base64.json")
	want, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(want)
	resp := invoke(t, "post_predict_base64.json")
	m := decodeJSON(t, resp)
	if m["bytes"] != float64(len(want)) || m["sha256"] != hex.EncodeToString(sum[:]) || m["ctype"] != "audio/wav" {
		t.Fatalf("upload arrived changed: %v", m)
	}
	// A rate limiter's net.SplitHostPort must work as under net/http.
	if m["ip"] != "203.0.113.9" || m["split_ok"] != true {
		t.Fatalf("remote addr: %v", m)
	}
}

func TestJSONPostHeadersAndCookies(t *testing.T) {
	resp := invoke(t, "post_alert_json.json")
	m := decodeJSON(t, resp)
	if resp.StatusCode != http.StatusCreated || m["message"] != "help, now" || m["session"] != "s1" {
		t.Fatalf("resp %d %v", resp.StatusCode, m)
	}
	if m["auth"] != "Bearer tok_123, not split" {
		t.Fatalf("Authorization changed on the way: %q", m["auth"])
	}
	if strings.Join(resp.Cookies, ";") != "a=1;b=2" {
		t.Fatalf("Set-Cookie must travel in cookies[]: %q, headers %v", resp.Cookies, resp.Headers)
	}
}

func TestBinaryResponseIsBase64(t *testing.T) {
	resp := invoke(t, "get_clip_binary.json")
	if !resp.IsBase64Encoded {
		t.Fatal("binary body not base64-encoded for API Gateway")
	}
	got, err := base64.StdEncoding.DecodeString(resp.Body)
	if err != nil || !bytes.Equal(got, binaryBody()) {
		t.Fatalf("binary body changed: %v", err)
	}
}

func TestStatusesAsNetHTTP(t *testing.T) {
	for name, want := range map[string]int{
		"get_empty.json":      200, // implicit 200, not the adapter's "status code not set"
		"get_missing.json":    404,
		"delete_healthz.json": 405,
	} {
		if resp := invoke(t, name); resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, want)
		}
	}
}

func TestRunning(t *testing.T) {
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "")
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	if Running() {
		t.Fatal("Running with no Lambda environment")
	}
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "empowerher")
	if !Running() {
		t.Fatal("not Running with AWS_LAMBDA_FUNCTION_NAME")
	}
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "")
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
	if !Running() {
		t.Fatal("not Running with AWS_LAMBDA_RUNTIME_API")
	}
}

// TestStartAgainstRuntimeAPI runs Start in a child process against a
// local server speaking the Lambda Runtime API (the protocol the real
// runtime serves at AWS_LAMBDA_RUNTIME_API): it hands out one API Gateway
// event and checks the response the function posts back.
func TestStartAgainstRuntimeAPI(t *testing.T) {
	switch os.Getenv("LAMBDAAPP_CHILD") {
	case "start":
		Start(testMux())
		return
	case "dispatch":
		StartWithSchedule(testMux(), func(context.Context) error { return nil })
		return
	}
	for _, mode := range []string{"start", "dispatch"} {
		t.Run(mode, func(t *testing.T) { runAgainstRuntimeAPI(t, mode) })
	}
}

func runAgainstRuntimeAPI(t *testing.T, mode string) {
	event, err := os.ReadFile(filepath.Join("testdata", "post_predict_base64.json"))
	if err != nil {
		t.Fatal(err)
	}
	const reqID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
	posted := make(chan []byte, 1)
	var served atomic.Bool
	done := make(chan struct{})
	rt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "GET" && r.URL.Path == "/2018-06-01/runtime/invocation/next":
			if served.Swap(true) {
				<-done // the second poll waits until the test kills the child
				return
			}
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", reqID)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmtMillis(time.Now().Add(30*time.Second)))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:empowerher")
			w.Write(event)
		case r.Method == "POST" && r.URL.Path == "/2018-06-01/runtime/invocation/"+reqID+"/response":
			b, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusAccepted)
			posted <- b
		default:
			t.Errorf("unexpected runtime API call %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer rt.Close()
	defer close(done)

	cmd := exec.Command(os.Args[0], "-test.run=^TestStartAgainstRuntimeAPI$")
	cmd.Env = append(os.Environ(), "LAMBDAAPP_CHILD="+mode,
		"AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(rt.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=empowerher")
	var childOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &childOut, &childOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	select {
	case b := <-posted:
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatalf("response %q: %v", b, err)
		}
		m := decodeJSON(t, resp)
		if resp.StatusCode != 200 || m["bytes"] != float64(1036) || m["ip"] != "203.0.113.9" {
			t.Fatalf("response %d %v", resp.StatusCode, m)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no response from the function; child output:\n%s", childOut.String())
	}
}

func fmtMillis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func TestDispatcher(t *testing.T) {
	runs := 0
	d := Dispatcher(testMux(), func(ctx context.Context) error {
		runs++
		return nil
	})
	raw := func(name string) json.RawMessage {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	out, err := d(context.Background(), raw("get_healthz.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, ok := out.(events.APIGatewayV2HTTPResponse); !ok || resp.StatusCode != 200 || !strings.Contains(resp.Body, `"ok"`) {
		t.Fatalf("HTTP event: %#v", out)
	}
	if _, err := d(context.Background(), raw("scheduled_event.json")); err != nil || runs != 1 {
		t.Fatalf("scheduled event: runs %d, err %v", runs, err)
	}
	if runs != 1 {
		t.Fatal("HTTP event triggered the scheduled job")
	}
	if _, err := d(context.Background(), raw("s3_put_event.json")); err == nil || !strings.Contains(err.Error(), "unsupported event") {
		t.Fatalf("S3 event: %v", err)
	}
	if _, err := d(context.Background(), json.RawMessage(`[1,2]`)); err == nil {
		t.Fatal("non-object event accepted")
	}
	// Without a schedule handler a scheduled event is an error, not a no-op.
	if _, err := Dispatcher(testMux(), nil)(context.Background(), raw("scheduled_event.json")); err == nil {
		t.Fatal("scheduled event accepted with no handler")
	}
	failing := Dispatcher(testMux(), func(context.Context) error { return io.ErrUnexpectedEOF })
	if _, err := failing(context.Background(), raw("scheduled_event.json")); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("scheduled failure not reported: %v", err)
	}
}

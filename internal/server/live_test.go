package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/empowerher/empowerher/internal/incident"
)

func liveOpts(o LiveOptions) envOption {
	return func(opt *Options, _ *incident.Config, _ *incident.WorkerConfig) { opt.Web.Live = o }
}

func (e *env) dialLive(ctx context.Context, token string, hdr ...string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.ts.URL, "http")+"/live", &websocket.DialOptions{HTTPHeader: h})
}

func readMsg(t *testing.T, ctx context.Context, c *websocket.Conn) map[string]any {
	t.Helper()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return m
}

// pcm is 16-bit PCM of the test tone (the WAV's data chunk).
func pcm(t *testing.T, seconds float64) []byte {
	return wav(t, seconds, false)[44:]
}

func TestLiveStreamSendsOneUpdatePerHop(t *testing.T) {
	e := newEnv(t, withDetector(t))
	_, tok := e.user("asha")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := e.dialLive(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	ready := readMsg(t, ctx, c)
	if ready["type"] != "ready" || ready["sample_rate"] != 16000.0 || ready["cancel_window_s"] != 10.0 || ready["incident"] != nil {
		t.Fatalf("ready: %v", ready)
	}
	audio := pcm(t, 2)
	for off := 0; off < len(audio); off += 3200 { // 100 ms frames
		if err := c.Write(ctx, websocket.MessageBinary, audio[off:min(off+3200, len(audio))]); err != nil {
			t.Fatal(err)
		}
	}
	last := 0.0
	for i := 0; i < 4; i++ { // hops end at 0.5, 1.0, 1.5, 2.0 s
		m := readMsg(t, ctx, c)
		if m["type"] != "update" || m["t"].(float64) <= last || m["level"].(float64) > 0 || m["level"].(float64) < -60 {
			t.Fatalf("update %d: %v", i, m)
		}
		last = m["t"].(float64)
	}
	if last != 2 {
		t.Fatalf("fourth hop at %v s", last)
	}
	// Text messages: a location is accepted silently, a bad one answered.
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"location","lat":51.5,"lon":-0.12,"accuracy":10}`))
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"location","lat":123,"lon":0}`))
	if m := readMsg(t, ctx, c); m["type"] != "error" || m["code"] != CodeInvalidField {
		t.Fatalf("bad location answered %v", m)
	}
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`))
	if m := readMsg(t, ctx, c); m["type"] != "pong" {
		t.Fatalf("ping answered %v", m)
	}
}

func TestLiveStreamBounds(t *testing.T) {
	e := newEnv(t, withDetector(t), liveOpts(LiveOptions{MaxStreamsPerUser: 2, IdleTimeout: 400 * time.Millisecond, MaxFrameBytes: 4000}))
	_, tok := e.user("asha")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// No credentials, or another site's page: refused before any audio.
	if _, resp, err := e.dialLive(ctx, ""); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated dial: %v %v", err, resp)
	}
	if _, resp, err := e.dialLive(ctx, tok, "Origin", "https://evil.example"); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin dial: %v %v", err, resp)
	}

	closedWith := func(c *websocket.Conn) websocket.StatusCode {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return websocket.CloseStatus(err)
			}
		}
	}
	open := func() *websocket.Conn {
		c, _, err := e.dialLive(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		readMsg(t, ctx, c) // ready
		return c
	}

	// A frame larger than max_frame_bytes.
	c := open()
	_ = c.Write(ctx, websocket.MessageBinary, make([]byte, 4002))
	if code := closedWith(c); code != websocket.StatusMessageTooBig {
		t.Fatalf("oversized frame: close %v", code)
	}
	// Odd byte counts are not 16-bit PCM.
	c = open()
	_ = c.Write(ctx, websocket.MessageBinary, make([]byte, 3))
	if code := closedWith(c); code != websocket.StatusUnsupportedData {
		t.Fatalf("odd frame: close %v", code)
	}
	// Audio much faster than real time (8 s at once; burst allows 3 s).
	c = open()
	audio := pcm(t, 8)
	go func() {
		for off := 0; off < len(audio); off += 4000 {
			if c.Write(ctx, websocket.MessageBinary, audio[off:off+4000]) != nil {
				return
			}
		}
	}()
	if code := closedWith(c); code != websocket.StatusPolicyViolation {
		t.Fatalf("faster than real time: close %v", code)
	}
	// Silence on the wire: closed after the idle timeout.
	c = open()
	start := time.Now()
	if code := closedWith(c); code != websocket.StatusPolicyViolation || time.Since(start) > 5*time.Second {
		t.Fatalf("idle: close %v after %v", code, time.Since(start))
	}
	// A third stream of the same user (limit 2) displaces her oldest, so
	// a reconnecting phone is never locked out by its own dead stream.
	a, b := open(), open()
	_ = b
	c = open()
	if code := closedWith(a); code != 4000 {
		t.Fatalf("oldest stream: close %v, want 4000", code)
	}
	if n := e.srv.LiveStreams(); n != 2 {
		t.Fatalf("%d streams open, want 2", n)
	}
	if _, m := e.do("GET", "/metrics", "", nil); !strings.Contains(string(m), "empowerher_live_streams 2") {
		t.Fatalf("metrics lack the open streams gauge")
	}
	_ = c
}

func TestLiveWithoutDetectorIs503(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	e.errCode(http.StatusServiceUnavailable, CodeUnavailable, "GET", "/live", tok, nil)
}

package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/incident"
)

func TestEscalationRepeatsThenAlertsTheNextTier(t *testing.T) {
	e := newEnv(t, func(_ *Options, c *incident.Config, _ *incident.WorkerConfig) { c.MaxEscalations = 3 })
	_, tok := e.user("asha")
	friend, authority := newReceiver(t), newReceiver(t)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": friend.srv.URL})
	e.contact(tok, map[string]any{"name": "Campus security", "webhook_url": authority.srv.URL, "tier": 1})

	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &ar)
	if len(ar.Recipients) != 1 || ar.Recipients[0].Name != "Bob" {
		t.Fatalf("first tier: %+v", ar.Recipients)
	}
	e.drain()
	if friend.requests() != 1 || authority.requests() != 0 {
		t.Fatalf("first alert: friend %d, authority %d", friend.requests(), authority.requests())
	}
	// Not yet due: nothing happens.
	e.clock.Advance(4 * time.Minute)
	e.tick()
	e.drain()
	if friend.requests() != 1 {
		t.Fatal("escalated before the ack timeout")
	}
	// Level 1: repeat to Bob (no voice provider configured, so no call).
	e.clock.Advance(time.Minute)
	e.tick()
	e.tick() // a second scheduler pass (or instance) must not repeat the step
	e.drain()
	if got := friend.received(); len(got) != 2 || got[1].Purpose != "escalation" || !strings.Contains(got[1].Body, "REPEAT") {
		t.Fatalf("level 1: friend got %+v", got)
	}
	if authority.requests() != 0 {
		t.Fatal("authority alerted at level 1")
	}
	// Level 2: the next tier.
	e.clock.Advance(5 * time.Minute)
	e.tick()
	e.drain()
	got := authority.received()
	if len(got) != 1 || got[0].Purpose != "escalation" || !strings.Contains(got[0].Body, "no one has responded") || !strings.Contains(got[0].Body, "/r/") {
		t.Fatalf("level 2: authority got %+v", got)
	}
	v := e.incident(tok, ar.Incident.ID)
	if v.EscalationLevel != 2 || len(v.Recipients) != 2 {
		t.Fatalf("level %d, %d recipients", v.EscalationLevel, len(v.Recipients))
	}
	// The authority acknowledges through its own link: escalation stops.
	var lv linkView
	e.must(http.StatusOK, "POST", linkPath(t, got[0].URL)+"/ack", "", "{}", &lv)
	if lv.State != "acknowledged" || len(lv.Responders) != 1 || lv.Responders[0] != "Campus security" {
		t.Fatalf("ack %+v", lv)
	}
	e.clock.Advance(time.Hour)
	e.tick()
	e.drain()
	if friend.requests() != 2 || authority.requests() != 1 {
		t.Fatalf("after ack: friend %d, authority %d", friend.requests(), authority.requests())
	}
	n := 0
	for _, ev := range e.incident(tok, ar.Incident.ID).Events {
		if ev.Kind == "escalated" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d escalation events, want 2", n)
	}
}

func TestEscalationStopsAtTheMaximum(t *testing.T) {
	e := newEnv(t, func(_ *Options, c *incident.Config, _ *incident.WorkerConfig) { c.MaxEscalations = 2 })
	_, tok := e.user("asha")
	rcv := newReceiver(t)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &ar)
	for i := 0; i < 6; i++ {
		e.clock.Advance(5 * time.Minute)
		e.tick()
		e.drain()
	}
	if n := rcv.requests(); n != 3 { // alert + 2 repeats
		t.Fatalf("%d messages, want 3", n)
	}
	if v := e.incident(tok, ar.Incident.ID); v.EscalationLevel != 2 || v.NextEscalationAt != nil {
		t.Fatalf("level %d next %v", v.EscalationLevel, v.NextEscalationAt)
	}
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	rcv := newReceiver(t, 503, 500) // two failures, then 200
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &ar)
	e.drain()
	d := e.incident(tok, ar.Incident.ID).Deliveries[0]
	if d.State != "queued" || d.Attempts != 1 || d.NextAttemptAt == nil || !strings.Contains(d.Error, "503") {
		t.Fatalf("after a 503: %+v", d)
	}
	// Full jitter with a 2 s base: the retry is due within 2 s.
	if wait := d.NextAttemptAt.Sub(e.clock.Now()); wait < 0 || wait > 2*time.Second {
		t.Fatalf("first backoff %v", wait)
	}
	e.clock.Advance(2 * time.Second)
	e.drain()
	d = e.incident(tok, ar.Incident.ID).Deliveries[0]
	if d.State != "queued" || d.Attempts != 2 {
		t.Fatalf("after a 500: %+v", d)
	}
	if wait := d.NextAttemptAt.Sub(e.clock.Now()); wait < 0 || wait > 4*time.Second {
		t.Fatalf("second backoff %v", wait)
	}
	e.clock.Advance(4 * time.Second)
	e.drain()
	d = e.incident(tok, ar.Incident.ID).Deliveries[0]
	if d.State != "sent" || d.Attempts != 3 || d.Error != "" {
		t.Fatalf("after success: %+v", d)
	}
	got := rcv.received()
	if len(got) != 1 {
		t.Fatalf("%d completed deliveries", len(got))
	}
	if rcv.requests() != 3 {
		t.Fatalf("%d requests", rcv.requests())
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	var calls int
	rcv := newReceiver(t)
	// A 429 with Retry-After: 120 from a raw handler in front of the receiver.
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		rcv.srv.Config.Handler.ServeHTTP(w, r)
	})
	srv := newPlainServer(t, front)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": srv})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &ar)
	e.drain()
	d := e.incident(tok, ar.Incident.ID).Deliveries[0]
	if d.State != "queued" || d.NextAttemptAt.Sub(e.clock.Now()) < 120*time.Second {
		t.Fatalf("after 429 Retry-After 120: %+v", d)
	}
	e.clock.Advance(119 * time.Second)
	e.drain()
	if len(rcv.received()) != 0 {
		t.Fatal("retried before Retry-After")
	}
	e.clock.Advance(2 * time.Second)
	e.drain()
	if len(rcv.received()) != 1 {
		t.Fatal("not retried after Retry-After")
	}
}

func TestPermanentFailureFallsOverToTheNextChannel(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	rcv := newReceiver(t, 400) // 4xx: never retried
	c := e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL, "channels": []string{"webhook", "log"}})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &ar)
	e.drain()
	v := e.incident(tok, ar.Incident.ID)
	if len(v.Deliveries) != 2 {
		t.Fatalf("deliveries %+v", v.Deliveries)
	}
	first, second := v.Deliveries[0], v.Deliveries[1]
	if first.Channel != "webhook" || first.State != "failed" || first.Attempts != 1 || !strings.Contains(first.Error, "400") {
		t.Fatalf("webhook delivery %+v", first)
	}
	if second.Channel != "log" || second.State != "sent" || second.ContactID != c.ID {
		t.Fatalf("fall-over delivery %+v", second)
	}
	if v.Recipients[0].Channel != "log" || v.Recipients[0].DeliveryState != "sent" {
		t.Fatalf("recipient state %+v", v.Recipients[0])
	}
	if !hasEvent(v, "delivery") {
		t.Fatalf("no delivery event: %v", eventKinds(v))
	}
	if !strings.Contains(e.logs.String(), "EMERGENCY: Asha needs help") {
		t.Fatal("the log channel did not write the alert")
	}
}

func TestExhaustedRetriesFallOver(t *testing.T) {
	e := newEnv(t, func(_ *Options, _ *incident.Config, w *incident.WorkerConfig) { w.MaxAttempts = 3 })
	_, tok := e.user("asha")
	rcv := newReceiver(t, 500, 500, 500, 500, 500)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL, "channels": []string{"webhook", "log"}})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &ar)
	for i := 0; i < 5; i++ {
		e.drain()
		e.clock.Advance(10 * time.Minute)
	}
	v := e.incident(tok, ar.Incident.ID)
	if rcv.requests() != 3 || len(v.Deliveries) != 2 || v.Deliveries[0].State != "failed" || v.Deliveries[0].Attempts != 3 ||
		v.Deliveries[1].Channel != "log" || v.Deliveries[1].State != "sent" {
		t.Fatalf("%d requests; deliveries %+v", rcv.requests(), v.Deliveries)
	}
}

func TestSilentDeviceIsReportedOnce(t *testing.T) {
	e := newEnv(t, func(_ *Options, c *incident.Config, _ *incident.WorkerConfig) { c.AckTimeout = time.Hour })
	_, tok := e.user("asha")
	rcv := newReceiver(t)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual", "location": map[string]any{"lat": 40.4168, "lon": -3.7038}}, &ar)
	e.drain()
	// Without heartbeats nothing is ever "silent".
	e.clock.Advance(3 * time.Minute)
	var hb map[string]any
	e.must(http.StatusOK, "POST", "/incidents/"+ar.Incident.ID+"/heartbeat", tok, nil, &hb)
	if hb["timeout_s"].(float64) != 120 {
		t.Fatalf("heartbeat answer %v", hb)
	}
	e.clock.Advance(119 * time.Second)
	e.tick()
	e.drain()
	if rcv.requests() != 1 {
		t.Fatal("silent too early")
	}
	e.clock.Advance(2 * time.Second)
	e.tick()
	e.tick()
	e.drain()
	got := rcv.received()
	if len(got) != 2 || got[1].Purpose != "silent" || !strings.Contains(got[1].Body, "40.41680,-3.70380") || !strings.Contains(got[1].Body, "stopped responding") ||
		!strings.Contains(got[1].Body, "last heard 09:33 UTC") {
		t.Fatalf("silent message: %+v", got)
	}
	e.clock.Advance(10 * time.Minute)
	e.tick()
	e.drain()
	if n := len(rcv.received()); n != 2 {
		t.Fatalf("%d messages: silence reported twice", n)
	}
	if !hasEvent(e.incident(tok, ar.Incident.ID), "silent") {
		t.Fatal("no silent event")
	}
}

func TestContactTestMessageGoesThroughTheQueue(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	rcv := newReceiver(t)
	c := e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL})
	var out struct {
		Delivery deliveryView `json:"delivery"`
	}
	e.must(http.StatusAccepted, "POST", "/contacts/"+itoa(c.ID)+"/test", tok, nil, &out)
	if out.Delivery.State != "queued" || out.Delivery.Purpose != "test" || out.Delivery.Channel != "webhook" {
		t.Fatalf("test delivery %+v", out.Delivery)
	}
	e.drain()
	got := rcv.received()
	if len(got) != 1 || got[0].Purpose != "test" || !strings.Contains(got[0].Body, "Asha added you") {
		t.Fatalf("got %+v", got)
	}
}

func TestWorkerRunFinishesInFlightAttemptOnShutdown(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	entered, release := make(chan struct{}), make(chan struct{})
	rcv := newReceiver(t)
	slow := newPlainServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		rcv.srv.Config.Handler.ServeHTTP(w, r)
	}))
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": slow})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.worker.Run(ctx); close(done) }()
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &ar)
	<-entered
	cancel() // shutdown while the provider call is in flight
	select {
	case <-done:
		t.Fatal("Run returned with an attempt in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-done
	if d := e.incident(tok, ar.Incident.ID).Deliveries[0]; d.State != "sent" || len(rcv.received()) != 1 {
		t.Fatalf("after shutdown: %+v", d)
	}
}

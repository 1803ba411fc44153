package server

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/incident"
)

// TestTwoInstancesActOnceOnEachDueIncident runs two schedulers and two
// workers on one store at the same moment: every countdown, escalation and
// message happens once.
func TestTwoInstancesActOnceOnEachDueIncident(t *testing.T) {
	e := newEnv(t)
	other := incident.New(e.st, e.reg, e.svc.Config())
	otherWorker := incident.NewWorker(e.st, e.reg, incident.WorkerConfig{Owner: "other", Lease: 10 * time.Second, Now: e.clock.Now})
	rcv := newReceiver(t)
	const users = 8
	var ids []string
	toks := map[string]string{}
	for i := 0; i < users; i++ {
		_, tok := e.user("user" + string(rune('a'+i)))
		e.contact(tok, map[string]any{"name": "Peer", "webhook_url": rcv.srv.URL})
		var ar alertResponse
		e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "voice", "score": 0.9}, &ar)
		ids = append(ids, ar.Incident.ID)
		toks[ar.Incident.ID] = tok
	}
	both := func(a, b func()) {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); a() }()
		go func() { defer wg.Done(); b() }()
		wg.Wait()
	}
	tick := func(s *incident.Service) func() { return func() { _ = s.Tick(context.Background()) } }
	drain := func(w *incident.Worker) func() { return func() { _ = w.Drain(context.Background()) } }

	e.clock.Advance(11 * time.Second) // countdowns end
	both(tick(e.svc), tick(other))
	both(drain(e.worker), drain(otherWorker))
	e.clock.Advance(5 * time.Minute) // first escalation
	both(tick(e.svc), tick(other))
	both(drain(e.worker), drain(otherWorker))

	perIncident := map[string]map[string]int{}
	for _, m := range rcv.received() {
		if perIncident[m.IncidentID] == nil {
			perIncident[m.IncidentID] = map[string]int{}
		}
		perIncident[m.IncidentID][m.Purpose]++
	}
	for _, id := range ids {
		if got := perIncident[id]; got["alert"] != 1 || got["escalation"] != 1 || len(got) != 2 {
			t.Errorf("incident %s: messages %v, want one alert and one escalation", id, got)
		}
		v := e.incident(toks[id], id)
		if v.EscalationLevel != 1 || len(v.Deliveries) != 2 {
			t.Errorf("incident %s: level %d, %d deliveries", id, v.EscalationLevel, len(v.Deliveries))
		}
	}
	if n := rcv.requests(); n != 2*users {
		t.Fatalf("%d provider requests, want %d", n, 2*users)
	}
}

package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/incident"
)

func eventKinds(v incidentDetailView) []string {
	var out []string
	for _, e := range v.Events {
		out = append(out, e.Kind)
	}
	return out
}

func hasEvent(v incidentDetailView, kind string) bool {
	for _, e := range v.Events {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

// linkPath is the /r/{token} path from a message's link.
func linkPath(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/r/") {
		t.Fatalf("bad link %q", link)
	}
	return u.Path
}

func TestManualAlertReachesContactWhoAcknowledges(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	rcv := newReceiver(t)
	bob := e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL + "/hook"})

	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{
		"trigger": "manual", "message": "followed near the station",
		"location": map[string]any{"lat": 51.50735, "lon": -0.12776, "accuracy": 20},
	}, &ar)
	if ar.Incident.State != "active" || ar.Joined || len(ar.Deliveries) != 1 || ar.Deliveries[0].State != "queued" {
		t.Fatalf("alert response %+v", ar)
	}
	if len(ar.Recipients) != 1 || ar.Recipients[0].ContactID != bob.ID || ar.Recipients[0].DeliveryState != "queued" {
		t.Fatalf("recipients %+v", ar.Recipients)
	}
	if len(ar.Warnings) == 0 || !strings.Contains(ar.Warnings[len(ar.Warnings)-1], "no SMS provider") {
		t.Fatalf("warnings %q lack the no-SMS notice", ar.Warnings)
	}
	e.drain()
	got := rcv.received()
	if len(got) != 1 {
		t.Fatalf("receiver got %d messages, want 1", len(got))
	}
	m := got[0]
	for _, want := range []string{"Asha needs help", "09:30 UTC, 8 Mar 2026", "51.50735,-0.12776",
		"https://www.openstreetmap.org/?mlat=51.50735&mlon=-0.12776", "Respond: " + m.URL, "followed near the station"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("message lacks %q:\n%s", want, m.Body)
		}
	}
	if len([]rune(m.Body)) > 320 || m.Purpose != "alert" || m.IncidentID != ar.Incident.ID {
		t.Errorf("message %d runes, purpose %q, incident %q", len([]rune(m.Body)), m.Purpose, m.IncidentID)
	}
	v := e.incident(tok, ar.Incident.ID)
	if v.Deliveries[0].State != "sent" || v.Deliveries[0].Attempts != 1 || v.Deliveries[0].ProviderID == "" {
		t.Fatalf("delivery after send %+v", v.Deliveries[0])
	}

	// The contact's page.
	page := linkPath(t, m.URL)
	resp, html := e.do("GET", page, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(html), "Asha needs help") ||
		!strings.Contains(string(html), "I'm responding</button>") || !strings.Contains(string(html), "openstreetmap.org") {
		t.Fatalf("link page %d:\n%s", resp.StatusCode, html)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("link page CSP %q", csp)
	}
	var lv linkView
	e.must(http.StatusOK, "GET", page+".json", "", nil, &lv)
	if lv.Who != "Asha" || lv.State != "active" || !lv.CanAck || lv.You != "Bob" || lv.Location == nil {
		t.Fatalf("link json %+v", lv)
	}
	// "I'm responding" from the HTML form: 303 back to the page.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ack, err := noRedirect.PostForm(e.ts.URL+page+"/ack", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	ack.Body.Close()
	if ack.StatusCode != http.StatusSeeOther || ack.Header.Get("Location") != page {
		t.Fatalf("ack: %d %q", ack.StatusCode, ack.Header.Get("Location"))
	}
	v = e.incident(tok, ar.Incident.ID)
	if v.State != "acknowledged" || v.NextEscalationAt != nil || v.Recipients[0].AcknowledgedAt == nil || !hasEvent(v, "acknowledged") {
		t.Fatalf("after ack: %+v events %v", v.incidentView, eventKinds(v))
	}
	e.must(http.StatusOK, "GET", page+".json", "", nil, &lv)
	if len(lv.Responders) != 1 || lv.Responders[0] != "Bob" || lv.YouAckedAt == nil {
		t.Fatalf("responders %+v", lv)
	}
	// Nothing escalates after an acknowledgement.
	e.clock.Advance(time.Hour)
	e.tick()
	e.drain()
	if n := len(rcv.received()); n != 1 {
		t.Fatalf("after ack the contact got %d messages, want 1", n)
	}
	e.errCode(http.StatusNotFound, CodeNotFound, "GET", "/r/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.json", "", nil)
}

func TestVoiceAlertWaitsForTheCancelWindow(t *testing.T) {
	e := newEnv(t, func(_ *Options, c *incident.Config, _ *incident.WorkerConfig) {
		c.CancelWindow = 200 * time.Millisecond
	})
	_, tok := e.user("asha")
	rcv := newReceiver(t)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL})

	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "voice", "score": 0.91}, &ar)
	if ar.Incident.State != "pending" || len(ar.Deliveries) != 0 || ar.Incident.ActivateAt == nil ||
		!ar.Incident.ActivateAt.Equal(e.clock.Now().Add(200*time.Millisecond)) || ar.Recipients[0].DeliveryState != "waiting" {
		t.Fatalf("voice alert %+v", ar)
	}
	e.clock.Advance(150 * time.Millisecond)
	e.tick()
	e.drain()
	if rcv.requests() != 0 || e.incident(tok, ar.Incident.ID).State != "pending" {
		t.Fatal("sent before the cancel window ended")
	}
	// A second detection joins the countdown instead of starting another.
	var again alertResponse
	e.must(http.StatusOK, "POST", "/alert", tok, map[string]any{"trigger": "voice", "score": 0.95}, &again)
	if !again.Joined || again.Incident.ID != ar.Incident.ID || again.Incident.State != "pending" {
		t.Fatalf("second detection %+v", again.Incident)
	}
	e.clock.Advance(60 * time.Millisecond)
	e.tick()
	e.drain()
	v := e.incident(tok, ar.Incident.ID)
	if v.State != "active" || rcv.requests() != 1 || !hasEvent(v, "detection") || !hasEvent(v, "activated") {
		t.Fatalf("after the window: state %s, %d requests, events %v", v.State, rcv.requests(), eventKinds(v))
	}
	if !strings.Contains(rcv.received()[0].Body, "distress heard") {
		t.Errorf("voice alert text: %s", rcv.received()[0].Body)
	}
}

func TestCancelDuringCountdownSendsNothing(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	rcv := newReceiver(t)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "voice", "score": 0.8}, &ar)
	var v incidentDetailView
	e.must(http.StatusOK, "POST", "/incidents/"+ar.Incident.ID+"/cancel", tok, nil, &v)
	if v.State != "cancelled" || v.ClosedAt == nil {
		t.Fatalf("cancel: %+v", v.incidentView)
	}
	e.clock.Advance(time.Hour)
	e.tick()
	e.drain()
	if rcv.requests() != 0 {
		t.Fatalf("a cancelled countdown sent %d messages", rcv.requests())
	}
	e.errCode(http.StatusConflict, CodeIncidentClosed, "POST", "/incidents/"+ar.Incident.ID+"/cancel", tok, nil)
	e.errCode(http.StatusConflict, CodeIncidentClosed, "POST", "/incidents/"+ar.Incident.ID+"/location", tok, map[string]any{"lat": 1, "lon": 2})
	// After a closed incident a new alert starts a new one.
	var next alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &next)
	if next.Incident.ID == ar.Incident.ID || next.Joined {
		t.Fatal("a closed incident was joined")
	}
}

func TestSOSDuringCountdownSendsNow(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	rcv := newReceiver(t)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL})
	var ar, sos alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "voice", "score": 0.8}, &ar)
	e.must(http.StatusOK, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &sos)
	if !sos.Joined || sos.Incident.ID != ar.Incident.ID || sos.Incident.State != "active" || len(sos.Deliveries) != 1 {
		t.Fatalf("SOS during countdown: %+v", sos)
	}
	e.drain()
	if rcv.requests() != 1 {
		t.Fatalf("%d messages", rcv.requests())
	}
	// The scheduler finds nothing left to activate: no second alert.
	e.clock.Advance(time.Minute)
	e.tick()
	e.drain()
	if rcv.requests() != 1 {
		t.Fatalf("%d messages after the countdown would have ended", rcv.requests())
	}
}

func TestResolveTellsEveryoneAlerted(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	r1, r2 := newReceiver(t), newReceiver(t)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": r1.srv.URL})
	e.contact(tok, map[string]any{"name": "Carol", "webhook_url": r2.srv.URL})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{}, &ar) // all fields optional: manual
	e.drain()
	var v incidentDetailView
	e.must(http.StatusOK, "POST", "/incidents/"+ar.Incident.ID+"/resolve", tok, nil, &v)
	if v.State != "resolved" {
		t.Fatalf("state %s", v.State)
	}
	e.drain()
	for i, r := range []*receiver{r1, r2} {
		got := r.received()
		if len(got) != 2 || got[0].Purpose != "alert" || got[1].Purpose != "resolved" || !strings.Contains(got[1].Body, "Asha is safe") {
			t.Fatalf("receiver %d got %+v", i, got)
		}
	}
	// The link now says it is over and cannot be acknowledged.
	page := linkPath(t, r1.received()[0].URL)
	var lv linkView
	e.must(http.StatusOK, "GET", page+".json", "", nil, &lv)
	if lv.State != "resolved" || lv.CanAck {
		t.Fatalf("link after resolve %+v", lv)
	}
	resp, _ := e.do("POST", page+"/ack", "", nil, "Accept", "application/json")
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("ack after resolve: %d", resp.StatusCode)
	}
}

func TestCancelAfterAlertTellsContactsItWasAFalseAlarm(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	rcv := newReceiver(t)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &ar)
	e.drain()
	e.must(http.StatusOK, "POST", "/incidents/"+ar.Incident.ID+"/cancel", tok, nil, nil)
	e.drain()
	got := rcv.received()
	if len(got) != 2 || got[1].Purpose != "cancelled" || !strings.Contains(got[1].Body, "false alarm") {
		t.Fatalf("got %+v", got)
	}
	var fb incidentView
	e.must(http.StatusOK, "POST", "/incidents/"+ar.Incident.ID+"/feedback", tok, map[string]any{"feedback": "false_alarm"}, &fb)
	if fb.Feedback != "false_alarm" {
		t.Fatalf("feedback %q", fb.Feedback)
	}
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/incidents/"+ar.Incident.ID+"/feedback", tok, map[string]any{"feedback": "maybe"})
}

func TestLocationUpdatesReachTheLinkPage(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("asha")
	rcv := newReceiver(t)
	e.contact(tok, map[string]any{"name": "Bob", "webhook_url": rcv.srv.URL})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual"}, &ar)
	e.drain()
	if !strings.Contains(rcv.received()[0].Body, "location unknown") {
		t.Fatalf("no location: %s", rcv.received()[0].Body)
	}
	var inc incidentView
	e.must(http.StatusOK, "POST", "/incidents/"+ar.Incident.ID+"/location", tok, map[string]any{"lat": 48.8566, "lon": 2.3522, "accuracy": 8}, &inc)
	if inc.Location == nil || inc.Location.Lat != 48.8566 {
		t.Fatalf("location %+v", inc.Location)
	}
	var lv linkView
	e.must(http.StatusOK, "GET", linkPath(t, rcv.received()[0].URL)+".json", "", nil, &lv)
	if lv.Location == nil || lv.Location.Lon != 2.3522 || !strings.Contains(lv.Location.MapURL, "mlat=48.85660") {
		t.Fatalf("link location %+v", lv.Location)
	}
	v := e.incident(tok, ar.Incident.ID)
	if !hasEvent(v, "location") {
		t.Fatalf("events %v", eventKinds(v))
	}
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/incidents/"+ar.Incident.ID+"/location", tok, map[string]any{"lat": 91, "lon": 0})
	e.errCode(http.StatusBadRequest, CodeInvalidField, "POST", "/incidents/"+ar.Incident.ID+"/location", tok, map[string]any{"lat": 10})
}

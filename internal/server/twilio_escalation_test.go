package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/notify"
)

const (
	twSID   = "AC00000000000000000000000000000042"
	twToken = "0123456789abcdef0123456789abcdef"
)

// twilioRequest is one call to the local Twilio peer.
type twilioRequest struct {
	Path string
	Form url.Values
}

// newTwilioPeer speaks Twilio's 2010-04-01 Messages and Calls API, checks
// Basic auth and answers with a fresh SID.
func newTwilioPeer(t *testing.T) (*httptest.Server, func() []twilioRequest) {
	var mu sync.Mutex
	var got []twilioRequest
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		w.Header().Set("Content-Type", "application/json")
		if !ok || user != twSID || pass != twToken {
			w.WriteHeader(401)
			w.Write([]byte(`{"code":20003,"message":"Authenticate","status":401}`))
			return
		}
		mu.Lock()
		n++
		got = append(got, twilioRequest{Path: r.URL.Path, Form: form})
		sid := fmt.Sprintf("%032d", n)
		mu.Unlock()
		prefix := "/2010-04-01/Accounts/" + twSID
		switch r.URL.Path {
		case prefix + "/Messages.json":
			sid = "SM" + sid
		case prefix + "/Calls.json":
			sid = "CA" + sid
		default:
			w.WriteHeader(404)
			return
		}
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]string{"sid": sid, "status": "queued"})
	}))
	t.Cleanup(srv.Close)
	return srv, func() []twilioRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]twilioRequest(nil), got...)
	}
}

func TestEscalationAddsAVoiceCallThroughTwilio(t *testing.T) {
	peer, requests := newTwilioPeer(t)
	e := newEnvWith(t, notify.Config{SMS: "twilio", Voice: "twilio", Twilio: notify.TwilioConfig{
		AccountSID: twSID, AuthToken: twToken, From: "+15005550006", BaseURL: peer.URL, Timeout: 5 * time.Second}})
	_, tok := e.user("asha")
	e.contact(tok, map[string]any{"name": "Bob", "phone": "+447700900123"})
	var ar alertResponse
	e.must(http.StatusCreated, "POST", "/alert", tok, map[string]any{"trigger": "manual", "location": map[string]any{"lat": 19.076, "lon": 72.8777}}, &ar)
	for _, w := range ar.Warnings {
		if strings.Contains(w, "SMS") {
			t.Fatalf("SMS is configured, yet: %q", w)
		}
	}
	e.drain()
	got := requests()
	if len(got) != 1 || !strings.HasSuffix(got[0].Path, "/Messages.json") || got[0].Form.Get("To") != "+447700900123" ||
		!strings.Contains(got[0].Form.Get("Body"), "Asha needs help") || !strings.Contains(got[0].Form.Get("Body"), "mlat=19.07600") {
		t.Fatalf("first alert: %+v", got)
	}
	v := e.incident(tok, ar.Incident.ID)
	if d := v.Deliveries[0]; d.Channel != "sms" || d.State != "sent" || !strings.HasPrefix(d.ProviderID, "SM") {
		t.Fatalf("sms delivery %+v", d)
	}
	e.clock.Advance(5 * time.Minute)
	e.tick()
	e.drain()
	got = requests()
	if len(got) != 3 {
		t.Fatalf("after escalation %d requests: %+v", len(got), got)
	}
	var call *twilioRequest
	for i := range got[1:] {
		if strings.HasSuffix(got[1+i].Path, "/Calls.json") {
			call = &got[1+i]
		}
	}
	if call == nil || call.Form.Get("To") != "+447700900123" || !strings.Contains(call.Form.Get("Twiml"), "<Say") ||
		!strings.Contains(call.Form.Get("Twiml"), "Asha") {
		t.Fatalf("no voice call with the alert: %+v", got)
	}
	v = e.incident(tok, ar.Incident.ID)
	channels := map[string]bool{}
	for _, d := range v.Deliveries {
		channels[d.Channel+"/"+d.Purpose] = d.State == "sent"
	}
	if !channels["voice/escalation"] || !channels["sms/escalation"] {
		t.Fatalf("deliveries %+v", v.Deliveries)
	}
}

package server

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/store"
)

// linkView is what a contact's link shows, as JSON (/r/{token}.json) and
// on the HTML page.
type linkView struct {
	Who        string        `json:"who"`
	State      string        `json:"state"`
	Trigger    string        `json:"trigger"`
	Message    string        `json:"message,omitempty"`
	StartedAt  *time.Time    `json:"started_at"`
	Location   *locationView `json:"location"`
	You        string        `json:"you"`
	YouAckedAt *time.Time    `json:"you_acknowledged_at,omitempty"`
	Responders []string      `json:"responders"`
	CanAck     bool          `json:"can_acknowledge"`
}

func toLinkView(st *incident.LinkStatus) linkView {
	inc := st.Incident
	v := linkView{
		Who: st.Who, State: string(inc.State), Trigger: inc.Trigger, Message: inc.Message,
		StartedAt: ts(inc.CreatedAt), Location: locView(inc.Location), You: st.Recipient.ContactName,
		YouAckedAt: ts(st.Recipient.AcknowledgedAt), Responders: st.Responders,
		CanAck: inc.State == store.StateActive || inc.State == store.StateAcknowledged,
	}
	if v.Responders == nil {
		v.Responders = []string{}
	}
	return v
}

var linkPage = template.Must(template.New("link").Funcs(template.FuncMap{
	"when": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return incident.TimeText(*t)
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.V.Who}} — EmpowerHer alert</title>
<style>
body{font:18px/1.5 system-ui,sans-serif;max-width:36rem;margin:1rem auto;padding:0 1rem;color:#111;background:#fff}
h1{font-size:1.6rem} .state{font-weight:700;padding:.2rem .5rem;border:2px solid #111;border-radius:.3rem}
button{font-size:1.3rem;padding:.8rem 1.4rem;background:#b00020;color:#fff;border:0;border-radius:.4rem;cursor:pointer}
button:focus{outline:3px solid #000;outline-offset:3px} a{color:#0645ad}
@media (prefers-contrast: more){body{background:#fff;color:#000}button{background:#000}}
</style></head><body>
<main>
{{if .V.CanAck}}<h1>{{.V.Who}} needs help</h1>{{else}}<h1>Alert from {{.V.Who}}</h1>{{end}}
<p>Status: <span class="state">{{.V.State}}</span></p>
<p>Started: {{when .V.StartedAt}}{{if eq .V.Trigger "voice"}} (distress detected in her voice){{else}} (she pressed SOS){{end}}</p>
{{if .V.Message}}<p>Her message: “{{.V.Message}}”</p>{{end}}
{{if .V.Location}}<p>Last known location{{if .V.Location.At}} ({{when .V.Location.At}}){{end}}:
{{printf "%.5f" .V.Location.Lat}}, {{printf "%.5f" .V.Location.Lon}}{{if .V.Location.Accuracy}} (±{{printf "%.0f" .V.Location.Accuracy}} m){{end}}<br>
<a href="{{.V.Location.MapURL}}" rel="noopener noreferrer">Open the map (OpenStreetMap)</a></p>
{{else}}<p>Location unknown.</p>{{end}}
{{if .V.Responders}}<p>Responding: {{range $i, $n := .V.Responders}}{{if $i}}, {{end}}{{$n}}{{end}}</p>{{end}}
{{if .V.YouAckedAt}}<p><strong>You said you are responding ({{when .V.YouAckedAt}}). Thank you.</strong></p>
{{else if .V.CanAck}}<form method="post" action="{{.AckURL}}"><button type="submit">I'm responding</button></form>
<p>Pressing the button tells {{.V.Who}} and stops further alerts to others.</p>
{{else}}<p>This alert is over: no action is needed.</p>{{end}}
</main></body></html>
`))

// linkToken splits "/r/{token}" and "/r/{token}.json".
func linkToken(r *http.Request) (token string, asJSON bool) {
	t := r.PathValue("token")
	if strings.HasSuffix(t, ".json") {
		return strings.TrimSuffix(t, ".json"), true
	}
	return t, strings.Contains(r.Header.Get("Accept"), "application/json")
}

func (s *Server) linkError(w http.ResponseWriter, r *http.Request, err error, asJSON bool) {
	if asJSON || !errors.Is(err, store.ErrNotFound) {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("<!doctype html><title>Not found</title><p>This link is not valid.</p>"))
}

func (s *Server) handleLinkPage(w http.ResponseWriter, r *http.Request) {
	token, asJSON := linkToken(r)
	st, err := s.inc.Link(r.Context(), token)
	if err != nil {
		s.linkError(w, r, err, asJSON)
		return
	}
	s.writeLink(w, r, st, token, asJSON, http.StatusOK)
}

func (s *Server) writeLink(w http.ResponseWriter, r *http.Request, st *incident.LinkStatus, token string, asJSON bool, status int) {
	v := toLinkView(st)
	if asJSON {
		writeJSON(w, status, v)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = linkPage.Execute(w, struct {
		V      linkView
		AckURL string
	}{v, "/r/" + token + "/ack"})
}

// handleLinkAck acknowledges. A browser form gets the page back (303 to
// it); a client that asks for JSON gets JSON.
func (s *Server) handleLinkAck(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	asJSON := strings.Contains(r.Header.Get("Accept"), "application/json") ||
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
	st, err := s.inc.Acknowledge(r.Context(), token)
	if err != nil {
		if errors.Is(err, incident.ErrClosed) && st != nil && !asJSON {
			s.writeLink(w, r, st, token, false, http.StatusConflict)
			return
		}
		s.linkError(w, r, err, asJSON)
		return
	}
	if asJSON {
		writeJSON(w, http.StatusOK, toLinkView(st))
		return
	}
	http.Redirect(w, r, "/r/"+token, http.StatusSeeOther)
}

package server

import "net/http"

// access says who may call a route.
type access int

const (
	public   access = iota // anyone
	optional               // anyone; a valid token identifies the user (rate limits per user)
	user                   // a signed-in user (Bearer token or session cookie)
)

// route is one line of the API. The table is data so that a test can check
// docs/api.md lists exactly these patterns.
type route struct {
	Pattern string // ServeMux pattern: "METHOD /path/{wildcard}"
	Access  access
	// Limit names the rate limiter in front of the handler ("" for none).
	// A manual SOS (/alert) is deliberately never limited.
	Limit   string
	Summary string
	Handle  func(*Server, http.ResponseWriter, *http.Request)
}

// Rate limiter names.
const (
	limitPredict = "predict"
	limitSignIn  = "signin"
)

var routes = []route{
	{"GET /healthz", public, "", "liveness: the process is up", (*Server).handleHealthz},
	{"GET /readyz", public, "", "readiness: the store answers", (*Server).handleReadyz},
	{"GET /metrics", public, "", "Prometheus metrics", (*Server).handleMetrics},

	{"POST /predict", optional, limitPredict, "detect distress in an audio clip", (*Server).handlePredict},
	{"POST /alert", user, "", "ask for help: create (or join) an incident and alert contacts", (*Server).handleAlert},
	{"GET /me", user, "", "the signed-in user", (*Server).handleMe},
	{"PUT /me/settings", user, "", "the user's settings: evidence consent (withdrawing deletes her clips)", (*Server).handleSettings},

	{"GET /incidents", user, "", "list incidents, newest first", (*Server).handleListIncidents},
	{"GET /incidents/{id}", user, "", "one incident with events, recipients and deliveries", (*Server).handleGetIncident},
	{"POST /incidents/{id}/cancel", user, "", "cancel: false alarm", (*Server).handleCancelIncident},
	{"POST /incidents/{id}/resolve", user, "", "I'm safe: everyone alerted is told", (*Server).handleResolveIncident},
	{"POST /incidents/{id}/location", user, "", "update the location during an open incident", (*Server).handleIncidentLocation},
	{"POST /incidents/{id}/heartbeat", user, "", "the device is alive (live listening)", (*Server).handleIncidentHeartbeat},
	{"POST /incidents/{id}/feedback", user, "", "mark a detection false_alarm or real", (*Server).handleIncidentFeedback},

	{"GET /contacts", user, "", "list contacts", (*Server).handleListContacts},
	{"POST /contacts", user, "", "create a contact", (*Server).handleCreateContact},
	{"GET /contacts/{id}", user, "", "one contact", (*Server).handleGetContact},
	{"PUT /contacts/{id}", user, "", "replace a contact", (*Server).handleUpdateContact},
	{"DELETE /contacts/{id}", user, "", "delete a contact", (*Server).handleDeleteContact},
	{"POST /contacts/{id}/test", user, "", "send a test message through the delivery queue", (*Server).handleTestContact},

	{"GET /r/{token}", public, "", "a contact's link page (HTML; /r/{token}.json for JSON)", (*Server).handleLinkPage},
	{"POST /r/{token}/ack", public, "", "the contact presses \"I'm responding\"", (*Server).handleLinkAck},

	{"GET /{$}", public, "", "the web app (HTML)", (*Server).handlePage},
	{"GET /app/{file}", public, "", "the web app's CSS, JavaScript and on-device detector", (*Server).handleAsset},
	{"GET /app/model", public, "", "the detector model, for on-device (private) detection", (*Server).handleModel},
	{"POST /signup", public, limitSignIn, "web sign-up: creates the account and a session cookie", (*Server).handleSignUp},
	{"POST /signin", public, limitSignIn, "web sign-in: a session cookie and its CSRF token", (*Server).handleSignIn},
	{"POST /signout", user, "", "end the web session", (*Server).handleSignOut},
	{"GET /session", user, "", "the web session's user and CSRF token", (*Server).handleSession},
	{"GET /deliveries", user, "", "the user's newest messages (contacts' channel health)", (*Server).handleListDeliveries},
	{"GET /live", user, "", "live listening (WebSocket): PCM in, level, score and detections out", (*Server).handleLive},

	{"POST /callbacks/twilio", public, "", "Twilio delivery status callback (signature checked)", (*Server).handleTwilioCallback},
}

// Patterns returns the registered route patterns, in table order.
func Patterns() []string {
	out := make([]string, len(routes))
	for i, r := range routes {
		out[i] = r.Pattern
	}
	return out
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.Handle(rt.Pattern, s.wrapRoute(rt))
	}
	return mux
}

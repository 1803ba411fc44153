package server

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/empowerher/empowerher/internal/incident"
	"github.com/empowerher/empowerher/internal/store"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 1 << 20

// decodeJSON reads one JSON object into v. An empty body is allowed only
// when emptyOK (endpoints whose fields are all optional).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send JSON with Content-Type: application/json")
		}
	}
	body := http.MaxBytesReader(w, r.Body, maxJSONBody)
	dec := json.NewDecoder(body)
	err := dec.Decode(v)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) && emptyOK:
		return nil
	case errors.Is(err, io.EOF):
		return newError(http.StatusBadRequest, CodeInvalidJSON, "the request body is empty; send a JSON object")
	default:
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return newError(http.StatusRequestEntityTooLarge, CodeTooLarge, "the JSON body is larger than 1 MiB")
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidJSON,
				Message: "field " + te.Field + " has the wrong type (want " + te.Type.String() + ")", Field: te.Field}
		}
		return newError(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON")
	}
	if dec.More() {
		return newError(http.StatusBadRequest, CodeInvalidJSON, "send exactly one JSON object")
	}
	return nil
}

// ts renders a time for JSON: RFC 3339 UTC, null when unset.
func ts(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

type userView struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
	// EvidenceConsent: keep audio around detections (PUT /me/settings).
	EvidenceConsent bool `json:"evidence_consent"`
}

type locationView struct {
	Lat      float64    `json:"lat"`
	Lon      float64    `json:"lon"`
	Accuracy float64    `json:"accuracy,omitempty"`
	At       *time.Time `json:"at,omitempty"`
	MapURL   string     `json:"map_url,omitempty"`
}

func locView(l *store.Location) *locationView {
	if l == nil {
		return nil
	}
	return &locationView{Lat: l.Lat, Lon: l.Lon, Accuracy: l.Accuracy, At: ts(l.At), MapURL: incident.MapURL(l)}
}

// locationInput is a location in a request.
type locationInput struct {
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	Accuracy float64  `json:"accuracy"`
}

func (l *locationInput) toStore() (*store.Location, error) {
	if l == nil {
		return nil, nil
	}
	if l.Lat == nil || l.Lon == nil {
		return nil, &incident.InputError{Field: "location", Message: "needs both lat and lon"}
	}
	loc := &store.Location{Lat: *l.Lat, Lon: *l.Lon, Accuracy: l.Accuracy}
	return loc, incident.ValidateLocation(loc)
}

type incidentView struct {
	ID               string        `json:"id"`
	State            string        `json:"state"`
	Trigger          string        `json:"trigger"`
	Message          string        `json:"message,omitempty"`
	Score            float64       `json:"score,omitempty"`
	Location         *locationView `json:"location"`
	ActivateAt       *time.Time    `json:"activate_at,omitempty"`
	EscalationLevel  int           `json:"escalation_level"`
	NextEscalationAt *time.Time    `json:"next_escalation_at,omitempty"`
	LastHeartbeatAt  *time.Time    `json:"last_heartbeat_at,omitempty"`
	Feedback         string        `json:"feedback,omitempty"`
	CreatedAt        *time.Time    `json:"created_at"`
	UpdatedAt        *time.Time    `json:"updated_at"`
	ClosedAt         *time.Time    `json:"closed_at,omitempty"`
}

func incView(i *store.Incident) incidentView {
	return incidentView{
		ID: i.ID, State: string(i.State), Trigger: i.Trigger, Message: i.Message, Score: i.Score,
		Location: locView(i.Location), ActivateAt: ts(i.ActivateAt), EscalationLevel: i.EscalationLevel,
		NextEscalationAt: ts(i.NextEscalationAt), LastHeartbeatAt: ts(i.LastHeartbeatAt), Feedback: i.Feedback,
		CreatedAt: ts(i.CreatedAt), UpdatedAt: ts(i.UpdatedAt), ClosedAt: ts(i.ClosedAt),
	}
}

type eventView struct {
	Kind   string     `json:"kind"`
	Detail string     `json:"detail,omitempty"`
	At     *time.Time `json:"at"`
}

type deliveryView struct {
	ID            int64      `json:"id"`
	ContactID     int64      `json:"contact_id"`
	Channel       string     `json:"channel"`
	Purpose       string     `json:"purpose"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	ProviderID    string     `json:"provider_id,omitempty"`
	Error         string     `json:"error,omitempty"`
	CreatedAt     *time.Time `json:"created_at"`
	UpdatedAt     *time.Time `json:"updated_at"`
}

func delView(d *store.Delivery) deliveryView {
	v := deliveryView{
		ID: d.ID, ContactID: d.ContactID, Channel: d.Channel, Purpose: d.Purpose, State: string(d.State),
		Attempts: d.Attempts, ProviderID: d.ProviderID, Error: d.LastError,
		CreatedAt: ts(d.CreatedAt), UpdatedAt: ts(d.UpdatedAt),
	}
	if d.State == store.DeliveryQueued {
		v.NextAttemptAt = ts(d.NextAttemptAt)
	}
	return v
}

// recipientView is one alerted contact with the state of their newest
// message (the token is never shown: only its hash is stored).
type recipientView struct {
	ContactID      int64      `json:"contact_id"`
	Name           string     `json:"name"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	Channel        string     `json:"channel,omitempty"`
	// DeliveryState is the newest message's state, "waiting" during a
	// countdown (nothing sent yet).
	DeliveryState string `json:"delivery_state"`
}

func recipientViews(rs []store.Recipient, ds []store.Delivery) []recipientView {
	out := make([]recipientView, 0, len(rs))
	for _, r := range rs {
		v := recipientView{ContactID: r.ContactID, Name: r.ContactName, AcknowledgedAt: ts(r.AcknowledgedAt), DeliveryState: "waiting"}
		// Deliveries are oldest first: the newest one (a fall-over, an
		// escalation) is the contact's current state.
		for i := range ds {
			if ds[i].ContactID == r.ContactID {
				v.Channel, v.DeliveryState = ds[i].Channel, string(ds[i].State)
			}
		}
		out = append(out, v)
	}
	return out
}

type contactView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Phone      string     `json:"phone,omitempty"`
	Email      string     `json:"email,omitempty"`
	WebhookURL string     `json:"webhook_url,omitempty"`
	Channels   []string   `json:"channels"`
	Tier       int        `json:"tier"`
	CreatedAt  *time.Time `json:"created_at"`
	UpdatedAt  *time.Time `json:"updated_at"`
}

func conView(c *store.Contact) contactView {
	return contactView{
		ID: c.ID, Name: c.Name, Phone: c.Phone, Email: c.Email, WebhookURL: c.WebhookURL,
		Channels: incident.ContactChannels(c), Tier: c.Tier, CreatedAt: ts(c.CreatedAt), UpdatedAt: ts(c.UpdatedAt),
	}
}

// pathID parses a numeric {id}; anything else is a 404 like a missing row.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, newError(http.StatusNotFound, CodeNotFound, "not found")
	}
	return id, nil
}

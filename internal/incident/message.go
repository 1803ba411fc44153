package incident

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/empowerher/empowerher/internal/store"
)

// Message purposes (store.Delivery.Purpose, notify.Message.Purpose).
const (
	PurposeAlert      = "alert"
	PurposeEscalation = "escalation"
	PurposeResolved   = "resolved"
	PurposeCancelled  = "cancelled"
	PurposeSilent     = "silent"
	PurposeTest       = "test"
)

// maxBody keeps a message within two concatenated SMS segments of plain
// GSM text (2 × 160), which every SMS provider delivers as one message.
const maxBody = 320

// Rendered is one message's text.
type Rendered struct {
	Subject string
	Body    string
}

// messageInput is what every message is written from.
type messageInput struct {
	Purpose string
	Who     string // the user's display name
	Inc     *store.Incident
	Link    string    // contact's page, "" for test messages
	At      time.Time // when this message is written
	// Level is the escalation level for PurposeEscalation; FirstTime is
	// true when the contact is hearing about the incident for the first
	// time (a higher tier reached by escalation).
	Level     int
	FirstTime bool
	// Since is the last heartbeat, for PurposeSilent.
	Since time.Time
}

// TimeText is how every message writes a time: unambiguous, with zone.
func TimeText(t time.Time) string { return t.UTC().Format("15:04 MST, 2 Jan 2006") }

// MapURL is an OpenStreetMap link with a marker at the location.
func MapURL(l *store.Location) string {
	lat := strconv.FormatFloat(l.Lat, 'f', 5, 64)
	lon := strconv.FormatFloat(l.Lon, 'f', 5, 64)
	return "https://www.openstreetmap.org/?mlat=" + lat + "&mlon=" + lon + "&zoom=17"
}

// WhereText is the location part of a message.
func WhereText(l *store.Location) string {
	if l == nil {
		return "location unknown"
	}
	s := strconv.FormatFloat(l.Lat, 'f', 5, 64) + "," + strconv.FormatFloat(l.Lon, 'f', 5, 64)
	if l.Accuracy > 0 {
		s += " (±" + strconv.FormatFloat(l.Accuracy, 'f', 0, 64) + " m)"
	}
	return s + " " + MapURL(l)
}

func displayName(u *store.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Name
}

// render writes one message. Every alert-like message says who needs help,
// when, where (with a map link) and how to respond (the link); the user's
// own message is the part that is shortened when the text would exceed an
// SMS pair.
func render(in messageInput) Rendered {
	inc := in.Inc
	var lead, subject string
	switch in.Purpose {
	case PurposeAlert:
		subject = "EMERGENCY: " + in.Who + " needs help"
		lead = "EMERGENCY: " + in.Who + " needs help"
		if inc.Trigger == "voice" {
			lead += " (distress heard by her phone)"
		} else {
			lead += " (she pressed SOS)"
		}
	case PurposeEscalation:
		subject = "EMERGENCY: " + in.Who + " needs help - no one has responded"
		if in.FirstTime {
			lead = "EMERGENCY: " + in.Who + " needs help and no one has responded yet"
		} else {
			lead = "REPEAT EMERGENCY: " + in.Who + " still needs help, no one has responded"
		}
	case PurposeSilent:
		subject = "WARNING: " + in.Who + "'s phone went silent"
		lead = "WARNING: " + in.Who + "'s phone stopped responding during her emergency"
	case PurposeResolved:
		subject = in.Who + " is safe"
		body := in.Who + " is safe now (marked safe at " + TimeText(in.At) + "). Thank you."
		if in.Link != "" {
			body += " " + in.Link
		}
		return Rendered{Subject: subject, Body: body}
	case PurposeCancelled:
		subject = in.Who + " cancelled the alert"
		return Rendered{Subject: subject, Body: in.Who + " cancelled her alert at " + TimeText(in.At) + ": it was a false alarm, no help is needed."}
	case PurposeTest:
		return Rendered{
			Subject: "EmpowerHer test message from " + in.Who,
			Body:    "Test from EmpowerHer: " + in.Who + " added you as an emergency contact. If she ever needs help you will get a message like this with her location. No action needed.",
		}
	default: // an internal caller's mistake; still say something useful
		subject = in.Who + " needs help"
		lead = in.Who + " needs help"
	}

	when := inc.CreatedAt
	if when.IsZero() {
		when = in.At
	}
	whenText := "at " + TimeText(when) + "."
	where := "Where: " + WhereText(inc.Location)
	if in.Purpose == PurposeSilent && inc.Location != nil && !inc.Location.At.IsZero() {
		where = "Last location (" + TimeText(inc.Location.At) + "): " + WhereText(inc.Location)
	} else if in.Purpose == PurposeSilent {
		where = "Last location: " + WhereText(inc.Location)
	}
	if in.Purpose == PurposeSilent && !in.Since.IsZero() {
		whenText = "(last heard " + TimeText(in.Since) + ")."
	}
	respond := "Respond: " + in.Link
	fixed := lead + " " + whenText + " " + where + ". " + respond
	body := fixed
	if msg := strings.TrimSpace(inc.Message); msg != "" && in.Purpose != PurposeSilent {
		room := maxBody - utf8.RuneCountInString(fixed) - len(` Her message: "".`)
		if room >= 12 {
			body = lead + " " + whenText + ` Her message: "` + truncate(msg, room) + `". ` + where + ". " + respond
		}
	}
	return Rendered{Subject: subject, Body: body}
}

// truncate shortens s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// eventText writes a location for the incident timeline.
func locationText(l *store.Location) string {
	return fmt.Sprintf("%.5f,%.5f ±%.0f m", l.Lat, l.Lon, l.Accuracy)
}

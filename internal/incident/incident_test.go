package incident

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/empowerher/empowerher/internal/store"
)

func TestLinkTokensAreStableUnguessableAndDistinct(t *testing.T) {
	a := NewLinks(bytes.Repeat([]byte{1}, 32), "https://help.example.org/")
	b := NewLinks(bytes.Repeat([]byte{2}, 32), "https://help.example.org")
	t1, t2 := a.Token("inc1", 1), a.Token("inc1", 1)
	if t1 != t2 {
		t.Fatal("token not deterministic")
	}
	if len(t1) != 43 { // 256 bits base64url
		t.Fatalf("token %q", t1)
	}
	for _, other := range []string{a.Token("inc1", 2), a.Token("inc2", 1), b.Token("inc1", 1), a.Token("inc11", 1)} {
		if other == t1 {
			t.Fatal("tokens collide")
		}
	}
	// The id/contact boundary is unambiguous: ("inc1", 11) ≠ ("inc11", 1).
	if a.Token("inc1", 11) == a.Token("inc11", 1) {
		t.Fatal("ambiguous token input")
	}
	if got := a.URL(t1); got != "https://help.example.org/r/"+t1 {
		t.Fatalf("url %q", got)
	}
	if len(HashToken(t1)) != 32 || bytes.Equal(HashToken(t1), HashToken(t2+"x")) {
		t.Fatal("hash")
	}
}

func TestMessagesSayWhoWhenWhereAndHowToRespond(t *testing.T) {
	at := time.Date(2026, 5, 1, 22, 15, 0, 0, time.FixedZone("IST", 5*3600+1800))
	link := "https://help.example.org/r/" + strings.Repeat("A", 43)
	inc := &store.Incident{ID: "x", Trigger: "manual", CreatedAt: at,
		Location: &store.Location{Lat: 12.971599, Lon: 77.594563, Accuracy: 12.4}}
	r := render(messageInput{Purpose: PurposeAlert, Who: "Asha", Inc: inc, Link: link, At: at})
	for _, want := range []string{"Asha needs help", "16:45 UTC, 1 May 2026", "12.97160,77.59456", "(±12 m)",
		"https://www.openstreetmap.org/?mlat=12.97160&mlon=77.59456", "Respond: " + link} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("alert lacks %q:\n%s", want, r.Body)
		}
	}
	if r.Subject != "EMERGENCY: Asha needs help" {
		t.Errorf("subject %q", r.Subject)
	}
	// A long message of her own is shortened so the whole fits two SMS.
	inc.Message = strings.Repeat("please come quickly ", 40)
	r = render(messageInput{Purpose: PurposeAlert, Who: "Asha Kumari-Venkataraman", Inc: inc, Link: link, At: at})
	if n := utf8.RuneCountInString(r.Body); n > maxBody {
		t.Fatalf("%d runes:\n%s", n, r.Body)
	}
	if !strings.Contains(r.Body, "…") || !strings.Contains(r.Body, link) || !strings.Contains(r.Body, "openstreetmap") {
		t.Fatalf("shortened message lost a part:\n%s", r.Body)
	}
	// No location.
	inc.Location, inc.Message = nil, ""
	r = render(messageInput{Purpose: PurposeAlert, Who: "Asha", Inc: inc, Link: link, At: at})
	if !strings.Contains(r.Body, "location unknown") {
		t.Fatalf("no location: %s", r.Body)
	}
	for _, p := range []string{PurposeEscalation, PurposeSilent, PurposeResolved, PurposeCancelled, PurposeTest} {
		r := render(messageInput{Purpose: p, Who: "Asha", Inc: inc, Link: link, At: at, Since: at})
		if !strings.Contains(r.Body, "Asha") || r.Subject == "" || utf8.RuneCountInString(r.Body) > maxBody {
			t.Errorf("%s: %q / %q", p, r.Subject, r.Body)
		}
		if (p == PurposeEscalation || p == PurposeSilent) && !strings.Contains(r.Body, link) {
			t.Errorf("%s lacks the link: %s", p, r.Body)
		}
	}
}

func TestBackoffIsFullJitterUnderTheCap(t *testing.T) {
	w := NewWorker(nil, nil, WorkerConfig{BaseBackoff: 2 * time.Second, MaxBackoff: 5 * time.Minute})
	w.rnd = func() float64 { return 0.999999 }
	for attempt, ceil := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 3: 8 * time.Second,
		8: 256 * time.Second, 9: 5 * time.Minute, 40: 5 * time.Minute} {
		if d := w.backoff(attempt); d > ceil || d < ceil*99/100 {
			t.Errorf("attempt %d: %v, want just under %v", attempt, d, ceil)
		}
	}
	w.rnd = func() float64 { return 0 }
	if d := w.backoff(5); d != 0 {
		t.Errorf("full jitter starts at 0, got %v", d)
	}
}

func TestChannelChoiceAndFallOver(t *testing.T) {
	c := &store.Contact{Phone: "+447700900123", Email: "b@example.org", Channels: []string{"sms", "voice", "email"}}
	if got := ContactChannels(&store.Contact{Phone: "+1", WebhookURL: "https://x"}); strings.Join(got, ",") != "sms,webhook" {
		t.Fatalf("default channels %v", got)
	}
	if got := ContactChannels(&store.Contact{}); strings.Join(got, ",") != "log" {
		t.Fatalf("no address %v", got)
	}
	if !HasAddress(c, "voice") || HasAddress(c, "webhook") || !HasAddress(c, "log") || HasAddress(c, "pigeon") {
		t.Fatal("HasAddress")
	}
}

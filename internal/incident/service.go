package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/empowerher/empowerher/internal/store"
)

// Triggers of an alert.
const (
	TriggerManual = "manual"
	TriggerVoice  = "voice"
)

// Feedback marks.
const (
	FeedbackFalseAlarm = "false_alarm"
	FeedbackReal       = "real"
)

// Defaults for Config's zero fields.
const (
	DefaultCancelWindow     = 10 * time.Second
	DefaultAckTimeout       = 5 * time.Minute
	DefaultHeartbeatTimeout = 2 * time.Minute
	DefaultMaxEscalations   = 3
	MaxMessageRunes         = 500
)

// ErrInvalid is wrapped by every *InputError.
var ErrInvalid = errors.New("incident: invalid input")

// ErrClosed: the incident is not in a state that allows the request (it
// is over, or an acknowledgement came for one not yet sent).
var ErrClosed = errors.New("incident: incident is not open")

// InputError says which field of a request is wrong and why, in words
// meant for the person who sent it.
type InputError struct {
	Field   string
	Message string
}

func (e *InputError) Error() string        { return e.Field + ": " + e.Message }
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Config tunes the lifecycle. Zero durations take the defaults.
type Config struct {
	CancelWindow     time.Duration
	AckTimeout       time.Duration
	HeartbeatTimeout time.Duration
	MaxEscalations   int
	Links            Links
	// Now is the clock (time.Now when nil); tests inject their own.
	Now    func() time.Time
	Logger *slog.Logger
	// Enqueued is called after deliveries were committed, to wake the
	// local worker instead of waiting for its next poll.
	Enqueued func()
}

// Service runs incidents for every user.
type Service struct {
	st  store.Store
	reg Registry
	cfg Config
	log *slog.Logger

	// userLocks serialise one user's alerts inside this process, so a
	// double tap on SOS makes one incident, not two.
	userLocks sync.Map // int64 → *sync.Mutex
}

// New returns a Service over st, sending through reg.
func New(st store.Store, reg Registry, cfg Config) *Service {
	if cfg.CancelWindow <= 0 {
		cfg.CancelWindow = DefaultCancelWindow
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = DefaultAckTimeout
	}
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if cfg.MaxEscalations <= 0 {
		cfg.MaxEscalations = DefaultMaxEscalations
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	return &Service{st: st, reg: reg, cfg: cfg, log: lg}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

func (s *Service) enqueued() {
	if s.cfg.Enqueued != nil {
		s.cfg.Enqueued()
	}
}

// AlertInput is a request for help.
type AlertInput struct {
	Message  string
	Location *store.Location
	Trigger  string // TriggerManual or TriggerVoice
	Score    float64
}

// AlertOutcome is what an alert did.
type AlertOutcome struct {
	Incident *store.Incident
	// Joined: an incident was already open and the alert joined it.
	Joined bool
	// Warnings are for the user: nobody to alert, messages that will only
	// reach the server log, and so on.
	Warnings []string
	// Recipients and Deliveries are those just written, for a new
	// incident (nil when joined: read them from the store).
	Recipients []store.Recipient
	Deliveries []store.Delivery
}

// ValidateLocation checks a position fix from a device.
func ValidateLocation(l *store.Location) error {
	if l == nil {
		return nil
	}
	switch {
	case math.IsNaN(l.Lat) || l.Lat < -90 || l.Lat > 90:
		return invalid("location.lat", "latitude must be between -90 and 90")
	case math.IsNaN(l.Lon) || l.Lon < -180 || l.Lon > 180:
		return invalid("location.lon", "longitude must be between -180 and 180")
	case math.IsNaN(l.Accuracy) || l.Accuracy < 0 || l.Accuracy > 1e7:
		return invalid("location.accuracy", "accuracy must be between 0 and 10000000 metres")
	}
	return nil
}

func (in *AlertInput) validate() error {
	switch in.Trigger {
	case "":
		in.Trigger = TriggerManual
	case TriggerManual, TriggerVoice:
	default:
		return invalid("trigger", `must be "manual" or "voice"`)
	}
	if math.IsNaN(in.Score) || in.Score < 0 || in.Score > 1 {
		return invalid("score", "must be between 0 and 1")
	}
	if !utf8.ValidString(in.Message) {
		return invalid("message", "must be UTF-8 text")
	}
	if utf8.RuneCountInString(in.Message) > MaxMessageRunes {
		return invalid("message", "must be at most %d characters", MaxMessageRunes)
	}
	in.Message = strings.TrimSpace(in.Message)
	return ValidateLocation(in.Location)
}

func (s *Service) lockUser(id int64) func() {
	m, _ := s.userLocks.LoadOrStore(id, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// Alert asks for help for u. A manual alert is sent at once; a voice
// alert waits the cancel window. While an incident is open a new alert
// joins it (a manual one during a countdown sends it now).
func (s *Service) Alert(ctx context.Context, u *store.User, in AlertInput) (*AlertOutcome, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.now()
	if in.Location != nil {
		loc := *in.Location
		if loc.At.IsZero() || loc.At.After(now) {
			loc.At = now
		}
		in.Location = &loc
	}
	defer s.lockUser(u.ID)()
	open, err := s.st.OpenIncident(ctx, u.ID)
	switch {
	case err == nil:
		return s.join(ctx, u, open, in, now)
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("incident: alert: %w", err)
	}
	return s.create(ctx, u, in, now)
}

func (s *Service) create(ctx context.Context, u *store.User, in AlertInput, now time.Time) (*AlertOutcome, error) {
	contacts, err := s.st.ListContacts(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("incident: alert: %w", err)
	}
	inc := &store.Incident{
		ID: store.NewID(), UserID: u.ID, Trigger: in.Trigger, Message: in.Message, Score: in.Score,
		Location: in.Location, CreatedAt: now,
	}
	first := firstTier(contacts)
	if in.Trigger == TriggerManual {
		inc.State = store.StateActive
		if len(first) > 0 {
			inc.NextEscalationAt = now.Add(s.cfg.AckTimeout)
		}
	} else {
		inc.State = store.StatePending
		inc.ActivateAt = now.Add(s.cfg.CancelWindow)
	}
	recipients := make([]store.Recipient, 0, len(first))
	for _, c := range first {
		recipients = append(recipients, s.recipient(inc.ID, c))
	}
	var ds []store.Delivery
	var warnings []string
	if inc.State == store.StateActive {
		ds, warnings = s.alertDeliveries(u, inc, first, PurposeAlert, "alert", false)
	} else {
		_, warnings = s.plan(first)
	}
	if len(contacts) == 0 {
		warnings = append(warnings, "you have no emergency contacts: nobody can be alerted; add contacts first")
	}
	if err := s.st.CreateIncident(ctx, inc, recipients, ds); err != nil {
		return nil, fmt.Errorf("incident: alert: %w", err)
	}
	if len(ds) > 0 {
		s.enqueued()
	}
	s.log.Info("incident created", "incident", inc.ID, "user", u.ID, "trigger", inc.Trigger, "state", inc.State, "deliveries", len(ds))
	if ds == nil {
		ds = []store.Delivery{}
	}
	return &AlertOutcome{Incident: inc, Warnings: warnings, Recipients: recipients, Deliveries: ds}, nil
}

func (s *Service) join(ctx context.Context, u *store.User, open *store.Incident, in AlertInput, now time.Time) (*AlertOutcome, error) {
	out := &AlertOutcome{Incident: open, Joined: true}
	if in.Trigger == TriggerManual && open.State == store.StatePending {
		inc, warnings, err := s.activate(ctx, u, open, "SOS pressed during the countdown: sent now")
		switch {
		case errors.Is(err, store.ErrConflict): // the countdown ended (or was cancelled) just now
			if inc, err = s.st.GetIncident(ctx, u.ID, open.ID); err != nil {
				return nil, fmt.Errorf("incident: alert: %w", err)
			}
		case err != nil:
			return nil, err
		}
		out.Incident = inc
		out.Warnings = warnings
		return out, nil
	}
	detail := in.Trigger
	if in.Trigger == TriggerVoice {
		detail += " score " + strconv.FormatFloat(in.Score, 'f', 2, 64)
	}
	ev := &store.Event{IncidentID: open.ID, Kind: "detection", Detail: detail, At: now}
	if in.Location == nil {
		if err := s.st.AddEvent(ctx, ev); err != nil {
			return nil, fmt.Errorf("incident: join: %w", err)
		}
		return out, nil
	}
	next := *open
	next.Location = in.Location
	if in.Trigger == TriggerVoice && in.Score > next.Score {
		next.Score = in.Score
	}
	if err := s.st.UpdateIncident(ctx, &next, open.State, ev, nil); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return out, nil // it changed under us; the detection is moot
		}
		return nil, fmt.Errorf("incident: join: %w", err)
	}
	out.Incident = &next
	return out, nil
}

// firstTier is the contacts alerted first: those of the lowest tier.
func firstTier(contacts []store.Contact) []*store.Contact {
	tiers := tiersOf(contacts)
	if len(tiers) == 0 {
		return nil
	}
	return inTier(contacts, tiers[0])
}

func tiersOf(contacts []store.Contact) []int {
	seen := map[int]bool{}
	var tiers []int
	for _, c := range contacts {
		if !seen[c.Tier] {
			seen[c.Tier] = true
			tiers = append(tiers, c.Tier)
		}
	}
	sort.Ints(tiers)
	return tiers
}

func inTier(contacts []store.Contact, tier int) []*store.Contact {
	var out []*store.Contact
	for i := range contacts {
		if contacts[i].Tier == tier {
			out = append(out, &contacts[i])
		}
	}
	return out
}

func (s *Service) recipient(incidentID string, c *store.Contact) store.Recipient {
	return store.Recipient{
		IncidentID: incidentID, ContactID: c.ID, ContactName: c.Name,
		TokenHash: HashToken(s.cfg.Links.Token(incidentID, c.ID)),
	}
}

// plan picks each contact's channel and says which will only reach the log.
func (s *Service) plan(cs []*store.Contact) (map[int64]string, []string) {
	chans := make(map[int64]string, len(cs))
	var warnings []string
	var logged []string
	for _, c := range cs {
		ch, fellBack := firstChannel(s.reg, c)
		chans[c.ID] = ch
		if fellBack {
			logged = append(logged, c.Name)
		}
	}
	if len(logged) > 0 {
		warnings = append(warnings, fmt.Sprintf(
			"no provider is configured for the channels of %s: their messages go to the server log only (no SMS provider configured?)",
			strings.Join(logged, ", ")))
	}
	return chans, warnings
}

// alertDeliveries renders one message per contact on its first channel.
// keyPart makes the idempotency keys of this step unique and the same on
// every instance, so two instances cannot both enqueue it.
func (s *Service) alertDeliveries(u *store.User, inc *store.Incident, cs []*store.Contact, purpose, keyPart string, firstTime bool, since ...time.Time) ([]store.Delivery, []string) {
	chans, warnings := s.plan(cs)
	now := s.now()
	ds := make([]store.Delivery, 0, len(cs))
	for _, c := range cs {
		link := s.cfg.Links.URL(s.cfg.Links.Token(inc.ID, c.ID))
		r := render(messageInput{Purpose: purpose, Who: displayName(u), Inc: inc, Link: link, At: now,
			Level: inc.EscalationLevel, FirstTime: firstTime})
		if len(since) > 0 {
			r = render(messageInput{Purpose: purpose, Who: displayName(u), Inc: inc, Link: link, At: now, Since: since[0]})
		}
		ds = append(ds, s.delivery(u, inc, c, chans[c.ID], purpose, keyPart, r, link))
	}
	return ds, warnings
}

func (s *Service) delivery(u *store.User, inc *store.Incident, c *store.Contact, channel, purpose, keyPart string, r Rendered, link string) store.Delivery {
	key := inc.ID + "/" + keyPart + "/c" + strconv.FormatInt(c.ID, 10) + "/" + channel
	return store.Delivery{
		UserID: u.ID, IncidentID: inc.ID, ContactID: c.ID, Channel: channel, Purpose: purpose,
		Subject: r.Subject, Body: r.Body, URL: link, IdempotencyKey: key,
		State: store.DeliveryQueued, NextAttemptAt: s.now(),
	}
}

// recipientContacts returns the contacts behind an incident's recipients
// (deleted contacts are skipped: there is nowhere left to send).
func (s *Service) recipientContacts(ctx context.Context, inc *store.Incident) ([]store.Recipient, []*store.Contact, []store.Contact, error) {
	rs, err := s.st.Recipients(ctx, inc.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	all, err := s.st.ListContacts(ctx, inc.UserID)
	if err != nil {
		return nil, nil, nil, err
	}
	byID := make(map[int64]*store.Contact, len(all))
	for i := range all {
		byID[all[i].ID] = &all[i]
	}
	var cs []*store.Contact
	for _, r := range rs {
		if c := byID[r.ContactID]; c != nil {
			cs = append(cs, c)
		}
	}
	return rs, cs, all, nil
}

// activate ends a countdown: the incident becomes active and its
// recipients are alerted, in one transaction.
func (s *Service) activate(ctx context.Context, u *store.User, inc *store.Incident, detail string) (*store.Incident, []string, error) {
	_, cs, _, err := s.recipientContacts(ctx, inc)
	if err != nil {
		return nil, nil, fmt.Errorf("incident: activate: %w", err)
	}
	next := *inc
	next.State = store.StateActive
	if len(cs) > 0 {
		next.NextEscalationAt = s.now().Add(s.cfg.AckTimeout)
	}
	ds, warnings := s.alertDeliveries(u, &next, cs, PurposeAlert, "alert", false)
	ev := &store.Event{IncidentID: inc.ID, Kind: "activated", Detail: detail, At: s.now()}
	if err := s.st.UpdateIncident(ctx, &next, store.StatePending, ev, ds); err != nil {
		return nil, nil, fmt.Errorf("incident: activate: %w", err)
	}
	if len(ds) > 0 {
		s.enqueued()
	}
	s.log.Info("incident activated", "incident", inc.ID, "deliveries", len(ds))
	return &next, warnings, nil
}

// Cancel ends an incident as a false alarm. Contacts already alerted are
// told that no help is needed.
func (s *Service) Cancel(ctx context.Context, u *store.User, id string) (*store.Incident, error) {
	return s.close(ctx, u, id, store.StateCancelled, PurposeCancelled, "cancelled by the user")
}

// Resolve is "I'm safe": everyone alerted is told.
func (s *Service) Resolve(ctx context.Context, u *store.User, id string) (*store.Incident, error) {
	return s.close(ctx, u, id, store.StateResolved, PurposeResolved, "marked safe by the user")
}

func (s *Service) close(ctx context.Context, u *store.User, id string, to store.IncidentState, purpose, detail string) (*store.Incident, error) {
	for try := 0; ; try++ {
		inc, err := s.st.GetIncident(ctx, u.ID, id)
		if err != nil {
			return nil, fmt.Errorf("incident: %s: %w", to, err)
		}
		if !inc.State.Open() {
			return inc, ErrClosed
		}
		next := *inc
		next.State = to
		next.ClosedAt = s.now()
		next.NextEscalationAt = time.Time{}
		next.LastHeartbeatAt = time.Time{}
		var ds []store.Delivery
		if inc.State != store.StatePending { // a countdown alerted nobody yet
			_, cs, _, err := s.recipientContacts(ctx, inc)
			if err != nil {
				return nil, fmt.Errorf("incident: %s: %w", to, err)
			}
			ds, _ = s.alertDeliveries(u, &next, cs, purpose, purpose, false)
		}
		ev := &store.Event{IncidentID: id, Kind: string(to), Detail: detail, At: s.now()}
		err = s.st.UpdateIncident(ctx, &next, inc.State, ev, ds)
		if errors.Is(err, store.ErrConflict) && try < 3 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("incident: %s: %w", to, err)
		}
		if len(ds) > 0 {
			s.enqueued()
		}
		return &next, nil
	}
}

// UpdateLocation records a new position during an open incident.
func (s *Service) UpdateLocation(ctx context.Context, u *store.User, id string, loc store.Location) (*store.Incident, error) {
	if err := ValidateLocation(&loc); err != nil {
		return nil, err
	}
	if loc.At.IsZero() || loc.At.After(s.now()) {
		loc.At = s.now()
	}
	return s.modify(ctx, u, id, "location", func(next *store.Incident) *store.Event {
		next.Location = &loc
		return &store.Event{IncidentID: id, Kind: "location", Detail: locationText(&loc), At: s.now()}
	})
}

// Heartbeat records that the user's device is alive.
func (s *Service) Heartbeat(ctx context.Context, u *store.User, id string) (*store.Incident, error) {
	return s.modify(ctx, u, id, "heartbeat", func(next *store.Incident) *store.Event {
		next.LastHeartbeatAt = s.now()
		return nil // a heartbeat every few seconds would drown the timeline
	})
}

// modify changes an open incident without changing its state.
func (s *Service) modify(ctx context.Context, u *store.User, id, op string, change func(*store.Incident) *store.Event) (*store.Incident, error) {
	for try := 0; ; try++ {
		inc, err := s.st.GetIncident(ctx, u.ID, id)
		if err != nil {
			return nil, fmt.Errorf("incident: %s: %w", op, err)
		}
		if !inc.State.Open() {
			return inc, ErrClosed
		}
		next := *inc
		ev := change(&next)
		err = s.st.UpdateIncident(ctx, &next, inc.State, ev, nil)
		if errors.Is(err, store.ErrConflict) && try < 3 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("incident: %s: %w", op, err)
		}
		return &next, nil
	}
}

// SetFeedback stores the user's mark on a detection.
func (s *Service) SetFeedback(ctx context.Context, u *store.User, id, feedback string) error {
	if feedback != FeedbackFalseAlarm && feedback != FeedbackReal {
		return invalid("feedback", `must be "false_alarm" or "real"`)
	}
	if err := s.st.SetFeedback(ctx, u.ID, id, feedback); err != nil {
		return fmt.Errorf("incident: feedback: %w", err)
	}
	return nil
}

// LinkStatus is what a contact's link page shows.
type LinkStatus struct {
	Recipient *store.Recipient
	Incident  *store.Incident
	Who       string
	// Responders are the contacts who pressed "I'm responding".
	Responders []string
}

// Link looks up the incident behind a contact's link token.
func (s *Service) Link(ctx context.Context, token string) (*LinkStatus, error) {
	if len(token) < 16 || len(token) > 128 {
		return nil, fmt.Errorf("incident: link: %w", store.ErrNotFound)
	}
	r, inc, err := s.st.RecipientByToken(ctx, HashToken(token))
	if err != nil {
		return nil, fmt.Errorf("incident: link: %w", err)
	}
	u, err := s.st.UserByID(ctx, inc.UserID)
	if err != nil {
		return nil, fmt.Errorf("incident: link: %w", err)
	}
	rs, err := s.st.Recipients(ctx, inc.ID)
	if err != nil {
		return nil, fmt.Errorf("incident: link: %w", err)
	}
	st := &LinkStatus{Recipient: r, Incident: inc, Who: displayName(u)}
	for _, x := range rs {
		if !x.AcknowledgedAt.IsZero() {
			st.Responders = append(st.Responders, x.ContactName)
		}
	}
	return st, nil
}

// Acknowledge is a contact pressing "I'm responding": the incident is
// acknowledged and escalation stops.
func (s *Service) Acknowledge(ctx context.Context, token string) (*LinkStatus, error) {
	st, err := s.Link(ctx, token)
	if err != nil {
		return nil, err
	}
	inc, r := st.Incident, st.Recipient
	if inc.State != store.StateActive && inc.State != store.StateAcknowledged {
		return st, ErrClosed
	}
	now := s.now()
	if err := s.st.AcknowledgeRecipient(ctx, inc.ID, r.ContactID, now); err != nil {
		return nil, fmt.Errorf("incident: acknowledge: %w", err)
	}
	ev := &store.Event{IncidentID: inc.ID, Kind: "acknowledged", Detail: r.ContactName + " is responding", At: now}
	if inc.State == store.StateActive {
		next := *inc
		next.State = store.StateAcknowledged
		next.NextEscalationAt = time.Time{}
		err := s.st.UpdateIncident(ctx, &next, store.StateActive, ev, nil)
		switch {
		case err == nil:
			s.log.Info("incident acknowledged", "incident", inc.ID, "contact", r.ContactID)
			return s.Link(ctx, token)
		case !errors.Is(err, store.ErrConflict):
			return nil, fmt.Errorf("incident: acknowledge: %w", err)
		}
	}
	if err := s.st.AddEvent(ctx, ev); err != nil {
		return nil, fmt.Errorf("incident: acknowledge: %w", err)
	}
	return s.Link(ctx, token)
}

// TestContact queues a test message to one contact through the same
// durable path as an alert.
func (s *Service) TestContact(ctx context.Context, u *store.User, contactID int64) (*store.Delivery, []string, error) {
	c, err := s.st.GetContact(ctx, u.ID, contactID)
	if err != nil {
		return nil, nil, fmt.Errorf("incident: test contact: %w", err)
	}
	chans, warnings := s.plan([]*store.Contact{c})
	r := render(messageInput{Purpose: PurposeTest, Who: displayName(u), At: s.now()})
	d := store.Delivery{
		UserID: u.ID, ContactID: c.ID, Channel: chans[c.ID], Purpose: PurposeTest,
		Subject: r.Subject, Body: r.Body, IdempotencyKey: "test/" + store.NewID(),
		State: store.DeliveryQueued, NextAttemptAt: s.now(),
	}
	ds := []store.Delivery{d}
	if err := s.st.EnqueueDeliveries(ctx, ds); err != nil {
		return nil, nil, fmt.Errorf("incident: test contact: %w", err)
	}
	s.enqueued()
	return &ds[0], warnings, nil
}

package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/store"
)

func testCreateIncident(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	c1, c2 := mustContact(t, s, u.ID, "one", 0), mustContact(t, s, u.ID, "two", 0)
	inc, rs, ds := mustIncident(t, s, u, store.StateActive, c1, c2)
	if len(inc.ID) < 22 {
		t.Fatalf("generated incident id %q is shorter than 128 bits of base64", inc.ID)
	}
	if inc.CreatedAt.IsZero() || inc.UpdatedAt.IsZero() {
		t.Fatalf("CreateIncident left times unset: %+v", inc)
	}
	for i, d := range ds {
		if d.ID == 0 || d.IncidentID != inc.ID || d.UserID != u.ID || d.State != store.DeliveryQueued || d.IdempotencyKey == "" || d.NextAttemptAt.IsZero() {
			t.Fatalf("delivery %d after CreateIncident: %+v", i, d)
		}
	}
	if ds[0].IdempotencyKey == ds[1].IdempotencyKey {
		t.Fatal("two deliveries got the same idempotency key")
	}
	for _, r := range rs {
		if r.IncidentID != inc.ID {
			t.Fatalf("recipient incident id %q, want %q", r.IncidentID, inc.ID)
		}
	}

	got, err := s.GetIncident(c, u.ID, inc.ID)
	noErr(t, "GetIncident", err)
	if got.State != store.StateActive || got.Trigger != "manual" || got.Message != "help" || got.UserID != u.ID || got.Location != nil {
		t.Fatalf("GetIncident = %+v", got)
	}
	evs, err := s.Events(c, inc.ID)
	noErr(t, "Events", err)
	if len(evs) != 1 || evs[0].Kind != "created" || evs[0].IncidentID != inc.ID || evs[0].ID == 0 {
		t.Fatalf("events after CreateIncident = %+v", evs)
	}
	gotRs, err := s.Recipients(c, inc.ID)
	noErr(t, "Recipients", err)
	if len(gotRs) != 2 || gotRs[0].ContactID != c1.ID || gotRs[1].ContactID != c2.ID || gotRs[0].ContactName != "one" {
		t.Fatalf("Recipients = %+v", gotRs)
	}
	gotDs, err := s.ListDeliveries(c, u.ID, inc.ID)
	noErr(t, "ListDeliveries", err)
	if len(gotDs) != 2 || gotDs[0].ID != ds[0].ID || gotDs[0].Body != "help one" || gotDs[0].Purpose != "alert" {
		t.Fatalf("ListDeliveries = %+v", gotDs)
	}
	if n := queueDepth(t, s); n != 2 {
		t.Fatalf("QueueDepth = %d, want 2", n)
	}

	// A caller-chosen id is kept; reusing it is a conflict.
	mine := &store.Incident{ID: "caller-chosen-id", UserID: u.ID, State: store.StatePending, Trigger: "voice",
		ActivateAt: time.Now().Add(10 * time.Second)}
	noErr(t, "CreateIncident with id", s.CreateIncident(c, mine, nil, nil))
	wantErr(t, "CreateIncident with a taken id", s.CreateIncident(c, &store.Incident{ID: "caller-chosen-id", UserID: u.ID, State: store.StateActive}, nil, nil), store.ErrConflict)
	wantErr(t, "CreateIncident for unknown user", s.CreateIncident(c, &store.Incident{UserID: u.ID + 1000, State: store.StateActive}, nil, nil), store.ErrNotFound)
}

// testCreateIncidentAtomic: if any part fails, nothing of the incident is
// written — no incident, no event, no recipient, no delivery.
func testCreateIncidentAtomic(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	ct := mustContact(t, s, u.ID, "one", 0)
	_, rs, ds := mustIncident(t, s, u, store.StateResolved, ct)
	depth := queueDepth(t, s)

	cases := []struct {
		name string
		rs   []store.Recipient
		ds   []store.Delivery
	}{
		{"duplicate idempotency key in the last delivery",
			[]store.Recipient{{ContactID: ct.ID, TokenHash: hash("fresh-1")}},
			[]store.Delivery{{ContactID: ct.ID, Channel: "sms"}, {ContactID: ct.ID, Channel: "email", IdempotencyKey: ds[0].IdempotencyKey}}},
		{"duplicate recipient token",
			[]store.Recipient{{ContactID: ct.ID, TokenHash: rs[0].TokenHash}},
			[]store.Delivery{{ContactID: ct.ID, Channel: "sms"}}},
		{"same contact twice",
			[]store.Recipient{{ContactID: ct.ID, TokenHash: hash("fresh-2")}, {ContactID: ct.ID, TokenHash: hash("fresh-3")}},
			nil},
	}
	for _, tc := range cases {
		inc := &store.Incident{ID: "atomic-" + store.NewID(), UserID: u.ID, State: store.StateActive, Trigger: "manual"}
		err := s.CreateIncident(c, inc, tc.rs, tc.ds)
		wantErr(t, "CreateIncident with "+tc.name, err, store.ErrConflict)
		_, err = s.GetIncident(c, u.ID, inc.ID)
		wantErr(t, tc.name+": incident written anyway", err, store.ErrNotFound)
		evs, err := s.Events(c, inc.ID)
		noErr(t, "Events", err)
		if len(evs) != 0 {
			t.Fatalf("%s: events written anyway: %+v", tc.name, evs)
		}
		got, err := s.Recipients(c, inc.ID)
		noErr(t, "Recipients", err)
		if len(got) != 0 {
			t.Fatalf("%s: recipients written anyway: %+v", tc.name, got)
		}
		if _, _, err := s.RecipientByToken(c, hash("fresh-1")); err == nil {
			t.Fatalf("%s: recipient token stored anyway", tc.name)
		}
		if n := queueDepth(t, s); n != depth {
			t.Fatalf("%s: queue depth %d, want %d: deliveries written anyway", tc.name, n, depth)
		}
		if tc.ds != nil && tc.ds[0].ID != 0 {
			t.Fatalf("%s: failed CreateIncident still assigned delivery id %d", tc.name, tc.ds[0].ID)
		}
	}
	list, err := s.ListIncidents(c, u.ID, 0)
	noErr(t, "ListIncidents", err)
	if len(list) != 1 {
		t.Fatalf("ListIncidents = %d incidents, want only the first", len(list))
	}
}

func testIncidentIsolation(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := mustUser(t, s, "a"), mustUser(t, s, "b")
	inc, _, _ := mustIncident(t, s, a, store.StateActive, mustContact(t, s, a.ID, "mum", 0))

	_, err := s.GetIncident(c, b.ID, inc.ID)
	wantErr(t, "B reads A's incident", err, store.ErrNotFound)
	stolen := *inc
	stolen.UserID, stolen.State = b.ID, store.StateCancelled
	wantErr(t, "B updates A's incident", s.UpdateIncident(c, &stolen, store.StateActive, &store.Event{Kind: "cancelled"}, nil), store.ErrNotFound)
	wantErr(t, "B marks A's incident", s.SetFeedback(c, b.ID, inc.ID, "false_alarm"), store.ErrNotFound)
	_, err = s.ListDeliveries(c, b.ID, inc.ID)
	wantErr(t, "B lists A's deliveries", err, store.ErrNotFound)
	_, err = s.OpenIncident(c, b.ID)
	wantErr(t, "B's open incident", err, store.ErrNotFound)
	list, err := s.ListIncidents(c, b.ID, 10)
	noErr(t, "ListIncidents(b)", err)
	if len(list) != 0 {
		t.Fatalf("B sees incidents: %+v", list)
	}
	all, err := s.ListDeliveries(c, b.ID, "")
	noErr(t, "ListDeliveries(b, all)", err)
	if len(all) != 0 {
		t.Fatalf("B sees deliveries: %+v", all)
	}

	got, err := s.GetIncident(c, a.ID, inc.ID)
	noErr(t, "GetIncident(a)", err)
	if got.State != store.StateActive || got.Feedback != "" {
		t.Fatalf("A's incident changed by B: %+v", got)
	}
	evs, err := s.Events(c, inc.ID)
	noErr(t, "Events", err)
	if len(evs) != 1 {
		t.Fatalf("B's failed update appended an event: %+v", evs)
	}

	noErr(t, "SetFeedback(a)", s.SetFeedback(c, a.ID, inc.ID, "real"))
	got, err = s.GetIncident(c, a.ID, inc.ID)
	noErr(t, "GetIncident(a)", err)
	if got.Feedback != "real" {
		t.Fatalf("Feedback = %q", got.Feedback)
	}
}

// testTimesRoundTrip: every time field comes back in UTC within 1 µs,
// from a non-UTC, nanosecond-precise input.
func testTimesRoundTrip(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	zone := time.FixedZone("IST", 5*3600+1800)
	base := time.Date(2026, 3, 8, 21, 15, 7, 123456789, zone)
	inc := &store.Incident{UserID: u.ID, State: store.StatePending, Trigger: "voice", Score: 0.87,
		Location:         &store.Location{Lat: 12.971599, Lon: 77.594566, Accuracy: 14.5, At: base.Add(time.Second)},
		ActivateAt:       base.Add(10 * time.Second),
		NextEscalationAt: base.Add(5 * time.Minute),
		LastHeartbeatAt:  base.Add(2 * time.Second),
		CreatedAt:        base,
	}
	noErr(t, "CreateIncident", s.CreateIncident(c, inc, nil, nil))
	got, err := s.GetIncident(c, u.ID, inc.ID)
	noErr(t, "GetIncident", err)
	sameTime(t, "CreatedAt", got.CreatedAt, base)
	sameTime(t, "ActivateAt", got.ActivateAt, base.Add(10*time.Second))
	sameTime(t, "NextEscalationAt", got.NextEscalationAt, base.Add(5*time.Minute))
	sameTime(t, "LastHeartbeatAt", got.LastHeartbeatAt, base.Add(2*time.Second))
	sameTime(t, "ClosedAt", got.ClosedAt, time.Time{})
	if got.Location == nil {
		t.Fatal("Location lost")
	}
	sameTime(t, "Location.At", got.Location.At, base.Add(time.Second))
	if got.Location.Lat != 12.971599 || got.Location.Lon != 77.594566 || got.Location.Accuracy != 14.5 || got.Score != 0.87 {
		t.Fatalf("Location/score = %+v / %v", got.Location, got.Score)
	}
	// What the caller's struct holds after the write equals what is read.
	sameTime(t, "caller's UpdatedAt", got.UpdatedAt, inc.UpdatedAt)
	sameTime(t, "caller's ActivateAt", inc.ActivateAt, got.ActivateAt)

	// Closing: the zero times clear, ClosedAt is set.
	closed := base.Add(time.Hour)
	inc.State, inc.ClosedAt, inc.NextEscalationAt, inc.Location = store.StateResolved, closed, time.Time{}, nil
	noErr(t, "UpdateIncident", s.UpdateIncident(c, inc, store.StatePending, nil, nil))
	got, err = s.GetIncident(c, u.ID, inc.ID)
	noErr(t, "GetIncident", err)
	sameTime(t, "ClosedAt", got.ClosedAt, closed)
	sameTime(t, "cleared NextEscalationAt", got.NextEscalationAt, time.Time{})
	if got.Location != nil {
		t.Fatalf("cleared Location = %+v", got.Location)
	}
}

func testListIncidents(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	t0 := time.Now().Add(-time.Hour)
	var ids []string
	for i := range 5 {
		inc := &store.Incident{UserID: u.ID, State: store.StateResolved, Trigger: "manual", CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		noErr(t, "CreateIncident", s.CreateIncident(c, inc, nil, nil))
		ids = append(ids, inc.ID)
	}
	list, err := s.ListIncidents(c, u.ID, 3)
	noErr(t, "ListIncidents", err)
	if len(list) != 3 || list[0].ID != ids[4] || list[1].ID != ids[3] || list[2].ID != ids[2] {
		t.Fatalf("ListIncidents(3) not newest first: %+v", list)
	}
	list, err = s.ListIncidents(c, u.ID, 0)
	noErr(t, "ListIncidents(0)", err)
	if len(list) != 5 {
		t.Fatalf("ListIncidents(0) = %d, want all 5", len(list))
	}
}

func testOpenIncident(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	_, err := s.OpenIncident(c, u.ID)
	wantErr(t, "OpenIncident with none", err, store.ErrNotFound)
	mustIncident(t, s, u, store.StateCancelled)
	mustIncident(t, s, u, store.StateResolved)
	_, err = s.OpenIncident(c, u.ID)
	wantErr(t, "OpenIncident with only closed ones", err, store.ErrNotFound)
	for _, st := range []store.IncidentState{store.StatePending, store.StateActive, store.StateAcknowledged} {
		inc, _, _ := mustIncident(t, s, u, st)
		got, err := s.OpenIncident(c, u.ID)
		noErr(t, "OpenIncident", err)
		if got.ID != inc.ID || got.State != st {
			t.Fatalf("OpenIncident = %s (%s), want %s (%s)", got.ID, got.State, inc.ID, st)
		}
		inc.State = store.StateResolved
		noErr(t, "resolve", s.UpdateIncident(c, inc, st, nil, nil))
	}
	_, err = s.OpenIncident(c, u.ID)
	wantErr(t, "OpenIncident after resolving", err, store.ErrNotFound)
}

func testUpdateIncident(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	ct := mustContact(t, s, u.ID, "one", 0)
	inc, _, _ := mustIncident(t, s, u, store.StatePending, ct)

	inc.State = store.StateActive
	inc.EscalationLevel = 1
	inc.Location = &store.Location{Lat: 1, Lon: 2}
	ev := &store.Event{Kind: "activated", Detail: "countdown ended"}
	ds := []store.Delivery{{ContactID: ct.ID, Channel: store.ChannelVoice, Purpose: "escalation"}}
	noErr(t, "UpdateIncident pending→active", s.UpdateIncident(c, inc, store.StatePending, ev, ds))
	if ev.ID == 0 || ev.IncidentID != inc.ID || ev.At.IsZero() {
		t.Fatalf("event after UpdateIncident: %+v", ev)
	}
	if ds[0].ID == 0 || ds[0].IncidentID != inc.ID || ds[0].UserID != u.ID {
		t.Fatalf("delivery after UpdateIncident: %+v", ds[0])
	}
	got, err := s.GetIncident(c, u.ID, inc.ID)
	noErr(t, "GetIncident", err)
	if got.State != store.StateActive || got.EscalationLevel != 1 || got.Location == nil || got.Location.Lon != 2 || got.Trigger != "manual" {
		t.Fatalf("after update: %+v", got)
	}

	// A second worker that still believes the incident is pending loses,
	// and nothing of its transition is written.
	stale := *inc
	stale.State = store.StateCancelled
	err = s.UpdateIncident(c, &stale, store.StatePending, &store.Event{Kind: "cancelled"},
		[]store.Delivery{{ContactID: ct.ID, Channel: store.ChannelSMS, Purpose: "cancelled"}})
	wantErr(t, "UpdateIncident from a stale state", err, store.ErrConflict)
	got, err = s.GetIncident(c, u.ID, inc.ID)
	noErr(t, "GetIncident", err)
	if got.State != store.StateActive {
		t.Fatalf("state after conflicting update = %s", got.State)
	}
	evs, err := s.Events(c, inc.ID)
	noErr(t, "Events", err)
	if len(evs) != 2 {
		t.Fatalf("events = %+v, want created+activated only", evs)
	}
	list, err := s.ListDeliveries(c, u.ID, inc.ID)
	noErr(t, "ListDeliveries", err)
	if len(list) != 2 {
		t.Fatalf("deliveries = %d, want 2 (conflicting update enqueued anyway?)", len(list))
	}

	// A same-state update (heartbeat) with no event works.
	hb := time.Now()
	inc.LastHeartbeatAt = hb
	noErr(t, "heartbeat update", s.UpdateIncident(c, inc, store.StateActive, nil, nil))
	got, err = s.GetIncident(c, u.ID, inc.ID)
	noErr(t, "GetIncident", err)
	sameTime(t, "LastHeartbeatAt", got.LastHeartbeatAt, hb)

	wantErr(t, "UpdateIncident(unknown)", s.UpdateIncident(c, &store.Incident{ID: "nope", UserID: u.ID, State: store.StateActive}, store.StatePending, nil, nil), store.ErrNotFound)
}

func testEvents(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	inc, _, _ := mustIncident(t, s, u, store.StateActive)
	for _, k := range []string{"location", "detection", "escalated"} {
		ev := &store.Event{IncidentID: inc.ID, Kind: k, Detail: "d-" + k}
		noErr(t, "AddEvent", s.AddEvent(c, ev))
		if ev.ID == 0 || ev.At.IsZero() {
			t.Fatalf("AddEvent left fields unset: %+v", ev)
		}
	}
	evs, err := s.Events(c, inc.ID)
	noErr(t, "Events", err)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if len(evs) != 4 || kinds[0] != "created" || kinds[1] != "location" || kinds[3] != "escalated" || evs[2].Detail != "d-detection" {
		t.Fatalf("Events = %v", kinds)
	}
	wantErr(t, "AddEvent to unknown incident", s.AddEvent(c, &store.Event{IncidentID: "nope", Kind: "x"}), store.ErrNotFound)
}

func testRecipients(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	c1, c2, c3 := mustContact(t, s, u.ID, "one", 0), mustContact(t, s, u.ID, "two", 0), mustContact(t, s, u.ID, "three", 1)
	inc, rs, _ := mustIncident(t, s, u, store.StateActive, c1, c2)

	r, gotInc, err := s.RecipientByToken(c, rs[1].TokenHash)
	noErr(t, "RecipientByToken", err)
	if r.ContactID != c2.ID || r.IncidentID != inc.ID || r.ContactName != "two" || !bytes.Equal(r.TokenHash, rs[1].TokenHash) || !r.AcknowledgedAt.IsZero() {
		t.Fatalf("RecipientByToken = %+v", r)
	}
	if gotInc.ID != inc.ID || gotInc.UserID != u.ID || gotInc.State != store.StateActive {
		t.Fatalf("RecipientByToken incident = %+v", gotInc)
	}
	_, _, err = s.RecipientByToken(c, hash("guess"))
	wantErr(t, "RecipientByToken(guess)", err, store.ErrNotFound)

	ack := time.Now().Add(-time.Minute)
	noErr(t, "AcknowledgeRecipient", s.AcknowledgeRecipient(c, inc.ID, c2.ID, ack))
	noErr(t, "AcknowledgeRecipient again", s.AcknowledgeRecipient(c, inc.ID, c2.ID, time.Now()))
	r, _, err = s.RecipientByToken(c, rs[1].TokenHash)
	noErr(t, "RecipientByToken", err)
	sameTime(t, "AcknowledgedAt keeps the first", r.AcknowledgedAt, ack)
	wantErr(t, "AcknowledgeRecipient(unknown)", s.AcknowledgeRecipient(c, inc.ID, c3.ID, ack), store.ErrNotFound)

	more := []store.Recipient{{IncidentID: inc.ID, ContactID: c3.ID, ContactName: "three", TokenHash: hash("t3")}}
	noErr(t, "AddRecipients", s.AddRecipients(c, more))
	if more[0].CreatedAt.IsZero() {
		t.Fatal("AddRecipients left CreatedAt zero")
	}
	wantErr(t, "AddRecipients same contact again", s.AddRecipients(c, []store.Recipient{{IncidentID: inc.ID, ContactID: c3.ID, TokenHash: hash("t3b")}}), store.ErrConflict)
	wantErr(t, "AddRecipients to unknown incident", s.AddRecipients(c, []store.Recipient{{IncidentID: "nope", ContactID: c3.ID, TokenHash: hash("t4")}}), store.ErrNotFound)
	all, err := s.Recipients(c, inc.ID)
	noErr(t, "Recipients", err)
	if len(all) != 3 || all[2].ContactID != c3.ID {
		t.Fatalf("Recipients = %+v", all)
	}
	if all[1].AcknowledgedAt.IsZero() || !all[0].AcknowledgedAt.IsZero() {
		t.Fatalf("acknowledgements = %v / %v", all[0].AcknowledgedAt, all[1].AcknowledgedAt)
	}

	// A deleted contact stays on the record of who was alerted.
	noErr(t, "DeleteContact", s.DeleteContact(c, u.ID, c1.ID))
	all, err = s.Recipients(c, inc.ID)
	noErr(t, "Recipients after delete", err)
	if len(all) != 3 || all[0].ContactName != "one" {
		t.Fatalf("Recipients after deleting a contact = %+v", all)
	}
}

func testDueIncidents(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := mustUser(t, s, "a"), mustUser(t, s, "b")
	now := time.Now()
	past, future := now.Add(-time.Second), now.Add(time.Minute)
	const hbTimeout = 30 * time.Second
	type spec struct {
		name string
		inc  store.Incident
		due  bool // with hbTimeout
	}
	specs := []spec{
		{"countdown ended", store.Incident{UserID: a.ID, State: store.StatePending, ActivateAt: past}, true},
		{"countdown running", store.Incident{UserID: a.ID, State: store.StatePending, ActivateAt: future}, false},
		{"escalation due", store.Incident{UserID: b.ID, State: store.StateActive, NextEscalationAt: past}, true},
		{"escalation later", store.Incident{UserID: b.ID, State: store.StateActive, NextEscalationAt: future}, false},
		{"acknowledged, escalation due", store.Incident{UserID: a.ID, State: store.StateAcknowledged, NextEscalationAt: past}, true},
		{"heartbeat lost", store.Incident{UserID: b.ID, State: store.StateActive, LastHeartbeatAt: now.Add(-hbTimeout - time.Second)}, true},
		{"heartbeat fresh", store.Incident{UserID: a.ID, State: store.StateActive, LastHeartbeatAt: now.Add(-hbTimeout + time.Second)}, false},
		{"never had heartbeats", store.Incident{UserID: a.ID, State: store.StateActive}, false},
		{"resolved with every deadline past", store.Incident{UserID: b.ID, State: store.StateResolved, ActivateAt: past, NextEscalationAt: past, LastHeartbeatAt: past.Add(-time.Hour)}, false},
		{"cancelled countdown", store.Incident{UserID: a.ID, State: store.StateCancelled, ActivateAt: past}, false},
		{"active with an old activate_at", store.Incident{UserID: a.ID, State: store.StateActive, ActivateAt: past}, false},
	}
	byID := map[string]spec{}
	for i := range specs {
		inc := specs[i].inc
		inc.Trigger = "voice"
		noErr(t, "CreateIncident "+specs[i].name, s.CreateIncident(c, &inc, nil, nil))
		specs[i].inc = inc
		byID[inc.ID] = specs[i]
	}
	check := func(timeout time.Duration, want func(sp spec) bool) {
		t.Helper()
		due, err := s.DueIncidents(c, now, timeout)
		noErr(t, "DueIncidents", err)
		got := map[string]bool{}
		for _, inc := range due {
			got[inc.ID] = true
			if _, ok := byID[inc.ID]; !ok {
				t.Fatalf("DueIncidents returned unknown %s", inc.ID)
			}
		}
		for id, sp := range byID {
			if got[id] != want(sp) {
				t.Errorf("timeout %v: %q due = %v, want %v", timeout, sp.name, got[id], want(sp))
			}
		}
	}
	check(hbTimeout, func(sp spec) bool { return sp.due })
	// Without a heartbeat timeout, a lost heartbeat is not a deadline.
	check(0, func(sp spec) bool { return sp.due && sp.name != "heartbeat lost" })
}

package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/store"
)

const lease = 30 * time.Second

func ids(ds []store.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func testQueue(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	now := time.Now()
	due := enqueue(t, s, u, 5, time.Time{})
	later := enqueue(t, s, u, 2, now.Add(time.Hour))
	if n := queueDepth(t, s); n != 7 {
		t.Fatalf("QueueDepth = %d, want 7", n)
	}

	got, err := s.LeaseDeliveries(c, "w1", now.Add(time.Second), lease, 3)
	noErr(t, "LeaseDeliveries", err)
	if len(got) != 3 {
		t.Fatalf("leased %d, want 3 (n caps the batch)", len(got))
	}
	for i, d := range got {
		if d.ID != due[i].ID {
			t.Fatalf("leased %v, want the oldest first %v", ids(got), ids(due[:3]))
		}
		if d.State != store.DeliverySending || d.LeaseOwner != "w1" || d.Attempts != 1 || d.Body != due[i].Body || d.IdempotencyKey != due[i].IdempotencyKey {
			t.Fatalf("leased delivery = %+v", d)
		}
		sameTime(t, "LeaseUntil", d.LeaseUntil, now.Add(time.Second).Add(lease))
	}
	got2, err := s.LeaseDeliveries(c, "w2", now.Add(time.Second), lease, 10)
	noErr(t, "LeaseDeliveries", err)
	if len(got2) != 2 || got2[0].ID != due[3].ID || got2[1].ID != due[4].ID {
		t.Fatalf("second lease = %v, want the two remaining due ones (not the leased, not the later)", ids(got2))
	}
	none, err := s.LeaseDeliveries(c, "w3", now.Add(time.Second), lease, 10)
	noErr(t, "LeaseDeliveries", err)
	if len(none) != 0 {
		t.Fatalf("third lease = %v, want none", ids(none))
	}
	if n := queueDepth(t, s); n != 7 {
		t.Fatalf("QueueDepth = %d, want 7 (sending counts)", n)
	}

	// NextAttemptAt is respected: the later ones come due an hour on —
	// when the first leases have also expired (now+1h > now+1s+30s).
	at := now.Add(time.Hour)
	for _, d := range append(got, got2...) {
		d.State = store.DeliverySent
		d.ProviderID = fmt.Sprintf("p-%d", d.ID)
		noErr(t, "CompleteDelivery", s.CompleteDelivery(c, &d, d.LeaseOwner))
	}
	if n := queueDepth(t, s); n != 2 {
		t.Fatalf("QueueDepth = %d, want 2 after sending 5", n)
	}
	got3, err := s.LeaseDeliveries(c, "w1", at, lease, 10)
	noErr(t, "LeaseDeliveries", err)
	if len(got3) != 2 || got3[0].ID != later[0].ID || got3[1].ID != later[1].ID {
		t.Fatalf("lease at +1h = %v, want %v", ids(got3), ids(later))
	}

	_, err = s.LeaseDeliveries(c, "", now, lease, 1)
	if err == nil {
		t.Fatal("LeaseDeliveries with no owner succeeded")
	}
}

func testLeaseExpiry(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	now := time.Now()
	enqueue(t, s, u, 1, now)
	first, err := s.LeaseDeliveries(c, "crashed", now, lease, 1)
	noErr(t, "LeaseDeliveries", err)
	if len(first) != 1 {
		t.Fatalf("leased %d", len(first))
	}
	// Just before the lease ends nobody else gets it; at its end another
	// worker does, and the attempt is counted.
	got, err := s.LeaseDeliveries(c, "w2", now.Add(lease-time.Millisecond), lease, 1)
	noErr(t, "LeaseDeliveries", err)
	if len(got) != 0 {
		t.Fatalf("re-leased before the lease expired: %+v", got)
	}
	got, err = s.LeaseDeliveries(c, "w2", now.Add(lease), lease, 1)
	noErr(t, "LeaseDeliveries", err)
	if len(got) != 1 || got[0].ID != first[0].ID || got[0].LeaseOwner != "w2" || got[0].Attempts != 2 {
		t.Fatalf("expired lease re-leased as %+v", got)
	}

	// The crashed worker comes back: its completion is refused.
	stale := first[0]
	stale.State = store.DeliverySent
	wantErr(t, "CompleteDelivery by the stale owner", s.CompleteDelivery(c, &stale, "crashed"), store.ErrConflict)
	d := got[0]
	d.State, d.ProviderID = store.DeliverySent, "SM123"
	noErr(t, "CompleteDelivery by the owner", s.CompleteDelivery(c, &d, "w2"))
	wantErr(t, "CompleteDelivery twice", s.CompleteDelivery(c, &d, "w2"), store.ErrConflict)
	list, err := s.ListDeliveries(c, u.ID, "")
	noErr(t, "ListDeliveries", err)
	if len(list) != 1 || list[0].State != store.DeliverySent || list[0].ProviderID != "SM123" || list[0].LeaseOwner != "" || !list[0].LeaseUntil.IsZero() {
		t.Fatalf("after completion: %+v", list)
	}
}

func testCompleteDelivery(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	now := time.Now()
	enqueue(t, s, u, 2, now)
	got, err := s.LeaseDeliveries(c, "w", now, lease, 2)
	noErr(t, "LeaseDeliveries", err)
	if len(got) != 2 {
		t.Fatalf("leased %d", len(got))
	}

	// Retry: queued again with a backoff, and the error kept.
	retry := got[0]
	retry.State, retry.LastError, retry.NextAttemptAt = store.DeliveryQueued, "503 from provider", now.Add(time.Minute)
	noErr(t, "CompleteDelivery(retry)", s.CompleteDelivery(c, &retry, "w"))
	// Fail for good, falling over to another channel is the caller's new
	// delivery; here the channel is rewritten in place.
	failed := got[1]
	failed.State, failed.LastError, failed.Channel = store.DeliveryFailed, "400 invalid number", store.ChannelEmail
	noErr(t, "CompleteDelivery(failed)", s.CompleteDelivery(c, &failed, "w"))
	if n := queueDepth(t, s); n != 1 {
		t.Fatalf("QueueDepth = %d, want 1 (the retry)", n)
	}

	early, err := s.LeaseDeliveries(c, "w", now.Add(59*time.Second), lease, 10)
	noErr(t, "LeaseDeliveries", err)
	if len(early) != 0 {
		t.Fatalf("retry leased before its NextAttemptAt: %+v", early)
	}
	again, err := s.LeaseDeliveries(c, "w", now.Add(time.Minute), lease, 10)
	noErr(t, "LeaseDeliveries", err)
	if len(again) != 1 || again[0].ID != retry.ID || again[0].Attempts != 2 || again[0].LastError != "503 from provider" {
		t.Fatalf("retry lease = %+v", again)
	}
	list, err := s.ListDeliveries(c, u.ID, "")
	noErr(t, "ListDeliveries", err)
	var f *store.Delivery
	for i := range list {
		if list[i].ID == failed.ID {
			f = &list[i]
		}
	}
	if f == nil || f.State != store.DeliveryFailed || f.LastError != "400 invalid number" || f.Channel != store.ChannelEmail {
		t.Fatalf("failed delivery = %+v", f)
	}

	bad := again[0]
	bad.State = store.DeliverySending
	if err := s.CompleteDelivery(c, &bad, "w"); err == nil {
		t.Fatal("CompleteDelivery with state sending succeeded")
	}
	unknown := again[0]
	unknown.ID += 1000
	unknown.State = store.DeliverySent
	wantErr(t, "CompleteDelivery(unknown)", s.CompleteDelivery(c, &unknown, "w"), store.ErrNotFound)
}

func testIdempotencyKey(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	ds := []store.Delivery{{UserID: u.ID, ContactID: 1, Channel: store.ChannelSMS, IdempotencyKey: "alert-1-sms"}}
	noErr(t, "EnqueueDeliveries", s.EnqueueDeliveries(c, ds))
	if ds[0].IdempotencyKey != "alert-1-sms" {
		t.Fatalf("caller's key replaced by %q", ds[0].IdempotencyKey)
	}
	dup := []store.Delivery{
		{UserID: u.ID, ContactID: 2, Channel: store.ChannelSMS},
		{UserID: u.ID, ContactID: 1, Channel: store.ChannelSMS, IdempotencyKey: "alert-1-sms"},
	}
	wantErr(t, "EnqueueDeliveries with a used key", s.EnqueueDeliveries(c, dup), store.ErrConflict)
	if n := queueDepth(t, s); n != 1 {
		t.Fatalf("QueueDepth = %d after a failed batch, want 1 (batch is all or nothing)", n)
	}
	wantErr(t, "EnqueueDeliveries for unknown user", s.EnqueueDeliveries(c, []store.Delivery{{UserID: u.ID + 1000, Channel: "sms"}}), store.ErrNotFound)
	wantErr(t, "EnqueueDeliveries for unknown incident", s.EnqueueDeliveries(c, []store.Delivery{{UserID: u.ID, IncidentID: "nope", Channel: "sms"}}), store.ErrNotFound)
}

func testDeliveryStatus(t *testing.T, s store.Store) {
	c := ctx(t)
	u := mustUser(t, s, "a")
	now := time.Now()
	enqueue(t, s, u, 2, now)
	got, err := s.LeaseDeliveries(c, "w", now, lease, 2)
	noErr(t, "LeaseDeliveries", err)
	for i := range got {
		got[i].State = store.DeliverySent
		got[i].ProviderID = "SM-shared"
		if i == 1 {
			got[i].Channel = store.ChannelVoice // same provider id, other channel
		}
		noErr(t, "CompleteDelivery", s.CompleteDelivery(c, &got[i], "w"))
	}
	noErr(t, "UpdateDeliveryStatus", s.UpdateDeliveryStatus(c, store.ChannelLog, "SM-shared", store.DeliveryDelivered, ""))
	// A late "sent" callback does not undo "delivered".
	noErr(t, "UpdateDeliveryStatus late sent", s.UpdateDeliveryStatus(c, store.ChannelLog, "SM-shared", store.DeliverySent, ""))
	noErr(t, "UpdateDeliveryStatus voice failed", s.UpdateDeliveryStatus(c, store.ChannelVoice, "SM-shared", store.DeliveryFailed, "no-answer"))
	wantErr(t, "UpdateDeliveryStatus(unknown id)", s.UpdateDeliveryStatus(c, store.ChannelLog, "SM-other", store.DeliveryDelivered, ""), store.ErrNotFound)
	wantErr(t, "UpdateDeliveryStatus(other channel)", s.UpdateDeliveryStatus(c, store.ChannelSMS, "SM-shared", store.DeliveryDelivered, ""), store.ErrNotFound)
	wantErr(t, "UpdateDeliveryStatus(empty id)", s.UpdateDeliveryStatus(c, store.ChannelLog, "", store.DeliveryDelivered, ""), store.ErrNotFound)

	list, err := s.ListDeliveries(c, u.ID, "")
	noErr(t, "ListDeliveries", err)
	states := map[int64]*store.Delivery{}
	for i := range list {
		states[list[i].ID] = &list[i]
	}
	if d := states[got[0].ID]; d.State != store.DeliveryDelivered {
		t.Fatalf("log delivery = %+v, want delivered", d)
	}
	if d := states[got[1].ID]; d.State != store.DeliveryFailed || d.LastError != "no-answer" {
		t.Fatalf("voice delivery = %+v, want failed/no-answer", d)
	}
}

func testListDeliveries(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := mustUser(t, s, "a"), mustUser(t, s, "b")
	ct := mustContact(t, s, a.ID, "one", 0)
	inc, _, ds := mustIncident(t, s, a, store.StateActive, ct)
	test := enqueue(t, s, a, 1, time.Time{}) // a contact test message: no incident
	enqueue(t, s, b, 1, time.Time{})

	list, err := s.ListDeliveries(c, a.ID, inc.ID)
	noErr(t, "ListDeliveries(incident)", err)
	if len(list) != 1 || list[0].ID != ds[0].ID {
		t.Fatalf("incident deliveries = %v", ids(list))
	}
	all, err := s.ListDeliveries(c, a.ID, "")
	noErr(t, "ListDeliveries(all)", err)
	if len(all) != 2 {
		t.Fatalf("A's deliveries = %v, want 2", ids(all))
	}
	for _, d := range all {
		if d.UserID != a.ID {
			t.Fatalf("A sees delivery of user %d", d.UserID)
		}
		if d.ID == test[0].ID && d.IncidentID != "" {
			t.Fatalf("test delivery incident = %q", d.IncidentID)
		}
	}
	_, err = s.ListDeliveries(c, a.ID, "nope")
	wantErr(t, "ListDeliveries(unknown incident)", err, store.ErrNotFound)
}

// LeaseExclusive proves that concurrent workers never hold the same
// delivery at once: many goroutines, spread over every store given (pass
// several stores on one database to model several processes), lease and
// complete until the queue is empty; every delivery must be completed
// exactly once, and no lease may be refused a completion.
func LeaseExclusive(t *testing.T, stores ...store.Store) {
	t.Helper()
	const total, workers, batch = 300, 12, 4
	c := ctx(t)
	s0 := stores[0]
	u := mustUser(t, s0, fmt.Sprintf("queue-%d", time.Now().UnixNano()))
	want := map[int64]bool{}
	for range total / 50 {
		for _, d := range enqueue(t, s0, u, 50, time.Time{}) {
			want[d.ID] = true
		}
	}

	var mu sync.Mutex
	done := map[int64]string{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		s := stores[w%len(stores)]
		owner := fmt.Sprintf("worker-%d", w)
		wg.Go(func() {
			for {
				// A long lease: expiry must not be what keeps workers apart.
				got, err := s.LeaseDeliveries(c, owner, time.Now(), time.Hour, batch)
				if err != nil {
					errs <- fmt.Errorf("%s: lease: %w", owner, err)
					return
				}
				if len(got) == 0 {
					return
				}
				for i := range got {
					d := &got[i]
					mu.Lock()
					prev, dup := done[d.ID]
					done[d.ID] = owner
					mu.Unlock()
					if dup {
						errs <- fmt.Errorf("delivery %d leased by %s and %s", d.ID, prev, owner)
						return
					}
					d.State = store.DeliverySent
					if err := s.CompleteDelivery(c, d, owner); err != nil {
						errs <- fmt.Errorf("%s: complete %d: %w", owner, d.ID, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for id := range want {
		if _, ok := done[id]; !ok {
			t.Errorf("delivery %d never leased", id)
		}
	}
	if len(done) != len(want) {
		t.Errorf("leased %d deliveries, enqueued %d", len(done), len(want))
	}
	if n := queueDepth(t, s0); n != 0 {
		t.Errorf("QueueDepth = %d after draining", n)
	}
}

// testConcurrentIncidents: 100 alerts at once (different users, as in
// the service's load target) all commit, none fails on lock contention.
func testConcurrentIncidents(t *testing.T, s store.Store) {
	const n = 100
	users := make([]*store.User, n)
	contacts := make([]*store.Contact, n)
	for i := range users {
		users[i] = mustUser(t, s, fmt.Sprintf("u%d", i))
		contacts[i] = mustContact(t, s, users[i].ID, "c", 0)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			inc := &store.Incident{UserID: users[i].ID, State: store.StateActive, Trigger: "manual"}
			rs := []store.Recipient{{ContactID: contacts[i].ID, TokenHash: hash(store.NewID())}}
			ds := []store.Delivery{{ContactID: contacts[i].ID, Channel: store.ChannelSMS}, {ContactID: contacts[i].ID, Channel: store.ChannelEmail}}
			if err := s.CreateIncident(ctx(t), inc, rs, ds); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if d := queueDepth(t, s); d != 2*n {
		t.Fatalf("QueueDepth = %d, want %d", d, 2*n)
	}
}

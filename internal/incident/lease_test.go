package incident

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/notify"
	"github.com/empowerher/empowerher/internal/store"
	"github.com/empowerher/empowerher/internal/store/sqlite"
)

// recordingChannel is the real log channel, remembering each key it sent.
type recordingChannel struct {
	*notify.Log
	keys []string
}

func (c *recordingChannel) Notify(ctx context.Context, m notify.Message) (notify.Result, bool, error) {
	c.keys = append(c.keys, m.IdempotencyKey)
	return c.Log.Notify(ctx, m)
}

type fixedRegistry struct{ ch notify.Channel }

func (r fixedRegistry) Get(string) (notify.Channel, error) { return r.ch, nil }

// TestAttemptNeverOutlivesItsLease: a job whose lease was mostly spent
// before its attempt started (a slow store, a clock step) goes back to the
// queue unsent and uncounted, because a provider call running past the
// lease could be repeated by another instance; with a whole lease it is
// sent once.
func TestAttemptNeverOutlivesItsLease(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u := &store.User{Name: "asha"}
	if err := st.CreateUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	c := &store.Contact{UserID: u.ID, Name: "Peer", Channels: []string{store.ChannelLog}}
	if err := st.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := st.EnqueueDeliveries(ctx, []store.Delivery{{UserID: u.ID, ContactID: c.ID, Channel: store.ChannelLog, Purpose: PurposeAlert, Body: "help"}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	now := t0
	ch := &recordingChannel{Log: notify.NewLog(slog.New(slog.DiscardHandler))}
	w := NewWorker(st, fixedRegistry{ch}, WorkerConfig{Owner: "a", Lease: 4 * time.Second, Now: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler)})
	if w.cfg.AttemptTimeout != 2*time.Second {
		t.Fatalf("attempt timeout %v, want half the lease", w.cfg.AttemptTimeout)
	}

	ds, err := st.LeaseDeliveries(ctx, "a", t0, 4*time.Second, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("lease: %v %v", ds, err)
	}
	now = t0.Add(2500 * time.Millisecond) // 1.5 s left < 2 s attempt + 0.5 s margin
	w.attempt(ds[0], func() {})
	if len(ch.keys) != 0 {
		t.Fatalf("sent with too little lease left: %q", ch.keys)
	}
	got, err := st.ListDeliveries(ctx, u.ID, "")
	if err != nil || len(got) != 1 || got[0].State != store.DeliveryQueued || got[0].Attempts != 0 || got[0].LeaseOwner != "" {
		t.Fatalf("after a too-short lease: %+v %v", got, err)
	}

	ds, err = st.LeaseDeliveries(ctx, "a", now, 4*time.Second, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("lease again: %v %v", ds, err)
	}
	w.attempt(ds[0], func() {})
	got, _ = st.ListDeliveries(ctx, u.ID, "")
	if len(ch.keys) != 1 || got[0].State != store.DeliverySent || got[0].Attempts != 1 {
		t.Fatalf("with a whole lease: sent %q, delivery %+v", ch.keys, got[0])
	}
}

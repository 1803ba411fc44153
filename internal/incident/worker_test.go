package incident

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/notify"
	"github.com/empowerher/empowerher/internal/store"
	"github.com/empowerher/empowerher/internal/store/sqlite"
)

// gatedStore is the real SQLite store with CompleteDelivery held until the
// gate opens: the store's writer busy with a burst of new incidents.
type gatedStore struct {
	store.Store
	gate chan struct{}
}

func (g *gatedStore) CompleteDelivery(ctx context.Context, d *store.Delivery, owner string) error {
	<-g.gate
	return g.Store.CompleteDelivery(ctx, d, owner)
}

// countingLog is the real log channel, counting what it was given.
type countingLog struct {
	*notify.Log
	sent chan string
}

func (c countingLog) Notify(ctx context.Context, m notify.Message) (notify.Result, bool, error) {
	res, retry, err := c.Log.Notify(ctx, m)
	c.sent <- m.IdempotencyKey
	return res, retry, err
}

type oneChannel struct{ ch notify.Channel }

func (o oneChannel) Get(string) (notify.Channel, error) { return o.ch, nil }

// TestSendsAreNotHeldBehindRecording: with one sending slot, every due
// delivery still reaches its provider while the store is too busy to
// record the first outcome — recording waits in its own slots, so a burst
// of alerts is not sent one writer round trip at a time — and every
// outcome is recorded once the store catches up.
func TestSendsAreNotHeldBehindRecording(t *testing.T) {
	st, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u := &store.User{Name: "asha"}
	if err := st.CreateUser(t.Context(), u, nil); err != nil {
		t.Fatal(err)
	}
	c := &store.Contact{UserID: u.ID, Name: "Peer", Channels: []string{store.ChannelLog}}
	if err := st.CreateContact(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	const n = 3
	var ds []store.Delivery
	for range n {
		ds = append(ds, store.Delivery{UserID: u.ID, ContactID: c.ID, Channel: store.ChannelLog, Purpose: PurposeAlert, Body: "help"})
	}
	if err := st.EnqueueDeliveries(t.Context(), ds); err != nil {
		t.Fatal(err)
	}

	g := &gatedStore{Store: st, gate: make(chan struct{})}
	ch := countingLog{notify.NewLog(slog.New(slog.DiscardHandler)), make(chan string, n)}
	w := NewWorker(g, oneChannel{ch}, WorkerConfig{Concurrency: 1, Poll: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	for i := range n {
		select {
		case <-ch.sent:
		case <-time.After(10 * time.Second):
			close(g.gate)
			t.Fatalf("only %d of %d deliveries were sent while recording was held up", i, n)
		}
	}
	close(g.gate)
	deadline := time.Now().Add(10 * time.Second)
	for {
		depth, err := st.QueueDepth(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if depth == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue depth %d after the store caught up, want 0", depth)
		}
		time.Sleep(5 * time.Millisecond)
	}
	got, err := st.ListDeliveries(t.Context(), u.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range got {
		if d.State != store.DeliverySent || d.Attempts != 1 {
			t.Errorf("delivery %d: state %s after %d attempts, want sent after 1", d.ID, d.State, d.Attempts)
		}
	}
	select {
	case k := <-ch.sent:
		t.Errorf("delivery %s sent twice", k)
	default:
	}
}

package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/empowerher/empowerher/internal/store"
)

// BenchCreateIncident measures one alert's write: incident, event, three
// recipients and six deliveries in one transaction.
func BenchCreateIncident(b *testing.B, s store.Store) {
	u := mustUser(b, s, fmt.Sprintf("bench-%d", time.Now().UnixNano()))
	var cs []*store.Contact
	for i := range 3 {
		cs = append(cs, mustContact(b, s, u.ID, fmt.Sprintf("c%d", i), 0))
	}
	b.ReportAllocs()
	for b.Loop() {
		inc := &store.Incident{UserID: u.ID, State: store.StateActive, Trigger: "manual", Message: "help",
			Location: &store.Location{Lat: 12.97, Lon: 77.59, Accuracy: 10, At: time.Now()}}
		rs := make([]store.Recipient, 0, len(cs))
		ds := make([]store.Delivery, 0, 2*len(cs))
		for _, c := range cs {
			rs = append(rs, store.Recipient{ContactID: c.ID, ContactName: c.Name, TokenHash: hash(store.NewID())})
			for _, ch := range c.Channels {
				ds = append(ds, store.Delivery{ContactID: c.ID, Channel: ch, Purpose: "alert", Body: "Asha needs help"})
			}
		}
		if err := s.CreateIncident(ctx(b), inc, rs, ds); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchLeaseComplete measures the queue's cost per delivery: lease in
// batches of 10 and complete each one.
func BenchLeaseComplete(b *testing.B, s store.Store) {
	u := mustUser(b, s, fmt.Sprintf("bench-%d", time.Now().UnixNano()))
	c := ctx(b)
	for left := b.N; left > 0; left -= 500 {
		enqueue(b, s, u, min(left, 500), time.Time{})
	}
	b.ReportAllocs()
	b.ResetTimer()
	owner := "bench"
	for done := 0; done < b.N; {
		got, err := s.LeaseDeliveries(c, owner, time.Now(), time.Minute, 10)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) == 0 {
			b.Fatalf("queue empty after %d of %d", done, b.N)
		}
		for i := range got {
			got[i].State = store.DeliverySent
			if err := s.CompleteDelivery(c, &got[i], owner); err != nil {
				b.Fatal(err)
			}
		}
		done += len(got)
	}
}

// BenchCreateIncidentParallel measures alerts from many users at once
// (the service's "100 incidents at once" case): each goroutine is its own
// user with one contact and two channels, created before the clock starts.
func BenchCreateIncidentParallel(b *testing.B, s store.Store) {
	const users = 256 // more than SetParallelism(50) × GOMAXPROCS on small machines
	prefix := fmt.Sprintf("par-%d", time.Now().UnixNano())
	type who struct{ user, contact int64 }
	pool := make([]who, users)
	var wg sync.WaitGroup
	errs := make(chan error, users)
	for i := range pool {
		wg.Go(func() {
			u := &store.User{Name: fmt.Sprintf("%s-%d", prefix, i)}
			if err := s.CreateUser(context.Background(), u, nil); err != nil {
				errs <- err
				return
			}
			ct := &store.Contact{UserID: u.ID, Name: "c", Channels: []string{store.ChannelSMS, store.ChannelEmail}}
			if err := s.CreateContact(context.Background(), ct); err != nil {
				errs <- err
				return
			}
			pool[i] = who{u.ID, ct.ID}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := pool[int(next.Add(1)-1)%users]
		for pb.Next() {
			inc := &store.Incident{UserID: w.user, State: store.StateActive, Trigger: "manual"}
			rs := []store.Recipient{{ContactID: w.contact, TokenHash: hash(store.NewID())}}
			ds := []store.Delivery{{ContactID: w.contact, Channel: store.ChannelSMS}, {ContactID: w.contact, Channel: store.ChannelEmail}}
			if err := s.CreateIncident(context.Background(), inc, rs, ds); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

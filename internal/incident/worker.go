package incident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/empowerher/empowerher/internal/notify"
	"github.com/empowerher/empowerher/internal/store"
)

// Delivery outcomes reported to WorkerConfig.Observe.
const (
	OutcomeSent     = "sent"
	OutcomeRetry    = "retry"
	OutcomeFailed   = "failed"
	OutcomeFallover = "fallover"
)

// WorkerConfig tunes the delivery worker. Zero fields take defaults.
type WorkerConfig struct {
	// Owner names this instance in leases; unique per process.
	Owner string
	// Concurrency bounds attempts in flight (default 16).
	Concurrency int
	// Lease is how long a claimed delivery stays ours (default 2 min);
	// after a crash another worker takes it over once it expires.
	Lease time.Duration
	// AttemptTimeout bounds one provider call (default 30 s, at most half
	// the lease so an attempt always ends while we still hold it).
	AttemptTimeout time.Duration
	// Poll is how often the queue is checked without a wake-up (default 500 ms).
	Poll time.Duration
	// Backoff: full jitter, delay uniform in [0, min(MaxBackoff,
	// BaseBackoff·2^(attempt-1))); defaults 2 s and 5 min.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxAttempts per delivery before it fails for good (default 8).
	MaxAttempts int
	Now         func() time.Time
	Logger      *slog.Logger
	// Observe is told every attempt's outcome (for metrics).
	Observe func(channel, outcome string, took time.Duration)
}

// Worker drains the durable delivery queue.
type Worker struct {
	st   store.Store
	reg  Registry
	cfg  WorkerConfig
	log  *slog.Logger
	wake chan struct{}
	rnd  func() float64
}

// NewWorker returns a worker for st's queue sending through reg.
func NewWorker(st store.Store, reg Registry, cfg WorkerConfig) *Worker {
	if cfg.Owner == "" {
		cfg.Owner = "worker-" + store.NewID()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 30 * time.Second
	}
	if cfg.AttemptTimeout > cfg.Lease/2 {
		cfg.AttemptTimeout = cfg.Lease / 2
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 500 * time.Millisecond
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 2 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	return &Worker{st: st, reg: reg, cfg: cfg, log: lg, wake: make(chan struct{}, 1), rnd: rand.Float64}
}

// Wake makes the worker look at the queue now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run leases and sends deliveries until ctx ends, then waits for the
// attempts in flight to finish: they run on their own timeout, not on
// ctx, so a shutdown never cuts a provider call in half.
//
// A sending slot (Concurrency of them) is held for the provider call
// only; recording the outcome waits for the store's writer, which during
// a burst of alerts is busy committing new incidents, so it holds one of
// 4×Concurrency recording slots instead. Otherwise a burst of 100 alerts
// went out 16 at a time, each batch waiting behind the writer queue twice
// (its lease and its completions) before the next could be sent.
func (w *Worker) Run(ctx context.Context) {
	slots := make(chan struct{}, w.cfg.Concurrency)
	recording := make(chan struct{}, 4*w.cfg.Concurrency)
	freed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	// want: something may be due (a wake-up, the poll, the start); more:
	// the last lease filled every free slot, so it may have left work.
	// A freed slot alone is no reason to lease again: when the last lease
	// came back short the queue was empty, and new work comes with Wake.
	want, more := true, false
	poll := time.NewTimer(w.cfg.Poll)
	defer poll.Stop()
	for {
		if free := cap(slots) - len(slots); free > 0 && (want || more) {
			want = false
			ds, err := w.st.LeaseDeliveries(ctx, w.cfg.Owner, w.cfg.Now(), w.cfg.Lease, free)
			if err != nil && ctx.Err() == nil {
				w.log.Error("lease deliveries", "err", err)
			}
			for _, d := range ds {
				slots <- struct{}{}
				wg.Add(1)
				go func(d store.Delivery) {
					defer wg.Done()
					held := true
					// sent trades the sending slot for a recording slot.
					sent := func() {
						if !held {
							return
						}
						recording <- struct{}{}
						<-slots
						held = false
						select {
						case freed <- struct{}{}:
						default:
						}
					}
					defer func() {
						if held {
							<-slots
							select {
							case freed <- struct{}{}:
							default:
							}
						} else {
							<-recording
						}
					}()
					w.attempt(d, sent)
				}(d)
			}
			more = err == nil && len(ds) == free
		}
		if ctx.Err() != nil {
			return
		}
		if more && cap(slots)-len(slots) > 0 {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
			want = true
		case <-freed:
		case <-poll.C:
			want = true
		}
		if !poll.Stop() {
			select {
			case <-poll.C:
			default:
			}
		}
		poll.Reset(w.cfg.Poll)
	}
}

// Drain sends every delivery that is due now and returns when none is
// left in flight (tests and one-shot commands).
func (w *Worker) Drain(ctx context.Context) error {
	for {
		ds, err := w.st.LeaseDeliveries(ctx, w.cfg.Owner, w.cfg.Now(), w.cfg.Lease, w.cfg.Concurrency)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return nil
		}
		var wg sync.WaitGroup
		for _, d := range ds {
			wg.Add(1)
			go func(d store.Delivery) { defer wg.Done(); w.attempt(d, func() {}) }(d)
		}
		wg.Wait()
	}
}

// backoff is the full-jitter delay after the given attempt (1-based).
func (w *Worker) backoff(attempt int) time.Duration {
	ceil := w.cfg.BaseBackoff
	for i := 1; i < attempt && ceil < w.cfg.MaxBackoff; i++ {
		ceil *= 2
	}
	if ceil > w.cfg.MaxBackoff {
		ceil = w.cfg.MaxBackoff
	}
	return time.Duration(w.rnd() * float64(ceil))
}

func (w *Worker) observe(channel, outcome string, took time.Duration) {
	if w.cfg.Observe != nil {
		w.cfg.Observe(channel, outcome, took)
	}
}

// attempt makes one provider call for d (already counted by the lease)
// and stores its outcome, calling sent once the provider has answered (or
// no call is to be made) and before the outcome is recorded.
func (w *Worker) attempt(d store.Delivery, sent func()) {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.AttemptTimeout)
	defer cancel()
	lg := w.log.With("delivery", d.ID, "channel", d.Channel, "purpose", d.Purpose, "attempt", d.Attempts, "incident", d.IncidentID)

	c, err := w.st.GetContact(ctx, d.UserID, d.ContactID)
	if errors.Is(err, store.ErrNotFound) {
		sent()
		d.State, d.LastError = store.DeliveryFailed, "the contact was deleted"
		w.complete(ctx, lg, &d, OutcomeFailed, 0)
		return
	}
	if err != nil { // the store is struggling; the lease will expire and we try again
		lg.Error("load contact", "err", err)
		return
	}

	// Never start a provider call that could outlive the lease: once it
	// expires another instance may take the job and send it again. A job
	// whose lease was mostly spent waiting (a slow store) goes back to the
	// queue at once, unsent, instead.
	if left := d.LeaseUntil.Sub(w.cfg.Now()); !d.LeaseUntil.IsZero() && left < w.cfg.AttemptTimeout+w.leaseMargin() {
		sent()
		d.Attempts--
		d.State, d.NextAttemptAt = store.DeliveryQueued, w.cfg.Now()
		w.complete(ctx, lg, &d, OutcomeRetry, 0)
		lg.Warn("lease too short to start an attempt; requeued unsent", "lease_left", left)
		return
	}

	start := time.Now()
	var res notify.Result
	var retry bool
	ch, err := w.reg.Get(d.Channel)
	if err == nil {
		res, retry, err = ch.Notify(ctx, notify.Message{
			IdempotencyKey: d.IdempotencyKey,
			To:             notify.Recipient{Name: c.Name, Phone: c.Phone, Email: c.Email, WebhookURL: c.WebhookURL},
			Subject:        d.Subject, Body: d.Body, URL: d.URL, Purpose: d.Purpose, IncidentID: d.IncidentID,
		})
	} else {
		err, retry = fmt.Errorf("channel %s is not configured: %w", d.Channel, notify.ErrNotConfigured), false
	}
	took := time.Since(start)
	sent()

	if err == nil {
		d.State, d.ProviderID, d.LastError = store.DeliverySent, res.ProviderID, ""
		w.complete(ctx, lg, &d, OutcomeSent, took)
		lg.Info("delivery sent", "provider_id", res.ProviderID, "took", took)
		return
	}
	d.LastError = err.Error()
	if retry && d.Attempts < w.cfg.MaxAttempts {
		delay := w.backoff(d.Attempts)
		if ra, ok := notify.RetryAfter(err); ok && ra > delay {
			delay = ra
		}
		d.State, d.NextAttemptAt = store.DeliveryQueued, w.cfg.Now().Add(delay)
		w.complete(ctx, lg, &d, OutcomeRetry, took)
		lg.Warn("delivery attempt failed; will retry", "err", err, "retry_in", delay)
		return
	}
	// Failed for good: the fall-over is enqueued before the failure is
	// recorded, so a crash in between repeats the fall-over (its key is
	// unique) rather than losing it.
	if next, ok := nextChannel(w.reg, c, d.Channel); ok {
		nd := d
		nd.ID, nd.Channel, nd.Attempts = 0, next, 0
		nd.IdempotencyKey = d.IdempotencyKey + ">" + next
		nd.State, nd.NextAttemptAt = store.DeliveryQueued, w.cfg.Now()
		nd.ProviderID, nd.LastError, nd.LeaseOwner, nd.LeaseUntil = "", "", "", time.Time{}
		if err := w.st.EnqueueDeliveries(ctx, []store.Delivery{nd}); err != nil && !errors.Is(err, store.ErrConflict) {
			// Cannot record the fall-over: keep the job and try again later.
			lg.Error("enqueue fall-over", "err", err)
			d.State, d.NextAttemptAt = store.DeliveryQueued, w.cfg.Now().Add(w.backoff(d.Attempts))
			w.complete(ctx, lg, &d, OutcomeRetry, took)
			return
		}
		w.observe(d.Channel, OutcomeFallover, 0)
		w.event(ctx, d, fmt.Sprintf("%s to %s failed (%s); trying %s", d.Channel, c.Name, d.LastError, next))
		w.Wake()
	} else {
		w.event(ctx, d, fmt.Sprintf("%s to %s failed for good (%s)", d.Channel, c.Name, d.LastError))
	}
	d.State = store.DeliveryFailed
	w.complete(ctx, lg, &d, OutcomeFailed, took)
	lg.Error("delivery failed", "err", err)
}

// leaseMargin is kept free at the end of a lease for recording the
// outcome: a second, or a quarter of the attempt timeout with short leases.
func (w *Worker) leaseMargin() time.Duration { return min(time.Second, w.cfg.AttemptTimeout/4) }

func (w *Worker) complete(_ context.Context, lg *slog.Logger, d *store.Delivery, outcome string, took time.Duration) {
	w.observe(d.Channel, outcome, took)
	// Recording has its own deadline, not what the provider call left of
	// the attempt's: a "sent" that fails to be recorded because a slow
	// provider used up the timeout would be sent again once the lease
	// expires (a duplicate without any crash). It may use the rest of the
	// lease, while nobody else can take the job.
	ctx, cancel := context.WithTimeout(context.Background(), max(w.cfg.AttemptTimeout, d.LeaseUntil.Sub(w.cfg.Now())))
	defer cancel()
	if err := w.st.CompleteDelivery(ctx, d, w.cfg.Owner); err != nil {
		// ErrConflict: our lease expired and someone else took the job.
		lg.Error("complete delivery", "state", d.State, "err", err)
	}
}

func (w *Worker) event(ctx context.Context, d store.Delivery, detail string) {
	if d.IncidentID == "" {
		return
	}
	if err := w.st.AddEvent(ctx, &store.Event{IncidentID: d.IncidentID, Kind: "delivery", Detail: detail, At: w.cfg.Now()}); err != nil {
		w.log.Error("add delivery event", "incident", d.IncidentID, "err", err)
	}
}

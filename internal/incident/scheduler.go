package incident

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/empowerher/empowerher/internal/store"
)

// Tick acts on every incident whose deadline passed: countdowns that
// ended, escalations that are due, devices that went silent. It is safe
// to run on several instances at once: each step is an optimistic state
// change whose deliveries carry deterministic idempotency keys, so only
// one instance's transaction commits.
func (s *Service) Tick(ctx context.Context) error {
	now := s.now()
	due, err := s.st.DueIncidents(ctx, now, s.cfg.HeartbeatTimeout)
	if err != nil {
		return fmt.Errorf("incident: tick: %w", err)
	}
	var first error
	for i := range due {
		if err := s.handleDue(ctx, &due[i], now); err != nil && !errors.Is(err, store.ErrConflict) {
			s.log.Error("incident step failed", "incident", due[i].ID, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// Run calls Tick every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_ = s.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) handleDue(ctx context.Context, inc *store.Incident, now time.Time) error {
	u, err := s.st.UserByID(ctx, inc.UserID)
	if err != nil {
		return fmt.Errorf("incident: due: %w", err)
	}
	if inc.State == store.StatePending && !inc.ActivateAt.After(now) {
		next, _, err := s.activate(ctx, u, inc, "countdown ended without cancel")
		if err != nil {
			return err
		}
		inc = next
	}
	if inc.State == store.StateActive && !inc.NextEscalationAt.IsZero() && !inc.NextEscalationAt.After(now) {
		next, err := s.escalate(ctx, u, inc, now)
		if err != nil {
			return err
		}
		inc = next
	}
	if inc.State == store.StateAcknowledged && !inc.NextEscalationAt.IsZero() {
		// Not due for anything any more; clear it so it stops being due.
		next := *inc
		next.NextEscalationAt = time.Time{}
		if err := s.st.UpdateIncident(ctx, &next, inc.State, nil, nil); err != nil {
			return fmt.Errorf("incident: due: %w", err)
		}
		inc = &next
	}
	if inc.State != store.StatePending && inc.State.Open() && !inc.LastHeartbeatAt.IsZero() &&
		!inc.LastHeartbeatAt.Add(s.cfg.HeartbeatTimeout).After(now) {
		return s.silent(ctx, u, inc, now)
	}
	return nil
}

// escalate takes one step because nobody acknowledged in time. Level 1
// repeats the alert to those already alerted and adds a voice call where
// voice is configured; each further level alerts the next tier of
// contacts (an authority number is a high tier) or, when there is no
// further tier, repeats again.
func (s *Service) escalate(ctx context.Context, u *store.User, inc *store.Incident, now time.Time) (*store.Incident, error) {
	level := inc.EscalationLevel + 1
	_, alerted, all, err := s.recipientContacts(ctx, inc)
	if err != nil {
		return nil, fmt.Errorf("incident: escalate: %w", err)
	}
	next := *inc
	next.EscalationLevel = level
	if level < s.cfg.MaxEscalations {
		next.NextEscalationAt = now.Add(s.cfg.AckTimeout)
	} else {
		next.NextEscalationAt = time.Time{}
	}
	keyPart := "esc" + strconv.Itoa(level)
	var ds []store.Delivery
	var detail string

	var fresh []*store.Contact
	if tiers := tiersOf(all); level >= 2 && level-1 < len(tiers) {
		seen := map[int64]bool{}
		for _, c := range alerted {
			seen[c.ID] = true
		}
		for _, c := range inTier(all, tiers[level-1]) {
			if !seen[c.ID] {
				fresh = append(fresh, c)
			}
		}
		if len(fresh) > 0 {
			detail = fmt.Sprintf("level %d: nobody responded; alerting %d more contacts (tier %d)", level, len(fresh), tiers[level-1])
		}
	}
	if len(fresh) > 0 {
		for _, c := range fresh {
			r := s.recipient(inc.ID, c)
			// One at a time: a recipient added by an earlier try that
			// crashed before its UpdateIncident is a conflict, not a failure.
			if err := s.st.AddRecipients(ctx, []store.Recipient{r}); err != nil && !errors.Is(err, store.ErrConflict) {
				return nil, fmt.Errorf("incident: escalate: %w", err)
			}
		}
		ds, _ = s.alertDeliveries(u, &next, fresh, PurposeEscalation, keyPart, true)
	} else {
		ds, _ = s.alertDeliveries(u, &next, alerted, PurposeEscalation, keyPart, false)
		calls := 0
		if configured(s.reg, store.ChannelVoice) {
			for i, c := range alerted {
				if c.Phone == "" || ds[i].Channel == store.ChannelVoice {
					continue
				}
				v := ds[i]
				v.Channel = store.ChannelVoice
				v.IdempotencyKey = inc.ID + "/" + keyPart + "/c" + strconv.FormatInt(c.ID, 10) + "/voice"
				ds = append(ds, v)
				calls++
			}
		}
		detail = fmt.Sprintf("level %d: nobody responded; repeating the alert to %d contacts", level, len(alerted))
		if calls > 0 {
			detail += fmt.Sprintf(" and calling %d", calls)
		}
	}
	ev := &store.Event{IncidentID: inc.ID, Kind: "escalated", Detail: detail, At: now}
	if err := s.st.UpdateIncident(ctx, &next, store.StateActive, ev, ds); err != nil {
		return nil, fmt.Errorf("incident: escalate: %w", err)
	}
	if len(ds) > 0 {
		s.enqueued()
	}
	s.log.Warn("incident escalated", "incident", inc.ID, "level", level, "deliveries", len(ds))
	return &next, nil
}

// silent tells everyone alerted that the device stopped sending
// heartbeats, once per silence: LastHeartbeatAt is cleared in the same
// transaction, so the incident is not due again until heartbeats resume.
func (s *Service) silent(ctx context.Context, u *store.User, inc *store.Incident, now time.Time) error {
	_, cs, _, err := s.recipientContacts(ctx, inc)
	if err != nil {
		return fmt.Errorf("incident: silent: %w", err)
	}
	next := *inc
	next.LastHeartbeatAt = time.Time{}
	keyPart := "silent" + strconv.FormatInt(inc.LastHeartbeatAt.UnixMicro(), 10)
	ds, _ := s.alertDeliveries(u, &next, cs, PurposeSilent, keyPart, false, inc.LastHeartbeatAt)
	ev := &store.Event{IncidentID: inc.ID, Kind: "silent",
		Detail: "no heartbeat since " + TimeText(inc.LastHeartbeatAt), At: now}
	if err := s.st.UpdateIncident(ctx, &next, inc.State, ev, ds); err != nil {
		return fmt.Errorf("incident: silent: %w", err)
	}
	if len(ds) > 0 {
		s.enqueued()
	}
	s.log.Warn("device went silent", "incident", inc.ID, "deliveries", len(ds))
	return nil
}

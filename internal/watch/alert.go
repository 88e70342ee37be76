package watch

// The alerting half of the watcher: what a root event needs, de-duplication,
// delivery, bursts of failed sign-ins, and when a message is done.

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
)

// eventKey identifies an event for de-duplication: its id and the digest
// of its record. Published examples (and some tools) reuse event ids for
// different records; a redelivered copy of one event has both the same.
func eventKey(e evidence.Event) string {
	if e.Digest == "" {
		return e.EventID
	}
	return e.EventID + "/" + e.Digest
}

// alertable are the categories a person did: they are alerted on.
func alertable(e evidence.Event) bool {
	switch e.Category {
	case evidence.CategoryConsoleLogin, evidence.CategorySignin, evidence.CategoryAPICall:
		return true
	}
	return false
}

// handle counts a message's events and starts the alerts its root
// activity needs; the message waits for each. It returns how many events
// it added to bursts.
func (w *watcher) handle(ctx context.Context, m *message, c classified) (gathered int) {
	w.mu.Lock()
	w.stats.Events += c.total
	w.mu.Unlock()
	if w.o.Metrics != nil {
		w.o.Metrics.Events.WithLabelValues("not_root").Add(float64(c.total - len(c.root)))
	}
	for _, e := range c.root {
		e = w.linkSession(e)
		if w.o.Metrics != nil {
			w.o.Metrics.Events.WithLabelValues(e.Category).Inc()
		}
		w.mu.Lock()
		w.stats.RootEvents++
		w.mu.Unlock()
		if !alertable(e) {
			continue
		}
		targets, dup := w.undelivered(ctx, eventKey(e))
		if dup {
			w.mu.Lock()
			w.stats.Duplicates++
			w.mu.Unlock()
			if w.o.Metrics != nil {
				w.o.Metrics.Duplicates.Inc()
			}
			continue
		}
		w.print(e)
		if e.Category == evidence.CategoryConsoleLogin && e.Result == "failure" {
			// The burst holds each event once, however many copies arrive.
			w.addToBurst(ctx, e, m)
			gathered++
			continue
		}
		w.mu.Lock()
		w.sending[eventKey(e)] = true
		w.mu.Unlock()
		w.startAlert(ctx, []evidence.Event{e}, []*message{m}, targets)
	}
	return gathered
}

// linkSession remembers AssumeRoot calls and classifies a member's root
// event signed with a session key as the privileged task it is.
func (w *watcher) linkSession(e evidence.Event) evidence.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e.Category == evidence.CategoryAssumeRoot && e.SessionKeyID != "" {
		w.sessions[e.SessionKeyID] = append(w.sessions[e.SessionKeyID], e)
		// Sessions last at most 900 s: forget calls well past that.
		for k, calls := range w.sessions {
			if last := calls[len(calls)-1]; !last.Time.IsZero() && time.Since(last.Time) > cloudtrail.MaxRootSession+time.Hour {
				delete(w.sessions, k)
			}
		}
		return e
	}
	// The calls of the event's key (if any) and the event: the trail
	// classifier links them, or notes an ASIA key with no call.
	evs := append(slices.Clone(w.sessions[e.AccessKeyID]), e)
	cloudtrail.LinkRootSessions(evs)
	return evs[len(evs)-1]
}

// undelivered lists the targets that have not had an alert for the event;
// dup is true when every one has.
func (w *watcher) undelivered(ctx context.Context, id string) ([]notify.Target, bool) {
	if id == "" {
		return w.o.Targets, false
	}
	w.mu.Lock()
	if w.sending[id] {
		// Another copy of the event is being alerted on; if that fails,
		// its message is received again.
		w.mu.Unlock()
		return nil, true
	}
	if len(w.o.Targets) == 0 {
		// Nothing to deliver to: an event is a duplicate once printed.
		dup := w.seen[id] != nil
		if !dup {
			w.seen[id] = map[string]bool{}
		}
		w.mu.Unlock()
		return nil, dup
	}
	seen := w.seen[id]
	w.mu.Unlock()
	stored := map[string]bool{}
	if w.o.Store != nil {
		names := make([]string, len(w.o.Targets))
		for i, t := range w.o.Targets {
			names[i] = t.Name
		}
		got, err := w.o.Store.Delivered(ctx, id, names)
		if err != nil {
			w.o.Log.Error("cannot read delivered alerts from the store; alerting again rather than not at all", "event_id", id, "error", err.Error())
		} else {
			stored = got
		}
	}
	var out []notify.Target
	for _, t := range w.o.Targets {
		if !seen[t.Name] && !stored[t.Name] {
			out = append(out, t)
		}
	}
	return out, len(out) == 0
}

func (w *watcher) print(e evidence.Event) {
	b, err := json.Marshal(e)
	if err != nil {
		w.o.Log.Error("cannot print a root event on stdout (its alert is still sent)", "event_id", e.EventID, "error", err.Error())
		return
	}
	w.outMu.Lock()
	defer w.outMu.Unlock()
	if _, err := w.o.Out.Write(append(b, '\n')); err != nil {
		w.o.Log.Error("cannot print a root event on stdout (its alert is still sent)", "event_id", e.EventID, "error", err.Error())
	}
}

// startAlert delivers an alert in the background; its messages wait.
func (w *watcher) startAlert(ctx context.Context, events []evidence.Event, msgs []*message, targets []notify.Target) {
	w.mu.Lock()
	for _, m := range msgs {
		m.pending++
	}
	w.mu.Unlock()
	w.alerts.Add(1)
	go func() {
		defer w.alerts.Done()
		ok := w.deliver(ctx, events, targets)
		for _, m := range msgs {
			w.done(m, ok)
		}
	}()
}

func (w *watcher) deliver(ctx context.Context, events []evidence.Event, targets []notify.Target) bool {
	if len(targets) == 0 {
		w.mu.Lock()
		for _, e := range events {
			delete(w.sending, eventKey(e))
		}
		w.mu.Unlock()
		return true
	}
	a := notify.Alert{Events: events, AccountName: w.o.AccountNames[events[0].AccountID]}
	a.RuleID = ruleFor(events[0])
	a.Summary, a.Action = w.o.Guidance(a.RuleID)
	results := w.o.Send(ctx, targets, a)
	defer func() {
		w.mu.Lock()
		for _, e := range events {
			delete(w.sending, eventKey(e))
		}
		w.mu.Unlock()
	}()
	ok := true
	now := time.Now()
	for _, r := range results {
		if r.Err != nil {
			ok = false
			if w.o.Metrics != nil {
				w.o.Metrics.Failures.WithLabelValues(r.Target).Inc()
			}
			w.o.Log.Error("alert not delivered; its messages will be received again", "target", r.Target, "attempts", r.Attempts, "error", r.Err.Error(), "event_id", events[0].EventID)
			continue
		}
		if w.o.Metrics != nil {
			w.o.Metrics.Alerts.WithLabelValues(r.Target).Inc()
			for _, e := range events {
				if !e.Time.IsZero() {
					w.o.Metrics.Lag.Observe(now.Sub(e.Time).Seconds())
				}
			}
		}
		w.mu.Lock()
		w.stats.Alerts++
		for _, e := range events {
			k := eventKey(e)
			if w.seen[k] == nil {
				w.seen[k] = map[string]bool{}
			}
			w.seen[k][r.Target] = true
		}
		w.mu.Unlock()
		if w.o.Store != nil {
			for _, e := range events {
				if err := w.o.Store.MarkDelivered(ctx, eventKey(e), r.Target, now); err != nil {
					w.o.Log.Error("cannot record a delivered alert in the store; a restart may alert again", "event_id", e.EventID, "error", err.Error())
				}
			}
		}
		w.o.Log.Info("alert delivered", "target", r.Target, "event_id", events[0].EventID, "events", len(events), "account", events[0].AccountID)
	}
	return ok
}

// ruleFor is the rule an event touches, for the alert's guidance.
func ruleFor(e evidence.Event) string {
	switch {
	case e.Category == evidence.CategoryConsoleLogin && e.Result == "failure":
		return "iam-root-failed-logins"
	case e.Category == evidence.CategoryConsoleLogin && e.MFA != "yes":
		return "iam-root-login-without-mfa"
	case e.Category == evidence.CategoryConsoleLogin:
		return "iam-root-console-login"
	case e.Category == evidence.CategorySignin:
		return "iam-root-active-password"
	}
	return "iam-root-api-activity"
}

// done ends one part a message waits for; the last part deletes it, or
// releases it when any part failed.
func (w *watcher) done(m *message, ok bool) {
	w.mu.Lock()
	m.pending--
	m.failed = m.failed || !ok
	if m.pending > 0 {
		w.mu.Unlock()
		return
	}
	if m.failed {
		delete(w.inflight, m.receipt)
		w.stats.Released++
		w.mu.Unlock()
		if w.o.Metrics != nil {
			w.o.Metrics.Released.Inc()
		}
		return
	}
	w.mu.Unlock()
	w.deletes <- m
}

// addToBurst holds a failed sign-in (and its message) until the burst
// window of its account and address ends.
func (w *watcher) addToBurst(ctx context.Context, e evidence.Event, m *message) {
	key := e.AccountID + "|" + e.SourceIP
	w.mu.Lock()
	defer w.mu.Unlock()
	m.pending++
	b := w.bursts[key]
	if b == nil {
		b = &burst{}
		w.bursts[key] = b
		// The burst counts as an alert in flight from now: Run waits for it.
		w.alerts.Add(1)
		b.timer = w.o.Clock.AfterFunc(w.o.BurstWindow, func() { w.flushBurst(ctx, key, b) })
	}
	for _, x := range b.events {
		if eventKey(x) == eventKey(e) && e.EventID != "" {
			b.msgs = append(b.msgs, m)
			return
		}
	}
	b.events = append(b.events, e)
	b.msgs = append(b.msgs, m)
}

// flushBurst sends a burst's alert, once: from its timer, or at exit.
func (w *watcher) flushBurst(ctx context.Context, key string, b *burst) {
	defer w.alerts.Done()
	w.mu.Lock()
	if w.bursts[key] == b {
		delete(w.bursts, key)
	}
	w.mu.Unlock()
	// Oldest first, in arrival order at equal times.
	slices.SortStableFunc(b.events, func(x, y evidence.Event) int { return x.Time.Compare(y.Time) })
	targets, _ := w.undelivered(ctx, eventKey(b.events[0]))
	ok := w.deliver(ctx, b.events, targets)
	for _, m := range b.msgs {
		w.done(m, ok)
	}
}

// flushBursts sends every pending burst now (at exit).
func (w *watcher) flushBursts(ctx context.Context) {
	w.mu.Lock()
	stopped := map[string]*burst{}
	for k, b := range w.bursts {
		if b.timer.Stop() {
			stopped[k] = b
		}
	}
	w.mu.Unlock()
	for k, b := range stopped {
		w.flushBurst(ctx, k, b)
	}
}

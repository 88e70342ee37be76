package watch

// The alerting half of the watcher: what a root event needs, de-duplication,
// delivery, bursts of failed sign-ins, and when a message is done.

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/rules"
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

// alertable are the categories a person did: they are alerted on, each
// step of a root takeover included. Of the AssumeRoot calls, only the
// privileged ones are: IAMAuditRootUserCredentials reads and changes
// nothing, and rootwatch's own organization scans open it in every member
// (an alert on each would drown the ones that matter); the actions inside
// a session are the call's, which was alerted on.
func alertable(e evidence.Event) bool {
	switch e.Category {
	case evidence.CategoryConsoleLogin, evidence.CategorySignin, evidence.CategoryAPICall,
		evidence.CategoryLoginProfile, evidence.CategoryPasswordRecovery, evidence.CategoryEmailChange:
		return true
	case evidence.CategoryAssumeRoot:
		return e.Privileged()
	}
	return false
}

// handle counts a message's events and starts the alerts its root
// activity needs; the message waits for each. It returns how many events
// it added to bursts.
func (w *watcher) handle(ctx context.Context, m *message, c classified) (gathered int) {
	w.o.Metrics.Events.WithLabelValues("not_root").Add(float64(c.total - len(c.root)))
	for _, e := range c.root {
		e = w.sessions.link(e, w.o.Clock.Now())
		w.o.Metrics.Events.WithLabelValues(e.Category).Inc()
		// A step of a takeover chain counts even when its own alert was
		// delivered before: a chain alert that failed is tried again when
		// its message comes back.
		w.chainStep(ctx, m, e)
		if !alertable(e) {
			continue
		}
		targets, dup := w.dedup.undelivered(ctx, eventKey(e))
		if dup {
			w.o.Metrics.Duplicates.Inc()
			continue
		}
		if len(w.o.Targets) == 0 {
			// Nobody to tell: printed at once, marked so, and done.
			w.print(e, AlertNoTarget)
			continue
		}
		if e.Category == evidence.CategoryConsoleLogin && e.Result == "failure" {
			// The burst holds each event once, however many copies arrive.
			w.addToBurst(ctx, e, m)
			gathered++
			continue
		}
		w.dedup.claim(eventKey(e))
		w.startAlert(ctx, eventAlert([]evidence.Event{e}), []*message{m}, targets)
	}
	return gathered
}

// pending is one alert to deliver: root events, each delivered (and
// printed) once, or a takeover chain, delivered once under its own key.
type pending struct {
	events []evidence.Event
	keys   []string // what a delivery marks delivered: each event's, or the chain's
	title  string   // the chain's headline; "" for root events
	// ruleEvent is the chain's event whose rule the alert is about.
	ruleEvent evidence.Event
	print     bool // print the events on stdout once delivered
}

func eventAlert(events []evidence.Event) pending {
	p := pending{events: events, print: true}
	for _, e := range events {
		p.keys = append(p.keys, eventKey(e))
	}
	return p
}

// What a line on stdout says of its event's alert.
const (
	AlertDelivered = "delivered" // to every target
	AlertNoTarget  = "no_target" // there is no target: nobody was told
)

// print writes an event on stdout, once: when its alert was delivered, or
// when there is no target to deliver to.
func (w *watcher) print(e evidence.Event, alert string) {
	b, err := json.Marshal(struct {
		evidence.Event
		Alert string `json:"alert"`
	}{e, alert})
	if err != nil {
		w.o.Log.Error("cannot print a root event on stdout", "event_id", e.EventID, "error", err.Error())
		return
	}
	w.outMu.Lock()
	defer w.outMu.Unlock()
	if _, err := w.o.Out.Write(append(b, '\n')); err != nil {
		w.o.Log.Error("cannot print a root event on stdout", "event_id", e.EventID, "error", err.Error())
	}
}

// startAlert delivers an alert in the background; its messages wait.
func (w *watcher) startAlert(ctx context.Context, a pending, msgs []*message, targets []notify.Target) {
	for _, m := range msgs {
		w.messages.hold(m, false)
	}
	w.alerts.Add(1)
	go func() {
		defer w.alerts.Done()
		ok := w.deliver(ctx, a, targets)
		for _, m := range msgs {
			w.done(m, ok, false)
		}
	}()
}

// deliver sends an alert to the targets that still need it and prints its
// events once every one has it.
func (w *watcher) deliver(ctx context.Context, p pending, targets []notify.Target) bool {
	events := p.events
	defer w.dedup.unclaim(p.keys...)
	if len(targets) == 0 {
		return true // every target had it already (and it was printed then)
	}
	a := notify.Alert{Events: events, AccountName: w.o.AccountNames[subject(events[0])], Title: p.title}
	// A chain's rule is its root password's creation's.
	a.RuleID = w.ruleFor(events[0])
	if p.title != "" {
		a.RuleID, a.Kind = w.ruleFor(p.ruleEvent), notify.KindTakeoverChain
	}
	a.Summary, a.Action = w.o.Guidance(a.RuleID)
	results := w.o.Send(ctx, targets, a)
	ok := true
	now := w.o.Clock.Now()
	for _, r := range results {
		if r.Err != nil {
			ok = false
			w.o.Metrics.Failures.WithLabelValues(r.Target).Inc()
			w.o.Log.Error("alert not delivered; its messages will be received again", "target", r.Target, "attempts", r.Attempts, "error", r.Err.Error(), "event_id", events[0].EventID)
			continue
		}
		w.o.Metrics.Alerts.WithLabelValues(r.Target).Inc()
		for _, e := range events {
			if !e.Time.IsZero() && p.print {
				w.o.Metrics.Lag.Observe(now.Sub(e.Time).Seconds())
			}
		}
		w.dedup.delivered(ctx, p.keys, r.Target, now)
		if p.title != "" {
			w.o.Log.Info("takeover chain alert delivered", "target", r.Target, "chain", p.keys[0], "events", len(events), "account", subject(events[0]))
			continue
		}
		w.o.Log.Info("alert delivered", "target", r.Target, "event_id", events[0].EventID, "events", len(events), "account", events[0].AccountID)
	}
	if ok && p.print {
		for _, e := range events {
			w.print(e, AlertDelivered)
		}
	}
	return ok
}

// subject is the account an event is about: the member an AssumeRoot call
// or e-mail change made elsewhere names, else whose root acted.
func subject(e evidence.Event) string {
	if t := e.TargetAccount(); t != "" {
		return t
	}
	return e.AccountID
}

// alertRules are the catalog's rules about root events, which name the
// rule of each alert.
func alertRules() []rules.Rule {
	var out []rules.Rule
	for _, r := range rules.Catalog() {
		if r.Alerts != nil {
			out = append(out, r)
		}
	}
	return out
}

// ruleFor is the rule an event's alert is about, for its guidance ("" when
// no rule claims it: the alert goes out without).
func (w *watcher) ruleFor(e evidence.Event) string {
	for _, r := range w.rules {
		if r.Alerts(e) {
			return r.ID
		}
	}
	return ""
}

// done ends one part a message waits for (a gathering burst's, when
// burst); the last part deletes it, or releases it when any part failed.
func (w *watcher) done(m *message, ok, burst bool) {
	last, failed := w.messages.release(m, ok, burst)
	switch {
	case !last:
	case failed:
		w.o.Metrics.Released.Inc()
		w.warnRedrive(m, "an alert was not delivered")
	default:
		w.deletes <- m
	}
}

// burst gathers failed root sign-ins from one address to one account, as
// alertmanager groups alerts: what it gathered is sent BurstFirst after it
// began, what follows at the end of each BurstWindow; a window that
// gathered nothing ends it, so the next failure is a first again.
type burst struct {
	key    string
	events []evidence.Event // gathered, not yet sent
	msgs   []*message       // their messages, which wait
	timer  Timer
}

// bursts are the gathering bursts, by account and source address.
type bursts struct {
	mu      sync.Mutex
	byKey   map[string]*burst
	closing bool // bursts are being sent for the exit: no new windows
}

// addToBurst holds a failed sign-in (and its message) in the burst of its
// account and address, beginning one when there is none.
func (w *watcher) addToBurst(ctx context.Context, e evidence.Event, m *message) {
	key := e.AccountID + "|" + e.SourceIP
	w.bursts.mu.Lock()
	defer w.bursts.mu.Unlock()
	w.messages.hold(m, true)
	b := w.bursts.byKey[key]
	if b == nil {
		b = &burst{key: key}
		w.bursts.byKey[key] = b
		w.schedule(ctx, b, w.o.BurstFirst)
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

// schedule sends what the burst gathered after d. The timer counts as an
// alert in flight: Run waits for it. w.bursts.mu is held.
func (w *watcher) schedule(ctx context.Context, b *burst, d time.Duration) {
	w.alerts.Add(1)
	b.timer = w.o.Clock.AfterFunc(d, func() { w.flushBurst(ctx, b) })
}

// flushBurst sends what a burst gathered, from its timer or at exit. A
// burst that sent something gathers for another window; one that
// gathered nothing, or is sent for the exit, ends.
func (w *watcher) flushBurst(ctx context.Context, b *burst) {
	defer w.alerts.Done()
	w.bursts.mu.Lock()
	events, msgs := b.events, b.msgs
	b.events, b.msgs = nil, nil
	if len(events) > 0 && !w.bursts.closing {
		w.schedule(ctx, b, w.o.BurstWindow)
	} else if w.bursts.byKey[b.key] == b {
		delete(w.bursts.byKey, b.key)
	}
	// Another copy arriving now is a duplicate; if this delivery fails,
	// the messages come back. Claimed before the burst lets go, so no
	// copy slips into the next window.
	keys := make([]string, len(events))
	for i, e := range events {
		keys[i] = eventKey(e)
	}
	w.dedup.claim(keys...)
	w.bursts.mu.Unlock()
	if len(events) == 0 {
		return
	}
	// Oldest first, in arrival order at equal times.
	slices.SortStableFunc(events, func(x, y evidence.Event) int { return x.Time.Compare(y.Time) })
	ok := w.deliver(ctx, eventAlert(events), w.burstTargets(ctx, events))
	for _, m := range msgs {
		w.done(m, ok, true)
	}
}

// burstTargets are the targets any of the events has not had.
func (w *watcher) burstTargets(ctx context.Context, events []evidence.Event) []notify.Target {
	need := map[string]bool{}
	for _, e := range events {
		for _, t := range w.dedup.remaining(ctx, eventKey(e)) {
			need[t.Name] = true
		}
	}
	var out []notify.Target
	for _, t := range w.o.Targets {
		if need[t.Name] {
			out = append(out, t)
		}
	}
	return out
}

// flushBursts sends every gathering burst now, for the exit.
func (w *watcher) flushBursts(ctx context.Context) {
	w.bursts.mu.Lock()
	w.bursts.closing = true
	var stopped []*burst
	for _, b := range w.bursts.byKey {
		// A timer that already fired is flushing its burst itself.
		if b.timer.Stop() {
			stopped = append(stopped, b)
		}
	}
	w.bursts.mu.Unlock()
	for _, b := range stopped {
		go w.flushBurst(ctx, b)
	}
}

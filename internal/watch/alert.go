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
	"github.com/rootwatch/rootwatch/internal/rules"
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
		e = w.linkSession(e)
		w.o.Metrics.Events.WithLabelValues(e.Category).Inc()
		// A step of a takeover chain counts even when its own alert was
		// delivered before: a chain alert that failed is tried again when
		// its message comes back.
		w.chainStep(ctx, m, e)
		if !alertable(e) {
			continue
		}
		targets, dup := w.undelivered(ctx, eventKey(e))
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
		w.mu.Lock()
		w.sending[eventKey(e)] = true
		w.mu.Unlock()
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

// linkSession remembers AssumeRoot calls and classifies a member's root
// event signed with a session key as the privileged task it is.
func (w *watcher) linkSession(e evidence.Event) evidence.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e.Category == evidence.CategoryAssumeRoot && e.SessionKeyID != "" {
		now := w.o.Clock.Now()
		w.sessions[e.SessionKeyID] = append(w.sessions[e.SessionKeyID], e)
		w.sessionSeen[e.SessionKeyID] = now
		// Sessions last at most 900 s: forget calls that arrived well
		// before that (on the watch's clock: a backlog of old events
		// still links).
		for k, at := range w.sessionSeen {
			if now.Sub(at) > cloudtrail.MaxRootSession+time.Hour {
				delete(w.sessions, k)
				delete(w.sessionSeen, k)
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
	w.mu.Unlock()
	out := w.remaining(ctx, id)
	return out, len(out) == 0
}

// remaining lists the targets that have not had an alert for the event,
// as far as memory and the store know.
func (w *watcher) remaining(ctx context.Context, id string) []notify.Target {
	if id == "" {
		return w.o.Targets
	}
	w.mu.Lock()
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
	return out
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
	w.mu.Lock()
	for _, m := range msgs {
		m.pending++
	}
	w.mu.Unlock()
	w.alerts.Add(1)
	go func() {
		defer w.alerts.Done()
		ok := w.deliver(ctx, a, targets)
		for _, m := range msgs {
			w.done(m, ok)
		}
	}()
}

// deliver sends an alert to the targets that still need it and prints its
// events once every one has it.
func (w *watcher) deliver(ctx context.Context, p pending, targets []notify.Target) bool {
	events := p.events
	defer func() {
		w.mu.Lock()
		for _, k := range p.keys {
			delete(w.sending, k)
		}
		w.mu.Unlock()
	}()
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
	now := time.Now()
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
		w.mu.Lock()
		for _, k := range p.keys {
			if w.seen[k] == nil {
				w.seen[k] = map[string]bool{}
			}
			w.seen[k][r.Target] = true
		}
		w.mu.Unlock()
		if w.o.Store != nil {
			for _, k := range p.keys {
				if err := w.o.Store.MarkDelivered(ctx, k, r.Target, now); err != nil {
					w.o.Log.Error("cannot record a delivered alert in the store; a restart may alert again", "event_id", k, "error", err.Error())
				}
			}
		}
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
		w.mu.Unlock()
		w.o.Metrics.Released.Inc()
		w.warnRedrive(m, "an alert was not delivered")
		return
	}
	w.mu.Unlock()
	w.deletes <- m
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

// addToBurst holds a failed sign-in (and its message) in the burst of its
// account and address, beginning one when there is none.
func (w *watcher) addToBurst(ctx context.Context, e evidence.Event, m *message) {
	key := e.AccountID + "|" + e.SourceIP
	w.mu.Lock()
	defer w.mu.Unlock()
	m.pending++
	m.bursts++
	b := w.bursts[key]
	if b == nil {
		b = &burst{key: key}
		w.bursts[key] = b
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
// alert in flight: Run waits for it. w.mu is held.
func (w *watcher) schedule(ctx context.Context, b *burst, d time.Duration) {
	w.alerts.Add(1)
	b.timer = w.o.Clock.AfterFunc(d, func() { w.flushBurst(ctx, b) })
}

// flushBurst sends what a burst gathered, from its timer or at exit. A
// burst that sent something gathers for another window; one that
// gathered nothing, or is sent for the exit, ends.
func (w *watcher) flushBurst(ctx context.Context, b *burst) {
	defer w.alerts.Done()
	w.mu.Lock()
	events, msgs := b.events, b.msgs
	b.events, b.msgs = nil, nil
	if len(events) > 0 && !w.closing {
		w.schedule(ctx, b, w.o.BurstWindow)
	} else if w.bursts[b.key] == b {
		delete(w.bursts, b.key)
	}
	for _, e := range events {
		// Another copy arriving now is a duplicate; if this delivery
		// fails, the messages come back.
		w.sending[eventKey(e)] = true
	}
	w.mu.Unlock()
	if len(events) == 0 {
		return
	}
	// Oldest first, in arrival order at equal times.
	slices.SortStableFunc(events, func(x, y evidence.Event) int { return x.Time.Compare(y.Time) })
	ok := w.deliver(ctx, eventAlert(events), w.burstTargets(ctx, events))
	w.mu.Lock()
	for _, m := range msgs {
		m.bursts--
	}
	w.mu.Unlock()
	for _, m := range msgs {
		w.done(m, ok)
	}
}

// burstTargets are the targets any of the events has not had.
func (w *watcher) burstTargets(ctx context.Context, events []evidence.Event) []notify.Target {
	need := map[string]bool{}
	for _, e := range events {
		for _, t := range w.remaining(ctx, eventKey(e)) {
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
	w.mu.Lock()
	w.closing = true
	var stopped []*burst
	for _, b := range w.bursts {
		// A timer that already fired is flushing its burst itself.
		if b.timer.Stop() {
			stopped = append(stopped, b)
		}
	}
	w.mu.Unlock()
	for _, b := range stopped {
		go w.flushBurst(ctx, b)
	}
}

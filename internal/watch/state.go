package watch

// The watcher's state, each part with its own lock: the messages in flight
// and what each waits for, de-duplication, and AssumeRoot sessions.
// Bursts (alert.go) and takeovers (chain.go) hold their own. Where
// one part calls another under its lock, it is bursts into messages or
// de-duplication, never the reverse.

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
)

// message is one received SQS message until it is deleted or released.
// Its counts and deadline are its messages' to change.
type message struct {
	id, receipt string
	receives    int       // ApproximateReceiveCount
	deadline    time.Time // when its visibility ends
	pending     int       // parts it still waits for: its own reading, alerts
	bursts      int       // of which gathering bursts
	failed      bool
}

// messages are the messages in flight, by receipt handle, and when the
// queue was last busy.
type messages struct {
	mu       sync.Mutex
	inflight map[string]*message
	lastBusy time.Time
}

func newMessages(now time.Time) *messages {
	return &messages{inflight: map[string]*message{}, lastBusy: now}
}

// add takes in received messages; each waits for its own reading.
func (s *messages) add(now time.Time, ms []*message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastBusy = now
	for _, m := range ms {
		m.pending = 1
		s.inflight[m.receipt] = m
	}
}

// hold makes a message wait for one more part (a gathering burst's, when
// burst).
func (s *messages) hold(m *message, burst bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.pending++
	if burst {
		m.bursts++
	}
}

// release ends one part a message waits for. It reports whether that
// was the last, and then whether any part failed; a failed message is
// forgotten (it will be received again), a finished one stays until it
// is deleted.
func (s *messages) release(m *message, ok, burst bool) (last, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.pending--
	if burst {
		m.bursts--
	}
	m.failed = m.failed || !ok
	if m.pending > 0 {
		return false, false
	}
	if m.failed {
		delete(s.inflight, m.receipt)
	}
	return true, m.failed
}

// forget drops messages no longer in flight: deleted, or left to be
// received again.
func (s *messages) forget(ms ...*message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		delete(s.inflight, m.receipt)
	}
}

// idleFor is how long no message has been received and none has waited
// for anything but a gathering burst (which the exit sends).
func (s *messages) idleFor(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.inflight {
		if m.pending > m.bursts {
			s.lastBusy = now
			return 0
		}
	}
	return now.Sub(s.lastBusy)
}

// due lists the messages whose visibility ends within d of now.
func (s *messages) due(now time.Time, d time.Duration) []*message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*message
	for _, m := range s.inflight {
		if m.deadline.Sub(now) < d {
			out = append(out, m)
		}
	}
	return out
}

// extend records messages' new visibility deadline.
func (s *messages) extend(ms []*message, deadline time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		m.deadline = deadline
	}
}

// left lists the messages still in flight.
func (s *messages) left() []*message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*message, 0, len(s.inflight))
	for _, m := range s.inflight {
		out = append(out, m)
	}
	return out
}

// dedup remembers which targets had each alert (in memory, and in the
// store when there is one) and which alerts are being delivered, so that
// an event EventBridge or SQS delivered twice is alerted once.
type dedup struct {
	targets []notify.Target
	store   Deliveries // may be nil
	log     *slog.Logger

	mu      sync.Mutex
	seen    map[string]map[string]bool // targets that had it, by key
	sending map[string]bool            // keys whose alert is being delivered
}

func newDedup(targets []notify.Target, store Deliveries, log *slog.Logger) *dedup {
	return &dedup{targets: targets, store: store, log: log, seen: map[string]map[string]bool{}, sending: map[string]bool{}}
}

// undelivered lists the targets that have not had an alert for the event;
// dup is true when every one has, or another copy is being alerted on
// (if that fails, its message is received again).
func (d *dedup) undelivered(ctx context.Context, id string) ([]notify.Target, bool) {
	if id == "" {
		return d.targets, false
	}
	d.mu.Lock()
	if d.sending[id] {
		d.mu.Unlock()
		return nil, true
	}
	if len(d.targets) == 0 {
		// Nothing to deliver to: an event is a duplicate once printed.
		dup := d.seen[id] != nil
		if !dup {
			d.seen[id] = map[string]bool{}
		}
		d.mu.Unlock()
		return nil, dup
	}
	d.mu.Unlock()
	out := d.remaining(ctx, id)
	return out, len(out) == 0
}

// remaining lists the targets that have not had an alert for the event,
// as far as memory and the store know.
func (d *dedup) remaining(ctx context.Context, id string) []notify.Target {
	if id == "" {
		return d.targets
	}
	d.mu.Lock()
	seen := d.seen[id]
	d.mu.Unlock()
	stored := map[string]bool{}
	if d.store != nil {
		names := make([]string, len(d.targets))
		for i, t := range d.targets {
			names[i] = t.Name
		}
		got, err := d.store.Delivered(ctx, id, names)
		if err != nil {
			d.log.Error("cannot read delivered alerts from the store; alerting again rather than not at all", "event_id", id, "error", err.Error())
		} else {
			stored = got
		}
	}
	var out []notify.Target
	for _, t := range d.targets {
		if !seen[t.Name] && !stored[t.Name] {
			out = append(out, t)
		}
	}
	return out
}

// claim marks alerts as being delivered.
func (d *dedup) claim(keys ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		d.sending[k] = true
	}
}

// claimFree marks an alert as being delivered unless it already is, and
// reports whether it was free.
func (d *dedup) claimFree(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sending[key] {
		return false
	}
	d.sending[key] = true
	return true
}

// unclaim ends the delivery of alerts, delivered or not.
func (d *dedup) unclaim(keys ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		delete(d.sending, k)
	}
}

// delivered remembers that a target had the alerts, in memory and in the
// store.
func (d *dedup) delivered(ctx context.Context, keys []string, target string, at time.Time) {
	d.mu.Lock()
	for _, k := range keys {
		if d.seen[k] == nil {
			d.seen[k] = map[string]bool{}
		}
		d.seen[k][target] = true
	}
	d.mu.Unlock()
	if d.store == nil {
		return
	}
	for _, k := range keys {
		if err := d.store.MarkDelivered(ctx, k, target, at); err != nil {
			d.log.Error("cannot record a delivered alert in the store; a restart may alert again", "event_id", k, "error", err.Error())
		}
	}
}

// sessions remembers AssumeRoot calls by session key, to classify the
// member root events signed with one.
type sessions struct {
	mu    sync.Mutex
	calls map[string][]evidence.Event
	seen  map[string]time.Time // when each key's last call arrived
}

func newSessions() *sessions {
	return &sessions{calls: map[string][]evidence.Event{}, seen: map[string]time.Time{}}
}

// link remembers an AssumeRoot call, or classifies a member's root event
// signed with a session key as the privileged task it is.
func (s *sessions) link(e evidence.Event, now time.Time) evidence.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Category == evidence.CategoryAssumeRoot && e.SessionKeyID != "" {
		s.calls[e.SessionKeyID] = append(s.calls[e.SessionKeyID], e)
		s.seen[e.SessionKeyID] = now
		// Sessions last at most 900 s: forget calls that arrived well
		// before that (on the watch's clock: a backlog of old events
		// still links).
		for k, at := range s.seen {
			if now.Sub(at) > cloudtrail.MaxRootSession+time.Hour {
				delete(s.calls, k)
				delete(s.seen, k)
			}
		}
		return e
	}
	// The calls of the event's key (if any) and the event: the trail
	// classifier links them, or notes an ASIA key with no call.
	evs := append(slices.Clone(s.calls[e.AccessKeyID]), e)
	cloudtrail.LinkRootSessions(evs)
	return evs[len(evs)-1]
}

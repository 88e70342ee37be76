package parallel

import (
	"context"
	"sync"
	"time"
)

// AIMD is a Limiter whose bound moves by additive increase and
// multiplicative decrease, as TCP's window does: a signal of overload
// (Throttled) halves the bound, at most once a second so that one burst is
// one signal, down to a floor of min(8, max); each item that ran without
// one (Succeeded) grows it by one again, up to max. Lowering the bound
// stops nothing that runs: new items wait until fewer than the bound are
// in flight.
type AIMD struct {
	mu                   sync.Mutex
	changed              chan struct{} // closed and replaced when a slot may be free
	limit, inFlight, max int
	min                  int
	now                  func() time.Time
	lastCut              time.Time
	cuts                 int
}

// NewAIMD starts at its most, bound (at least one).
func NewAIMD(bound int) *AIMD {
	bound = max(bound, 1)
	return &AIMD{changed: make(chan struct{}), limit: bound, max: bound, min: min(8, bound), now: time.Now}
}

// Acquire waits for a slot; false when ctx ended first.
func (l *AIMD) Acquire(ctx context.Context) bool {
	for {
		l.mu.Lock()
		if l.inFlight < l.limit {
			l.inFlight++
			l.mu.Unlock()
			return true
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// Release frees a slot.
func (l *AIMD) Release() {
	l.mu.Lock()
	l.inFlight--
	l.wake()
	l.mu.Unlock()
}

// Succeeded grows the bound by one (an item ran without throttling).
func (l *AIMD) Succeeded() {
	l.mu.Lock()
	if l.limit < l.max {
		l.limit++
		l.wake()
	}
	l.mu.Unlock()
}

// Throttled halves the bound, at most once a second: one burst of
// throttling is one signal.
func (l *AIMD) Throttled() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastCut) < time.Second {
		return
	}
	l.lastCut = now
	l.limit = max(l.min, l.limit/2)
	l.cuts++
}

// State is the bound now and how many times it was cut.
func (l *AIMD) State() (limit, cuts int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit, l.cuts
}

func (l *AIMD) wake() {
	close(l.changed)
	l.changed = make(chan struct{})
}

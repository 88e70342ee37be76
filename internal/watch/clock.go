package watch

import (
	"context"
	"time"
)

// Clock is all the watcher's time: burst windows, takeover chains,
// AssumeRoot sessions, the idle exit, the visibility heartbeat and the
// deadlines it keeps, receive backoffs, the shutdown deadline and alert
// lag. Tests drive a fake one instead of waiting. Long polls are SQS's
// (they end when SQS answers), and delivery retries are notify's.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a call scheduled by a Clock.
type Timer interface {
	// Stop prevents the call; it reports false when the call was already
	// made or started.
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// sleep waits d on the clock; it reports false, at once, when ctx ends
// first.
func sleep(ctx context.Context, c Clock, d time.Duration) bool {
	fired := make(chan struct{})
	t := c.AfterFunc(d, func() { close(fired) })
	select {
	case <-fired:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

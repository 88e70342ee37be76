package watch

import "time"

// Clock is the time of the watcher's own timing: burst timers and the idle
// exit. The queue's visibility timeouts are SQS's and run on the real
// clock, as do long polls and retry backoffs.
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

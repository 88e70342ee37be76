package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A Notifier delivers content to one target, once. retry says whether a
// failure may pass on a later attempt (no answer, HTTP 429 or 5xx, a
// temporary SMTP reply); the retry stage decides whether and when to try
// again. Nothing a Notifier returns holds its target's address.
type Notifier interface {
	Notify(ctx context.Context, c Content) (retry bool, err error)
}

// retryLater is a failure that says when to try again (Retry-After).
type retryLater struct {
	after time.Duration
	err   error
}

func (e *retryLater) Error() string { return e.err.Error() }
func (e *retryLater) Unwrap() error { return e.err }

// DefaultTimeout bounds one delivery attempt.
const DefaultTimeout = 30 * time.Second

// Options tune delivery: the retry stage around every notifier, and what
// some channels need (an SNS client).
type Options struct {
	// Attempts per target (default 4) and the first backoff (default 1 s,
	// doubling); a Retry-After longer than MaxWait (default 60 s) is cut.
	Attempts int
	Backoff  time.Duration
	MaxWait  time.Duration
	// Timeout bounds one attempt (default 30 s); an attempt that gets no
	// answer in time fails with ErrNoAnswer, and is retried.
	Timeout time.Duration
	// Waiting, when set, hears that an attempt has waited WaitingAfter
	// (default half the Timeout, at most 5 s) without an answer: a line
	// naming the target (never its address).
	Waiting      func(string)
	WaitingAfter time.Duration
	// Sleep waits between attempts (default: a timer that ends early when
	// ctx does); tests record the waits instead.
	Sleep func(ctx context.Context, d time.Duration)
	// SNS publishes to a topic in a region, for sns targets (SNSClients).
	SNS func(ctx context.Context, region string) (SNSAPI, error)
}

// runDelivery and alertDelivery are the delivery defaults, written once:
// a run's message, and a watch alert, which tries less and for less long
// (when its delivery fails, its queue message comes back and it is tried
// again anyway).
func runDelivery() Options {
	return Options{Attempts: 4, Backoff: time.Second, MaxWait: time.Minute, Timeout: DefaultTimeout}
}

func alertDelivery() Options {
	return Options{Attempts: 3, Backoff: 500 * time.Millisecond, MaxWait: 10 * time.Second, Timeout: 15 * time.Second}
}

// ForAlerts gives what o leaves unset the watch's defaults (3 attempts of
// at most 15 s, backoff from 0.5 s, Retry-After cut at 10 s).
func (o Options) ForAlerts() Options { return o.fill(alertDelivery()) }

func (o Options) fill(d Options) Options {
	if o.Attempts <= 0 {
		o.Attempts = d.Attempts
	}
	if o.Backoff <= 0 {
		o.Backoff = d.Backoff
	}
	if o.MaxWait <= 0 {
		o.MaxWait = d.MaxWait
	}
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	return o
}

func (o Options) withDefaults() Options {
	o = o.fill(runDelivery())
	if o.WaitingAfter <= 0 {
		o.WaitingAfter = min(o.Timeout/2, 5*time.Second)
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
	return o
}

func send(ctx context.Context, targets []Target, c Content, o Options) []Result {
	o = o.withDefaults()
	out := make([]Result, 0, len(targets))
	for _, t := range targets {
		r := o.retry(ctx, t.Name, t.notifier(o), c)
		r.Index = t.Index
		out = append(out, r)
	}
	return out
}

// retry is the stage around any notifier: each attempt has Timeout to be
// answered (then it fails with ErrNoAnswer, which may pass) and its wait
// is said after WaitingAfter; a failure the notifier says may pass is
// tried again after the backoff, doubling, or the Retry-After it was
// given (at most MaxWait), up to Attempts in all.
func (o Options) retry(ctx context.Context, name string, n Notifier, c Content) Result {
	r := Result{Target: name}
	wait := o.Backoff
	for r.Attempts = 1; ; r.Attempts++ {
		actx, cancel := context.WithTimeout(ctx, o.Timeout)
		stop := o.watch(fmt.Sprintf("waiting for %s to answer (attempt %d of %d; each gives up after %s)", name, r.Attempts, o.Attempts, o.Timeout))
		again, err := n.Notify(actx, c)
		stop()
		if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			again, err = true, fmt.Errorf("%w within %s", ErrNoAnswer, o.Timeout)
		}
		cancel()
		r.Err = err
		if err == nil || !again || r.Attempts == o.Attempts || ctx.Err() != nil {
			return r
		}
		d := wait
		var later *retryLater
		if errors.As(err, &later) && later.after > 0 {
			d = min(later.after, o.MaxWait)
		}
		o.Sleep(ctx, d)
		wait *= 2
	}
}

// ErrNoAnswer says an attempt got no answer within the Timeout.
var ErrNoAnswer = errors.New("no answer")

// watch says line to Waiting once an attempt has waited WaitingAfter. stop
// ends the watch and returns only when nothing more will be said.
func (o Options) watch(line string) (stop func()) {
	if o.Waiting == nil {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTimer(o.WaitingAfter)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			o.Waiting(line)
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

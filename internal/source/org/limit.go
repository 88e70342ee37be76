package org

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/rootwatch/rootwatch/internal/awsx"
)

// limiter bounds the calls in flight on the management account's shared
// quotas (STS AssumeRole and AssumeRoot, Organizations), additive increase
// and multiplicative decrease: a throttled call halves the bound, at most
// once a second; every call that goes through grows it by one again, up to
// the configured maximum. It bounds those calls, not the accounts: an
// account waits seconds on its own credential report, which costs the
// shared quotas nothing, so a lowered bound must not hold it.
type limiter struct {
	mu                   sync.Mutex
	changed              chan struct{} // closed and replaced when a slot may be free
	limit, inFlight, max int
	min                  int
	lastCut              time.Time
	cuts                 int
}

func newLimiter(max int) *limiter {
	return &limiter{changed: make(chan struct{}), limit: max, max: max, min: min(8, max)}
}

// acquire waits for a slot; false when ctx ended first.
func (l *limiter) acquire(ctx context.Context) bool {
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

func (l *limiter) release() {
	l.mu.Lock()
	l.inFlight--
	l.wake()
	l.mu.Unlock()
}

// do runs fn, a call on the shared quotas, within the bound; a call that
// goes through grows it.
func (l *limiter) do(ctx context.Context, fn func() error) error {
	if !l.acquire(ctx) {
		return ctx.Err()
	}
	err := fn()
	l.release()
	if err == nil {
		l.succeeded()
	}
	return err
}

// succeeded grows the bound by one (a call went through).
func (l *limiter) succeeded() {
	l.mu.Lock()
	if l.limit < l.max {
		l.limit++
		l.wake()
	}
	l.mu.Unlock()
}

// throttled halves the bound, at most once a second: one burst of
// throttling is one signal.
func (l *limiter) throttled() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.lastCut) < time.Second {
		return
	}
	l.lastCut = time.Now()
	l.limit = max(l.min, l.limit/2)
	l.cuts++
}

// state is the bound now and how many times it was cut.
func (l *limiter) state() (limit, cuts int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit, l.cuts
}

func (l *limiter) wake() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// throttleWatch tells the limiter of every throttling error the SDK is
// about to retry.
type throttleWatch struct {
	aws.RetryerV2
	onThrottle func()
}

func (t throttleWatch) IsErrorRetryable(err error) bool {
	if awsx.CodeIs(err, "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "PriorRequestNotComplete") {
		t.onThrottle()
	}
	return t.RetryerV2.IsErrorRetryable(err)
}

// watchThrottling returns cfg whose clients report throttling to onThrottle.
func watchThrottling(cfg aws.Config, onThrottle func()) aws.Config {
	out := cfg.Copy()
	inner := cfg.Retryer
	out.Retryer = func() aws.Retryer {
		var r aws.Retryer = retry.NewStandard()
		if inner != nil {
			r = inner()
		}
		v2, ok := r.(aws.RetryerV2)
		if !ok {
			v2 = retry.NewStandard()
		}
		return throttleWatch{RetryerV2: v2, onThrottle: onThrottle}
	}
	return out
}

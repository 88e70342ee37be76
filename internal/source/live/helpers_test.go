package live

import (
	"context"
	"sync"
	"time"

	"github.com/aws/smithy-go"
)

func fakeAPIError(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }

// fakeClock is a Clock whose Sleep moves Now at once and records the wait;
// the fake AWS shares its Now, so a report's delay passes as the poller
// waits, with no wall-clock sleep.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
	// beforeSleep, if set, runs before each wait (e.g. to cancel a context).
	beforeSleep func(n int)
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	n := len(c.waits)
	hook := c.beforeSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// noJitter makes every wait exactly the backoff's.
func noJitter() float64 { return 0.5 }

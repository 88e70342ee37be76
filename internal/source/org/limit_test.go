package org

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/parallel"
	"github.com/rootwatch/rootwatch/internal/source/live"
)

// TestThrottledAssumeRoleLowersConcurrency: when the management account's
// AssumeRole throttles, the scan lowers its bound, and still scans every
// account.
func TestThrottledAssumeRoleLowersConcurrency(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 30, Seed: 2, Clean: true})
	for _, a := range w.Accounts[1:] {
		a.Faults = []awsfake.Fault{{Op: "AssumeRole", Code: "Throttling", Status: 400, Message: "Rate exceeded", Times: 1}}
	}
	var last Progress
	accounts, err := Scan(context.Background(), serve(t, w), Options{Concurrency: 64,
		Collect: live.Options{PollInterval: time.Millisecond}, Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		if a.Error != "" || a.Source(evidence.SourceCredentialReport).State != evidence.StateOK {
			t.Errorf("account %s: %q %+v", a.ID, a.Error, a.Source(evidence.SourceCredentialReport))
		}
	}
	if last.Throttled == 0 || last.Done != 30 {
		t.Errorf("progress %+v: want every member done and the bound lowered at least once", last)
	}
}

// barrierClock is a poll clock whose waits all block until as many
// accounts wait at once as the test asks for; then time moves on.
type barrierClock struct {
	mu      sync.Mutex
	now     time.Time
	waiting int
	target  int
	once    sync.Once
	reached chan struct{} // closed when target accounts wait at once
	release chan struct{} // closed by the test
}

func (c *barrierClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *barrierClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waiting++
	if c.waiting == c.target {
		c.once.Do(func() { close(c.reached) })
	}
	c.mu.Unlock()
	select {
	case <-c.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waiting--
	c.now = c.now.Add(d)
	return nil
}

// TestLoweredBoundDoesNotHoldReportWaits: with the bound on the management
// account's shared calls at 1 (as after throttling), role and root
// sessions open one at a time, but every account in flight still waits on
// its credential report at the same time: waiting costs the shared quotas
// nothing. Holding the bound for the whole account let one account at a
// time wait its seconds.
func TestLoweredBoundDoesNotHoldReportWaits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &barrierClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), target: 16, reached: make(chan struct{}), release: make(chan struct{})}
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 40, Seed: 3, Clean: true, Features: []string{evidence.FeatureRootCredentialsManagement}})
	fake, err := awsfake.New(w, awsfake.Options{Now: clock.Now, ReportDelay: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	url, err := fake.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := parallel.NewAIMD(16)
	lim.Throttled() // 8, its floor: half the accounts in flight
	type result struct {
		accounts []*evidence.Account
		err      error
	}
	done := make(chan result, 1)
	go func() {
		accounts, err := scan(ctx, awsfake.ClientConfig(url, awsfake.GenManagementKey), Options{Concurrency: 16,
			Collect: live.Options{Now: clock.Now, PollClock: clock}}, lim)
		done <- result{accounts, err}
	}()
	select {
	case <-clock.reached:
		close(clock.release)
	case <-time.After(60 * time.Second): // a deadlock guard, not a measurement
		clock.mu.Lock()
		n := clock.waiting
		clock.mu.Unlock()
		close(clock.release)
		t.Fatalf("16 accounts in flight never waited on their reports at once (%d did): the lowered bound holds accounts, not calls", n)
	}
	r := <-done
	if r.err != nil || len(r.accounts) != 40 {
		t.Fatalf("%d accounts, %v", len(r.accounts), r.err)
	}
	for _, a := range r.accounts {
		if a.Error != "" || a.Source(evidence.SourceCredentialReport).State != evidence.StateOK || (a.ID != awsfake.GenManagementAccount && a.RootCredentials == nil) {
			t.Errorf("account %s: %q, report %+v, root audit %v", a.ID, a.Error, a.Source(evidence.SourceCredentialReport), a.RootCredentials != nil)
		}
	}
}

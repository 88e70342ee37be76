package org

import (
	"context"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/live"
)

func TestLimiterHalvesOnThrottlingAndGrowsBack(t *testing.T) {
	l := newLimiter(64)
	l.throttled()
	l.throttled() // the same burst: one cut
	if limit, cuts := l.state(); limit != 32 || cuts != 1 {
		t.Fatalf("after a burst: limit %d, cuts %d; want 32, 1", limit, cuts)
	}
	l.lastCut = time.Now().Add(-2 * time.Second)
	l.throttled()
	if limit, _ := l.state(); limit != 16 {
		t.Fatalf("after a second burst: limit %d, want 16", limit)
	}
	for range 100 {
		l.succeeded()
	}
	if limit, _ := l.state(); limit != 64 {
		t.Errorf("after successes: limit %d, want the maximum 64", limit)
	}
	for range 10 {
		l.lastCut = time.Time{}
		l.throttled()
	}
	if limit, _ := l.state(); limit != 8 {
		t.Errorf("floor: limit %d, want 8", limit)
	}
	// Slots: a ninth acquire waits until a release.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for range 8 {
		if !l.acquire(context.Background()) {
			t.Fatal("acquire failed below the limit")
		}
	}
	if l.acquire(ctx) {
		t.Fatal("a ninth account started above the limit")
	}
	go func() { time.Sleep(10 * time.Millisecond); l.release() }()
	if !l.acquire(context.Background()) {
		t.Error("a released slot was not handed on")
	}
}

// TestThrottledAssumeRoleLowersConcurrency: when the management account's
// AssumeRole throttles, the scan lowers its bound, and still scans every
// account.
func TestThrottledAssumeRoleLowersConcurrency(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 30, Seed: 2, Clean: true})
	for _, a := range w.Accounts[1:] {
		a.Faults = []awsfake.Fault{{Op: "AssumeRole", Code: "Throttling", Status: 400, Message: "Rate exceeded", Times: 1}}
	}
	fake, err := awsfake.New(w, awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, err := fake.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var last Progress
	accounts, err := Scan(ctx, awsfake.ClientConfig(url, awsfake.GenManagementKey), Options{Concurrency: 64,
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

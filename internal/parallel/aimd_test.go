package parallel

import (
	"context"
	"testing"
	"time"
)

func TestAIMDHalvesOnThrottlingAndGrowsBack(t *testing.T) {
	l := NewAIMD(64)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return clock }
	l.Throttled()
	l.Throttled() // the same burst: one cut
	if limit, cuts := l.State(); limit != 32 || cuts != 1 {
		t.Fatalf("after a burst: limit %d, cuts %d; want 32, 1", limit, cuts)
	}
	clock = clock.Add(999 * time.Millisecond)
	l.Throttled()
	if limit, _ := l.State(); limit != 32 {
		t.Fatalf("within the second: limit %d, want 32", limit)
	}
	clock = clock.Add(time.Second)
	l.Throttled()
	if limit, _ := l.State(); limit != 16 {
		t.Fatalf("after a second burst: limit %d, want 16", limit)
	}
	for range 100 {
		l.Succeeded()
	}
	if limit, _ := l.State(); limit != 64 {
		t.Errorf("after successes: limit %d, want the maximum 64", limit)
	}
	for range 10 {
		clock = clock.Add(time.Second)
		l.Throttled()
	}
	if limit, _ := l.State(); limit != 8 {
		t.Errorf("floor: limit %d, want 8", limit)
	}
	if l := NewAIMD(3); l.min != 3 {
		t.Errorf("a bound below 8 is its own floor: %d", l.min)
	}
}

// TestAIMDAcquireFollowsTheBound: a slot is free only below the bound as
// it is now. A context that has ended lets Acquire say whether a slot was
// free without waiting: it takes one if it can.
func TestAIMDAcquireFollowsTheBound(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	l := NewAIMD(16)
	for range 16 {
		if !l.Acquire(ended) {
			t.Fatal("acquire failed below the bound")
		}
	}
	if l.Acquire(ended) {
		t.Fatal("a 17th slot above the bound of 16")
	}
	l.Throttled() // 8, with 16 in flight
	for range 8 {
		l.Release()
	}
	if l.Acquire(ended) {
		t.Fatal("a slot with 8 in flight after the bound fell to 8")
	}
	l.Release()
	if !l.Acquire(ended) {
		t.Fatal("no slot with 7 in flight under a bound of 8")
	}
	l.Succeeded() // 9
	if !l.Acquire(ended) {
		t.Fatal("no slot after the bound grew to 9")
	}
	// A waiting Acquire is woken by a release.
	got := make(chan bool)
	go func() { got <- l.Acquire(context.Background()) }()
	l.Release()
	if !<-got {
		t.Error("a released slot was not handed on")
	}
}

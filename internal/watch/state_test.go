package watch

import (
	"testing"
	"time"
)

// TestMessagesCountWhatEachWaitsFor: a message is finished by its last
// part, failed when any part failed, and the queue is idle only while
// nothing but gathering bursts is pending.
func TestMessagesCountWhatEachWaitsFor(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s := newMessages(t0)
	a, b := &message{receipt: "a"}, &message{receipt: "b"}
	s.add(t0, []*message{a, b})
	s.hold(a, false) // an alert
	s.hold(b, true)  // a burst
	if last, _ := s.release(a, true, false); last {
		t.Fatal("a finished with its alert pending")
	}
	if last, _ := s.release(b, true, false); last {
		t.Fatal("b finished with its burst pending")
	}
	// a waits for its alert: busy; b only for its burst.
	if d := s.idleFor(t0.Add(time.Minute)); d != 0 {
		t.Errorf("idle for %s while an alert is pending", d)
	}
	if last, failed := s.release(a, false, false); !last || !failed {
		t.Errorf("a's failed alert: last %v failed %v", last, failed)
	}
	if d := s.idleFor(t0.Add(3 * time.Minute)); d != 2*time.Minute {
		t.Errorf("idle for %s with only a burst pending, want 2m", d)
	}
	if last, failed := s.release(b, true, true); !last || failed {
		t.Errorf("b's burst: last %v failed %v", last, failed)
	}
	// The failed message is forgotten (it will be received again); the
	// finished one stays until it is deleted.
	if left := s.left(); len(left) != 1 || left[0] != b {
		t.Errorf("left %v, want b", left)
	}
}

// TestDedupClaimsOnce: an alert being delivered is claimed once; a copy
// is a duplicate until the delivery ends; a delivered target is not
// asked again.
func TestDedupClaimsOnce(t *testing.T) {
	e := setup(t, &hook{})
	d := newDedup(e.options(nil).Targets, nil, newLogSink().logger())
	if !d.claimFree("k") || d.claimFree("k") {
		t.Fatal("claimFree: want the first claim only")
	}
	if _, dup := d.undelivered(t.Context(), "k"); !dup {
		t.Error("a copy of an alert being delivered is not a duplicate")
	}
	d.delivered(t.Context(), []string{"k"}, e.target.Name, time.Time{})
	d.unclaim("k")
	if targets, dup := d.undelivered(t.Context(), "k"); !dup || len(targets) != 0 {
		t.Errorf("delivered to every target: %v %v", targets, dup)
	}
	if targets, dup := d.undelivered(t.Context(), "other"); dup || len(targets) != 1 {
		t.Errorf("a new alert: %v %v", targets, dup)
	}
}

package remediate

import (
	"context"
	"strings"
	"testing"
)

// cancelOnWrite ends the apply at its first log line.
type cancelOnWrite struct{ cancel context.CancelFunc }

func (c cancelOnWrite) Write(b []byte) (int, error) { c.cancel(); return len(b), nil }

// TestInterruptedApplyFailsWhatItDidNotReach: an apply interrupted during
// its first account reports every planned account it did not start as
// failed, not applied, and never as skipped; nothing in them is changed.
func TestInterruptedApplyFailsWhatItDidNotReach(t *testing.T) {
	ctx := context.Background()
	_, srv, c := fakeOrg(t, 12)
	plan, err := BuildPlan(ctx, c, PlanOptions{Now: clock, Tool: "rootwatch test"})
	if err != nil {
		t.Fatal(err)
	}
	planned := map[string]bool{}
	for _, a := range plan.Accounts {
		planned[a.AccountID] = a.Status == StatusPlanned
	}
	chk, err := Check(ctx, c, plan, ApplyOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	before := changesMade(srv)
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	results, err := Apply(actx, c, chk, ApplyOptions{Now: clock, Concurrency: 1, Log: cancelOnWrite{cancel}})
	if err != nil {
		t.Fatal(err)
	}
	started, notApplied := 0, 0
	for _, r := range results {
		switch {
		case !planned[r.AccountID]:
			if r.Outcome != OutcomeSkipped {
				t.Errorf("%s, nothing planned: %s (%s)", r.AccountID, r.Outcome, r.Reason)
			}
		case r.Outcome != OutcomeFailed:
			t.Errorf("%s, planned and interrupted: %s (%s), want failed", r.AccountID, r.Outcome, r.Reason)
		case strings.HasPrefix(r.Reason, "not applied: context canceled"):
			notApplied++
		default:
			started++
		}
	}
	if started != 1 || notApplied < 2 {
		t.Errorf("%d planned accounts started and %d not applied: want the first only started", started, notApplied)
	}
	// The first account's AssumeRoot, and its first deletion (logged before
	// the cancellation was seen), at most.
	if n := changesMade(srv) - before; n > 2 {
		t.Errorf("%d changing calls after the interruption", n)
	}
}

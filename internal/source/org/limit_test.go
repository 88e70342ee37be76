package org

import (
	"context"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
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

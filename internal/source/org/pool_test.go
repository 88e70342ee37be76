package org

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/source/live"
)

// serve serves w on the fake until the test ends, and returns the
// management account's configuration for it.
func serve(t *testing.T, w *awsfake.World) aws.Config {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	fake, err := awsfake.New(w, awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, err := fake.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return awsfake.ClientConfig(url, awsfake.GenManagementKey)
}

// TestCancelledScanAccountsForEveryAccount: a scan cancelled after its
// third account still returns every listed account; those that never
// started say so, and only those.
func TestCancelledScanAccountsForEveryAccount(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 15, Seed: 3, Clean: true}) // one ListAccounts page
	cfg := serve(t, w)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	progressed := map[string]bool{}
	var last Progress
	accounts, err := Scan(ctx, cfg, Options{Concurrency: 2,
		Collect: live.Options{PollInterval: time.Millisecond}, Progress: func(p Progress) {
			progressed[p.Account.ID] = true
			last = p
			if p.Done == 3 {
				stop()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 15 {
		t.Fatalf("%d accounts returned, want all 15", len(accounts))
	}
	notStarted := 0
	for _, a := range accounts {
		never := strings.HasPrefix(a.Error, "not scanned: ")
		if never {
			notStarted++
			if a.Error != "not scanned: the scan was interrupted first" {
				t.Errorf("account %s: %q", a.ID, a.Error)
			}
		}
		if never == progressed[a.ID] {
			t.Errorf("account %s: progress %v, error %q: an account reported done must have started, and one not done must say it was not scanned", a.ID, progressed[a.ID], a.Error)
		}
	}
	// The listing is paced by free slots, so the last progress has seen
	// as many accounts as had started, not necessarily all 15.
	if notStarted == 0 || last.Total > 15 || last.Done+notStarted != 15 {
		t.Errorf("%d not started, last progress %+v", notStarted, last)
	}
}

package cli

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// runRealClock runs the CLI against a fake AWS serving w, with the real
// clock on both sides: nothing lines the as-of time up with collection.
func runRealClock(t *testing.T, w *awsfake.World, key string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := awsfake.New(w, awsfake.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: time.Now,
		Version: "test", IsTerminal: func(io.Writer) bool { return false },
		AWSConfig: func(context.Context, string, string) (aws.Config, error) {
			return awsfake.ClientConfig(url, key), nil
		}}
	err = Execute(ctx, app, args)
	return result{out.String(), errb.String(), ExitCode(err), err}
}

var cloudTrailRules = []string{"iam-root-console-login", "iam-root-login-without-mfa", "iam-root-failed-logins", "iam-root-api-activity"}

func requireAllPass(t *testing.T, r result, accounts int) {
	t.Helper()
	if r.code != ExitOK {
		t.Errorf("exit %d (%v), want 0; stderr %s", r.code, r.err, r.stderr)
	}
	run := decodeRun(t, r.stdout)
	if len(run.Accounts) != accounts {
		t.Fatalf("%d accounts, want %d", len(run.Accounts), accounts)
	}
	passed := map[string]int{}
	for _, f := range run.Findings {
		if f.Status != finding.StatusPass && f.Status != finding.StatusNotApplicable {
			t.Errorf("%s %s: %s %s", f.AccountID, f.RuleID, f.Status, f.Message)
		}
		if f.Status == finding.StatusPass {
			passed[f.RuleID]++
		}
	}
	for _, id := range cloudTrailRules {
		if passed[id] != accounts {
			t.Errorf("%s passed in %d of %d accounts", id, passed[id], accounts)
		}
	}
}

// TestCleanAccountPassesLiveWithRealClock: a clean account scanned live
// passes every CloudTrail rule and exits 0. The LookupEvents window is
// measured from the scan's as-of time, not from the moment of the call.
func TestCleanAccountPassesLiveWithRealClock(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 1, Seed: 7, Clean: true})
	w.Accounts[0].Organization, w.Organizations = nil, nil
	w.Accounts[0].Report = awsfake.ReportSpec{Existing: "1h"}
	requireAllPass(t, runRealClock(t, w, awsfake.GenManagementKey, "scan", "-f", "json"), 1)
}

// TestCleanOrganizationPassesWithRealClock: the same for every member of a
// generated organization with centralized root access.
func TestCleanOrganizationPassesWithRealClock(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 12, Seed: 7, Clean: true,
		Features: []string{evidence.FeatureRootCredentialsManagement, evidence.FeatureRootSessions}})
	requireAllPass(t, runRealClock(t, w, awsfake.GenManagementKey, "scan", "--org", "-f", "json"), 12)
}

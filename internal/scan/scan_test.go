package scan

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

var asOf = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func clock() time.Time { return asOf.Add(12 * time.Hour) }

// TestRunWithoutCobra runs the demo through the pipeline as a long-running
// front end would, and checks that progress arrives for every account as
// it is done, not only at the end.
func TestRunWithoutCobra(t *testing.T) {
	var mu sync.Mutex
	var done []Progress
	run, err := Run(context.Background(), Options{Demo: true, AsOf: asOf, Now: clock, Version: "test",
		Progress: func(p Progress) {
			mu.Lock()
			defer mu.Unlock()
			done = append(done, p)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Accounts) != 5 || len(run.Findings) == 0 || !run.AsOf.Equal(asOf) {
		t.Fatalf("run: %d accounts, %d findings, as of %s", len(run.Accounts), len(run.Findings), run.AsOf)
	}
	if len(done) != len(run.Accounts) {
		t.Fatalf("progress called %d times for %d accounts: %+v", len(done), len(run.Accounts), done)
	}
	var ids []string
	for i, p := range done {
		if p.Done != i+1 || p.Total != 5 {
			t.Errorf("progress %d = %+v, want Done %d of 5", i, p, i+1)
		}
		ids = append(ids, p.AccountID)
	}
	slices.Sort(ids)
	var want []string
	for _, a := range run.Accounts {
		want = append(want, a.AccountID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("progress named %v, the run holds %v", ids, want)
	}
}

// TestRunReportsAndNotices judges a saved report and passes its warnings to
// Notice rather than printing them.
func TestRunReportsAndNotices(t *testing.T) {
	var notices []string
	path := filepath.Join(testutil.RepoRoot(), "testdata", "credential-reports", "invalid-cells.csv")
	run, err := Run(context.Background(), Options{Reports: &Reports{Paths: []string{path}}, AsOf: asOf, Now: clock,
		Notice: func(s string) { notices = append(notices, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Accounts) != 1 || run.Accounts[0].Status != finding.AccountPartial {
		t.Errorf("accounts: %+v", run.Accounts)
	}
	if len(notices) == 0 {
		t.Fatal("no notice of the report's invalid cells")
	}
	for _, n := range notices {
		if !strings.HasPrefix(n, "warning: "+path+": ") {
			t.Errorf("notice %q does not name the file", n)
		}
	}
}

func TestValidateRefusesTwoSources(t *testing.T) {
	for name, o := range map[string]Options{
		"demo and org":       {Demo: true, Org: &Org{}},
		"bundle and trail":   {Bundle: "b.json", CloudTrail: []string{"x"}},
		"no report path":     {Reports: &Reports{}},
		"account, 2 reports": {Reports: &Reports{Paths: []string{"a", "b"}, Account: "123456789012"}},
		"bad include":        {Org: &Org{Include: []string{"12"}}},
		"bad template":       {Org: &Org{RoleARNTemplate: "arn:aws:iam::1:role/x"}},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		} else if _, err2 := Run(context.Background(), o); err2 == nil {
			t.Errorf("%s: Run accepted what Validate refused", name)
		}
	}
}

// TestValidateSpeaksTheFrontEndsWords: Labels name the options in the
// messages; without them the pipeline's own words stand in.
func TestValidateSpeaksTheFrontEndsWords(t *testing.T) {
	flags := Labels{Demo: "--demo", Reports: "--credential-report", Org: "--org", Bundle: "--evidence", CloudTrail: "--cloudtrail",
		Account: "--account", RoleARNTemplate: "--role-arn-template"}
	for _, tc := range []struct {
		o                Options
		neutral, labeled string
	}{
		{Options{Demo: true, Bundle: "b.json"},
			"the demo, credential report files, an organization and an evidence bundle cannot be combined",
			"--demo, --credential-report, --org and --evidence cannot be combined"},
		{Options{Bundle: "b.json", CloudTrail: []string{"x"}},
			"an evidence bundle already holds the CloudTrail evidence its scan collected; more CloudTrail cannot add to it",
			"--evidence already holds the CloudTrail evidence its scan collected; --cloudtrail cannot add to it"},
		{Options{Reports: &Reports{Paths: []string{"a", "b"}, Account: "123456789012"}},
			"an expected account names one account; it cannot go with several credential report files",
			"--account names one account; it cannot go with several --credential-report files"},
		{Options{Org: &Org{RoleARNTemplate: "arn:aws:iam::1:role/x"}},
			"the role ARN template must contain {account}, e.g. arn:aws:iam::{account}:role/RootwatchAudit",
			"--role-arn-template: the role ARN template must contain {account}, e.g. arn:aws:iam::{account}:role/RootwatchAudit"},
	} {
		if err := tc.o.Validate(); err == nil || err.Error() != tc.neutral {
			t.Errorf("without labels: %v, want %q", err, tc.neutral)
		}
		tc.o.Labels = flags
		if err := tc.o.Validate(); err == nil || err.Error() != tc.labeled {
			t.Errorf("with labels: %v, want %q", err, tc.labeled)
		}
	}
}

package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/window"
)

// TestOfflineFailClosedCases judges damaged and unusual credential report
// files: what a file cannot show is unknown, with the reason.
func TestOfflineFailClosedCases(t *testing.T) {
	cases := []struct {
		file, rule string
		status     finding.Status
		message    string
	}{
		{"no-root-row.csv", "iam-root-active-password", finding.StatusUnknown, "has no root row"},
		{"no-root-row.csv", "iam-root-no-mfa", finding.StatusUnknown, "has no root row"},
		{"inconsistent-root.csv", "iam-root-active-password", finding.StatusUnknown, "is not a root ARN"},
		{"invalid-cells.csv", "iam-root-active-password", finding.StatusUnknown, `invalid value "yesterday"`},
		{"invalid-cells.csv", "iam-root-no-mfa", finding.StatusUnknown, `invalid value "maybe"`},
		{"invalid-cells.csv", "iam-root-access-key-active", finding.StatusPass, "no active access key"},
		{"legacy-16-columns.csv", "iam-root-access-key-used", finding.StatusUnknown, "no access_key_1_last_used_date column"},
		{"legacy-16-columns.csv", "iam-root-access-key-active", finding.StatusFail, "access key 1"},
		{"legacy-16-columns.csv", "iam-root-signing-cert-active", finding.StatusFail, "signing certificate 1"},
		{"messy-bom-crlf.csv", "iam-root-no-mfa", finding.StatusPass, "mfa_active = TRUE"},
	}
	for _, tc := range cases {
		r := run(t, Options{Reports: &Reports{Paths: []string{fixture(tc.file)}}, AsOf: asOf, Now: clock})
		found := false
		for _, f := range r.Findings {
			if f.RuleID == tc.rule {
				found = true
				if f.Status != tc.status || !strings.Contains(f.Message, tc.message) {
					t.Errorf("%s %s: %s %q, want %s containing %q", tc.file, tc.rule, f.Status, f.Message, tc.status, tc.message)
				}
			}
		}
		if !found {
			t.Errorf("%s: no %s finding", tc.file, tc.rule)
		}
	}
}

// TestReportFreshness: the AWS CLI's JSON says when its report was
// generated (2026-02-28T22:00:00Z): two hours later it is fresh, two days
// later stale; a bare CSV is dated by Reports.GeneratedAt.
func TestReportFreshness(t *testing.T) {
	report := fixture("prod-root-recent.cli.json")
	fresh := run(t, Options{Reports: &Reports{Paths: []string{report}}, AsOf: asOf, Now: clock})
	if f := statusOf(t, *fresh, "123456789012", "iam-root-no-mfa"); f.Status != finding.StatusPass {
		t.Errorf("fresh report: no-mfa = %s: %s", f.Status, f.Message)
	}
	generated := ""
	for _, s := range fresh.Accounts[0].Sources {
		if s.Name == "credential_report" {
			generated = s.GeneratedTime
		}
	}
	if generated != "2026-02-28T22:00:00Z" {
		t.Errorf("generated time not reported: %+v", fresh.Accounts[0].Sources)
	}
	stale := run(t, Options{Reports: &Reports{Paths: []string{report}}, AsOf: asOf.Add(48 * time.Hour), Now: clock})
	if f := statusOf(t, *stale, "123456789012", "iam-root-no-mfa"); f.Status != finding.StatusUnknown {
		t.Errorf("stale report: no-mfa = %s, want unknown", f.Status)
	}
	dated := run(t, Options{Reports: &Reports{Paths: []string{fixture("prod-root-recent.csv")}, GeneratedAt: asOf.Add(-9 * 24 * time.Hour)},
		AsOf: asOf, MaxReportAge: window.Window(10 * 24 * time.Hour), Now: clock})
	if f := statusOf(t, *dated, "123456789012", "iam-root-signing-cert-active"); f.Status != finding.StatusPass {
		t.Errorf("a CSV generated within MaxReportAge: %s: %s", f.Status, f.Message)
	}
}

// TestSharedCredentialReports scans the third-party reports in
// ../shared/data with the as-of times and verdicts its README lists.
func TestSharedCredentialReports(t *testing.T) {
	dir := repoPath("..", "shared", "data", "credential-reports")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("third-party data not found at %s (it sits beside the repository in CI): %v", dir, err)
	}
	cases := []struct {
		file, asOf, window, account string
		want                        map[string]finding.Status
	}{
		{"cloudmapper-demo-root-active-key-with-mfa.csv", "2019-05-02T21:49:50Z", "", "653711331788", map[string]finding.Status{
			"iam-root-active-password": finding.StatusPass, "iam-root-access-key-active": finding.StatusFail, "iam-root-no-mfa": finding.StatusPass}},
		{"cloudmapper-demo-root-active-key-with-mfa.csv", "2019-05-02T21:49:50Z", "90d", "653711331788", map[string]finding.Status{
			"iam-root-active-password": finding.StatusFail}},
		{"c7n-root-no-information-no-mfa.csv", "2021-02-04T15:24:53Z", "", "644160558196", map[string]finding.Status{
			"iam-root-active-password": finding.StatusPass, "iam-root-access-key-active": finding.StatusPass, "iam-root-no-mfa": finding.StatusFail}},
	}
	for _, tc := range cases {
		at, err := time.Parse(time.RFC3339, tc.asOf)
		if err != nil {
			t.Fatal(err)
		}
		o := Options{Reports: &Reports{Paths: []string{filepath.Join(dir, tc.file)}}, AsOf: at, Now: clock}
		if tc.window != "" {
			if o.Window, err = window.Parse(tc.window); err != nil {
				t.Fatal(err)
			}
		}
		r := run(t, o)
		for rule, want := range tc.want {
			if f := statusOf(t, *r, tc.account, rule); f.Status != want {
				t.Errorf("%s (window %q): %s = %s, want %s", tc.file, tc.window, rule, f.Status, want)
			}
		}
	}
}

// TestUndatedCSVSupportsNoPass: a bare CSV judged "now" may be years old.
// With an as-of time (the moment it was taken) or the time it was
// generated it can pass; the distinction survives an evidence bundle.
func TestUndatedCSVSupportsNoPass(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clean.csv")
	csv := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n" +
		"<root_account>,arn:aws:iam::123456789012:root,2019-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	reportRules := []string{"iam-root-active-password", "iam-root-access-key-active", "iam-root-access-key-used", "iam-root-signing-cert-active", "iam-root-no-mfa"}
	undated := run(t, Options{Reports: &Reports{Paths: []string{path}}, Now: clock})
	for _, rule := range reportRules {
		f := statusOf(t, *undated, "123456789012", rule)
		if f.Status != finding.StatusUnknown || !strings.Contains(f.Message, "give --report-time, --as-of for the moment it was taken, or the AWS CLI JSON") {
			t.Errorf("undated %s = %s: %s", rule, f.Status, f.Message)
		}
	}
	bundle := filepath.Join(dir, "b.json")
	for name, o := range map[string]Options{
		"as of":        {Reports: &Reports{Paths: []string{path}}, AsOf: asOf, SaveEvidence: bundle, Now: clock},
		"generated at": {Reports: &Reports{Paths: []string{path}, GeneratedAt: clock().Add(-time.Hour)}, Now: clock},
	} {
		r := run(t, o)
		for _, rule := range reportRules {
			if f := statusOf(t, *r, "123456789012", rule); f.Status != finding.StatusPass {
				t.Errorf("%s: %s = %s: %s", name, rule, f.Status, f.Message)
			}
		}
	}
	replay := run(t, Options{Bundle: bundle, Now: clock})
	if f := statusOf(t, *replay, "123456789012", "iam-root-active-password"); f.Status != finding.StatusPass {
		t.Errorf("replayed bundle lost the as-of dating: %s %s", f.Status, f.Message)
	}
}

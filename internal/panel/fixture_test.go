package panel

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/store"
	"github.com/rootwatch/rootwatch/internal/store/history"
)

// Hostile text from AWS: a right-to-left override, a terminal escape and
// markup, in an account name, a tag, a message and event evidence.
const (
	hostileName  = "evil\u202egpj.exe\x1b[31m<script>alert('name')</script>"
	hostileAgent = "<script>alert('agent')</script>\u202e\x1b]0;pwned\x07"
)

var day0 = time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)

const (
	acctPayments = "111111111111" // fails the password rule from run 3; a suppressed key
	acctHostile  = "222222222222" // hostile text; console sign-ins fail throughout
	acctStale    = "333333333333" // not assessed by the last two runs (role not assumable)
	acctDropped  = "444444444444" // only in the first two runs' scope
	acctExpired  = "555555555555" // a suppression that expires before the last run
)

var testRules = []struct {
	id    string
	title string
	sev   finding.Severity
}{
	{"iam-root-active-password", "Root password used recently", finding.SeverityCritical},
	{"iam-root-access-key-active", "Root user has an active access key", finding.SeverityCritical},
	{"iam-root-no-mfa", "Root user has no MFA", finding.SeverityCritical},
	{"iam-root-console-login", "Root console sign-in", finding.SeverityHigh},
	// A rule this rootwatch does not know (a later version's): its
	// evidence must read sensibly with no code for it.
	{"future-root-rule", "A rule of a later rootwatch", finding.SeverityMedium},
}

// testRuns builds runs 1..n of an organization of the named accounts and
// `extra` generated ones, a day apart.
func testRuns(n, extra int) []*finding.Run {
	var runs []*finding.Run
	for i := 1; i <= n; i++ {
		asOf := day0.Add(time.Duration(i-1) * 24 * time.Hour)
		run := &finding.Run{SchemaVersion: "1", Tool: finding.Tool{Name: "rootwatch", Version: "test"}, GeneratedAt: asOf.Add(2 * time.Minute), AsOf: asOf,
			Settings: map[string]string{"window": "15d"}, DisabledRules: []finding.DisabledRule{}}
		ids := []string{acctPayments, acctHostile, acctStale, acctExpired}
		if i <= 2 {
			ids = append(ids, acctDropped)
		}
		for k := range extra {
			ids = append(ids, fmt.Sprintf("9%011d", k))
		}
		for _, id := range ids {
			a := finding.Account{AccountID: id, Name: "acct-" + id, Partition: "aws", Status: finding.AccountAssessed, Sources: []finding.Source{{Name: "credential_report", State: "ok"}}}
			switch id {
			case acctPayments:
				a.Name, a.Tags = "payments-prod", map[string]string{"owner": "payments", "env": "prod"}
			case acctHostile:
				a.Name, a.Tags = hostileName, map[string]string{"@SUM(1+1)": "x", "owner": "=HYPERLINK(\"http://evil.example\")"}
			case acctStale:
				if i >= n-1 {
					a.Status, a.Error, a.Sources = finding.AccountFailed, "AccessDenied: role OrganizationAccountAccessRole not assumable", []finding.Source{}
				}
			}
			if i == 1 && id == acctPayments {
				// A run that did not read names (a one-account scan) leaves
				// the later name in place.
				a.Name = ""
			}
			run.Accounts = append(run.Accounts, a)
			if a.Status != finding.AccountAssessed {
				continue
			}
			for _, r := range testRules {
				run.Findings = append(run.Findings, testFinding(i, id, r.id, r.title, r.sev, asOf))
			}
		}
		run.Summary = finding.Summarize(run.Findings)
		runs = append(runs, run)
	}
	return runs
}

func testFinding(i int, acct, rule, title string, sev finding.Severity, asOf time.Time) finding.Finding {
	res := "arn:aws:iam::" + acct + ":root"
	f := finding.Finding{RuleID: rule, Title: title, Status: finding.StatusPass, Severity: sev, AccountID: acct, Region: "global", Resource: res,
		Message: "fine", Evidence: map[string]any{"source": "credential_report"}, Fingerprint: finding.Fingerprint(rule, acct, res)}
	fail := func(msg string) { f.Status, f.Message = finding.StatusFail, msg }
	switch {
	case rule == "iam-root-active-password" && acct == acctPayments && i >= 3:
		fail("The root password was used 2 days ago.")
		f.Evidence["password_last_used"] = asOf.Add(-48 * time.Hour).Format(time.RFC3339)
	case rule == "iam-root-access-key-active" && acct == acctPayments:
		f.Status, f.Message = finding.StatusSuppressed, "Suppressed (break-glass key for the billing export): the root user has an active access key."
		f.Evidence["suppressed_status"] = "fail"
		f.Evidence["suppression_reason"] = "break-glass key for the billing export"
		f.Evidence["suppression_owner"] = "payments-platform@example.com"
		f.Evidence["suppression_expires"] = "2026-04-15T00:00:00Z"
	case rule == "iam-root-access-key-active" && acct == acctExpired:
		if asOf.Before(day0.Add(48 * time.Hour)) {
			f.Status, f.Message = finding.StatusSuppressed, "Suppressed (temporary): the root user has an active access key."
			f.Evidence["suppressed_status"] = "fail"
			f.Evidence["suppression_reason"] = "temporary"
			f.Evidence["suppression_expires"] = day0.Add(48 * time.Hour).Format(time.RFC3339)
		} else {
			fail("The root user has an active access key.")
			f.Evidence["suppression_reason"] = "temporary"
			f.Evidence["suppression_expired"] = day0.Add(48 * time.Hour).Format(time.RFC3339)
		}
	case rule == "iam-root-console-login" && acct == acctHostile:
		fail("Root signed in to the console 1 time <script>alert('message')</script>\u202e.")
		f.Evidence = map[string]any{"source": "cloudtrail", "window": "15d", "events": []any{
			map[string]any{"event_time": asOf.Add(-3 * time.Hour).Format(time.RFC3339), "event_name": "ConsoleLogin", "source_ip": "203.0.113.24",
				"mfa": "no", "result": "success", "user_agent": hostileAgent, "event_id": "e-" + acct},
			map[string]any{"event_time": asOf.Add(-2 * time.Hour).Format(time.RFC3339), "event_name": "ListBuckets", "source_ip": "203.0.113.24",
				"caller": "arn:aws:iam::111111111111:role/Admin", "result": "success", "user_agent": "aws-cli/2"},
		}}
	case rule == "iam-root-no-mfa" && acct == acctStale && i >= 2:
		f.Status, f.Message = finding.StatusUnknown, "The credential report is older than 4h."
	case rule == "iam-root-no-mfa" && acct == acctDropped:
		fail("Root has no MFA.")
	case rule == "future-root-rule":
		f.Status, f.Message = finding.StatusNotApplicable, "Not a management account."
		if acct == acctPayments {
			f.Status, f.Message = finding.StatusError, "ListAccounts failed."
			f.Evidence = map[string]any{"holders": []any{map[string]any{"principal": "arn:aws:iam::111111111111:role/Break\u202eGlass", "task_policy": "IAMAuditRootUserCredentials", "expires": "2026-03-01T07:00:00Z"}},
				"scp_path": []any{"r-abcd", "ou-abcd-1111", acct}, "gaps": map[string]any{"NotAction": []any{"iam:*"}}, "ok": false, "count": 3}
		}
	case acct[0] == '9':
		// The generated accounts come and go between pass and fail.
		k := int(acct[10]-'0')*10 + int(acct[11]-'0')
		switch {
		case rule == "iam-root-no-mfa" && k%3 == i%3 && k >= 2*i: // fixed over time
			fail("Root has no MFA.")
		case rule == "iam-root-active-password" && (k+i)%5 == 0:
			fail("The root password was used 3 days ago.")
		case rule == "iam-root-console-login" && (k*7+i)%11 == 0:
			fail("Root signed in to the console 1 time.")
		}
	}
	return f
}

// recorded stores runs in a new SQLite store through history.Record (as scan
// --store does: first_seen, changes, history) and returns the store's
// path; the runs carry the marks afterwards.
func recorded(t testing.TB, runs []*finding.Run) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rootwatch.db")
	s, err := store.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, r := range runs {
		if _, err := history.Record(context.Background(), s, r); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// readOnly opens a store as serve does.
func readOnly(t testing.TB, path string) store.Store {
	t.Helper()
	s, err := store.OpenReadOnly(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/source/demo"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type result struct {
	stdout, stderr string
	code           int
	err            error
}

func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return runCLIWith(t, env, nil, args...)
}

// runCLIWith is runCLI with the App adjusted first (adjust may be nil).
func runCLIWith(t *testing.T, env map[string]string, adjust func(*App), args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{
		Stdout:     &out,
		Stderr:     &errb,
		Getenv:     func(k string) string { return env[k] },
		Now:        func() time.Time { return testNow },
		Version:    "test",
		IsTerminal: func(io.Writer) bool { return env["TERM_IS_TTY"] == "1" },
		AWSConfig: func(context.Context, string, string) (aws.Config, error) {
			return aws.Config{}, errors.New("AWS is not reachable from this test")
		},
	}
	if adjust != nil {
		adjust(app)
	}
	err := Execute(context.Background(), app, args)
	return result{out.String(), errb.String(), ExitCode(err), err}
}

func repoPath(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

func fixture(name string) string { return repoPath("testdata", "credential-reports", name) }

// world is a fake AWS world of testdata/worlds.
func world(name string) string {
	b, err := os.ReadFile(repoPath("testdata", "worlds", name))
	if err != nil {
		panic(err)
	}
	return string(b)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := repoPath("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (review, then regenerate with -update):\n--- got ---\n%s", path, got)
	}
}

func decodeRun(t *testing.T, s string) finding.Run {
	t.Helper()
	var run finding.Run
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&run); err != nil {
		t.Fatalf("output is not a schema-1 run: %v\n%s", err, s)
	}
	return run
}

func sourceOf(run finding.Run, name string) finding.Source {
	for _, s := range run.Accounts[0].Sources {
		if s.Name == name {
			return s
		}
	}
	return finding.Source{}
}

func statusOf(run finding.Run, account, rule string) finding.Status {
	for _, f := range run.Findings {
		if f.AccountID == account && f.RuleID == rule {
			return f.Status
		}
	}
	return "(none)"
}

func TestScanDemoGolden(t *testing.T) {
	r := runCLI(t, nil, "scan", "--demo", "--as-of", "2026-03-01T00:00:00Z", "--format", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d (%v), want 1; stderr %s", r.code, r.err, r.stderr)
	}
	golden(t, "scan-demo.json", r.stdout)
	run := decodeRun(t, r.stdout)
	seen := map[finding.Status]bool{}
	for _, f := range run.Findings {
		seen[f.Status] = true
	}
	for _, st := range finding.Statuses() {
		if !seen[st] {
			t.Errorf("the demo shows no %s finding", st)
		}
	}
	if run.SchemaVersion != "1" || run.Tool.Name != "rootwatch" || run.Settings["window"] != "15d" || !run.AsOf.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("run header: %+v", run)
	}
	// One finding per rule and account, and one more: the management
	// account has two root-session holders (alice and the break-glass role).
	if len(run.Accounts) != 5 || len(run.Findings) != 5*len(rules.Catalog())+1 {
		t.Errorf("accounts %d findings %d", len(run.Accounts), len(run.Findings))
	}
	// Could anyone act as root? Each state of the SCP guardrail.
	for account, want := range map[string]finding.Status{
		demo.ManagementAccount: finding.StatusNotApplicable, // SCPs never apply to it
		demo.MemberAccount:     finding.StatusFail,          // a NotAction hole
		demo.CoveredAccount:    finding.StatusPass,          // the guardrail
		demo.ExemptedAccount:   finding.StatusFail,          // exempted by name
		demo.StandaloneAccount: finding.StatusNotApplicable, // no organization
	} {
		if got := statusOf(run, account, "org-root-actions-not-denied"); got != want {
			t.Errorf("demo account %s: org-root-actions-not-denied %s, want %s", account, got, want)
		}
	}

	table := runCLI(t, nil, "scan", "--demo", "--as-of", "2026-03-01T00:00:00Z")
	golden(t, "scan-demo.txt", table.stdout)
	if strings.Contains(table.stdout, "\x1b[") {
		t.Error("colour written to a non-terminal")
	}
}

func TestScanDemoIsStableOverTime(t *testing.T) {
	// The demo's evidence is dated relative to the as-of time: any day gives
	// the same verdicts.
	a := decodeRun(t, runCLI(t, nil, "scan", "--demo", "--as-of", "2026-03-01T00:00:00Z", "-f", "json").stdout)
	b := decodeRun(t, runCLI(t, nil, "scan", "--demo", "--as-of", "2031-07-15T08:30:00Z", "-f", "json").stdout)
	for i := range a.Findings {
		if a.Findings[i].Status != b.Findings[i].Status || a.Findings[i].RuleID != b.Findings[i].RuleID {
			t.Errorf("finding %d changed with the date: %s/%s vs %s/%s", i, a.Findings[i].RuleID, a.Findings[i].Status, b.Findings[i].RuleID, b.Findings[i].Status)
		}
	}
}

func TestScanOfflineGolden(t *testing.T) {
	r := runCLI(t, nil, "scan", "--credential-report", fixture("prod-root-recent.csv"), "--as-of", "2026-03-01T00:00:00Z", "--format", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	golden(t, "scan-offline-prod.json", r.stdout)
	run := decodeRun(t, r.stdout)
	if run.Accounts[0].AccountID != "123456789012" || run.Accounts[0].Status != finding.AccountPartial {
		t.Errorf("account: %+v", run.Accounts[0])
	}
	want := map[string]finding.Status{
		"iam-root-active-password":        finding.StatusFail,
		"iam-root-access-key-active":      finding.StatusPass,
		"iam-root-access-key-used":        finding.StatusPass,
		"iam-root-no-mfa":                 finding.StatusPass,
		"iam-root-no-hardware-mfa":        finding.StatusUnknown,
		"iam-root-signing-cert-active":    finding.StatusPass,
		"org-root-access-not-centralized": finding.StatusUnknown,
		"iam-root-console-login":          finding.StatusUnknown,
		"iam-root-login-without-mfa":      finding.StatusUnknown,
		"iam-root-failed-logins":          finding.StatusUnknown,
		"iam-root-api-activity":           finding.StatusUnknown,
	}
	for rule, st := range want {
		if got := statusOf(run, "123456789012", rule); got != st {
			t.Errorf("%s = %s, want %s", rule, got, st)
		}
	}
}

// TestReportTimeFlags: --report-time dates a bare CSV and --max-report-age
// bounds its age (the freshness rules are the pipeline's: scan's tests).
func TestReportTimeFlags(t *testing.T) {
	r := runCLI(t, nil, "scan", "--credential-report", fixture("prod-root-recent.csv"), "--report-time", "2026-02-20T00:00:00Z", "--as-of", "2026-03-01T00:00:00Z", "--max-report-age", "10d", "-f", "json")
	if got := statusOf(decodeRun(t, r.stdout), "123456789012", "iam-root-signing-cert-active"); got != finding.StatusPass {
		t.Errorf("--report-time within --max-report-age: %s", got)
	}
	r = runCLI(t, nil, "scan", "--credential-report", fixture("prod-root-recent.csv"), "--report-time", "2026-02-20T00:00:00Z", "--as-of", "2026-03-01T00:00:00Z", "--max-report-age", "8d", "-f", "json")
	if got := statusOf(decodeRun(t, r.stdout), "123456789012", "iam-root-signing-cert-active"); got != finding.StatusUnknown {
		t.Errorf("--report-time beyond --max-report-age: %s", got)
	}
}

func TestScanRejectsNonReport(t *testing.T) {
	r := runCLI(t, nil, "scan", "--credential-report", fixture("not-a-report.csv"))
	if r.code != ExitUsage {
		t.Fatalf("exit %d, want 2", r.code)
	}
	if r.stdout != "" {
		t.Errorf("findings printed for a non-report: %s", r.stdout)
	}
	msg := Message(r.err)
	if !strings.Contains(msg, "not-a-report.csv") || !strings.Contains(msg, "user, arn, password_last_used, mfa_active") {
		t.Errorf("message %q should name the file and the missing columns", msg)
	}
}

// TestReportWarningsReachStderr: what the pipeline says about an input
// file (its notices) reaches stderr, naming the file.
func TestReportWarningsReachStderr(t *testing.T) {
	r := runCLI(t, nil, "scan", "--credential-report", fixture("invalid-cells.csv"), "-f", "json")
	if !strings.Contains(r.stderr, "invalid-cells.csv: line 2 (user \"<root_account>\"): column password_last_used has invalid value \"yesterday\"") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"scan", "--demo"}, ExitFindings},
		{[]string{"scan", "--demo", "--fail-on", "none"}, ExitUnknown},
		{[]string{"scan", "--demo", "--fail-on", "CRITICAL"}, ExitFindings},
		// Offline prod at a time when the password use is old: only unknowns remain.
		{[]string{"scan", "--credential-report", fixture("prod-root-recent.csv"), "--as-of", "2026-06-01T00:00:00Z"}, ExitUnknown},
		// Without CloudTrail, iam-root-login-without-mfa (critical) cannot be judged.
		{[]string{"scan", "--credential-report", fixture("prod-root-recent.csv"), "--as-of", "2026-06-01T00:00:00Z", "--fail-on", "critical"}, ExitUnknown},
		{[]string{"scan"}, ExitUsage},
		{[]string{"scan", "--demo", "--credential-report", "x.csv"}, ExitUsage},
		{[]string{"scan", "--demo", "--bogus"}, ExitUsage},
		{[]string{"scan", "--demo", "--window", "fortnight"}, ExitUsage},
		{[]string{"scan", "--demo", "--as-of", "yesterday"}, ExitUsage},
		{[]string{"scan", "--demo", "--format", "xml"}, ExitUsage},
		{[]string{"scan", "--demo", "--fail-on", "severe"}, ExitUsage},
		{[]string{"scan", "--demo", "--config", "/nonexistent.yaml"}, ExitUsage},
		{[]string{"scan", "--credential-report", "/nonexistent.csv"}, ExitUsage},
		{[]string{"scan", "--credential-report", fixture("prod-root-recent.csv"), "--account", "999999999999"}, ExitUsage},
		{[]string{"scan", "--credential-report", fixture("prod-root-recent.csv"), "--credential-report", fixture("prod-root-recent.cli.json")}, ExitUsage},
		{[]string{"explain", "no-such-rule"}, ExitUsage},
		{[]string{"nonsense"}, ExitUsage},
		{[]string{"version"}, ExitOK},
	}
	for _, tc := range cases {
		if r := runCLI(t, nil, tc.args...); r.code != tc.code {
			t.Errorf("%v: exit %d (%v), want %d", tc.args, r.code, r.err, tc.code)
		}
	}
}

func TestWindowFlagChangesVerdict(t *testing.T) {
	// prod-root-recent: password last used 2026-02-25T08:30Z, 3.6 days before as-of.
	args := []string{"scan", "--credential-report", fixture("prod-root-recent.csv"), "--as-of", "2026-03-01T00:00:00Z", "-f", "json"}
	if got := statusOf(decodeRun(t, runCLI(t, nil, append(args, "--window", "72h")...).stdout), "123456789012", "iam-root-active-password"); got != finding.StatusPass {
		t.Errorf("--window 72h: %s, want pass", got)
	}
	if got := statusOf(decodeRun(t, runCLI(t, nil, append(args, "--window", "4d")...).stdout), "123456789012", "iam-root-active-password"); got != finding.StatusFail {
		t.Errorf("--window 4d: %s, want fail", got)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rw.yaml")
	os.WriteFile(cfg, []byte("rules:\n  iam-root-active-password:\n    window: 2d\n    severity: low\n"), 0o600)
	run := decodeRun(t, runCLI(t, nil, append(args, "--config", cfg)...).stdout)
	for _, f := range run.Findings {
		if f.RuleID == "iam-root-active-password" && (f.Status != finding.StatusPass || f.Severity != finding.SeverityLow) {
			t.Errorf("per-rule config not applied: %+v", f)
		}
	}
	if run.Settings["rules.iam-root-active-password.window"] != "2d" {
		t.Errorf("settings = %v", run.Settings)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  iam-root-typo:\n    enabled: false\n"), 0o600)
	r := runCLI(t, nil, "scan", "--demo", "--config", bad)
	if r.code != ExitUsage || !strings.Contains(Message(r.err), "rules.iam-root-typo: no such rule") || r.stdout != "" {
		t.Errorf("bad config: exit %d %q", r.code, Message(r.err))
	}
}

func TestOutputFileAndColour(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run.json")
	r := runCLI(t, nil, "scan", "--demo", "-f", "json", "-o", out)
	if r.stdout != "" || r.code != ExitFindings {
		t.Errorf("stdout %q exit %d", r.stdout, r.code)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	decodeRun(t, string(data))

	tty := runCLI(t, map[string]string{"TERM_IS_TTY": "1"}, "scan", "--demo")
	if !strings.Contains(tty.stdout, "\x1b[31m") {
		t.Error("no colour on a terminal")
	}
	noColor := runCLI(t, map[string]string{"TERM_IS_TTY": "1", "NO_COLOR": "1"}, "scan", "--demo")
	if strings.Contains(noColor.stdout, "\x1b[") {
		t.Error("NO_COLOR not honoured")
	}
}

func TestRulesAndExplain(t *testing.T) {
	r := runCLI(t, nil, "rules", "-f", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != len(rules.Catalog()) {
		t.Fatalf("rules json: %v (%d)", err, len(list))
	}
	if list[0]["id"] != "iam-root-active-password" || list[0]["title"] != "Root user has active password" || list[0]["severity"] != "critical" {
		t.Errorf("first rule: %v", list[0])
	}
	table := runCLI(t, nil, "rules").stdout
	if !strings.Contains(table, "iam-root-no-hardware-mfa") || !strings.Contains(table, "SEVERITY") {
		t.Errorf("rules table: %s", table)
	}
	var fl map[string]any
	for _, e := range list {
		if e["id"] == "iam-root-failed-logins" {
			fl = e
		}
	}
	if got := fmt.Sprint(fl["params"]); !strings.Contains(got, "default:3 doc:how many failed sign-ins within the window make the rule fail kind:count name:threshold") || !strings.Contains(got, "default:the run's window") {
		t.Errorf("failed-logins params: %s", got)
	}
	ex := runCLI(t, nil, "explain", "iam-root-active-password")
	for _, want := range []string{"Root user has active password (iam-root-active-password)", "Setting: rules.iam-root-active-password.window (duration, default the run's window)", "Severity: critical", "CIS AWS Foundations Benchmark v1.4.0 1.7", "Details\n-------", "Suggested Action\n----------------", "References\n----------", "<https://docs.aws.amazon.com/"} {
		if !strings.Contains(ex.stdout, want) {
			t.Errorf("explain output lacks %q", want)
		}
	}
	if strings.Contains(ex.stdout, "](") || strings.Contains(ex.stdout, "`") {
		t.Error("explain left Markdown link or code markers")
	}
	help := runCLI(t, nil, "scan", "--help").stdout
	for _, want := range []string{"--credential-report", "--as-of", "--window", "--fail-on", "Examples:", "report-time"} {
		if !strings.Contains(help, want) {
			t.Errorf("scan --help lacks %q", want)
		}
	}
}

// TestReportWithoutAccountAsksForIt: a report with no ARN names no account;
// the message says which flag gives it.
func TestReportWithoutAccountAsksForIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	header := "user,arn,user_creation_time,password_enabled,password_last_used,mfa_active\n"
	if err := os.WriteFile(path, []byte(header), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "scan", "--credential-report", path)
	if r.code != ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), path) || !strings.Contains(r.err.Error(), "pass --account") {
		t.Errorf("exit %d, err %v", r.code, r.err)
	}
	if r := runCLI(t, nil, "scan", "--credential-report", path, "--account", "123456789012", "-f", "json"); r.code == ExitUsage {
		t.Errorf("--account given: %v", r.err)
	}
}

// TestBadFlagValuesAreRefused: every value no scan can use is a usage
// error naming the flag, before anything is read.
func TestBadFlagValuesAreRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--color", "sometimes"}, "--color"},
		{[]string{"--report-timeout", "0s"}, "--report-timeout"},
		{[]string{"--report-timeout", "-5s"}, "--report-timeout"},
		{[]string{"--report-timeout", "48h"}, "--report-timeout"},
		{[]string{"--account-timeout", "0s"}, "--account-timeout"},
		{[]string{"--role-name", "path/to/Role"}, "--role-name"},
		{[]string{"--role-name", strings.Repeat("r", 65)}, "--role-name"},
		{[]string{"--window", "3651d"}, "--window"},
		{[]string{"--window", "100000s"}, ""}, // within the limit: accepted
		{[]string{"--window", "99999w"}, "--window"},
	} {
		r := runCLI(t, nil, append([]string{"scan", "--demo", "-f", "json"}, tc.args...)...)
		if tc.want == "" {
			if r.code == ExitUsage {
				t.Errorf("%v refused: %v", tc.args, r.err)
			}
			continue
		}
		if r.code != ExitUsage || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("%v: exit %d (%v), want a usage error naming %s", tc.args, r.code, r.err, tc.want)
		}
	}
}

// TestExpiredSuppressionWarns: an expired suppression no longer applies,
// and stderr says so.
func TestExpiredSuppressionWarns(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "rw.yaml")
	os.WriteFile(cfg, []byte("suppressions:\n  - rule: iam-root-active-password\n    reason: migration SEC-7\n    expires: 2026-02-01\n"), 0o600)
	r := runCLI(t, nil, "scan", "--credential-report", fixture("prod-root-recent.csv"), "--as-of", "2026-03-01T00:00:00Z", "--config", cfg, "-f", "json")
	if !strings.Contains(r.stderr, "warning: the suppression of iam-root-active-password for account") || !strings.Contains(r.stderr, "(migration SEC-7) expired on 2026-02-01: the finding counts as fail again") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// TestSourceConflictsInFlagNames: the checks scan.Options.Validate makes
// speak in the scan command's flags, word for word as they always have.
func TestSourceConflictsInFlagNames(t *testing.T) {
	report := fixture("prod-root-recent.csv")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--demo", "--credential-report", report}, "--demo, --credential-report, --org and --evidence cannot be combined"},
		{[]string{"--evidence", "b.json", "--org"}, "--demo, --credential-report, --org and --evidence cannot be combined"},
		{[]string{"--evidence", "b.json", "--cloudtrail", repoPath("testdata", "cloudtrail")}, "--evidence already holds the CloudTrail evidence its scan collected; --cloudtrail cannot add to it"},
		{[]string{"--credential-report", report, "--credential-report", report, "--account", "123456789012"}, "--account names one account; it cannot go with several --credential-report files"},
		{[]string{"--account", "123456789012"}, "--account and --report-time go with --credential-report"},
		{[]string{"--org", "--role-arn-template", "arn:aws:iam::123456789012:role/x"}, "--role-arn-template: the role ARN template must contain {account}, e.g. arn:aws:iam::{account}:role/RootwatchAudit"},
		{[]string{"--org", "--role-arn-template", "{account}"}, `--role-arn-template: the role ARN template "{account}" is not a role ARN`},
		{[]string{"--org", "--accounts", "12"}, `"12" is not a 12-digit account ID`},
	} {
		r := runCLI(t, nil, append([]string{"scan"}, tc.args...)...)
		if r.code != ExitUsage || Message(r.err) != tc.want {
			t.Errorf("%v: exit %d, %q; want exit 2, %q", tc.args, r.code, Message(r.err), tc.want)
		}
	}
}

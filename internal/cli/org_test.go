package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

var orgWorld = world("org.yaml")

func TestOrgScanEveryOutcome(t *testing.T) {
	w := strings.Replace(orgWorld, "AKIAORGMANAGEMENT001", "AKIALIVE000000000001", 1)
	r := runLive(t, w, "scan", "--org", "--exclude-accounts", "900000000008", "--account-timeout", "2s", "-f", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d (%v)\n%s", r.code, r.err, r.stderr)
	}
	run := decodeRun(t, r.stdout)
	status := map[string]finding.Account{}
	for _, a := range run.Accounts {
		status[a.AccountID] = a
	}
	want := map[string]struct {
		st  finding.AccountStatus
		msg string
	}{
		"900000000000": {finding.AccountAssessed, ""},
		"900000000001": {finding.AccountAssessed, ""},
		"900000000002": {finding.AccountAssessed, ""},
		"900000000003": {finding.AccountFailed, "role not assumable: AssumeRole arn:aws:iam::900000000003:role/OrganizationAccountAccessRole: AccessDenied"},
		"900000000004": {finding.AccountSkipped, "account state SUSPENDED"},
		"900000000005": {finding.AccountFailed, "timed out after 2s"},
		"900000000006": {finding.AccountPartial, ""},
		"900000000007": {finding.AccountPartial, ""},
		"900000000008": {finding.AccountSkipped, "excluded by --exclude-accounts"},
	}
	if len(run.Accounts) != len(want) {
		t.Errorf("accounts %d, want %d: %+v", len(run.Accounts), len(want), run.Accounts)
	}
	for id, w := range want {
		a, ok := status[id]
		if !ok {
			t.Errorf("account %s missing from the output", id)
			continue
		}
		if a.Status != w.st || !strings.Contains(a.Error, w.msg) {
			t.Errorf("%s: %s %q, want %s %q", id, a.Status, a.Error, w.st, w.msg)
		}
	}
	checks := []struct {
		account, rule string
		want          finding.Status
	}{
		{"900000000000", "org-root-access-not-centralized", finding.StatusPass},
		{"900000000000", "iam-root-credentials-present", finding.StatusNotApplicable},
		{"900000000001", "iam-root-credentials-present", finding.StatusPass},
		{"900000000001", "iam-root-no-mfa", finding.StatusNotApplicable},
		{"900000000001", "iam-root-active-password", finding.StatusPass},
		{"900000000002", "iam-root-credentials-present", finding.StatusFail},
		{"900000000002", "iam-root-access-key-active", finding.StatusFail},
		{"900000000002", "org-root-access-not-centralized", finding.StatusNotApplicable},
		{"900000000003", "iam-root-active-password", finding.StatusUnknown},
		{"900000000006", "iam-root-no-hardware-mfa", finding.StatusNotApplicable},
		{"900000000007", "iam-root-credentials-present", finding.StatusUnknown},
	}
	for _, c := range checks {
		if got := statusOf(run, c.account, c.rule); got != c.want {
			t.Errorf("%s %s = %s, want %s", c.account, c.rule, got, c.want)
		}
	}
	// Nothing passes without evidence: the account whose role could not be
	// assumed has none but its root e-mail (which ListAccounts gave in the
	// management account); the one that timed out keeps its credential
	// report (read before the hang) but nothing that needed the calls
	// after it.
	needsLater := map[string]bool{"iam-root-no-mfa": true, "iam-root-no-hardware-mfa": true, "iam-root-console-login": true,
		"iam-root-login-without-mfa": true, "iam-root-failed-logins": true, "iam-root-api-activity": true}
	for _, f := range run.Findings {
		if f.Status == finding.StatusPass && (f.AccountID == "900000000003" && f.RuleID != "org-root-email-outside-domains" || (f.AccountID == "900000000005" && needsLater[f.RuleID])) {
			t.Errorf("%s %s passed without its evidence: %s", f.AccountID, f.RuleID, f.Message)
		}
		if f.AccountID == "900000000004" || f.AccountID == "900000000008" {
			t.Errorf("a skipped account has findings: %+v", f)
		}
	}
}

func TestOrgScanNotManagement(t *testing.T) {
	w := strings.Replace(orgWorld, "AKIAORGMANAGEMENT001", "AKIAUNUSED0000000001", 1)
	w = strings.Replace(w, "    name: no-root-credentials\n", "    name: no-root-credentials\n    access_keys: [AKIALIVE000000000001]\n", 1)
	r := runLive(t, w, "scan", "--org")
	if r.code != ExitUsage || !strings.Contains(Message(r.err), "ListAccounts") || !strings.Contains(Message(r.err), "management account or a delegated administrator") {
		t.Errorf("exit %d: %s", r.code, Message(r.err))
	}
	for _, args := range [][]string{
		{"scan", "--org", "--accounts", "12"},
		{"scan", "--exclude-accounts", "900000000001"},
		{"scan", "--org", "--role-arn-template", "arn:aws:iam::123456789012:role/x"},
		{"scan", "--org", "--demo"},
		{"scan", "--org", "--concurrency", "0"},
	} {
		if r := runLive(t, w, args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d", args, r.code)
		}
	}
}

// TestOrgScanJudgingNothingIsNotSuccess: every account excluded is exit 3
// with a line saying why, not "0 findings" and exit 0.
func TestOrgScanJudgingNothingIsNotSuccess(t *testing.T) {
	w := strings.Replace(orgWorld, "AKIAORGMANAGEMENT001", "AKIALIVE000000000001", 1)
	r := runLive(t, w, "scan", "--org", "--accounts", "900000000001", "--exclude-accounts", "900000000001", "-f", "json")
	if r.code != ExitUnknown || !strings.Contains(r.stderr, "nothing was judged: every account was skipped") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestMembersGetTheRealCauseOfUnknownFeatures: when the management
// account's ListOrganizationsFeatures fails in an --org scan, members are
// told that, not to "scan with --org".
func TestMembersGetTheRealCauseOfUnknownFeatures(t *testing.T) {
	w := strings.Replace(orgWorld, "AKIAORGMANAGEMENT001", "AKIALIVE000000000001", 1)
	w = strings.Replace(w, `features: [RootCredentialsManagement, RootSessions]}`,
		`features: [RootCredentialsManagement, RootSessions]}
    faults: [{op: ListOrganizationsFeatures, code: ServiceFailure, status: 500, message: "internal failure", times: 100}]`, 1)
	r := runLive(t, w, "scan", "--org", "--accounts", "900000000001", "-f", "json")
	run := decodeRun(t, r.stdout)
	f := findingOf(t, run, "900000000001", "iam-root-credentials-present")
	if f.Status != finding.StatusUnknown || strings.Contains(f.Message, "scan the organization from its management account") || !strings.Contains(f.Message, "the management account's own organization reads failed") || !strings.Contains(f.Message, "ServiceFailure") {
		t.Errorf("%s: %s", f.Status, f.Message)
	}
}

// TestTinyAccountTimeoutIsATimeout: an account that runs out of time is
// reported as timed out, not as a role that cannot be assumed.
func TestTinyAccountTimeoutIsATimeout(t *testing.T) {
	// 20 ms on every call: no account can be done in 1 ms, however fast
	// the machine.
	w := "latency: 20ms\n" + strings.Replace(orgWorld, "AKIAORGMANAGEMENT001", "AKIALIVE000000000001", 1)
	r := runLive(t, w, "scan", "--org", "--accounts", "900000000001,900000000002", "--account-timeout", "1ms", "-f", "json")
	run := decodeRun(t, r.stdout)
	for _, a := range run.Accounts {
		if a.Status == finding.AccountSkipped {
			continue
		}
		if strings.Contains(a.Error, "role not assumable") || !strings.Contains(a.Error, "timed out after 1ms (--account-timeout)") {
			t.Errorf("%s: %s %q", a.AccountID, a.Status, a.Error)
		}
	}
}

// TestNotificationsRoutedByOwnerTag: an account tagged owner=team-payments
// goes to the team's target; the others to the default one.
func TestNotificationsRoutedByOwnerTag(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]string{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Items []struct {
				AccountID string `json:"account_id"`
			}
		}
		json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		defer mu.Unlock()
		got[r.URL.Path+" messages"] = append(got[r.URL.Path+" messages"], "")
		for _, it := range b.Items {
			got[r.URL.Path] = append(got[r.URL.Path], it.AccountID)
		}
	}))
	defer hs.Close()
	w := strings.Replace(orgWorld, "AKIAORGMANAGEMENT001", "AKIALIVE000000000001", 1)
	w = strings.Replace(w, `    name: root-still-has-password-and-key`, `    name: root-still-has-password-and-key
    tags: {owner: team-payments}`, 1)
	r := runLive(t, w, "scan", "--org", "--accounts", "900000000000,900000000002", "-f", "json", "--notify-on", "always",
		"--notify", "webhook@team-payments="+hs.URL+"/payments", "--notify", "webhook="+hs.URL+"/default")
	run := decodeRun(t, r.stdout)
	for _, a := range run.Accounts {
		if a.AccountID == "900000000002" && a.Tags["owner"] != "team-payments" {
			t.Errorf("tags not read: %+v", a)
		}
	}
	// The management account has no failure: with always, the default
	// target gets its message all the same, without the team's account.
	if len(got["/payments"]) == 0 || len(got["/payments messages"]) != 1 || len(got["/default messages"]) != 1 {
		t.Fatalf("deliveries %v (stderr %s)", got, r.stderr)
	}
	for _, a := range got["/payments"] {
		if a != "900000000002" {
			t.Errorf("the team's target got account %s", a)
		}
	}
	for _, a := range got["/default"] {
		if a == "900000000002" {
			t.Error("the default target got the team's account")
		}
	}
}

// TestCtrlCDuringListAccounts: an organization scan interrupted while it
// lists the accounts (or before, or while it collects them) exits 130,
// says "interrupted" (not that a permission is missing) and writes nothing.
func TestCtrlCDuringListAccounts(t *testing.T) {
	srvCtx, stop := context.WithCancel(context.Background())
	defer stop()
	_, url, err := awsfake.Serve(srvCtx, []byte(orgWorld), t.Name(), awsfake.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string]string{
		".ListAccounts":         "interrupted during ListAccounts as arn:aws:",
		".DescribeOrganization": "interrupted during DescribeOrganization as arn:aws:",
		// Accounts are collected while later pages are listed: either
		// may be under way.
		"_20131101.LookupEvents": "interrupted during ",
	} {
		t.Run(target, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out, errb bytes.Buffer
			app := &App{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: func() time.Time { return testNow },
				Version: "test", IsTerminal: func(io.Writer) bool { return false },
				AWSConfig: func(context.Context, string, string) (aws.Config, error) {
					cfg := awsfake.ClientConfig(url, "AKIAORGMANAGEMENT001")
					cfg.HTTPClient = &testutil.CancelOn{Target: target, Cancel: cancel}
					return cfg, nil
				}}
			file := filepath.Join(t.TempDir(), "run.json")
			err := Execute(ctx, app, []string{"scan", "--org", "-f", "json", "-o", file})
			if code := ExitCode(err); code != ExitInterrupted {
				t.Fatalf("exit %d (%v), want %d", code, err, ExitInterrupted)
			}
			msg := Message(err)
			if !strings.HasPrefix(msg, want) || !strings.HasSuffix(msg, "nothing was written, stored or sent") ||
				strings.Contains(msg, "needs organizations:ListAccounts") || strings.Contains(msg, "credentials") {
				t.Errorf("message %q", msg)
			}
			if _, err := os.Stat(file); !os.IsNotExist(err) {
				t.Errorf("an interrupted scan wrote %s (%v)", file, err)
			}
		})
	}
}

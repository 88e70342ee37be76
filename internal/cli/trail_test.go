package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
)

// TestScanWithCloudTrail: --cloudtrail reaches the pipeline, whose
// verdicts (scan's tests) the golden holds.
func TestScanWithCloudTrail(t *testing.T) {
	r := runCLI(t, nil, "scan", "--credential-report", fixture("quiet-report-busy-trail.csv"),
		"--cloudtrail", repoPath("testdata", "cloudtrail"), "--as-of", "2026-03-01T00:00:00Z", "-f", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	golden(t, "scan-offline-cloudtrail.json", r.stdout)
}

func TestTrailCommand(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "notes.md")
	os.WriteFile(bad, []byte("# not json"), 0o644)
	missing := filepath.Join(dir, "missing.json")
	if r := runCLI(t, nil, "trail", repoPath("testdata", "cloudtrail"), missing); r.code != ExitUsage || !strings.Contains(r.err.Error(), missing) {
		t.Errorf("a path that does not exist: exit %d (%v), want 2 naming it", r.code, r.err)
	}
	unreadable := filepath.Join(dir, "unreadable.json")
	if err := os.Symlink(filepath.Join(dir, "gone"), unreadable); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "trail", repoPath("testdata", "cloudtrail"), dir, "-f", "json")
	if r.code != ExitUnknown {
		t.Fatalf("exit %d (%v), want 3: some sources could not be read", r.code, r.err)
	}
	var tl report.Timeline
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&tl); err != nil {
		t.Fatal(err)
	}
	if tl.SchemaVersion != "1" || len(tl.Sources) != 4 || len(tl.Events) != 13 {
		t.Fatalf("sources %d events %d", len(tl.Sources), len(tl.Events))
	}
	errs := 0
	for _, s := range tl.Sources {
		if s.Error != "" {
			errs++
		}
	}
	if errs != 2 {
		t.Errorf("the unreadable and missing files must be listed with errors: %+v", tl.Sources)
	}
	if tl.Events[0].EventName != "CreateAccessKey" || tl.Events[len(tl.Events)-1].TimeProblem == "" {
		t.Errorf("not newest first, undated last: first %+v", tl.Events[0])
	}
	// The JSON keeps the contract's field names.
	var raw map[string]any
	json.Unmarshal([]byte(r.stdout), &raw)
	ev := raw["events"].([]any)[1].(map[string]any)
	for _, k := range []string{"event_id", "event_time", "account_id", "region", "event_source", "event_name", "category", "result", "mfa", "source_ip", "user_agent", "source"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("event lacks %q", k)
		}
	}
	src := raw["sources"].([]any)[0].(map[string]any)
	for _, k := range []string{"path", "events", "root_events", "error"} {
		if _, ok := src[k]; !ok {
			t.Errorf("source lacks %q", k)
		}
	}

	since := runCLI(t, nil, "trail", repoPath("testdata", "cloudtrail"), "--as-of", "2026-03-01T00:00:00Z", "--since", "3d", "--account", "111122223333", "-f", "json")
	var tl2 report.Timeline
	json.Unmarshal([]byte(since.stdout), &tl2)
	for _, e := range tl2.Events {
		if e.HasTime() && e.EventTime < "2026-02-26" {
			t.Errorf("--since 3d let through %s", e.EventTime)
		}
		if e.AccountID != "111122223333" {
			t.Errorf("--account let through %s", e.AccountID)
		}
	}
	table := runCLI(t, nil, "trail", repoPath("testdata", "cloudtrail"))
	for _, want := range []string{"console_login", "assume_root", "caller arn:aws:sts::999988887777:assumed-role/SecOps/alice → 111122223333 (IAMDeleteRootUserCredentials)", "Read 2 sources"} {
		if !strings.Contains(table.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, table.stdout)
		}
	}
	for _, args := range [][]string{{"trail"}, {"trail", "x", "--since", "soon"}, {"trail", "x", "--account", "12"}, {"trail", "x", "-f", "xml"}} {
		if r := runCLI(t, nil, args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d", args, r.code)
		}
	}
}

func findingOf(t *testing.T, run finding.Run, account, rule string) finding.Finding {
	t.Helper()
	for _, f := range run.Findings {
		if f.AccountID == account && f.RuleID == rule {
			return f
		}
	}
	t.Fatalf("no finding %s for %s", rule, account)
	return finding.Finding{}
}

// TestNothingReadIsNotSuccess: an empty directory, a directory of links,
// a link loop, a file of no events and an empty S3 URI never end in "No
// root activity found" with exit 0.
func TestNothingReadIsNotSuccess(t *testing.T) {
	empty := t.TempDir()
	r := runCLI(t, nil, "trail", empty)
	if r.code != ExitUnknown || !strings.Contains(r.stdout, "No root activity can be shown: nothing was read") || !strings.Contains(r.stderr, "nothing was read") {
		t.Errorf("empty directory: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Links are followed, a loop is listed as skipped.
	links := t.TempDir()
	src, _ := filepath.Abs(repoPath("testdata", "cloudtrail", "root-events.records.json"))
	if err := os.Symlink(src, filepath.Join(links, "events.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(links, filepath.Join(links, "loop")); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "trail", links, "-f", "json")
	var tl report.Timeline
	if err := json.Unmarshal([]byte(r.stdout), &tl); err != nil {
		t.Fatal(err)
	}
	if len(tl.Events) != 10 || r.code != ExitOK {
		t.Errorf("linked file not followed: exit %d, %d events", r.code, len(tl.Events))
	}
	loop := false
	for _, s := range tl.Sources {
		loop = loop || (strings.HasSuffix(s.Path, "loop") && s.Skipped == 0 && strings.HasPrefix(s.NotRead, "symbolic link loop"))
	}
	if !loop {
		t.Errorf("the link loop is not listed as a symbolic link loop: %+v", tl.Sources)
	}
	// The table names it too, and never as "not CloudTrail".
	table := runCLI(t, nil, "trail", links)
	if !strings.Contains(table.stdout, "source "+filepath.Join(links, "loop")+": not read: symbolic link loop") || strings.Contains(table.stdout, "not CloudTrail") {
		t.Errorf("table:\n%s", table.stdout)
	}

	noEvents := filepath.Join(t.TempDir(), "none.json")
	os.WriteFile(noEvents, []byte(`{"Records":[]}`), 0o600)
	if r := runCLI(t, nil, "trail", noEvents); r.code != ExitUnknown || !strings.Contains(r.stderr, "held no CloudTrail event at all") {
		t.Errorf("no events: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, uri := range []string{"s3://", "s3:///prefix"} {
		if r := runCLI(t, nil, "trail", uri); r.code != ExitUsage {
			t.Errorf("%s: exit %d, want 2", uri, r.code)
		}
		if r := runCLI(t, nil, "scan", "--credential-report", fixture("prod-root-recent.csv"), "--cloudtrail", uri); r.code != ExitUsage {
			t.Errorf("scan --cloudtrail %s: exit %d, want 2", uri, r.code)
		}
	}
	if r := runCLI(t, nil, "scan", "--credential-report", fixture("prod-root-recent.csv"), "--cloudtrail", filepath.Join(empty, "nope")); r.code != ExitUsage {
		t.Errorf("scan --cloudtrail with a missing path: exit %d, want 2", r.code)
	}
}

// TestTrailSaysHowManyDuplicatesItDropped reads the same file twice.
func TestTrailSaysHowManyDuplicatesItDropped(t *testing.T) {
	copyPath := filepath.Join(t.TempDir(), "copy.json")
	data, err := os.ReadFile(repoPath("testdata", "cloudtrail", "root-events.records.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(copyPath, data, 0o600)
	r := runCLI(t, nil, "trail", repoPath("testdata", "cloudtrail", "root-events.records.json"), copyPath)
	if !strings.Contains(r.stdout, "; 10 duplicate records dropped (identical after canonicalisation).") {
		t.Errorf("no duplicate count:\n%s", r.stdout)
	}
}

// TestTrailLookup: what the pipeline says of a --since beyond LookupEvents'
// 90 days reaches stderr; a failed LookupEvents never reads "No root
// activity found", and exits 3.
func TestTrailLookup(t *testing.T) {
	r := runLive(t, liveWorld("{existing: 1h}", "[]"), "trail", "--lookup", "--since", "120d")
	if r.code != ExitOK || !strings.Contains(r.stderr, "LookupEvents keeps 90 days of events: it was read from") {
		t.Errorf("capped --since: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runLive(t, liveWorld("{existing: 1h}", "[{op: LookupEvents, code: AccessDeniedException, status: 400, times: 100}]"), "trail", "--lookup")
	if r.code != ExitUnknown || strings.Contains(r.stdout, "No root activity found") || !strings.Contains(r.stdout, "No root activity can be shown") {
		t.Errorf("failed lookup: exit %d\n%s", r.code, r.stdout)
	}
}

// TestTrailShowsTakeoverSteps: trail shows each step of a root takeover in
// its category, with who took it, on which account and with which task; an
// account filter keeps the management account's calls about that account.
func TestTrailShowsTakeoverSteps(t *testing.T) {
	dir := repoPath("testdata", "takeover")
	table := runCLI(t, nil, "trail", dir)
	for _, want := range []string{
		"assume_root        sts:AssumeRoot",
		"caller arn:aws:sts::111111111111:assumed-role/PowerUser/alice → 222222222222 (IAMCreateRootUserPassword)",
		"caller arn:aws:sts::111111111111:assumed-role/PowerUser/alice → arn:aws:iam::222222222222:root (IAMAuditRootUserCredentials)",
		"login_profile      iam:CreateLoginProfile      success           203.0.113.50     caller arn:aws:sts::111111111111:assumed-role/PowerUser/alice (IAMCreateRootUserPassword)",
		"password_recovery  signin:PasswordRecoveryRequested", "password_recovery  signin:PasswordRecoveryCompleted", "password_recovery  signin:PasswordUpdated",
		"email_change       account:StartPrimaryEmailUpdate", "email_change       account:AcceptPrimaryEmailUpdate", "email_change       signin:EmailUpdated",
		"caller arn:aws:sts::111111111111:assumed-role/PowerUser/alice → 222222222222",
	} {
		if !strings.Contains(table.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, table.stdout)
		}
	}
	if strings.Contains(table.stdout, "new-owner") {
		t.Errorf("the table shows a new e-mail address:\n%s", table.stdout)
	}
	r := runCLI(t, nil, "trail", dir, "--account", "222222222222", "-f", "json")
	var tl report.Timeline
	if err := json.Unmarshal([]byte(r.stdout), &tl); err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for _, e := range tl.Events {
		byName[e.Category+" "+e.EventName]++
		if e.EventName == "CreateLoginProfile" && e.Category == "login_profile" && (e.Caller == "" || e.TaskPolicy == "") {
			t.Errorf("the root password created in the session names no caller or task: %+v", e)
		}
	}
	for _, want := range []string{"assume_root AssumeRoot", "login_profile CreateLoginProfile", "email_change StartPrimaryEmailUpdate", "email_change AcceptPrimaryEmailUpdate",
		"email_change EmailUpdated", "password_recovery PasswordRecoveryCompleted"} {
		if byName[want] == 0 {
			t.Errorf("--account 222222222222 lacks %s: %v", want, byName)
		}
	}
	if byName["assume_root AssumeRoot"] != 2 {
		t.Errorf("the management account's AssumeRoot calls about the member: %d, want 2", byName["assume_root AssumeRoot"])
	}
}

// TestScanJudgesTakeoverSteps: a scan of the member, with the trails of
// the member and the management account, fails iam-root-recovery-activity
// with every step, the management account's AssumeRoot call and e-mail
// changes counted for the member; the read-only audit is not a step.
func TestScanJudgesTakeoverSteps(t *testing.T) {
	r := runCLI(t, nil, "scan", "--credential-report", fixture("takeover-member.csv"), "--cloudtrail", repoPath("testdata", "takeover"),
		"--as-of", "2026-02-23T10:00:00Z", "--window", "3d", "-f", "json")
	run := decodeRun(t, r.stdout)
	var f finding.Finding
	for _, x := range run.Findings {
		if x.RuleID == "iam-root-recovery-activity" {
			f = x
		}
	}
	if f.Status != finding.StatusFail || f.AccountID != "222222222222" || !strings.Contains(f.Message, "CloudTrail shows 9 recovery-path events") ||
		!strings.Contains(f.Message, "In order: AssumeRoot IAMCreateRootUserPassword at 2026-02-20T10:00:00Z by arn:aws:sts::111111111111:assumed-role/PowerUser/alice; CreateLoginProfile (a root password created)") {
		t.Fatalf("%s: %s", f.Status, f.Message)
	}
	b, _ := json.Marshal(f.Evidence)
	for _, want := range []string{`"category":"email_change"`, `"event_name":"AcceptPrimaryEmailUpdate"`, `"task_policy":"IAMCreateRootUserPassword"`, `"target":"222222222222"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("evidence lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), "IAMAuditRootUserCredentials") || strings.Contains(r.stdout, "new-owner") {
		t.Errorf("the audit counted, or an address shown: %s", b)
	}
}

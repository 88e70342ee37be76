package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// reportCSV is a credential report of account 123456789012 whose root
// password was last used at lastUsed.
func reportCSV(t *testing.T, lastUsed string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.csv")
	csv := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n" +
		"<root_account>,arn:aws:iam::123456789012:root,2019-01-01T00:00:00+00:00,not_supported," + lastUsed + ",not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStoreDiffsRuns: a clean report, then one whose root password was
// used yesterday, then the same again: one new failure, then none.
func TestStoreDiffsRuns(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rw.db")
	clean, used := reportCSV(t, "N/A"), reportCSV(t, "2026-02-28T09:00:00+00:00")
	scanInto := func(report string, extra ...string) result {
		return runCLI(t, nil, append([]string{"scan", "--credential-report", report, "--as-of", "2026-03-01T00:00:00Z", "--store", db, "-f", "json"}, extra...)...)
	}
	first := scanInto(clean)
	if !strings.Contains(first.stderr, "stored as run 1") || !strings.Contains(first.stderr, "the first of its scope") {
		t.Fatalf("first run: %s %v", first.stderr, first.err)
	}
	second := scanInto(used)
	run := decodeRun(t, second.stdout)
	if run.History == nil || run.History.PreviousRunID != 1 || len(run.History.Changes) != 1 ||
		run.History.Changes[0].Kind != finding.ChangeNewFailure || run.History.Changes[0].RuleID != "iam-root-active-password" {
		t.Fatalf("second run's changes: %+v", run.History)
	}
	f := findingOf(t, run, "123456789012", "iam-root-active-password")
	if f.Change != finding.ChangeNewFailure || f.FirstSeen == nil || f.FirstSeen.Format("2006-01-02") != "2026-03-01" {
		t.Errorf("finding: change %q first seen %v", f.Change, f.FirstSeen)
	}
	if other := findingOf(t, run, "123456789012", "iam-root-no-mfa"); other.Change != finding.ChangeUnchanged {
		t.Errorf("an unchanged finding says %q", other.Change)
	}
	third := decodeRun(t, scanInto(used).stdout)
	if len(third.History.Changes) != 0 {
		t.Errorf("third, identical run: %+v", third.History.Changes)
	}

	d := runCLI(t, nil, "diff", "--store", db, "--from", "1", "--to", "2", "-f", "json")
	var diff Diff
	if err := json.Unmarshal([]byte(d.stdout), &diff); err != nil {
		t.Fatalf("diff json: %v\n%s", err, d.stdout)
	}
	if len(diff.Changes) != 1 || diff.Changes[0].Kind != finding.ChangeNewFailure || *diff.Changes[0].FromStatus != "pass" || *diff.Changes[0].ToStatus != "fail" || diff.From.ID != 1 || diff.To.ID != 2 {
		t.Errorf("diff: %+v", diff)
	}
	if d := runCLI(t, nil, "diff", "--store", db); !strings.Contains(d.stdout, "Run 2 (as of 2026-03-01T00:00:00Z) → run 3") || !strings.Contains(d.stdout, "0 changes") {
		t.Errorf("default diff (the last two of the scope): %s", d.stdout)
	}
	if md := runCLI(t, nil, "diff", "--store", db, "--from", "1", "--to", "2", "-f", "markdown").stdout; !strings.Contains(md, "| new_failure | critical | 123456789012 | iam-root-active-password | pass | fail |") {
		t.Errorf("markdown diff:\n%s", md)
	}
	runs := runCLI(t, nil, "runs", "--store", db)
	if strings.Count(runs.stdout, "\n") != 4 {
		t.Errorf("runs:\n%s", runs.stdout)
	}
	hist := runCLI(t, nil, "history", "--store", db, "--account", "123456789012", "--rule", "iam-root-active-password")
	if strings.Count(hist.stdout, "\n") != 3 || !strings.Contains(hist.stdout, "fail") {
		t.Errorf("history:\n%s", hist.stdout)
	}
	html := filepath.Join(t.TempDir(), "r.html")
	runCLI(t, nil, "scan", "--credential-report", clean, "--as-of", "2026-03-01T00:00:00Z", "--store", db, "-f", "html", "-o", html)
	page, _ := os.ReadFile(html)
	if !strings.Contains(string(page), `<h2>Since run 3`) || !strings.Contains(string(page), `id="resolved" data-count="1"`) {
		t.Errorf("the HTML report does not mark what was resolved since run 3")
	}
	// The test clock is 12 hours after the runs' as-of time.
	if p := runCLI(t, nil, "prune", "--store", db, "--keep", "1d"); !strings.Contains(p.stdout, "deleted 0 runs") {
		t.Errorf("prune --keep 1d: %s %v", p.stdout, p.err)
	}
	if p := runCLI(t, nil, "prune", "--store", db, "--keep", "6h"); !strings.Contains(p.stdout, "deleted 4 runs") {
		t.Errorf("prune --keep 6h: %s %v", p.stdout, p.err)
	}
}

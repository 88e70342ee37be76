package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/notify"
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
	if !strings.Contains(first.stderr, "stored as run 1") || !strings.Contains(first.stderr, "(a baseline") {
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
	if !strings.Contains(string(page), `<h2>Since run 3`) || !strings.Contains(string(page), `id="resolved" data-count="1"`) || !strings.Contains(string(page), `<small class="seen">(first seen 2026-03-01; resolved)</small>`) {
		t.Errorf("the HTML report does not mark what was resolved since run 3")
	}
	md := runCLI(t, nil, "scan", "--credential-report", used, "--as-of", "2026-03-01T00:00:00Z", "--store", db, "-f", "markdown").stdout
	if !strings.Contains(md, "**Since run 4: 1 new failure, 0 resolved.**") || !strings.Contains(md, "(first seen 2026-03-01; new\\_failure) |") {
		t.Errorf("markdown with a store:\n%s", md)
	}
	// The test clock is 12 hours after the runs' as-of time.
	if p := runCLI(t, nil, "prune", "--store", db, "--keep", "1d"); !strings.Contains(p.stdout, "deleted 0 runs") {
		t.Errorf("prune --keep 1d: %s %v", p.stdout, p.err)
	}
	if p := runCLI(t, nil, "prune", "--store", db, "--keep", "6h"); !strings.Contains(p.stdout, "deleted 5 runs") {
		t.Errorf("prune --keep 6h: %s %v", p.stdout, p.err)
	}
}

// TestNotifyOnlyWhatIsNew: the run that adds a failure sends one webhook
// message; the identical run after it sends nothing; a target that fails
// makes a clean scan exit 4, and 'rootwatch notify' sends the stored run.
func TestNotifyOnlyWhatIsNew(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	failing := false
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusBadRequest) // final: no retries to wait for
			return
		}
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		bodies = append(bodies, b)
	}))
	defer hs.Close()
	env := map[string]string{"HOOK": hs.URL + "/hook/S3CRET"}
	db := filepath.Join(t.TempDir(), "rw.db")
	clean, used := reportCSV(t, "N/A"), reportCSV(t, "2026-02-28T09:00:00+00:00")
	scanInto := func(report string) result {
		return runCLI(t, env, "scan", "--credential-report", report, "--as-of", "2026-03-01T00:00:00Z", "--store", db, "-f", "json", "--notify", "webhook=env:HOOK")
	}
	if r := scanInto(clean); len(bodies) != 0 || r.code == ExitNotify || !strings.Contains(r.stderr, "run 1 is the first in") {
		t.Fatalf("the first run has nothing new to say: %d messages, exit %d\n%s", len(bodies), r.code, r.stderr)
	}
	r := scanInto(used)
	if len(bodies) != 1 || r.code != ExitFindings {
		t.Fatalf("the new failure: %d messages, exit %d (%s)", len(bodies), r.code, r.stderr)
	}
	items := bodies[0]["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["rule_id"] != "iam-root-active-password" || items[0].(map[string]any)["kind"] != "new_failure" {
		t.Errorf("message items: %v", items)
	}
	if scanInto(used); len(bodies) != 1 {
		t.Errorf("an identical run sent %d more messages", len(bodies)-1)
	}
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.Contains(out, "S3CRET") {
			t.Error("the webhook URL reached the output")
		}
	}
	// A clean scan whose notification fails exits 4 (with always, a clean
	// run has a message too), naming the target but not its URL.
	failing = true
	r = runLive(t, liveWorld("{existing: 1h}", "[]"), "scan", "-f", "json", "--notify", "webhook="+hs.URL+"/hook/S3CRET", "--notify-on", "always")
	if r.code != ExitNotify || !strings.Contains(r.stderr, "notification to webhook #1 (127.0.0.1) failed after 1 attempts: HTTP 400") || strings.Contains(r.stderr, "S3CRET") {
		t.Errorf("failed notification of a clean scan: exit %d, stderr %q", r.code, r.stderr)
	}
	// A scan with failing findings keeps exit 1 and says the delivery failed.
	scanInto(clean)
	r = scanInto(used)
	if r.code != ExitFindings || !strings.Contains(r.stderr, "failed after 1 attempts") || !strings.Contains(r.stderr, "failed with\n  rootwatch notify --store "+db+" --run 5 --notify webhook=env:HOOK\n") {
		t.Errorf("failed notification of a failing scan: exit %d, stderr %q", r.code, r.stderr)
	}
	failing = false
	if r := runCLI(t, env, "notify", "--store", db, "--run", "2", "--notify", "webhook=env:HOOK"); r.code != ExitOK || len(bodies) != 2 {
		t.Errorf("resend: exit %d (%v), %d messages", r.code, r.err, len(bodies))
	}
	if r := runCLI(t, env, "scan", "--credential-report", clean, "--notify", "webhook=env:HOOK"); r.code != ExitUsage || !strings.Contains(r.err.Error(), "needs a store") {
		t.Errorf("--notify-on new without a store: exit %d (%v)", r.code, r.err)
	}
}

// TestNotificationsFromTheConfigFile: the notifications: section gives
// targets when no flag does; a secret kept in the file itself is refused.
func TestNotificationsFromTheConfigFile(t *testing.T) {
	n := 0
	hs := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { n++ }))
	defer hs.Close()
	cfg := filepath.Join(t.TempDir(), "rw.yaml")
	os.WriteFile(cfg, []byte("notifications:\n  targets: [\"webhook="+hs.URL+"/hook\"]\n  on: always\n  secret: env:HOOK_KEY\n"), 0o600)
	r := runCLI(t, map[string]string{"HOOK_KEY": "k"}, "scan", "--credential-report", fixture("prod-root-recent.csv"), "--as-of", "2026-03-01T00:00:00Z", "--config", cfg)
	if n != 1 || r.code == ExitUsage {
		t.Errorf("%d messages, exit %d (%v)", n, r.code, r.err)
	}
	os.WriteFile(cfg, []byte("notifications:\n  targets: [\"webhook="+hs.URL+"/hook\"]\n  secret: hunter2\n"), 0o600)
	if r := runCLI(t, nil, "scan", "--credential-report", fixture("prod-root-recent.csv"), "--config", cfg); r.code != ExitUsage || strings.Contains(r.err.Error(), "hunter2") {
		t.Errorf("a secret in the file: exit %d (%v)", r.code, r.err)
	}
}

// TestNotificationTargetsAreReadOnce: a scan reads each file: reference of
// its notifications (the target, the signing key) once, before it scans,
// and sends by what it read; the address never reaches the output.
func TestNotificationTargetsAreReadOnce(t *testing.T) {
	var mu sync.Mutex
	var sigs []string
	hs := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		sigs = append(sigs, r.Header.Get(notify.SignatureHeader))
	}))
	defer hs.Close()
	dir := t.TempDir()
	hook, key := filepath.Join(dir, "hook"), filepath.Join(dir, "key")
	os.WriteFile(hook, []byte(hs.URL+"/hook/S3CRET\n"), 0o600)
	os.WriteFile(key, []byte("k3y\n"), 0o600)
	reads := map[string]int{}
	countReads := func(app *App) {
		app.ReadFile = func(p string) ([]byte, error) {
			mu.Lock()
			reads[p]++
			mu.Unlock()
			return os.ReadFile(p)
		}
	}
	r := runCLIWith(t, nil, countReads, "scan", "--credential-report", fixture("prod-root-recent.csv"), "--as-of", "2026-03-01T00:00:00Z",
		"--notify", "webhook=file:"+hook, "--notify-secret", "file:"+key, "--notify-on", "always")
	mu.Lock()
	defer mu.Unlock()
	if r.code != ExitFindings || len(sigs) != 1 || !strings.HasPrefix(sigs[0], "sha256=") || !strings.Contains(r.stderr, "notified webhook #1 (127.0.0.1)") {
		t.Fatalf("exit %d, %d messages (%q)\n%s", r.code, len(sigs), sigs, r.stderr)
	}
	if reads[hook] != 1 || reads[key] != 1 {
		t.Errorf("reads %v: want the target and the key once each", reads)
	}
	if strings.Contains(r.stdout+r.stderr, "S3CRET") {
		t.Error("the webhook URL reached the output")
	}
}

package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// smallOrg is the first three accounts of orgWorld (one failing), with
// the live test's keys.
func smallOrg() string {
	w := strings.Replace(orgWorld, "AKIAORGMANAGEMENT001", "AKIALIVE000000000001", 1)
	return w[:strings.Index(w, `  - id: "900000000003"`)]
}

// runLiveHooked is runLive with the fake AWS behind a proxy that calls
// hook once, at the scan's first AWS call: after the store was checked,
// before anything was judged.
func runLiveHooked(t *testing.T, world string, env map[string]string, hook func(), args ...string) result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, fakeURL, err := awsfake.Serve(ctx, []byte(world), t.Name(), awsfake.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(fakeURL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var once sync.Once
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(hook)
		proxy.ServeHTTP(w, r)
	}))
	defer hs.Close()
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return testNow },
		Version: "test", IsTerminal: func(io.Writer) bool { return false },
		AWSConfig: func(context.Context, string, string) (aws.Config, error) {
			return awsfake.ClientConfig(hs.URL, "AKIALIVE000000000001"), nil
		}}
	err = Execute(ctx, app, args)
	return result{out.String(), errb.String(), ExitCode(err), err}
}

// printed finds the command line a message printed after intro, and its
// arguments (the test's paths need no shell quoting).
func printed(t *testing.T, stderr, intro string) []string {
	t.Helper()
	_, after, ok := strings.Cut(stderr, intro)
	if !ok {
		t.Fatalf("no %q in:\n%s", intro, stderr)
	}
	line := strings.TrimSpace(strings.SplitN(strings.TrimLeft(after, "\n "), "\n", 2)[0])
	words := shellWords(t, line)
	if len(words) < 2 || words[0] != "rootwatch" {
		t.Fatalf("not a rootwatch command: %q", line)
	}
	return words[1:]
}

// shellWords splits a command line as a POSIX shell would one that uses
// only single quotes (as the printed commands do), and refuses the rest.
func shellWords(t *testing.T, line string) []string {
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			word.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case strings.ContainsRune("\"\\$`;&|<>()*?[]#~", r):
			t.Fatalf("%q needs a shell to read: %q", line, r)
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}

// hookReceiver counts webhook messages.
type hookReceiver struct {
	mu     sync.Mutex
	bodies []map[string]any
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b map[string]any
	json.NewDecoder(r.Body).Decode(&b)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bodies = append(h.bodies, b)
}

func (h *hookReceiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

// TestRunSurvivesTheStore: a store that goes away while an organization is
// scanned (PostgreSQL stopped, SQLite made unwritable, SQLite held by
// another writer past --store-timeout) loses nothing: the outputs are
// written, no notification that needs the history is sent (and that is
// said), the exit code is 5, and the command printed to store the run
// later stores it, in its place in time, once.
func TestRunSurvivesTheStore(t *testing.T) {
	cases := []struct {
		name string
		// setup returns the store, what makes it fail mid-run, and what
		// mends it.
		setup func(t *testing.T) (spec string, fail, mend func())
		said  string // on stderr while the run was being stored
	}{
		{"postgres stopped", func(t *testing.T) (string, func(), func()) {
			pg := testutil.StartOwnPostgres(t)
			return pg.URL, pg.Stop, pg.Start
		}, "the run was judged but not stored: store postgres://127.0.0.1:"},
		{"sqlite made unwritable", func(t *testing.T) (string, func(), func()) {
			path := filepath.Join(t.TempDir(), "rw.db")
			var undo func()
			return path, func() { undo = makeUnwritable(t, path) }, func() { undo() }
		}, "the run was judged but not stored: store "},
		{"sqlite locked past --store-timeout", func(t *testing.T) (string, func(), func()) {
			path := filepath.Join(t.TempDir(), "rw.db")
			var tx *sql.Tx
			return path, func() {
					db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate")
					if err != nil {
						t.Error(err)
						return
					}
					t.Cleanup(func() { db.Close() })
					if tx, err = db.Begin(); err != nil { // another writer's lock
						t.Error(err)
					}
				}, func() {
					tx.Rollback()
				}
		}, "is locked by another writer: waiting for it, at most 300ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, fail, mend := tc.setup(t)
			hooks := &hookReceiver{}
			hs := httptest.NewServer(hooks)
			defer hs.Close()
			env := map[string]string{"HOOK": hs.URL + "/hook/S3CRET"}
			out := filepath.Join(t.TempDir(), "run.json")
			args := []string{"scan", "--org", "--store", spec, "--store-timeout", "300ms", "-f", "json", "-o", out, "--notify", "webhook=env:HOOK"}
			// A first run is stored: the baseline (judged an hour before,
			// as the test's clock does not move).
			baseline := append(slices.Clone(args), "--as-of", testNow.Add(-time.Hour).Format(time.RFC3339))
			if r := runLiveHooked(t, smallOrg(), env, func() {}, baseline...); r.code != ExitFindings || !strings.Contains(r.stderr, "stored as run 1") {
				t.Fatalf("the first run: exit %d (%v)\n%s", r.code, r.err, r.stderr)
			}
			os.Remove(out)
			r := runLiveHooked(t, smallOrg(), env, fail, args...)
			if r.code != ExitNotStored {
				t.Fatalf("exit %d, want %d (%v)\n%s", r.code, ExitNotStored, r.err, r.stderr)
			}
			for _, want := range []string{tc.said, "rootwatch: notifications not sent: --notify-on new compares the run with the stored history, and the store did not keep it",
				"the run was judged and its outputs written, but it is not in "} {
				if !strings.Contains(r.stderr+r.err.Error(), want) {
					t.Errorf("no %q in:\n%s\n%v", want, r.stderr, r.err)
				}
			}
			if strings.Contains(r.stderr+r.err.Error(), "S3CRET") || strings.Contains(r.err.Error(), "nothing was judged") {
				t.Errorf("stderr: %s %v", r.stderr, r.err)
			}
			if hooks.count() != 0 {
				t.Errorf("%d notifications sent for a run not stored", hooks.count())
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("the output was not written: %v", err)
			}
			run := decodeRun(t, string(data))
			if run.History != nil || run.Findings[0].FirstSeen != nil || statusOf(run, "900000000002", "iam-root-access-key-active") != finding.StatusFail {
				t.Errorf("the output: history %+v, first finding %+v", run.History, run.Findings[0])
			}
			// Once the store is back, the printed command stores the run.
			mend()
			imp := printed(t, r.err.Error(), "store it from its JSON:")
			if want := []string{"runs", "import", out, "--store", spec}; !slices.Equal(imp, want) {
				t.Errorf("printed %q, want %q", imp, want)
			}
			if r := runCLI(t, env, imp...); r.code != ExitOK || !strings.Contains(r.stderr, "stored as run 2") || !strings.Contains(r.stderr, "since run 1: 0 new failures") {
				t.Fatalf("import: exit %d (%v)\n%s", r.code, r.err, r.stderr)
			}
			var runs []struct {
				AsOf time.Time `json:"as_of"`
			}
			json.Unmarshal([]byte(runCLI(t, nil, "runs", "--store", spec, "-f", "json").stdout), &runs)
			if len(runs) != 2 || !runs[0].AsOf.Equal(run.AsOf) {
				t.Errorf("stored runs: %+v, want the imported as of %s", runs, run.AsOf)
			}
			if r := runCLI(t, env, imp...); r.code != ExitUsage || !strings.Contains(r.err.Error(), "the store already holds this run, as run 2") {
				t.Errorf("a second import: exit %d (%v)", r.code, r.err)
			}
		})
	}
}

// makeUnwritable makes a file unwritable (for root too: chattr +i) until
// undo.
func makeUnwritable(t *testing.T, path string) (undo func()) {
	if os.Geteuid() != 0 {
		os.Chmod(path, 0o400)
		return func() { os.Chmod(path, 0o600) }
	}
	chattr := testutil.RequireTool(t, "chattr")
	if out, err := exec.Command(chattr, "+i", path).CombinedOutput(); err != nil {
		t.Skipf("root cannot make %s immutable here (no CAP_LINUX_IMMUTABLE?): %v %s", path, err, out)
	}
	t.Cleanup(func() { exec.Command(chattr, "-i", path).Run() })
	return func() {
		if out, err := exec.Command(chattr, "-i", path).CombinedOutput(); err != nil {
			t.Errorf("chattr -i: %v %s", err, out)
		}
	}
}

// TestStoreIsCheckedBeforeScanning: a store no run could be saved in is
// refused before anything is collected (exit 2), and creates nothing.
func TestStoreIsCheckedBeforeScanning(t *testing.T) {
	dir := t.TempDir()
	calls := 0
	r := runLiveHooked(t, smallOrg(), nil, func() { calls++ }, "scan", "--org", "--store", filepath.Join(dir, "no-such-dir", "rw.db"))
	if r.code != ExitUsage || calls != 0 || !strings.Contains(r.err.Error(), "--store: store "+filepath.Join(dir, "no-such-dir", "rw.db")+" cannot be created") ||
		!strings.Contains(r.err.Error(), "nothing was collected") {
		t.Errorf("exit %d after %d AWS calls: %v", r.code, calls, r.err)
	}
	r = runLiveHooked(t, smallOrg(), nil, func() { calls++ }, "scan", "--org", "--store", "postgres://rootwatch@127.0.0.1:1/none?sslmode=disable")
	if r.code != ExitUsage || calls != 0 {
		t.Errorf("unreachable PostgreSQL: exit %d after %d AWS calls: %v", r.code, calls, r.err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestReadersNeverCreateAStore: runs, diff, history, prune and notify at a
// mistyped path say there is no store there (exit 2) and create none.
func TestReadersNeverCreateAStore(t *testing.T) {
	typo := filepath.Join(t.TempDir(), "rootwatch.bd")
	for _, args := range [][]string{
		{"runs", "--store", typo},
		{"diff", "--store", typo},
		{"history", "--store", typo, "--account", "123456789012"},
		{"prune", "--store", typo, "--keep", "90d"},
		{"notify", "--store", typo, "--notify", "webhook=http://127.0.0.1:1/hook"},
	} {
		r := runCLI(t, nil, args...)
		if r.code != ExitUsage || r.err == nil || !strings.HasPrefix(r.err.Error(), "no store at "+typo) {
			t.Errorf("%s: exit %d (%v)", args[0], r.code, r.err)
		}
		if _, err := os.Stat(typo); !os.IsNotExist(err) {
			t.Fatalf("%s created %s", args[0], typo)
		}
	}
}

// TestHistoryRefusesUnknownRules: a rule id that is neither in the catalog
// nor in the store is refused, with the ids it is close to.
func TestHistoryRefusesUnknownRules(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rw.db")
	runCLI(t, nil, "scan", "--credential-report", reportCSV(t, "N/A"), "--as-of", "2026-03-01T00:00:00Z", "--store", db)
	r := runCLI(t, nil, "history", "--store", db, "--account", "123456789012", "--rule", "iam-root-no-mfaa")
	if r.code != ExitUsage || !strings.Contains(r.err.Error(), `--rule "iam-root-no-mfaa" is not a rule; did you mean iam-root-no-mfa`) {
		t.Errorf("typo: exit %d (%v)", r.code, r.err)
	}
	if r := runCLI(t, nil, "history", "--store", db, "--account", "123456789012", "--rule", "xyz"); r.code != ExitUsage || !strings.Contains(r.err.Error(), "rules are: ") {
		t.Errorf("nothing close: exit %d (%v)", r.code, r.err)
	}
	if r := runCLI(t, nil, "history", "--store", db, "--account", "123456789012", "--rule", "iam-root-no-mfa"); r.code != ExitOK || !strings.Contains(r.stdout, "iam-root-no-mfa") {
		t.Errorf("a real rule: exit %d (%v) %s", r.code, r.err, r.stdout)
	}
}

// TestResendWorksAsPrinted: after a failed delivery, the printed command
// sends the stored run again, as it is, to the target that failed only.
func TestResendWorksAsPrinted(t *testing.T) {
	good, flaky := &hookReceiver{}, &hookReceiver{}
	down := true
	var mu sync.Mutex
	goodSrv := httptest.NewServer(good)
	defer goodSrv.Close()
	flakySrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		d := down
		mu.Unlock()
		if d {
			w.WriteHeader(http.StatusForbidden) // final: no retries to wait for
			return
		}
		flaky.ServeHTTP(w, r)
	}))
	defer flakySrv.Close()
	env := map[string]string{"GOOD": goodSrv.URL + "/hook/S3CRET", "FLAKY": flakySrv.URL + "/hook/S3CRET", "KEY": "k"}
	db := filepath.Join(t.TempDir(), "my store.db") // a path the shell must quote
	scanInto := func(report string) result {
		return runCLI(t, env, "scan", "--credential-report", report, "--as-of", "2026-03-01T00:00:00Z", "--store", db,
			"--notify", "webhook=env:GOOD", "--notify", "webhook=env:FLAKY", "--notify-secret", "env:KEY", "--notify-min-severity", "high", "--notify-timeout", "20s")
	}
	scanInto(reportCSV(t, "N/A"))
	r := scanInto(reportCSV(t, "2026-02-28T09:00:00+00:00"))
	if good.count() != 1 || flaky.count() != 0 || !strings.Contains(r.stderr, "notification to webhook #2 (127.0.0.1) failed after 1 attempts: HTTP 403") {
		t.Fatalf("deliveries %d and %d:\n%s", good.count(), flaky.count(), r.stderr)
	}
	_, hint, _ := strings.Cut(r.stderr, "send it again to the targets that failed with\n  ")
	hint = strings.SplitN(hint, "\n", 2)[0]
	want := "rootwatch notify --store '" + db + "' --run 2 --notify webhook=env:FLAKY --notify-min-severity high --notify-secret env:KEY --notify-timeout 20s"
	if hint != want {
		t.Fatalf("hint %q\nwant %q", hint, want)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	args := printed(t, r.stderr, "send it again to the targets that failed with")
	if r := runCLI(t, env, args...); r.code != ExitOK || flaky.count() != 1 || good.count() != 1 {
		t.Fatalf("the printed command: exit %d (%v), deliveries %d and %d\n%s", r.code, r.err, good.count(), flaky.count(), r.stderr)
	}
	items := flaky.bodies[0]["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["kind"] != "new_failure" {
		t.Errorf("the resent message: %v", items)
	}
	if strings.Contains(r.stderr, "S3CRET") {
		t.Error("a URL reached the output")
	}
	// A target given in clear is not repeated: the hint says what to put
	// in its place.
	mu.Lock()
	down = true
	mu.Unlock()
	scanInto(reportCSV(t, "N/A"))
	r = runCLI(t, env, "scan", "--credential-report", reportCSV(t, "2026-02-28T09:00:00+00:00"), "--as-of", "2026-03-01T00:00:00Z", "--store", db,
		"--notify", "webhook="+flakySrv.URL+"/hook/S3CRET")
	if strings.Contains(r.stderr, "S3CRET") || !strings.Contains(r.stderr, "--notify webhook=WEBHOOK_URL\n") ||
		!strings.Contains(r.stderr, "(WEBHOOK_URL: the address of webhook target 1 was given in clear and is a secret") {
		t.Errorf("a target in clear:\n%s", r.stderr)
	}
}

// TestFirstRunIsABaseline: the first --notify run into an empty store
// sends nothing, says why, and prints the command that sends its failures.
func TestFirstRunIsABaseline(t *testing.T) {
	hooks := &hookReceiver{}
	hs := httptest.NewServer(hooks)
	defer hs.Close()
	env := map[string]string{"HOOK": hs.URL + "/hook/S3CRET"}
	db := filepath.Join(t.TempDir(), "rw.db")
	r := runCLI(t, env, "scan", "--credential-report", reportCSV(t, "2026-02-28T09:00:00+00:00"), "--as-of", "2026-03-01T00:00:00Z", "--store", db, "--notify", "webhook=env:HOOK")
	if r.code != ExitFindings || hooks.count() != 0 || !strings.Contains(r.stderr, "rootwatch: notifications not sent: run 1 is the first in") {
		t.Fatalf("exit %d, %d messages:\n%s", r.code, hooks.count(), r.stderr)
	}
	args := printed(t, r.stderr, "To send its failures now:")
	if r := runCLI(t, env, args...); r.code != ExitOK || hooks.count() != 1 {
		t.Fatalf("the printed command: exit %d (%v), %d messages\n%s", r.code, r.err, hooks.count(), r.stderr)
	}
	if items := hooks.bodies[0]["items"].([]any); len(items) == 0 || items[0].(map[string]any)["kind"] != "fail" {
		t.Errorf("the baseline's failures: %v", items)
	}
	// The same run under new has nothing to send, and says so.
	if r := runCLI(t, env, "notify", "--store", db, "--run", "1", "--notify", "webhook=env:HOOK"); r.code != ExitOK || hooks.count() != 1 ||
		!strings.Contains(r.stderr, "run 1 has nothing to send: it is a baseline") {
		t.Errorf("notify new of a baseline: exit %d, %d messages\n%s", r.code, hooks.count(), r.stderr)
	}
}

// TestHungWebhookIsSaidAndBounded: a webhook that does not answer is
// waited for at most --notify-timeout per attempt, and the wait is said
// (naming the target, never its URL).
func TestHungWebhookIsSaidAndBounded(t *testing.T) {
	var mu sync.Mutex
	attempts := 0
	release := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		attempts++
		first := attempts == 1
		mu.Unlock()
		io.Copy(io.Discard, r.Body) // so that the server sees the client leave
		if first {
			select { // hangs until the client gives up
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	defer hs.Close()
	defer close(release)
	env := map[string]string{"HOOK": hs.URL + "/hook/S3CRET"}
	r := runCLI(t, env, "scan", "--credential-report", reportCSV(t, "N/A"), "--as-of", "2026-03-01T00:00:00Z",
		"--notify", "webhook=env:HOOK", "--notify-on", "always", "--notify-timeout", "200ms")
	if !strings.Contains(r.stderr, "rootwatch: waiting for webhook #1 (127.0.0.1) to answer (attempt 1 of 4; each gives up after 200ms)") ||
		!strings.Contains(r.stderr, "notified webhook #1") || strings.Contains(r.stderr, "S3CRET") || attempts != 2 {
		t.Errorf("exit %d, %d attempts:\n%s", r.code, attempts, r.stderr)
	}
	if r := runCLI(t, env, "scan", "--demo", "--notify", "webhook=env:HOOK", "--notify-on", "always", "--notify-timeout", "0s"); r.code != ExitUsage {
		t.Errorf("--notify-timeout 0s: exit %d", r.code)
	}
}

// TestImportRefusesWhatIsNotARun: runs import checks the file before it
// touches the store.
func TestImportRefusesWhatIsNotARun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rw.db")
	good := runCLI(t, nil, "scan", "--credential-report", reportCSV(t, "N/A"), "--as-of", "2026-03-01T00:00:00Z", "-f", "json").stdout
	edit := func(name string, f func(string) string) string {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(f(good)), 0o600)
		return path
	}
	for name, c := range map[string]struct {
		path, want string
	}{
		"not json": {edit("a.json", func(string) string { return "id,name\n" }), "is not the JSON of a rootwatch run"},
		"other fields": {edit("b.json", func(s string) string {
			return strings.Replace(s, `"schema_version"`, `"bundle_version": 1, "schema_version"`, 1)
		}), `unknown field "bundle_version"`},
		"edited status": {edit("c.json", func(s string) string {
			return regexp.MustCompile(`("rule_id": "iam-root-no-mfa",[^}]*?"status": )"pass"`).ReplaceAllString(s, `$1"fail"`)
		}), "does not count the findings"},
		"edited account": {edit("d.json", func(s string) string {
			return strings.Replace(s, `"account_id": "123456789012",
      "region"`, `"account_id": "123456789013",
      "region"`, 1)
		}), "the account is not among the run's accounts"},
		"edited resource": {edit("e.json", func(s string) string {
			return strings.Replace(s, `"resource": "arn:aws:iam::123456789012:root"`, `"resource": "arn:aws:iam::123456789012:user/x"`, 1)
		}), "the fingerprint is not that of its rule, account and resource (was the file edited?)"},
	} {
		r := runCLI(t, nil, "runs", "import", c.path, "--store", db)
		if r.code != ExitUsage || !strings.Contains(r.err.Error(), c.path) || !strings.Contains(r.err.Error(), c.want) {
			t.Errorf("%s: exit %d (%v), want %q", name, r.code, r.err, c.want)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Error("a refused import created the store")
	}
	if r := runCLI(t, nil, "runs", "import", edit("ok.json", func(s string) string { return s }), "--store", db); r.code != ExitOK || !strings.Contains(r.stderr, "stored as run 1") {
		t.Errorf("a good file: exit %d (%v)", r.code, r.err)
	}
}

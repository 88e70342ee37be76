package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sys/unix"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/bundle"
)

// The tests in this file check what rootwatch does to the files it writes
// to: a device, a pipe, a link or standard output is written, never
// replaced; paths are checked before anything is collected; a run that
// fails changes no file.

var demoScan = []string{"scan", "--demo", "--as-of", "2026-03-01T00:00:00Z"}

// fakeAWS serves world; loads counts how often the CLI loaded an AWS
// configuration, which every collection starts with (no configuration, no
// request).
type fakeAWS struct {
	srv   *awsfake.Server
	url   string
	key   string
	loads atomic.Int32
	now   func() time.Time
}

func newFakeAWS(t *testing.T, w *awsfake.World, key string, now func() time.Time) *fakeAWS {
	t.Helper()
	srv, err := awsfake.New(w, awsfake.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	url, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &fakeAWS{srv: srv, url: url, key: key, now: now}
}

func (f *fakeAWS) run(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: f.now, Version: "test",
		IsTerminal: func(io.Writer) bool { return false }, StdinIsTerminal: func() bool { return false },
		AWSConfig: func(context.Context, string, string) (aws.Config, error) {
			f.loads.Add(1)
			return awsfake.ClientConfig(f.url, f.key), nil
		}}
	err := Execute(context.Background(), app, args)
	return result{out.String(), errb.String(), ExitCode(err), err}
}

func liveFake(t *testing.T) *fakeAWS {
	t.Helper()
	w, err := awsfake.ParseWorld([]byte(liveWorld("{existing: 1h}", "[]")), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return newFakeAWS(t, w, "AKIALIVE000000000001", func() time.Time { return testNow })
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mknod (CI runs as root)")
	}
}

// mknodChar makes a character device like Linux's /dev/null (1:3) or
// /dev/full (1:7) in a temporary directory.
func mknodChar(t *testing.T, name string, minor uint32) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, minor))); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o666) // past the umask
	return p
}

func fileType(t *testing.T, p string) fs.FileMode {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Type()
}

func noTemporaries(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("left behind in %s: %s", d, e.Name())
			}
		}
	}
}

// TestOutputToDeviceLeavesADevice: -o and --save-evidence into a character
// device made like /dev/null leave it a character device, with its mode.
func TestOutputToDeviceLeavesADevice(t *testing.T) {
	requireRoot(t)
	out, bundle := mknodChar(t, "null", 3), mknodChar(t, "null-bundle", 3)
	r := runCLI(t, nil, append(demoScan, "-f", "json", "-o", out, "--save-evidence", bundle)...)
	if r.code != ExitFindings {
		t.Fatalf("exit %d (%v): %s", r.code, r.err, r.stderr)
	}
	for _, p := range []string{out, bundle} {
		st, _ := os.Lstat(p)
		if st.Mode().Type() != fs.ModeDevice|fs.ModeCharDevice || st.Mode().Perm() != 0o666 {
			t.Errorf("%s is now %v, want the 0666 character device", p, st.Mode())
		}
		noTemporaries(t, filepath.Dir(p))
	}
}

// TestOutputToFIFOReachesItsReader: the reader of a named pipe gets the
// whole run, and the pipe stays a pipe.
func TestOutputToFIFOReachesItsReader(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- b
	}()
	r := runCLI(t, nil, append(demoScan, "-f", "json", "-o", fifo)...)
	if fileType(t, fifo) != fs.ModeNamedPipe {
		t.Fatalf("%s is now %v, want the named pipe (exit %d, %v)", fifo, fileType(t, fifo), r.code, r.err)
	}
	// A reader still waiting (nothing was written) is released with EOF.
	if w, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
		w.Close()
	}
	run := decodeRun(t, string(<-got))
	if r.code != ExitFindings || len(run.Findings) == 0 {
		t.Errorf("exit %d (%v), %d findings through the pipe", r.code, r.err, len(run.Findings))
	}
}

// TestOutputThroughSymlinks: -o, --save-evidence and trail -o through a
// symbolic link write its target; the link stays a link.
func TestOutputThroughSymlinks(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	link := func(name string) (string, string) {
		target := filepath.Join(elsewhere, name)
		os.WriteFile(target, []byte("previous"), 0o600)
		l := filepath.Join(dir, name+".link")
		if err := os.Symlink(target, l); err != nil {
			t.Fatal(err)
		}
		return l, target
	}
	outLink, outTarget := link("run.json")
	bundleLink, bundleTarget := link("bundle.json.gz")
	trailLink, trailTarget := link("trail.json")
	if r := runCLI(t, nil, append(demoScan, "-f", "json", "-o", outLink, "--save-evidence", bundleLink)...); r.code != ExitFindings {
		t.Fatalf("scan: exit %d (%v)", r.code, r.err)
	}
	if r := runCLI(t, nil, "trail", repoPath("testdata", "cloudtrail", "root-events.records.json"), "-f", "json", "-o", trailLink); r.code != ExitOK {
		t.Fatalf("trail: exit %d (%v)", r.code, r.err)
	}
	for _, l := range []string{outLink, bundleLink, trailLink} {
		if fileType(t, l) != fs.ModeSymlink {
			t.Errorf("%s is now %v, want the symbolic link", l, fileType(t, l))
		}
	}
	decodeRun(t, string(mustRead(t, outTarget)))
	if _, err := bundle.Load(bundleTarget); err != nil {
		t.Errorf("the link's target is not the bundle: %v", err)
	}
	if !strings.Contains(string(mustRead(t, trailTarget)), `"events"`) {
		t.Errorf("trail -o through a link: %.200s", mustRead(t, trailTarget))
	}
	noTemporaries(t, dir, elsewhere)
}

// TestOutputToStandardStreams: -o /dev/stdout is standard output (not a
// file renamed over the link), /dev/fd/N the descriptor the caller
// passed; two outputs to standard output are refused.
func TestOutputToStandardStreams(t *testing.T) {
	r := runCLI(t, nil, append(demoScan, "-f", "json", "-o", "/dev/stdout")...)
	if r.code != ExitFindings {
		t.Fatalf("exit %d (%v)", r.code, r.err)
	}
	decodeRun(t, r.stdout)
	if fileType(t, "/dev/stdout") != fs.ModeSymlink {
		t.Errorf("/dev/stdout is now %v", fileType(t, "/dev/stdout"))
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	got := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(pr); got <- b }()
	r = runCLI(t, nil, "trail", repoPath("testdata", "cloudtrail", "root-events.records.json"), "-f", "json", "-o", "/dev/fd/"+strconv.Itoa(int(pw.Fd())))
	pw.Close()
	if b := <-got; r.code != ExitOK || !strings.Contains(string(b), `"events"`) {
		t.Errorf("trail -o /dev/fd/N: exit %d (%v), the pipe got %.100q", r.code, r.err, b)
	}
	r = runCLI(t, nil, append(demoScan, "-f", "json", "-o", "-", "-f", "csv", "-o", "/dev/stdout")...)
	if r.code != ExitUsage || !strings.Contains(r.err.Error(), "both write to standard output") {
		t.Errorf("two outputs to standard output: exit %d (%v)", r.code, r.err)
	}
}

// TestBadOutputRefusedBeforeCollection: an output that cannot be written
// is a usage error naming the flag and the path, before any AWS
// configuration is loaded, and the earlier output stays as it was.
func TestBadOutputRefusedBeforeCollection(t *testing.T) {
	dir := t.TempDir()
	prev := filepath.Join(dir, "prev.json")
	os.WriteFile(prev, []byte("previous run"), 0o600)
	missing := filepath.Join(dir, "no-such-dir", "x.csv")
	for name, args := range map[string][]string{
		"missing directory":       {"-f", "json", "-o", prev, "-f", "csv", "-o", missing},
		"output dir under a file": {"-f", "json", "-f", "csv", "--output-dir", filepath.Join(prev, "out")},
		"bundle directory":        {"-f", "json", "-o", prev, "--save-evidence", filepath.Join(dir, "no-such-dir", "b.json")},
		"output is a directory":   {"-f", "json", "-o", prev, "-f", "csv", "-o", dir},
		"output over the store":   {"--store", "sqlite:" + filepath.Join(dir, "h.db"), "-f", "json", "-o", filepath.Join(dir, ".", "h.db")},
	} {
		fake := liveFake(t)
		r := fake.run(t, append([]string{"scan"}, args...)...)
		if r.code != ExitUsage || r.err == nil {
			t.Errorf("%s: exit %d (%v), want 2", name, r.code, r.err)
			continue
		}
		if msg := r.err.Error(); !strings.Contains(msg, "--output") && !strings.Contains(msg, "--save-evidence") {
			t.Errorf("%s: the error names no flag: %v", name, msg)
		}
		if n := fake.loads.Load(); n != 0 {
			t.Errorf("%s: %d AWS configurations loaded before the refusal", name, n)
		}
		if got := string(mustRead(t, prev)); got != "previous run" {
			t.Errorf("%s: prev.json now holds %.40q", name, got)
		}
	}
	r := liveFake(t).run(t, "scan", "-f", "json", "-o", prev, "-f", "csv", "-o", missing)
	if want := "--output " + missing + ": directory " + filepath.Dir(missing) + " does not exist"; r.err == nil || !strings.Contains(r.err.Error(), want) {
		t.Errorf("error %v, want %q", r.err, want)
	}
	noTemporaries(t, dir)
}

// TestFailedRunChangesNothing: when an output fails after collection
// (a device that is full), the earlier outputs and the bundle stay as
// they were, byte for byte, and no temporary file is left.
func TestFailedRunChangesNothing(t *testing.T) {
	full := "/dev/full"
	if os.Geteuid() == 0 {
		full = mknodChar(t, "full", 7) // never /dev/full itself as root
	}
	dir := t.TempDir()
	prev, prevCSV, prevBundle := filepath.Join(dir, "prev.json"), filepath.Join(dir, "prev.csv"), filepath.Join(dir, "bundle.json")
	for _, p := range []string{prev, prevCSV, prevBundle} {
		os.WriteFile(p, []byte("previous "+filepath.Base(p)), 0o600)
	}
	fake := liveFake(t)
	r := fake.run(t, "scan", "-f", "json", "-o", prev, "-f", "csv", "-o", prevCSV, "-f", "html", "-o", full, "--save-evidence", prevBundle)
	if r.code == ExitOK || r.err == nil || !strings.Contains(r.err.Error(), "no space left on device") || !strings.Contains(r.err.Error(), "no file was changed") {
		t.Errorf("exit %d (%v), want the full device named", r.code, r.err)
	}
	if fake.loads.Load() == 0 {
		t.Error("nothing was collected: the test does not test a failure after collection")
	}
	for _, p := range []string{prev, prevCSV, prevBundle} {
		if got := string(mustRead(t, p)); got != "previous "+filepath.Base(p) {
			t.Errorf("%s now holds %.40q", p, got)
		}
	}
	if strings.Contains(r.stderr, "evidence bundle saved") {
		t.Errorf("stderr says the bundle was saved: %s", r.stderr)
	}
	noTemporaries(t, dir)

	// --output-dir made for the run is gone again.
	outDir := filepath.Join(dir, "reports", "today")
	r = fake.run(t, "scan", "-f", "json", "-f", "csv", "--output-dir", outDir, "--save-evidence", full)
	if r.err == nil {
		t.Fatal("a bundle on a full device did not fail the run")
	}
	if _, err := os.Stat(filepath.Join(dir, "reports")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the output directory made for a failed run stayed: %v", err)
	}
}

// TestOutputInsideCloudTrailDirectoryRefused: a report written into a
// --cloudtrail directory would be read as CloudTrail by the next run:
// refused however either path is spelled, for every kind of output.
func TestOutputInsideCloudTrailDirectoryRefused(t *testing.T) {
	base := t.TempDir()
	ct := filepath.Join(base, "logs")
	os.MkdirAll(filepath.Join(ct, "sub"), 0o700)
	os.WriteFile(filepath.Join(ct, "events.json"), mustRead(t, repoPath("testdata", "cloudtrail", "root-events.records.json")), 0o600)
	ctLink := filepath.Join(base, "logs-link")
	if err := os.Symlink(ct, ctLink); err != nil {
		t.Fatal(err)
	}
	report, _ := filepath.Abs(fixture("prod-root-recent.csv"))
	t.Chdir(base)
	scan := []string{"scan", "--credential-report", report, "--as-of", "2026-03-01T00:00:00Z"}
	for name, args := range map[string][]string{
		"absolute":             {"--cloudtrail", ct, "-f", "json", "-o", filepath.Join(ct, "out.json")},
		"relative, deeper":     {"--cloudtrail", ct, "-f", "json", "-o", "logs/sub/out.json"},
		"dot-dot":              {"--cloudtrail", "./logs/", "-f", "json", "-o", "logs/sub/../out.json"},
		"input through a link": {"--cloudtrail", ctLink, "-f", "json", "-o", "logs/out.json"},
		"output through link":  {"--cloudtrail", "logs", "-f", "json", "-o", filepath.Join(ctLink, "out.json")},
		"output-dir":           {"--cloudtrail", ct, "-f", "json", "--output-dir", "logs/reports"},
		"evidence bundle":      {"--cloudtrail", ct, "--save-evidence", "logs/b.json.gz"},
	} {
		r := runCLI(t, nil, append(scan, args...)...)
		if r.code != ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), "is inside --cloudtrail") {
			t.Errorf("%s: exit %d (%v), want 2 naming the --cloudtrail directory", name, r.code, r.err)
		}
	}
	r := runCLI(t, nil, "trail", "logs", "-f", "json", "-o", "logs/timeline.json")
	if r.code != ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), "is inside PATH logs") {
		t.Errorf("trail: exit %d (%v)", r.code, r.err)
	}
	entries, _ := os.ReadDir(ct)
	if len(entries) != 2 {
		t.Errorf("the CloudTrail directory now holds %d entries, want its 2", len(entries))
	}
	// Beside it is fine.
	if r := runCLI(t, nil, append(scan, "--cloudtrail", ct, "-f", "json", "-o", "logs.json")...); r.code == ExitUsage {
		t.Errorf("an output beside the CloudTrail directory: %v", r.err)
	}
}

// TestDocsOutAllOrNothing: docs --out writes through a linked page and
// writes no page when one of them cannot be written.
func TestDocsOutAllOrNothing(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(elsewhere, "index.md")
	os.WriteFile(target, []byte("old"), 0o644)
	if err := os.Symlink(target, filepath.Join(dir, "index.md")); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, nil, "docs", "--out", dir); r.code != ExitOK {
		t.Fatalf("docs: exit %d (%v)", r.code, r.err)
	}
	if fileType(t, filepath.Join(dir, "index.md")) != fs.ModeSymlink || !strings.Contains(string(mustRead(t, target)), "# rootwatch rules") {
		t.Error("the linked index was replaced or not written")
	}
	st, _ := os.Stat(filepath.Join(dir, "iam-root-access-key-active.md"))
	if st == nil || st.Mode().Perm() != 0o644 {
		t.Errorf("a page: %v, want a 0644 file", st)
	}

	blocked := t.TempDir()
	os.Mkdir(filepath.Join(blocked, "index.md"), 0o700) // a page that cannot be written
	r := runCLI(t, nil, "docs", "--out", blocked)
	if r.code != ExitUsage || !strings.Contains(r.err.Error(), "--out "+filepath.Join(blocked, "index.md")+": is a directory") {
		t.Errorf("docs into a blocked page: exit %d (%v)", r.code, r.err)
	}
	if entries, _ := os.ReadDir(blocked); len(entries) != 1 {
		t.Errorf("%d entries written beside the blocked page, want none", len(entries)-1)
	}
	made := filepath.Join(t.TempDir(), "new", "rules")
	if r := runCLI(t, nil, "docs", "--out", made); r.code != ExitOK {
		t.Errorf("docs into a new directory: exit %d (%v)", r.code, r.err)
	}
}

// TestRemediateFilesCheckedFirst: remediate plan -o writes through a link;
// a plan -o or apply --summary that cannot be written is refused before
// any AWS call, so apply deletes nothing.
func TestRemediateFilesCheckedFirst(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 3, Seed: 5, Features: []string{evidence.FeatureRootCredentialsManagement}})
	for _, a := range w.Accounts[1:] {
		a.Report = awsfake.ReportSpec{Existing: "1h"}
		a.Root.PasswordEnabled, a.Root.PasswordLastUsed, a.Root.NoPassword = "", "-20d", false
	}
	fake := newFakeAWS(t, w, awsfake.GenManagementKey, time.Now)
	dir, elsewhere := t.TempDir(), t.TempDir()
	planTarget, planLink := filepath.Join(elsewhere, "plan.json"), filepath.Join(dir, "plan.json")
	os.Symlink(planTarget, planLink)

	r := fake.run(t, "remediate", "plan", "--org", "-o", filepath.Join(dir, "no-such-dir", "plan.json"))
	if r.code != ExitUsage || !strings.Contains(r.err.Error(), "no-such-dir does not exist") || fake.loads.Load() != 0 {
		t.Errorf("plan -o into a missing directory: exit %d (%v), %d AWS configurations loaded", r.code, r.err, fake.loads.Load())
	}
	if r := fake.run(t, "remediate", "plan", "--org", "-o", planLink); r.code != ExitOK {
		t.Fatalf("plan: exit %d (%v)", r.code, r.err)
	}
	if fileType(t, planLink) != fs.ModeSymlink || !strings.Contains(string(mustRead(t, planTarget)), `"digest"`) {
		t.Fatal("plan -o through a link: the link was replaced or its target not written")
	}
	loads := fake.loads.Load()
	for name, files := range map[string][]string{
		"summary in a missing directory": {"--summary", filepath.Join(dir, "no-such-dir", "s.md")},
		"summary over the plan":          {"--summary", planTarget},
		"log into the plan":              {"--log", planLink},
	} {
		r := fake.run(t, append([]string{"remediate", "apply", planLink, "--yes"}, files...)...)
		if r.code != ExitUsage || !strings.Contains(r.err.Error(), files[0]) {
			t.Errorf("%s: exit %d (%v)", name, r.code, r.err)
		}
	}
	if n := fake.loads.Load(); n != loads {
		t.Errorf("%d AWS configurations loaded by refused applies", n-loads)
	}
	for _, a := range w.Accounts[1:] {
		if n := fake.srv.Calls(a.ID, "DeleteLoginProfile"); n != 0 {
			t.Errorf("account %s: %d DeleteLoginProfile calls", a.ID, n)
		}
	}
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withoutGeneratedAt drops the one line that says when a run was written.
func withoutGeneratedAt(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, `"generated_at"`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestEvidenceBundleReplaysIdentically: --save-evidence stages the bundle
// with the outputs (owner-only) and says where it went; --evidence judges
// it again to the same output and exit code. Files, a config and a window
// here; every kind of source in scan's tests.
func TestEvidenceBundleReplaysIdentically(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("rules:\n  iam-root-failed-logins:\n    threshold: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".json", ".json.gz"} {
		bundle, first, again := filepath.Join(dir, "b"+ext), filepath.Join(dir, "first.json"), filepath.Join(dir, "again.json")
		r := runCLI(t, nil, "scan", "--credential-report", fixture("invalid-cells.csv"), "--credential-report", fixture("prod-root-recent.cli.json"),
			"--cloudtrail", repoPath("testdata", "cloudtrail"), "--config", cfg, "--window", "400d",
			"--as-of", "2026-03-01T00:00:00Z", "--save-evidence", bundle, "-f", "json", "-o", first)
		if r.code == ExitUsage {
			t.Fatalf("scan: %v\n%s", r.err, r.stderr)
		}
		if !strings.Contains(r.stderr, "saved to "+bundle) {
			t.Errorf("no notice of the saved bundle: %q", r.stderr)
		}
		st, err := os.Stat(bundle)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("bundle mode %v, want 0600", st.Mode().Perm())
		}
		r2 := runCLI(t, nil, "scan", "--evidence", bundle, "-f", "json", "-o", again)
		if r2.code != r.code {
			t.Errorf("exit %d offline, %d when collected (%v)", r2.code, r.code, r2.err)
		}
		a, b := withoutGeneratedAt(string(mustRead(t, first))), withoutGeneratedAt(string(mustRead(t, again)))
		if a != b {
			t.Errorf("%s: offline run differs from the collected one\n--- collected\n%s\n--- offline\n%s", ext, a, b)
		}
	}
}

func TestEvidenceBundleFlags(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "b.json")
	if r := runCLI(t, nil, "scan", "--credential-report", fixture("prod-root-recent.csv"), "--as-of", "2026-03-01T00:00:00Z", "--save-evidence", bundle); r.code == ExitUsage {
		t.Fatal(r.err)
	}
	// --as-of and --window still apply to a bundle, over what it recorded.
	first := runCLI(t, nil, "scan", "--evidence", bundle, "-f", "json")
	if !strings.Contains(first.stderr, "evidence bundle "+bundle+": 1 account, collected by rootwatch test at") {
		t.Errorf("no notice of what the bundle holds: %q", first.stderr)
	}
	later := runCLI(t, nil, "scan", "--evidence", bundle, "--as-of", "2027-03-01T00:00:00Z", "-f", "json")
	if !strings.Contains(first.stdout, `"as_of": "2026-03-01T00:00:00Z"`) || !strings.Contains(later.stdout, `"as_of": "2027-03-01T00:00:00Z"`) {
		t.Errorf("as-of not taken from the bundle, or not overridden:\n%.300s\n%.300s", first.stdout, later.stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--evidence", bundle, "--demo"}, "cannot be combined"},
		{[]string{"--evidence", bundle, "--cloudtrail", repoPath("testdata", "cloudtrail")}, "already holds the CloudTrail evidence"},
		{[]string{"--evidence", fixture("prod-root-recent.csv")}, "prod-root-recent.csv: not a rootwatch evidence bundle"},
		{[]string{"--evidence", filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{"--demo", "--save-evidence", filepath.Join(dir, "no", "b.json")}, "directory " + filepath.Join(dir, "no") + " does not exist"},
	} {
		r := runCLI(t, nil, append([]string{"scan"}, tc.args...)...)
		if r.code != ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("%v: exit %d, err %v; want exit 2 with %q", tc.args, r.code, r.err, tc.want)
		}
	}
}

package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
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

// TestEvidenceBundleReplaysIdentically saves the evidence of scans from
// every kind of source and evaluates each bundle again offline: the JSON
// run must be the same, byte for byte, but for its generation time.
func TestEvidenceBundleReplaysIdentically(t *testing.T) {
	cases := map[string]func(t *testing.T, bundle, out string) result{
		// The demo: an organization through --org (AssumeRole, AssumeRoot
		// audits), LookupEvents CloudTrail, a suppression from its config.
		"demo": func(t *testing.T, bundle, out string) result {
			return runCLI(t, nil, "scan", "--demo", "--as-of", "2026-03-01T00:00:00Z", "--save-evidence", bundle, "-f", "json", "-o", out)
		},
		// Files: a messy report, CloudTrail log files, a config and a window.
		"files": func(t *testing.T, bundle, out string) result {
			cfg := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(cfg, []byte("rules:\n  iam-root-failed-logins:\n    threshold: 1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return runCLI(t, nil, "scan", "--credential-report", fixture("invalid-cells.csv"), "--credential-report", fixture("prod-root-recent.cli.json"),
				"--cloudtrail", repoPath("testdata", "cloudtrail"), "--config", cfg, "--window", "400d",
				"--as-of", "2026-03-01T00:00:00Z", "--save-evidence", bundle, "-f", "json", "-o", out)
		},
		// Live, with attacker-influenced text and a denied call.
		"live hostile": func(t *testing.T, bundle, out string) result {
			return runLive(t, hostileWorld, "scan", "--save-evidence", bundle, "-f", "json", "-o", out)
		},
		"live denied": func(t *testing.T, bundle, out string) result {
			return runLive(t, liveWorld("{existing: 1h}", "[{op: GetAccountSummary, code: AccessDenied, status: 403}]"), "scan", "--save-evidence", bundle, "-f", "json", "-o", out)
		},
	}
	for name, scan := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, ext := range []string{".json", ".json.gz"} {
				bundle, first, again := filepath.Join(dir, "b"+ext), filepath.Join(dir, "first.json"), filepath.Join(dir, "again.json")
				r := scan(t, bundle, first)
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
		})
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

// TestHandEditedBundlesAreRefused edits bundles that real scans saved, as a
// person would by hand, removing evidence but leaving the counts that were
// derived from it: each is refused (exit 2) with the file, the account and
// the field named, saying the counts disagree. Removing the root events of
// the files bundle used to be accepted, and its sign-in rules passed.
func TestHandEditedBundlesAreRefused(t *testing.T) {
	dir := t.TempDir()
	save := func(name string, r result) map[string]any {
		t.Helper()
		if r.code == ExitUsage {
			t.Fatalf("%s: %v\n%s", name, r.err, r.stderr)
		}
		var b map[string]any
		if err := json.Unmarshal(mustRead(t, filepath.Join(dir, name)), &b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Attached CloudTrail files, and a credential report file.
	files := save("files.json", runCLI(t, nil, "scan", "--credential-report", fixture("quiet-report-busy-trail.csv"), "--cloudtrail", repoPath("testdata", "cloudtrail"),
		"--as-of", "2026-03-01T00:00:00Z", "--save-evidence", filepath.Join(dir, "files.json"), "-o", os.DevNull))
	// The demo: LookupEvents, monitoring, a live credential report.
	demo := save("demo.json", runCLI(t, nil, "scan", "--demo", "--as-of", "2026-03-01T00:00:00Z", "--save-evidence", filepath.Join(dir, "demo.json"), "-o", os.DevNull))
	// An organization with centralized root access: AssumeRoot audits.
	org := save("org.json", runLive(t, strings.Replace(orgWorld, "AKIAORGMANAGEMENT001", "AKIALIVE000000000001", 1),
		"scan", "--org", "--accounts", "900000000002", "--save-evidence", filepath.Join(dir, "org.json"), "-o", os.DevNull))

	account := func(b map[string]any, id string) (int, map[string]any) {
		for i, a := range b["accounts"].([]any) {
			if a := a.(map[string]any); a["account_id"] == id {
				return i, a
			}
		}
		t.Fatalf("no account %s in the bundle", id)
		return 0, nil
	}
	dropCSVLine := func(a map[string]any) {
		raw, _ := base64.StdEncoding.DecodeString(a["credential_report"].(map[string]any)["csv"].(string))
		lines := strings.Split(strings.TrimRight(string(raw), "\r\n"), "\n")
		a["credential_report"].(map[string]any)["csv"] = base64.StdEncoding.EncodeToString([]byte(strings.Join(lines[:len(lines)-1], "\n") + "\n"))
	}
	for _, tc := range []struct {
		name    string
		bundle  map[string]any
		account string
		edit    func(a map[string]any)
		want    string
	}{
		{"root events removed, counts left", files, "111122223333", func(a map[string]any) { a["cloudtrail"].(map[string]any)["events"] = []any{} },
			"cloudtrail.events: the counts disagree: sources.cloudtrail.detail says 13 root events but cloudtrail.events holds 0"},
		{"events of the account recounted", files, "111122223333", func(a map[string]any) { a["cloudtrail"].(map[string]any)["account_events"] = 5000 },
			"cloudtrail.account_events: the counts disagree: sources.cloudtrail.detail says 13 events but cloudtrail.account_events holds 5000"},
		{"coverage widened", files, "111122223333", func(a map[string]any) { a["cloudtrail"].(map[string]any)["from"] = "2025-01-01T00:00:00Z" },
			"cloudtrail.from: the coverage bounds disagree"},
		{"coverage narrowed under the events", files, "111122223333", func(a map[string]any) { a["cloudtrail"].(map[string]any)["to"] = "2026-02-20T00:00:00Z" },
			"cloudtrail.events[1].event_time: the coverage and the events disagree: event c0000001-0000-4000-8000-000000000001 at 2026-02-27T09:15:00Z lies outside"},
		{"problems removed", files, "111122223333", func(a map[string]any) {
			st := a["sources"].(map[string]any)["cloudtrail"].(map[string]any)
			st["detail"] = st["detail"].(string) + "; 1 source with problems: x.json: truncated"
		}, "cloudtrail.problems: the counts disagree: sources.cloudtrail.detail says 1 problem source but cloudtrail.problems holds 0"},
		{"an event filed under another account", files, "111122223333", func(a map[string]any) {
			a["cloudtrail"].(map[string]any)["events"].([]any)[0].(map[string]any)["account_id"] = "999988887777"
		}, "cloudtrail.events[0].account_id: event"},
		{"LookupEvents root event removed", demo, "111111111111", func(a map[string]any) {
			ct := a["cloudtrail"].(map[string]any)
			ct["events"] = ct["events"].([]any)[1:]
		}, "cloudtrail.events: the counts disagree: sources.cloudtrail.detail says 8 root events but cloudtrail.events holds 7"},
		{"credential report row removed", demo, "111111111111", dropCSVLine,
			"credential_report.csv: the counts disagree: sources.credential_report.detail says 3 rows but credential_report.csv holds 2"},
		{"enabled region removed", demo, "111111111111", func(a map[string]any) {
			m := a["monitoring"].(map[string]any)
			m["regions"] = m["regions"].([]any)[1:]
		}, "monitoring.regions: the counts disagree: sources.regions.detail says 3 enabled regions but monitoring.regions holds 2"},
		{"event bus removed", demo, "111111111111", func(a map[string]any) {
			m := a["monitoring"].(map[string]any)
			m["event_buses"] = m["event_buses"].([]any)[1:]
		}, "monitoring.event_buses: the regions disagree"},
		{"virtual MFA device removed", demo, "111111111111", func(a map[string]any) { a["virtual_mfa_devices"] = a["virtual_mfa_devices"].([]any)[1:] },
			"virtual_mfa_devices: the counts disagree: sources.virtual_mfa_devices.detail says 2 assigned devices but virtual_mfa_devices holds 1"},
		{"root access key removed", org, "900000000002", func(a map[string]any) { a["root_credentials"].(map[string]any)["access_keys"] = []any{} },
			"root_credentials.access_keys: the counts disagree: sources.root_credentials.detail says 1 access key but root_credentials.access_keys holds 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b map[string]any
			raw, _ := json.Marshal(tc.bundle)
			if err := json.Unmarshal(raw, &b); err != nil {
				t.Fatal(err)
			}
			i, a := account(b, tc.account)
			tc.edit(a)
			path := filepath.Join(t.TempDir(), "edited.json")
			raw, _ = json.Marshal(b)
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, nil, "scan", "--evidence", path, "-f", "json")
			where := fmt.Sprintf("%s: accounts[%d] (%s): ", path, i, tc.account)
			if r.code != ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), where+tc.want) {
				t.Errorf("exit %d, err %v\nwant exit 2 with %q", r.code, r.err, where+tc.want)
			}
		})
	}
	// The bundles as saved load.
	for _, name := range []string{"files.json", "demo.json", "org.json"} {
		if r := runCLI(t, nil, "scan", "--evidence", filepath.Join(dir, name), "-o", os.DevNull); r.code == ExitUsage {
			t.Errorf("%s as saved: %v", name, r.err)
		}
	}
}

package scan

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/config"
	"github.com/rootwatch/rootwatch/internal/window"
)

// TestEvidenceBundleReplaysIdentically saves the evidence of scans from
// every kind of source and judges each bundle again offline: the run must
// be the same, byte for byte, in JSON.
func TestEvidenceBundleReplaysIdentically(t *testing.T) {
	cases := map[string]func(t *testing.T) Options{
		// The demo: an organization (AssumeRole, AssumeRoot audits),
		// LookupEvents CloudTrail, a suppression from its config.
		"demo": func(*testing.T) Options { return Options{Demo: true, AsOf: asOf, Now: clock, Version: "test"} },
		// Files: a messy report, CloudTrail log files, a config and a window.
		"files": func(*testing.T) Options {
			return Options{Reports: &Reports{Paths: []string{fixture("invalid-cells.csv"), fixture("prod-root-recent.cli.json")}},
				CloudTrail:  []string{repoPath("testdata", "cloudtrail")},
				ConfigFiles: []config.NamedFile{{Name: "c.yaml", Data: []byte("rules:\n  iam-root-failed-logins:\n    threshold: 1\n")}},
				Window:      window.Window(400 * 24 * time.Hour), AsOf: asOf, Now: clock, Version: "test"}
		},
		// Live, with attacker-influenced text and a denied call.
		"live hostile": func(t *testing.T) Options { return fakeLive(t, world(t, "hostile.yaml")) },
		"live denied": func(t *testing.T) Options {
			return fakeLive(t, liveWorld(t, "{existing: 1h}", "[{op: GetAccountSummary, code: AccessDenied, status: 403}]"))
		},
	}
	for name, collect := range cases {
		t.Run(name, func(t *testing.T) {
			for _, ext := range []string{".json", ".json.gz"} {
				o := collect(t)
				o.SaveEvidence = filepath.Join(t.TempDir(), "b"+ext)
				var notices []string
				o.Notice = func(s string) { notices = append(notices, s) }
				first := run(t, o)
				if !strings.Contains(strings.Join(notices, "\n"), "evidence bundle saved to "+o.SaveEvidence) {
					t.Errorf("no notice of the saved bundle: %q", notices)
				}
				st, err := os.Stat(o.SaveEvidence)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != 0o600 {
					t.Errorf("bundle mode %v, want 0600", st.Mode().Perm())
				}
				again := run(t, Options{Bundle: o.SaveEvidence, Now: clock, Version: "test"})
				if a, b := runJSON(t, first), runJSON(t, again); a != b {
					t.Errorf("%s: offline run differs from the collected one\n--- collected\n%s\n--- offline\n%s", ext, a, b)
				}
			}
		})
	}
}

// TestHandEditedBundlesAreRefused edits bundles that real scans saved, as a
// person would by hand, removing evidence but leaving the counts that were
// derived from it: each is refused with the file, the account and the
// field named, saying the counts disagree. Removing the root events of the
// files bundle used to be accepted, and its sign-in rules passed.
func TestHandEditedBundlesAreRefused(t *testing.T) {
	dir := t.TempDir()
	save := func(name string, o Options) map[string]any {
		t.Helper()
		o.SaveEvidence, o.Now = filepath.Join(dir, name), clock
		run(t, o)
		data, err := os.ReadFile(o.SaveEvidence)
		if err != nil {
			t.Fatal(err)
		}
		var b map[string]any
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Attached CloudTrail files, and a credential report file.
	files := save("files.json", Options{Reports: &Reports{Paths: []string{fixture("quiet-report-busy-trail.csv")}}, CloudTrail: []string{repoPath("testdata", "cloudtrail")}, AsOf: asOf})
	// The demo: LookupEvents, monitoring, a live credential report.
	demo := save("demo.json", Options{Demo: true, AsOf: asOf})
	// An organization with centralized root access: AssumeRoot audits.
	org := save("org.json", Options{Org: &Org{Include: []string{"900000000002"}}, AWS: fakeAWS(t, world(t, "org.yaml"), "AKIAORGMANAGEMENT001")})

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
			_, err := Run(context.Background(), Options{Bundle: path, Now: clock})
			where := fmt.Sprintf("%s: accounts[%d] (%s): ", path, i, tc.account)
			if err == nil || !strings.Contains(err.Error(), where+tc.want) {
				t.Errorf("err %v\nwant %q", err, where+tc.want)
			}
		})
	}
	// The bundles as saved load.
	for _, name := range []string{"files.json", "demo.json", "org.json"} {
		if _, err := Run(context.Background(), Options{Bundle: filepath.Join(dir, name), Now: clock}); err != nil {
			t.Errorf("%s as saved: %v", name, err)
		}
	}
}

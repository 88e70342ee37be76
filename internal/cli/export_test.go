package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/store"
)

// sameFile fails unless two files hold the same bytes.
func sameFile(t *testing.T, got, want string) {
	t.Helper()
	g, w := mustRead(t, got), mustRead(t, want)
	if !bytes.Equal(g, w) {
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		t.Errorf("%s differs from %s at byte %d of %d/%d:\n got …%s…\nwant …%s…", got, want, i, len(g), len(w),
			g[max(0, i-100):min(len(g), i+100)], w[max(0, i-100):min(len(w), i+100)])
	}
}

// TestRunsExportIsTheScansJSON: what 'runs export' writes of a stored run
// is, byte for byte, what the scan that stored it wrote with -f json: the
// demo (a baseline, then the next day's run), a generated organization
// with failures, unknowns, errors, suppressions (one expired) and a
// disabled rule, and a run 'runs import' stored.
func TestRunsExportIsTheScansJSON(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rw.db")
	export := func(t *testing.T, store, run, out string) {
		t.Helper()
		if r := runCLI(t, nil, "runs", "export", run, "--store", store, "-o", out); r.code != ExitOK {
			t.Fatalf("runs export %s: exit %d (%v) %s", run, r.code, r.err, r.stderr)
		}
	}
	t.Run("demo", func(t *testing.T) {
		for i, asOf := range []string{"2026-03-01T00:00:00Z", "2026-03-02T00:07:00Z"} {
			scanned := filepath.Join(dir, "demo.json")
			r := runCLI(t, nil, "scan", "--demo", "--as-of", asOf, "-f", "json", "-o", scanned, "--store", db)
			if r.code != ExitFindings {
				t.Fatalf("demo scan: exit %d (%v) %s", r.code, r.err, r.stderr)
			}
			exported := filepath.Join(dir, "demo-export.json")
			export(t, db, []string{"1", "2"}[i], exported)
			sameFile(t, exported, scanned)
		}
	})

	t.Run("organization", func(t *testing.T) {
		w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 12, Seed: 4, DenyRate: 0.2, Features: []string{evidence.FeatureRootCredentialsManagement}})
		fake := newFakeAWS(t, w, awsfake.GenManagementKey, func() time.Time { return testNow })
		cfg := filepath.Join(dir, "rootwatch.yaml")
		os.WriteFile(cfg, []byte(`rules:
  iam-root-signing-cert-active:
    enabled: false
suppressions:
  - rule: account-root-activity-unalerted
    account: "100000000003"
    reason: a <b>sandbox</b> whose alerts go elsewhere
    expires: 2027-01-01
  - rule: account-root-activity-unalerted
    account: "100000000004"
    reason: expired on purpose
    expires: 2026-01-01
`), 0o600)
		orgDB, scanned := filepath.Join(dir, "org.db"), filepath.Join(dir, "org.json")
		r := fake.run(t, "scan", "--org", "--config", cfg, "-f", "json", "-o", scanned, "--store", orgDB)
		if r.code != ExitFindings {
			t.Fatalf("org scan: exit %d (%v) %s", r.code, r.err, r.stderr)
		}
		run := decodeRun(t, string(mustRead(t, scanned)))
		if run.Summary.Fail == 0 || run.Summary.Unknown+run.Summary.Error == 0 || run.Summary.Suppressed != 1 || len(run.DisabledRules) != 1 {
			t.Fatalf("the organization does not have what the test needs: %+v, disabled %v", run.Summary, run.DisabledRules)
		}
		exported := filepath.Join(dir, "org-export.json")
		export(t, orgDB, "1", exported)
		sameFile(t, exported, scanned)

		// A run imported into another store (a baseline there too).
		other := filepath.Join(dir, "other.db")
		if r := runCLI(t, nil, "runs", "import", scanned, "--store", other); r.code != ExitOK {
			t.Fatalf("runs import: exit %d (%v)", r.code, r.err)
		}
		export(t, other, "1", exported)
		sameFile(t, exported, scanned)
		// To standard output, the same.
		if r := runCLI(t, nil, "runs", "export", "1", "--store", other); r.code != ExitOK || r.stdout != string(mustRead(t, scanned)) {
			t.Errorf("runs export to standard output: exit %d (%v), %d bytes", r.code, r.err, len(r.stdout))
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"runs", "export", "99", "--store", db}, "no such run"},
			{[]string{"runs", "export", "one", "--store", db}, `RUN "one" is not a run number`},
			{[]string{"runs", "export", "1", "--store", db, "-o", db}, "name the same file"},
			{[]string{"runs", "export", "1", "--store", filepath.Join(dir, "typo.db")}, "no store at"},
		} {
			out := filepath.Join(dir, "refused.json")
			if !slicesHas(c.args, "-o") {
				c.args = append(c.args, "-o", out)
			}
			r := runCLI(t, nil, c.args...)
			if r.code != ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), c.want) {
				t.Errorf("%v: exit %d (%v), want %q", c.args, r.code, r.err, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%v wrote %s", c.args, out)
			}
		}
		if st, err := os.Stat(db); err != nil || st.Size() == 0 {
			t.Errorf("the store after the refusals: %v", err)
		}
	})
}

func slicesHas(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestPruneKeepsDeliveriesApart: pruning runs leaves the watch's delivery
// log alone; --keep-deliveries prunes it; prune wants one or the other.
func TestPruneKeepsDeliveriesApart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rw.db")
	if r := runCLI(t, nil, "scan", "--credential-report", reportCSV(t, "N/A"), "--as-of", "2026-02-01T00:00:00Z", "--store", db, "-f", "json"); !strings.Contains(r.stderr, "stored as run 1") {
		t.Fatalf("scan: exit %d (%v) %s", r.code, r.err, r.stderr)
	}
	markDelivered(t, db, "ev-old", testNow.Add(-40*24*time.Hour))
	markDelivered(t, db, "ev-new", testNow.Add(-time.Hour))
	if r := runCLI(t, nil, "prune", "--store", db); r.code != ExitUsage || !strings.Contains(r.err.Error(), "--keep-deliveries") {
		t.Errorf("prune without a window: exit %d (%v)", r.code, r.err)
	}
	if r := runCLI(t, nil, "prune", "--store", db, "--keep", "7d"); !strings.Contains(r.stdout, "deleted 1 run ") || strings.Contains(r.stdout, "deliver") {
		t.Errorf("prune --keep: %q %v", r.stdout, r.err)
	}
	if got := delivered(t, db, "ev-old", "ev-new"); len(got) != 2 {
		t.Errorf("pruning runs forgot deliveries: %v", got)
	}
	if r := runCLI(t, nil, "prune", "--store", db, "--keep-deliveries", "30d"); !strings.Contains(r.stdout, "forgot 1 delivery made before 2026-01-30T12:00:00Z") {
		t.Errorf("prune --keep-deliveries: %q %v", r.stdout, r.err)
	}
	if got := delivered(t, db, "ev-old", "ev-new"); len(got) != 1 || !got["ev-new"] {
		t.Errorf("after --keep-deliveries 30d: %v", got)
	}
	if r := runCLI(t, nil, "prune", "--store", db, "--keep-deliveries", "soon"); r.code != ExitUsage || !strings.Contains(r.err.Error(), "--keep-deliveries") {
		t.Errorf("a bad window: exit %d (%v)", r.code, r.err)
	}
}

func markDelivered(t *testing.T, db, event string, at time.Time) {
	t.Helper()
	d, err := store.OpenDeliveries(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.MarkDelivered(context.Background(), event, "slack #1", at); err != nil {
		t.Fatal(err)
	}
}

func delivered(t *testing.T, db string, events ...string) map[string]bool {
	t.Helper()
	d, err := store.OpenDeliveries(context.Background(), db, store.Options{Existing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out := map[string]bool{}
	for _, e := range events {
		got, err := d.Delivered(context.Background(), e, []string{"slack #1"})
		if err != nil {
			t.Fatal(err)
		}
		if got["slack #1"] {
			out[e] = true
		}
	}
	return out
}

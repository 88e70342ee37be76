package query

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/store"
	"github.com/rootwatch/rootwatch/internal/store/history"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

var start = time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)

const (
	acctMain    = "111111111111" // suppressions: one in force, one that expires
	acctStale   = "222222222222" // not assessed by the last two runs
	acctDropped = "333333333333" // only in the first two runs
	acctNoName  = "444444444444" // named only by later runs
)

var queryRules = []struct {
	id  string
	sev finding.Severity
}{
	{"iam-root-active-password", finding.SeverityCritical},
	{"iam-root-access-key-active", finding.SeverityCritical},
	{"iam-root-no-mfa", finding.SeverityCritical},
	{"iam-root-console-login", finding.SeverityHigh},
	{"future-root-rule", finding.SeverityMedium},
}

// historyRuns are n daily runs of a small organization that exercise
// what a store holds differently from memory: accounts missing from later
// runs or not assessed by them, suppressions in force and expired, a rule
// the configuration turns off from run 3, verdicts that change, evidence
// and messages whose times move with the as-of time (versions written
// with exceptions), and others that stay (versions shared by runs).
func historyRuns(n int) []*finding.Run {
	var runs []*finding.Run
	for i := 1; i <= n; i++ {
		asOf := start.Add(time.Duration(i-1) * 24 * time.Hour)
		run := &finding.Run{SchemaVersion: "1", Tool: finding.Tool{Name: "rootwatch", Version: "test"}, GeneratedAt: asOf.Add(time.Minute), AsOf: asOf,
			Settings: map[string]string{"window": "15d"}, DisabledRules: []finding.DisabledRule{}}
		if i >= 3 {
			run.DisabledRules = []finding.DisabledRule{{RuleID: "iam-root-console-login", Title: "Root console sign-in", Severity: finding.SeverityHigh}}
		}
		ids := []string{acctMain, acctStale, acctNoName}
		if i <= 2 {
			ids = append(ids, acctDropped)
		}
		for k := range 12 {
			ids = append(ids, fmt.Sprintf("9%011d", k))
		}
		for _, id := range ids {
			// The credential report's time moves with the as-of time: each
			// run writes the account's version anew.
			a := finding.Account{AccountID: id, Name: "acct-" + id, OUPath: "Root/Workloads", Partition: "aws", Status: finding.AccountAssessed,
				Sources: []finding.Source{{Name: "credential_report", State: "ok", GeneratedTime: asOf.Format(time.RFC3339)}}, Tags: map[string]string{"env": "prod"}}
			if id == acctNoName && i < 3 {
				a.Name, a.Tags = "", nil
			}
			if id == acctStale && i >= n-1 {
				// Its error names the time; the runs that could not assess
				// it say nothing else of it (no name, OU path or tags): the
				// earlier runs' stand.
				a.Status, a.Error, a.Sources = finding.AccountFailed, "AccessDenied at "+asOf.Format(time.RFC3339)+": role not assumable", []finding.Source{}
				a.Name, a.OUPath, a.Tags = "", "", nil
			}
			run.Accounts = append(run.Accounts, a)
			if a.Status != finding.AccountAssessed {
				continue
			}
			for _, r := range queryRules {
				if i >= 3 && r.id == "iam-root-console-login" {
					continue
				}
				run.Findings = append(run.Findings, queryFinding(i, id, r.id, r.sev, asOf))
			}
		}
		run.Summary = finding.Summarize(run.Findings)
		runs = append(runs, run)
	}
	return runs
}

func queryFinding(i int, acct, rule string, sev finding.Severity, asOf time.Time) finding.Finding {
	res := "arn:aws:iam::" + acct + ":root"
	f := finding.Finding{RuleID: rule, Title: "Title of " + rule, Status: finding.StatusPass, Severity: sev, AccountID: acct, Region: "global",
		Resource: res, Message: "fine", Evidence: map[string]any{"source": "credential_report"}, Fingerprint: finding.Fingerprint(rule, acct, res)}
	k := int(acct[11] - '0')
	switch {
	case rule == "iam-root-access-key-active" && acct == acctMain:
		f.Status, f.Message = finding.StatusSuppressed, "Suppressed (break-glass): the root user has an active access key."
		f.Evidence["suppressed_status"] = "fail"
		f.Evidence["suppression_reason"] = "break-glass"
		f.Evidence["suppression_owner"] = "platform@example.com"
		f.Evidence["suppression_expires"] = "2026-04-15T00:00:00Z"
	case rule == "iam-root-no-mfa" && acct == acctMain:
		if i <= 2 {
			f.Status, f.Message = finding.StatusSuppressed, "Suppressed (temporary): root has no MFA."
			f.Evidence["suppressed_status"] = "fail"
			f.Evidence["suppression_reason"] = "temporary"
			f.Evidence["suppression_expires"] = start.Add(36 * time.Hour).Format(time.RFC3339)
		} else {
			f.Status, f.Message = finding.StatusFail, "Root has no MFA."
			f.Evidence["suppression_reason"] = "temporary"
			f.Evidence["suppression_expired"] = start.Add(36 * time.Hour).Format(time.RFC3339)
		}
	case rule == "iam-root-active-password" && (acct == acctMain || (k+i)%3 == 0):
		// A time that moves with the as-of time, in the message and the
		// evidence: a failure that goes on (acctMain's) is one version
		// each run writes with its own times.
		used := asOf.Add(-50 * time.Hour).Format(time.RFC3339)
		f.Status, f.Message = finding.StatusFail, "The root password was used at "+used+"."
		f.Evidence["password_last_used"] = used
	case rule == "iam-root-console-login" && k%2 == 0:
		f.Status, f.Message = finding.StatusFail, "Root signed in to the console."
	case rule == "future-root-rule":
		f.Status, f.Message = finding.StatusNotApplicable, "Not a management account."
		if acct == acctStale {
			f.Status, f.Message = finding.StatusError, "ListAccounts failed."
		}
	}
	return f
}

// TestStoreSourceAnswersAsMemory: the store-backed source, reading runs
// in parts from SQLite and from PostgreSQL, gives the answers the memory
// source gives over the same runs, whichever question comes first.
func TestStoreSourceAnswersAsMemory(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			var spec string
			if dialect == "sqlite" {
				spec = filepath.Join(t.TempDir(), "rootwatch.db")
			} else {
				spec = freshDatabase(t, testutil.StartPostgres(t))
			}
			runs := historyRuns(6)
			w := recordRuns(t, spec, runs[:5])
			ro, err := store.OpenReadOnly(ctx, spec, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			if _, ok := ro.(store.PartReader); !ok {
				t.Fatal("the store does not read runs in parts")
			}
			src := NewStoreSource(ro)
			// An account page first: the source's first digests come from
			// the parts, before any whole run was read.
			compareSources(t, NewMemory(runs[:5]...), src, true)
			// A run stored while the source serves: read in parts too,
			// sharing what earlier runs hold.
			if _, err := history.Record(ctx, w, runs[5]); err != nil {
				t.Fatal(err)
			}
			compareSources(t, NewMemory(runs...), src, false)
			// The same answers from a source that reads every run whole.
			compareSources(t, NewMemory(runs...), NewStoreSource(wholeOnly{ro}), false)
		})
	}
}

// wholeOnly hides a store's PartReader.
type wholeOnly struct{ store.Store }

// freshDatabase creates a database of its own on a PostgreSQL server.
func freshDatabase(t *testing.T, url string) string {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := fmt.Sprintf("panel_query_%d", time.Now().UnixNano())
	if _, err := db.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(url, "/postgres?", "/"+name+"?", 1)
}

// compareSources asks two sources every question and compares the
// answers (store times aside: a memory run is stored when generated).
func compareSources(t *testing.T, mem, src Source, accountFirst bool) {
	t.Helper()
	ctx := context.Background()
	same := func(what string, x, y any, errX, errY error) {
		t.Helper()
		if errX != nil || errY != nil {
			t.Errorf("%s: %v / %v", what, errX, errY)
			return
		}
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		clean := regexp.MustCompile(`"(stored_at|StoredAt)":"[^"]*"`)
		if sx, sy := clean.ReplaceAllString(string(jx), ""), clean.ReplaceAllString(string(jy), ""); sx != sy {
			t.Errorf("%s differs:\nmemory %s\nstore  %s", what, sx, sy)
		}
	}
	accounts := []string{acctMain, acctStale, acctDropped, acctNoName, "900000000003", "900000000004"}
	if accountFirst {
		va, ea := mem.Account(ctx, acctMain)
		vb, eb := src.Account(ctx, acctMain)
		same("account first", va, vb, ea, eb)
	}
	oa, ea := mem.Overview(ctx)
	ob, eb := src.Overview(ctx)
	same("overview", oa, ob, ea, eb)
	filters := []Filter{{}, {Statuses: []finding.Status{finding.StatusFail}}, {Severities: []finding.Severity{finding.SeverityHigh}},
		{Rule: "iam-root-no-mfa", Statuses: []finding.Status{finding.StatusFail, finding.StatusSuppressed}}, {ChangedSince: 2}, {Stale: true},
		{Account: "env=prod"}, {OU: "root/work"}, {Sort: "failing"}}
	for _, f := range filters {
		for _, p := range []Page{{}, {Offset: 2, Limit: 5}} {
			ma, ea := mem.Matrix(ctx, f, p)
			mb, eb := src.Matrix(ctx, f, p)
			same(fmt.Sprintf("matrix %+v %+v", f, p), ma, mb, ea, eb)
		}
	}
	for _, id := range accounts {
		va, ea := mem.Account(ctx, id)
		vb, eb := src.Account(ctx, id)
		same("account "+id, va, vb, ea, eb)
	}
	for _, r := range queryRules {
		va, ea := mem.Rule(ctx, r.id)
		vb, eb := src.Rule(ctx, r.id)
		same("rule "+r.id, va, vb, ea, eb)
	}
	sa, ea := mem.Suppressions(ctx)
	sb, eb := src.Suppressions(ctx)
	same("suppressions", sa, sb, ea, eb)
	ra, ea := mem.Runs(ctx)
	rb, eb := src.Runs(ctx)
	same("runs", ra, rb, ea, eb)
	for _, p := range [][2]int64{{0, 0}, {1, 5}, {2, 4}} {
		da, ea := mem.Diff(ctx, p[0], p[1])
		db, eb := src.Diff(ctx, p[0], p[1])
		same(fmt.Sprintf("diff %v", p), da, db, ea, eb)
	}
}

// TestOnlyCurrentRunsKeepWholeFindings: what the source keeps of a run is
// its findings whole only for the accounts whose current run it is (the
// last that assessed them); of the others it keeps verdicts, one brief
// for each, so that 30 runs of 10,000 accounts fit in memory. A run
// stored while it serves takes the whole findings over.
func TestOnlyCurrentRunsKeepWholeFindings(t *testing.T) {
	ctx := context.Background()
	spec := filepath.Join(t.TempDir(), "rootwatch.db")
	runs := historyRuns(6)
	w := recordRuns(t, spec, runs[:5])
	src := NewStoreSource(w)
	check := func(stored int) {
		t.Helper()
		x, err := src.index(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(x.runs) != stored {
			t.Fatalf("%d runs indexed, want %d", len(x.runs), stored)
		}
		whole, thin := 0, 0
		for _, a := range x.accts {
			current := x.currentRun(a)
			for _, p := range a.held {
				d := x.runs[p]
				for _, b := range d.findingsOf(a.id) {
					switch {
					case d == current && b.thin:
						t.Errorf("run %d, the current run of %s, keeps %s thin", d.info.ID, a.id, b.RuleID)
					case d != current && !b.thin:
						t.Errorf("run %d keeps %s's %s whole; its current run is %d", d.info.ID, a.id, b.RuleID, current.info.ID)
					case b.thin:
						thin++
					default:
						whole++
					}
				}
			}
		}
		if whole == 0 || thin == 0 {
			t.Errorf("%d whole and %d thin briefs", whole, thin)
		}
	}
	check(5)
	if _, err := history.Record(ctx, w, runs[5]); err != nil {
		t.Fatal(err)
	}
	check(6)
}

// recordRuns stores runs through history.Record in a new store at spec,
// which it returns open (closed when the test ends).
func recordRuns(t *testing.T, spec string, runs []*finding.Run) store.Store {
	t.Helper()
	w, err := store.Open(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	for _, r := range runs {
		if _, err := history.Record(context.Background(), w, r); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

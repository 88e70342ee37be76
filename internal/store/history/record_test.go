package history

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/store"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

var asOf = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

const acctA, acctB, acctC, acctD, acctE = "111111111111", "222222222222", "333333333333", "444444444444", "555555555555"

// dayRun is a run as of day d whose only rule judged account A with
// status ("": A was skipped, so the run holds no finding of it); extra
// accounts pass.
func dayRun(d int, status finding.Status, extra ...string) *finding.Run {
	at := asOf.Add(time.Duration(d) * 24 * time.Hour)
	run := &finding.Run{SchemaVersion: finding.SchemaVersion, Tool: finding.Tool{Name: "rootwatch", Version: "test"}, GeneratedAt: at, AsOf: at}
	add := func(acct string, st finding.Status) {
		res := "arn:aws:iam::" + acct + ":root"
		run.Findings = append(run.Findings, finding.Finding{RuleID: "iam-root-active-password", Title: "t", Status: st, Severity: finding.SeverityCritical,
			AccountID: acct, Region: "global", Resource: res, Message: "m", Evidence: map[string]any{}, Fingerprint: finding.Fingerprint("iam-root-active-password", acct, res)})
	}
	if status == "" {
		run.Accounts = append(run.Accounts, finding.Account{AccountID: acctA, Status: finding.AccountSkipped, Sources: []finding.Source{}, Error: "skipped"})
	} else {
		run.Accounts = append(run.Accounts, finding.Account{AccountID: acctA, Status: finding.AccountAssessed, Sources: []finding.Source{}})
		add(acctA, status)
	}
	for _, acct := range extra {
		run.Accounts = append(run.Accounts, finding.Account{AccountID: acct, Status: finding.AccountAssessed, Sources: []finding.Source{}})
		add(acct, finding.StatusPass)
	}
	run.Summary = finding.Summarize(run.Findings)
	return run
}

// TestHistoryIsJudgedHistory: a transient error or unknown between two
// failures neither makes the failure new again (nor notifies it under
// --notify-on new) nor restarts its first_seen; a pass after one is a
// resolution; a failure after a pass seen through a skipped account is
// new. On both dialects.
func TestHistoryIsJudgedHistory(t *testing.T) {
	for name, spec := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "rw.db") },
		"postgres": func(t *testing.T) string { return testutil.StartPostgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, spec(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			day := func(d int) time.Time { return asOf.Add(time.Duration(d) * 24 * time.Hour) }
			steps := []struct {
				status    finding.Status
				change    string // of A's finding ("" when A has none)
				firstSeen int    // day
				notified  bool   // under --notify-on new
			}{
				{finding.StatusPass, "", 0, false},
				{finding.StatusFail, finding.ChangeNewFailure, 1, true},
				{finding.StatusError, finding.ChangeChanged, 2, false},
				{finding.StatusFail, finding.ChangeChanged, 1, false}, // not new: its last verdict was fail
				{finding.StatusUnknown, finding.ChangeChanged, 4, false},
				{finding.StatusPass, finding.ChangeResolved, 5, false}, // failed, unknown, passes: resolved
				{"", "", 0, false}, // A skipped
				{finding.StatusPass, finding.ChangeAdded, 5, false},
				{finding.StatusError, finding.ChangeChanged, 8, false},
				{finding.StatusFail, finding.ChangeNewFailure, 9, true}, // its last verdict was pass
			}
			for d, step := range steps {
				run := dayRun(d, step.status, acctB)
				changes, err := Record(ctx, s, run)
				if err != nil {
					t.Fatalf("day %d: %v", d, err)
				}
				if step.status == "" {
					continue
				}
				f := run.Findings[0]
				if f.Change != step.change || f.FirstSeen == nil || !f.FirstSeen.Equal(day(step.firstSeen)) {
					t.Errorf("day %d (%s): change %q first seen %v, want %q and day %d", d, step.status, f.Change, f.FirstSeen, step.change, step.firstSeen)
				}
				var kinds []string
				for _, c := range changes {
					kinds = append(kinds, c.Kind)
				}
				if d > 0 && step.change != finding.ChangeUnchanged && (len(changes) == 0 || changes[0].Kind != step.change) {
					t.Errorf("day %d: the run's changes %v, want %s", d, kinds, step.change)
				}
				if _, ok := notify.Select(run, notify.OnNew, ""); ok != step.notified {
					t.Errorf("day %d: notified under new: %v, want %v (changes %v)", d, ok, step.notified, kinds)
				}
			}
			// The diff of two stored runs agrees with what was recorded.
			runs, _ := s.Runs(ctx, 0)
			byDay := map[time.Time]store.RunInfo{}
			for _, r := range runs {
				byDay[r.AsOf] = r
			}
			from, fromInfo, _ := s.Load(ctx, byDay[day(2)].ID)
			to, _, _ := s.Load(ctx, byDay[day(3)].ID)
			if changes, err := Changes(ctx, s, from, fromInfo, to); err != nil || len(changes) != 1 || changes[0].Kind != finding.ChangeChanged || *changes[0].FromStatus != "error" {
				t.Errorf("diff of days 2 and 3: %+v %v", changes, err)
			}
			// A new scope (account C joins): no previous run of it, but not
			// a baseline either: the findings are compared with their last
			// verdicts, so A's failure is neither new nor told again and
			// keeps its first_seen, and C's finding is added.
			run := dayRun(len(steps), finding.StatusFail, acctB, acctC)
			if _, err := Record(ctx, s, run); err != nil {
				t.Fatal(err)
			}
			if run.History.PreviousRunID != 0 || run.History.Baseline || len(run.History.Changes) != 1 || run.History.Changes[0].AccountID != acctC ||
				run.History.Changes[0].Kind != finding.ChangeAdded || !run.Findings[0].FirstSeen.Equal(day(9)) || !run.Findings[2].FirstSeen.Equal(day(len(steps))) {
				t.Errorf("first run of a new scope: %+v, first seen %v and %v", run.History, run.Findings[0].FirstSeen, run.Findings[2].FirstSeen)
			}
			if _, ok := notify.Select(run, notify.OnNew, ""); ok {
				t.Errorf("first run of a new scope: A's known failure notified again under new")
			}
			// Another account joins failing: its failure is new, and told,
			// although no earlier run had this scope.
			run = dayRun(len(steps)+1, finding.StatusFail, acctB, acctC)
			run.Accounts = append(run.Accounts, finding.Account{AccountID: acctD, Status: finding.AccountAssessed, Sources: []finding.Source{}})
			res := "arn:aws:iam::" + acctD + ":root"
			run.Findings = append(run.Findings, finding.Finding{RuleID: "iam-root-active-password", Title: "t", Status: finding.StatusFail, Severity: finding.SeverityCritical,
				AccountID: acctD, Region: "global", Resource: res, Message: "m", Evidence: map[string]any{}, Fingerprint: finding.Fingerprint("iam-root-active-password", acctD, res)})
			run.Summary = finding.Summarize(run.Findings)
			if _, err := Record(ctx, s, run); err != nil {
				t.Fatal(err)
			}
			if sel, ok := notify.Select(run, notify.OnNew, ""); !ok || run.History.Baseline || len(sel) != 1 || sel[0].AccountID != acctD {
				t.Errorf("an account that joins failing: selected %+v (%v), history %+v", sel, ok, run.History)
			}
			// A store that judged none of a run's findings: a baseline.
			other := dayRun(0, finding.StatusFail)
			for i := range other.Findings {
				other.Findings[i].AccountID, other.Findings[i].Resource = acctE, "arn:aws:iam::"+acctE+":root"
				other.Findings[i].Fingerprint = finding.Fingerprint("iam-root-active-password", acctE, other.Findings[i].Resource)
			}
			other.Accounts[0].AccountID = acctE
			if _, err := Record(ctx, s, other); err != nil {
				t.Fatal(err)
			}
			if !other.History.Baseline || len(other.History.Changes) != 0 {
				t.Errorf("a run of findings the store never judged: %+v, want a baseline", other.History)
			}
		})
	}
}

// TestImportTakesItsPlaceInTime: a run that could not be stored, imported
// after a later one was, is compared with the run before it, and the run
// after it is not compared with it; importing it twice is refused.
func TestImportTakesItsPlaceInTime(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "rw.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Record(ctx, s, dayRun(0, finding.StatusPass)); err != nil {
		t.Fatal(err)
	}
	lost := dayRun(1, finding.StatusFail)
	doc, _ := json.Marshal(lost)
	if _, err := Record(ctx, s, dayRun(2, finding.StatusFail)); err != nil {
		t.Fatal(err)
	}
	var run finding.Run
	json.Unmarshal(doc, &run)
	changes, err := Import(ctx, s, &run)
	if err != nil {
		t.Fatal(err)
	}
	if run.History.PreviousRunID != 1 || len(changes) != 1 || changes[0].Kind != finding.ChangeNewFailure || !run.AsOf.Equal(lost.AsOf) {
		t.Errorf("imported run: %+v", run.History)
	}
	if _, err := Import(ctx, s, &run); !errors.As(err, new(*store.DuplicateError)) || run.History != nil {
		t.Errorf("a second import: %v (history %+v)", err, run.History)
	}
	// Day 3 is compared with day 2 (run 2), not with the run stored last;
	// the import did not change the marks of day 2, which was stored
	// before it.
	next := dayRun(3, finding.StatusFail)
	if _, err := Record(ctx, s, next); err != nil {
		t.Fatal(err)
	}
	if next.History.PreviousRunID != 2 || !next.Findings[0].FirstSeen.Equal(asOf.Add(48*time.Hour)) {
		t.Errorf("the run after: compared with %d, first seen %v", next.History.PreviousRunID, next.Findings[0].FirstSeen)
	}
}

// TestUnstoredRunCarriesNoHistory: a save that fails leaves the run
// without marks that would name a stored run.
func TestUnstoredRunCarriesNoHistory(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "rw.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Record(ctx, s, dayRun(0, finding.StatusPass)); err != nil {
		t.Fatal(err)
	}
	s.Close() // every call fails from now on
	run := dayRun(1, finding.StatusFail)
	_, err = Record(ctx, s, run)
	if err == nil || !strings.Contains(err.Error(), "the run was judged but not stored") || run.History != nil || run.Findings[0].FirstSeen != nil || run.Findings[0].Change != "" {
		t.Errorf("err %v, history %+v, finding %+v", err, run.History, run.Findings[0])
	}
}

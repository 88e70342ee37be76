package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// bigRun is an organization scan's size: 1,000 accounts, 12 rules each,
// 12,000 findings with evidence.
func bigRun(asOf time.Time, failing int) *finding.Run {
	run := &finding.Run{SchemaVersion: "1", Tool: finding.Tool{Name: "rootwatch", Version: "bench"}, AsOf: asOf, GeneratedAt: asOf}
	for i := range 1000 {
		acct := fmt.Sprintf("1%011d", i)
		run.Accounts = append(run.Accounts, finding.Account{AccountID: acct, Partition: "aws", Status: finding.AccountAssessed,
			Sources: []finding.Source{{Name: "credential_report", State: "ok", Detail: "reused the existing report"}}})
		for r := range 12 {
			rule := fmt.Sprintf("rule-%02d", r)
			res := "arn:aws:iam::" + acct + ":root"
			st := finding.StatusPass
			if (i+r)%97 < failing {
				st = finding.StatusFail
			}
			run.Findings = append(run.Findings, finding.Finding{RuleID: rule, Title: "a rule", Status: st, Severity: finding.SeverityHigh, AccountID: acct,
				Region: "global", Resource: res, Message: "The root user's password was last used 2026-02-27T11:00:00Z, 2.0 days ago (window 15 days).",
				Evidence:    map[string]any{"password_last_used": "2026-02-27T11:00:00+00:00", "age_days": 2.0, "report_line": 2, "window": "15d"},
				Fingerprint: finding.Fingerprint(rule, acct, res)})
		}
	}
	run.Summary = finding.Summarize(run.Findings)
	return run
}

func benchSave(b *testing.B, spec func(b *testing.B, i int) string) {
	ctx := context.Background()
	run := bigRun(t0, 3)
	for i := 0; b.Loop(); i++ {
		s, err := Open(ctx, spec(b, i), nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Save(ctx, run, "bench"); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkSaveSQLite stores a 12,000-finding run in a new SQLite store.
func BenchmarkSaveSQLite(b *testing.B) {
	dir := b.TempDir()
	benchSave(b, func(b *testing.B, i int) string { return filepath.Join(dir, fmt.Sprintf("rw-%d.db", i)) })
}

// BenchmarkSavePostgres stores the same run in PostgreSQL (a new database
// per run).
func BenchmarkSavePostgres(b *testing.B) {
	url := testutil.StartPostgres(b)
	benchSave(b, func(b *testing.B, i int) string { return withDatabase(b, url, fmt.Sprintf("bench_%d", i)) })
}

// BenchmarkWriteJSONFloor is the floor a store is measured against:
// encoding the same run as JSON and writing it to a file.
func BenchmarkWriteJSONFloor(b *testing.B) {
	run := bigRun(t0, 3)
	path := filepath.Join(b.TempDir(), "run.json")
	for b.Loop() {
		data, err := json.Marshal(run)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDiffSQLite loads two stored 12,000-finding runs and compares them.
func BenchmarkDiffSQLite(b *testing.B) {
	benchDiff(b, filepath.Join(b.TempDir(), "rw.db"))
}

func BenchmarkDiffPostgres(b *testing.B) {
	benchDiff(b, withDatabase(b, testutil.StartPostgres(b), "bench_diff"))
}

func benchDiff(b *testing.B, spec string) {
	ctx := context.Background()
	s, err := Open(ctx, spec, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	one, _ := s.Save(ctx, bigRun(t0, 3), "bench")
	two, _ := s.Save(ctx, bigRun(t0.Add(24*time.Hour), 5), "bench")
	for b.Loop() {
		from, _, err := s.Load(ctx, one.ID)
		if err != nil {
			b.Fatal(err)
		}
		to, _, err := s.Load(ctx, two.ID)
		if err != nil {
			b.Fatal(err)
		}
		if changes := finding.Compare(from, to); len(changes) == 0 {
			b.Fatal("no changes")
		}
	}
}

// BenchmarkLastJudgedSQLite asks for the last verdict of every finding of
// a 12,000-finding run over 30 stored runs: what the first run of a new
// scope (an account added to the organization) asks.
func BenchmarkLastJudgedSQLite(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "rw.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	run := bigRun(t0, 3)
	for d := range 30 {
		run.AsOf = t0.Add(time.Duration(d) * 24 * time.Hour)
		if _, err := s.Save(ctx, run, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	fps := make([]string, len(run.Findings))
	for i, f := range run.Findings {
		fps[i] = f.Fingerprint
	}
	for b.Loop() {
		got, err := s.LastJudged(ctx, fps, t0.Add(365*24*time.Hour), 1<<62)
		if err != nil || len(got) != len(fps) {
			b.Fatalf("%d verdicts: %v", len(got), err)
		}
	}
}

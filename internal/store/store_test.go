package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// makeRun builds a run of n accounts with one finding per rule and
// account; status gives each finding's status.
func makeRun(n int, asOf time.Time, status func(account, rule string) finding.Status) *finding.Run {
	run := &finding.Run{SchemaVersion: "1", Tool: finding.Tool{Name: "rootwatch", Version: "test"}, GeneratedAt: asOf.Add(time.Minute), AsOf: asOf,
		Settings: map[string]string{"window": "15d"}}
	for i := range n {
		acct := fmt.Sprintf("1%011d", i)
		run.Accounts = append(run.Accounts, finding.Account{AccountID: acct, Partition: "aws", Status: finding.AccountAssessed, Sources: []finding.Source{}})
		for _, rule := range []string{"iam-root-active-password", "iam-root-no-mfa", "iam-root-access-key-active"} {
			res := "arn:aws:iam::" + acct + ":root"
			run.Findings = append(run.Findings, finding.Finding{RuleID: rule, Title: rule, Status: status(acct, rule), Severity: finding.SeverityCritical,
				AccountID: acct, Region: "global", Resource: res, Message: "m " + rule, Evidence: map[string]any{"k": "v"}, Fingerprint: finding.Fingerprint(rule, acct, res)})
		}
	}
	run.Summary = finding.Summarize(run.Findings)
	return run
}

func allPass(string, string) finding.Status { return finding.StatusPass }

// suite is the behaviour every Store must have.
func suite(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	t.Run("save, load, list", func(t *testing.T) {
		s := open(t)
		first, err := s.Save(ctx, makeRun(2, t0, allPass), "scope-a")
		if err != nil {
			t.Fatal(err)
		}
		later := makeRun(2, t0.Add(24*time.Hour), func(a, r string) finding.Status {
			if r == "iam-root-active-password" {
				return finding.StatusFail
			}
			return finding.StatusPass
		})
		second, err := s.Save(ctx, later, "scope-a")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Save(ctx, makeRun(1, t0.Add(48*time.Hour), allPass), "scope-b"); err != nil {
			t.Fatal(err)
		}
		runs, err := s.Runs(ctx, 0)
		if err != nil || len(runs) != 3 || runs[0].Scope != "scope-b" || runs[2].ID != first.ID || runs[1].Summary.Fail != 2 {
			t.Fatalf("runs %+v %v", runs, err)
		}
		if limited, _ := s.Runs(ctx, 1); len(limited) != 1 {
			t.Errorf("limit 1 gave %d", len(limited))
		}
		got, info, err := s.Load(ctx, second.ID)
		if err != nil || len(got.Findings) != 6 || !got.AsOf.Equal(later.AsOf) || info.Accounts != 2 || got.Findings[0].Evidence["k"] != "v" {
			t.Fatalf("load: %+v %+v %v", got, info, err)
		}
		if _, _, err := s.Load(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing run: %v", err)
		}
		prev, ok, err := s.Previous(ctx, "scope-a", second.ID)
		if err != nil || !ok || prev.ID != first.ID {
			t.Errorf("previous of %d: %+v %v %v", second.ID, prev, ok, err)
		}
		if _, ok, _ := s.Previous(ctx, "scope-a", first.ID); ok {
			t.Error("the first run of a scope has no previous")
		}
		if latest, ok, _ := s.Previous(ctx, "scope-a", 0); !ok || latest.ID != second.ID {
			t.Errorf("latest of scope-a: %+v", latest)
		}
		fp := later.Findings[0].Fingerprint
		seen, err := s.FirstSeen(ctx, []string{fp, "unknown"})
		if err != nil || !seen[fp].Equal(t0) || len(seen) != 1 {
			t.Errorf("first seen: %v %v", seen, err)
		}
		hist, err := s.History(ctx, "100000000000", "iam-root-active-password")
		// The account is in all three runs: pass, fail, pass.
		if err != nil || len(hist) != 3 || hist[0].Status != finding.StatusPass || hist[1].Status != finding.StatusFail || hist[2].Status != finding.StatusPass {
			t.Errorf("history: %+v %v", hist, err)
		}
		all, _ := s.History(ctx, "100000000000", "")
		if len(all) != 9 {
			t.Errorf("history of every rule: %d entries", len(all))
		}
		n, err := s.Prune(ctx, t0.Add(36*time.Hour))
		if err != nil || n != 2 {
			t.Errorf("prune: %d %v", n, err)
		}
		if runs, _ := s.Runs(ctx, 0); len(runs) != 1 {
			t.Errorf("after prune: %d runs", len(runs))
		}
		if hist, _ := s.History(ctx, "100000000000", ""); len(hist) != 3 || hist[0].RunID == first.ID || hist[0].RunID == second.ID {
			t.Errorf("pruned runs' findings remain: %+v", hist)
		}
	})
	t.Run("runs take their place by as-of time; verdicts look through runs that did not judge", func(t *testing.T) {
		s := open(t)
		st := func(status finding.Status) func(string, string) finding.Status {
			return func(string, string) finding.Status { return status }
		}
		mk := func(day int, status finding.Status) *finding.Run {
			run := makeRun(1, t0.Add(time.Duration(day)*24*time.Hour), st(status))
			for i := range run.Findings {
				first := run.AsOf.Add(-time.Hour) // as a run would mark it
				run.Findings[i].FirstSeen = &first
			}
			return run
		}
		day0, err := s.Save(ctx, mk(0, finding.StatusFail), "s")
		if err != nil {
			t.Fatal(err)
		}
		day2, _ := s.Save(ctx, mk(2, finding.StatusError), "s")
		if _, err := s.Save(ctx, mk(3, finding.StatusUnknown), "other scope"); err != nil {
			t.Fatal(err)
		}
		// Stored last, judged between the two: it takes its place in time.
		day1, err := s.Import(ctx, mk(1, finding.StatusPass), "s")
		if err != nil {
			t.Fatal(err)
		}
		if latest, ok, _ := s.Latest(ctx, "s", t0.Add(10*24*time.Hour)); !ok || latest.ID != day2.ID {
			t.Errorf("latest of s: %+v, want run %d (as of day 2)", latest, day2.ID)
		}
		if latest, ok, _ := s.Latest(ctx, "s", t0.Add(36*time.Hour)); !ok || latest.ID != day1.ID {
			t.Errorf("latest of s as of day 1.5: %+v, want the imported run %d", latest, day1.ID)
		}
		if _, ok, _ := s.Latest(ctx, "s", t0.Add(-time.Hour)); ok {
			t.Error("a run before every stored one has no latest")
		}
		if prev, ok, _ := s.Previous(ctx, "s", day2.ID); !ok || prev.ID != day1.ID {
			t.Errorf("previous of day 2: %+v, want the imported day 1 (%d)", prev, day1.ID)
		}
		if prev, ok, _ := s.Previous(ctx, "s", day1.ID); !ok || prev.ID != day0.ID {
			t.Errorf("previous of day 1: %+v, want day 0 (%d)", prev, day0.ID)
		}
		if latest, ok, _ := s.Previous(ctx, "s", 0); !ok || latest.ID != day2.ID {
			t.Errorf("previous of none (the latest): %+v", latest)
		}
		fp := mk(0, finding.StatusPass).Findings[0].Fingerprint
		// Day 3's unknown and day 2's error are not verdicts: day 1's pass is.
		got, err := s.LastJudged(ctx, []string{fp, "never-stored"}, t0.Add(10*24*time.Hour), math.MaxInt64)
		if err != nil || len(got) != 1 || got[fp].Status != finding.StatusPass || got[fp].RunID != day1.ID || !got[fp].FirstSeen.Equal(t0.Add(24*time.Hour-time.Hour)) {
			t.Errorf("last verdict: %+v %v", got, err)
		}
		// A finding stored without first_seen (a run stored before
		// rootwatch kept it): its run's as-of stands in.
		bare := mk(4, finding.StatusPass)
		for i := range bare.Findings {
			bare.Findings[i].FirstSeen = nil
		}
		day4, err := s.Save(ctx, bare, "s")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.LastJudged(ctx, []string{fp}, t0.Add(10*24*time.Hour), math.MaxInt64); got[fp].RunID != day4.ID || !got[fp].FirstSeen.Equal(bare.AsOf) {
			t.Errorf("a finding without first_seen: %+v", got)
		}
		// As of day 0 (its id included), day 0's fail.
		got, _ = s.LastJudged(ctx, []string{fp}, t0, day0.ID)
		if got[fp].Status != finding.StatusFail || got[fp].RunID != day0.ID {
			t.Errorf("last verdict as of day 0: %+v", got)
		}
		if got, _ := s.LastJudged(ctx, []string{fp}, t0, day0.ID-1); len(got) != 0 {
			t.Errorf("before day 0 nothing was judged: %+v", got)
		}
	})
	t.Run("an import already stored is refused", func(t *testing.T) {
		s := open(t)
		run := makeRun(2, t0, allPass)
		first, err := s.Import(ctx, run, "s")
		if err != nil {
			t.Fatal(err)
		}
		var dup *DuplicateError
		if _, err := s.Import(ctx, run, "s"); !errors.As(err, &dup) || dup.ID != first.ID {
			t.Fatalf("second import: %v", err)
		}
		if runs, _ := s.Runs(ctx, 0); len(runs) != 1 {
			t.Errorf("%d runs after a refused import", len(runs))
		}
		other := makeRun(2, t0, allPass)
		other.GeneratedAt = other.GeneratedAt.Add(time.Second)
		if _, err := s.Import(ctx, other, "s"); err != nil {
			t.Errorf("another run of the same time: %v", err)
		}
	})
	t.Run("watch alerts are remembered per event and target, with their own retention", func(t *testing.T) {
		s := open(t)
		d := s.(Deliveries)
		got, err := d.Delivered(ctx, "ev-1", []string{"slack #1", "webhook #2"})
		if err != nil || len(got) != 0 {
			t.Fatalf("fresh store: %v %v", got, err)
		}
		for range 2 { // recording twice is not an error
			if err := d.MarkDelivered(ctx, "ev-1", "webhook #2", t0); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.MarkDelivered(ctx, "ev-3", "webhook #2", t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err = d.Delivered(ctx, "ev-1", []string{"slack #1", "webhook #2"})
		if err != nil || !got["webhook #2"] || got["slack #1"] {
			t.Errorf("after one delivery: %v %v", got, err)
		}
		if got, _ := d.Delivered(ctx, "ev-2", []string{"webhook #2"}); len(got) != 0 {
			t.Errorf("another event: %v", got)
		}
		// Pruning runs leaves the delivery log alone.
		if _, err := s.Save(ctx, makeRun(1, t0, allPass), "s"); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Prune(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("prune runs: %d %v", n, err)
		}
		if got, _ := d.Delivered(ctx, "ev-1", []string{"webhook #2"}); !got["webhook #2"] {
			t.Errorf("pruning runs forgot a delivery: %v", got)
		}
		if n, err := d.PruneDeliveries(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("prune deliveries: %d %v", n, err)
		}
		if got, _ := d.Delivered(ctx, "ev-1", []string{"webhook #2"}); len(got) != 0 {
			t.Errorf("pruned deliveries remain: %v", got)
		}
		if got, _ := d.Delivered(ctx, "ev-3", []string{"webhook #2"}); !got["webhook #2"] {
			t.Errorf("a delivery after the cutoff was pruned: %v", got)
		}
	})
	t.Run("two writers at once both land", func(t *testing.T) {
		a, b := open(t), open(t)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Save(ctx, makeRun(50, t0.Add(time.Duration(i)*time.Hour), allPass), "concurrent")
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		if runs, _ := a.Runs(ctx, 0); len(runs) != len(errs) {
			t.Errorf("%d runs stored, want %d", len(runs), len(errs))
		}
	})
	versionSuite(t, open)
}

// openSQLiteIn opens a SQLite store in dir (the same file on every call).
func openSQLiteIn(dir string) func(t *testing.T) Store {
	return func(t *testing.T) Store {
		s, err := Open(context.Background(), "sqlite:"+filepath.Join(dir, "rw.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestSQLiteStore(t *testing.T) {
	dirs := map[string]string{}
	suite(t, func(t *testing.T) Store {
		// One database per subtest, shared by that subtest's handles.
		key := strings.SplitN(t.Name(), "/", 2)[1]
		if dirs[key] == "" {
			dirs[key] = t.TempDir()
		}
		return openSQLiteIn(dirs[key])(t)
	})
	dir := t.TempDir()
	s := openSQLiteIn(dir)(t)
	if st, err := os.Stat(filepath.Join(dir, "rw.db")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("store file: %v %v, want mode 0600", st, err)
	}
	// Versions are kept as text, so that SQLite's JSON functions read
	// them (a blob would be taken for JSONB).
	ctx := context.Background()
	if _, err := s.Save(ctx, bigRun(t0, 1), "org"); err != nil {
		t.Fatal(err)
	}
	var kind, id string
	db := s.(*sqlStore).db
	if err := db.QueryRowContext(ctx, `SELECT typeof(body), json_extract(body, '$.account_id') FROM finding_versions ORDER BY id LIMIT 1`).Scan(&kind, &id); err != nil {
		t.Fatal(err)
	}
	if kind != "text" || id != "100000000000" {
		t.Errorf("stored version: %s, its account %q", kind, id)
	}
}

func TestPostgresStore(t *testing.T) {
	url := testutil.StartPostgres(t)
	ctx := context.Background()
	n := 0
	suite(t, func(t *testing.T) Store {
		// A fresh database per subtest: the suite counts runs.
		key := strings.ReplaceAll(strings.SplitN(t.Name(), "/", 2)[1], " ", "_")
		key = strings.ToLower(strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' {
				return r
			}
			return '_'
		}, key))
		db := withDatabase(t, url, key)
		n++
		s, err := Open(ctx, db, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// withDatabase creates database name on the server once and returns its URL.
func withDatabase(t testing.TB, url, name string) string {
	t.Helper()
	admin, err := Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	db := admin.(*sqlStore).db
	var exists bool
	if err := db.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if !exists {
		if _, err := db.Exec(`CREATE DATABASE ` + name); err != nil {
			t.Fatal(err)
		}
	}
	return replaceDB(url, name)
}

// replaceDB points a server URL at another database.
func replaceDB(url, name string) string { return strings.Replace(url, "/postgres?", "/"+name+"?", 1) }

// TestNewerSchemaIsRefused: a store migrated past what this build knows.
func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rw.db")
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.(*sqlStore).db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, 1)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(context.Background(), path, nil); err == nil || !strings.Contains(err.Error(), "schema version 99, but this rootwatch knows versions up to 5: it was written by a newer rootwatch") {
		t.Errorf("err = %v", err)
	}
}

// TestKillMidWrite kills a process inside Save's transaction, after its
// findings were written: the store holds no part of that run.
func TestKillMidWrite(t *testing.T) {
	if spec := os.Getenv("ROOTWATCH_STORE_HELPER"); spec != "" {
		s, err := Open(context.Background(), spec, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		s.(*sqlStore).afterFindings = func() {
			os.WriteFile(os.Getenv("ROOTWATCH_STORE_READY"), []byte("ready"), 0o600)
			time.Sleep(time.Hour)
		}
		s.Save(context.Background(), makeRun(100, t0, allPass), "killed")
		os.Exit(2)
	}
	for name, spec := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "rw.db") },
		"postgres": func(t *testing.T) string { return withDatabase(t, testutil.StartPostgres(t), "killed") },
	} {
		t.Run(name, func(t *testing.T) {
			spec := spec(t)
			ready := filepath.Join(t.TempDir(), "ready")
			cmd := exec.Command(os.Args[0], "-test.run", "^TestKillMidWrite$")
			cmd.Env = append(os.Environ(), "ROOTWATCH_STORE_HELPER="+spec, "ROOTWATCH_STORE_READY="+ready)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for {
				if _, err := os.Stat(ready); err == nil {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("the writer never reached the middle of its transaction")
				}
				time.Sleep(20 * time.Millisecond)
			}
			cmd.Process.Kill()
			cmd.Wait()
			s, err := Open(context.Background(), spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			runs, err := s.Runs(context.Background(), 0)
			hist, _ := s.History(context.Background(), "100000000000", "")
			if err != nil || len(runs) != 0 || len(hist) != 0 {
				t.Errorf("after the kill: %d runs, %d findings (%v)", len(runs), len(hist), err)
			}
			if _, err := s.Save(context.Background(), makeRun(1, t0, allPass), "after"); err != nil {
				t.Errorf("the store does not take a run after the kill: %v", err)
			}
		})
	}
}

func TestDescribeHidesPasswords(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://rw:s3cret@db.example:5432/rootwatch?sslmode=require": "postgres://db.example:5432/rootwatch",
		"sqlite:/var/lib/rw.db": "/var/lib/rw.db",
		"env:RW_STORE":          "the store in $RW_STORE",
	} {
		if got := Describe(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("Describe(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := Open(context.Background(), "env:RW_STORE_UNSET", func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "RW_STORE_UNSET") {
		t.Errorf("unset env: %v", err)
	}
	_, err := Open(context.Background(), "postgres://rw:s3cret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a failed connection leaks the password or succeeds: %v", err)
	}
}

// TestReadersNeverCreateAStore: a store opened as Existing (the commands
// that read or prune) is never created where there is none.
func TestReadersNeverCreateAStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	var ns *NoStoreError
	if _, err := OpenWith(ctx, missing, Options{Existing: true}); !errors.As(err, &ns) || ns.Schema || err.Error() != "no store at "+missing {
		t.Errorf("missing file: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opening a missing store created it: %v", err)
	}
	// Check (before a scan) creates nothing either, but refuses a place
	// where no store could be created.
	if err := Check(ctx, missing, Options{}); err != nil {
		t.Errorf("check of a new store in a writable directory: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("check left files: %v", entries)
	}
	if err := Check(ctx, filepath.Join(dir, "no-such-dir", "rw.db"), Options{}); err == nil || !strings.Contains(err.Error(), "cannot be created") {
		t.Errorf("check of a store in a missing directory: %v", err)
	}
	// A SQLite database that is not a rootwatch store.
	other := filepath.Join(dir, "other.db")
	s, err := Open(ctx, other, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.(*sqlStore).db.Exec(`DROP TABLE goose_db_version`)
	s.Close()
	if _, err := OpenWith(ctx, other, Options{Existing: true}); !errors.As(err, &ns) || !ns.Schema {
		t.Errorf("a database without the schema: %v", err)
	}
	t.Run("postgres", func(t *testing.T) {
		db := withDatabase(t, testutil.StartPostgres(t), "empty")
		_, err := OpenWith(ctx, db, Options{Existing: true})
		if !errors.As(err, &ns) || !ns.Schema || !strings.Contains(err.Error(), "no rootwatch store in postgres://") {
			t.Fatalf("a database without the schema: %v", err)
		}
		// Nothing was created: a writer still finds no schema to upgrade.
		if _, err := OpenWith(ctx, db, Options{Existing: true}); !errors.As(err, &ns) {
			t.Errorf("the reader created the schema: %v", err)
		}
		if s, err := Open(ctx, db, nil); err != nil {
			t.Error(err)
		} else {
			s.Close()
		}
		if s, err := OpenWith(ctx, db, Options{Existing: true}); err != nil {
			t.Errorf("after a writer: %v", err)
		} else {
			s.Close()
		}
	})
}

// TestLockWaitsAreSaidAndBounded: a write that finds another writer's lock
// says so, naming the store, and gives up after the lock timeout; a lock
// released while it waits lets it through.
func TestLockWaitsAreSaidAndBounded(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "rw.db")
		holder, err := Open(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Close()
		// Another writer's transaction (BEGIN IMMEDIATE) holds the lock.
		tx, err := holder.(*sqlStore).db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var notices []string
		waiter, err := OpenWith(ctx, path, Options{LockTimeout: 50 * time.Millisecond, Notice: func(s string) { notices = append(notices, s) }})
		if err != nil {
			t.Fatal(err)
		}
		defer waiter.Close()
		_, err = waiter.Save(ctx, makeRun(1, t0, allPass), "s")
		if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
			t.Errorf("save under another writer's lock: %v", err)
		}
		if len(notices) != 1 || !strings.Contains(notices[0], "store "+path+" is locked by another writer: waiting for it, at most 50ms") {
			t.Errorf("notices: %q", notices)
		}
		// The lock is released once the wait was said: the save goes on.
		patient, err := OpenWith(ctx, path, Options{LockTimeout: time.Minute, Notice: func(string) { tx.Rollback() }})
		if err != nil {
			t.Fatal(err)
		}
		defer patient.Close()
		if _, err := patient.Save(ctx, makeRun(1, t0, allPass), "s"); err != nil {
			t.Errorf("save after the lock was released: %v", err)
		}
		if _, err := waiter.Save(ctx, makeRun(1, t0, allPass), "s"); err != nil {
			t.Errorf("the waiter's next save: %v", err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		db := withDatabase(t, testutil.StartPostgres(t), "locks")
		holder, err := Open(ctx, db, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Close()
		inside, release := make(chan struct{}), make(chan struct{})
		holder.(*sqlStore).afterFindings = func() { close(inside); <-release }
		done := make(chan error)
		go func() {
			_, err := holder.Save(ctx, makeRun(1, t0, allPass), "s")
			done <- err
		}()
		<-inside // the holder's transaction holds the fingerprints' row locks
		waiter, err := OpenWith(ctx, db, Options{LockTimeout: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer waiter.Close()
		if _, err := waiter.Save(ctx, makeRun(1, t0, allPass), "s"); !errors.Is(err, ErrLocked) {
			t.Errorf("save under another writer's row locks: %v", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Errorf("the holder: %v", err)
		}
	})
}

package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// openSchema opens a database migrated to schema version, with the
// migrations of that time (without the conversion to versions).
func openSchema(t testing.TB, spec string, version int64) *sqlStore {
	t.Helper()
	ctx := context.Background()
	postgres := isPostgres(spec)
	driver, dsn, dialect, dir := "sqlite", "file:"+spec+"?_pragma=foreign_keys(1)", goose.DialectSQLite3, "sqlite"
	if postgres {
		driver, dsn, dialect, dir = "pgx", spec, goose.DialectPostgres, "postgres"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	fsys, _ := fs.Sub(migrations, "migrations/"+dir)
	p, err := goose.NewProvider(dialect, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return &sqlStore{db: db, postgres: postgres, name: "schema " + dir}
}

// saveSchema3 writes a run as rootwatch wrote it with schema 3 (main's
// save, before runs were kept as versions): the whole document, a row per
// finding, and the fingerprints' first and last seen. (A message that is
// not UTF-8 is made so: PostgreSQL refused such a findings row.) firstSeen false
// leaves findings.first_seen NULL, as schema 2 did.
func saveSchema3(t testing.TB, s *sqlStore, run *finding.Run, scope string, firstSeen bool) int64 {
	t.Helper()
	ctx := context.Background()
	doc, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := json.Marshal(run.Summary)
	asOf := fmtTime(run.AsOf)
	var id int64
	err = s.db.QueryRowContext(ctx, s.q(`INSERT INTO runs (scope, generated_at, as_of, stored_at, tool_version, accounts, summary, document)
		VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT)) RETURNING id`),
		scope, fmtTime(run.GeneratedAt), asOf, fmtTime(run.AsOf.Add(time.Hour)), run.Tool.Version, len(run.Accounts), string(sum), doc).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range run.Findings {
		var first any
		if f.FirstSeen != nil && firstSeen {
			first = fmtTime(*f.FirstSeen)
		}
		if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO findings (run_id, fingerprint, rule_id, account_id, resource, status, severity, message, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			id, f.Fingerprint, f.RuleID, f.AccountID, f.Resource, string(f.Status), string(f.Severity), strings.ToValidUTF8(f.Message, "\uFFFD"), first); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO fingerprints (fingerprint, rule_id, account_id, resource, first_seen, last_seen, last_status) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (fingerprint) DO UPDATE SET
			  first_seen = CASE WHEN excluded.first_seen < fingerprints.first_seen THEN excluded.first_seen ELSE fingerprints.first_seen END,
			  last_status = CASE WHEN excluded.last_seen >= fingerprints.last_seen THEN excluded.last_status ELSE fingerprints.last_status END,
			  last_seen = CASE WHEN excluded.last_seen > fingerprints.last_seen THEN excluded.last_seen ELSE fingerprints.last_seen END`),
			f.Fingerprint, f.RuleID, f.AccountID, f.Resource, asOf, asOf, string(f.Status)); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// TestSchema3StoreIsConverted: a store written by rootwatch with schema 3
// (whole documents) is converted in place when opened, in both dialects:
// every run exports as its scan wrote it, loads, has its history and
// verdicts; a later unchanged run shares the converted versions.
func TestSchema3StoreIsConverted(t *testing.T) {
	ctx := context.Background()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			spec := "sqlite:" + filepath.Join(t.TempDir(), "old.db")
			if dialect == "postgres" {
				spec = withDatabase(t, testutil.StartPostgres(t), "schema3")
			}
			old := openSchema(t, strings.TrimPrefix(spec, "sqlite:"), 3)
			var runs []*finding.Run
			for _, name := range []string{"scan-demo.json", "scan-offline-prod.json"} {
				data, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "golden", name))
				if err != nil {
					t.Fatal(err)
				}
				var run finding.Run
				if err := json.Unmarshal(data, &run); err != nil {
					t.Fatal(err)
				}
				runs = append(runs, &run)
			}
			none := func(int) bool { return false }
			runs = append(runs, orgRun(30, t0, none), oddRun(t0.Add(time.Hour)), orgRun(30, t0.Add(24*time.Hour), func(i int) bool { return i == 12 }))
			// A run of schema 2's time: no first_seen in its findings.
			bare := makeRun(2, t0.Add(-24*time.Hour), allPass)
			runs = append(runs, bare)
			var ids []int64
			for i, run := range runs {
				ids = append(ids, saveSchema3(t, old, run, fmt.Sprintf("scope %d", i), run != bare))
			}
			old.db.Close()

			s, err := OpenWith(ctx, spec, Options{Existing: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for i, id := range ids {
				reads(t, s, id, runs[i])
			}
			if _, err := s.(*sqlStore).db.Exec(`SELECT count(*) FROM findings`); err == nil {
				t.Error("the findings table outlived the conversion")
			}
			fp := bare.Findings[0].Fingerprint
			got, err := s.LastJudged(ctx, []string{fp}, t0.Add(-24*time.Hour), math.MaxInt64)
			if err != nil || got[fp].Status != finding.StatusPass || !got[fp].FirstSeen.Equal(bare.AsOf) || got[fp].RunID != ids[len(ids)-1] {
				t.Errorf("the verdict of a finding stored without first_seen: %+v %v", got, err)
			}
			hist, err := s.History(ctx, "100000000012", "iam-root-active-password")
			if err != nil || len(hist) != 2 || hist[0].Status != finding.StatusPass || hist[1].Status != finding.StatusFail {
				t.Errorf("history after the conversion: %+v %v", hist, err)
			}
			seen, err := s.FirstSeen(ctx, []string{fp})
			if err != nil || !seen[fp].Equal(bare.AsOf) {
				t.Errorf("first seen after the conversion: %v %v", seen, err)
			}
			// The next day's unchanged run holds the converted versions.
			versions := count(t, s, "finding_versions")
			next := orgRun(30, t0.Add(48*time.Hour), func(i int) bool { return i == 12 })
			info, err := s.Save(ctx, next, "scope 4")
			if err != nil {
				t.Fatal(err)
			}
			if n := count(t, s, "finding_versions"); n != versions {
				t.Errorf("an unchanged run after the conversion added %d versions", n-versions)
			}
			reads(t, s, info.ID, next)
		})
	}
}

// TestUnconvertibleStoreIsLeftAsItWas: a run whose document does not
// read stops the conversion, which names it; the store stays at schema 3
// with everything in it, for the rootwatch that wrote it.
func TestUnconvertibleStoreIsLeftAsItWas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old := openSchema(t, path, 3)
	saveSchema3(t, old, makeRun(2, t0, allPass), "s", true)
	bad := saveSchema3(t, old, makeRun(2, t0.Add(time.Hour), allPass), "s", true)
	if _, err := old.db.Exec(`UPDATE runs SET document = '{"schema_version": "1", "findings": [' WHERE id = ?`, bad); err != nil {
		t.Fatal(err)
	}
	old.db.Close()
	_, err := OpenWith(ctx, path, Options{Existing: true})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("run %d could not be converted", bad)) {
		t.Fatalf("open: %v", err)
	}
	old = openSchema(t, path, 3)
	defer old.db.Close()
	var version, runs, findings int
	old.db.QueryRow(`SELECT max(version_id) FROM goose_db_version`).Scan(&version)
	old.db.QueryRow(`SELECT count(*) FROM runs WHERE document IS NOT NULL`).Scan(&runs)
	old.db.QueryRow(`SELECT count(*) FROM findings`).Scan(&findings)
	if version != 4 || runs != 2 || findings != 12 {
		t.Errorf("after the failed conversion: schema %d, %d documents, %d findings rows; want 4, 2, 12", version, runs, findings)
	}
}

// gunzip reads a gzipped file of testdata/schema3.
func gunzip(t *testing.T, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "schema3", name+".gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return data
}

// copyRows copies every row of the tables from one database to another
// whose tables have the same columns.
func copyRows(t *testing.T, from *sql.DB, to *sqlStore, tables ...string) {
	t.Helper()
	for _, table := range tables {
		rows, err := from.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			if _, err := to.db.Exec(to.q(`INSERT INTO `+table+` (`+strings.Join(cols, ", ")+`) VALUES (`+placeholders(len(cols))+`)`), vals...); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStoreWrittenByRootwatchOfSchema3IsConverted: a store that the
// rootwatch of schema 3 itself wrote (testdata/schema3: main at 6ed7e39,
// 'scan --demo --as-of 2026-03-01T00:00:00Z -f json -o run1.json --store
// demo.db', then the same as of 2026-03-02T00:07:00Z into run2.json) is
// converted when opened: each run exports as the JSON that scan wrote,
// and a later run shares its versions. PostgreSQL gets the same rows,
// copied into a database at schema 3.
func TestStoreWrittenByRootwatchOfSchema3IsConverted(t *testing.T) {
	ctx := context.Background()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "demo.db")
			if err := os.WriteFile(path, gunzip(t, "demo.db"), 0o600); err != nil {
				t.Fatal(err)
			}
			spec := path
			if dialect == "postgres" {
				spec = withDatabase(t, testutil.StartPostgres(t), "schema3demo")
				old := openSchema(t, spec, 3)
				lite, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
				if err != nil {
					t.Fatal(err)
				}
				copyRows(t, lite, old, "runs", "findings", "fingerprints")
				lite.Close()
				if _, err := old.db.Exec(`SELECT setval(pg_get_serial_sequence('runs', 'id'), max(id)) FROM runs`); err != nil {
					t.Fatal(err)
				}
				old.db.Close()
			}
			s, err := OpenWith(ctx, spec, Options{Existing: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			runs, err := s.Runs(ctx, 0)
			if err != nil || len(runs) != 2 {
				t.Fatalf("runs after the conversion: %+v %v", runs, err)
			}
			for id, name := range map[int64]string{1: "run1.json", 2: "run2.json"} {
				var got bytes.Buffer
				if err := s.Export(ctx, id, &got); err != nil {
					t.Fatalf("export run %d: %v", id, err)
				}
				if want := gunzip(t, name); !bytes.Equal(got.Bytes(), want) {
					t.Errorf("run %d does not export as its scan wrote %s:\n%s", id, name, firstDiff(got.Bytes(), want))
				}
			}
			// The same organization a day later shares the converted
			// versions.
			next, _, err := s.Load(ctx, 2)
			if err != nil {
				t.Fatal(err)
			}
			next.AsOf, next.GeneratedAt = next.AsOf.Add(24*time.Hour), next.GeneratedAt.Add(24*time.Hour)
			versions, accounts := count(t, s, "finding_versions"), count(t, s, "account_versions")
			info, err := s.Save(ctx, next, runs[0].Scope)
			if err != nil {
				t.Fatal(err)
			}
			if n, m := count(t, s, "finding_versions"), count(t, s, "account_versions"); n != versions || m != accounts {
				t.Errorf("the next day's unchanged run added %d finding versions and %d account versions", n-versions, m-accounts)
			}
			reads(t, s, info.ID, next)
		})
	}
}

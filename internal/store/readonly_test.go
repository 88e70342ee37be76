package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

// readOnlySuite: a read-only store reads what a writer stores, sees a run
// the writer commits while it is open, and refuses every write.
func readOnlySuite(t *testing.T, spec string) {
	ctx := context.Background()
	w, err := Open(ctx, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	first, err := w.Save(ctx, makeRun(2, t0, allPass), "s")
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(ctx, spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if runs, err := r.Runs(ctx, 0); err != nil || len(runs) != 1 || runs[0].ID != first.ID {
		t.Fatalf("runs %+v %v", runs, err)
	}
	// A run stored while the reader is open is read without reopening.
	second, err := w.Save(ctx, makeRun(2, t0.Add(time.Hour), allPass), "s")
	if err != nil {
		t.Fatalf("a writer beside the reader: %v", err)
	}
	if runs, err := r.Runs(ctx, 0); err != nil || len(runs) != 2 || runs[0].ID != second.ID {
		t.Fatalf("runs after a write %+v %v", runs, err)
	}
	if run, _, err := r.Load(ctx, second.ID); err != nil || len(run.Findings) != 6 {
		t.Fatalf("load: %v", err)
	}
	if _, err := r.Save(ctx, makeRun(1, t0.Add(2*time.Hour), allPass), "s"); err == nil {
		t.Error("a read-only store saved a run")
	}
	if n, err := r.Prune(ctx, t0.Add(48*time.Hour)); err == nil || n != 0 {
		t.Errorf("a read-only store pruned: %d %v", n, err)
	}
	if runs, _ := w.Runs(ctx, 0); len(runs) != 2 {
		t.Errorf("the store changed under the read-only handle: %d runs", len(runs))
	}
}

func TestReadOnlySQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "rw.db")
	var ns *NoStoreError
	if _, err := OpenReadOnly(ctx, path, Options{}); !errors.As(err, &ns) || ns.Schema {
		t.Fatalf("a missing store: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a read-only open created the store: %v", err)
	}
	readOnlySuite(t, "sqlite:"+path)
}

func TestReadOnlyPostgres(t *testing.T) {
	url := testutil.StartPostgres(t)
	var ns *NoStoreError
	empty := withDatabase(t, url, "readonly_empty")
	if _, err := OpenReadOnly(context.Background(), empty, Options{}); !errors.As(err, &ns) || !ns.Schema {
		t.Fatalf("a database without the schema: %v", err)
	}
	readOnlySuite(t, withDatabase(t, url, "readonly"))
}

// TestReadOnlyRefusesAnotherSchema: a read-only open migrates nothing, so
// an older store is refused with the command that migrates it, and a newer
// one as every open refuses it.
func TestReadOnlyRefusesAnotherSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	fsys, _ := fs.Sub(migrations, "migrations/sqlite")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = OpenReadOnly(ctx, path, Options{})
	var se *SchemaError
	if !errors.As(err, &se) || se.Version != 2 || !strings.Contains(err.Error(), "does not migrate them: run 'rootwatch runs --store STORE' once") {
		t.Fatalf("an older store: %v", err)
	}
	var v int64
	if db, err = sql.Open("sqlite", "file:"+path); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT max(version_id) FROM goose_db_version`).Scan(&v); err != nil || v != 2 {
		t.Errorf("the read-only open migrated the store to %d (%v)", v, err)
	}
	db.Close()
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.(*sqlStore).db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, 1)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenReadOnly(ctx, path, Options{}); err == nil || !strings.Contains(err.Error(), "schema version 99, but this rootwatch knows versions up to") {
		t.Errorf("a newer store: %v", err)
	}
}

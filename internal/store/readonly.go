package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// OpenReadOnly opens an existing store for reading only (rootwatch serve):
// SQLite with mode=ro, PostgreSQL with every transaction read-only
// (default_transaction_read_only), so that nothing it runs can change the
// store. It never creates a store (*NoStoreError) and never migrates one:
// a store whose schema is older than this rootwatch's is refused with the
// command that migrates it, a newer one as every open refuses it. Writes
// through the returned Store fail.
func OpenReadOnly(ctx context.Context, spec string, o Options) (Store, error) {
	spec, err := resolve(spec, o.Getenv)
	if err != nil {
		return nil, err
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	o.Existing = true
	if isPostgres(spec) {
		return openPostgresReadOnly(ctx, spec, o)
	}
	return openSQLiteReadOnly(ctx, strings.TrimPrefix(spec, "sqlite:"), o)
}

func openSQLiteReadOnly(ctx context.Context, path string, o Options) (Store, error) {
	if err := checkSQLitePath(path); err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NoStoreError{Name: path}
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("store %s is not a file", path)
	}
	// mode=ro: SQLite refuses every write on these connections. A store
	// written by rootwatch is in WAL mode already (a property of the file),
	// so this reader sees each run a writer commits, and does not block it.
	dsn := fmt.Sprintf("file:%s?mode=ro&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", path, o.LockTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	s := &sqlStore{db: db, name: path, opts: o}
	if err := s.requireStore(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.checkSchema(ctx, goose.DialectSQLite3, "sqlite"); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func openPostgresReadOnly(ctx context.Context, url string, o Options) (Store, error) {
	name := Describe(url)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", name, scrub(err, url))
	}
	// Every transaction of these connections is read-only, those the
	// driver opens implicitly for a single statement included.
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	db := stdlib.OpenDB(*cfg)
	pctx, cancel := context.WithTimeout(ctx, o.LockTimeout)
	err = db.PingContext(pctx)
	cancel()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", name, scrub(err, url))
	}
	s := &sqlStore{db: db, postgres: true, name: name, opts: o}
	if err := s.requireStore(ctx); err != nil {
		db.Close()
		return nil, scrub(err, url)
	}
	if err := s.checkSchema(ctx, goose.DialectPostgres, "postgres"); err != nil {
		db.Close()
		return nil, scrub(err, url)
	}
	return s, nil
}

// SchemaError says a store's schema is not the one this rootwatch reads,
// and a read-only open cannot migrate it.
type SchemaError struct {
	Name             string
	Version, Current int64
}

func (e *SchemaError) Error() string {
	if e.Version > e.Current {
		return fmt.Sprintf("store %s has schema version %d, but this rootwatch knows versions up to %d: it was written by a newer rootwatch; use that one (or a newer)", e.Name, e.Version, e.Current)
	}
	return fmt.Sprintf("store %s has schema version %d and this rootwatch reads version %d; it opens stores read-only and does not migrate them: run 'rootwatch runs --store STORE' once (it migrates the store), then try again", e.Name, e.Version, e.Current)
}

// checkSchema compares the store's schema version with the newest
// embedded migration, without applying any.
func (s *sqlStore) checkSchema(ctx context.Context, dialect goose.Dialect, dir string) error {
	p, err := s.provider(dialect, dir)
	if err != nil {
		return err
	}
	sources := p.ListSources()
	latest := sources[len(sources)-1].Version
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("store %s: schema version: %w", s.name, err)
	}
	if current != latest {
		return &SchemaError{Name: s.name, Version: current, Current: latest}
	}
	return nil
}

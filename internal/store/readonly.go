package store

import (
	"context"
	"fmt"

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
	o.Existing = true
	return open(ctx, spec, o, true)
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

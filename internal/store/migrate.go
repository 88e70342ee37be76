package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rootwatch/rootwatch/internal/store/runcodec"

	"github.com/pressly/goose/v3"
)

// convertRuns is schema 5: every run schema 3 kept whole (runs.document,
// with a row per finding in findings) is cut into versions as Save cuts a
// new run, and read back byte for byte before the next is converted; then
// the whole documents, the findings rows and the fingerprints' last-seen
// columns (written by every run, read by none) go. It runs in goose's
// transaction: a run that does not convert leaves the store as it was,
// at schema 4, readable by the rootwatch that wrote it.
func (s *sqlStore) convertRuns() *goose.Migration {
	up := func(ctx context.Context, tx *sql.Tx) error {
		var ids []int64
		rows, err := tx.QueryContext(ctx, `SELECT id FROM runs ORDER BY id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.convertRun(ctx, tx, id); err != nil {
				return fmt.Errorf("store %s: run %d could not be converted to the versioned layout (nothing was changed): %w", s.name, id, err)
			}
		}
		for _, stmt := range []string{
			`DROP TABLE findings`,
			`ALTER TABLE runs DROP COLUMN document`,
			`ALTER TABLE fingerprints DROP COLUMN last_seen`,
			`ALTER TABLE fingerprints DROP COLUMN last_status`,
		} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("store %s: %s: %w", s.name, stmt, err)
			}
		}
		return nil
	}
	down := func(context.Context, *sql.Tx) error {
		return errors.New("schema 5 keeps runs as versions and is not taken back to whole documents: restore the store from a backup taken before the upgrade")
	}
	return goose.NewGoMigration(5, &goose.GoFunc{RunTx: up}, &goose.GoFunc{RunTx: down})
}

func (s *sqlStore) convertRun(ctx context.Context, tx *sql.Tx, id int64) error {
	var asOf string
	var doc []byte
	if err := tx.QueryRowContext(ctx, s.q(`SELECT as_of, document FROM runs WHERE id = ?`), id).Scan(&asOf, &doc); err != nil {
		return err
	}
	at, err := parseTime(asOf)
	if err != nil {
		return err
	}
	raw, err := runcodec.FromDocument(doc)
	if err != nil {
		return fmt.Errorf("its stored JSON: %w", err)
	}
	lay := runcodec.LayOut(raw)
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE runs SET frame = ?, finding_order = ? WHERE id = ?`), string(raw.Frame), nullBytes(lay.Order), id); err != nil {
		return err
	}
	if err := s.writeParts(ctx, tx, id, at, raw, lay); err != nil {
		return err
	}
	_, back, err := s.readRun(ctx, tx, id)
	if err != nil {
		return err
	}
	if ok, err := runcodec.ReadsBack(back, doc); err != nil {
		return err
	} else if !ok {
		return errors.New("it does not read back as it was stored")
	}
	return nil
}

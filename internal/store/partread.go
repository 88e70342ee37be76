package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// PartReader reads a stored run in parts, for a reader that asks many
// questions of many runs and keeps what it made of a part (the panel): a
// part shared by runs (a version written as it was) is read once. Every
// Store this package opens is one.
type PartReader interface {
	// ReadParts reads run id: its frame (the run's JSON without its
	// accounts and findings), and then, in the run's order, each account's
	// part followed by the parts of its findings. known says whether the
	// reader has the text of a part's Key already; such a part comes
	// without it.
	ReadParts(ctx context.Context, id int64, known func(key int64) bool, visit func(Part) error) (RunInfo, []byte, error)
	// AccountFindings reads whole the findings run id holds of an account,
	// in the run's order; none when the run does not hold the account.
	AccountFindings(ctx context.Context, id int64, account string) ([]finding.Finding, error)
}

// Part is an account's or a finding's JSON as a stored run holds it,
// without a finding's change mark (which every run writes anew).
type Part struct {
	Account string
	// Finding says it is one of the account's findings, not the account.
	Finding bool
	// Key names the text among every stored run's parts: two parts with
	// the same key have the same text. 0: this run wrote it as no other
	// run did (times moved with the as-of time, or other exceptions).
	Key int64
	// JSON is the text; nil when known(Key).
	JSON []byte
}

// partBatch is how many accounts' parts ReadParts reads at once.
const partBatch = 500

// partKey names a ref's text when it is its version's as written: the
// two version tables number their versions apart.
func partKey(r ref, finding bool) int64 {
	if len(r.exc.exc) != 0 || r.exc.moved {
		return 0
	}
	if finding {
		return 2 * r.id
	}
	return 2*r.id + 1
}

func (s *sqlStore) ReadParts(ctx context.Context, id int64, known func(int64) bool, visit func(Part) error) (RunInfo, []byte, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return RunInfo{}, nil, err
	}
	defer tx.Rollback()
	var frame sql.NullString
	info, err := scanInfo(tx.QueryRowContext(ctx, s.q(`SELECT `+runColumns+`, frame FROM runs WHERE id = ?`), id), &frame)
	if errors.Is(err, sql.ErrNoRows) {
		return RunInfo{}, nil, fmt.Errorf("store %s: run %d: %w", s.name, id, ErrNotFound)
	}
	if err != nil {
		return RunInfo{}, nil, fmt.Errorf("store %s: run %d: %w", s.name, id, err)
	}
	rows, err := s.runRows(ctx, tx, `SELECT ra.run_id, ?, ra.account_id, ra.refs FROM run_accounts ra WHERE ra.run_id = ? ORDER BY ra.seq`, fmtTime(info.AsOf), id)
	if err != nil {
		return RunInfo{}, nil, fmt.Errorf("store %s: run %d: %w", s.name, id, err)
	}
	// Only the versions whose text the reader does not have are read, a
	// batch of accounts at a time: a run's texts are never all in memory.
	for b := 0; b < len(rows); b += partBatch {
		batch := rows[b:min(b+partBatch, len(rows))]
		var fids, aids []int64
		for _, r := range batch {
			if a := r.refs.account; a.id != 0 {
				if k := partKey(a, false); k == 0 || !known(k) {
					aids = append(aids, a.id)
				}
			}
			for _, f := range r.refs.findings {
				if k := partKey(f, true); k == 0 || !known(k) {
					fids = append(fids, f.id)
				}
			}
		}
		fv, err := s.versionsByID(ctx, tx, findingVersions, distinct(fids))
		if err != nil {
			return RunInfo{}, nil, err
		}
		av, err := s.versionsByID(ctx, tx, accountVersions, distinct(aids))
		if err != nil {
			return RunInfo{}, nil, err
		}
		part := func(vs map[int64]*version, r ref, p Part) error {
			if p.Key == 0 || !known(p.Key) {
				v := vs[r.id]
				if v == nil {
					return fmt.Errorf("store %s: run %d: version %d is missing (the store is damaged)", s.name, id, r.id)
				}
				if p.JSON, err = apply(v, r.exc, info.AsOf); err != nil {
					return fmt.Errorf("store %s: run %d: %w", s.name, id, err)
				}
			}
			return visit(p)
		}
		for _, r := range batch {
			if a := r.refs.account; a.id != 0 {
				if err := part(av, a, Part{Account: r.accountID, Key: partKey(a, false)}); err != nil {
					return RunInfo{}, nil, err
				}
			}
			for _, f := range r.refs.findings {
				if err := part(fv, f, Part{Account: r.accountID, Finding: true, Key: partKey(f, true)}); err != nil {
					return RunInfo{}, nil, err
				}
			}
		}
	}
	return info, []byte(frame.String), nil
}

func (s *sqlStore) AccountFindings(ctx context.Context, id int64, account string) ([]finding.Finding, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := s.runRows(ctx, tx, `SELECT ra.run_id, r.as_of, ra.account_id, ra.refs FROM run_accounts ra JOIN runs r ON r.id = ra.run_id
		WHERE ra.account_id = ? AND ra.run_id = ? ORDER BY ra.seq`, account, id)
	if err != nil {
		return nil, fmt.Errorf("store %s: run %d: %w", s.name, id, err)
	}
	var ids []int64
	for _, r := range rows {
		for _, f := range r.refs.findings {
			ids = append(ids, f.id)
		}
	}
	vs, err := s.versionsByID(ctx, tx, findingVersions, distinct(ids))
	if err != nil {
		return nil, err
	}
	out := []finding.Finding{}
	for _, r := range rows {
		for _, f := range r.refs.findings {
			v := vs[f.id]
			if v == nil {
				return nil, fmt.Errorf("store %s: run %d: version %d is missing (the store is damaged)", s.name, id, f.id)
			}
			b, err := apply(v, f.exc, r.asOf)
			if err != nil {
				return nil, fmt.Errorf("store %s: run %d: %w", s.name, id, err)
			}
			var fd finding.Finding
			if err := json.Unmarshal(withChange(b, f.change), &fd); err != nil {
				return nil, fmt.Errorf("store %s: run %d, account %s: %w", s.name, id, account, err)
			}
			out = append(out, fd)
		}
	}
	return out, nil
}

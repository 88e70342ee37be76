package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rootwatch/rootwatch/internal/store/runcodec"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// PartReader reads a stored run in parts, for a reader that asks many
// questions of many runs and keeps what it made of a part (the panel): a
// part shared by runs (a version written as it was) is read once. Every
// Store this package opens is one.
type PartReader interface {
	// ReadParts reads run id: its frame (the run's JSON without its
	// accounts and findings), and then, in the run's order, each account's
	// part followed by the parts of its findings. need is asked of each
	// part first (without its text) and says what visit gets of it.
	ReadParts(ctx context.Context, id int64, need func(Part) Need, visit func(Part) error) (RunInfo, []byte, error)
	// AccountFindings reads whole the findings run id holds of an account,
	// in the run's order; none when the run does not hold the account.
	AccountFindings(ctx context.Context, id int64, account string) ([]finding.Finding, error)
}

// Need is what a PartReader's reader needs of a part.
type Need int

const (
	// NeedText is the part's JSON.
	NeedText Need = iota
	// NeedNothing is for a part whose Key or Version the reader knows.
	NeedNothing
)

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
	// Version names the version the part is written from (never 0): the
	// same version, the same rule, status and severity (the versions'
	// columns); the text may differ where Key does.
	Version int64
	// JSON is the text, when needed.
	JSON []byte
}

// partBatch is how many accounts' parts ReadParts reads at once.
const partBatch = 500

// partKey names a ref's text when it is its version's as written: the
// two version tables number their versions apart.
func partKey(r runcodec.Ref, finding bool) int64 {
	if len(r.Exc.Exc) != 0 || r.Exc.Moved {
		return 0
	}
	return versionKey(r, finding)
}

func versionKey(r runcodec.Ref, finding bool) int64 {
	if finding {
		return 2 * r.ID
	}
	return 2*r.ID + 1
}

func (s *sqlStore) ReadParts(ctx context.Context, id int64, need func(Part) Need, visit func(Part) error) (RunInfo, []byte, error) {
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
	// Only what the reader needs is read, a batch of accounts at a time:
	// a run's texts are never all in memory.
	type asked struct {
		p    Part
		r    runcodec.Ref
		need Need
	}
	var parts []asked
	for b := 0; b < len(rows); b += partBatch {
		parts = parts[:0]
		var fids, aids []int64
		for _, r := range rows[b:min(b+partBatch, len(rows))] {
			if a := r.refs.Account; a.ID != 0 {
				p := Part{Account: r.accountID, Key: partKey(a, false), Version: versionKey(a, false)}
				n := need(p)
				if n != NeedNothing {
					n = NeedText
					aids = append(aids, a.ID)
				}
				parts = append(parts, asked{p, a, n})
			}
			for _, f := range r.refs.Findings {
				p := Part{Account: r.accountID, Finding: true, Key: partKey(f, true), Version: versionKey(f, true)}
				n := need(p)
				if n != NeedNothing {
					n = NeedText
					fids = append(fids, f.ID)
				}
				parts = append(parts, asked{p, f, n})
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
		for _, a := range parts {
			p := a.p
			if a.need == NeedText {
				vs := av
				if p.Finding {
					vs = fv
				}
				v := vs[a.r.ID]
				if v == nil {
					return RunInfo{}, nil, fmt.Errorf("store %s: run %d: version %d is missing (the store is damaged)", s.name, id, a.r.ID)
				}
				if p.JSON, err = runcodec.Apply(v, a.r.Exc, info.AsOf); err != nil {
					return RunInfo{}, nil, fmt.Errorf("store %s: run %d: %w", s.name, id, err)
				}
			}
			if err := visit(p); err != nil {
				return RunInfo{}, nil, err
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
		for _, f := range r.refs.Findings {
			ids = append(ids, f.ID)
		}
	}
	vs, err := s.versionsByID(ctx, tx, findingVersions, distinct(ids))
	if err != nil {
		return nil, err
	}
	out := []finding.Finding{}
	for _, r := range rows {
		for _, f := range r.refs.Findings {
			v := vs[f.ID]
			if v == nil {
				return nil, fmt.Errorf("store %s: run %d: version %d is missing (the store is damaged)", s.name, id, f.ID)
			}
			b, err := runcodec.Apply(v, f.Exc, r.asOf)
			if err != nil {
				return nil, fmt.Errorf("store %s: run %d: %w", s.name, id, err)
			}
			var fd finding.Finding
			if err := json.Unmarshal(runcodec.WithChange(b, f.Change), &fd); err != nil {
				return nil, fmt.Errorf("store %s: run %d, account %s: %w", s.name, id, account, err)
			}
			out = append(out, fd)
		}
	}
	return out, nil
}

package store

import (
	"context"
	"fmt"
	"time"
)

// Prune deletes the runs judged before the cutoff, then the versions no
// run kept still holds: a finding or account that did not change is one
// version shared by the runs that hold it, and stays as long as one of
// them does. The delivery log is not touched (Deliveries.PruneDeliveries).
func (s *sqlStore) Prune(ctx context.Context, before time.Time) (int, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.end()
	cutoff := fmtTime(before)
	// What the runs to delete hold, by account: the candidates.
	findings, accounts := map[string]map[int64]bool{}, map[string]map[int64]bool{}
	add := func(m map[string]map[int64]bool, acct string, id int64) {
		if m[acct] == nil {
			m[acct] = map[int64]bool{}
		}
		m[acct][id] = true
	}
	rows, err := s.runRows(ctx, tx, `SELECT ra.run_id, r.as_of, ra.account_id, ra.refs FROM run_accounts ra JOIN runs r ON r.id = ra.run_id WHERE r.as_of < ?`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store %s: prune: %w", s.name, s.lockErr(err))
	}
	for _, r := range rows {
		if r.refs.Account.ID != 0 {
			add(accounts, r.accountID, r.refs.Account.ID)
		}
		for _, f := range r.refs.Findings {
			add(findings, r.accountID, f.ID)
		}
	}
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM runs WHERE as_of < ?`), cutoff)
	if err != nil {
		return 0, fmt.Errorf("store %s: prune: %w", s.name, s.lockErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	// The candidates a kept run still holds stay: most are in each
	// account's newest row; older rows are read only for the rest.
	keep := func(r storedRow) {
		if a := accounts[r.accountID]; a != nil && r.refs.Account.ID != 0 {
			delete(a, r.refs.Account.ID)
		}
		if f := findings[r.accountID]; f != nil {
			for _, ref := range r.refs.Findings {
				delete(f, ref.ID)
			}
		}
	}
	open := func() []string {
		set := map[string]bool{}
		for _, m := range []map[string]map[int64]bool{findings, accounts} {
			for acct, ids := range m {
				if len(ids) > 0 {
					set[acct] = true
				}
			}
		}
		return keys(set)
	}
	for _, newest := range []bool{true, false} {
		if err := s.accountRows(ctx, tx, open(), newest, nil, keep); err != nil {
			return 0, fmt.Errorf("store %s: prune: %w", s.name, err)
		}
	}
	for table, m := range map[string]map[string]map[int64]bool{findingVersions.name: findings, accountVersions.name: accounts} {
		var gone []int64
		for _, ids := range m {
			for id := range ids {
				gone = append(gone, id)
			}
		}
		gone = distinct(gone)
		for start := 0; start < len(gone); start += chunk {
			part := gone[start:min(start+chunk, len(gone))]
			args := make([]any, len(part))
			for i, id := range part {
				args[i] = id
			}
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+table+` WHERE id IN (`+placeholders(len(part))+`)`), args...); err != nil {
				return 0, fmt.Errorf("store %s: prune %s: %w", s.name, table, s.lockErr(err))
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store %s: prune: %w", s.name, s.lockErr(err))
	}
	return int(n), nil
}

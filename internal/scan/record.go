package scan

import (
	"context"
	"fmt"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/store"
)

// Record keeps a judged run in the store: each finding gains its first
// seen time and its change since the previous run of the same scope, the
// run gains its place in the history, and then it is saved in one
// transaction. It returns the changes (empty for the first run of a
// scope).
func Record(ctx context.Context, s store.Store, run *finding.Run) ([]finding.Change, error) {
	scope := finding.Scope(run)
	h := &finding.History{Scope: scope, Changes: []finding.Change{}}
	var prev *finding.Run
	if info, ok, err := s.Previous(ctx, scope, 0); err != nil {
		return nil, err
	} else if ok {
		if prev, _, err = s.Load(ctx, info.ID); err != nil {
			return nil, err
		}
		asOf := info.AsOf
		h.PreviousRunID, h.PreviousAsOf = info.ID, &asOf
	}
	fps := make([]string, len(run.Findings))
	for i, f := range run.Findings {
		fps[i] = f.Fingerprint
	}
	seen, err := s.FirstSeen(ctx, fps)
	if err != nil {
		return nil, err
	}
	finding.Annotate(run, prev, seen)
	if prev != nil {
		h.Changes = finding.Compare(prev, run)
	}
	run.History = h
	info, err := s.Save(ctx, run, scope)
	if err != nil {
		return nil, fmt.Errorf("the run was judged but not stored: %w", err)
	}
	h.RunID = info.ID
	return h.Changes, nil
}

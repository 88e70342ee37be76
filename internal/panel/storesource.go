package panel

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/store"
	"github.com/rootwatch/rootwatch/internal/store/history"
)

// StoreSource is a Source over a store's public API (Runs, Load, and
// LastJudged through history.Changes). Runs are immutable once stored, so
// what it keeps of each (a digest without evidence) is cached by run id;
// every question lists the stored runs first, so a run stored or pruned
// since the last question is seen without a restart. Correct, not tuned:
// the first question reads every stored run once, and the index is
// rebuilt in memory whenever the runs change.
type StoreSource struct {
	s store.Store

	mu      sync.Mutex
	gen     string
	x       *index
	digests map[int64]*digest
	// whole are the runs most recently read whole (account page, diff).
	whole []wholeRun
}

type wholeRun struct {
	id  int64
	run *finding.Run
}

// wholeRuns is how many runs read whole StoreSource keeps: a diff needs
// two.
const wholeRuns = 2

// NewStoreSource answers from s, which it does not close.
func NewStoreSource(s store.Store) *StoreSource {
	return &StoreSource{s: s, digests: map[int64]*digest{}}
}

// generation names a list of stored runs.
func generation(runs []store.RunInfo) string {
	h := sha256.New()
	for _, r := range runs {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(r.ID)))
	}
	return fmt.Sprintf("%d-%s", len(runs), hex.EncodeToString(h.Sum(nil)[:8]))
}

func (ss *StoreSource) Generation(ctx context.Context) (string, error) {
	runs, err := ss.s.Runs(ctx, 0)
	if err != nil {
		return "", err
	}
	return generation(runs), nil
}

// index is the index of the runs stored now.
func (ss *StoreSource) index(ctx context.Context) (*index, error) {
	runs, err := ss.s.Runs(ctx, 0)
	if err != nil {
		return nil, err
	}
	gen := generation(runs)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.x != nil && gen == ss.gen {
		return ss.x, nil
	}
	keep := make(map[int64]*digest, len(runs))
	for _, info := range runs {
		d := ss.digests[info.ID]
		if d == nil {
			run, _, err := ss.s.Load(ctx, info.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue // pruned since it was listed
			}
			if err != nil {
				return nil, err
			}
			d = newDigest(run, info)
			// Kept for the digests already read when a later one fails.
			ss.digests[info.ID] = d
		}
		keep[info.ID] = d
	}
	ss.digests = keep
	ss.x = newIndex(slices.Collect(maps.Values(keep)))
	ss.gen = gen
	return ss.x, nil
}

// load reads a run whole, from the last few read or from the store.
func (ss *StoreSource) load(ctx context.Context, id int64) (*finding.Run, error) {
	ss.mu.Lock()
	for _, w := range ss.whole {
		if w.id == id {
			ss.mu.Unlock()
			return w.run, nil
		}
	}
	ss.mu.Unlock()
	run, _, err := ss.s.Load(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	ss.mu.Lock()
	ss.whole = append([]wholeRun{{id, run}}, ss.whole[:min(len(ss.whole), wholeRuns-1)]...)
	ss.mu.Unlock()
	return run, nil
}

func (ss *StoreSource) Overview(ctx context.Context) (Overview, error) {
	x, err := ss.index(ctx)
	if err != nil {
		return Overview{}, err
	}
	return x.overview(), nil
}

func (ss *StoreSource) Matrix(ctx context.Context, f Filter, p Page) (Matrix, error) {
	x, err := ss.index(ctx)
	if err != nil {
		return Matrix{}, err
	}
	return x.matrix(f, p)
}

func (ss *StoreSource) Account(ctx context.Context, id string) (AccountView, error) {
	x, err := ss.index(ctx)
	if err != nil {
		return AccountView{}, err
	}
	return x.account(ctx, id, ss.load)
}

func (ss *StoreSource) Rule(ctx context.Context, id string) (RuleView, error) {
	x, err := ss.index(ctx)
	if err != nil {
		return RuleView{}, err
	}
	return x.rule(id), nil
}

func (ss *StoreSource) Runs(ctx context.Context) ([]store.RunInfo, error) {
	x, err := ss.index(ctx)
	if err != nil {
		return nil, err
	}
	return x.stored, nil
}

func (ss *StoreSource) Suppressions(ctx context.Context) ([]Suppression, error) {
	x, err := ss.index(ctx)
	if err != nil {
		return nil, err
	}
	return x.suppressions(), nil
}

func (ss *StoreSource) Diff(ctx context.Context, from, to int64) (Diff, error) {
	x, err := ss.index(ctx)
	if err != nil {
		return Diff{}, err
	}
	fi, ti, err := x.diffRuns(from, to)
	if err != nil {
		return Diff{}, err
	}
	fromRun, err := ss.load(ctx, fi.ID)
	if err != nil {
		return Diff{}, err
	}
	toRun, err := ss.load(ctx, ti.ID)
	if err != nil {
		return Diff{}, err
	}
	changes, err := history.Changes(ctx, ss.s, fromRun, fi, toRun)
	if err != nil {
		return Diff{}, err
	}
	return Diff{From: fi, To: ti, Changes: changes}, nil
}

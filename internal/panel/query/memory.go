package query

import (
	"context"
	"fmt"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/store"
	"github.com/rootwatch/rootwatch/internal/store/history"
)

// Memory is a Source over runs held in memory, for tests: the runs get
// ids 1, 2, … in the order given, and are stored when they were
// generated.
type Memory struct {
	runs map[int64]*finding.Run
	x    *index
}

// NewMemory indexes runs. They must not change afterwards.
func NewMemory(runs ...*finding.Run) *Memory {
	m := &Memory{runs: map[int64]*finding.Run{}}
	var ds []*digest
	for i, r := range runs {
		id := int64(i + 1)
		scope := finding.Scope(r)
		if r.History != nil && r.History.Scope != "" {
			scope = r.History.Scope
		}
		info := store.RunInfo{ID: id, Scope: scope, GeneratedAt: r.GeneratedAt.UTC(), AsOf: r.AsOf.UTC(), StoredAt: r.GeneratedAt.UTC(),
			ToolVersion: r.Tool.Version, Accounts: len(r.Accounts), Summary: r.Summary}
		m.runs[id] = r
		ds = append(ds, newDigest(r, info))
	}
	m.x = newIndex(ds)
	return m
}

func (m *Memory) Generation(context.Context) (string, error) {
	return fmt.Sprintf("memory-%d", len(m.runs)), nil
}

func (m *Memory) Overview(context.Context) (Overview, error) { return m.x.overview(), nil }

func (m *Memory) Matrix(_ context.Context, f Filter, p Page) (Matrix, error) { return m.x.matrix(f, p) }

func (m *Memory) Account(ctx context.Context, id string) (AccountView, error) {
	return m.x.account(ctx, id, m.accountFindings)
}

func (m *Memory) Rule(_ context.Context, id string) (RuleView, error) { return m.x.rule(id), nil }

func (m *Memory) Runs(context.Context) ([]store.RunInfo, error) { return m.x.stored, nil }

func (m *Memory) Suppressions(context.Context) ([]Suppression, error) { return m.x.suppressions(), nil }

func (m *Memory) Diff(ctx context.Context, from, to int64) (Diff, error) {
	fi, ti, err := m.x.diffRuns(from, to)
	if err != nil {
		return Diff{}, err
	}
	changes, err := history.Changes(ctx, memoryVerdicts{m: m}, m.runs[fi.ID], fi, m.runs[ti.ID])
	if err != nil {
		return Diff{}, err
	}
	return Diff{From: fi, To: ti, Changes: changes}, nil
}

func (m *Memory) accountFindings(_ context.Context, id int64, account string) ([]finding.Finding, error) {
	r, ok := m.runs[id]
	if !ok {
		return nil, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	return accountFindings(r, account), nil
}

// accountFindings are the findings a run holds of an account.
func accountFindings(r *finding.Run, account string) []finding.Finding {
	var out []finding.Finding
	for _, f := range r.Findings {
		if f.AccountID == account {
			out = append(out, f)
		}
	}
	return out
}

// memoryVerdicts answers LastJudged over the memory's runs, which is all
// of a store history.Changes reads; the embedded Store is nil, so any other
// call would fail loudly.
type memoryVerdicts struct {
	store.Store
	m *Memory
}

func (v memoryVerdicts) LastJudged(_ context.Context, fingerprints []string, asOf time.Time, id int64) (map[string]store.Verdict, error) {
	want := map[string]bool{}
	for _, fp := range fingerprints {
		want[fp] = true
	}
	out := map[string]store.Verdict{}
	// Runs in judged order: a later verdict replaces an earlier one.
	for _, d := range v.m.x.runs {
		if d.info.AsOf.After(asOf) || (d.info.AsOf.Equal(asOf) && d.info.ID > id) {
			continue
		}
		for _, f := range v.m.runs[d.info.ID].Findings {
			if !want[f.Fingerprint] || !store.Judged(f.Status) {
				continue
			}
			seen := d.info.AsOf
			if f.FirstSeen != nil {
				seen = *f.FirstSeen
			}
			out[f.Fingerprint] = store.Verdict{Status: f.Status, FirstSeen: seen, RunID: d.info.ID, AsOf: d.info.AsOf}
		}
	}
	return out, nil
}

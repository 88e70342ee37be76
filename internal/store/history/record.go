// Package history keeps judged runs in the history store: a run gains, from
// the runs stored before it, each finding's first seen time and change and
// its own place in the history, and is then saved (Record, Import); Changes
// compares two stored runs the same way; ReadRun reads back a run a scan
// wrote as JSON, for import. The store only keeps runs; what a run means
// against its past is decided here, above it.
package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/store"
)

// Record keeps a judged run in the store: each finding gains its first
// seen time and its change since the previous run of the same scope, the
// run gains its place in the history, and then it is saved in one
// transaction. It returns the changes (empty for a baseline: a run none
// of whose findings the store judged before). When the run cannot be stored it carries no history marks.
//
// History means judged history: where the previous run did not judge a
// finding (error or unknown, or its account was not assessed), the last
// stored run that did stands in, so that a failure interrupted by a
// transient error is not new again, and its first_seen goes on.
func Record(ctx context.Context, s store.Store, run *finding.Run) ([]finding.Change, error) {
	return record(ctx, s, run, s.Save)
}

// Import stores a run judged earlier and kept as JSON (rootwatch runs
// import) in its place in time, as Record does, refusing one the store
// already holds (*store.DuplicateError).
func Import(ctx context.Context, s store.Store, run *finding.Run) ([]finding.Change, error) {
	return record(ctx, s, run, s.Import)
}

func record(ctx context.Context, s store.Store, run *finding.Run, save func(context.Context, *finding.Run, string) (store.RunInfo, error)) ([]finding.Change, error) {
	changes, err := mark(ctx, s, run)
	if err == nil {
		var info store.RunInfo
		if info, err = save(ctx, run, run.History.Scope); err == nil {
			run.History.RunID = info.ID
			return changes, nil
		}
	}
	// Outputs are still written: without marks that name no stored run.
	run.History = nil
	for i := range run.Findings {
		run.Findings[i].FirstSeen, run.Findings[i].Change = nil, ""
	}
	return nil, fmt.Errorf("the run was judged but not stored: %w", err)
}

// mark compares the run with the store's history: first_seen and change
// on each finding, and the run's History.
func mark(ctx context.Context, s store.Store, run *finding.Run) ([]finding.Change, error) {
	scope := finding.Scope(run)
	h := &finding.History{Scope: scope, Changes: []finding.Change{}}
	var prev *finding.Run
	info, ok, err := s.Latest(ctx, scope, run.AsOf)
	if err != nil {
		return nil, err
	}
	// Without a previous run of the scope, the verdicts of every stored
	// run as of this one's time give first_seen.
	pointAsOf, pointID := run.AsOf, int64(math.MaxInt64)
	if ok {
		if prev, _, err = s.Load(ctx, info.ID); err != nil {
			return nil, err
		}
		asOf := info.AsOf
		h.PreviousRunID, h.PreviousAsOf = info.ID, &asOf
		pointAsOf, pointID = info.AsOf, info.ID
	}
	last, err := lastVerdicts(ctx, s, prev, run, pointAsOf, pointID)
	if err != nil {
		return nil, err
	}
	if prev == nil && len(last) > 0 {
		// No earlier run of this scope, but the store judged some of these
		// findings (an account or a rule was added since, or other
		// accounts were scanned): they are compared with their last
		// verdicts, and what the store never judged is new. Treating such a
		// run as a baseline would keep a new account's failures from ever
		// being told under --notify-on new.
		prev = fromVerdicts(run, last)
	}
	h.Baseline = prev == nil
	before := byFingerprint(prev)
	finding.Annotate(run, prev, nil)
	for i := range run.Findings {
		f := &run.Findings[i]
		p := before[f.Fingerprint]
		t := firstSeen(run.AsOf, p, f, last)
		f.FirstSeen = &t
		if prev != nil {
			f.Change = judgedKind(f.Change, p, f, last)
		}
	}
	if prev != nil {
		h.Changes = judgedChanges(prev, run, last)
	}
	run.History = h
	return h.Changes, nil
}

// Changes lists what changed from one stored run to a later one, as
// Record listed it: where from did not judge a finding, the last stored
// run before it that did stands in.
func Changes(ctx context.Context, s store.Store, from *finding.Run, fromInfo store.RunInfo, to *finding.Run) ([]finding.Change, error) {
	last, err := lastVerdicts(ctx, s, from, to, fromInfo.AsOf, fromInfo.ID)
	if err != nil {
		return nil, err
	}
	return judgedChanges(from, to, last), nil
}

// lastVerdicts asks the store, for each finding of run that prev did not
// judge (or hold; every finding when prev is nil), for its last verdict at
// or before the point (asOf, id).
func lastVerdicts(ctx context.Context, s store.Store, prev, run *finding.Run, asOf time.Time, id int64) (map[string]store.Verdict, error) {
	before := byFingerprint(prev)
	var need []string
	for _, f := range run.Findings {
		if p := before[f.Fingerprint]; p == nil || !store.Judged(p.Status) {
			need = append(need, f.Fingerprint)
		}
	}
	if len(need) == 0 {
		return map[string]store.Verdict{}, nil
	}
	return s.LastJudged(ctx, need, asOf, id)
}

// fromVerdicts stands for the previous run when the scope has none: each
// finding of run the store judged, with its last verdict.
func fromVerdicts(run *finding.Run, last map[string]store.Verdict) *finding.Run {
	prev := &finding.Run{}
	for _, f := range run.Findings {
		v, ok := last[f.Fingerprint]
		if !ok {
			continue
		}
		seen := v.FirstSeen
		prev.Findings = append(prev.Findings, finding.Finding{Fingerprint: f.Fingerprint, RuleID: f.RuleID, AccountID: f.AccountID,
			Resource: f.Resource, Severity: f.Severity, Title: f.Title, Status: v.Status, FirstSeen: &seen})
	}
	return prev
}

func byFingerprint(run *finding.Run) map[string]*finding.Finding {
	out := map[string]*finding.Finding{}
	if run != nil {
		for i := range run.Findings {
			out[run.Findings[i].Fingerprint] = &run.Findings[i]
		}
	}
	return out
}

// firstSeen is since when f has had its status: carried from the previous
// run (p) when it judged the same, or from the last run that judged it
// when p did not judge it; a finding not judged now carries the start of
// its stretch without a verdict. Otherwise, now.
func firstSeen(asOf time.Time, p, f *finding.Finding, last map[string]store.Verdict) time.Time {
	t := asOf
	switch judged := store.Judged(f.Status); {
	case p != nil && p.FirstSeen != nil && store.Judged(p.Status) == judged && (p.Status == f.Status || !judged):
		t = *p.FirstSeen
	case judged && (p == nil || !store.Judged(p.Status)):
		if v, ok := last[f.Fingerprint]; ok && v.Status == f.Status {
			t = v.FirstSeen
		}
	}
	if t.After(asOf) {
		t = asOf
	}
	return t.UTC()
}

// judgedKind corrects a change kind where the previous run (p) did not
// judge the finding: a failure whose last verdict was fail is not new
// (it changed from error or unknown), and a pass after one is resolved.
func judgedKind(kind string, p, f *finding.Finding, last map[string]store.Verdict) string {
	v, ok := last[f.Fingerprint]
	if !ok || (p != nil && store.Judged(p.Status)) || v.Status != finding.StatusFail {
		return kind
	}
	switch f.Status {
	case finding.StatusFail:
		return finding.ChangeChanged
	case finding.StatusPass, finding.StatusNotApplicable, finding.StatusSuppressed:
		return finding.ChangeResolved
	}
	return kind
}

// judgedChanges is finding.Compare with judgedKind applied.
func judgedChanges(from, to *finding.Run, last map[string]store.Verdict) []finding.Change {
	changes := finding.Compare(from, to)
	before, now := byFingerprint(from), byFingerprint(to)
	out := changes[:0]
	for _, c := range changes {
		if f := now[c.Fingerprint]; f != nil && c.Fingerprint != "" {
			c.Kind = judgedKind(c.Kind, before[c.Fingerprint], f, last)
		}
		out = append(out, c)
	}
	finding.SortChanges(out)
	if out == nil {
		out = []finding.Change{}
	}
	return out
}

// ReadRun reads a run from the JSON a scan wrote (-f json), for import,
// and checks it is one: schema 1 from rootwatch, with its times, accounts
// of 12 digits, findings of those accounts whose statuses, severities and
// fingerprints are what a scan writes, and a summary that counts them.
// Errors name the file (name), the finding and the field. History marks it
// carries are dropped: the store it goes into marks it again.
func ReadRun(r io.Reader, name string) (*finding.Run, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var run finding.Run
	if err := dec.Decode(&run); err != nil {
		return nil, fmt.Errorf("%s is not the JSON of a rootwatch run (-f json): %w", name, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: more than one JSON document", name)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}
	switch {
	case run.SchemaVersion != finding.SchemaVersion:
		return nil, bad("schema_version %q, want %q", run.SchemaVersion, finding.SchemaVersion)
	case run.Tool.Name != "rootwatch":
		return nil, bad("tool.name %q: not a rootwatch run", run.Tool.Name)
	case run.AsOf.IsZero() || run.GeneratedAt.IsZero():
		return nil, bad("as_of and generated_at are required")
	case len(run.Findings) == 0:
		return nil, bad("the run holds no finding: nothing was judged, nothing to store")
	}
	accounts := map[string]bool{}
	for i, a := range run.Accounts {
		if !evidence.ValidAccountID(a.AccountID) {
			return nil, bad("accounts[%d].account_id %q is not a 12-digit account ID", i, a.AccountID)
		}
		if accounts[a.AccountID] {
			return nil, bad("account %s is listed twice", a.AccountID)
		}
		switch a.Status {
		case finding.AccountAssessed, finding.AccountPartial, finding.AccountFailed, finding.AccountSkipped:
		default:
			return nil, bad("account %s: status %q is not an account status", a.AccountID, a.Status)
		}
		accounts[a.AccountID] = true
	}
	statuses := map[finding.Status]bool{}
	for _, st := range finding.Statuses() {
		statuses[st] = true
	}
	fingerprints := map[string]bool{}
	for i := range run.Findings {
		f := &run.Findings[i]
		where := fmt.Sprintf("findings[%d] (%s, account %s)", i, f.RuleID, f.AccountID)
		switch {
		case f.RuleID == "":
			return nil, bad("findings[%d]: rule_id is empty", i)
		case !accounts[f.AccountID]:
			return nil, bad("%s: the account is not among the run's accounts", where)
		case !statuses[f.Status]:
			return nil, bad("%s: status %q is not a status", where, f.Status)
		case f.Severity.Rank() < 0:
			return nil, bad("%s: severity %q is not a severity", where, f.Severity)
		case f.Fingerprint != finding.Fingerprint(f.RuleID, f.AccountID, f.Resource):
			return nil, bad("%s: the fingerprint is not that of its rule, account and resource (was the file edited?)", where)
		case fingerprints[f.Fingerprint]:
			return nil, bad("%s: the finding is listed twice", where)
		}
		fingerprints[f.Fingerprint] = true
		f.FirstSeen, f.Change = nil, ""
	}
	if got := finding.Summarize(run.Findings); got != run.Summary {
		return nil, bad("the summary %+v does not count the findings (%+v)", run.Summary, got)
	}
	run.History = nil
	return &run, nil
}

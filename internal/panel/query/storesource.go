package query

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/store"
	"github.com/rootwatch/rootwatch/internal/store/history"
)

// StoreSource is a Source over a store's public API (Runs, Load, and
// LastJudged through history.Changes). Runs are immutable once stored, so
// what it keeps of each (a digest without evidence) is cached by run id;
// every question lists the stored runs first, so a run stored or pruned
// since the last question is seen without a restart. A store that reads
// runs in parts (store.PartReader, every store this project opens) gives
// a run's accounts and findings without evidence decoded, and the parts a
// run shares with runs read before are not read again: their accounts and
// briefs are shared by the digests. The account page reads only the
// account's findings.
type StoreSource struct {
	s store.Store

	mu      sync.Mutex
	gen     string
	x       *index
	digests map[int64]*digest
	parts   *parts
	// whole are the runs most recently read for a diff.
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
	return &StoreSource{s: s, digests: map[int64]*digest{}, parts: newParts()}
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

// Prepare reads the stored runs ahead of the first question and says how
// many it holds: serve calls it once it listens, so that the first page
// asked does not wait for them all (a question asked meanwhile waits for
// the same reading).
func (ss *StoreSource) Prepare(ctx context.Context) (int, error) {
	x, err := ss.index(ctx)
	if err != nil {
		return 0, err
	}
	return len(x.runs), nil
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
	// Newest first in judged order: a run's findings of an account a later
	// run assessed are kept as their verdicts alone (thin), as is all the
	// questions ask of them; the account's current run keeps them whole.
	judged := slices.Clone(runs)
	slices.SortFunc(judged, func(a, b store.RunInfo) int {
		return cmp.Or(b.AsOf.Compare(a.AsOf), cmp.Compare(b.ID, a.ID))
	})
	newer := map[string]bool{} // accounts a later run assessed
	named := map[string]said{} // what later runs said of the accounts they held
	// A run shares what did not change with the run next to it.
	var prev *digest
	if len(judged) > 1 {
		prev = ss.digests[judged[1].ID]
	}
	for _, info := range judged {
		d := ss.digests[info.ID]
		if d == nil {
			var err error
			d, err = ss.digest(ctx, info, prev, newer, named)
			if errors.Is(err, store.ErrNotFound) {
				continue // pruned since it was listed
			}
			if err != nil {
				return nil, err
			}
		} else {
			d = d.thinned(newer, ss.parts.thin)
		}
		// Kept for the digests already read when a later one fails.
		ss.digests[info.ID] = d
		keep[info.ID] = d
		for i, id := range d.order {
			if assessed(d.accounts[i]) {
				newer[id] = true
			}
			named[id] |= saidOf(d.accounts[i])
		}
		prev = d
	}
	if len(keep) < len(ss.digests) {
		// Runs were pruned: the parts only they held go with them.
		ss.parts = newParts()
	}
	ss.digests = keep
	ss.x = newIndex(slices.Collect(maps.Values(keep)))
	ss.gen = gen
	return ss.x, nil
}

// read reads a run for a diff, without what a diff does not read (the
// findings' evidence, the accounts' sources) when the store reads runs in
// parts: whole, a run of 10,000 accounts takes most of a GiB.
func (ss *StoreSource) read(ctx context.Context, id int64) (*finding.Run, error) {
	pr, ok := ss.s.(store.PartReader)
	if !ok {
		run, _, err := ss.s.Load(ctx, id)
		return run, err
	}
	var accounts []finding.Account
	var findings []finding.Finding
	_, frame, err := pr.ReadParts(ctx, id, func(store.Part) store.Need { return store.NeedText }, func(p store.Part) error {
		if !p.Finding {
			var a finding.Account
			if err := json.Unmarshal(p.JSON, &a); err != nil {
				return fmt.Errorf("run %d, account %s: %w", id, p.Account, err)
			}
			a.Sources = nil
			accounts = append(accounts, a)
			return nil
		}
		var f finding.Finding
		if err := json.Unmarshal(p.JSON, &f); err != nil {
			return fmt.Errorf("run %d, account %s: %w", id, p.Account, err)
		}
		f.Evidence = nil
		findings = append(findings, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var run finding.Run
	if err := json.Unmarshal(frame, &run); err != nil {
		return nil, fmt.Errorf("run %d: %w", id, err)
	}
	run.Accounts, run.Findings = accounts, findings
	if run.History != nil {
		run.History.RunID = id // as Load gives it
	}
	return &run, nil
}

// load reads a run for a diff, from the last few read or from the store.
func (ss *StoreSource) load(ctx context.Context, id int64) (*finding.Run, error) {
	ss.mu.Lock()
	for _, w := range ss.whole {
		if w.id == id {
			ss.mu.Unlock()
			return w.run, nil
		}
	}
	ss.mu.Unlock()
	run, err := ss.read(ctx, id)
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
	return x.account(ctx, id, ss.accountFindings)
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

// digest reads what the index keeps of a run, in parts when the store
// reads them, sharing with prev what is the same; the findings of the
// accounts in newer (a later run assessed them) are kept thin. Of an
// account a later run said all named says it said, the part is not read
// again if its version was: its status is the version's, and so is what
// it says at all (a name, an OU path, tags), though not the words, which
// the later run's stand for. Called with ss.mu held.
func (ss *StoreSource) digest(ctx context.Context, info store.RunInfo, prev *digest, newer map[string]bool, named map[string]said) (*digest, error) {
	pr, ok := ss.s.(store.PartReader)
	if !ok {
		run, _, err := ss.s.Load(ctx, info.ID)
		if err != nil {
			return nil, err
		}
		return newDigest(run, info).thinned(newer, ss.parts.thin), nil
	}
	db := newDigestBuilder(info, prev)
	// Briefs without a first_seen take the run's as-of time, which the
	// frame gives at the end.
	var undated []*brief
	need := func(p store.Part) store.Need {
		switch {
		case !p.Finding && ss.parts.account(p.Key) != nil:
		case !p.Finding && ss.parts.accountVersion(p.Version, named, p.Account) != nil:
		case p.Finding && ss.parts.brief(p.Key) != nil:
		case p.Finding && newer[p.Account] && ss.parts.thinOf(p.Version) != nil:
		default:
			return store.NeedText
		}
		return store.NeedNothing
	}
	stored, frame, err := pr.ReadParts(ctx, info.ID, need, func(p store.Part) error {
		if !p.Finding {
			a := ss.parts.account(p.Key)
			if a == nil {
				a = ss.parts.accountVersion(p.Version, named, p.Account)
			}
			if a == nil {
				var err error
				if a, err = accountPart(p.JSON); err != nil {
					return fmt.Errorf("run %d, account %s: %w", info.ID, p.Account, err)
				}
				// Written anew by each run (its sources' times), the
				// same account as far as the panel reads it.
				a = ss.parts.sameAccount(a)
				ss.parts.keepAccount(p.Key, a)
				ss.parts.keepAccountVersion(p.Version, a)
			}
			db.account(a, !newer[p.Account])
			return nil
		}
		thin := newer[p.Account]
		b := ss.parts.brief(p.Key)
		if b == nil && thin {
			b = ss.parts.thinOf(p.Version)
		}
		if b == nil {
			var dated bool
			var err error
			if b, dated, err = briefPart(p.JSON, ss.parts.intern); err != nil {
				return fmt.Errorf("run %d, account %s: %w", info.ID, p.Account, err)
			}
			switch {
			case thin:
				// A version's rule, status and severity are its own; its
				// title is the rule's.
				b = ss.parts.keepThin(p.Version, b)
			case !dated:
				undated = append(undated, b)
			default:
				ss.parts.keepBrief(p.Key, b)
			}
		} else if thin {
			b = ss.parts.thin(b)
		}
		db.finding(p.Account, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var head struct {
		AsOf          time.Time              `json:"as_of"`
		DisabledRules []finding.DisabledRule `json:"disabled_rules"`
	}
	if err := json.Unmarshal(frame, &head); err != nil {
		return nil, fmt.Errorf("run %d: %w", info.ID, err)
	}
	asOf := head.AsOf
	if asOf.IsZero() {
		asOf = stored.AsOf
	}
	for _, b := range undated {
		b.FirstSeen = asOf
	}
	return db.done(head.DisabledRules), nil
}

// parts are the accounts and briefs StoreSource read, by store.Part.Key
// (a version's id, doubled, plus one for an account's): shared by every
// run that holds them. Strings that repeat (rule IDs, titles, messages)
// are kept once.
type parts struct {
	briefs   []*brief
	accounts []*finding.Account
	strs     map[string]string
	// same are the accounts read, one for each account as the panel
	// reads it (sources left out).
	same map[accountKey]*finding.Account
	// byAccountVersion are accounts as some run wrote their version.
	byAccountVersion []*finding.Account
	// thins are the thin briefs by verdict, and by version.
	thins     map[verdict]*brief
	byVersion []*brief
}

// verdict is what a thin brief keeps.
type verdict struct {
	rule, title string
	status      finding.Status
	severity    finding.Severity
}

func newParts() *parts {
	return &parts{strs: map[string]string{}, thins: map[verdict]*brief{}, same: map[accountKey]*finding.Account{}}
}

// said is what an account's part says at all: a name, an OU path, tags.
type said uint8

const (
	saidName said = 1 << iota
	saidOU
	saidTags
)

func saidOf(a *finding.Account) said {
	var s said
	if a.Name != "" {
		s |= saidName
	}
	if a.OUPath != "" {
		s |= saidOU
	}
	if a.Tags != nil {
		s |= saidTags
	}
	return s
}

// accountVersion is an account as a version was read (by any run), when
// later runs held the account and said all it says at all (named: what
// later runs said of each account they held). The last run that holds an
// account is read whole: its error is the account's outcome.
func (ps *parts) accountVersion(version int64, named map[string]said, account string) *finding.Account {
	later, held := named[account]
	if i := version / 2; held && version > 0 && i < int64(len(ps.byAccountVersion)) {
		if a := ps.byAccountVersion[i]; a != nil && saidOf(a)&^later == 0 {
			return a
		}
	}
	return nil
}

func (ps *parts) keepAccountVersion(version int64, a *finding.Account) {
	if version > 0 && (version/2 >= int64(len(ps.byAccountVersion)) || ps.byAccountVersion[version/2] == nil) {
		ps.byAccountVersion = put(ps.byAccountVersion, version/2, a)
	}
}

// accountKey is an account's part as the panel reads it, tags written
// key=value in key order.
type accountKey struct {
	id, name, ou, partition, error, tags string
	status                               finding.AccountStatus
}

func (ps *parts) sameAccount(a *finding.Account) *finding.Account {
	var tags strings.Builder
	for _, k := range slices.Sorted(maps.Keys(a.Tags)) {
		fmt.Fprintf(&tags, "%q=%q,", k, a.Tags[k])
	}
	k := accountKey{id: a.AccountID, name: a.Name, ou: a.OUPath, partition: a.Partition, error: a.Error, tags: tags.String(), status: a.Status}
	if b := ps.same[k]; b != nil {
		return b
	}
	ps.same[k] = a
	return a
}

// thin is a brief's verdict alone, one brief for each.
func (ps *parts) thin(b *brief) *brief {
	v := verdict{b.RuleID, b.Title, b.Status, b.Severity}
	t := ps.thins[v]
	if t == nil {
		t = &brief{RuleID: b.RuleID, Title: b.Title, Status: b.Status, Severity: b.Severity, thin: true}
		ps.thins[v] = t
	}
	return t
}

func (ps *parts) thinOf(version int64) *brief {
	if i := version / 2; version > 0 && i < int64(len(ps.byVersion)) {
		return ps.byVersion[i]
	}
	return nil
}

func (ps *parts) keepThin(version int64, b *brief) *brief {
	t := ps.thin(b)
	if version > 0 {
		ps.byVersion = put(ps.byVersion, version/2, t)
	}
	return t
}

func (ps *parts) known(k int64) bool {
	if k%2 == 0 {
		return ps.brief(k) != nil
	}
	return ps.account(k) != nil
}

func (ps *parts) brief(k int64) *brief {
	if i := k / 2; k > 0 && k%2 == 0 && i < int64(len(ps.briefs)) {
		return ps.briefs[i]
	}
	return nil
}

func (ps *parts) account(k int64) *finding.Account {
	if i := k / 2; k > 0 && k%2 == 1 && i < int64(len(ps.accounts)) {
		return ps.accounts[i]
	}
	return nil
}

func (ps *parts) keepBrief(k int64, b *brief) {
	if k > 0 {
		ps.briefs = put(ps.briefs, k/2, b)
	}
}

func (ps *parts) keepAccount(k int64, a *finding.Account) {
	if k > 0 {
		ps.accounts = put(ps.accounts, k/2, a)
	}
}

func put[T any](s []*T, i int64, v *T) []*T {
	if i >= int64(len(s)) {
		s = slices.Grow(s, int(i)+1-len(s))[:i+1]
	}
	s[i] = v
	return s
}

func (ps *parts) intern(s string) string {
	if v, ok := ps.strs[s]; ok {
		return v
	}
	ps.strs[s] = s
	return s
}

// accountPart reads an account's part without its sources.
func accountPart(data []byte) (*finding.Account, error) {
	var a struct {
		AccountID string                `json:"account_id"`
		Name      string                `json:"name"`
		OUPath    string                `json:"ou_path"`
		Partition string                `json:"partition"`
		Status    finding.AccountStatus `json:"status"`
		Error     string                `json:"error"`
		Tags      map[string]string     `json:"tags"`
	}
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, err
	}
	return &finding.Account{AccountID: a.AccountID, Name: a.Name, OUPath: a.OUPath, Partition: a.Partition, Status: a.Status, Error: a.Error, Tags: a.Tags}, nil
}

// briefPart reads a finding's part as a brief; dated says it carries its
// first_seen.
func briefPart(data []byte, intern func(string) string) (*brief, bool, error) {
	var f struct {
		RuleID      string           `json:"rule_id"`
		Title       string           `json:"title"`
		Resource    string           `json:"resource"`
		Message     string           `json:"message"`
		Fingerprint string           `json:"fingerprint"`
		Status      finding.Status   `json:"status"`
		Severity    finding.Severity `json:"severity"`
		FirstSeen   *time.Time       `json:"first_seen"`
		// The suppression_* keys, as a map of any would hold them.
		Evidence struct {
			Reason  any `json:"suppression_reason"`
			Owner   any `json:"suppression_owner"`
			Expired any `json:"suppression_expired"`
			Expires any `json:"suppression_expires"`
			Status  any `json:"suppressed_status"`
		} `json:"evidence"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, false, err
	}
	ev := map[string]any{"suppression_reason": f.Evidence.Reason, "suppression_owner": f.Evidence.Owner,
		"suppression_expired": f.Evidence.Expired, "suppression_expires": f.Evidence.Expires, "suppressed_status": f.Evidence.Status}
	b := &brief{RuleID: intern(f.RuleID), Title: intern(f.Title), Resource: f.Resource, Message: intern(f.Message), Fingerprint: f.Fingerprint,
		Status: finding.Status(intern(string(f.Status))), Severity: finding.Severity(intern(string(f.Severity))), Sup: suppressionOf(evidenceOf(ev), f.Status)}
	if f.FirstSeen != nil {
		b.FirstSeen = *f.FirstSeen
	}
	return b, f.FirstSeen != nil, nil
}

// accountFindings reads the findings a run holds of an account: only
// those when the store reads runs in parts.
func (ss *StoreSource) accountFindings(ctx context.Context, id int64, account string) ([]finding.Finding, error) {
	if pr, ok := ss.s.(store.PartReader); ok {
		fs, err := pr.AccountFindings(ctx, id, account)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("run %d: %w", id, ErrNotFound)
		}
		return fs, err
	}
	run, err := ss.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return accountFindings(run, account), nil
}

package query

import (
	"iter"
	"slices"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/store"
)

// digest is what the index keeps of a stored run: its accounts and its
// findings without evidence (the account page reads them whole). Runs
// share what did not change between them: the accounts and briefs, the
// lists of an account's briefs, and the table of the accounts' places
// when they list the same accounts in the same order.
type digest struct {
	info     store.RunInfo
	order    []string         // the IDs of the accounts the run lists, in its order
	pos      map[string]int32 // order's index by ID
	accounts []*finding.Account
	findings [][]*brief // by account, as order
	// whole says which accounts' findings are whole briefs; the others'
	// are thin (a later run assessed the account: only verdicts are asked
	// of this run's findings of it).
	whole []bool
	// unlisted are the findings of accounts the run does not list.
	unlisted map[string][]*brief
	// disabled are the rules the run's configuration turned off: judged
	// for no account, shown as such rather than left out.
	disabled []finding.DisabledRule
}

// brief is a finding without its evidence.
type brief struct {
	RuleID, Title, Resource, Message, Fingerprint string
	Status                                        finding.Status
	Severity                                      finding.Severity
	FirstSeen                                     time.Time
	Sup                                           *suppressed
	// thin says only RuleID, Title, Status and Severity are kept.
	thin bool
}

// suppressed is a suppression as a stored finding carries it: in its
// evidence (finding.Suppression is not part of the JSON).
type suppressed struct {
	Reason, Owner string
	Expires       time.Time
	Expired       bool
	Status        finding.Status
}

// account is the account as the run lists it; nil when it does not.
func (d *digest) account(id string) *finding.Account {
	if i, ok := d.pos[id]; ok {
		return d.accounts[i]
	}
	return nil
}

// findingsOf are the run's findings of an account.
func (d *digest) findingsOf(id string) []*brief {
	if i, ok := d.pos[id]; ok {
		return d.findings[i]
	}
	return d.unlisted[id]
}

// all are the run's findings.
func (d *digest) all() iter.Seq[*brief] {
	return func(yield func(*brief) bool) {
		for _, bs := range d.findings {
			for _, b := range bs {
				if !yield(b) {
					return
				}
			}
		}
		for _, bs := range d.unlisted {
			for _, b := range bs {
				if !yield(b) {
					return
				}
			}
		}
	}
}

// digestBuilder makes a digest from a run's accounts and findings, in
// any order, sharing with prev (a digest of another run) what is the
// same.
type digestBuilder struct {
	d    *digest
	prev *digest
	by   map[string][]*brief
}

func newDigestBuilder(info store.RunInfo, prev *digest) *digestBuilder {
	return &digestBuilder{d: &digest{info: info, pos: map[string]int32{}}, prev: prev, by: map[string][]*brief{}}
}

// account lists an account, whose findings are whole briefs or thin;
// listed again, its later part stands in its first place.
func (b *digestBuilder) account(a *finding.Account, whole bool) {
	if i, dup := b.d.pos[a.AccountID]; dup {
		b.d.accounts[i], b.d.whole[i] = a, whole
		return
	}
	b.d.pos[a.AccountID] = int32(len(b.d.order))
	b.d.order = append(b.d.order, a.AccountID)
	b.d.accounts = append(b.d.accounts, a)
	b.d.whole = append(b.d.whole, whole)
}

func (b *digestBuilder) finding(account string, f *brief) {
	b.by[account] = append(b.by[account], f)
}

func (b *digestBuilder) done(disabled []finding.DisabledRule) *digest {
	d, prev := b.d, b.prev
	d.disabled = disabled
	d.findings = make([][]*brief, len(d.order))
	for i, id := range d.order {
		bs := b.by[id]
		delete(b.by, id)
		if prev != nil {
			if was := prev.findingsOf(id); slices.Equal(was, bs) {
				d.findings[i] = was
				continue
			}
		}
		d.findings[i] = slices.Clip(bs)
	}
	if len(b.by) > 0 {
		d.unlisted = b.by
	}
	if prev != nil && slices.Equal(prev.order, d.order) {
		d.order, d.pos = prev.order, prev.pos
	}
	d.accounts = slices.Clip(d.accounts)
	return d
}

func newDigest(run *finding.Run, info store.RunInfo) *digest {
	b := newDigestBuilder(info, nil)
	for _, a := range run.Accounts {
		a.Sources = nil
		b.account(&a, true)
	}
	for _, f := range run.Findings {
		br := &brief{RuleID: f.RuleID, Title: f.Title, Resource: f.Resource, Message: f.Message, Fingerprint: f.Fingerprint,
			Status: f.Status, Severity: f.Severity, FirstSeen: run.AsOf, Sup: suppressionOf(evidenceOf(f.Evidence), f.Status)}
		if f.FirstSeen != nil {
			br.FirstSeen = *f.FirstSeen
		}
		b.finding(f.AccountID, br)
	}
	return b.done(run.DisabledRules)
}

// thinned is the digest with the findings of the accounts in newer thin
// (thin makes a brief so); d itself when none is whole. A digest is never
// changed: questions in flight may read it.
func (d *digest) thinned(newer map[string]bool, thin func(*brief) *brief) *digest {
	var out *digest
	for i, id := range d.order {
		if !d.whole[i] || !newer[id] {
			continue
		}
		if out == nil {
			cp := *d
			cp.findings, cp.whole = slices.Clone(d.findings), slices.Clone(d.whole)
			out = &cp
		}
		bs := make([]*brief, len(d.findings[i]))
		for k, b := range d.findings[i] {
			bs[k] = thin(b)
		}
		out.findings[i], out.whole[i] = bs, false
	}
	if out == nil {
		return d
	}
	return out
}

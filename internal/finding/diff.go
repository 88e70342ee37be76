package finding

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Kinds of change between two runs.
const (
	ChangeNewFailure  = "new_failure"  // fails now; before it did not, or was absent (with a store: its last verdict was not fail)
	ChangeResolved    = "resolved"     // failed before; now pass, not_applicable or suppressed
	ChangeChanged     = "changed"      // any other change of status
	ChangeAdded       = "added"        // absent before, present now, not failing
	ChangeRemoved     = "removed"      // present before, absent now
	ChangeNotAssessed = "not_assessed" // an account assessed before is failed, skipped or absent now
	ChangeUnchanged   = "unchanged"    // on a finding: the same status as before
)

// Change is one difference between two runs: a finding (by fingerprint)
// or, for not_assessed, an account (its statuses in from/to_status).
type Change struct {
	Kind        string     `json:"kind"`
	Fingerprint string     `json:"fingerprint,omitempty"`
	RuleID      string     `json:"rule_id,omitempty"`
	AccountID   string     `json:"account_id"`
	Resource    string     `json:"resource,omitempty"`
	Severity    Severity   `json:"severity,omitempty"`
	Title       string     `json:"title,omitempty"`
	Message     string     `json:"message,omitempty"`
	FromStatus  *string    `json:"from_status"`
	ToStatus    *string    `json:"to_status"`
	FirstSeen   *time.Time `json:"first_seen,omitempty"`
}

// Compare lists what changed from one run to the next, worst first
// (new failures, then accounts no longer assessed, resolved, changed,
// added, removed), then by account and rule. Unchanged findings are not
// listed.
func Compare(from, to *Run) []Change {
	before := map[string]*Finding{}
	for i := range from.Findings {
		before[from.Findings[i].Fingerprint] = &from.Findings[i]
	}
	var out []Change
	seen := map[string]bool{}
	for i := range to.Findings {
		f := &to.Findings[i]
		seen[f.Fingerprint] = true
		prev := before[f.Fingerprint]
		kind := changeKind(prev, f)
		if kind == ChangeUnchanged {
			continue
		}
		c := Change{Kind: kind, Fingerprint: f.Fingerprint, RuleID: f.RuleID, AccountID: f.AccountID, Resource: f.Resource,
			Severity: f.Severity, Title: f.Title, Message: f.Message, ToStatus: str(string(f.Status)), FirstSeen: f.FirstSeen}
		if prev != nil {
			c.FromStatus = str(string(prev.Status))
		}
		out = append(out, c)
	}
	for i := range from.Findings {
		f := &from.Findings[i]
		if !seen[f.Fingerprint] {
			out = append(out, Change{Kind: ChangeRemoved, Fingerprint: f.Fingerprint, RuleID: f.RuleID, AccountID: f.AccountID, Resource: f.Resource,
				Severity: f.Severity, Title: f.Title, Message: f.Message, FromStatus: str(string(f.Status))})
		}
	}
	now := map[string]Account{}
	for _, a := range to.Accounts {
		now[a.AccountID] = a
	}
	for _, a := range from.Accounts {
		if a.Status != AccountAssessed && a.Status != AccountPartial {
			continue
		}
		b, ok := now[a.AccountID]
		if ok && (b.Status == AccountAssessed || b.Status == AccountPartial) {
			continue
		}
		c := Change{Kind: ChangeNotAssessed, AccountID: a.AccountID, FromStatus: str(string(a.Status))}
		if ok {
			c.ToStatus, c.Message = str(string(b.Status)), b.Error
		}
		out = append(out, c)
	}
	SortChanges(out)
	return out
}

// SortChanges puts changes in Compare's order: worst first, then by
// account and rule.
func SortChanges(changes []Change) {
	rank := map[string]int{ChangeNewFailure: 0, ChangeNotAssessed: 1, ChangeResolved: 2, ChangeChanged: 3, ChangeAdded: 4, ChangeRemoved: 5}
	slices.SortStableFunc(changes, func(a, b Change) int {
		return cmp.Or(cmp.Compare(rank[a.Kind], rank[b.Kind]), cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			strings.Compare(a.AccountID, b.AccountID), strings.Compare(a.RuleID, b.RuleID), strings.Compare(a.Resource, b.Resource))
	})
}

// changeKind classifies one finding against its previous state (nil:
// absent before).
func changeKind(prev, f *Finding) string {
	switch {
	case f.Status == StatusFail && (prev == nil || prev.Status != StatusFail):
		return ChangeNewFailure
	case prev == nil:
		return ChangeAdded
	case prev.Status == f.Status:
		return ChangeUnchanged
	case prev.Status == StatusFail && (f.Status == StatusPass || f.Status == StatusNotApplicable || f.Status == StatusSuppressed):
		return ChangeResolved
	}
	return ChangeChanged
}

// Annotate marks each finding of run with its change since prev (nil: no
// previous run of the scope, and nothing is marked) and its first-seen
// time from firstSeen (a finding not in it is first seen now).
func Annotate(run, prev *Run, firstSeen map[string]time.Time) {
	before := map[string]*Finding{}
	if prev != nil {
		for i := range prev.Findings {
			before[prev.Findings[i].Fingerprint] = &prev.Findings[i]
		}
	}
	for i := range run.Findings {
		f := &run.Findings[i]
		t, ok := firstSeen[f.Fingerprint]
		if !ok || run.AsOf.Before(t) {
			t = run.AsOf
		}
		t = t.UTC()
		f.FirstSeen = &t
		if prev != nil {
			f.Change = changeKind(before[f.Fingerprint], f)
		}
	}
}

// Scope identifies what a run judged (its accounts and rules), so that a
// run is compared with the previous run of the same question.
func Scope(run *Run) string {
	var accounts, rules []string
	for _, a := range run.Accounts {
		accounts = append(accounts, a.AccountID)
	}
	for _, f := range run.Findings {
		rules = append(rules, f.RuleID)
	}
	slices.Sort(accounts)
	slices.Sort(rules)
	rules = slices.Compact(rules)
	sum := sha256.Sum256([]byte(strings.Join(accounts, ",") + "\x00" + strings.Join(rules, ",")))
	return hex.EncodeToString(sum[:8])
}

func str(s string) *string { return &s }

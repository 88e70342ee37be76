package scan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
)

// noCloudTrail is the source detail when no CloudTrail was given; a front
// end may add how to give it in its own words (Options.CloudTrailHint).
const noCloudTrail = "no CloudTrail evidence was given"

// attachCloudTrail gives each scanned account its root's events from res
// (whose root acted: userIdentity.accountId, wherever it was logged), and
// the period the sources show of it: from the earliest to the latest event
// time of every record its own trail logged (recipientAccountId, root's or
// not). The management account's calls about this root (AssumeRoot, primary
// e-mail changes: TargetAccount) are its events too. Another account's trail
// shows what this root did there, never that it did nothing else: such events can fail its rules, while only its own
// trail's coverage can let them pass. Events of accounts outside the scan,
// and other roots' events in this account's trail, are counted in the
// detail, not lost. A source read with problems (damaged, not CloudTrail,
// a loop of links, records too large) makes the state partial: its events
// still count, but no rule passes on it.
func attachCloudTrail(accounts []*evidence.Account, res cloudtrail.Result, description string, now time.Time) {
	var problems []string
	var queries []evidence.QueryInfo
	var queried []string
	readable := 0
	for _, s := range res.Sources {
		if s.Query != nil {
			queries = append(queries, *s.Query)
			q := s.Query.Engine + " query"
			if s.Query.ID != "" {
				q += " " + s.Query.ID
			}
			queried = append(queried, fmt.Sprintf("%s (%s scanned)", q, evidence.Bytes(s.Query.BytesScanned)))
		}
		switch {
		case s.Error != "":
			problems = append(problems, fmt.Sprintf("%s: %s", s.Path, s.Error))
		case s.Undecodable > 0:
			problems = append(problems, fmt.Sprintf("%s: %d records could not be decoded", s.Path, s.Undecodable))
		}
		if s.Error == "" && s.NotRead == "" {
			readable++
		}
	}
	scanned := map[string]bool{}
	for _, a := range accounts {
		scanned[a.ID] = true
	}
	others := 0
	for _, e := range res.Events {
		if !scanned[e.AccountID] && !scanned[e.OtherAccount] && !scanned[e.TargetAccount()] {
			others++
		}
	}
	for _, a := range accounts {
		ct := &evidence.CloudTrail{Problems: problems, Description: description, Queries: queries}
		var span evidence.Span
		for _, s := range res.Sources {
			span.Merge(s.Coverage[a.ID])
		}
		ct.From, ct.To = span.From, span.To
		elsewhere, visitors := 0, map[string]int{}
		for _, e := range res.Events {
			switch {
			case e.Concerns(a.ID):
				ct.Events = append(ct.Events, e)
				if e.OnResourceOf() != "" {
					elsewhere++
				}
			case e.Recipient == a.ID || slices.Contains(e.LoggedIn, a.ID):
				visitors[e.AccountID]++
			}
		}
		for _, s := range res.Sources {
			ct.AccountEvents += s.Accounts[a.ID]
		}
		detail := fmt.Sprintf("%s: %s for this account, %d of them root's", description, evidence.Count(ct.AccountEvents, "event"), len(ct.Events))
		if !span.From.IsZero() {
			detail += fmt.Sprintf(", from %s to %s", span.From.Format(time.RFC3339), span.To.Format(time.RFC3339))
		}
		if elsewhere > 0 {
			detail += fmt.Sprintf("; %d of this root's events on resources of other accounts, logged in their trails", elsewhere)
		}
		for _, v := range slices.Sorted(maps.Keys(visitors)) {
			detail += fmt.Sprintf("; %s by the root of account %s on this account's resources (that account's root activity, not this one's)", evidence.Count(visitors[v], "root event"), v)
		}
		if others > 0 {
			detail += "; " + evidence.Count(others, "root event") + " of accounts not in this scan"
		}
		if len(queried) > 0 {
			detail += "; " + strings.Join(queried, ", ")
		}
		if len(problems) > 0 {
			detail += fmt.Sprintf("; %s with problems (partial: its events count, but no rule passes on it): %s", evidence.Count(len(problems), "source"), strings.Join(problems, "; "))
		}
		state := evidence.StateOK
		switch {
		case readable == 0:
			state = evidence.StateError
		case len(problems) > 0:
			state = evidence.StatePartial
		}
		a.CloudTrail = ct
		a.SetSource(evidence.SourceCloudTrail, evidence.SourceStatus{State: state, Detail: detail, CollectedAt: now})
	}
}

// markNoCloudTrail records that no CloudTrail evidence was given, so the
// account shows as partial and the CloudTrail rules say why they are unknown.
func markNoCloudTrail(accounts []*evidence.Account, hint string) {
	detail := noCloudTrail
	if hint != "" {
		detail += " (" + hint + ")"
	}
	for _, a := range accounts {
		if _, ok := a.Sources[evidence.SourceCloudTrail]; !ok {
			a.SetSource(evidence.SourceCloudTrail, evidence.SourceStatus{State: evidence.StateMissing, Detail: detail})
		}
	}
}

// shareCallsAboutRoots gives each account of an organization scan the
// calls another account's LookupEvents read about its root (the management
// account's AssumeRoot calls and primary e-mail changes naming it), and
// links its root sessions again with them. They are positive evidence of
// what happened to that root; the account's own coverage is unchanged.
func shareCallsAboutRoots(accounts []*evidence.Account) {
	byID := map[string]*evidence.Account{}
	for _, a := range accounts {
		if usable(a) {
			byID[a.ID] = a
		}
	}
	shared := map[string]map[string]int{} // recipient → from → count
	for _, from := range accounts {
		if !usable(from) {
			continue
		}
		for _, e := range from.CloudTrail.Events {
			to := byID[e.TargetAccount()]
			if to == nil || to == from || slices.ContainsFunc(to.CloudTrail.Events, func(x evidence.Event) bool { return x.EventID == e.EventID && x.Digest == e.Digest }) {
				continue
			}
			to.CloudTrail.Events = append(to.CloudTrail.Events, e)
			if shared[to.ID] == nil {
				shared[to.ID] = map[string]int{}
			}
			shared[to.ID][from.ID]++
		}
	}
	for id, froms := range shared {
		a := byID[id]
		cloudtrail.LinkRootSessions(a.CloudTrail.Events)
		evidence.SortNewestFirst(a.CloudTrail.Events)
		st := a.Source(evidence.SourceCloudTrail)
		for _, from := range slices.Sorted(maps.Keys(froms)) {
			st.Detail += fmt.Sprintf("; %s about this root (AssumeRoot, e-mail changes) from account %s's LookupEvents", evidence.Count(froms[from], "call"), from)
		}
		a.SetSource(evidence.SourceCloudTrail, st)
	}
}

// usable reports whether an account's CloudTrail evidence was read.
func usable(a *evidence.Account) bool {
	st := a.Source(evidence.SourceCloudTrail).State
	return a.CloudTrail != nil && (st == evidence.StateOK || st == evidence.StatePartial)
}

package scan

import (
	"fmt"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
)

// noCloudTrail is the source detail when no CloudTrail was given; a front
// end may add how to give it in its own words (Options.CloudTrailHint).
const noCloudTrail = "no CloudTrail evidence was given"

// attachCloudTrail gives each scanned account its root events from res, and
// the period the sources show of it: from the earliest to the latest event
// time of every record of the account (root's or not). Events of accounts
// outside the scan are counted in the detail, not lost.
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
		if s.Error == "" {
			readable++
		}
	}
	scanned := map[string]bool{}
	for _, a := range accounts {
		scanned[a.ID] = true
	}
	others := 0
	for _, e := range res.Events {
		if !scanned[e.AccountID] {
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
		for _, e := range res.Events {
			if e.AccountID == a.ID {
				ct.Events = append(ct.Events, e)
			}
		}
		for _, s := range res.Sources {
			ct.AccountEvents += s.Accounts[a.ID]
		}
		detail := fmt.Sprintf("%s: %s for this account, %d of them root's", description, evidence.Count(ct.AccountEvents, "event"), len(ct.Events))
		if !span.From.IsZero() {
			detail += fmt.Sprintf(", from %s to %s", span.From.Format(time.RFC3339), span.To.Format(time.RFC3339))
		}
		if others > 0 {
			detail += "; " + evidence.Count(others, "root event") + " of accounts not in this scan"
		}
		if len(queried) > 0 {
			detail += "; " + strings.Join(queried, ", ")
		}
		if len(problems) > 0 {
			detail += fmt.Sprintf("; %s with problems: %s", evidence.Count(len(problems), "source"), strings.Join(problems, "; "))
		}
		state := evidence.StateOK
		if readable == 0 {
			state = evidence.StateError
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

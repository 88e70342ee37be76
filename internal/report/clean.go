package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// clean returns a copy of the run whose text from AWS (messages,
// resources, evidence, account reasons and source details) has control
// characters and bidirectional overrides escaped (Sanitize), for formats
// that people read in a terminal, a browser, a spreadsheet or a CI page.
// The JSON, ASFF and OCSF outputs are for machines and keep data verbatim
// (their encoders escape control characters).
func clean(run *finding.Run) *finding.Run {
	out := *run
	out.Accounts = make([]finding.Account, len(run.Accounts))
	for i, a := range run.Accounts {
		a.AccountID, a.Error, a.Name, a.OUPath = Sanitize(a.AccountID), Sanitize(a.Error), Sanitize(a.Name), Sanitize(a.OUPath)
		a.Sources = append([]finding.Source(nil), a.Sources...)
		for j := range a.Sources {
			a.Sources[j].Detail = Sanitize(a.Sources[j].Detail)
		}
		out.Accounts[i] = a
	}
	if run.History != nil {
		h := *run.History
		h.Changes = append([]finding.Change(nil), h.Changes...)
		for i := range h.Changes {
			c := &h.Changes[i]
			c.Message, c.Title, c.AccountID, c.RuleID, c.Resource = Sanitize(c.Message), Sanitize(c.Title), Sanitize(c.AccountID), Sanitize(c.RuleID), Sanitize(c.Resource)
		}
		out.History = &h
	}
	out.Findings = make([]finding.Finding, len(run.Findings))
	for i, f := range run.Findings {
		f.Title, f.Message, f.Resource, f.Region, f.AccountID = Sanitize(f.Title), Sanitize(f.Message), Sanitize(f.Resource), Sanitize(f.Region), Sanitize(f.AccountID)
		if f.Suppression != nil {
			s := *f.Suppression
			s.Reason, s.Owner = Sanitize(s.Reason), Sanitize(s.Owner)
			f.Suppression = &s
		}
		f.Evidence = cleanEvidence(f.Evidence)
		out.Findings[i] = f
	}
	return &out
}

// cleanEvidence sanitizes every string of an evidence map, keys included,
// at any depth; numbers keep their text.
func cleanEvidence(ev map[string]any) map[string]any {
	b, err := json.Marshal(ev)
	if err != nil {
		return map[string]any{"evidence": "(not representable: " + err.Error() + ")"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return map[string]any{"evidence": "(not representable: " + err.Error() + ")"}
	}
	return cleanValue(v).(map[string]any)
}

func cleanValue(v any) any {
	switch x := v.(type) {
	case string:
		return Sanitize(x)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[Sanitize(k)] = cleanValue(e)
		}
		return m
	case []any:
		for i := range x {
			x[i] = cleanValue(x[i])
		}
		return x
	}
	return v
}

// Clean makes one line of untrusted text fit for a terminal: bounded in
// length (evidence.Bound) and sanitized.
func Clean(s string) string { return Sanitize(evidence.Bound(s)) }

// cardRank orders the statuses that get an HTML card (fail, error,
// unknown); -1 for the others.
func cardRank(s finding.Status) int {
	switch s {
	case finding.StatusFail:
		return 0
	case finding.StatusError:
		return 1
	case finding.StatusUnknown:
		return 2
	}
	return -1
}

// seenNote is what a stored run says of a finding's history:
// " (first seen 2026-03-01; new_failure)", or "" without a store.
func seenNote(f finding.Finding) string {
	if f.FirstSeen == nil {
		return ""
	}
	note := " (first seen " + f.FirstSeen.Format("2006-01-02")
	if f.Change != "" && f.Change != finding.ChangeUnchanged {
		note += "; " + f.Change
	}
	return note + ")"
}

// disabledLine says which rules the configuration turned off, each as
// quote renders its id, or "" when none was: a rule judged for no account
// must not vanish from a summary.
func disabledLine(run *finding.Run, quote func(string) string) string {
	if len(run.DisabledRules) == 0 {
		return ""
	}
	ids := make([]string, len(run.DisabledRules))
	for i, r := range run.DisabledRules {
		ids[i] = quote(r.RuleID)
	}
	return fmt.Sprintf("Disabled by the configuration, judged for no account: %s (%s).", evidence.Count(len(ids), "rule"), strings.Join(ids, ", "))
}

// Package engine evaluates the rule catalog against accounts' evidence with
// resolved settings and a fixed as-of time, isolating each rule, applying
// suppressions, and assembling the Run that writers print.
package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
)

// RuleSettings are per-rule overrides; zero values mean "use the default".
type RuleSettings struct {
	Disabled bool
	Severity finding.Severity
	// Params holds the parameters set for the rule, by name (a duration in
	// nanoseconds); the rule's declared defaults fill the rest. Lists
	// holds its list parameters, each entry as the parameter's Check
	// returned it.
	Params map[string]int64
	// Lists holds the list parameters set for the rule, by name.
	Lists map[string][]string
}

// Suppression accepts a known finding until it expires.
type Suppression struct {
	RuleID    string
	AccountID string // empty: every account
	Resource  string // empty: every resource
	Reason    string
	Owner     string    // who answers for it; empty: nobody named
	Expires   time.Time // zero: never
}

// Settings are the resolved tunables of a run.
type Settings struct {
	// Window is the run's window: the default of every rule's window
	// parameter that declares none of its own.
	Window       time.Duration
	MaxReportAge time.Duration
	Rules        map[string]RuleSettings
	Suppressions []Suppression
}

// For resolves the settings one rule receives: each declared parameter
// from the rule's own setting, else its declared default, else (a window)
// the run's window.
func (s Settings) For(r rules.Rule) rules.Settings {
	out := rules.Settings{MaxReportAge: s.MaxReportAge, Values: make(map[string]int64, len(r.Params)), Lists: map[string][]string{}}
	set := s.Rules[r.ID].Params
	for _, p := range r.Params {
		if p.Kind == rules.KindList {
			l, ok := s.Rules[r.ID].Lists[p.Name]
			if !ok {
				l = p.DefaultList
			}
			out.Lists[p.Name] = slices.Clone(l)
			continue
		}
		v := p.Default
		if p.Name == rules.ParamWindow && v == 0 {
			v = int64(s.Window)
		}
		if x, ok := set[p.Name]; ok {
			v = x
		}
		out.Values[p.Name] = v
	}
	return out
}

// Widest is the largest value of a duration parameter over the rules, zero
// when none declares it (e.g. how far back CloudTrail must reach).
func (s Settings) Widest(catalog []rules.Rule, name string) time.Duration {
	var d time.Duration
	for _, r := range catalog {
		if _, ok := r.Param(name); ok {
			d = max(d, s.For(r).Duration(name))
		}
	}
	return d
}

// Enabled filters the catalog by the settings.
func (s Settings) Enabled(catalog []rules.Rule) []rules.Rule {
	return slices.DeleteFunc(slices.Clone(catalog), func(r rules.Rule) bool { return s.Rules[r.ID].Disabled })
}

// Disabled lists the rules of the catalog the settings turn off, in
// catalog order (never nil), with their configured severity.
func (s Settings) Disabled(catalog []rules.Rule) []finding.DisabledRule {
	out := []finding.DisabledRule{}
	for _, r := range catalog {
		rs := s.Rules[r.ID]
		if !rs.Disabled {
			continue
		}
		sev := r.Severity
		if rs.Severity != "" {
			sev = rs.Severity
		}
		out = append(out, finding.DisabledRule{RuleID: r.ID, Title: r.Title, Severity: sev})
	}
	return out
}

// Evaluate runs every rule against every account that was not skipped. Each
// rule yields at least one finding per account; a rule that panics or
// returns nothing yields an error finding and the others go on.
func Evaluate(accounts []*evidence.Account, catalog []rules.Rule, s Settings, asOf time.Time) []finding.Finding {
	var out []finding.Finding
	byID := make(map[string]*evidence.Account, len(accounts))
	for _, a := range accounts {
		if a.Error == "" && a.Skipped == "" {
			byID[a.ID] = a
		}
	}
	peer := func(id string) *evidence.Account { return byID[id] }
	for _, a := range accounts {
		if a.Skipped != "" {
			continue
		}
		for _, r := range catalog {
			for _, res := range evalOne(r, rules.Input{Account: a, AsOf: asOf, Settings: s.For(r), Peer: peer}) {
				out = append(out, toFinding(r, a, res, s))
			}
		}
	}
	for i := range out {
		applySuppressions(&out[i], s.Suppressions, asOf)
	}
	SortFindings(out)
	return out
}

func evalOne(r rules.Rule, in rules.Input) (results []rules.Result) {
	defer func() {
		if p := recover(); p != nil {
			results = []rules.Result{{Status: finding.StatusError,
				Message:  fmt.Sprintf("Rule %s failed while evaluating (panic: %v); the other rules were evaluated.", r.ID, p),
				Evidence: map[string]any{"panic": fmt.Sprint(p)}}}
		}
	}()
	results = r.Eval(in)
	if len(results) == 0 {
		results = []rules.Result{{Status: finding.StatusError,
			Message: fmt.Sprintf("Rule %s returned no verdict.", r.ID), Evidence: map[string]any{}}}
	}
	return results
}

func toFinding(r rules.Rule, a *evidence.Account, res rules.Result, s Settings) finding.Finding {
	sev := r.Severity
	if o := s.Rules[r.ID].Severity; o != "" {
		sev = o
	}
	resource := res.Resource
	if resource == "" {
		resource = a.RootARN()
	}
	region := res.Region
	if region == "" {
		region = "global"
	}
	ev := res.Evidence
	if ev == nil {
		ev = map[string]any{}
	}
	return finding.Finding{
		RuleID:      r.ID,
		Title:       r.Title,
		Status:      res.Status,
		Severity:    sev,
		AccountID:   a.ID,
		Region:      region,
		Resource:    resource,
		Message:     res.Message,
		Evidence:    ev,
		Fingerprint: finding.Fingerprint(r.ID, a.ID, resource),
	}
}

// applySuppressions marks a finding suppressed when an unexpired suppression
// matches it. Passes and not-applicable findings need no exception and stay.
func applySuppressions(f *finding.Finding, sups []Suppression, asOf time.Time) {
	if f.Status == finding.StatusPass || f.Status == finding.StatusNotApplicable {
		return
	}
	for _, s := range sups {
		if s.RuleID != f.RuleID || (s.AccountID != "" && s.AccountID != f.AccountID) || (s.Resource != "" && s.Resource != f.Resource) {
			continue
		}
		if !s.Expires.IsZero() && !asOf.Before(s.Expires) {
			f.Evidence["suppression_expired"] = s.Expires.UTC().Format(time.RFC3339)
			f.Evidence["suppression_reason"] = s.Reason
			if s.Owner != "" {
				f.Evidence["suppression_owner"] = s.Owner
			}
			f.Suppression = &finding.Suppression{Reason: s.Reason, Owner: s.Owner, Expires: s.Expires.UTC(), Expired: true, Status: f.Status}
			continue
		}
		f.Suppression = &finding.Suppression{Reason: s.Reason, Owner: s.Owner, Expires: s.Expires.UTC(), Status: f.Status}
		f.Evidence["suppressed_status"] = string(f.Status)
		f.Evidence["suppression_reason"] = s.Reason
		if s.Owner != "" {
			f.Evidence["suppression_owner"] = s.Owner
		}
		if !s.Expires.IsZero() {
			f.Evidence["suppression_expires"] = s.Expires.UTC().Format(time.RFC3339)
		}
		f.Status = finding.StatusSuppressed
		f.Message = fmt.Sprintf("Suppressed (%s): %s", s.Reason, f.Message)
		return
	}
}

// SortFindings orders findings by account, then severity (worst first), rule
// and resource, so that output is deterministic.
func SortFindings(fs []finding.Finding) {
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		return cmp.Or(
			strings.Compare(a.AccountID, b.AccountID),
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			strings.Compare(a.RuleID, b.RuleID),
			strings.Compare(a.Resource, b.Resource))
	})
}

// AccountOutcome derives an account's status from its sources.
func AccountOutcome(a *evidence.Account) finding.Account {
	out := finding.Account{AccountID: a.ID, Name: a.Name, Partition: a.Partition, Sources: []finding.Source{}, Tags: a.Tags}
	if a.SCPs != nil {
		// The SCP reader walks the account's path and names it.
		out.OUPath = a.SCPs.OUPath
	}
	ok, notOK := 0, 0
	for _, name := range a.SourceNames() {
		st := a.Sources[name]
		src := finding.Source{Name: name, State: string(st.State), Detail: st.Detail}
		if name == evidence.SourceCredentialReport && a.CredentialReport != nil && !a.CredentialReport.GeneratedTime.IsZero() {
			src.GeneratedTime = a.CredentialReport.GeneratedTime.UTC().Format(time.RFC3339)
		}
		out.Sources = append(out.Sources, src)
		if st.State == evidence.StateOK {
			ok++
		} else {
			notOK++
		}
	}
	switch {
	case a.Skipped != "":
		out.Status, out.Error = finding.AccountSkipped, a.Skipped
	case a.Error != "":
		out.Status, out.Error = finding.AccountFailed, a.Error
	case ok == 0:
		out.Status, out.Error = finding.AccountFailed, "no evidence source could be collected"
	case notOK > 0:
		out.Status = finding.AccountPartial
	default:
		out.Status = finding.AccountAssessed
	}
	return out
}

// BuildRun assembles the result of a scan; disabled are the rules the
// settings turned off (Settings.Disabled).
func BuildRun(tool finding.Tool, accounts []*evidence.Account, findings []finding.Finding, disabled []finding.DisabledRule, settings map[string]string, asOf, now time.Time) finding.Run {
	accs := make([]finding.Account, 0, len(accounts))
	for _, a := range accounts {
		accs = append(accs, AccountOutcome(a))
	}
	slices.SortStableFunc(accs, func(a, b finding.Account) int { return strings.Compare(a.AccountID, b.AccountID) })
	if findings == nil {
		findings = []finding.Finding{}
	}
	if disabled == nil {
		disabled = []finding.DisabledRule{}
	}
	return finding.Run{
		SchemaVersion: finding.SchemaVersion,
		Tool:          tool,
		GeneratedAt:   now.UTC(),
		AsOf:          asOf.UTC(),
		Settings:      settings,
		Accounts:      accs,
		Findings:      findings,
		DisabledRules: disabled,
		Summary:       finding.Summarize(findings),
	}
}

package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
)

var asOf = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func fixedRule(id string, sev finding.Severity, st finding.Status) rules.Rule {
	return rules.Rule{ID: id, Title: id, Severity: sev, Eval: func(rules.Input) []rules.Result {
		return []rules.Result{{Status: st, Message: "m", Evidence: map[string]any{}}}
	}}
}

func accounts(ids ...string) []*evidence.Account {
	var out []*evidence.Account
	for _, id := range ids {
		out = append(out, &evidence.Account{ID: id, Partition: "aws"})
	}
	return out
}

func TestPanicAndEmptyResultBecomeErrors(t *testing.T) {
	cat := []rules.Rule{
		{ID: "panics", Severity: finding.SeverityHigh, Eval: func(rules.Input) []rules.Result { panic("boom") }},
		{ID: "silent", Severity: finding.SeverityHigh, Eval: func(rules.Input) []rules.Result { return nil }},
		fixedRule("ok", finding.SeverityHigh, finding.StatusPass),
	}
	fs := Evaluate(accounts("111111111111"), cat, Settings{}, asOf)
	if len(fs) != 3 {
		t.Fatalf("findings = %d, want 3", len(fs))
	}
	got := map[string]finding.Finding{}
	for _, f := range fs {
		got[f.RuleID] = f
	}
	if got["panics"].Status != finding.StatusError || !strings.Contains(got["panics"].Message, "panic: boom") {
		t.Errorf("panic: %+v", got["panics"])
	}
	if got["silent"].Status != finding.StatusError {
		t.Errorf("silent rule: %+v", got["silent"])
	}
	if got["ok"].Status != finding.StatusPass {
		t.Errorf("the run did not go on after a panic: %+v", got["ok"])
	}
}

func TestSettingsOverridesAndDisable(t *testing.T) {
	var seen rules.Settings
	r := rules.Rule{ID: "w", Severity: finding.SeverityLow, Params: []rules.Param{
		{Name: rules.ParamWindow, Kind: rules.KindDuration},
		{Name: rules.ParamThreshold, Kind: rules.KindCount, Default: 3},
		{Name: "burst", Kind: rules.KindCount, Default: 7},
	}, Eval: func(in rules.Input) []rules.Result {
		seen = in.Settings
		return []rules.Result{{Status: finding.StatusFail}}
	}}
	s := Settings{Window: 15 * 24 * time.Hour, MaxReportAge: 4 * time.Hour, Rules: map[string]RuleSettings{
		"w":   {Severity: finding.SeverityCritical, Params: map[string]int64{rules.ParamWindow: int64(36 * time.Hour), rules.ParamThreshold: 5}},
		"off": {Disabled: true},
	}}
	cat := s.Enabled([]rules.Rule{r, fixedRule("off", finding.SeverityHigh, finding.StatusFail)})
	if len(cat) != 1 || cat[0].ID != "w" {
		t.Fatalf("Enabled = %v", cat)
	}
	fs := Evaluate(accounts("111111111111"), cat, s, asOf)
	// Set values win, an undeclared-but-defaulted one keeps its default.
	if seen.Window() != 36*time.Hour || seen.Count(rules.ParamThreshold) != 5 || seen.Count("burst") != 7 || seen.MaxReportAge != 4*time.Hour || len(seen.Values) != 3 {
		t.Errorf("rule saw %+v", seen)
	}
	if got := s.For(rules.Rule{ID: "x", Params: r.Params[:1]}).Window(); got != 15*24*time.Hour {
		t.Errorf("a window without a default or a setting = %s, want the run's window", got)
	}
	if got := s.Widest([]rules.Rule{r, {ID: "none"}}, rules.ParamWindow); got != 36*time.Hour {
		t.Errorf("Widest = %s, want 36h", got)
	}
	if fs[0].Severity != finding.SeverityCritical {
		t.Errorf("severity override not applied: %s", fs[0].Severity)
	}
	if fs[0].Resource != "arn:aws:iam::111111111111:root" || fs[0].Region != "global" || fs[0].Fingerprint == "" {
		t.Errorf("defaults: %+v", fs[0])
	}
	// The disabled rule is listed, with its configured severity, so that
	// writers can say it was judged for no account.
	s.Rules["off"] = RuleSettings{Disabled: true, Severity: finding.SeverityLow}
	off := fixedRule("off", finding.SeverityHigh, finding.StatusFail)
	off.Title = "Off"
	if got := s.Disabled([]rules.Rule{r, off}); len(got) != 1 || got[0] != (finding.DisabledRule{RuleID: "off", Title: "Off", Severity: finding.SeverityLow}) {
		t.Errorf("Disabled = %+v", got)
	}
	if got := (Settings{}).Disabled([]rules.Rule{r}); got == nil || len(got) != 0 {
		t.Errorf("Disabled with none off = %#v, want an empty list", got)
	}
	run := BuildRun(finding.Tool{}, nil, nil, nil, nil, asOf, asOf)
	if run.DisabledRules == nil {
		t.Error("BuildRun leaves disabled_rules null")
	}
}

func TestSuppressions(t *testing.T) {
	cat := []rules.Rule{fixedRule("r", finding.SeverityHigh, finding.StatusFail), fixedRule("p", finding.SeverityHigh, finding.StatusPass)}
	s := Settings{Suppressions: []Suppression{
		{RuleID: "r", AccountID: "111111111111", Reason: "accepted", Owner: "secops", Expires: asOf.Add(time.Hour)},
		{RuleID: "r", AccountID: "222222222222", Reason: "old", Expires: asOf},
		{RuleID: "p", Reason: "nothing to suppress"},
	}}
	fs := Evaluate(accounts("111111111111", "222222222222", "333333333333"), cat, s, asOf)
	by := map[string]finding.Finding{}
	for _, f := range fs {
		by[f.AccountID+"/"+f.RuleID] = f
	}
	if f := by["111111111111/r"]; f.Status != finding.StatusSuppressed || f.Evidence["suppressed_status"] != "fail" || f.Evidence["suppression_reason"] != "accepted" ||
		f.Suppression == nil || f.Suppression.Reason != "accepted" || f.Suppression.Status != finding.StatusFail || f.Suppression.Expired ||
		f.Suppression.Owner != "secops" || f.Evidence["suppression_owner"] != "secops" {
		t.Errorf("active suppression: %+v", f)
	}
	// No owner named: no owner key, rather than an empty one.
	if f := by["222222222222/r"]; f.Status != finding.StatusFail || f.Evidence["suppression_expired"] == nil || f.Suppression == nil || !f.Suppression.Expired || f.Evidence["suppression_owner"] != nil {
		t.Errorf("expired suppression must not apply: %+v", f)
	}
	if f := by["333333333333/r"]; f.Status != finding.StatusFail {
		t.Errorf("suppression for another account applied: %+v", f)
	}
	if f := by["111111111111/p"]; f.Status != finding.StatusPass {
		t.Errorf("a pass was suppressed: %+v", f)
	}
}

func TestOrderAndSkippedAccounts(t *testing.T) {
	cat := []rules.Rule{fixedRule("b-low", finding.SeverityLow, finding.StatusFail), fixedRule("a-crit", finding.SeverityCritical, finding.StatusFail), fixedRule("c-crit", finding.SeverityCritical, finding.StatusPass)}
	accs := accounts("222222222222", "111111111111", "333333333333")
	accs[2].Skipped = "account state SUSPENDED"
	fs := Evaluate(accs, cat, Settings{}, asOf)
	var order []string
	for _, f := range fs {
		order = append(order, f.AccountID[:1]+":"+f.RuleID)
	}
	want := "1:a-crit 1:c-crit 1:b-low 2:a-crit 2:c-crit 2:b-low"
	if strings.Join(order, " ") != want {
		t.Errorf("order = %v, want %s", order, want)
	}
	accs[0].Name = "Payments prod"
	run := BuildRun(finding.Tool{Name: "rootwatch"}, accs, fs, nil, nil, asOf, asOf)
	if run.Accounts[1].AccountID != "222222222222" || run.Accounts[1].Name != "Payments prod" {
		t.Errorf("the account's name is not carried into the run: %+v", run.Accounts[1])
	}
	if len(run.Accounts) != 3 || run.Accounts[2].Status != finding.AccountSkipped || run.Accounts[2].Error != "account state SUSPENDED" {
		t.Errorf("skipped account not listed with its reason: %+v", run.Accounts)
	}
	if run.Summary.Fail != 4 || run.Summary.Pass != 2 {
		t.Errorf("summary %+v", run.Summary)
	}
}

func TestAccountOutcome(t *testing.T) {
	ok := evidence.SourceStatus{State: evidence.StateOK}
	mk := func(states ...evidence.SourceState) *evidence.Account {
		a := &evidence.Account{ID: "1"}
		for i, s := range states {
			a.SetSource(string(rune('a'+i)), evidence.SourceStatus{State: s})
		}
		return a
	}
	cases := []struct {
		a    *evidence.Account
		want finding.AccountStatus
	}{
		{mk(evidence.StateOK, evidence.StateOK), finding.AccountAssessed},
		{mk(evidence.StateOK, evidence.StateDenied), finding.AccountPartial},
		{mk(evidence.StateError, evidence.StateDenied), finding.AccountFailed},
		{mk(), finding.AccountFailed},
		{&evidence.Account{ID: "1", Error: "AssumeRole: AccessDenied", Sources: map[string]evidence.SourceStatus{"x": ok}}, finding.AccountFailed},
	}
	for i, tc := range cases {
		if got := AccountOutcome(tc.a); got.Status != tc.want {
			t.Errorf("case %d: %s, want %s", i, got.Status, tc.want)
		}
	}
}

// TestAccountOutcomeOUPath: the run names each account's place in the
// organization from the path the SCP reader walked.
func TestAccountOutcomeOUPath(t *testing.T) {
	a := &evidence.Account{ID: "222222222222", SCPs: &evidence.SCPs{OUPath: "Root/Workloads/Prod"}}
	if got := AccountOutcome(a).OUPath; got != "Root/Workloads/Prod" {
		t.Errorf("OUPath %q", got)
	}
	if got := AccountOutcome(&evidence.Account{ID: "333333333333"}).OUPath; got != "" {
		t.Errorf("OUPath %q without SCP evidence", got)
	}
}

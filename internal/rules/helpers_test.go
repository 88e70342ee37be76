package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/credreport"
	"github.com/rootwatch/rootwatch/internal/finding"
)

var asOf = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// defaults holds every parameter any rule declares, at its built-in value.
var defaults = Settings{MaxReportAge: 4 * time.Hour, Values: map[string]int64{ParamWindow: int64(15 * 24 * time.Hour), ParamThreshold: 3},
	Lists: map[string][]string{ParamAllowedPrincipals: nil, ParamRootEmailDomains: nil}}

const header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

// rootRowCSV is a root row with every column overridable by name.
func rootRowCSV(over map[string]string) string {
	cells := map[string]string{
		"user": "<root_account>", "arn": "arn:aws:iam::123456789012:root", "user_creation_time": "2019-01-01T00:00:00+00:00",
		"password_enabled": "not_supported", "password_last_used": "no_information", "password_last_changed": "not_supported",
		"password_next_rotation": "not_supported", "mfa_active": "true",
		"access_key_1_active": "false", "access_key_1_last_rotated": "N/A", "access_key_1_last_used_date": "N/A", "access_key_1_last_used_region": "N/A", "access_key_1_last_used_service": "N/A",
		"access_key_2_active": "false", "access_key_2_last_rotated": "N/A", "access_key_2_last_used_date": "N/A", "access_key_2_last_used_region": "N/A", "access_key_2_last_used_service": "N/A",
		"cert_1_active": "false", "cert_1_last_rotated": "N/A", "cert_2_active": "false", "cert_2_last_rotated": "N/A",
	}
	for k, v := range over {
		cells[k] = v
	}
	var out []string
	for _, c := range strings.Split(header, ",") {
		out = append(out, cells[c])
	}
	return strings.Join(out, ",")
}

// account builds evidence from a report (generated one hour before asOf
// unless gen says otherwise) with only the credential report collected.
func account(t *testing.T, csv string, gen time.Time) *evidence.Account {
	t.Helper()
	rep, err := credreport.Parse([]byte(csv), "test.csv", gen)
	if err != nil {
		t.Fatal(err)
	}
	a := &evidence.Account{ID: "123456789012", Partition: "aws", CredentialReport: rep}
	a.SetSource(evidence.SourceCredentialReport, evidence.SourceStatus{State: evidence.StateOK})
	return a
}

func withRoot(t *testing.T, over map[string]string) *evidence.Account {
	return account(t, header+"\n"+rootRowCSV(over)+"\n", asOf.Add(-time.Hour))
}

func ago(d time.Duration) string { return asOf.Add(-d).Format("2006-01-02T15:04:05+00:00") }

const day = 24 * time.Hour

type ruleCase struct {
	name     string
	acct     func(t *testing.T) *evidence.Account
	settings *Settings
	status   finding.Status
	message  string // substring
	evidence map[string]any
}

// multiCase is a case of a rule that returns one result per resource:
// more are the results expected after the first, in order.
type multiCase struct {
	ruleCase
	more []resultWant
}

// resultWant is one further expected result.
type resultWant struct {
	resource string // "" for the default (the root user)
	status   finding.Status
	message  string // substring
}

func runCases(t *testing.T, r Rule, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc.acct(t), r, tc, nil) })
	}
}

// runMultiCases is runCases for rules with several results per account.
func runMultiCases(t *testing.T, r Rule, cases []multiCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkCase(t, tc.acct(t), r, tc.ruleCase, tc.more) })
	}
}

// tester is what checkCase reports to: a *testing.T, or a recorder in
// the test of the helper itself.
type tester interface {
	Helper()
	Errorf(format string, args ...any)
}

func checkCase(t tester, a *evidence.Account, r Rule, tc ruleCase, more []resultWant) {
	t.Helper()
	s := defaults
	if tc.settings != nil {
		s = *tc.settings
	}
	res := r.Eval(Input{Account: a, AsOf: asOf, Settings: s})
	if len(res) != 1+len(more) {
		t.Errorf("results = %d, want %d: %+v", len(res), 1+len(more), res)
		return
	}
	got := res[0]
	if got.Status != tc.status {
		t.Errorf("status = %s, want %s (message: %s)", got.Status, tc.status, got.Message)
	}
	if !strings.Contains(got.Message, tc.message) {
		t.Errorf("message = %q, want it to contain %q", got.Message, tc.message)
	}
	for k, v := range tc.evidence {
		if fmt.Sprint(got.Evidence[k]) != fmt.Sprint(v) {
			t.Errorf("evidence[%s] = %v, want %v (all: %v)", k, got.Evidence[k], v, got.Evidence)
		}
	}
	for i, w := range more {
		got := res[1+i]
		if got.Resource != w.resource || got.Status != w.status || !strings.Contains(got.Message, w.message) {
			t.Errorf("result %d = %s %s %q, want %s %s containing %q", 1+i, got.Resource, got.Status, got.Message, w.resource, w.status, w.message)
		}
	}
}

// recorder counts the failures checkCase reports.
type recorder struct{ failures int }

func (*recorder) Helper()                 {}
func (r *recorder) Errorf(string, ...any) { r.failures++ }

func root(over map[string]string) func(*testing.T) *evidence.Account {
	return func(t *testing.T) *evidence.Account { return withRoot(t, over) }
}

func TestEveryRuleFailsClosedWithoutEvidence(t *testing.T) {
	for _, r := range Catalog() {
		res := r.Eval(Input{Account: &evidence.Account{ID: "123456789012"}, AsOf: asOf, Settings: defaults})
		for _, x := range res {
			if x.Status == finding.StatusPass {
				t.Errorf("%s passed with no evidence at all: %s", r.ID, x.Message)
			}
		}
	}
}

// TestRunCasesChecksEveryResult shows the helper on a rule with one result
// per resource: a missing or wrong further result must fail the case.
func TestRunCasesChecksEveryResult(t *testing.T) {
	perKey := Rule{ID: "per-key", Eval: func(in Input) []Result {
		return []Result{{Status: finding.StatusPass, Message: "root ok"},
			{Status: finding.StatusFail, Message: "key 1 active", Resource: "key-1"},
			{Status: finding.StatusPass, Message: "key 2 inactive", Resource: "key-2"}}
	}}
	runMultiCases(t, perKey, []multiCase{{ruleCase{"three results", root(nil), nil, finding.StatusPass, "root ok", nil},
		[]resultWant{{"key-1", finding.StatusFail, "active"}, {"key-2", finding.StatusPass, "inactive"}}}})
	for name, more := range map[string][]resultWant{
		"one result too few": {{"key-1", finding.StatusFail, "active"}},
		"wrong resource":     {{"key-9", finding.StatusFail, "active"}, {"key-2", finding.StatusPass, "inactive"}},
		"wrong status":       {{"key-1", finding.StatusPass, "active"}, {"key-2", finding.StatusPass, "inactive"}},
	} {
		var rec recorder
		checkCase(&rec, withRoot(t, nil), perKey, ruleCase{name, root(nil), nil, finding.StatusPass, "root ok", nil}, more)
		if rec.failures == 0 {
			t.Errorf("%s: the helper did not fail", name)
		}
	}
}

// TestRulesReadOnlyDeclaredParams evaluates every rule with settings that
// hold only the parameters it declares: reading an undeclared one panics.
func TestRulesReadOnlyDeclaredParams(t *testing.T) {
	accounts := []*evidence.Account{
		withRoot(t, map[string]string{"password_last_used": ago(2 * day), "access_key_1_active": "true", "access_key_1_last_used_date": ago(day)}),
		withRoot(t, nil),
	}
	ct := &evidence.CloudTrail{From: asOf.Add(-90 * day), To: asOf, AccountEvents: 1, Events: []evidence.Event{
		{EventID: "e", EventTime: ago(day), Time: asOf.Add(-day), Category: evidence.CategoryConsoleLogin, Result: "failure"}}}
	accounts[1].CloudTrail = ct
	accounts[1].SetSource(evidence.SourceCloudTrail, evidence.SourceStatus{State: evidence.StateOK})
	for _, r := range Catalog() {
		s := Settings{MaxReportAge: 4 * time.Hour, Values: map[string]int64{}, Lists: map[string][]string{}}
		for _, p := range r.Params {
			if p.Kind == KindList {
				s.Lists[p.Name] = []string{"example.com"}
				continue
			}
			s.Values[p.Name] = max(p.Default, int64(15*day))
			if p.Kind == KindCount {
				s.Values[p.Name] = max(p.Default, 1)
			}
		}
		for _, a := range accounts {
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("%s: %v", r.ID, p)
					}
				}()
				if res := r.Eval(Input{Account: a, AsOf: asOf, Settings: s}); len(res) == 0 {
					t.Errorf("%s returned no result", r.ID)
				}
			}()
		}
	}
}

// TestUndatedReportNeverPasses: a bare CSV that nobody dated supports no
// pass of any rule that reads it, until the user says it was taken at the
// as-of time.
func TestUndatedReportNeverPasses(t *testing.T) {
	for _, r := range Catalog() {
		if !slices.Contains(r.Sources, evidence.SourceCredentialReport) {
			continue
		}
		a := account(t, header+"\n"+rootRowCSV(map[string]string{"password_last_used": "N/A", "password_enabled": "false"})+"\n", time.Time{})
		for _, res := range r.Eval(Input{Account: a, AsOf: asOf, Settings: defaults}) {
			if res.Status == finding.StatusPass {
				t.Errorf("%s passed on an undated report: %s", r.ID, res.Message)
			}
		}
		a.CredentialReport.TakenAtAsOf = true
		passed := false
		for _, res := range r.Eval(Input{Account: a, AsOf: asOf, Settings: defaults}) {
			passed = passed || res.Status == finding.StatusPass
		}
		if !passed && r.ID != "iam-root-no-hardware-mfa" { // needs the MFA device list
			t.Errorf("%s does not pass on a clean report taken at the as-of time", r.ID)
		}
	}
}

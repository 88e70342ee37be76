package finding

import (
	"testing"
	"time"
)

func run(accounts map[string]AccountStatus, findings map[string]Status) *Run {
	r := &Run{AsOf: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	for id, st := range accounts {
		r.Accounts = append(r.Accounts, Account{AccountID: id, Status: st})
	}
	for rule, st := range findings {
		r.Findings = append(r.Findings, Finding{RuleID: rule, AccountID: "111111111111", Resource: "root", Status: st, Fingerprint: Fingerprint(rule, "111111111111", "root")})
	}
	return r
}

func TestCompare(t *testing.T) {
	from := run(map[string]AccountStatus{"111111111111": AccountAssessed, "222222222222": AccountAssessed, "333333333333": AccountPartial},
		map[string]Status{"a": StatusPass, "b": StatusFail, "c": StatusUnknown, "d": StatusPass, "e": StatusFail, "gone": StatusPass, "same": StatusFail})
	to := run(map[string]AccountStatus{"111111111111": AccountAssessed, "222222222222": AccountFailed},
		map[string]Status{"a": StatusFail, "b": StatusPass, "c": StatusPass, "d": StatusUnknown, "e": StatusSuppressed, "new": StatusNotApplicable, "newfail": StatusFail, "same": StatusFail})
	got := map[string]string{}
	for _, c := range Compare(from, to) {
		key := c.RuleID
		if c.Kind == ChangeNotAssessed {
			key = c.AccountID
		}
		got[key] = c.Kind
	}
	want := map[string]string{"a": ChangeNewFailure, "newfail": ChangeNewFailure, "b": ChangeResolved, "e": ChangeResolved, "c": ChangeChanged, "d": ChangeChanged,
		"new": ChangeAdded, "gone": ChangeRemoved, "222222222222": ChangeNotAssessed, "333333333333": ChangeNotAssessed}
	if len(got) != len(want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if c := Compare(from, to)[0]; c.Kind != ChangeNewFailure {
		t.Errorf("new failures come first: %+v", c)
	}
	if len(Compare(to, to)) != 0 {
		t.Error("a run compared with itself has changes")
	}
	if Scope(from) == Scope(to) || Scope(to) != Scope(run(map[string]AccountStatus{"111111111111": "", "222222222222": ""}, map[string]Status{"a": "", "b": "", "c": "", "d": "", "e": "", "new": "", "newfail": "", "same": ""})) {
		t.Error("scope is not accounts and rules")
	}
}

package rules

import (
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestAccessKeyActive(t *testing.T) {
	summary := func(over map[string]string, present int) func(*testing.T) *evidence.Account {
		return func(t *testing.T) *evidence.Account {
			a := withRoot(t, over)
			a.AccountSummary = map[string]int{evidence.SummaryAccessKeysPresent: present}
			a.SetSource(evidence.SourceAccountSummary, evidence.SourceStatus{State: evidence.StateOK})
			return a
		}
	}
	runCases(t, accessKeyActive(), []ruleCase{
		{"key 1 active", root(map[string]string{"access_key_1_active": "true", "access_key_1_last_rotated": ago(400 * day)}), nil, finding.StatusFail, "access key 1 (last rotated", map[string]any{"access_key_1_active": "true"}},
		{"key 2 active upper case", root(map[string]string{"access_key_2_active": "TRUE"}), nil, finding.StatusFail, "access key 2", nil},
		{"none active", root(nil), nil, finding.StatusPass, "no active access key", nil},
		{"invalid cell", root(map[string]string{"access_key_1_active": "yes"}), nil, finding.StatusUnknown, `access_key_1_active has an invalid value "yes"`, nil},
		{"active wins over invalid", root(map[string]string{"access_key_1_active": "yes", "access_key_2_active": "true"}), nil, finding.StatusFail, "access key 2", nil},
		{"summary says none", summary(nil, 0), nil, finding.StatusPass, "AccountAccessKeysPresent = 0", nil},
		{"summary present, report inactive", summary(nil, 1), nil, finding.StatusPass, "no active access key", map[string]any{"AccountAccessKeysPresent": 1}},
		{"report missing, summary none", func(t *testing.T) *evidence.Account {
			a := &evidence.Account{ID: "123456789012", AccountSummary: map[string]int{evidence.SummaryAccessKeysPresent: 0}}
			a.SetSource(evidence.SourceAccountSummary, evidence.SourceStatus{State: evidence.StateOK})
			a.SetSource(evidence.SourceCredentialReport, evidence.SourceStatus{State: evidence.StateDenied, Detail: "AccessDenied"})
			return a
		}, nil, finding.StatusPass, "account summary shows no root access key", nil},
		{"report missing, summary present", func(t *testing.T) *evidence.Account {
			a := &evidence.Account{ID: "123456789012", AccountSummary: map[string]int{evidence.SummaryAccessKeysPresent: 1}}
			a.SetSource(evidence.SourceAccountSummary, evidence.SourceStatus{State: evidence.StateOK})
			return a
		}, nil, finding.StatusUnknown, "credential_report source is missing", nil},
		{"stale report", func(t *testing.T) *evidence.Account {
			return account(t, header+"\n"+rootRowCSV(nil)+"\n", asOf.Add(-2*day))
		}, nil, finding.StatusUnknown, "maximum report age", nil},
	})
}

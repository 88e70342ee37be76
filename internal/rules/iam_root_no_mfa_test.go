package rules

import (
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestNoMFA(t *testing.T) {
	withSummary := func(mfaActive string, enabled int) func(*testing.T) *evidence.Account {
		return func(t *testing.T) *evidence.Account {
			a := withRoot(t, map[string]string{"mfa_active": mfaActive})
			a.AccountSummary = map[string]int{evidence.SummaryMFAEnabled: enabled}
			a.SetSource(evidence.SourceAccountSummary, evidence.SourceStatus{State: evidence.StateOK})
			return a
		}
	}
	runCases(t, noMFA(), []ruleCase{
		{"report true", root(map[string]string{"mfa_active": "true"}), nil, finding.StatusPass, "mfa_active = true", map[string]any{"mfa_source": "credential_report"}},
		{"report false", root(map[string]string{"mfa_active": "false"}), nil, finding.StatusFail, "no MFA device", nil},
		{"report FALSE", root(map[string]string{"mfa_active": "FALSE"}), nil, finding.StatusFail, "no MFA device", nil},
		{"report invalid", root(map[string]string{"mfa_active": "1"}), nil, finding.StatusUnknown, `mfa_active has an invalid value "1"`, nil},
		{"summary wins over older report", withSummary("false", 1), nil, finding.StatusPass, "the credential report, older, says mfa_active=false", map[string]any{"AccountMFAEnabled": 1}},
		{"summary says no MFA", withSummary("true", 0), nil, finding.StatusFail, "AccountMFAEnabled = 0", nil},
		{"stale report saying true", func(t *testing.T) *evidence.Account {
			return account(t, header+"\n"+rootRowCSV(nil)+"\n", asOf.Add(-30*day))
		}, nil, finding.StatusUnknown, "maximum report age", nil},
	})
}

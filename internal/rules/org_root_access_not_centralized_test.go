package rules

import (
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestOrgRootAccess(t *testing.T) {
	org := func(o *evidence.Organization, state evidence.SourceState) func(*testing.T) *evidence.Account {
		return func(t *testing.T) *evidence.Account {
			a := &evidence.Account{ID: "111111111111", Partition: "aws", Organization: o}
			a.SetSource(evidence.SourceOrganization, evidence.SourceStatus{State: state, Detail: "ListOrganizationsFeatures"})
			return a
		}
	}
	runCases(t, orgRootAccessNotCentralized(), []ruleCase{
		{"management without feature", org(&evidence.Organization{Role: "management", ID: "o-abcdefghij", ManagementAccountID: "111111111111", EnabledFeatures: []string{"RootSessions"}}, evidence.StateOK),
			nil, finding.StatusFail, "has not enabled centralized root credentials management", nil},
		{"management with feature", org(&evidence.Organization{Role: "management", ID: "o-abcdefghij", ManagementAccountID: "111111111111", EnabledFeatures: []string{"RootCredentialsManagement"}}, evidence.StateOK),
			nil, finding.StatusPass, "enabled", nil},
		{"member", org(&evidence.Organization{Role: "member", ID: "o-abcdefghij", ManagementAccountID: "111111111111"}, evidence.StateOK), nil, finding.StatusNotApplicable, "judged on its management account", nil},
		{"standalone", org(&evidence.Organization{Role: "standalone"}, evidence.StateOK), nil, finding.StatusNotApplicable, "not in an AWS Organization", nil},
		{"not collected", func(t *testing.T) *evidence.Account { return &evidence.Account{ID: "1"} }, nil, finding.StatusUnknown, "organization source is missing", nil},
		{"denied", org(nil, evidence.StateDenied), nil, finding.StatusUnknown, "denied", nil},
	})
	res := orgRootAccessNotCentralized().Eval(Input{Account: org(&evidence.Organization{Role: "management", ID: "o-abcdefghij", ManagementAccountID: "111111111111"}, evidence.StateOK)(t), AsOf: asOf, Settings: defaults})
	if want := "arn:aws:organizations::111111111111:organization/o-abcdefghij"; res[0].Resource != want {
		t.Errorf("resource = %q, want %q", res[0].Resource, want)
	}
}

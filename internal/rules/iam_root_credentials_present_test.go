package rules

import (
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestRootCredentialsPresentRule(t *testing.T) {
	org := func(o *evidence.Organization) func(*testing.T) *evidence.Account {
		return func(t *testing.T) *evidence.Account {
			a := &evidence.Account{ID: "123456789012", Organization: o}
			a.SetSource(evidence.SourceOrganization, evidence.SourceStatus{State: evidence.StateOK})
			return a
		}
	}
	runCases(t, rootCredentialsPresent(), []ruleCase{
		{"password", audited(&evidence.RootCredentials{Password: true, PasswordCreated: created}, nil), nil, finding.StatusFail, "still has a password (created 2025-06-01T00:00:00Z)", map[string]any{"password": true}},
		{"key and cert", audited(&evidence.RootCredentials{AccessKeys: []evidence.RootCredential{{ID: "AKIA1", Status: "Inactive"}}, Certificates: []evidence.RootCredential{{ID: "C1", Status: "Active"}}}, nil),
			nil, finding.StatusFail, "access key AKIA1 (Inactive), signing certificate C1 (Active)", nil},
		{"nothing", audited(&evidence.RootCredentials{}, nil), nil, finding.StatusPass, "no password, access keys or signing certificates", nil},
		{"only an MFA device", audited(&evidence.RootCredentials{MFADevices: []evidence.RootCredential{{ID: "arn:aws:iam::123456789012:mfa/x"}}}, nil), nil, finding.StatusPass,
			"Still registered: 1 MFA device; an MFA device alone lets no one sign in, so it is not counted as a credential", nil},
		{"two MFA devices", audited(&evidence.RootCredentials{MFADevices: []evidence.RootCredential{{ID: "arn:aws:iam::123456789012:mfa/x"}, {ID: "GAHT1"}}}, nil), nil, finding.StatusPass,
			"Still registered: 2 MFA devices;", nil},
		{"an inactive certificate only", audited(&evidence.RootCredentials{Certificates: []evidence.RootCredential{{ID: "C2", Status: "Inactive"}}}, nil), nil, finding.StatusFail,
			"still has signing certificate C2 (Inactive)", nil},
		{"audit denied", func(t *testing.T) *evidence.Account {
			a := audited(nil, nil)(t)
			a.SetSource(evidence.SourceRootCredentials, evidence.SourceStatus{State: evidence.StateDenied, Detail: "AssumeRoot: AccessDenied"})
			return a
		}, nil, finding.StatusUnknown, "AccessDenied", nil},
		{"feature off", org(&evidence.Organization{Role: evidence.OrgRoleMember, ID: "o-abcdefghij", EnabledFeatures: []string{}}), nil, finding.StatusNotApplicable, "has not enabled", nil},
		{"features unknown", org(&evidence.Organization{Role: evidence.OrgRoleMember, ID: "o-abcdefghij"}), nil, finding.StatusUnknown, "scan the organization from its management account", nil},
		{"management", org(&evidence.Organization{Role: evidence.OrgRoleManagement, ID: "o-abcdefghij", EnabledFeatures: []string{"RootCredentialsManagement"}}), nil, finding.StatusNotApplicable, "management account", nil},
		{"standalone", org(&evidence.Organization{Role: evidence.OrgRoleStandalone}), nil, finding.StatusNotApplicable, "not in an AWS Organization", nil},
	})
}

package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// audited builds a member account of an organization with root credentials
// management, whose root user the audit found with rc.
func audited(rc *evidence.RootCredentials, report map[string]string) func(*testing.T) *evidence.Account {
	return func(t *testing.T) *evidence.Account {
		a := withRoot(t, report)
		a.Organization = &evidence.Organization{Role: evidence.OrgRoleMember, ID: "o-abcdefghij", ManagementAccountID: "999999999999",
			EnabledFeatures: []string{evidence.FeatureRootCredentialsManagement}}
		a.SetSource(evidence.SourceOrganization, evidence.SourceStatus{State: evidence.StateOK})
		if rc != nil {
			a.RootCredentials = rc
			a.SetSource(evidence.SourceRootCredentials, evidence.SourceStatus{State: evidence.StateOK})
		}
		return a
	}
}

var created = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func TestAuditSettlesOtherRules(t *testing.T) {
	noRow := map[string]string{"arn": "arn:aws:iam::123456789012:user/not-root"} // the report cannot be used
	in := func(a *evidence.Account) Input { return Input{Account: a, AsOf: asOf, Settings: defaults} }

	// No password: the central rule passes on the audit even without a root row.
	res := activePassword().Eval(in(audited(&evidence.RootCredentials{}, noRow)(t)))[0]
	if res.Status != finding.StatusPass || !strings.Contains(res.Message, "GetLoginProfile found none") {
		t.Errorf("no password: %s %s", res.Status, res.Message)
	}
	// A recent use recorded by the report still fails, with the audit noted.
	res = activePassword().Eval(in(audited(&evidence.RootCredentials{}, map[string]string{"password_last_used": ago(day)})(t)))[0]
	if res.Status != finding.StatusFail || !strings.Contains(res.Message, "since been removed") {
		t.Errorf("recent use then removed: %s %s", res.Status, res.Message)
	}
	// A password: the report's verdict stands and the creation date is given.
	res = activePassword().Eval(in(audited(&evidence.RootCredentials{Password: true, PasswordCreated: created}, map[string]string{"password_last_used": ago(90 * day)})(t)))[0]
	if res.Status != finding.StatusPass || res.Evidence["root_password_created"] != "2025-06-01T00:00:00Z" {
		t.Errorf("password present: %s %v", res.Status, res.Evidence)
	}
	// Keys and certificates come from the audit, live.
	res = accessKeyActive().Eval(in(audited(&evidence.RootCredentials{AccessKeys: []evidence.RootCredential{{ID: "AKIA1", Status: "Active", Created: created}}}, nil)(t)))[0]
	if res.Status != finding.StatusFail || !strings.Contains(res.Message, "AKIA1") {
		t.Errorf("audited key: %s %s", res.Status, res.Message)
	}
	res = signingCertActive().Eval(in(audited(&evidence.RootCredentials{}, map[string]string{"cert_1_active": "true"})(t)))[0]
	if res.Status != finding.StatusPass {
		t.Errorf("the live audit wins over an older report: %s %s", res.Status, res.Message)
	}
	// No credentials at all: MFA is not applicable.
	for _, r := range []Rule{noMFA(), noHardwareMFA()} {
		if res := r.Eval(in(audited(&evidence.RootCredentials{}, map[string]string{"mfa_active": "false"})(t)))[0]; res.Status != finding.StatusNotApplicable {
			t.Errorf("%s: %s %s", r.ID, res.Status, res.Message)
		}
		if res := r.Eval(in(audited(&evidence.RootCredentials{Password: true}, map[string]string{"mfa_active": "false"})(t)))[0]; res.Status != finding.StatusFail {
			t.Errorf("%s with a password and no MFA: %s", r.ID, res.Status)
		}
	}
}

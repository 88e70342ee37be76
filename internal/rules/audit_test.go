package rules

import (
	"fmt"
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

// TestAuditedMFADevices: where an AssumeRoot audit lists the member root's
// devices, each is shown with its kind, and the audit decides: a virtual
// device fails iam-root-no-hardware-mfa beside any number of FIDO keys or
// hardware tokens, because any registered factor can sign in.
func TestAuditedMFADevices(t *testing.T) {
	const (
		virtual  = "arn:aws:iam::123456789012:mfa/ops-phone"
		fido     = "arn:aws:iam::123456789012:u2f/root/yubikey-EXAMPLEBN5FHTECLFG7EXAMPLE"
		passkey  = "arn:aws:iam::123456789012:u2f/root/passkey-EXAMPLE2"
		hardware = "GAHT12345678"
		odd      = "arn:aws:iam::123456789012:device/x"
	)
	devices := func(serials ...string) func(*testing.T) *evidence.Account {
		rc := &evidence.RootCredentials{Password: true}
		for _, s := range serials {
			rc.MFADevices = append(rc.MFADevices, evidence.RootCredential{ID: s, Kind: evidence.MFAKindOf(s)})
		}
		return audited(rc, map[string]string{"mfa_active": "true"})
	}
	kinds := func(pairs ...string) map[string]any {
		var ds []map[string]any
		for i := 0; i < len(pairs); i += 2 {
			ds = append(ds, map[string]any{"id": pairs[i], "kind": pairs[i+1]})
		}
		return map[string]any{"mfa_devices": ds}
	}
	runCases(t, noHardwareMFA(), []ruleCase{
		{"virtual only", devices(virtual), nil, finding.StatusFail, "includes a virtual MFA device (" + virtual + ")", kinds(virtual, "virtual")},
		{"virtual beside a FIDO key", devices(fido, virtual), nil, finding.StatusFail,
			"includes a virtual MFA device (" + virtual + ") beside a FIDO security key or passkey (" + fido + ") (AssumeRoot audit: ListMFADevices). Any registered factor can sign in, so the weakest decides",
			kinds(fido, "fido", virtual, "virtual")},
		{"virtual beside hardware", devices(hardware, virtual), nil, finding.StatusFail, "root-account-hardware-mfa-enabled", nil},
		{"FIDO key, passkey and hardware TOTP", devices(fido, passkey, hardware), nil, finding.StatusPass,
			"Every MFA device of the root user is hardware: a FIDO security key or passkey (" + fido + "), a FIDO security key or passkey (" + passkey + ") and a hardware TOTP token (GAHT12345678)",
			kinds(fido, "fido", passkey, "fido", hardware, "hardware_totp")},
		{"no device", devices(), nil, finding.StatusFail, "no MFA device at all", nil},
		{"an unrecognised kind", devices(fido, odd), nil, finding.StatusUnknown, "does not tell whether it is hardware or virtual", kinds(fido, "fido", odd, "unrecognised")},
		{"a root virtual device the audit did not list", func(t *testing.T) *evidence.Account {
			a := devices(fido)(t)
			a.VirtualMFADevices = []evidence.VirtualMFADevice{{SerialNumber: virtual, UserARN: a.RootARN()}}
			a.SetSource(evidence.SourceVirtualMFA, evidence.SourceStatus{State: evidence.StateOK})
			return a
		}, nil, finding.StatusFail, "includes a virtual MFA device", map[string]any{"virtual_mfa_serial": virtual}},
	})
	runCases(t, noMFA(), []ruleCase{
		{"virtual and FIDO", devices(virtual, fido), nil, finding.StatusPass,
			"2 MFA devices: a virtual MFA device (" + virtual + ") and a FIDO security key or passkey (" + fido + ") (AssumeRoot audit: ListMFADevices). Any registered factor can sign in",
			kinds(virtual, "virtual", fido, "fido")},
		{"hardware TOTP", devices(hardware), nil, finding.StatusPass, "1 MFA device: a hardware TOTP token", kinds(hardware, "hardware_totp")},
		{"none", devices(), nil, finding.StatusFail, "no MFA device (AssumeRoot audit: ListMFADevices lists none)", nil},
		{"none, while the summary says MFA", func(t *testing.T) *evidence.Account {
			a := devices()(t)
			a.AccountSummary = map[string]int{evidence.SummaryMFAEnabled: 1}
			a.SetSource(evidence.SourceAccountSummary, evidence.SourceStatus{State: evidence.StateOK})
			return a
		}, nil, finding.StatusFail, "The account summary says AccountMFAEnabled = 1", nil},
	})
	// The audit's evidence elsewhere shows the kinds too.
	res := rootCredentialsPresent().Eval(Input{Account: devices(fido)(t), AsOf: asOf, Settings: defaults})[0]
	if fmt.Sprint(res.Evidence["mfa_devices"]) != fmt.Sprint(kinds(fido, "fido")["mfa_devices"]) {
		t.Errorf("iam-root-credentials-present evidence: %v", res.Evidence["mfa_devices"])
	}
}

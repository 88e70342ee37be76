package awsfake

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

const cliOrgWorld = `
list_accounts_page_size: 2
list_accounts_empty_first: true
accounts:
  - id: "700000000000"
    access_keys: [AKIACLIORG0000000001]
    organization: {id: o-cliorg00001, management_account: "700000000000", features: [RootCredentialsManagement]}
  - id: "700000000001"
    tags: {owner: team-payments, env: prod}
    root: {password_last_used: -3d, mfa: virtual, access_keys: [{active: true, last_rotated: -30d}], certs: [{active: false, last_rotated: -90d}]}
    organization: {id: o-cliorg00001, management_account: "700000000000"}
  - id: "700000000002"
    state: SUSPENDED
    root: {no_password: true, password_last_used: N/A}
    organization: {id: o-cliorg00001, management_account: "700000000000"}
  - id: "700000000003"
    organization: {id: o-cliorg00001, management_account: "700000000000"}
    roles: [AuditRole]
`

// TestAWSCLIOrganizationCalls checks the organization-scan calls with the
// AWS CLI: pagination across an empty page, AssumeRole into members,
// AssumeRoot and what its audit session may and may not do.
func TestAWSCLIOrganizationCalls(t *testing.T) {
	bin := testutil.RequireTool(t, "aws")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, url, err := Serve(ctx, []byte(cliOrgWorld), "cli org world", Options{Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	c := awsCLI{t: t, bin: bin, url: url, home: t.TempDir()}
	const mgmt = "AKIACLIORG0000000001"

	var list struct {
		Accounts []struct{ Id, State, Status, Name string }
	}
	c.json(mgmt, &list, "organizations", "list-accounts")
	if len(list.Accounts) != 4 || list.Accounts[2].State != "SUSPENDED" || list.Accounts[2].Status != "SUSPENDED" {
		t.Errorf("list-accounts across an empty first page: %+v", list.Accounts)
	}

	var tags struct{ Tags []struct{ Key, Value string } }
	c.json(mgmt, &tags, "organizations", "list-tags-for-resource", "--resource-id", "700000000001")
	if len(tags.Tags) != 2 || tags.Tags[0].Key != "env" || tags.Tags[1].Value != "team-payments" {
		t.Errorf("list-tags-for-resource: %+v", tags)
	}
	c.fails(mgmt, "TargetNotFoundException", "organizations", "list-tags-for-resource", "--resource-id", "799999999999")

	var role struct {
		Credentials     struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
		AssumedRoleUser struct{ Arn string }
	}
	c.json(mgmt, &role, "sts", "assume-role", "--role-arn", "arn:aws:iam::700000000001:role/OrganizationAccountAccessRole", "--role-session-name", "rootwatch")
	if !strings.HasPrefix(role.Credentials.AccessKeyId, "ASIA") || role.Credentials.SessionToken == "" || role.AssumedRoleUser.Arn != "arn:aws:sts::700000000001:assumed-role/OrganizationAccountAccessRole/rootwatch" {
		t.Errorf("assume-role: %+v", role)
	}
	var who struct{ Account string }
	c.json(role.Credentials.AccessKeyId, &who, "sts", "get-caller-identity")
	if who.Account != "700000000001" {
		t.Errorf("the role's credentials land in %s", who.Account)
	}
	c.fails(mgmt, "AccessDenied", "sts", "assume-role", "--role-arn", "arn:aws:iam::700000000003:role/OrganizationAccountAccessRole", "--role-session-name", "rootwatch")

	var root struct {
		Credentials struct{ AccessKeyId string }
	}
	c.json(mgmt, &root, "sts", "assume-root", "--target-principal", "700000000001", "--task-policy-arn", "arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
	key := root.Credentials.AccessKeyId
	var lp struct{ LoginProfile struct{ CreateDate string } }
	c.json(key, &lp, "iam", "get-login-profile")
	if lp.LoginProfile.CreateDate == "" {
		t.Errorf("get-login-profile in the root session: %+v", lp)
	}
	var keys struct {
		AccessKeyMetadata []struct{ AccessKeyId, Status string }
	}
	c.json(key, &keys, "iam", "list-access-keys")
	if len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != "Active" {
		t.Errorf("list-access-keys: %+v", keys)
	}
	var mfa struct {
		MFADevices []struct{ SerialNumber string }
	}
	c.json(key, &mfa, "iam", "list-mfa-devices")
	if len(mfa.MFADevices) != 1 {
		t.Errorf("list-mfa-devices: %+v", mfa)
	}
	var certs struct {
		Certificates []struct{ CertificateId, Status string }
	}
	c.json(key, &certs, "iam", "list-signing-certificates")
	if len(certs.Certificates) != 1 || certs.Certificates[0].Status != "Inactive" {
		t.Errorf("list-signing-certificates: %+v", certs)
	}
	// The audit task policy denies the credential report.
	c.fails(key, "AccessDenied", "iam", "generate-credential-report")
	// A root without a password: NoSuchEntity.
	c.json(mgmt, &root, "sts", "assume-root", "--target-principal", "700000000002", "--task-policy-arn", "arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
	c.fails(root.Credentials.AccessKeyId, "NoSuchEntity", "iam", "get-login-profile")
	// The delete task policy: the four deletions, no GetAccountSummary; and
	// the audit policy cannot delete.
	c.fails(key, "AccessDenied", "iam", "delete-access-key", "--access-key-id", keys.AccessKeyMetadata[0].AccessKeyId)
	var del struct {
		Credentials struct{ AccessKeyId string }
	}
	c.json(mgmt, &del, "sts", "assume-root", "--target-principal", "700000000001", "--task-policy-arn", "arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials")
	dk := del.Credentials.AccessKeyId
	c.fails(dk, "AccessDenied", "iam", "get-account-summary")
	c.ok(dk, "iam", "delete-login-profile")
	c.fails(dk, "NoSuchEntity", "iam", "delete-login-profile")
	c.ok(dk, "iam", "delete-access-key", "--access-key-id", keys.AccessKeyMetadata[0].AccessKeyId)
	c.fails(dk, "NoSuchEntity", "iam", "delete-access-key", "--access-key-id", keys.AccessKeyMetadata[0].AccessKeyId)
	c.ok(dk, "iam", "delete-signing-certificate", "--certificate-id", certs.Certificates[0].CertificateId)
	c.ok(dk, "iam", "deactivate-mfa-device", "--serial-number", mfa.MFADevices[0].SerialNumber)
	var after struct {
		AccessKeyMetadata []struct{ AccessKeyId string }
		Certificates      []struct{ CertificateId string }
		MFADevices        []struct{ SerialNumber string }
	}
	c.json(dk, &after, "iam", "list-access-keys")
	if len(after.AccessKeyMetadata) != 0 {
		t.Errorf("after delete-access-key: %+v", after)
	}
	c.json(dk, &after, "iam", "list-signing-certificates")
	c.json(dk, &after, "iam", "list-mfa-devices")
	if len(after.Certificates) != 0 || len(after.MFADevices) != 0 {
		t.Errorf("after the deletions: %+v", after)
	}
	c.fails(dk, "NoSuchEntity", "iam", "get-login-profile")
	// Not a task policy; and the management account cannot target itself.
	c.fails(mgmt, "ValidationError", "sts", "assume-root", "--target-principal", "700000000001", "--task-policy-arn", "arn=arn:aws:iam::aws:policy/AdministratorAccess")
	c.fails(mgmt, "AccessDenied", "sts", "assume-root", "--target-principal", "700000000000", "--task-policy-arn", "arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
}

// TestAWSCLIEnableCentralRootAccess checks the three enabling calls with
// the AWS CLI: the features need trusted access for IAM first.
func TestAWSCLIEnableCentralRootAccess(t *testing.T) {
	bin := testutil.RequireTool(t, "aws")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, url, err := Serve(ctx, []byte(`
accounts:
  - id: "710000000000"
    access_keys: [AKIACLIENABLE0000001]
    organization: {id: o-clienable01, management_account: "710000000000"}
  - id: "710000000001"
    organization: {id: o-clienable01, management_account: "710000000000"}
`), "cli enable world", Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := awsCLI{t: t, bin: bin, url: url, home: t.TempDir()}
	const mgmt = "AKIACLIENABLE0000001"
	type principals struct {
		EnabledServicePrincipals []struct {
			ServicePrincipal string
			DateEnabled      float64
		}
	}
	var before, after principals
	c.json(mgmt, &before, "organizations", "list-aws-service-access-for-organization")
	if len(before.EnabledServicePrincipals) != 0 {
		t.Errorf("trusted services before enabling: %+v", before)
	}
	c.fails(mgmt, "ServiceAccessNotEnabledException", "iam", "enable-organizations-root-credentials-management")
	c.ok(mgmt, "organizations", "enable-aws-service-access", "--service-principal", "iam.amazonaws.com")
	c.json(mgmt, &after, "organizations", "list-aws-service-access-for-organization")
	if len(after.EnabledServicePrincipals) != 1 || after.EnabledServicePrincipals[0].ServicePrincipal != "iam.amazonaws.com" || after.EnabledServicePrincipals[0].DateEnabled == 0 {
		t.Errorf("trusted services after enabling: %+v", after)
	}
	var feats struct {
		OrganizationId  string
		EnabledFeatures []string
	}
	c.json(mgmt, &feats, "iam", "enable-organizations-root-credentials-management")
	c.json(mgmt, &feats, "iam", "enable-organizations-root-sessions")
	if feats.OrganizationId != "o-clienable01" || len(feats.EnabledFeatures) != 2 {
		t.Errorf("after enabling: %+v", feats)
	}
	c.json(mgmt, &feats, "iam", "list-organizations-features")
	if len(feats.EnabledFeatures) != 2 {
		t.Errorf("list-organizations-features: %+v", feats)
	}
}

// TestAWSCLIRootMFAKindsAndEmails checks, with the AWS CLI, a root user
// holding devices of every kind (virtual, FIDO, hardware TOTP): the audit
// session lists them all, ListVirtualMFADevices only the virtual one, the
// summary counts them, and each is deactivated by its own serial; and the
// root e-mail addresses ListAccounts and DescribeOrganization give.
func TestAWSCLIRootMFAKindsAndEmails(t *testing.T) {
	bin := testutil.RequireTool(t, "aws")
	world := `
accounts:
  - id: "710000000000"
    access_keys: [AKIACLIMFA0000000001]
    email: cloud-admins@corp.example
    organization: {id: o-climfa00001, management_account: "710000000000", features: [RootCredentialsManagement]}
  - id: "710000000001"
    email: none
    roles: [OrganizationAccountAccessRole]
    root:
      password_last_used: -3d
      mfa_devices:
        - {kind: virtual, name: ops-phone, enabled: -400d}
        - {kind: fido, name: yubikey-5c}
        - {kind: hardware, name: GAHT71000001}
    organization: {id: o-climfa00001, management_account: "710000000000"}
`
	_, url, err := Serve(t.Context(), []byte(world), "cli mfa world", Options{Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	c := awsCLI{t: t, bin: bin, url: url, home: t.TempDir()}
	const mgmt = "AKIACLIMFA0000000001"
	var org struct {
		Organization struct{ MasterAccountEmail string }
	}
	c.json(mgmt, &org, "organizations", "describe-organization")
	var list struct{ Accounts []struct{ Id, Email string } }
	c.json(mgmt, &list, "organizations", "list-accounts")
	if org.Organization.MasterAccountEmail != "cloud-admins@corp.example" || len(list.Accounts) != 2 ||
		list.Accounts[0].Email != "cloud-admins@corp.example" || list.Accounts[1].Email != "" {
		t.Errorf("e-mail addresses: %+v %+v", org, list)
	}

	var root struct{ Credentials struct{ AccessKeyId string } }
	c.json(mgmt, &root, "sts", "assume-root", "--target-principal", "710000000001", "--task-policy-arn", "arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
	var mfa struct {
		MFADevices []struct{ SerialNumber, EnableDate string }
	}
	c.json(root.Credentials.AccessKeyId, &mfa, "iam", "list-mfa-devices")
	var serials []string
	for _, d := range mfa.MFADevices {
		serials = append(serials, d.SerialNumber)
	}
	want := []string{"arn:aws:iam::710000000001:mfa/ops-phone", "arn:aws:iam::710000000001:u2f/root/yubikey-5c-FAKEFIDO0002", "GAHT71000001"}
	if strings.Join(serials, " ") != strings.Join(want, " ") || mfa.MFADevices[0].EnableDate != "2025-01-25T12:00:00Z" {
		t.Errorf("list-mfa-devices: %+v", mfa)
	}
	var role struct{ Credentials struct{ AccessKeyId string } }
	c.json(mgmt, &role, "sts", "assume-role", "--role-arn", "arn:aws:iam::710000000001:role/OrganizationAccountAccessRole", "--role-session-name", "rootwatch")
	var virt struct {
		VirtualMFADevices []struct {
			SerialNumber string
			User         struct{ Arn string }
		}
	}
	c.json(role.Credentials.AccessKeyId, &virt, "iam", "list-virtual-mfa-devices")
	if len(virt.VirtualMFADevices) != 1 || virt.VirtualMFADevices[0].SerialNumber != want[0] || virt.VirtualMFADevices[0].User.Arn != "arn:aws:iam::710000000001:root" {
		t.Errorf("list-virtual-mfa-devices: %+v", virt)
	}
	var sum struct{ SummaryMap map[string]int }
	c.json(role.Credentials.AccessKeyId, &sum, "iam", "get-account-summary")
	if sum.SummaryMap["AccountMFAEnabled"] != 1 || sum.SummaryMap["MFADevices"] != 3 {
		t.Errorf("get-account-summary: %+v", sum.SummaryMap)
	}

	var del struct{ Credentials struct{ AccessKeyId string } }
	c.json(mgmt, &del, "sts", "assume-root", "--target-principal", "710000000001", "--task-policy-arn", "arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials")
	c.fails(del.Credentials.AccessKeyId, "NoSuchEntity", "iam", "deactivate-mfa-device", "--serial-number", "arn:aws:iam::710000000001:u2f/root/other")
	c.ok(del.Credentials.AccessKeyId, "iam", "deactivate-mfa-device", "--serial-number", want[1])
	c.ok(del.Credentials.AccessKeyId, "iam", "deactivate-mfa-device", "--serial-number", want[0])
	c.json(root.Credentials.AccessKeyId, &mfa, "iam", "list-mfa-devices")
	c.json(role.Credentials.AccessKeyId, &virt, "iam", "list-virtual-mfa-devices")
	c.json(role.Credentials.AccessKeyId, &sum, "iam", "get-account-summary")
	if len(mfa.MFADevices) != 1 || mfa.MFADevices[0].SerialNumber != want[2] || len(virt.VirtualMFADevices) != 0 || sum.SummaryMap["AccountMFAEnabled"] != 1 {
		t.Errorf("after deactivating two: %+v %+v %+v", mfa, virt, sum.SummaryMap)
	}
	c.ok(del.Credentials.AccessKeyId, "iam", "deactivate-mfa-device", "--serial-number", want[2])
	c.json(role.Credentials.AccessKeyId, &sum, "iam", "get-account-summary")
	if sum.SummaryMap["AccountMFAEnabled"] != 0 || sum.SummaryMap["MFADevices"] != 0 {
		t.Errorf("after deactivating all: %+v", sum.SummaryMap)
	}
}

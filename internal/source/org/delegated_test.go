package org

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/source/live"
)

const holdersWorld = `
accounts:
  - id: "810000000000"
    access_keys: [AKIAHOLDERS000000001]
    users: [{name: ops}, {name: reader}]
    report: {existing: 1h}
    organization:
      id: o-holders0001
      management_account: "810000000000"
      features: [RootCredentialsManagement, RootSessions]
      delegated_admins: {iam.amazonaws.com: ["810000000001"]}
    iam:
      page_size: 2
      users:
        - {name: ops, managed: [Scoped]}
        - {name: reader, inline: {read: '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}'}}
      roles:
        - {name: Admin, managed: [AdministratorAccess]}
      policies:
        - name: Scoped
          document: '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*","Condition":{"StringEquals":{"sts:TaskPolicyArn":"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}}}}'
          older: ['{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}']
    %s
  - id: "810000000001"
    users: [{name: power}]
    report: {existing: 1h}
    organization: {id: o-holders0001, management_account: "810000000000"}
    iam:
      users: [{name: power, managed: [PowerUserAccess]}]
  - id: "810000000002"
    report: {existing: 1h}
    organization: {id: o-holders0001, management_account: "810000000000"}
`

func scanHolders(t *testing.T, faults string) ([]*evidence.Account, *awsfake.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := strings.Replace(holdersWorld, "%s", faults, 1)
	srv, url, err := awsfake.Serve(ctx, []byte(w), "holders world", awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := Scan(ctx, awsfake.ClientConfig(url, "AKIAHOLDERS000000001"), Options{Concurrency: 3, Collect: live.Options{PollInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return accounts, srv
}

func byID(t *testing.T, accounts []*evidence.Account, id string) *evidence.Account {
	t.Helper()
	for _, a := range accounts {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no account %s", id)
	return nil
}

// TestScanReadsRootSessionPrincipals: an organization scan reads IAM's
// delegated administrator once, and the IAM principals of the management
// account and of the delegated administrator (through its role session),
// every page, default versions only; members get the delegated
// administrators in their organization evidence and no IAM reads.
func TestScanReadsRootSessionPrincipals(t *testing.T) {
	accounts, srv := scanHolders(t, "")
	mgmt, admin, member := byID(t, accounts, "810000000000"), byID(t, accounts, "810000000001"), byID(t, accounts, "810000000002")

	if st := mgmt.Source(evidence.SourceIAMDelegatedAdmin); st.State != evidence.StateOK || !strings.Contains(st.Detail, "810000000001") {
		t.Errorf("delegated administrator source: %+v", st)
	}
	if n := srv.Calls("810000000000", "ListDelegatedAdministrators"); n != 1 {
		t.Errorf("ListDelegatedAdministrators called %d times, want once per scan", n)
	}
	auth := mgmt.IAMAuthorization
	if st := mgmt.Source(evidence.SourceIAMAuthorization); st.State != evidence.StateOK || auth == nil {
		t.Fatalf("management account: %+v", st)
	}
	if auth.Authority != evidence.AuthorityManagement || auth.ManagementAccountID != "810000000000" || auth.OrganizationID != "o-holders0001" ||
		len(auth.Users) != 2 || len(auth.Roles) != 1 || auth.Pages != 3 || srv.Calls("810000000000", "GetAccountAuthorizationDetails") != 3 {
		t.Errorf("management account's details: %+v (%d calls)", auth, srv.Calls("810000000000", "GetAccountAuthorizationDetails"))
	}
	scoped, ok := auth.Policy("arn:aws:iam::810000000000:policy/Scoped")
	if !ok || scoped.Version != "v2" || !strings.Contains(scoped.Document, "IAMAuditRootUserCredentials") {
		t.Errorf("the default version, decoded: %+v", scoped)
	}
	if _, ok := auth.Policy("arn:aws:iam::aws:policy/AdministratorAccess"); !ok {
		t.Errorf("AdministratorAccess missing: %+v", auth.Policies)
	}

	sims := mgmt.PolicySimulations
	if st := mgmt.Source(evidence.SourcePolicySimulation); st.State != evidence.StateOK || sims == nil {
		t.Fatalf("simulations: %+v", st)
	}
	// ops and Admin have identity statements for sts:AssumeRoot; reader is
	// the sample of the rest.
	simulated := map[string]bool{}
	for _, r := range sims.Results {
		simulated[r.Principal] = true
	}
	if sims.Principals != 3 || len(simulated) != 3 || len(sims.Results) != 3*5*1 {
		t.Errorf("simulated %d principals (%v), %d results", sims.Principals, simulated, len(sims.Results))
	}
	for _, r := range sims.Results {
		want := "implicitDeny"
		if strings.HasSuffix(r.Principal, "role/Admin") || strings.HasSuffix(r.TaskPolicyARN, "/IAMAuditRootUserCredentials") && strings.HasSuffix(r.Principal, "user/ops") {
			want = "allowed"
		}
		if r.Decision != want || r.Resource != "arn:aws:iam::999999999999:root" {
			t.Errorf("%s %s %s: %s, want %s", r.Principal, r.TaskPolicyARN, r.Resource, r.Decision, want)
		}
	}

	// Only the default version counts: the older one allowed everything.
	if r := judgeHolders(t, mgmt)["arn:aws:iam::810000000000:user/ops"]; strings.Join(r.Evidence["tasks"].([]string), ",") != "IAMAuditRootUserCredentials" {
		t.Errorf("ops: tasks %v", r.Evidence["tasks"])
	}
	if a := admin.IAMAuthorization; a == nil || a.Authority != evidence.AuthorityDelegatedAdmin || len(a.Users) != 1 || a.Users[0].Attached[0] != "arn:aws:iam::aws:policy/PowerUserAccess" {
		t.Errorf("delegated administrator: %+v %+v", a, admin.Source(evidence.SourceIAMAuthorization))
	}
	if n := srv.Calls("810000000001", "GetAccountAuthorizationDetails"); n != 1 {
		t.Errorf("the delegated administrator's details were read %d times in its own account, want once", n)
	}
	if _, read := member.Sources[evidence.SourceIAMAuthorization]; read || srv.Calls("810000000002", "GetAccountAuthorizationDetails") != 0 {
		t.Error("a plain member's IAM principals were read")
	}
	if d := member.Organization.IAMDelegatedAdmins; d == nil || !slices.Equal(d.Accounts, []string{"810000000001"}) {
		t.Errorf("member's view of the delegated administrators: %+v", d)
	}
}

func TestScanRootSessionPrincipalsRefused(t *testing.T) {
	accounts, _ := scanHolders(t, `faults:
      - {op: GetAccountAuthorizationDetails, code: AccessDenied, status: 403, message: "not authorized to perform: iam:GetAccountAuthorizationDetails"}
      - {op: ListDelegatedAdministrators, code: AccessDeniedException, status: 400, message: "not authorized"}`)
	mgmt, member := byID(t, accounts, "810000000000"), byID(t, accounts, "810000000002")
	if st := mgmt.Source(evidence.SourceIAMAuthorization); st.State != evidence.StateDenied || !strings.Contains(st.Detail, "GetAccountAuthorizationDetails: AccessDenied") || mgmt.IAMAuthorization != nil {
		t.Errorf("denied details: %+v", st)
	}
	if _, ok := mgmt.Sources[evidence.SourcePolicySimulation]; ok {
		t.Error("simulation recorded without the details to choose principals from")
	}
	if st := mgmt.Source(evidence.SourceIAMDelegatedAdmin); st.State != evidence.StateDenied {
		t.Errorf("delegated administrators: %+v", st)
	}
	if d := member.Organization.IAMDelegatedAdmins; d == nil || !strings.Contains(d.Error, "ListDelegatedAdministrators iam.amazonaws.com: AccessDeniedException") {
		t.Errorf("member's view: %+v", d)
	}

	accounts, _ = scanHolders(t, `faults: [{op: SimulatePrincipalPolicy, code: AccessDenied, status: 403, message: "not authorized to perform: iam:SimulatePrincipalPolicy"}]`)
	mgmt = byID(t, accounts, "810000000000")
	if mgmt.Source(evidence.SourceIAMAuthorization).State != evidence.StateOK || mgmt.Source(evidence.SourcePolicySimulation).State != evidence.StateDenied || mgmt.PolicySimulations != nil {
		t.Errorf("a refused simulator must not cost the details: %+v", mgmt.Sources)
	}
}

// TestSingleAccountDelegatedAdmin: scanning IAM's delegated administrator
// alone, ListOrganizationsFeatures' answer says its principals matter.
func TestSingleAccountDelegatedAdmin(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := strings.Replace(holdersWorld, "%s", "", 1)
	w = strings.Replace(w, `  - id: "810000000001"`, `  - id: "810000000001"
    access_keys: [AKIAHOLDERS000000002]`, 1)
	_, url, err := awsfake.Serve(ctx, []byte(w), "holders world", awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := live.Account(ctx, live.NewClients(awsfake.ClientConfig(url, "AKIAHOLDERS000000002")), live.Options{PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if a.IAMAuthorization == nil || a.IAMAuthorization.Authority != evidence.AuthorityDelegatedAdmin || a.IAMAuthorization.ManagementAccountID != "810000000000" {
		t.Errorf("%+v %+v", a.IAMAuthorization, a.Sources)
	}
}

// judgeHolders runs org-root-session-holders on one account's evidence.
func judgeHolders(t *testing.T, a *evidence.Account, allowed ...string) map[string]rules.Result {
	t.Helper()
	r, _ := rules.ByID("org-root-session-holders")
	out := map[string]rules.Result{}
	for _, res := range r.Eval(rules.Input{Account: a, Settings: rules.Settings{Lists: map[string][]string{rules.ParamAllowedPrincipals: allowed}}}) {
		out[res.Resource] = res
	}
	return out
}

// TestGeneratedOrganizationHolders: a generated organization's management
// account has holders of every kind, collected and judged as a scan does.
func TestGeneratedOrganizationHolders(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 3, Seed: 1, Features: []string{evidence.FeatureRootCredentialsManagement, evidence.FeatureRootSessions}})
	fake, err := awsfake.New(w, awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, err := fake.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := Scan(ctx, awsfake.ClientConfig(url, awsfake.GenManagementKey), Options{Concurrency: 3, Collect: live.Options{PollInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	got := judgeHolders(t, byID(t, accounts, awsfake.GenManagementAccount))
	const p = "arn:aws:iam::100000000000:"
	all := "IAMAuditRootUserCredentials,IAMCreateRootUserPassword,IAMDeleteRootUserCredentials,S3UnlockBucketPolicy,SQSUnlockQueuePolicy"
	want := map[string]string{
		p + "user/ops-admin":        all,
		p + "user/dev-power":        all,
		p + "role/BreakGlassAudit":  "IAMAuditRootUserCredentials,IAMDeleteRootUserCredentials",
		p + "role/UnlockPolicies":   "S3UnlockBucketPolicy,SQSUnlockQueuePolicy",
		p + "role/OneMemberCleanup": "IAMDeleteRootUserCredentials",
		p + "role/BoundedAdmin":     "IAMAuditRootUserCredentials",
	}
	if len(got) != len(want) {
		t.Errorf("%d findings, want %d holders: %v", len(got), len(want), got)
	}
	for arn, tasks := range want {
		r := got[arn]
		if ts, _ := r.Evidence["tasks"].([]string); r.Status != "fail" || strings.Join(ts, ",") != tasks {
			t.Errorf("%s: %s %v, want fail %s (%s)", arn, r.Status, ts, tasks, r.Message)
		}
		if s := r.Evidence["simulation"].(map[string]any); s["agreements"] == 0 || s["disagreements"] != nil {
			t.Errorf("%s: simulation %v, want agreement", arn, s)
		}
	}
	if r := got[p+"role/OneMemberCleanup"]; !strings.Contains(r.Message, "in 100000000001 with") {
		t.Errorf("the one-member grant: %q", r.Message)
	}
}

// TestSimulatorDisagreementEndToEnd: the fake's simulator forced to
// disagree; the finding shows both answers.
func TestSimulatorDisagreementEndToEnd(t *testing.T) {
	accounts, _ := scanHolders(t, `faults: []`)
	mgmt := byID(t, accounts, "810000000000")
	before := judgeHolders(t, mgmt)["arn:aws:iam::810000000000:user/ops"].Evidence["simulation"].(map[string]any)
	if before["disagreements"] != nil || before["agreements"] != 5 {
		t.Fatalf("without an override: %v", before)
	}
	w := strings.Replace(holdersWorld, "%s", "", 1)
	w = strings.Replace(w, "      policies:\n", "      simulate: [{principal: ops, task: IAMAuditRootUserCredentials, decision: implicitDeny}, {principal: reader, task: SQSUnlockQueuePolicy, decision: allowed}]\n      policies:\n", 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, url, err := awsfake.Serve(ctx, []byte(w), "holders world", awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err = Scan(ctx, awsfake.ClientConfig(url, "AKIAHOLDERS000000001"), Options{Concurrency: 3, Collect: live.Options{PollInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	got := judgeHolders(t, byID(t, accounts, "810000000000"))
	ops := got["arn:aws:iam::810000000000:user/ops"]
	d, _ := ops.Evidence["simulation"].(map[string]any)["disagreements"].([]string)
	if ops.Status != "fail" || len(d) != 1 || !strings.Contains(d[0], "IAMAuditRootUserCredentials on arn:aws:iam::999999999999:root: rootwatch: allow; simulator: implicitDeny") {
		t.Errorf("ops: %s %v", ops.Status, d)
	}
	if r := got["arn:aws:iam::810000000000:user/reader"]; r.Status != "fail" || !strings.Contains(r.Message, "simulator says user") {
		t.Errorf("reader, a holder by the simulator only: %s %q", r.Status, r.Message)
	}
}

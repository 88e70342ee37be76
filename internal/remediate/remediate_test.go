package remediate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// fakeOrg serves a generated organization with centralized root access;
// member 100000000003's AssumeRoot is denied. more change the world before
// it is served.
func fakeOrg(t *testing.T, n int, more ...func(*awsfake.World)) (*awsfake.World, *awsfake.Server, Clients) {
	t.Helper()
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: n, Seed: 3, Features: []string{evidence.FeatureRootCredentialsManagement}})
	for _, a := range w.Accounts {
		if a.ID == "100000000003" {
			a.Faults = []awsfake.Fault{{Op: "AssumeRoot", Code: "AccessDenied", Status: 403, Message: "denied by an SCP"}}
		}
		if a.ID == "100000000002" { // give one member everything
			a.Root.PasswordEnabled, a.Root.PasswordLastUsed, a.Root.NoPassword, a.Root.MFA = "", "-3d", false, "virtual"
			a.Root.AccessKeys = []awsfake.KeySpec{{Active: true, LastRotated: "-30d"}, {Active: false, LastRotated: "-90d"}}
			a.Root.Certs = []awsfake.CertSpec{{Active: true, LastRotated: "-90d"}}
		}
	}
	for _, m := range more {
		m(w)
	}
	srv, err := awsfake.New(w, awsfake.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	url, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return w, srv, NewClients(awsfake.ClientConfig(url, awsfake.GenManagementKey))
}

// hasCredentials says whether the world's root user holds a credential:
// a password, key or certificate (an MFA device alone is none).
func hasCredentials(p awsfake.Principal) bool {
	pw := !p.NoPassword && p.PasswordEnabled != "false" && p.PasswordLastUsed != "N/A"
	return pw || len(p.AccessKeys) > 0 || len(p.Certs) > 0
}

func TestPlanApplyVerify(t *testing.T) {
	ctx := context.Background()
	w, srv, c := fakeOrg(t, 12)
	plan, err := BuildPlan(ctx, c, PlanOptions{Now: clock, Tool: "rootwatch test"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Digest != plan.ComputeDigest() || !plan.CentralRootAccess || plan.OrganizationID != awsfake.GenOrganizationID {
		t.Fatalf("plan header: %+v", plan)
	}
	byID := map[string]AccountPlan{}
	for _, a := range plan.Accounts {
		byID[a.AccountID] = a
	}
	if _, ok := byID[awsfake.GenManagementAccount]; ok {
		t.Error("the management account is in the plan")
	}
	for _, a := range w.Accounts[1:] {
		got := byID[a.ID]
		want := StatusNothingToDo
		switch {
		case a.ID == "100000000003":
			want = StatusBlocked
		case hasCredentials(a.Root):
			want = StatusPlanned
		}
		if got.Status != want {
			t.Errorf("%s: %s (%s), want %s", a.ID, got.Status, got.Reason, want)
		}
	}
	if b := byID["100000000003"]; !strings.Contains(b.Reason, "AssumeRoot refused") || !strings.Contains(b.Reason, "AccessDenied") {
		t.Errorf("blocked reason: %q", b.Reason)
	}
	full := byID["100000000002"]
	var calls []string
	for _, act := range full.Actions {
		calls = append(calls, act.Call)
	}
	if strings.Join(calls, ",") != "DeleteLoginProfile,DeleteAccessKey,DeleteAccessKey,DeleteSigningCertificate,DeactivateMFADevice" {
		t.Errorf("the order of the deletions: %v", calls)
	}

	// Credentials added after the plan are left alone, and keep the MFA
	// device the plan would have deactivated with the last credential.
	for _, a := range w.Accounts {
		if a.ID == "100000000002" {
			a.Root.Certs = append(a.Root.Certs, awsfake.CertSpec{Active: true, LastRotated: "-1d"})
		}
	}
	chk, err := Check(ctx, c, plan, ApplyOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	results, err := Apply(ctx, c, chk, ApplyOptions{Now: clock, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	actions := 0
	for _, r := range results {
		a := byID[r.AccountID]
		actions += len(a.Actions)
		want, done := OutcomeSkipped, 0
		switch {
		case r.AccountID == "100000000002":
			want, done = OutcomeFailed, len(a.Actions)-1 // all but the MFA deactivation
		case a.Status == StatusPlanned:
			want, done = OutcomeDone, len(a.Actions)
		}
		if r.Outcome != want || r.Done != done {
			t.Errorf("%s: %+v, want %s with %d done", r.AccountID, r, want, done)
		}
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != actions {
		t.Errorf("%d log lines for %d actions", len(lines), actions)
	}
	var first LogLine
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Result != "done" || first.RequestID == "" || first.Caller == "" {
		t.Errorf("log line: %s (%v)", lines[0], err)
	}
	for _, r := range results {
		if r.AccountID == "100000000002" && (len(r.New) != 1 || !strings.Contains(r.New[0], "signing certificate") ||
			!strings.Contains(r.Reason, "MFA left active: the root user has credentials the plan does not remove (signing certificate CERTFAKE")) {
			t.Errorf("the certificate added after the plan: %+v", r)
		}
	}

	// A new plan finds nothing left but the certificate added after the
	// first with the MFA device it kept, and the blocked account.
	again, err := BuildPlan(ctx, c, PlanOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again.Accounts {
		switch a.AccountID {
		case "100000000003":
		case "100000000002":
			if describeActions(a.Actions) != "[DeleteSigningCertificate CERTFAKE1000000000020001, DeactivateMFADevice arn:aws:iam::100000000002:mfa/root-account-mfa-device]" {
				t.Errorf("left after apply in %s: %+v", a.AccountID, a.Actions)
			}
		default:
			if a.Status != StatusNothingToDo {
				t.Errorf("%s still has %+v", a.AccountID, a.Actions)
			}
		}
	}
	for _, op := range []string{"DeleteLoginProfile", "DeleteAccessKey", "DeleteSigningCertificate", "DeactivateMFADevice", "AssumeRoot"} {
		if n := srv.Calls(awsfake.GenManagementAccount, op); n != 0 && op != "AssumeRoot" {
			t.Errorf("the management account got %d %s calls", n, op)
		}
	}
}

func TestPlansThatAreRefused(t *testing.T) {
	ctx := context.Background()
	_, _, c := fakeOrg(t, 4)
	plan, err := BuildPlan(ctx, c, PlanOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	edited := *plan
	edited.Accounts = append([]AccountPlan(nil), plan.Accounts...)
	edited.Accounts[0].Actions = append(edited.Accounts[0].Actions, Action{Call: "DeleteAccessKey", CredentialID: "AKIAOTHER"})
	other := *plan
	other.OrganizationID = "o-someoneelse1"
	other.Digest = other.ComputeDigest()
	for name, tc := range map[string]struct {
		p    *Plan
		opts ApplyOptions
		want string
	}{
		"edited by hand":   {&edited, ApplyOptions{Now: clock}, "digest: does not match"},
		"stale":            {plan, ApplyOptions{Now: func() time.Time { return now.Add(2 * time.Hour) }}, "longer than the maximum plan age of 1h0m0s"},
		"another org":      {&other, ApplyOptions{Now: clock}, "it is for organization o-someoneelse1"},
		"a longer max age": {plan, ApplyOptions{Now: func() time.Time { return now.Add(2 * time.Hour) }, MaxPlanAge: 3 * time.Hour}, ""},
	} {
		_, err := Check(ctx, c, tc.p, tc.opts)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", name, err)
		case tc.want != "" && (err == nil || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// TestPlanWithoutCentralRootAccess plans the calls that would enable it,
// only those not in effect; apply makes them, verifies them, and makes none
// when applied again; a new plan then reads the members.
func TestPlanWithoutCentralRootAccess(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 3, Seed: 3})
	srv, _ := awsfake.New(w, awsfake.Options{Now: clock})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, _ := srv.Listen(ctx, "127.0.0.1:0")
	c := NewClients(awsfake.ClientConfig(url, awsfake.GenManagementKey))
	named, err := BuildPlan(ctx, c, PlanOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if len(named.EnableCalls) != 0 || !strings.Contains(named.Accounts[0].Reason, "--enable-central-root-access plans them") {
		t.Errorf("without the flag: %v, %q", named.EnableCalls, named.Accounts[0].Reason)
	}
	plan, err := BuildPlan(ctx, c, PlanOptions{Now: clock, EnableCentralRootAccess: true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.CentralRootAccess || strings.Join(plan.EnableCalls, ",") != strings.Join(AllEnableCalls(), ",") {
		t.Errorf("plan: %+v", plan)
	}
	for _, a := range plan.Accounts {
		if a.Status != StatusBlocked || !strings.Contains(a.Reason, "iam:EnableOrganizationsRootCredentialsManagement") {
			t.Errorf("%s: %s %s", a.AccountID, a.Status, a.Reason)
		}
	}
	enabling := func() int {
		byOp, _ := srv.CallCounts()
		return byOp["EnableAWSServiceAccess"] + byOp["EnableOrganizationsRootCredentialsManagement"] + byOp["EnableOrganizationsRootSessions"]
	}
	for run, want := range []struct {
		calls, done, gone int
		log               string
	}{{3, 3, 0, `"result":"done"`}, {3, 0, 3, `"result":"already enabled"`}} {
		chk, err := Check(ctx, c, plan, ApplyOptions{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		res, err := Apply(ctx, c, chk, ApplyOptions{Now: clock, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Outcome != OutcomeDone || res[0].Done != want.done || res[0].Gone != want.gone ||
			strings.Count(log.String(), want.log) != 3 || enabling() != want.calls {
			t.Fatalf("apply %d: %+v, %d enabling calls so far\n%s", run+1, res, enabling(), log.String())
		}
	}
	again, err := BuildPlan(ctx, c, PlanOptions{Now: clock, EnableCentralRootAccess: true})
	if err != nil || !again.CentralRootAccess || len(again.EnableCalls) != 0 {
		t.Fatalf("after enabling: %+v %v", again, err)
	}
	for _, a := range again.Accounts {
		if a.Status == StatusBlocked {
			t.Errorf("%s still blocked: %s", a.AccountID, a.Reason)
		}
	}
}

// TestEnablingPlansOnlyWhatIsOff: with trusted access for IAM already on,
// the plan has the two IAM calls only.
func TestEnablingPlansOnlyWhatIsOff(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 2, Seed: 3})
	w.Accounts[0].Organization.TrustedIAM = true
	srv, _ := awsfake.New(w, awsfake.Options{Now: clock})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, _ := srv.Listen(ctx, "127.0.0.1:0")
	plan, err := BuildPlan(ctx, NewClients(awsfake.ClientConfig(url, awsfake.GenManagementKey)), PlanOptions{Now: clock, EnableCentralRootAccess: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(plan.EnableCalls, ",") != EnableRootCredentialsManagement+","+EnableRootSessions {
		t.Errorf("enable calls: %v", plan.EnableCalls)
	}
}

// outsider is an account of another organization, whose root user has a
// password.
const outsider = "800000000001"

func withOutsider(w *awsfake.World) {
	w.Accounts = append(w.Accounts, &awsfake.Account{ID: outsider, Name: "someone-else",
		Organization: &awsfake.Organization{ID: "o-other0000001", ManagementAccount: outsider, Features: []string{evidence.FeatureRootCredentialsManagement}},
		Root:         awsfake.Principal{PasswordLastUsed: "-3d"}})
}

// changesMade counts the calls that change root credentials or open a root
// session, in every account.
func changesMade(srv *awsfake.Server) int {
	byOp, _ := srv.CallCounts()
	return byOp["AssumeRoot"] + byOp["DeleteLoginProfile"] + byOp["DeleteAccessKey"] + byOp["DeleteSigningCertificate"] + byOp["DeactivateMFADevice"]
}

// TestCheckHoldsThePlanAgainstTheOrganization: a plan naming the management
// account, an account outside the organization or one no longer ACTIVE is
// refused whole, by Check, before any root session; so is one whose
// organization, management account or partition differ from the live ones,
// and one whose digest was recomputed over actions its own reading does not
// give.
func TestCheckHoldsThePlanAgainstTheOrganization(t *testing.T) {
	ctx := context.Background()
	w, srv, c := fakeOrg(t, 6, withOutsider)
	plan, err := BuildPlan(ctx, c, PlanOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	before := changesMade(srv)
	edit := func(change func(*Plan)) *Plan {
		var p Plan
		b, _ := json.Marshal(plan)
		json.Unmarshal(b, &p)
		change(&p)
		p.Digest = p.ComputeDigest() // what anyone editing the file can do
		return &p
	}
	naming := func(id string) func(*Plan) {
		return func(p *Plan) {
			p.Accounts = append(p.Accounts, AccountPlan{AccountID: id, Status: StatusPlanned, Credentials: &evidence.RootCredentials{Password: true},
				Actions: []Action{{Call: "DeleteLoginProfile"}}})
		}
	}
	last := len(plan.Accounts)
	for name, tc := range map[string]struct {
		p       *Plan
		suspend string
		want    string
	}{
		"the management account": {edit(naming(awsfake.GenManagementAccount)), "",
			"accounts[" + itoa(last) + "].account_id 100000000000: is the management account of o-gen0000001"},
		"an account of another organization": {edit(naming(outsider)), "",
			"accounts[" + itoa(last) + "].account_id 800000000001: is not in organization o-gen0000001 (ListAccounts)"},
		"an account nobody has":             {edit(naming("999999999999")), "", "account_id 999999999999: is not in organization o-gen0000001"},
		"a member suspended since the plan": {plan, "100000000004", "accounts[3].account_id 100000000004: is SUSPENDED in o-gen0000001, not ACTIVE"},
		"another management account": {edit(func(p *Plan) { p.ManagementAccountID = "100000000001" }), "",
			"management_account_id: the plan says 100000000001, but the management account of o-gen0000001 is 100000000000"},
		"another partition": {edit(func(p *Plan) { p.Partition = "aws-cn" }), "", "partition: the plan is for aws-cn"},
		"an action its reading does not give": {edit(func(p *Plan) {
			p.Accounts[0].Actions = append(p.Accounts[0].Actions, Action{Call: "DeleteAccessKey", CredentialID: "AKIAOTHER"})
		}), "", "accounts[0] (100000000001).actions: [DeleteAccessKey AKIAOTHER], but its credentials and what give none"},
		"a status nobody wrote":      {edit(func(p *Plan) { p.Accounts[1].Status = "maybe" }), "", `accounts[1] (100000000002).status "maybe"`},
		"an account ID that is none": {edit(func(p *Plan) { p.Accounts[0].AccountID = "12345" }), "", `accounts[0].account_id "12345": not a 12-digit account ID`},
		"an account twice":           {edit(func(p *Plan) { p.Accounts = append(p.Accounts, p.Accounts[0]) }), "", "accounts[" + itoa(last) + "].account_id 100000000001: listed twice"},
		"an unknown enabling call":   {edit(func(p *Plan) { p.EnableCalls = []string{"iam:DisableEverything"} }), "", `enable_calls[0] "iam:DisableEverything"`},
	} {
		for _, a := range w.Accounts {
			if a.ID == tc.suspend {
				a.State = "SUSPENDED"
			}
		}
		_, err := Check(ctx, c, tc.p, ApplyOptions{Now: clock})
		if err == nil || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		for _, a := range w.Accounts {
			a.State = ""
		}
	}
	if n := changesMade(srv) - before; n != 0 {
		t.Errorf("%d AssumeRoot or deletion calls for refused plans", n)
	}
	if _, err := Check(ctx, c, plan, ApplyOptions{Now: clock}); err != nil {
		t.Errorf("the plan as made: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSignedPlans: a signed plan passes Check under its key; an unsigned
// one, one signed under another key and one edited after signing (digest
// recomputed) are refused when a key is given.
func TestSignedPlans(t *testing.T) {
	ctx := context.Background()
	_, _, c := fakeOrg(t, 4)
	plan, err := BuildPlan(ctx, c, PlanOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef-test-key")
	signed := *plan
	signed.Sign(key)
	if !strings.HasPrefix(signed.Signature, "hmac-sha256:") || signed.Digest != plan.Digest || strings.Contains(signed.Signature, string(key)) {
		t.Fatalf("signature %q, digest %s (unsigned %s)", signed.Signature, signed.Digest, plan.Digest)
	}
	forged := signed
	forged.What = []string{Password}
	forged.Accounts = nil
	forged.Digest = forged.ComputeDigest()
	malformed := signed
	malformed.Signature = "sha1:abc"
	for name, tc := range map[string]struct {
		p    *Plan
		key  []byte
		want string
	}{
		"signed, with its key":  {&signed, key, ""},
		"signed, without a key": {&signed, nil, ""},
		"unsigned, with a key":  {plan, key, "signature: the plan is not signed"},
		"another key":           {&signed, []byte("another-key-0123456789"), "signature: does not match under the --sign-key key"},
		"edited after signing":  {&forged, key, "signature: does not match"},
		"not an HMAC":           {&malformed, key, "signature: not an hmac-sha256:<hex> value"},
	} {
		_, err := Check(ctx, c, tc.p, ApplyOptions{Now: clock, SignKey: tc.key})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", name, err)
		case tc.want != "" && (err == nil || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// TestApplyTakesOnlyWhatCheckAccepted: a plan changed after Check is
// refused by Apply, with no call made.
func TestApplyTakesOnlyWhatCheckAccepted(t *testing.T) {
	ctx := context.Background()
	_, srv, c := fakeOrg(t, 4)
	plan, err := BuildPlan(ctx, c, PlanOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	chk, err := Check(ctx, c, plan, ApplyOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	before := changesMade(srv)
	plan.Accounts = append(plan.Accounts, AccountPlan{AccountID: awsfake.GenManagementAccount, Status: StatusPlanned})
	if _, err := Apply(ctx, c, chk, ApplyOptions{Now: clock}); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "changed after it was checked") {
		t.Errorf("Apply: %v", err)
	}
	if _, err := Apply(ctx, c, nil, ApplyOptions{Now: clock}); !errors.Is(err, ErrRefused) {
		t.Errorf("Apply without Check: %v", err)
	}
	if n := changesMade(srv) - before; n != 0 {
		t.Errorf("%d calls", n)
	}
}

// TestScanAndPlanAgreeOnCredentials: iam-root-credentials-present fails
// exactly where the plan (removing everything) has something to do, for
// each kind alone, MFA alone and nothing; and the plan deactivates MFA only
// where it removes the last credential.
func TestScanAndPlanAgreeOnCredentials(t *testing.T) {
	var rule rules.Rule
	for _, r := range rules.Catalog() {
		if r.ID == "iam-root-credentials-present" {
			rule = r
		}
	}
	mfa := []evidence.RootCredential{{ID: "arn:aws:iam::123456789012:mfa/root"}}
	key := []evidence.RootCredential{{ID: "AKIA1", Status: "Inactive"}}
	cert := []evidence.RootCredential{{ID: "C1", Status: "Active"}}
	for _, tc := range []struct {
		name    string
		rc      evidence.RootCredentials
		what    []string
		scan    finding.Status
		actions string
		kept    string
	}{
		{"password only", evidence.RootCredentials{Password: true}, nil, finding.StatusFail, "[DeleteLoginProfile]", ""},
		{"keys only", evidence.RootCredentials{AccessKeys: key}, nil, finding.StatusFail, "[DeleteAccessKey AKIA1]", ""},
		{"certificate only", evidence.RootCredentials{Certificates: cert}, nil, finding.StatusFail, "[DeleteSigningCertificate C1]", ""},
		{"MFA only", evidence.RootCredentials{MFADevices: mfa}, nil, finding.StatusPass, "none", "1 MFA device: not a credential"},
		{"nothing", evidence.RootCredentials{}, nil, finding.StatusPass, "none", ""},
		{"password and MFA", evidence.RootCredentials{Password: true, MFADevices: mfa}, nil, finding.StatusFail,
			"[DeleteLoginProfile, DeactivateMFADevice arn:aws:iam::123456789012:mfa/root]", ""},
		{"password and MFA, keeping the password", evidence.RootCredentials{Password: true, MFADevices: mfa}, []string{Keys, MFA}, finding.StatusFail,
			"none", "the password: password is not in --what; 1 MFA device: the root user keeps a credential, so its MFA stays"},
		{"key and MFA, keeping MFA", evidence.RootCredentials{AccessKeys: key, MFADevices: mfa}, []string{Keys}, finding.StatusFail,
			"[DeleteAccessKey AKIA1]", "1 MFA device: mfa is not in --what"},
	} {
		a := &evidence.Account{ID: "123456789012", RootCredentials: &tc.rc,
			Organization: &evidence.Organization{Role: evidence.OrgRoleMember, ID: "o-abcdefghij", EnabledFeatures: []string{evidence.FeatureRootCredentialsManagement}}}
		a.SetSource(evidence.SourceOrganization, evidence.SourceStatus{State: evidence.StateOK})
		a.SetSource(evidence.SourceRootCredentials, evidence.SourceStatus{State: evidence.StateOK})
		res := rule.Eval(rules.Input{Account: a, AsOf: now})
		what := tc.what
		if what == nil {
			what = AllKinds()
		}
		acts, kept := actionsFor(&tc.rc, what)
		if len(res) != 1 || res[0].Status != tc.scan || describeActions(acts) != tc.actions || !strings.HasPrefix(strings.Join(kept, "; "), tc.kept) || tc.kept == "" && len(kept) > 0 {
			t.Errorf("%s: scan %v; plan %s, kept %q", tc.name, res, describeActions(acts), kept)
		}
		if tc.what == nil && (res[0].Status == finding.StatusFail) != (statusOf(acts) == StatusPlanned) {
			t.Errorf("%s: the scan says %s, the plan %s", tc.name, res[0].Status, statusOf(acts))
		}
		if strings.Contains(res[0].Message, "1 MFA devices") {
			t.Errorf("%s: %s", tc.name, res[0].Message)
		}
	}
}

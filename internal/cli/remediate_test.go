package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/remediate"
)

// remediateFake serves w on loopback and runs rootwatch against it as its
// management account, with env as the environment.
type remediateFake struct {
	srv *awsfake.Server
	env map[string]string
	dir string
	t   *testing.T
	url string
	ctx context.Context
}

func newRemediateFake(t *testing.T, w *awsfake.World) *remediateFake {
	t.Helper()
	srv, err := awsfake.New(w, awsfake.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	url, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &remediateFake{srv: srv, env: map[string]string{}, dir: t.TempDir(), t: t, url: url, ctx: ctx}
}

// run runs rootwatch with stdin (a terminal when tty).
func (f *remediateFake) run(stdin string, tty bool, args ...string) result {
	var out, errb bytes.Buffer
	app := &App{Stdin: strings.NewReader(stdin), StdinIsTerminal: func() bool { return tty }, Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return f.env[k] }, Now: time.Now, Version: "test", IsTerminal: func(io.Writer) bool { return false },
		AWSConfig: func(context.Context, string, string) (aws.Config, error) {
			return awsfake.ClientConfig(f.url, awsfake.GenManagementKey), nil
		}}
	err := Execute(f.ctx, app, args)
	return result{out.String(), errb.String(), ExitCode(err), err}
}

// TestRemediatePlanApply plans and applies on a generated organization,
// with the refusals around it.
func TestRemediatePlanApply(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 8, Seed: 5, Features: []string{evidence.FeatureRootCredentialsManagement}})
	for _, a := range w.Accounts[1:] {
		a.Report = awsfake.ReportSpec{Existing: "1h"}
		a.Root.PasswordEnabled, a.Root.PasswordLastUsed, a.Root.NoPassword = "", "-20d", false // every member root has a password
	}
	f := newRemediateFake(t, w)
	srv, run := f.srv, f.run
	dir := f.dir
	planPath := filepath.Join(dir, "plan.json")
	r := run("", false, "remediate", "plan", "--org", "-o", planPath)
	if r.code != ExitOK || !strings.Contains(r.stdout, "7 planned, 0 with nothing to do, 0 blocked.") {
		t.Fatalf("plan: exit %d (%v)\n%s%s", r.code, r.err, r.stdout, r.stderr)
	}
	if st, err := os.Stat(planPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("plan file: %v %v", st, err)
	}
	if r := run("", false, "remediate", "apply", planPath); r.code != ExitUsage || !strings.Contains(r.err.Error(), "not a terminal") {
		t.Errorf("no terminal, no --yes: exit %d (%v)", r.code, r.err)
	}
	if r := run("3\n", true, "remediate", "apply", planPath); r.code != ExitUsage || !strings.Contains(r.err.Error(), "not confirmed") {
		t.Errorf("the wrong number typed: exit %d (%v)", r.code, r.err)
	}
	data, _ := os.ReadFile(planPath)
	edited := filepath.Join(dir, "edited.json")
	os.WriteFile(edited, bytes.Replace(data, []byte(`"DeleteLoginProfile"`), []byte(`"DeleteAccessKey"`), 1), 0o600)
	if r := run("", false, "remediate", "apply", edited, "--yes"); r.code != ExitUsage || !strings.Contains(r.err.Error(), "digest: does not match") {
		t.Errorf("an edited plan: exit %d (%v)", r.code, r.err)
	}
	logPath := filepath.Join(dir, "log.jsonl")
	summary := filepath.Join(dir, "change.md")
	r = run("", false, "remediate", "apply", planPath, "--yes", "--log", logPath, "--summary", summary)
	if r.code != ExitOK || strings.Count(r.stdout, " done: ") != 7 {
		t.Fatalf("apply: exit %d (%v)\n%s%s", r.code, r.err, r.stdout, r.stderr)
	}
	if strings.Count(r.stdout, "  pass: The member root user has no password, access keys or signing certificates") != 7 {
		t.Errorf("the re-scan does not show iam-root-credentials-present passing in the 7 members:\n%s", r.stdout)
	}
	var plan struct{ Accounts []struct{ Actions []any } }
	json.Unmarshal(data, &plan)
	actions := 0
	for _, a := range plan.Accounts {
		actions += len(a.Actions)
	}
	log, _ := os.ReadFile(logPath)
	if strings.Count(string(log), "\n") != actions || strings.Contains(string(log), "SecretAccessKey") || strings.Contains(string(log), "SessionToken") {
		t.Errorf("%d log lines for %d actions:\n%s", strings.Count(string(log), "\n"), actions, log)
	}
	if md, _ := os.ReadFile(summary); strings.Count(string(md), "| done |") != 7 || !strings.Contains(string(md), "# Root credential removal in o-gen0000001") {
		t.Errorf("summary:\n%s", md)
	}
	for _, op := range []string{"DeleteLoginProfile", "DeleteAccessKey", "DeleteSigningCertificate", "DeactivateMFADevice"} {
		if n := srv.Calls(awsfake.GenManagementAccount, op); n != 0 {
			t.Errorf("the management account got %d %s calls", n, op)
		}
	}
}

// changesMade counts AssumeRoot sessions and root credential changes in
// every account of the fake.
func changesMade(srv *awsfake.Server) int {
	byOp, _ := srv.CallCounts()
	return byOp["AssumeRoot"] + byOp["DeleteLoginProfile"] + byOp["DeleteAccessKey"] + byOp["DeleteSigningCertificate"] + byOp["DeactivateMFADevice"]
}

// editPlan rewrites a plan file as someone who can edit it can: changed,
// digest recomputed (the signature, if any, kept).
func editPlan(t *testing.T, from, to string, change func(*remediate.Plan)) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	p, err := remediate.DecodePlan(data)
	if err != nil {
		t.Fatal(err)
	}
	change(p)
	p.Digest = p.ComputeDigest()
	b, _ := json.Marshal(p)
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRemediateApplyChecksTheOrganization: a plan edited to name the
// management account and an account of another organization (digest
// recomputed) is refused whole, exit 2, naming the file, the accounts and
// the fields, before any AssumeRoot or deletion; the members it also names
// keep their credentials. A plan of schema 1 is refused by name.
func TestRemediateApplyChecksTheOrganization(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 4, Seed: 5, Features: []string{evidence.FeatureRootCredentialsManagement}})
	for _, a := range w.Accounts[1:] {
		a.Root.PasswordEnabled, a.Root.PasswordLastUsed, a.Root.NoPassword = "", "-20d", false
	}
	w.Accounts = append(w.Accounts, &awsfake.Account{ID: "800000000001", Root: awsfake.Principal{PasswordLastUsed: "-3d"},
		Organization: &awsfake.Organization{ID: "o-other0000001", ManagementAccount: "800000000001", Features: []string{evidence.FeatureRootCredentialsManagement}}})
	f := newRemediateFake(t, w)
	planPath, forged := filepath.Join(f.dir, "plan.json"), filepath.Join(f.dir, "forged.json")
	if r := f.run("", false, "remediate", "plan", "--org", "-o", planPath); r.code != ExitOK || !strings.Contains(r.stdout, "3 planned") {
		t.Fatalf("plan: exit %d (%v)\n%s", r.code, r.err, r.stdout)
	}
	editPlan(t, planPath, forged, func(p *remediate.Plan) {
		for _, id := range []string{awsfake.GenManagementAccount, "800000000001"} {
			p.Accounts = append(p.Accounts, remediate.AccountPlan{AccountID: id, Status: remediate.StatusPlanned,
				Credentials: &evidence.RootCredentials{Password: true}, Actions: []remediate.Action{{Call: "DeleteLoginProfile"}}})
		}
	})
	before := changesMade(f.srv)
	r := f.run("", false, "remediate", "apply", forged, "--yes")
	for _, want := range []string{forged + ": plan refused: ", "accounts[3].account_id 100000000000: is the management account of o-gen0000001",
		"accounts[4].account_id 800000000001: is not in organization o-gen0000001"} {
		if r.code != ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), want) {
			t.Errorf("forged plan: exit %d (%v), want %q\n%s", r.code, r.err, want, r.stdout)
		}
	}
	if n := changesMade(f.srv) - before; n != 0 {
		t.Errorf("%d AssumeRoot or deletion calls for a refused plan", n)
	}
	if r := f.run("", false, "remediate", "plan", "--org"); !strings.Contains(r.stdout, "3 planned") {
		t.Errorf("the members of the refused plan lost credentials:\n%s", r.stdout)
	}

	old := filepath.Join(f.dir, "old.json")
	data, _ := os.ReadFile(planPath)
	os.WriteFile(old, bytes.Replace(data, []byte(`"schema_version": "2"`), []byte(`"schema_version": "1"`), 1), 0o600)
	if r := f.run("", false, "remediate", "apply", old, "--yes"); r.code != ExitUsage ||
		!strings.Contains(r.err.Error(), old+`: plan refused: schema_version "1", this rootwatch applies "2": make the plan again`) {
		t.Errorf("a schema 1 plan: exit %d (%v)", r.code, r.err)
	}
	if r := f.run("", false, "remediate", "apply", planPath, "--yes", "--rescan=false"); r.code != ExitOK || strings.Count(r.stdout, " done: ") != 3 {
		t.Errorf("the plan as made: exit %d (%v)\n%s", r.code, r.err, r.stdout)
	}
}

// TestRemediateSignedPlans: a plan signed under --sign-key applies with the
// same key; edited after signing (digest recomputed) or unsigned, it is
// refused when a key is given; the key appears in no output, log, summary
// or plan.
func TestRemediateSignedPlans(t *testing.T) {
	const key = "s3cret-plan-key-do-not-print-0123456789"
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 3, Seed: 5, Features: []string{evidence.FeatureRootCredentialsManagement}})
	for _, a := range w.Accounts[1:] {
		a.Root.PasswordEnabled, a.Root.PasswordLastUsed, a.Root.NoPassword = "", "-20d", false
	}
	f := newRemediateFake(t, w)
	f.env["PLAN_KEY"], f.env["SHORT_KEY"] = key, "short"
	path := func(n string) string { return filepath.Join(f.dir, n) }
	var seen strings.Builder
	run := func(args ...string) result {
		r := f.run("", false, args...)
		seen.WriteString(r.stdout + r.stderr)
		if r.err != nil {
			seen.WriteString(r.err.Error())
		}
		return r
	}
	r := run("remediate", "plan", "--org", "--sign-key", "env:PLAN_KEY", "-o", path("signed.json"))
	if r.code != ExitOK || !strings.Contains(r.stderr, ", signed); review it, then: rootwatch remediate apply "+path("signed.json")+" --sign-key env:PLAN_KEY") {
		t.Fatalf("signed plan: exit %d (%v)\n%s", r.code, r.err, r.stderr)
	}
	if r := run("remediate", "plan", "--org", "-o", path("unsigned.json")); r.code != ExitOK {
		t.Fatalf("unsigned plan: exit %d (%v)", r.code, r.err)
	}
	editPlan(t, path("signed.json"), path("forged.json"), func(p *remediate.Plan) { p.Accounts = p.Accounts[:1] })
	before := changesMade(f.srv)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"remediate", "apply", path("unsigned.json"), "--sign-key", "env:PLAN_KEY", "--yes"}, path("unsigned.json") + ": plan refused: signature: the plan is not signed"},
		{[]string{"remediate", "apply", path("forged.json"), "--sign-key", "env:PLAN_KEY", "--yes"}, path("forged.json") + ": plan refused: signature: does not match under the --sign-key key"},
		{[]string{"remediate", "apply", path("signed.json"), "--sign-key", key, "--yes"}, "--sign-key: give env:VAR or file:PATH, not the key itself"},
		{[]string{"remediate", "plan", "--org", "--sign-key", key}, "--sign-key: give env:VAR or file:PATH"},
		{[]string{"remediate", "apply", path("signed.json"), "--sign-key", "env:SHORT_KEY", "--yes"}, "--sign-key: the key is shorter than 16 bytes"},
		{[]string{"remediate", "apply", path("signed.json"), "--sign-key", "env:NO_SUCH_KEY", "--yes"}, "--sign-key: environment variable NO_SUCH_KEY is empty or not set"},
	} {
		if r := run(tc.args...); r.code != ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("%v: exit %d (%v), want %q", tc.args[2:], r.code, r.err, tc.want)
		}
	}
	if n := changesMade(f.srv) - before; n != 0 {
		t.Errorf("%d AssumeRoot or deletion calls for refused plans", n)
	}
	r = run("remediate", "apply", path("signed.json"), "--sign-key", "env:PLAN_KEY", "--yes", "--log", path("log.jsonl"), "--summary", path("change.md"))
	if r.code != ExitOK || strings.Count(r.stdout, " done: ") != 2 {
		t.Fatalf("signed plan, its key: exit %d (%v)\n%s%s", r.code, r.err, r.stdout, r.stderr)
	}
	if r := run("remediate", "apply", path("signed.json"), "--yes", "--rescan=false"); !strings.Contains(r.stderr, "is signed, but no --sign-key was given: its signature was not checked") {
		t.Errorf("a signed plan without --sign-key: %s", r.stderr)
	}
	for _, n := range []string{"signed.json", "unsigned.json", "forged.json", "log.jsonl", "change.md"} {
		b, _ := os.ReadFile(path(n))
		seen.Write(b)
	}
	if strings.Contains(seen.String(), key) || strings.Contains(seen.String(), "do-not-print") {
		t.Error("the signing key was printed or written")
	}
}

// TestRemediateEnablesCentralRootAccess: a plan made with
// --enable-central-root-access lists the enabling calls as planned; apply
// asks the same confirmation as for deletions, makes them and verifies
// them; applying it again makes none; a new plan reads the members.
func TestRemediateEnablesCentralRootAccess(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 3, Seed: 5})
	f := newRemediateFake(t, w)
	enable := filepath.Join(f.dir, "enable.json")
	r := f.run("", false, "remediate", "plan", "--org", "--enable-central-root-access", "-o", enable)
	if r.code != ExitOK || !strings.Contains(r.stdout, "  100000000000  planned (management account): organizations:EnableAWSServiceAccess iam.amazonaws.com; iam:EnableOrganizationsRootCredentialsManagement; iam:EnableOrganizationsRootSessions\n") ||
		!strings.Contains(r.stdout, "3 enabling calls planned; apply makes them") {
		t.Fatalf("plan: exit %d (%v)\n%s", r.code, r.err, r.stdout)
	}
	enabling := func() [3]int {
		m := awsfake.GenManagementAccount
		return [3]int{f.srv.Calls(m, "EnableAWSServiceAccess"), f.srv.Calls(m, "EnableOrganizationsRootCredentialsManagement"), f.srv.Calls(m, "EnableOrganizationsRootSessions")}
	}
	if r := f.run("", false, "remediate", "apply", enable); r.code != ExitUsage || !strings.Contains(r.err.Error(), "not a terminal") || enabling() != [3]int{} {
		t.Errorf("no terminal, no --yes: exit %d (%v), calls %v", r.code, r.err, enabling())
	}
	r = f.run("3\n", true, "remediate", "apply", enable)
	if r.code != ExitOK || !strings.Contains(r.stderr, "This enables centralized root access in o-gen0000001") ||
		!strings.Contains(r.stdout, "100000000000  done: 3 enabling calls made, 0 already in effect") || enabling() != [3]int{1, 1, 1} {
		t.Fatalf("apply: exit %d (%v), calls %v\n%s%s", r.code, r.err, enabling(), r.stdout, r.stderr)
	}
	r = f.run("", false, "remediate", "apply", enable, "--yes")
	if r.code != ExitOK || !strings.Contains(r.stdout, "done: 0 enabling calls made, 3 already in effect") || enabling() != [3]int{1, 1, 1} {
		t.Errorf("applied again: exit %d (%v), calls %v\n%s", r.code, r.err, enabling(), r.stdout)
	}
	if r := f.run("", false, "remediate", "plan", "--org", "--enable-central-root-access"); r.code != ExitOK || strings.Contains(r.stdout, "enabling") || !strings.Contains(r.stdout, ", 0 blocked.") {
		t.Errorf("plan after enabling: exit %d\n%s", r.code, r.stdout)
	}
}

// TestScanAndPlanAgreeOnTheFake: on the same organization, the scan's
// iam-root-credentials-present fails exactly in the accounts the plan acts
// on: a password, keys or a certificate alone; never MFA alone or nothing.
func TestScanAndPlanAgreeOnTheFake(t *testing.T) {
	w, err := awsfake.ParseWorld([]byte(`
accounts:
  - id: "100000000000"
    access_keys: [AKIAGENMANAGEMENT000]
    root: {password_last_used: no_information, mfa: hardware}
    report: {existing: 1h}
    organization: {id: o-agree000001, management_account: "100000000000", features: [RootCredentialsManagement, RootSessions]}
  - id: "100000000001"
    name: password-only
    root: {password_last_used: -40d}
    report: {existing: 1h}
    organization: {id: o-agree000001, management_account: "100000000000"}
  - id: "100000000002"
    name: keys-only
    root: {no_password: true, password_enabled: "false", password_last_used: N/A, access_keys: [{active: false, last_rotated: -300d}]}
    report: {existing: 1h}
    organization: {id: o-agree000001, management_account: "100000000000"}
  - id: "100000000003"
    name: certificate-only
    root: {no_password: true, password_enabled: "false", password_last_used: N/A, certs: [{active: true, last_rotated: -300d}]}
    report: {existing: 1h}
    organization: {id: o-agree000001, management_account: "100000000000"}
  - id: "100000000004"
    name: mfa-only
    root: {no_password: true, password_enabled: "false", password_last_used: N/A, mfa: hardware}
    report: {existing: 1h}
    organization: {id: o-agree000001, management_account: "100000000000"}
  - id: "100000000005"
    name: nothing
    root: {no_password: true, password_enabled: "false", password_last_used: N/A}
    report: {existing: 1h}
    organization: {id: o-agree000001, management_account: "100000000000"}
`), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	f := newRemediateFake(t, w)
	r := f.run("", false, "scan", "--org", "-f", "json")
	run := decodeRun(t, r.stdout)
	planPath := filepath.Join(f.dir, "plan.json")
	pr := f.run("", false, "remediate", "plan", "--org", "-o", planPath)
	data, _ := os.ReadFile(planPath)
	plan, err := remediate.DecodePlan(data)
	if err != nil {
		t.Fatalf("plan: %v (%v)\n%s", err, pr.err, pr.stdout)
	}
	want := map[string]finding.Status{"100000000001": finding.StatusFail, "100000000002": finding.StatusFail, "100000000003": finding.StatusFail,
		"100000000004": finding.StatusPass, "100000000005": finding.StatusPass}
	for _, a := range plan.Accounts {
		scanned := statusOf(run, a.AccountID, "iam-root-credentials-present")
		if scanned != want[a.AccountID] || (scanned == finding.StatusFail) != (a.Status == remediate.StatusPlanned) {
			t.Errorf("%s: the scan says %s (want %s), the plan %s %v", a.AccountID, scanned, want[a.AccountID], a.Status, a.Actions)
		}
	}
	if len(plan.Accounts) != len(want) {
		t.Errorf("%d accounts planned", len(plan.Accounts))
	}
	mfaOnly := findingOf(t, run, "100000000004", "iam-root-credentials-present")
	if !strings.Contains(mfaOnly.Message, "Still registered: 1 MFA device;") ||
		!strings.Contains(pr.stdout, "100000000004  nothing to do; kept: 1 MFA device: not a credential") ||
		!strings.Contains(pr.stdout, "A credential is a password, access key or signing certificate") {
		t.Errorf("the MFA-only account: scan %q; plan:\n%s", mfaOnly.Message, pr.stdout)
	}
}

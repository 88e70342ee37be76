package remediate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// fakeOrg serves a generated organization with centralized root access;
// member 100000000003's AssumeRoot is denied.
func fakeOrg(t *testing.T, n int) (*awsfake.World, *awsfake.Server, Clients) {
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

// hasCredentials says what the world holds for a root user.
func hasCredentials(p awsfake.Principal) bool {
	pw := !p.NoPassword && p.PasswordEnabled != "false" && p.PasswordLastUsed != "N/A"
	return pw || len(p.AccessKeys) > 0 || len(p.Certs) > 0 || p.MFA == "virtual" || p.MFA == "hardware"
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

	// Credentials added after the plan are left alone.
	for _, a := range w.Accounts {
		if a.ID == "100000000002" {
			a.Root.Certs = append(a.Root.Certs, awsfake.CertSpec{Active: true, LastRotated: "-1d"})
		}
	}
	id, err := Check(ctx, c, plan, ApplyOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	results := Apply(ctx, c, plan, id, ApplyOptions{Now: clock, Log: &log})
	actions := 0
	for _, r := range results {
		a := byID[r.AccountID]
		actions += len(a.Actions)
		want := OutcomeSkipped
		if a.Status == StatusPlanned {
			want = OutcomeDone
		}
		if r.Outcome != want || r.Done != len(a.Actions) && want == OutcomeDone {
			t.Errorf("%s: %+v, want %s", r.AccountID, r, want)
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
		if r.AccountID == "100000000002" && (len(r.New) != 1 || !strings.Contains(r.New[0], "signing certificate")) {
			t.Errorf("the certificate added after the plan: %+v", r)
		}
	}

	// A new plan finds nothing left but the certificate added after the
	// first, and the blocked account.
	again, err := BuildPlan(ctx, c, PlanOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again.Accounts {
		switch a.AccountID {
		case "100000000003":
		case "100000000002":
			if len(a.Actions) != 1 || a.Actions[0].Call != "DeleteSigningCertificate" {
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
		"edited by hand":   {&edited, ApplyOptions{Now: clock}, "digest does not match"},
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

// TestPlanWithoutCentralRootAccess names the calls that would enable it.
func TestPlanWithoutCentralRootAccess(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 3, Seed: 3})
	srv, _ := awsfake.New(w, awsfake.Options{Now: clock})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, _ := srv.Listen(ctx, "127.0.0.1:0")
	plan, err := BuildPlan(ctx, NewClients(awsfake.ClientConfig(url, awsfake.GenManagementKey)), PlanOptions{Now: clock, EnableCentralRootAccess: true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.CentralRootAccess || len(plan.EnableCalls) != 3 {
		t.Errorf("plan: %+v", plan)
	}
	for _, a := range plan.Accounts {
		if a.Status != StatusBlocked || !strings.Contains(a.Reason, "iam:EnableOrganizationsRootCredentialsManagement") {
			t.Errorf("%s: %s %s", a.AccountID, a.Status, a.Reason)
		}
	}
	// Applying it makes the three calls; a new plan then reads the members.
	c := NewClients(awsfake.ClientConfig(url, awsfake.GenManagementKey))
	id, err := Check(ctx, c, plan, ApplyOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res := Apply(ctx, c, plan, id, ApplyOptions{Now: clock, Log: &log})
	if len(res) != 1 || res[0].Outcome != OutcomeDone || res[0].Done != 3 || strings.Count(log.String(), "\n") != 3 {
		t.Fatalf("enable: %+v\n%s", res, log.String())
	}
	again, err := BuildPlan(ctx, c, PlanOptions{Now: clock})
	if err != nil || !again.CentralRootAccess {
		t.Fatalf("after enabling: %+v %v", again, err)
	}
	for _, a := range again.Accounts {
		if a.Status == StatusBlocked {
			t.Errorf("%s still blocked: %s", a.AccountID, a.Reason)
		}
	}
}

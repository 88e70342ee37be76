package live

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
)

var clockStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// serve starts the fake with a one-account world and returns clients for it.
func serve(t *testing.T, worldYAML string, clock func() time.Time) (*awsfake.Server, Clients) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, url, err := awsfake.Serve(ctx, []byte(worldYAML), t.Name(), awsfake.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return srv, NewClients(awsfake.ClientConfig(url, "AKIATEST000000000001"))
}

const acct = "123456789012"

func world(report, faults string) string {
	return `
accounts:
  - id: "123456789012"
    access_keys: [AKIATEST000000000001]
    root: {password_last_used: -3d, mfa: hardware}
    users: [{name: alice, password_last_used: -1d, mfa: virtual}]
    report: ` + report + `
    faults: ` + faults + "\n"
}

func fastOpts(now func() time.Time) Options {
	return Options{MaxReportAge: 4 * time.Hour, ReportTimeout: 5 * time.Second, PollInterval: time.Millisecond, PollMax: 5 * time.Millisecond, Now: now}
}

func TestFreshReportReusedWithoutGenerate(t *testing.T) {
	srv, c := serve(t, world("{existing: 2h}", "[]"), func() time.Time { return clockStart })
	rep, st := CredentialReport(context.Background(), c.IAM, fastOpts(func() time.Time { return clockStart }))
	if st.State != evidence.StateOK || rep == nil {
		t.Fatalf("state %+v", st)
	}
	if n := srv.Calls(acct, "GenerateCredentialReport"); n != 0 {
		t.Errorf("GenerateCredentialReport called %d times for a fresh report", n)
	}
	if !rep.GeneratedTime.Equal(clockStart.Add(-2*time.Hour)) || !strings.Contains(st.Detail, "reused the existing report") {
		t.Errorf("generated %v detail %q", rep.GeneratedTime, st.Detail)
	}
	if rep.Root().Row == nil || !rep.Root().Row.PasswordLastUsed.Time.Equal(clockStart.Add(-2*time.Hour-3*24*time.Hour)) {
		t.Errorf("root row not as the world says: %+v", rep.Root())
	}
}

func TestStaleAndExpiredReportsAreRegenerated(t *testing.T) {
	for _, report := range []string{"{existing: 5h}", "{existing: 1h, expired: true}"} {
		srv, c := serve(t, world(report, "[]"), func() time.Time { return clockStart })
		rep, st := CredentialReport(context.Background(), c.IAM, fastOpts(func() time.Time { return clockStart }))
		if st.State != evidence.StateOK || !rep.GeneratedTime.Equal(clockStart) {
			t.Errorf("%s: state %+v generated %v", report, st, rep)
		}
		if srv.Calls(acct, "GenerateCredentialReport") == 0 {
			t.Errorf("%s: no generation", report)
		}
	}
}

func TestThrottlingRetriedBySDK(t *testing.T) {
	srv, c := serve(t, world("{existing: 1h}", "[{op: GetAccountSummary, code: Throttling, status: 400, message: Rate exceeded, times: 2}]"), func() time.Time { return clockStart })
	sum, st := accountSummary(context.Background(), c.IAM)
	if st.State != evidence.StateOK || sum[evidence.SummaryMFAEnabled] != 1 {
		t.Fatalf("state %+v summary %v", st, sum)
	}
	if n := srv.Calls(acct, "GetAccountSummary"); n < 3 {
		t.Errorf("GetAccountSummary calls = %d, want at least 3 (two throttled, retried)", n)
	}
}

func TestDeniedAndFailedSources(t *testing.T) {
	faults := `[{op: ListVirtualMFADevices, code: AccessDenied, status: 403, message: "User: arn:aws:iam::123456789012:user/scanner is not authorized to perform: iam:ListVirtualMFADevices"},
	           {op: GetAccountSummary, code: ServiceFailure, status: 500}]`
	_, c := serve(t, world("{existing: 1h}", faults), func() time.Time { return clockStart })
	a, err := Account(context.Background(), c, fastOpts(func() time.Time { return clockStart }))
	if err != nil {
		t.Fatal(err)
	}
	if st := a.Source(evidence.SourceVirtualMFA); st.State != evidence.StateDenied || !strings.Contains(st.Detail, "ListVirtualMFADevices: AccessDenied (HTTP 403)") {
		t.Errorf("virtual MFA source %+v", st)
	}
	if st := a.Source(evidence.SourceAccountSummary); st.State != evidence.StateError || !strings.Contains(st.Detail, "ServiceFailure") {
		t.Errorf("summary source %+v", st)
	}
	if st := a.Source(evidence.SourceCredentialReport); st.State != evidence.StateOK {
		t.Errorf("one failing source stopped another: %+v", st)
	}
	if a.ID != acct || a.Partition != "aws" {
		t.Errorf("identity %s %s", a.ID, a.Partition)
	}
}

func TestCredentialReportDenied(t *testing.T) {
	_, c := serve(t, world("{existing: 1h}", "[{op: GetCredentialReport, code: AccessDenied, status: 403}]"), func() time.Time { return clockStart })
	_, st := CredentialReport(context.Background(), c.IAM, fastOpts(func() time.Time { return clockStart }))
	if st.State != evidence.StateDenied {
		t.Errorf("state %+v", st)
	}
}

func TestVirtualMFAPagination(t *testing.T) {
	var users strings.Builder
	for i := 0; i < 250; i++ {
		users.WriteString("      - {name: u" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + strconv.Itoa(i) + ", mfa: virtual}\n")
	}
	yaml := "accounts:\n  - id: \"123456789012\"\n    access_keys: [AKIATEST000000000001]\n    root: {mfa: virtual}\n    users:\n" + users.String()
	srv, c := serve(t, yaml, func() time.Time { return clockStart })
	devs, st := virtualMFADevices(context.Background(), c.IAM)
	if st.State != evidence.StateOK || len(devs) != 251 {
		t.Fatalf("devices %d state %+v", len(devs), st)
	}
	// 251 devices at 100 a page take three requests; the SDK may retry one
	// under load, which is fine as long as no device is lost or repeated.
	if n := srv.Calls(acct, "ListVirtualMFADevices"); n < 3 {
		t.Errorf("requests = %d, want at least the 3 pages", n)
	}
	seen := map[string]bool{}
	for _, d := range devs {
		if seen[d.SerialNumber] {
			t.Errorf("device %s listed twice", d.SerialNumber)
		}
		seen[d.SerialNumber] = true
	}
	if devs[0].UserARN != "arn:aws:iam::123456789012:root" {
		t.Errorf("root device %+v", devs[0])
	}
}

func TestOrganizationRoles(t *testing.T) {
	mk := func(style, org string) string {
		return "org_error_style: " + style + "\naccounts:\n  - id: \"123456789012\"\n    access_keys: [AKIATEST000000000001]\n    organization: " + org + "\n"
	}
	cases := []struct {
		name, yaml, role string
		features         []string
	}{
		{"management", mk("sdk", `{id: o-abcdefghij, management_account: "123456789012", features: [RootCredentialsManagement]}`), evidence.OrgRoleManagement, []string{"RootCredentialsManagement"}},
		{"member, SDK spelling", mk("sdk", `{id: o-abcdefghij, management_account: "999999999999"}`), evidence.OrgRoleMember, nil},
		{"member, documented spelling", mk("documented", `{id: o-abcdefghij, management_account: "999999999999"}`), evidence.OrgRoleMember, nil},
		{"standalone", mk("sdk", "null"), evidence.OrgRoleStandalone, nil},
	}
	for _, tc := range cases {
		_, c := serve(t, tc.yaml, func() time.Time { return clockStart })
		org, st := organization(context.Background(), c, acct)
		if st.State != evidence.StateOK || org == nil || org.Role != tc.role {
			t.Errorf("%s: org %+v state %+v", tc.name, org, st)
			continue
		}
		if strings.Join(org.EnabledFeatures, ",") != strings.Join(tc.features, ",") {
			t.Errorf("%s: features %v", tc.name, org.EnabledFeatures)
		}
	}
}

func TestCodeMatchingBothSpellings(t *testing.T) {
	for _, code := range []string{"OrganizationNotFound", "OrganizationNotFoundException", "organizationnotfoundexception"} {
		if !awsx.CodeIs(fakeAPIError(code), "OrganizationNotFound") || !awsx.CodeIs(fakeAPIError(code), "OrganizationNotFoundException") {
			t.Errorf("%s not matched", code)
		}
	}
	if awsx.CodeIs(fakeAPIError("OrganizationNotFoundish"), "OrganizationNotFound") {
		t.Error("prefix matched")
	}
}

func TestHumanAge(t *testing.T) {
	cases := map[time.Duration]string{
		45 * time.Second:                  "45s",
		37 * time.Minute:                  "37m",
		5*time.Hour + 30*time.Minute:      "5.5h",
		103464*time.Hour + 32*time.Minute: "4311.0 days",
		-3 * time.Minute:                  "-3m",
	}
	for d, want := range cases {
		if got := humanAge(d); got != want {
			t.Errorf("humanAge(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestCancelledCollectionSaysInterrupted: a collection whose context is
// cancelled (Ctrl-C) against the fake leaves no source denied and none
// with a bare "context canceled": each failed source says it was
// interrupted, and Account returns an error that wraps the cancellation.
func TestCancelledCollectionSaysInterrupted(t *testing.T) {
	_, c := serve(t, world("{existing: 1h}", "[]"), func() time.Time { return clockStart })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := &evidence.Account{ID: acct, Partition: "aws"}
	CollectInto(ctx, c, fastOpts(func() time.Time { return clockStart }), a)
	failed := 0
	for _, name := range a.SourceNames() {
		st := a.Sources[name]
		switch {
		case st.State == evidence.StateDenied:
			t.Errorf("%s: denied after Ctrl-C: %s", name, st.Detail)
		case st.State != evidence.StateOK && !strings.Contains(st.Detail, "interrupted"):
			t.Errorf("%s: %s without saying interrupted: %s", name, st.State, st.Detail)
		case st.State != evidence.StateOK:
			failed++
		}
	}
	for _, name := range []string{evidence.SourceCredentialReport, evidence.SourceAccountSummary, evidence.SourceVirtualMFA, evidence.SourceOrganization, evidence.SourceCloudTrail, evidence.SourceRegions, evidence.SourceTrails} {
		if st := a.Source(name); st.State != evidence.StateError {
			t.Errorf("%s: %+v, want an interrupted error", name, st)
		}
	}
	if failed == 0 {
		t.Fatal("nothing failed: the context was not cancelled")
	}
	_, err := Account(ctx, c, fastOpts(func() time.Time { return clockStart }))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("Account = %v", err)
	}
}

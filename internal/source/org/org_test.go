package org

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/live"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

type pages struct {
	out   []*organizations.ListAccountsOutput
	calls int
}

func (p *pages) ListAccounts(_ context.Context, in *organizations.ListAccountsInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	o := p.out[p.calls]
	p.calls++
	return o, nil
}

func acct(id string, state orgtypes.AccountState) orgtypes.Account {
	return orgtypes.Account{Id: aws.String(id), Name: aws.String("n" + id), State: state}
}

func TestListAllFollowsEmptyPages(t *testing.T) {
	p := &pages{out: []*organizations.ListAccountsOutput{
		{Accounts: nil, NextToken: aws.String("a")}, // empty, but more follow
		{Accounts: []orgtypes.Account{acct("111111111111", orgtypes.AccountStateActive)}, NextToken: aws.String("b")},
		{Accounts: []orgtypes.Account{{Id: aws.String("222222222222"), Status: orgtypes.AccountStatusSuspended}}},
	}}
	got, err := ListAll(context.Background(), p)
	if err != nil || len(got) != 2 || p.calls != 3 {
		t.Fatalf("got %+v err %v calls %d", got, err, p.calls)
	}
	if got[1].State != "SUSPENDED" {
		t.Errorf("Status not used when State is absent: %+v", got[1])
	}
	loop := &pages{out: []*organizations.ListAccountsOutput{{NextToken: aws.String("x")}, {NextToken: aws.String("x")}}}
	if _, err := ListAll(context.Background(), loop); err == nil {
		t.Error("a repeated NextToken must stop the listing with an error")
	}
}

func TestRoleARN(t *testing.T) {
	cases := []struct {
		o    Options
		want string
	}{
		{Options{}, "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"},
		{Options{RoleName: "Audit"}, "arn:aws:iam::123456789012:role/Audit"},
		{Options{RoleName: "x", RoleARNTemplate: "arn:{partition}:iam::{account}:role/sec/RootwatchAudit"}, "arn:aws:iam::123456789012:role/sec/RootwatchAudit"},
	}
	for _, tc := range cases {
		if got := tc.o.RoleARN("aws", "123456789012"); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.o, got, tc.want)
		}
	}
	if got := (Options{}).RoleARN("aws-us-gov", "123456789012"); got != "arn:aws-us-gov:iam::123456789012:role/OrganizationAccountAccessRole" {
		t.Errorf("partition: %s", got)
	}
	for _, bad := range []string{"arn:aws:iam::123:role/x", "RootwatchAudit", "arn:aws:iam::{account}:user/x"} {
		if ValidateTemplate(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := ValidateTemplate("arn:aws:iam::{account}:role/Audit"); err != nil {
		t.Error(err)
	}
}

// countingClient is an HTTP client that counts the requests sent through it.
type countingClient struct {
	next aws.HTTPClient
	n    atomic.Int64
}

func (c *countingClient) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.Do(r)
}

// TestScanSharesOneHTTPClient scans a generated organization and counts
// requests twice: at the server, and in the HTTP client given to Scan. They
// agree only when every account's SDK clients (IAM, STS, CloudTrail, the
// AssumeRoot audit's IAM) send through that one client; a client that built
// its own transport would reach the server uncounted. Counting requests,
// not TCP connections, keeps the test independent of timing.
func TestScanSharesOneHTTPClient(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 40, Seed: 1, Features: []string{evidence.FeatureRootCredentialsManagement}})
	fake, err := awsfake.New(w, awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		served.Add(1)
		fake.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	cfg := awsfake.ClientConfig(srv.URL, awsfake.GenManagementKey)
	client := &countingClient{next: awsx.SharedHTTPClient(4)}
	cfg.HTTPClient = client
	accounts, err := Scan(ctx, cfg, Options{Concurrency: 4, Collect: live.Options{PollInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 40 {
		t.Fatalf("%d accounts", len(accounts))
	}
	audited := 0
	for _, a := range accounts {
		if a.Error != "" {
			t.Fatalf("account %s: %s", a.ID, a.Error)
		}
		if a.RootCredentials != nil {
			audited++
		}
	}
	if audited != 39 {
		t.Errorf("%d members audited with AssumeRoot, want 39", audited)
	}
	// 39 members each make a dozen calls or more.
	if sent, got := client.n.Load(), served.Load(); sent != got || sent < 39*10 {
		t.Errorf("the shared client sent %d requests, the server received %d: some SDK client does not use the shared HTTP client", sent, got)
	}
}

// TestScanInstallsASharedClient checks that a configuration without an
// HTTP client gets one shared client for the whole scan.
func TestScanInstallsASharedClient(t *testing.T) {
	if got := withSharedClient(aws.Config{}, 8).HTTPClient; got == nil {
		t.Fatal("no shared HTTP client installed")
	}
	mine := &countingClient{}
	if got := withSharedClient(aws.Config{HTTPClient: mine}, 8).HTTPClient; got != mine {
		t.Errorf("the caller's HTTP client was replaced by %T", got)
	}
}

// TestInterruptedListingIsNotAPermissionError: Ctrl-C while ListAccounts
// is in flight against the fake ends the scan with an error that says it
// was interrupted and wraps the cancellation, not one that asks for
// organizations:ListAccounts.
func TestInterruptedListingIsNotAPermissionError(t *testing.T) {
	srvCtx, stop := context.WithCancel(context.Background())
	defer stop()
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 5, Seed: 1})
	fake, err := awsfake.New(w, awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, err := fake.Listen(srvCtx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := awsfake.ClientConfig(url, awsfake.GenManagementKey)
	cfg.HTTPClient = &testutil.CancelOn{Next: awsx.SharedHTTPClient(4), Target: ".ListAccounts", Cancel: cancel}
	accounts, err := Scan(ctx, cfg, Options{Concurrency: 4, Collect: live.Options{PollInterval: time.Millisecond}})
	var ie *awsx.InterruptedError
	if accounts != nil || !errors.As(err, &ie) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Scan = %d accounts, %T %v", len(accounts), err, err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "interrupted during ListAccounts as arn:aws:") || strings.Contains(msg, "needs organizations:ListAccounts") {
		t.Errorf("message %q", msg)
	}
}

// TestScanKeepsRootEmailsMasked: the organization scan keeps each root
// address (ListAccounts Email) as its domain and masked local part, the
// management account's domain (DescribeOrganization MasterAccountEmail)
// beside it; a missing address is a problem to judge, and no address is
// kept or shown whole anywhere in the evidence.
func TestScanKeepsRootEmailsMasked(t *testing.T) {
	world := `
accounts:
  - id: "111111111111"
    access_keys: [AKIAORGMAIL000000001]
    email: Platform.Team@Corp.Example
    organization: {id: o-mail, management_account: "111111111111"}
  - {id: "222222222222", email: jane.doe+aws@GMAIL.com., organization: {id: o-mail, management_account: "111111111111"}}
  - {id: "333333333333", email: none, organization: {id: o-mail, management_account: "111111111111"}}
  - {id: "444444444444", email: zoë.müller@bücher.example, organization: {id: o-mail, management_account: "111111111111"}}
  - {id: "555555555555", email: secret.person@corp.example, state: SUSPENDED, organization: {id: o-mail, management_account: "111111111111"}}
`
	for _, mgmtEmail := range []string{"Platform.Team@Corp.Example", "none"} {
		w := strings.Replace(world, "email: Platform.Team@Corp.Example", "email: "+mgmtEmail, 1)
		_, base, err := awsfake.Serve(t.Context(), []byte(w), t.Name(), awsfake.Options{})
		if err != nil {
			t.Fatal(err)
		}
		accounts, err := Scan(t.Context(), awsfake.ClientConfig(base, "AKIAORGMAIL000000001"), Options{Concurrency: 2, Collect: live.Options{PollInterval: time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]evidence.RootEmail{}
		for _, a := range accounts {
			if a.RootEmail != nil {
				got[a.ID] = *a.RootEmail
				if st := a.Source(evidence.SourceRootEmail); st.State != evidence.StateOK {
					t.Errorf("%s: source %+v", a.ID, st)
				}
			}
		}
		mgmtDomain, mgmtProblem := "corp.example", ""
		if mgmtEmail == "none" {
			mgmtDomain, mgmtProblem = "", "DescribeOrganization MasterAccountEmail gave no e-mail address"
		}
		want := map[string]evidence.RootEmail{
			"222222222222": {Domain: "gmail.com", Masked: "j***@gmail.com"},
			"333333333333": {Problem: "ListAccounts gave no e-mail address"},
			"444444444444": {Domain: "xn--bcher-kva.example", DomainText: "bücher.example", Masked: "z***@bücher.example"},
		}
		if mgmtEmail != "none" {
			want["111111111111"] = evidence.RootEmail{Domain: "corp.example", Masked: "P***@corp.example"}
		} else {
			want["111111111111"] = evidence.RootEmail{Problem: "ListAccounts gave no e-mail address"}
		}
		for id, w := range want {
			w.Source, w.ManagementDomain, w.ManagementProblem = "ListAccounts", mgmtDomain, mgmtProblem
			if got[id] != w {
				t.Errorf("%s, management address %s: %+v, want %+v", id, mgmtEmail, got[id], w)
			}
		}
		if _, ok := got["555555555555"]; ok || len(got) != 4 {
			t.Errorf("a skipped account's address was kept, or one is missing: %v", got)
		}
		b, _ := json.Marshal(accounts)
		for _, whole := range []string{"jane.doe", "Platform.Team", "secret.person", "zoë.müller", "ane.doe", "latform"} {
			if strings.Contains(string(b), whole) {
				t.Errorf("the evidence holds %q", whole)
			}
		}
	}
}

// TestScanAuditMFAKinds: the AssumeRoot audit keeps each of a member
// root's MFA devices with its kind, told from its serial number.
func TestScanAuditMFAKinds(t *testing.T) {
	world := `
accounts:
  - id: "111111111111"
    access_keys: [AKIAORGMFA0000000001]
    organization: {id: o-mfatest, management_account: "111111111111", features: [RootCredentialsManagement]}
  - id: "222222222222"
    root: {password_last_used: -3d, mfa_devices: [{kind: virtual, name: phone}, {kind: fido, name: key}, {kind: hardware, name: GAHT22222222}]}
    organization: {id: o-mfatest, management_account: "111111111111"}
`
	_, base, err := awsfake.Serve(t.Context(), []byte(world), t.Name(), awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := Scan(t.Context(), awsfake.ClientConfig(base, "AKIAORGMFA0000000001"), Options{Concurrency: 2, Collect: live.Options{PollInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range accounts {
		if a.RootCredentials != nil {
			for _, d := range a.RootCredentials.MFADevices {
				got = append(got, d.Kind+" "+d.ID)
			}
		}
	}
	want := []string{"virtual arn:aws:iam::222222222222:mfa/phone", "fido arn:aws:iam::222222222222:u2f/root/key-FAKEFIDO0002", "hardware_totp GAHT22222222"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("audited devices: %q, want %q", got, want)
	}
}

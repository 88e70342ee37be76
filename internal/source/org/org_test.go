package org

import (
	"context"
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

package org

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/live"
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

// TestScanSharesConnections scans a generated organization through a
// server that counts TCP connections: every account's SDK clients share one
// HTTP client, so connections are reused across accounts instead of each
// client dialling (and keeping idle) its own.
func TestScanSharesConnections(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 40, Seed: 1, Features: []string{evidence.FeatureRootCredentialsManagement}})
	fake, err := awsfake.New(w, awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(fake)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	const concurrency = 4
	accounts, err := Scan(ctx, awsfake.ClientConfig(srv.URL, awsfake.GenManagementKey), Options{Concurrency: concurrency, Collect: live.Options{PollInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 40 {
		t.Fatalf("%d accounts", len(accounts))
	}
	for _, a := range accounts {
		if a.Error != "" {
			t.Fatalf("account %s: %s", a.ID, a.Error)
		}
	}
	// Unshared, each of the 39 members' clients (IAM, STS, CloudTrail and
	// the AssumeRoot audit's IAM) dialled at least once: over 150.
	n := conns.Load()
	t.Logf("%d connections", n)
	if n > 4*concurrency {
		t.Errorf("%d connections for 40 accounts at concurrency %d: SDK clients are not sharing an HTTP client", n, concurrency)
	}
}

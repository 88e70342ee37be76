package org

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
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

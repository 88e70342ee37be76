package eval

import (
	"fmt"
	"testing"
)

// TestMatchPrincipal: how a resource-based policy's Principal names a
// caller ("IAM JSON policy elements: Principal").
func TestMatchPrincipal(t *testing.T) {
	const user = "arn:aws:iam::111122223333:user/alice"
	const session = "arn:aws:sts::111122223333:assumed-role/Admin/alice"
	cases := []struct {
		principal, caller string
		want              PrincipalMatch
		ok                bool
	}{
		{`"*"`, user, PrincipalNamed, true},
		{`{"AWS":"*"}`, user, PrincipalNamed, true},
		{`{"AWS":"111122223333"}`, user, PrincipalAccount, true},
		{`{"AWS":"arn:aws:iam::111122223333:root"}`, user, PrincipalAccount, true},
		{`{"AWS":"arn:aws:iam::111122223333:root"}`, "arn:aws:iam::111122223333:root", PrincipalNamed, true},
		{`{"AWS":"arn:aws:iam::222233334444:root"}`, user, 0, false},
		{`{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/alice"]}`, user, PrincipalNamed, true},
		{`{"AWS":"arn:aws:iam::111122223333:user/bob"}`, user, 0, false},
		{`{"AWS":"arn:aws:iam::111122223333:role/ops/Admin"}`, session, PrincipalNamed, true},
		{`{"AWS":"arn:aws:iam::111122223333:role/Other"}`, session, 0, false},
		{`{"AWS":"arn:aws:iam::111122223333:user/*"}`, user, 0, false},
		{`{"Service":"ec2.amazonaws.com"}`, "ec2.amazonaws.com", PrincipalNamed, true},
		{`{"Service":"ec2.amazonaws.com"}`, user, 0, false},
	}
	for _, c := range cases {
		p := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":`+c.principal+`,"Action":"sts:AssumeRole"}}`)
		got, ok := MatchPrincipal(p.Statements[0].Principal, c.caller)
		if got != c.want || ok != c.ok {
			t.Errorf("%s vs %s: got %v %v, want %v %v", c.principal, c.caller, got, ok, c.want, c.ok)
		}
	}
}

// TestEvaluateResourcePolicy: the statements of a role trust policy that
// let a caller assume the role, and how they name it.
func TestEvaluateResourcePolicy(t *testing.T) {
	trust := Named{Name: "arn:aws:iam::111122223333:role/Admin", Policy: mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Sid":"Account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
	  {"Sid":"Ops","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/ops"},"Action":["sts:AssumeRole","sts:TagSession"]},
	  {"Sid":"NotBob","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/ops","arn:aws:iam::111122223333:user/alice"]},"Action":"sts:AssumeRole"},
	  {"Sid":"EC2","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}
	req := func(ctx Context) Request {
		return Request{Action: "sts:AssumeRole", Resource: trust.Name, Context: ctx}
	}
	labels := func(ms []Match) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Statement.Sid+"/"+m.Principal.String())
		}
		return out
	}
	cases := []struct {
		caller        string
		ctx           Context
		allows, denys string
	}{
		{"arn:aws:iam::111122223333:user/ops", NewContext(nil), "[Ops/named]", "[]"},
		{"arn:aws:iam::111122223333:user/alice", NewContext(map[string]Value{"aws:MultiFactorAuthPresent": Bool(true)}), "[Account/account]", "[]"},
		{"arn:aws:iam::111122223333:user/alice", NewContext(nil), "[]", "[]"},
		{"arn:aws:iam::111122223333:user/bob", Scenario(nil), "[Account/account]", "[NotBob/named]"},
		{"ec2.amazonaws.com", NewContext(nil), "[EC2/named]", "[NotBob/named]"},
	}
	for _, c := range cases {
		allows, denies := EvaluateResourcePolicy(trust, c.caller, req(c.ctx))
		if got := fmt.Sprint(labels(allows)); got != c.allows {
			t.Errorf("%s: allows %s, want %s", c.caller, got, c.allows)
		}
		if got := fmt.Sprint(labels(denies)); got != c.denys {
			t.Errorf("%s: denies %s, want %s", c.caller, got, c.denys)
		}
	}
	if allows, _ := EvaluateResourcePolicy(trust, "arn:aws:iam::111122223333:user/bob", req(Scenario(nil))); len(allows) != 1 || len(allows[0].Pending) != 1 {
		t.Errorf("a scenario without MFA knowledge leaves the condition pending: %+v", allows)
	}
}

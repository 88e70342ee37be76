package eval

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return p
}

func named(t *testing.T, name, src string) Named {
	t.Helper()
	return Named{Name: name, Policy: mustParse(t, src)}
}

// TestActionMatching: "The prefix and the action name are case
// insensitive"; * and ? in the name ("IAM JSON policy elements: Action").
func TestActionMatching(t *testing.T) {
	cases := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "sts:AssumeRoot", true},
		{"s3:*", "s3:GetObject", true},
		{"IAM:listaccesskeys", "iam:ListAccessKeys", true},
		{"s3:Get*", "s3:GetObjectAcl", true},
		{"s3:get*", "s3:GetObjectAcl", true},
		{"S3:*OBJECT", "s3:GetObject", true},
		{"s3:?etObject", "s3:GetObject", true},
		{"iam:*AccessKey*", "iam:ListAccessKeys", true},
		{"sts:Assume*", "sts:AssumeRoot", true},
		{"sts:AssumeRole", "sts:AssumeRoot", false},
		{"s3:GetObject", "s3:GetObjectAcl", false},
		{"s3:*", "s3-outposts:GetObject", false},
		{"s3-outposts:*", "s3:GetObject", false},
		{"s3:*", "s3GetObject", false},
	}
	for _, c := range cases {
		if got := actionMatches(c.pattern, c.action); got != c.want {
			t.Errorf("%s vs %s: got %v", c.pattern, c.action, got)
		}
	}
}

// TestResourceMatching: wildcards within colon-separated segments, a *
// ending a segment may run past colons ("IAM JSON policy elements:
// Resource"), the head segments without regard to case, variables in the
// resource part only.
func TestResourceMatching(t *testing.T) {
	alice := NewContext(map[string]Value{"aws:username": String("alice")})
	cases := []struct {
		pattern, resource string
		ctx               Context
		want              Truth
	}{
		{"*", "arn:aws:s3:::b", alice, Yes},
		{"*", "*", alice, Yes},
		{"arn:aws:s3:::b", "*", alice, No},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", alice, Yes},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", alice, No},
		{"arn:aws:iam::*", "arn:aws:iam::111122223333:user/bob", alice, Yes},
		{"arn:aws:iam::*", "arn:aws:s3:::b", alice, No},
		{"arn:aws:iam::*:root", "arn:aws:iam::111122223333:root", alice, Yes},
		{"arn:aws:iam::*:root", "arn:aws:iam::111122223333:user/root", alice, No},
		{"arn:AWS:IAM::*:root", "arn:aws:iam::111122223333:root", alice, Yes},
		{"arn:aws:iam::*:ROOT", "arn:aws:iam::111122223333:root", alice, No},
		{"arn:aws:ec2:*:111122223333:instance/*", "arn:aws:ec2:eu-west-1:111122223333:instance/i-1", alice, Yes},
		{"arn:aws:ec2:us-east-?:*:instance/*", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", alice, Yes},
		{"arn:aws:logs:r:1:log-group:a*", "arn:aws:logs:r:1:log-group:a:b", alice, Yes},
		{"arn:aws:logs:r:1:log-group:a*b", "arn:aws:logs:r:1:log-group:a:b", alice, No},
		{"arn:aws:logs:r:1:log-group:a?b", "arn:aws:logs:r:1:log-group:a:b", alice, No},
		{"arn:aws:iam::111122223333:user/${aws:username}", "arn:aws:iam::111122223333:user/alice", alice, Yes},
		{"arn:aws:iam::111122223333:user/${aws:username}", "arn:aws:iam::111122223333:user/bob", alice, No},
		{"arn:aws:iam::111122223333:user/${aws:username}", "arn:aws:iam::111122223333:user/", NewContext(nil), No},
		{"arn:aws:iam::111122223333:user/${aws:username}", "arn:aws:iam::111122223333:user/x", Scenario(nil), Maybe},
		{"arn:aws:iam::999999999999:user/${aws:username}", "arn:aws:iam::111122223333:user/x", Scenario(nil), No},
	}
	for _, c := range cases {
		e := env{ctx: c.ctx, vars: true}
		if got := e.resourceMatches(c.pattern, c.resource); got != c.want {
			t.Errorf("%s vs %s: got %v, want %v", c.pattern, c.resource, got, c.want)
		}
	}
	// The Resource page's own example: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*".
	e := env{ctx: alice, vars: true}
	for _, obj := range []string{"1/test/object.jpg", "1/2/test/object.jpg", "1/2/test/3/object.jpg", "1/2/3/test/4/object.jpg",
		"1///test///object.jpg", "1/test/.jpg", "/test/object.jpg", "1/test/"} {
		if e.resourceMatches("arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/"+obj) != Yes {
			t.Errorf("the documented example does not match %s", obj)
		}
	}
	for _, obj := range []string{"1-test/object.jpg", "test/object.jpg", "1/2/test.jpg"} {
		if e.resourceMatches("arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/"+obj) != No {
			t.Errorf("the documented example matches %s", obj)
		}
	}
}

// TestEvaluateLayers: an applicable Deny anywhere decides; identity
// policies, the permissions boundary and the SCPs of every level must each
// allow ("Policy evaluation logic"; Organizations "SCP evaluation"); the
// result names the statements and the layers that decided.
func TestEvaluateLayers(t *testing.T) {
	allowAll := Named{Name: "AdministratorAccess", Policy: AllowAll()}
	full := Named{Name: "FullAWSAccess", Policy: AllowAll()}
	denyS3 := named(t, "DenyS3", `{"Version":"2012-10-17","Statement":{"Sid":"NoS3","Effect":"Deny","Action":"s3:*","Resource":"*"}}`)
	onlyEC2 := named(t, "OnlyEC2", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}`)
	s3Get := Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: NewContext(nil)}
	ec2Run := Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/i-1", Context: NewContext(nil)}

	cases := []struct {
		name    string
		req     Request
		p       Policies
		want    Decision
		denies  []string // Policy/Target of the Denies
		missing []string
	}{
		{"identity allows", s3Get, Policies{Identity: []Named{allowAll}}, Allowed, nil, nil},
		{"no identity policy", s3Get, Policies{}, ImplicitDeny, nil, []string{"identity policies"}},
		{"identity deny wins", s3Get, Policies{Identity: []Named{allowAll, denyS3}}, ExplicitDeny, []string{"DenyS3"}, nil},
		{"identity deny other action", ec2Run, Policies{Identity: []Named{allowAll, denyS3}}, Allowed, nil, nil},
		{"boundary limits", s3Get, Policies{Identity: []Named{allowAll}, Boundary: &onlyEC2}, ImplicitDeny, nil, []string{"permissions boundary OnlyEC2"}},
		{"boundary allows", ec2Run, Policies{Identity: []Named{allowAll}, Boundary: &onlyEC2}, Allowed, nil, nil},
		{"boundary does not grant", ec2Run, Policies{Identity: []Named{denyS3}, Boundary: &onlyEC2}, ImplicitDeny, nil, []string{"identity policies"}},
		{"boundary deny", s3Get, Policies{Identity: []Named{allowAll}, Boundary: &denyS3}, ExplicitDeny, []string{"DenyS3"}, []string{"permissions boundary DenyS3"}},
		{"scp every level", s3Get, Policies{Identity: []Named{allowAll}, SCPs: []SCPTarget{{"r-root", []Named{full}}, {"ou-a", []Named{full}}, {"111122223333", []Named{full}}}}, Allowed, nil, nil},
		{"scp missing at ou", s3Get, Policies{Identity: []Named{allowAll}, SCPs: []SCPTarget{{"r-root", []Named{full}}, {"ou-a", []Named{onlyEC2}}, {"111122223333", []Named{full}}}}, ImplicitDeny, nil, []string{"SCPs attached to ou-a"}},
		{"scp missing at account", ec2Run, Policies{Identity: []Named{allowAll}, SCPs: []SCPTarget{{"r-root", []Named{full}}, {"111122223333", nil}}}, ImplicitDeny, nil, []string{"SCPs attached to 111122223333"}},
		{"scp deny at ou", s3Get, Policies{Identity: []Named{allowAll}, SCPs: []SCPTarget{{"r-root", []Named{full}}, {"ou-a", []Named{full, denyS3}}}}, ExplicitDeny, []string{"DenyS3@ou-a"}, nil},
		{"scp does not grant", s3Get, Policies{Identity: []Named{onlyEC2}, SCPs: []SCPTarget{{"r-root", []Named{full}}}}, ImplicitDeny, nil, []string{"identity policies"}},
	}
	for _, c := range cases {
		r := Evaluate(c.req, c.p)
		if r.Decision != c.want {
			t.Errorf("%s: got %v, want %v (%+v)", c.name, r.Decision, c.want, r)
			continue
		}
		var denies []string
		for _, m := range r.Denies {
			s := m.Policy
			if m.Target != "" {
				s += "@" + m.Target
			}
			denies = append(denies, s)
		}
		if strings.Join(denies, ",") != strings.Join(c.denies, ",") {
			t.Errorf("%s: denies %v, want %v", c.name, denies, c.denies)
		}
		if strings.Join(r.Missing, ",") != strings.Join(c.missing, ",") {
			t.Errorf("%s: missing %v, want %v", c.name, r.Missing, c.missing)
		}
	}

	// The allow evidence names a statement of every layer.
	r := Evaluate(ec2Run, Policies{Identity: []Named{allowAll}, Boundary: &onlyEC2, SCPs: []SCPTarget{{"r-root", []Named{full}}}})
	var layers []string
	for _, m := range r.Allows {
		layers = append(layers, m.String())
	}
	want := "identity AdministratorAccess Statement[0]|permissions boundary OnlyEC2 Statement[0]|SCP on r-root FullAWSAccess Statement[0]"
	if strings.Join(layers, "|") != want {
		t.Errorf("allow evidence %q, want %q", strings.Join(layers, "|"), want)
	}
}

// TestEvaluateElements: NotAction, NotResource, a statement without
// Resource, and the documented PowerUserAccess shape.
func TestEvaluateElements(t *testing.T) {
	power := named(t, "PowerUserAccess", `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},
	  {"Effect":"Allow","Action":["account:GetAccountInformation","iam:CreateServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization"],"Resource":"*"}]}`)
	notRes := named(t, "AllButSecret", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","NotResource":["arn:aws:s3:::secret","arn:aws:s3:::secret/*"]}}`)
	noRes := named(t, "Trust", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`)
	cases := []struct {
		p                Named
		action, resource string
		want             Decision
	}{
		{power, "sts:AssumeRoot", "arn:aws:iam::444455556666:root", Allowed},
		{power, "iam:CreateLoginProfile", "arn:aws:iam::111122223333:user/x", ImplicitDeny},
		{power, "iam:ListRoles", "arn:aws:iam::111122223333:role/x", Allowed},
		{power, "ORGANIZATIONS:LeaveOrganization", "arn:aws:organizations::111122223333:account/o-1/111122223333", ImplicitDeny},
		{notRes, "s3:GetObject", "arn:aws:s3:::public/k", Allowed},
		{notRes, "s3:GetObject", "arn:aws:s3:::secret/k", ImplicitDeny},
		{noRes, "sts:AssumeRole", "arn:aws:iam::111122223333:role/r", Allowed},
	}
	for _, c := range cases {
		r := Evaluate(Request{Action: c.action, Resource: c.resource, Context: NewContext(nil)}, Policies{Identity: []Named{c.p}})
		if r.Decision != c.want {
			t.Errorf("%s %s on %s: got %v, want %v", c.p.Name, c.action, c.resource, r.Decision, c.want)
		}
	}
}

var rootTasks = []string{
	"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials",
	"arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword",
	"arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials",
	"arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy",
	"arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy",
}

// TestEvaluateValues answers issue 24's question "for which task policies
// may this principal open a root session in this member", including the
// conditions a scenario cannot decide.
func TestEvaluateValues(t *testing.T) {
	values := make([]Value, len(rootTasks))
	for i, a := range rootTasks {
		values[i] = ARN(a)
	}
	known := Scenario(map[string]Value{"aws:PrincipalArn": ARN("arn:aws:iam::111122223333:user/ops")})
	req := Request{Action: "sts:AssumeRoot", Resource: "arn:aws:iam::444455556666:root", Context: known}
	admin := Named{Name: "AdministratorAccess", Policy: AllowAll()}
	cases := []struct {
		name string
		p    Policies
		want string // one letter per task: A allowed, D denied, C conditional
	}{
		{"administrator", Policies{Identity: []Named{admin}}, "AAAAA"},
		{"one task", Policies{Identity: []Named{named(t, "p", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"arn:aws:iam::444455556666:root","Condition":{"StringEquals":{"sts:TaskPolicyArn":"arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"}}}}`)}}, "DDDAD"},
		{"other member", Policies{Identity: []Named{named(t, "p", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"arn:aws:iam::777788889999:root"}}`)}}, "DDDDD"},
		{"ArnLike IAM tasks", Policies{Identity: []Named{named(t, "p", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:Assume*","Resource":"arn:aws:iam::*:root","Condition":{"ArnLike":{"sts:TaskPolicyArn":"arn:aws:iam::aws:policy/root-task/IAM*"}}}}`)}}, "AAADD"},
		{"ForAnyValue", Policies{Identity: []Named{named(t, "p", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"sts:TaskPolicyArn":["*/SQS*","*/S3*"]}}}}`)}}, "DDDAA"},
		{"deny one task", Policies{Identity: []Named{admin, named(t, "d", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"sts:AssumeRoot","Resource":"*","Condition":{"StringEquals":{"sts:TaskPolicyArn":"arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"}}}}`)}}, "ADAAA"},
		{"boundary", Policies{Identity: []Named{admin}, Boundary: &Named{Name: "b", Policy: mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*","Condition":{"StringLike":{"sts:TaskPolicyArn":"*Audit*"}}}}`)}}, "ADDDD"},
		{"MFA condition", Policies{Identity: []Named{named(t, "p", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`)}}, "CCCCC"},
		{"MFA deny", Policies{Identity: []Named{admin, named(t, "d", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}`)}}, "CCCCC"},
		{"unknown condition but no allow", Policies{Identity: []Named{named(t, "d", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"x"}}}}`)}}, "DDDDD"},
		{"principal known", Policies{Identity: []Named{named(t, "p", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/ops"}}}}`)}}, "AAAAA"},
	}
	for _, c := range cases {
		var got strings.Builder
		for _, vr := range EvaluateValues(req, c.p, "sts:TaskPolicyArn", values) {
			got.WriteString(map[Decision]string{Allowed: "A", ImplicitDeny: "D", ExplicitDeny: "D", Conditional: "C"}[vr.Result.Decision])
		}
		if got.String() != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got.String(), c.want)
		}
	}

	// A conditional answer says on what it depends.
	p := Policies{Identity: []Named{named(t, "mfa", `{"Version":"2012-10-17","Statement":{"Sid":"WithMFA","Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"},"StringEquals":{"sts:TaskPolicyArn":"arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"}}}}`)}}
	r := EvaluateValues(req, p, "sts:TaskPolicyArn", []Value{ARN(rootTasks[3])})[0].Result
	if r.Decision != Conditional || len(r.Allows) != 1 || len(r.Allows[0].Pending) != 1 {
		t.Fatalf("got %+v", r)
	}
	if got, want := r.Allows[0].String(), `identity mfa Statement[0] (Sid "WithMFA") if Bool {"aws:MultiFactorAuthPresent": "true"}`; got != want {
		t.Errorf("evidence %q, want %q", got, want)
	}
}

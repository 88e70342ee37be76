package analysis

import (
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/policy/eval"
)

// TestStatementCoverage: what a Deny in an SCP covers of "every action on
// every resource" for a member's root user, in the spellings people
// publish: Control Tower's AWS-GR_RESTRICT_ROOT_USER and its older form,
// exemption lists, the centralized-root sample, AWS's NotAction sample,
// and conditions that leave holes (issue 24, item 1).
func TestStatementCoverage(t *testing.T) {
	const member = "arn:aws:iam::111122223333:root"
	deny := func(cond string) string {
		return `{"Version":"2012-10-17","Statement":{"Sid":"R","Effect":"Deny","Action":"*","Resource":"*","Condition":` + cond + `}}`
	}
	cases := []struct {
		name, root, policy string
		complete           bool
		applies            eval.Truth
		gaps               []string
	}{
		{"Control Tower", member, deny(`{"ArnLike":{"aws:PrincipalArn":["arn:*:iam::*:root"]}}`), true, eval.Yes, nil},
		{"Control Tower in GovCloud", "arn:aws-us-gov:iam::111122223333:root", deny(`{"ArnLike":{"aws:PrincipalArn":["arn:*:iam::*:root"]}}`), true, eval.Yes, nil},
		{"older StringLike", member, deny(`{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}`), true, eval.Yes, nil},
		{"older StringLike in China", "arn:aws-cn:iam::111122223333:root", deny(`{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}`), false, eval.No,
			[]string{`condition does not hold: StringLike {"aws:PrincipalArn": ["arn:aws:iam::*:root"]}`}},
		{"exact root", member, deny(`{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:root"}}`), true, eval.Yes, nil},
		{"exact other root", member, deny(`{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::222233334444:root"}}`), false, eval.No, []string{"condition does not hold: "}},
		{"key casing", member, deny(`{"ArnLike":{"AWS:PRINCIPALARN":"arn:aws:iam::*:root"}}`), true, eval.Yes, nil},
		{"set operator", member, deny(`{"ForAnyValue:ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`), true, eval.Yes, nil},
		{"no condition", member, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`, true, eval.Yes, nil},
		{"exemption elsewhere", member, deny(`{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::222233334444:root","arn:aws:iam::*:role/Breakglass"]}}`), true, eval.Yes, nil},
		{"exempted", member, deny(`{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"ArnNotLikeIfExists":{"aws:PrincipalArn":["arn:aws:iam::111122223333:root"]}}`), false, eval.No,
			[]string{`condition does not hold: ArnNotLikeIfExists {"aws:PrincipalArn": ["arn:aws:iam::111122223333:root"]}`}},
		{"exempted by StringNotLike", member, deny(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::1111*"}}`), false, eval.No, []string{"condition does not hold: StringNotLike"}},
		{"centralized root sample", member, deny(`{"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]},"Null":{"aws:AssumedRoot":"true"}}`), true, eval.Yes, nil},
		{"via AWS service", member, deny(`{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"Bool":{"aws:ViaAWSService":"false"}}`), true, eval.Yes, nil},
		{"account condition", member, deny(`{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"StringNotEquals":{"aws:PrincipalAccount":"999999999999"}}`), true, eval.Yes, nil},
		{"region", member, deny(`{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}`), false, eval.Maybe,
			[]string{`condition not always met: StringNotEquals {"aws:RequestedRegion": ["eu-west-1"]}`}},
		{"MFA", member, deny(`{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`), false, eval.Maybe, []string{"condition not always met: BoolIfExists"}},
		{"tag", member, deny(`{"StringEquals":{"aws:PrincipalTag/env":"prod"}}`), false, eval.Maybe, []string{"condition not always met: StringEquals"}},
		{"AWS NotAction sample", member, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:GetBucketPolicy","s3:PutBucketPolicy","s3:DeleteBucketPolicy"],"Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`, false, eval.Yes,
			[]string{"NotAction leaves out s3:GetBucketPolicy, s3:PutBucketPolicy, s3:DeleteBucketPolicy"}},
		{"access keys only", member, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:CreateAccessKey","Resource":["*"],"Condition":{"ArnLike":{"aws:PrincipalArn":["arn:*:iam::*:root"]}}}}`, false, eval.Yes,
			[]string{"Action covers only iam:CreateAccessKey"}},
		{"some resources", member, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"arn:aws:s3:::*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"}}}}`, false, eval.Yes,
			[]string{"Resource covers only arn:aws:s3:::*"}},
		{"NotResource", member, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","NotResource":"arn:aws:s3:::open/*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"}}}}`, false, eval.Yes,
			[]string{"NotResource leaves out arn:aws:s3:::open/*"}},
	}
	for _, c := range cases {
		sc, err := RootScenario(c.root)
		if err != nil {
			t.Fatal(err)
		}
		p := mustParse(t, c.policy)
		cov := StatementCoverage(p, 0, sc)
		if cov.Complete() != c.complete || cov.Applies != c.applies {
			t.Errorf("%s: complete %v applies %v, want %v %v (gaps %v)", c.name, cov.Complete(), cov.Applies, c.complete, c.applies, cov.Gaps())
		}
		gaps := cov.Gaps()
		if len(gaps) != len(c.gaps) {
			t.Errorf("%s: gaps %q, want %q", c.name, gaps, c.gaps)
			continue
		}
		for i := range gaps {
			if !strings.HasPrefix(gaps[i], c.gaps[i]) {
				t.Errorf("%s: gap %q, want %q…", c.name, gaps[i], c.gaps[i])
			}
		}
		if cov.Statement != &p.Statements[0] {
			t.Errorf("%s: coverage does not point at its statement", c.name)
		}
	}
}

// TestRootScenario: only a root user eval.ARN describes a root user.
func TestRootScenario(t *testing.T) {
	sc, err := RootScenario("arn:aws:iam::111122223333:root")
	if err != nil {
		t.Fatal(err)
	}
	if !sc.IsScenario() {
		t.Error("RootScenario is not a scenario")
	}
	for key, want := range map[string]string{"aws:PrincipalAccount": "111122223333", "aws:userid": "111122223333", "aws:PrincipalType": "Account", "aws:ViaAWSService": "false"} {
		if v, ok := sc.Get(key); !ok || v.String() != want {
			t.Errorf("%s = %v, want %s", key, v, want)
		}
	}
	for _, bad := range []string{"arn:aws:iam::111122223333:user/root", "arn:aws:iam::1111:root", "111122223333", "arn:aws:sts::111122223333:root"} {
		if _, err := RootScenario(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestDenyCoverages walks the SCPs on an account's path: a guardrail at an
// OU covers the account; the root's NotAction sample does not, and says so.
func TestDenyCoverages(t *testing.T) {
	full := eval.Named{Name: "FullAWSAccess", Policy: eval.AllowAll()}
	guard := named(t, "p-guard", `{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":["*"],"Condition":{"ArnLike":{"aws:PrincipalArn":["arn:*:iam::*:root"]}}}]}`)
	sample := named(t, "p-sample", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"s3:PutBucketPolicy","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`)
	sc, _ := RootScenario("arn:aws:iam::111122223333:root")
	got := DenyCoverages([]eval.SCPTarget{{Target: "r-1", Policies: []eval.Named{full, sample}}, {Target: "ou-1", Policies: []eval.Named{full, guard}}, {Target: "111122223333", Policies: []eval.Named{full, {Name: "nil"}}}}, sc)
	if len(got) != 2 {
		t.Fatalf("got %d coverages: %+v", len(got), got)
	}
	if got[0].Target != "r-1" || got[0].Policy != "p-sample" || got[0].Statement.Index != 1 || got[0].Complete() {
		t.Errorf("first: %+v", got[0])
	}
	if got[1].Target != "ou-1" || got[1].Policy != "p-guard" || !got[1].Complete() || got[1].Statement.Sid != "GRRESTRICTROOTUSER" {
		t.Errorf("second: %+v", got[1])
	}
}

func mustParse(t *testing.T, src string) *eval.Policy {
	t.Helper()
	p, err := eval.Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return p
}

func named(t *testing.T, name, src string) eval.Named {
	t.Helper()
	return eval.Named{Name: name, Policy: mustParse(t, src)}
}

package eval

import (
	"fmt"
	"testing"
)

// BenchmarkEvaluateValues measures one principal's answer for the five
// root task policies (issue 24's org-root-session-holders, per member):
// 20 identity statements with conditions, a boundary and three SCP levels.
func BenchmarkEvaluateValues(b *testing.B) {
	var stmts string
	for i := 0; i < 20; i++ {
		if i > 0 {
			stmts += ","
		}
		stmts += fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":["s3:Get*","ec2:Describe*","iam:List*","sts:Assume*"],"Resource":["arn:aws:s3:::bucket-%d/*","arn:aws:iam::*:root"],"Condition":{"StringLike":{"sts:TaskPolicyArn":"*/IAM*"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/ops-*"}}}`, i, i)
	}
	identity, err := Parse([]byte(`{"Version":"2012-10-17","Statement":[` + stmts + `]}`))
	if err != nil {
		b.Fatal(err)
	}
	full := Named{Name: "FullAWSAccess", Policy: AllowAll()}
	p := Policies{
		Identity: []Named{{Name: "ops", Policy: identity}},
		Boundary: &full,
		SCPs:     []SCPTarget{{"r", []Named{full}}, {"ou", []Named{full}}, {"acct", []Named{full}}},
	}
	values := make([]Value, len(rootTasks))
	for i, a := range rootTasks {
		values[i] = ARN(a)
	}
	req := Request{Action: "sts:AssumeRoot", Resource: "arn:aws:iam::444455556666:root",
		Context: Scenario(map[string]Value{"aws:PrincipalArn": ARN("arn:aws:iam::111122223333:user/ops-1")})}
	b.ReportAllocs()
	for b.Loop() {
		if r := EvaluateValues(req, p, "sts:TaskPolicyArn", values); r[0].Result.Decision != Allowed {
			b.Fatal(r[0].Result)
		}
	}
}

package analysis

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/policy/eval"
)

// TestDenyUnion: partial denies add up to a complete one only when together
// they leave no action, and no request, to the root user; the combinations
// that look complete but are not stay holes.
func TestDenyUnion(t *testing.T) {
	const root = `"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"}`
	deny := func(action, cond string) string {
		c := root
		if cond != "" {
			c += "," + cond
		}
		return `{"Effect":"Deny",` + action + `,"Resource":"*","Condition":{` + c + `}}`
	}
	all := `"Action":"*"`
	cases := []struct {
		name       string
		statements []string
		complete   bool
		by         int // statements named when complete
	}{
		{"region and its complement", []string{
			deny(all, `"StringEquals":{"aws:RequestedRegion":["eu-west-1"]}`),
			deny(all, `"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}`)}, true, 2},
		{"complement names another region too", []string{
			deny(all, `"StringEquals":{"aws:RequestedRegion":["eu-west-1"]}`),
			deny(all, `"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}`)}, false, 0},
		{"complement within a wider equality", []string{
			deny(all, `"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}`),
			deny(all, `"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}`)}, true, 2},
		{"two regions are not every region", []string{
			deny(all, `"StringEquals":{"aws:RequestedRegion":"eu-west-1"}`),
			deny(all, `"StringEquals":{"aws:RequestedRegion":"us-east-1"}`)}, false, 0},
		{"case differs", []string{
			deny(all, `"StringEquals":{"aws:RequestedRegion":["eu-west-1"]}`),
			deny(all, `"StringNotEqualsIgnoreCase":{"aws:RequestedRegion":["eu-west-1"]}`)}, false, 0},
		{"wildcards are not tried", []string{
			deny(all, `"StringLike":{"aws:RequestedRegion":["eu-*"]}`),
			deny(all, `"StringNotLike":{"aws:RequestedRegion":["eu-*"]}`)}, false, 0},
		{"StringLike without wildcards is equality", []string{
			deny(all, `"StringLike":{"aws:RequestedRegion":["eu-west-1"]}`),
			deny(all, `"StringNotLike":{"aws:RequestedRegion":["eu-west-1"]}`)}, true, 2},
		{"a tag and its complement", []string{
			deny(all, `"StringEquals":{"aws:PrincipalTag/team":"ops"}`),
			deny(all, `"StringNotEquals":{"aws:PrincipalTag/team":"ops"}`)}, true, 2},
		{"a key that may hold several values", []string{
			deny(all, `"StringEquals":{"s3:prefix":"home/"}`),
			deny(all, `"StringNotEquals":{"s3:prefix":"home/"}`)}, false, 0},
		{"secure transport true and false leave it absent", []string{
			deny(all, `"Bool":{"aws:SecureTransport":"true"}`),
			deny(all, `"Bool":{"aws:SecureTransport":"false"}`)}, false, 0},
		{"MFA absent or false, and true", []string{
			deny(all, `"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}`),
			deny(all, `"Bool":{"aws:MultiFactorAuthPresent":"true"}`)}, true, 2},
		{"MFA only without it", []string{
			deny(all, `"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}`)}, false, 0},
		{"Null both ways", []string{
			deny(all, `"Null":{"aws:SourceVpc":"true"}`),
			deny(all, `"Null":{"aws:SourceVpc":"false"}`)}, true, 2},
		{"source address is not tried", []string{
			deny(all, `"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}`),
			deny(all, `"NotIpAddress":{"aws:SourceIp":"0.0.0.0/0"}`)}, false, 0},
		{"set operators are not tried", []string{
			deny(all, `"ForAnyValue:StringEquals":{"aws:RequestedRegion":"eu-west-1"}`),
			deny(all, `"ForAnyValue:StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}`)}, false, 0},
		{"two keys, every combination", []string{
			deny(all, `"StringEquals":{"aws:RequestedRegion":"eu-west-1","aws:PrincipalTag/team":"ops"}`),
			deny(all, `"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}`),
			deny(all, `"StringNotEquals":{"aws:PrincipalTag/team":"ops"}`)}, true, 3},
		{"two keys, one combination open", []string{
			deny(all, `"StringEquals":{"aws:RequestedRegion":"eu-west-1","aws:PrincipalTag/team":"ops"}`),
			deny(all, `"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}`)}, false, 0},
		{"AWS's NotAction sample and a deny of what it leaves", []string{
			deny(`"NotAction":["s3:GetBucketPolicy","s3:PutBucketPolicy","s3:DeleteBucketPolicy"]`, ""),
			deny(`"Action":["s3:*BucketPolicy"]`, "")}, true, 2},
		{"NotAction left partly open", []string{
			deny(`"NotAction":["s3:GetBucketPolicy","s3:PutBucketPolicy","s3:DeleteBucketPolicy"]`, ""),
			deny(`"Action":["s3:PutBucketPolicy","s3:DeleteBucketPolicy"]`, "")}, false, 0},
		{"NotAction wildcard needs a wider pattern", []string{
			deny(`"NotAction":"s3:*BucketPolicy"`, ""),
			deny(`"Action":["s3:PutBucketPolicy","s3:GetBucketPolicy","s3:DeleteBucketPolicy"]`, "")}, false, 0},
		{"NotAction covered by a service wildcard, case-insensitively", []string{
			deny(`"NotAction":"S3:PutBucketPolicy"`, ""),
			deny(`"Action":"s3:*"`, "")}, true, 2},
		{"NotAction and region halves", []string{
			deny(`"NotAction":"s3:PutBucketPolicy"`, ""),
			deny(`"Action":"s3:PutBucketPolicy"`, `"StringEquals":{"aws:RequestedRegion":"eu-west-1"}`),
			deny(`"Action":"s3:PutBucketPolicy"`, `"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}`)}, true, 3},
		{"two NotActions do not cover each other", []string{
			deny(`"NotAction":"s3:PutBucketPolicy"`, ""),
			deny(`"NotAction":"iam:CreateLoginProfile"`, "")}, false, 0},
		{"action lists alone", []string{
			deny(`"Action":["iam:*","s3:*"]`, "")}, false, 0},
		{"an exempting statement does not count", []string{
			deny(all, `"StringEquals":{"aws:RequestedRegion":"eu-west-1"}`),
			deny(all, `"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"},"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:root"}`)}, false, 0},
		{"one complete statement", []string{deny(all, ""), deny(all, `"Bool":{"aws:SecureTransport":"false"}`)}, true, 1},
	}
	sc, _ := RootScenario("arn:aws:iam::111122223333:root")
	for _, c := range cases {
		var scps []eval.SCPTarget
		for i, st := range c.statements {
			scps = append(scps, eval.SCPTarget{Target: "t", Policies: []eval.Named{named(t, "p"+string(rune('0'+i)), `{"Version":"2012-10-17","Statement":[`+st+`]}`)}})
		}
		complete, by := DenyUnion(scps, sc)
		if complete != c.complete || len(by) != c.by {
			t.Errorf("%s: complete %v by %d, want %v %d", c.name, complete, len(by), c.complete, c.by)
		}
	}
}

func TestActionIncludes(t *testing.T) {
	for _, c := range []struct {
		outer, inner string
		want         bool
	}{
		{"*", "s3:PutObject", true},
		{"s3:*", "s3:Put*", true},
		{"s3:*", "S3:PutObject", true},
		{"s3:Put*", "s3:PutBucket*", true},
		{"s3:*Policy", "s3:Put*", false},
		{"s3:?ut*", "s3:*ut*", false},
		{"s3:?ut*", "s3:?utObject", true},
		{"s3:PutObject", "s3:Put?bject", false},
		{"s3:putobject", "s3:PutObject", true},
		{"iam:*", "s3:PutObject", false},
		{"s3:PutObject", "*", false},
	} {
		if got := actionIncludes(c.outer, c.inner); got != c.want {
			t.Errorf("actionIncludes(%q, %q) = %v, want %v", c.outer, c.inner, got, c.want)
		}
	}
}

func TestContextWithout(t *testing.T) {
	sc, _ := RootScenario("arn:aws:iam::111122223333:root")
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"aws:SourceVpc":"true"}}}}`)
	if got := StatementCoverage(p, 0, sc).Applies; got != eval.Maybe {
		t.Fatalf("open key: %v", got)
	}
	if got := StatementCoverage(p, 0, sc.Without("AWS:SourceVPC")).Applies; got != eval.Yes {
		t.Errorf("absent key: %v", got)
	}
	if got := StatementCoverage(p, 0, sc.Without("aws:SourceVpc").With("aws:sourcevpc", eval.String("vpc-1"))).Applies; got != eval.No {
		t.Errorf("present again: %v", got)
	}
	if _, ok := sc.Without("aws:PrincipalArn").Get("aws:PrincipalArn"); ok {
		t.Error("Without kept the value")
	}
	if _, ok := sc.Get("aws:PrincipalArn"); !ok {
		t.Error("Without changed the original")
	}
	if !strings.Contains(sc.Without("x").Keys()[0], "aws:") {
		t.Error("Without lost the other keys")
	}
}

// TestDenyUnionIsSound draws sets of partial root denies and, whenever
// DenyUnion calls a set complete, evaluates concrete root requests against
// it with Evaluate: every one must be explicitly denied.
func TestDenyUnionIsSound(t *testing.T) {
	actions := []string{`"Action":"*"`, `"NotAction":"s3:PutBucketPolicy"`, `"Action":"s3:PutBucketPolicy"`, `"Action":"s3:*"`,
		`"NotAction":["s3:*BucketPolicy"]`, `"Action":["s3:?utBucketPolicy","s3:DeleteBucketPolicy"]`}
	conds := []string{"",
		`,"StringEquals":{"aws:RequestedRegion":"eu-west-1"}`, `,"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}`,
		`,"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}`, `,"StringEquals":{"aws:RequestedRegion":"us-east-1"}`,
		`,"StringLike":{"aws:RequestedRegion":"eu-*"}`, `,"StringEqualsIfExists":{"aws:RequestedRegion":"eu-west-1"}`,
		`,"Bool":{"aws:MultiFactorAuthPresent":"true"}`, `,"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}`, `,"Bool":{"aws:MultiFactorAuthPresent":"false"}`,
		`,"StringEquals":{"aws:PrincipalTag/team":"ops"}`, `,"StringNotEquals":{"aws:PrincipalTag/team":"ops"}`,
		`,"Null":{"aws:SourceVpc":"true"}`, `,"Null":{"aws:SourceVpc":"false"}`,
		`,"StringEquals":{"aws:RequestedRegion":"eu-west-1","aws:PrincipalTag/team":"ops"}`,
	}
	type choice struct {
		key    string
		values []string // "" is absent
	}
	keys := []choice{
		{"aws:RequestedRegion", []string{"", "eu-west-1", "us-east-1", "ap-south-1", "EU-WEST-1"}},
		{"aws:MultiFactorAuthPresent", []string{"", "true", "false"}},
		{"aws:PrincipalTag/team", []string{"", "ops", "dev"}},
		{"aws:SourceVpc", []string{"", "vpc-1"}},
	}
	requests := []string{"s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:GetObject", "iam:CreateUser", "ec2:RunInstances"}
	const root = "arn:aws:iam::111122223333:root"
	sc, _ := RootScenario(root)
	rng := rand.New(rand.NewPCG(1, 2))
	complete, combined := 0, 0
	for range 6000 {
		var scps []eval.SCPTarget
		for j := range 1 + rng.IntN(4) {
			st := `{"Effect":"Deny",` + actions[rng.IntN(len(actions))] + `,"Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"}` + conds[rng.IntN(len(conds))] + `}}`
			scps = append(scps, eval.SCPTarget{Target: fmt.Sprint("t", j), Policies: []eval.Named{named(t, "p", `{"Version":"2012-10-17","Statement":[`+st+`]}`), {Name: "FullAWSAccess", Policy: eval.AllowAll()}}})
		}
		ok, by := DenyUnion(scps, sc)
		if !ok {
			continue
		}
		complete++
		if len(by) > 1 {
			combined++
		}
		// Every combination of action and key values.
		var walk func(i int, ctx map[string]eval.Value)
		walk = func(i int, ctx map[string]eval.Value) {
			if i == len(keys) {
				for _, action := range requests {
					full := map[string]eval.Value{"aws:PrincipalArn": eval.ARN(root), "aws:PrincipalAccount": eval.String("111122223333"), "aws:userid": eval.String("111122223333"),
						"aws:PrincipalType": eval.String("Account"), "aws:ViaAWSService": eval.Bool(false), "aws:PrincipalIsAWSService": eval.Bool(false)}
					for k, v := range ctx {
						full[k] = v
					}
					r := eval.Evaluate(eval.Request{Action: action, Resource: "*", Context: eval.NewContext(full)}, eval.Policies{Identity: []eval.Named{{Name: "root", Policy: eval.AllowAll()}}, SCPs: scps})
					if r.Decision != eval.ExplicitDeny {
						var docs []string
						for _, s := range scps {
							b, _ := s.Policies[0].Policy.MarshalJSON()
							docs = append(docs, string(b))
						}
						t.Fatalf("DenyUnion calls complete, but %s with %v is %s:\n%s", action, ctx, r.Decision, strings.Join(docs, "\n"))
					}
				}
				return
			}
			for _, v := range keys[i].values {
				next := maps.Clone(ctx)
				if v != "" {
					next[keys[i].key] = eval.String(v)
				}
				walk(i+1, next)
			}
		}
		walk(0, map[string]eval.Value{})
	}
	t.Logf("%d of 6000 drawn sets complete, %d of them by several statements", complete, combined)
	if combined < 40 {
		t.Errorf("only %d of 6000 drawn sets were complete by several statements: the draw does not exercise DenyUnion", combined)
	}
}

package eval

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
)

// The generator builds policies and requests from small shared
// vocabularies, so that statements often match and every operator family
// decides. It avoids, by construction, the inputs DIFFERENCES.md lists
// (variables in negated operators and NotResource, short ARNs in
// NotResource, addresses without a prefix length in NotIpAddress, ${*}
// outside StringLike, policies without Version, epoch dates, IfExists on set
// operators, wildcards inside a segment of a resource with colons, "*" as
// the request resource), so that any disagreement it finds is new.

const genPrincipal = "arn:aws:iam::111122223333:user/alice"

// genAction is a request action with the resources it may name.
type genAction struct {
	action    string
	resources []string
}

var genActions = []genAction{
	{"s3:GetObject", []string{"arn:aws:s3:::bucket-a/key1", "arn:aws:s3:::bucket-b/dir/key2"}},
	{"s3:PutObject", []string{"arn:aws:s3:::bucket-a/key1", "arn:aws:s3:::bucket-b/dir/key2"}},
	{"s3:ListBucket", []string{"arn:aws:s3:::bucket-a", "arn:aws:s3:::bucket-b"}},
	{"iam:CreateAccessKey", []string{"arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/bob"}},
	{"iam:DeleteUser", []string{"arn:aws:iam::111122223333:user/bob"}},
	{"ec2:RunInstances", []string{"arn:aws:ec2:us-east-1:111122223333:instance/i-1"}},
	{"ec2:DescribeInstances", []string{"arn:aws:ec2:eu-west-1:111122223333:instance/i-2"}},
	{"sts:AssumeRoot", []string{"arn:aws:iam::444455556666:root", "arn:aws:iam::777788889999:root"}},
	{"dynamodb:GetItem", []string{"arn:aws:dynamodb:us-east-1:111122223333:table/Thread"}},
}

var genActionPatterns = []string{
	"*", "s3:*", "s3:Get*", "s3:?utObject", "S3:getobject", "iam:*AccessKey*", "iam:Delete*",
	"ec2:Describe*", "ec2:RunInstances", "sts:Assume*", "sts:AssumeRoot", "dynamodb:*Item", "s3:List*",
	"s3:get*", "STS:assume?oot",
}

var genResourcePatterns = []string{
	"*", "*", "arn:aws:s3:::bucket-a/*", "arn:aws:s3:::bucket-?/*", "arn:aws:s3:::*", "arn:aws:s3:::bucket-a",
	"arn:aws:s3:::bucket-b/dir/*", "arn:AWS:S3:::bucket-a/*", "arn:aws:iam::111122223333:user/*",
	"arn:aws:iam::*:root", "arn:aws:iam::444455556666:root", "arn:aws:iam::*",
	"arn:aws:ec2:*:111122223333:instance/*", "arn:aws:ec2:us-east-1:*:instance/i-?",
	"arn:aws:dynamodb:us-east-1:111122223333:table/*",
}

// NotResource patterns: no "*" (which would make the statement match
// nothing), no short ARN (DIFFERENCES.md).
var genNotResources = slices.DeleteFunc(slices.Clone(genResourcePatterns), func(r string) bool {
	return r == "*" || strings.Count(r, ":") < 5
})

// Resource patterns with a policy variable, for Resource only.
var genVariableResources = []string{
	"arn:aws:iam::111122223333:user/${aws:username}", "arn:aws:s3:::bucket-a/${aws:PrincipalTag/team}*",
}

// genTemplate is a condition key with the operators, policy values and
// request values tried on it.
type genTemplate struct {
	key       string
	ops       []string
	policy    []any // strings, or booleans for Bool
	request   []any // strings, or string lists for a multivalued key
	setOps    bool  // multivalued: ForAllValues/ForAnyValue
	variables bool  // policy values hold variables: positive operators only
}

var stringOps = []string{"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"}

var genTemplates = []genTemplate{
	{key: "aws:PrincipalTag/team", ops: stringOps,
		policy:  []any{"red", "blue", "Red", "r*", "?lue", "*", "re?"},
		request: []any{"red", "blue", "RED", "green", ""}},
	{key: "s3:prefix", ops: []string{"StringEquals", "StringLike"}, variables: true,
		policy:  []any{"home/${aws:username}/*", "${aws:username}", "home/*", "home/${aws:username, 'nobody'}/*", "a${*}b"},
		request: []any{"home/alice/x", "alice", "home/bob/", "other", "home/nobody/y", "a*b", "axb"}},
	{key: "s3:max-keys", ops: []string{"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals"},
		policy:  []any{"10", "5.5", "0", "100", "-3"},
		request: []any{"10", "7", "5.5", "12", "0", "-3", "ten"}},
	{key: "aws:CurrentTime", ops: []string{"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals"},
		policy:  []any{"2024-01-01T00:00:00Z", "2026-06-01T12:00:00+02:00", "2025-03-01T00:00:00.500Z", "2025-01-01T00:00:00Z"},
		request: []any{"2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "2026-06-01T10:00:00Z", "2030-01-01T00:00:00Z", "soon"}},
	{key: "aws:SecureTransport", ops: []string{"Bool"},
		policy:  []any{"true", "false", "TRUE", true, false},
		request: []any{"true", "false", "yes"}},
	{key: "aws:SourceIp", ops: []string{"IpAddress", "NotIpAddress"},
		policy:  []any{"203.0.113.0/24", "2001:db8::/32", "198.51.100.7", "10.0.0.0/8", "2001:DB8:1234:5678::/64"},
		request: []any{"203.0.113.5", "198.51.100.7", "2001:db8::1", "192.0.2.1", "10.1.2.3", "2001:db8:1234:5678::9", "localhost"}},
	{key: "aws:PrincipalArn", ops: []string{"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "StringLike", "StringNotLike"},
		policy: []any{"arn:aws:iam::*:root", "arn:aws:iam::111122223333:user/*", "arn:*:iam::111122223333:user/al?ce",
			"arn:aws:iam::111122223333:root", "arn:aws:iam::222233334444:user/*"}},
	{key: "aws:SourceArn", ops: []string{"ArnLike", "StringLike"}, variables: true,
		policy:  []any{"arn:aws:iam::111122223333:user/${aws:username}", "arn:aws:sns:*:111122223333:topic-*"},
		request: []any{"arn:aws:iam::111122223333:user/alice", "arn:aws:sns:us-east-1:111122223333:topic-a", "arn:aws:sns:us-east-1:999999999999:topic-a"}},
	{key: "test:blob", ops: []string{"BinaryEquals"},
		policy:  []any{"QUJD", "QUJE"},
		request: []any{"QUJD", "QUJF"}},
	{key: "aws:TokenIssueTime", ops: []string{"Null"},
		policy:  []any{"true", "false"},
		request: []any{"2024-01-01T00:00:00Z"}},
	{key: "aws:TagKeys", ops: []string{"StringEquals", "StringLike", "StringNotEquals", "StringNotLike", "StringEqualsIgnoreCase"}, setOps: true,
		policy:  []any{"env", "owner", "proj*", "*", "Env"},
		request: []any{[]string{}, []string{"env"}, []string{"env", "owner"}, []string{"cost"}, []string{"Env", "project"}}},
}

type generator struct {
	r *rand.Rand
	// used: the templates the current case's conditions read.
	used map[int]bool
	// The request being generated: half the statements name its action
	// and resource, so that their conditions decide.
	action, resource string
}

func (g *generator) pick(n int) int { return g.r.IntN(n) }

func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

func (g *generator) some(pool []string, max int) []string {
	n := 1 + g.pick(max)
	out := make([]string, n)
	for i := range out {
		out[i] = pool[g.pick(len(pool))]
	}
	return out
}

// list writes a string-or-list element, sometimes as a single string.
func (g *generator) list(vals []string) any {
	if len(vals) == 1 && g.chance(0.5) {
		return vals[0]
	}
	return vals
}

func (g *generator) condition() (string, string, any) {
	ti := g.pick(len(genTemplates))
	t := genTemplates[ti]
	g.used[ti] = true
	op := t.ops[g.pick(len(t.ops))]
	negated := containsFold(op, "Not")
	if t.setOps {
		switch g.pick(3) {
		case 0:
			op = "ForAllValues:" + op
		case 1:
			op = "ForAnyValue:" + op
		}
	} else if op != "Null" && g.chance(0.2) {
		op += "IfExists"
	}
	var vals []any
	for n := 1 + g.pick(3); len(vals) < n; {
		v := t.policy[g.pick(len(t.policy))]
		if s, ok := v.(string); ok && negated && containsFold(s, "${") && s != "a${*}b" {
			continue // a variable in a negated operator: DIFFERENCES.md
		}
		if s, ok := v.(string); ok && strings.Contains(s, "${*}") && !strings.HasPrefix(op, "StringLike") {
			continue // ${*} outside StringLike: DIFFERENCES.md
		}
		if s, ok := v.(string); ok && strings.HasPrefix(op, "NotIpAddress") && !strings.Contains(s, "/") {
			continue // an address without a prefix length in NotIpAddress: DIFFERENCES.md
		}
		vals = append(vals, v)
	}
	if len(vals) == 1 && g.chance(0.5) {
		return op, t.key, vals[0]
	}
	return op, t.key, vals
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if equalFoldASCII(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		ca, cb := a[i]|0x20, b[i]|0x20
		if ca != cb {
			return false
		}
	}
	return true
}

func (g *generator) statement() map[string]any {
	st := map[string]any{"Effect": "Allow"}
	if g.chance(0.3) {
		st["Effect"] = "Deny"
	}
	if g.chance(0.3) {
		st["Sid"] = fmt.Sprintf("S%d", g.pick(100))
	}
	actions := g.some(genActionPatterns, 3)
	if g.chance(0.5) {
		actions[0] = []string{g.action, "*", strings.ToUpper(g.action)}[g.pick(3)]
	}
	if g.chance(0.15) {
		st["NotAction"] = g.list(actions)
	} else {
		st["Action"] = g.list(actions)
	}
	switch {
	case g.chance(0.15):
		st["NotResource"] = g.list(g.some(genNotResources, 2))
	case g.chance(0.1):
		st["Resource"] = genVariableResources[g.pick(len(genVariableResources))]
	default:
		resources := g.some(genResourcePatterns, 3)
		if g.chance(0.5) {
			resources[0] = g.resource
		}
		st["Resource"] = g.list(resources)
	}
	if n := g.pick(4); n > 0 {
		cond := map[string]map[string]any{}
		for i := 0; i < n; i++ {
			op, key, v := g.condition()
			if cond[op] == nil {
				cond[op] = map[string]any{}
			}
			cond[op][key] = v
		}
		st["Condition"] = cond
	}
	return st
}

func (g *generator) policy(name string) diffPolicy {
	n := 1 + g.pick(3)
	var stmts []map[string]any
	for i := 0; i < n; i++ {
		stmts = append(stmts, g.statement())
	}
	doc := map[string]any{"Version": "2012-10-17"}
	if n == 1 && g.chance(0.3) {
		doc["Statement"] = stmts[0]
	} else {
		doc["Statement"] = stmts
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return diffPolicy{Name: name, Policy: b}
}

var genAllowAll = diffPolicy{Name: "AllowAll", Policy: json.RawMessage(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)}

// generateCases returns n deterministic cases.
func generateCases(n int) []diffCase {
	g := &generator{r: rand.New(rand.NewPCG(24, 7))}
	out := make([]diffCase, n)
	for i := range out {
		g.used = map[int]bool{}
		a := genActions[g.pick(len(genActions))]
		g.action, g.resource = a.action, a.resources[g.pick(len(a.resources))]
		c := diffCase{Name: fmt.Sprintf("gen-%03d", i), Source: "generated"}
		if g.chance(0.3) {
			c.Identity = append(c.Identity, genAllowAll)
		}
		for j := g.pick(2); j < 2; j++ {
			c.Identity = append(c.Identity, g.policy(fmt.Sprintf("identity-%d", j)))
		}
		if g.chance(0.25) {
			b := g.policy("boundary")
			c.Boundary = &b
		}
		for j := g.pick(4); j < 3; j++ {
			t := diffTarget{Target: fmt.Sprintf("level-%d", j)}
			if g.chance(0.85) {
				t.Policies = append(t.Policies, diffPolicy{Name: "FullAWSAccess", Policy: genAllowAll.Policy})
			}
			if g.chance(0.5) {
				t.Policies = append(t.Policies, g.policy(fmt.Sprintf("scp-%d", j)))
			}
			if len(t.Policies) > 0 {
				c.SCPs = append(c.SCPs, t)
			}
		}
		c.Request = diffRequest{Principal: genPrincipal, Action: g.action, Resource: g.resource,
			Context: map[string]any{"aws:PrincipalArn": genPrincipal}}
		if g.chance(0.6) {
			c.Request.Context["aws:username"] = "alice"
		}
		for _, ti := range slices.Sorted(maps.Keys(g.used)) {
			t := genTemplates[ti]
			if t.key == "aws:PrincipalArn" || len(t.request) == 0 || g.chance(0.25) {
				continue // absent
			}
			c.Request.Context[t.key] = t.request[g.pick(len(t.request))]
		}
		if g.chance(0.3) {
			c.Request.Context["aws:PrincipalTag/team"] = []any{"red", "blue"}[g.pick(2)]
		}
		out[i] = c
	}
	return out
}

package eval

import (
	"net/netip"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/policy"
)

// holds decides a Condition block for a context, through a statement that
// otherwise matches everything.
func holds(t *testing.T, version, cond string, ctx Context) Truth {
	t.Helper()
	v := ""
	if version != "" {
		v = `"Version":"` + version + `",`
	}
	p := mustParse(t, `{`+v+`"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":`+cond+`}}`)
	e := env{ctx: ctx, vars: p.Version == "2012-10-17"}
	st, cs := p.statement(0)
	got, _ := e.statement(st, cs, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: ctx})
	return got
}

func ctx(kv ...any) Context {
	m := map[string]Value{}
	for i := 0; i < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case string:
			m[kv[i].(string)] = String(v)
		case Value:
			m[kv[i].(string)] = v
		}
	}
	return NewContext(m)
}

// TestConditionOperators covers every operator family, negation, IfExists,
// the set operators and missing keys, from "IAM JSON policy elements:
// Condition operators" and "Single-valued vs. multivalued context keys".
func TestConditionOperators(t *testing.T) {
	const v12 = "2012-10-17"
	none := ctx()
	cases := []struct {
		name, cond string
		ctx        Context
		want       Truth
	}{
		// String: exact and case-sensitive; IgnoreCase; Like with * and ?;
		// negated operators NOR their values; wildcards are literal in Equals.
		{"StringEquals", `{"StringEquals":{"aws:PrincipalTag/team":"red"}}`, ctx("aws:PrincipalTag/team", "red"), Yes},
		{"StringEquals case", `{"StringEquals":{"aws:PrincipalTag/team":"red"}}`, ctx("aws:PrincipalTag/team", "Red"), No},
		{"StringEquals OR", `{"StringEquals":{"aws:PrincipalTag/team":["blue","red"]}}`, ctx("aws:PrincipalTag/team", "red"), Yes},
		{"StringEquals key case", `{"StringEquals":{"AWS:PRINCIPALTAG/TEAM":"red"}}`, ctx("aws:PrincipalTag/team", "red"), Yes},
		{"StringEquals literal star", `{"StringEquals":{"k:k":"a*"}}`, ctx("k:k", "abc"), No},
		{"StringEquals star itself", `{"StringEquals":{"k:k":"a*"}}`, ctx("k:k", "a*"), Yes},
		{"StringNotEquals NOR", `{"StringNotEquals":{"k:k":["a","b"]}}`, ctx("k:k", "a"), No},
		{"StringNotEquals none", `{"StringNotEquals":{"k:k":["a","b"]}}`, ctx("k:k", "c"), Yes},
		{"StringNotEquals missing", `{"StringNotEquals":{"k:k":"a"}}`, none, Yes},
		{"StringEquals missing", `{"StringEquals":{"k:k":"a"}}`, none, No},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"k:k":"ABC"}}`, ctx("k:k", "abc"), Yes},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"k:k":"ABC"}}`, ctx("k:k", "abc"), No},
		{"StringLike star", `{"StringLike":{"k:k":"a*c"}}`, ctx("k:k", "abbc"), Yes},
		{"StringLike question", `{"StringLike":{"k:k":"a?c"}}`, ctx("k:k", "abc"), Yes},
		{"StringLike question one", `{"StringLike":{"k:k":"a?c"}}`, ctx("k:k", "abbc"), No},
		{"StringLike empty", `{"StringLike":{"k:k":"*"}}`, ctx("k:k", ""), Yes},
		{"StringLike case", `{"StringLike":{"k:k":"A*"}}`, ctx("k:k", "abc"), No},
		{"StringLike colons", `{"StringLike":{"k:k":"arn:aws:s:*:1:f/*"}}`, ctx("k:k", "arn:aws:s:r:9:x:1:f/d"), Yes},
		{"StringNotLike", `{"StringNotLike":{"k:k":["a*","b*"]}}`, ctx("k:k", "cat"), Yes},
		{"StringNotLike hit", `{"StringNotLike":{"k:k":["a*","b*"]}}`, ctx("k:k", "bat"), No},
		{"StringLikeIfExists missing", `{"StringLikeIfExists":{"k:k":"a*"}}`, none, Yes},
		{"StringLikeIfExists present", `{"StringLikeIfExists":{"k:k":"a*"}}`, ctx("k:k", "b"), No},
		{"StringNotEqualsIfExists missing", `{"StringNotEqualsIfExists":{"k:k":"a"}}`, none, Yes},
		{"operator case", `{"stringequals":{"k:k":"a"}}`, ctx("k:k", "a"), Yes},

		// Numeric: integers and decimals; an unparsable value matches
		// nothing, negated or not.
		{"NumericEquals decimal", `{"NumericEquals":{"s3:max-keys":"10"}}`, ctx("s3:max-keys", "10.0"), Yes},
		{"NumericEquals JSON number", `{"NumericEquals":{"s3:max-keys":10}}`, ctx("s3:max-keys", Number(10)), Yes},
		{"NumericNotEquals", `{"NumericNotEquals":{"s3:max-keys":["1","2"]}}`, ctx("s3:max-keys", "3"), Yes},
		{"NumericNotEquals hit", `{"NumericNotEquals":{"s3:max-keys":["1","2"]}}`, ctx("s3:max-keys", "2"), No},
		{"NumericLessThan", `{"NumericLessThan":{"s3:max-keys":"10"}}`, ctx("s3:max-keys", "9.5"), Yes},
		{"NumericLessThan equal", `{"NumericLessThan":{"s3:max-keys":"10"}}`, ctx("s3:max-keys", "10"), No},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, ctx("s3:max-keys", "10"), Yes},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"s3:max-keys":"-1"}}`, ctx("s3:max-keys", "0"), Yes},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"s3:max-keys":"5"}}`, ctx("s3:max-keys", "4"), No},
		{"Numeric unparsable", `{"NumericEquals":{"s3:max-keys":"10"}}`, ctx("s3:max-keys", "ten"), No},
		{"NumericNot unparsable", `{"NumericNotEquals":{"s3:max-keys":"10"}}`, ctx("s3:max-keys", "ten"), No},
		{"Numeric exponent refused", `{"NumericEquals":{"s3:max-keys":"1e3"}}`, ctx("s3:max-keys", "1000"), No},

		// Date: ISO 8601 (W3C profile) or epoch seconds, compared as instants.
		{"DateLessThan", `{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, ctx("aws:CurrentTime", Date(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))), Yes},
		{"DateLessThan epoch policy", `{"DateLessThan":{"aws:CurrentTime":"1893456000"}}`, ctx("aws:CurrentTime", "2026-03-01T12:00:00Z"), Yes},
		{"DateGreaterThan epoch request", `{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, ctx("aws:CurrentTime", "1893456000"), Yes},
		{"DateEquals zones", `{"DateEquals":{"aws:CurrentTime":"2024-01-01T02:00:00+02:00"}}`, ctx("aws:CurrentTime", "2024-01-01T00:00:00Z"), Yes},
		{"DateEquals date only", `{"DateEquals":{"aws:CurrentTime":"2024-01-01"}}`, ctx("aws:CurrentTime", "2024-01-01T00:00:00Z"), Yes},
		{"DateNotEquals", `{"DateNotEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, ctx("aws:CurrentTime", "2024-01-01T00:00:01Z"), Yes},
		{"DateGreaterThanEquals", `{"DateGreaterThanEquals":{"aws:TokenIssueTime":"2024-01-01T00:00:00.500Z"}}`, ctx("aws:TokenIssueTime", "2024-01-01T00:00:00.499Z"), No},
		{"DateLessThanEquals minutes", `{"DateLessThanEquals":{"aws:CurrentTime":"2024-01-01T10:30Z"}}`, ctx("aws:CurrentTime", "2024-01-01T10:30:00Z"), Yes},
		{"Date unparsable", `{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, ctx("aws:CurrentTime", "soon"), No},
		{"Date missing", `{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}`, none, No},

		// Bool: true/false in any case, JSON booleans too.
		{"Bool", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx("aws:SecureTransport", Bool(false)), Yes},
		{"Bool case", `{"Bool":{"aws:SecureTransport":"TRUE"}}`, ctx("aws:SecureTransport", "true"), Yes},
		{"Bool JSON", `{"Bool":{"aws:SecureTransport":true}}`, ctx("aws:SecureTransport", "false"), No},
		{"Bool not a boolean", `{"Bool":{"aws:SecureTransport":"true"}}`, ctx("aws:SecureTransport", "yes"), No},
		{"BoolIfExists missing", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, none, Yes},

		// Binary: base64 compared byte for byte.
		{"BinaryEquals", `{"BinaryEquals":{"k:b":"QUJD"}}`, ctx("k:b", Binary([]byte("ABC"))), Yes},
		{"BinaryEquals other", `{"BinaryEquals":{"k:b":"QUJE"}}`, ctx("k:b", Binary([]byte("ABC"))), No},
		{"BinaryEquals not base64", `{"BinaryEquals":{"k:b":"QUJD"}}`, ctx("k:b", "%%%"), No},

		// IP: CIDR or an address (/32, /128); IPv4 and IPv6.
		{"IpAddress", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx("aws:SourceIp", IP(netip.MustParseAddr("203.0.113.5"))), Yes},
		{"IpAddress bare", `{"IpAddress":{"aws:SourceIp":"203.0.113.5"}}`, ctx("aws:SourceIp", "203.0.113.5"), Yes},
		{"IpAddress bare other", `{"IpAddress":{"aws:SourceIp":"203.0.113.5"}}`, ctx("aws:SourceIp", "203.0.113.6"), No},
		{"IpAddress v6", `{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`, ctx("aws:SourceIp", "2001:db8:1234:5678::9"), Yes},
		{"IpAddress host bits", `{"IpAddress":{"aws:SourceIp":"203.0.113.5/24"}}`, ctx("aws:SourceIp", "203.0.113.9"), Yes},
		{"NotIpAddress", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`, ctx("aws:SourceIp", "203.0.113.5"), Yes},
		{"NotIpAddress inside", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`, ctx("aws:SourceIp", "10.1.2.3"), No},
		{"NotIpAddress other family", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.5"}}`, ctx("aws:SourceIp", "2001:db8::1"), Yes},
		{"IpAddress not an address", `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, ctx("aws:SourceIp", "localhost"), No},
		{"NotIpAddress not an address", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx("aws:SourceIp", "localhost"), No},
		{"NotIpAddress missing", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, none, Yes},

		// ARN: six components, each matched on its own, case-sensitively;
		// ArnEquals behaves as ArnLike.
		{"ArnLike root", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`, ctx("aws:PrincipalArn", ARN("arn:aws:iam::111122223333:root")), Yes},
		{"ArnLike root not user", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`, ctx("aws:PrincipalArn", "arn:aws:iam::111122223333:user/root"), No},
		{"ArnLike any partition", `{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"}}`, ctx("aws:PrincipalArn", "arn:aws-us-gov:iam::111122223333:root"), Yes},
		{"ArnLike one partition", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`, ctx("aws:PrincipalArn", "arn:aws-cn:iam::111122223333:root"), No},
		{"ArnEquals wildcard", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`, ctx("aws:PrincipalArn", "arn:aws:iam::111122223333:root"), Yes},
		{"ArnLike case", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:ROOT"}}`, ctx("aws:PrincipalArn", "arn:aws:iam::111122223333:root"), No},
		{"ArnLike not across components", `{"ArnLike":{"aws:SourceArn":"arn:aws:s:*:1:f/*"}}`, ctx("aws:SourceArn", "arn:aws:s:r:9:x:1:f/d"), No},
		{"ArnLike resource part colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:logs:*:1:log-group:*"}}`, ctx("aws:SourceArn", "arn:aws:logs:r:1:log-group:g:log-stream:s"), Yes},
		{"ArnLike not an ARN", `{"ArnLike":{"aws:SourceArn":"*"}}`, ctx("aws:SourceArn", "arn:aws:s3:::b"), No},
		{"ArnNotLike exemption", `{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/Break*","arn:aws:iam::222233334444:root"]}}`, ctx("aws:PrincipalArn", "arn:aws:iam::111122223333:root"), Yes},
		{"ArnNotLike exempted", `{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/Break*","arn:aws:iam::222233334444:root"]}}`, ctx("aws:PrincipalArn", "arn:aws:iam::222233334444:root"), No},
		{"ArnNotEquals request not an ARN", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::b"}}`, ctx("aws:SourceArn", "b"), No},

		// Null tests presence only.
		{"Null true absent", `{"Null":{"aws:AssumedRoot":"true"}}`, none, Yes},
		{"Null true present", `{"Null":{"aws:AssumedRoot":"true"}}`, ctx("aws:AssumedRoot", "true"), No},
		{"Null false present", `{"Null":{"aws:TokenIssueTime":false}}`, ctx("aws:TokenIssueTime", "2024-01-01T00:00:00Z"), Yes},
		{"Null both", `{"Null":{"k:k":["true","false"]}}`, none, Yes},

		// Set operators over multivalued keys.
		{"ForAllValues subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx("aws:TagKeys", Strings("a")), Yes},
		{"ForAllValues extra", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx("aws:TagKeys", Strings("a", "c")), No},
		{"ForAllValues empty", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`, ctx("aws:TagKeys", Strings()), Yes},
		{"ForAllValues missing", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`, none, Yes},
		{"ForAnyValue one", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx("aws:TagKeys", Strings("c", "a")), Yes},
		{"ForAnyValue none", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx("aws:TagKeys", Strings("c")), No},
		{"ForAnyValue empty", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a"]}}`, ctx("aws:TagKeys", Strings()), No},
		{"ForAnyValue missing", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a"]}}`, none, No},
		{"ForAnyValue IfExists missing", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["a"]}}`, none, Yes},
		{"ForAllValues negated", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["a"]}}`, ctx("aws:TagKeys", Strings("b", "c")), Yes},
		{"ForAllValues negated hit", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["a"]}}`, ctx("aws:TagKeys", Strings("b", "a")), No},
		{"ForAnyValue negated", `{"ForAnyValue:StringNotLike":{"aws:TagKeys":["a*"]}}`, ctx("aws:TagKeys", Strings("ab", "cd")), Yes},
		{"ForAnyValue negated none", `{"ForAnyValue:StringNotLike":{"aws:TagKeys":["a*"]}}`, ctx("aws:TagKeys", Strings("ab")), No},
		{"set operator single value", `{"ForAnyValue:StringEquals":{"aws:PrincipalTag/team":"red"}}`, ctx("aws:PrincipalTag/team", "red"), Yes},
		{"set operator single ARN", `{"ForAllValues:ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}`, ctx("aws:PrincipalArn", "arn:aws:iam::1:user/x"), No},
		{"multivalued without set operator", `{"StringEquals":{"aws:TagKeys":"a"}}`, ctx("aws:TagKeys", Strings("a")), No},
		{"multivalued negated without set operator", `{"StringNotEquals":{"aws:TagKeys":"x"}}`, ctx("aws:TagKeys", Strings("a")), No},

		// All keys of a block, and all blocks, must hold.
		{"AND", `{"StringEquals":{"a:a":"1","b:b":"2"},"Bool":{"c:c":"true"}}`, ctx("a:a", "1", "b:b", "2", "c:c", "true"), Yes},
		{"AND one fails", `{"StringEquals":{"a:a":"1","b:b":"2"},"Bool":{"c:c":"true"}}`, ctx("a:a", "1", "b:b", "3", "c:c", "true"), No},
	}
	for _, c := range cases {
		if got := holds(t, v12, c.cond, c.ctx); got != c.want {
			t.Errorf("%s: %s got %v, want %v", c.name, c.cond, got, c.want)
		}
	}
}

// TestPolicyVariables: ${key}, defaults, the three special variables,
// variables with no value, and the 2008-10-17 version that has none
// ("IAM policy elements: Variables and tags").
func TestPolicyVariables(t *testing.T) {
	alice := ctx("aws:username", "alice", "s3:prefix", "alice")
	cases := []struct {
		name, version, cond string
		ctx                 Context
		want                Truth
	}{
		{"resolved", "2012-10-17", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, alice, Yes},
		{"key name case", "2012-10-17", `{"StringEquals":{"s3:prefix":"${AWS:UserName}"}}`, alice, Yes},
		{"in StringLike", "2012-10-17", `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, ctx("aws:username", "a*", "s3:prefix", "home/a*/x"), Yes},
		{"resolved value is literal", "2012-10-17", `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, ctx("aws:username", "a*", "s3:prefix", "home/ab/x"), No},
		{"no value", "2012-10-17", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, ctx("s3:prefix", ""), No},
		{"no value negated", "2012-10-17", `{"StringNotEquals":{"s3:prefix":"${aws:username}"}}`, ctx("s3:prefix", "x"), Yes},
		{"no value negated others", "2012-10-17", `{"StringNotEquals":{"s3:prefix":["${aws:username}","x"]}}`, ctx("s3:prefix", "x"), No},
		{"default", "2012-10-17", `{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team, 'company-wide'}"}}`, ctx("s3:prefix", "company-wide"), Yes},
		{"default not used", "2012-10-17", `{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team, 'company-wide'}"}}`, ctx("s3:prefix", "company-wide", "aws:PrincipalTag/team", "red"), No},
		{"special star", "2012-10-17", `{"StringEquals":{"s3:prefix":"a${*}"}}`, ctx("s3:prefix", "a*"), Yes},
		{"special star not wildcard", "2012-10-17", `{"StringLike":{"s3:prefix":"a${*}"}}`, ctx("s3:prefix", "ab"), No},
		{"special question", "2012-10-17", `{"StringLike":{"s3:prefix":"a${?}"}}`, ctx("s3:prefix", "a?"), Yes},
		{"special dollar", "2012-10-17", `{"StringEquals":{"s3:prefix":"${$}{x}"}}`, ctx("s3:prefix", "${x}"), Yes},
		{"unterminated", "2012-10-17", `{"StringEquals":{"s3:prefix":"${aws:username"}}`, ctx("s3:prefix", "${aws:username"), Yes},
		{"multivalued key", "2012-10-17", `{"StringEquals":{"s3:prefix":"${aws:TagKeys}"}}`, ctx("s3:prefix", "a", "aws:TagKeys", Strings("a")), No},
		{"in ArnLike", "2012-10-17", `{"ArnLike":{"aws:SourceArn":"arn:aws:iam::1:user/${aws:username}"}}`, ctx("aws:username", "alice", "aws:SourceArn", "arn:aws:iam::1:user/alice"), Yes},
		{"in Bool", "2012-10-17", `{"Bool":{"aws:SecureTransport":"${aws:PrincipalTag/secure}"}}`, ctx("aws:PrincipalTag/secure", "true", "aws:SecureTransport", "true"), Yes},
		{"not in Numeric", "2012-10-17", `{"NumericEquals":{"s3:max-keys":"${aws:PrincipalTag/n}"}}`, ctx("aws:PrincipalTag/n", "5", "s3:max-keys", "5"), No},
		{"2008 literal", "2008-10-17", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, alice, No},
		{"2008 literal matches itself", "2008-10-17", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, ctx("aws:username", "alice", "s3:prefix", "${aws:username}"), Yes},
		{"no version literal", "", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, alice, No},
	}
	for _, c := range cases {
		if got := holds(t, c.version, c.cond, c.ctx); got != c.want {
			t.Errorf("%s: %s got %v, want %v", c.name, c.cond, got, c.want)
		}
	}
}

// TestScenarioConditions: a scenario leaves undecided what depends on a key
// it does not know, and decides the rest.
func TestScenarioConditions(t *testing.T) {
	sc := Scenario(map[string]Value{"aws:PrincipalArn": ARN("arn:aws:iam::111122223333:root")}, "aws:AssumedRoot")
	cases := []struct {
		name, cond string
		want       Truth
	}{
		{"known", `{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"}}`, Yes},
		{"known absent Null", `{"Null":{"aws:AssumedRoot":"true"}}`, Yes},
		{"known absent negated", `{"StringNotEquals":{"aws:AssumedRoot":"true"}}`, Yes},
		{"known absent positive", `{"Bool":{"aws:AssumedRoot":"true"}}`, No},
		{"unknown", `{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}`, Maybe},
		{"unknown Null", `{"Null":{"aws:TokenIssueTime":"true"}}`, Maybe},
		{"unknown variable", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:root"}}`, Maybe},
		{"unknown and false", `{"StringEquals":{"aws:RequestedRegion":"eu-west-1"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}`, No},
		{"unknown set", `{"ForAllValues:StringEquals":{"aws:TagKeys":"a"}}`, Maybe},
	}
	for _, c := range cases {
		if got := holds(t, "2012-10-17", c.cond, sc); got != c.want {
			t.Errorf("%s: %s got %v, want %v", c.name, c.cond, got, c.want)
		}
	}
	closed := NewContext(nil)
	if got := holds(t, "2012-10-17", `{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}`, closed); got != No {
		t.Errorf("a complete context decides a missing key: got %v", got)
	}
}

// TestContextValues: typed constructors hold the forms the operators read.
func TestContextValues(t *testing.T) {
	cases := []struct {
		v    Value
		want string
		kind Kind
	}{
		{Number(10), "10", KindNumber},
		{Number(5.5), "5.5", KindNumber},
		{Bool(true), "true", KindBool},
		{Date(time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))), "2024-01-02T02:04:05Z", KindDate},
		{IP(netip.MustParseAddr("2001:db8::1")), "2001:db8::1", KindIP},
		{Binary([]byte("ABC")), "QUJD", KindBinary},
		{ARN("arn:aws:iam::1:root"), "arn:aws:iam::1:root", KindARN},
		{Strings("a", "b"), "[a, b]", KindString},
	}
	for _, c := range cases {
		if c.v.String() != c.want || c.v.Kind() != c.kind {
			t.Errorf("%v (%v), want %s (%v)", c.v, c.v.Kind(), c.want, c.kind)
		}
	}
	for i := 0; i < 20; i++ {
		twice := NewContext(map[string]Value{"aws:username": String("a"), "AWS:UserName": String("b")})
		if v, _ := twice.Get("aws:username"); v.String() != "a" {
			t.Fatalf("keys differing in case: got %v, want the last in byte order", v)
		}
	}
	c := NewContext(map[string]Value{"AWS:UserName": String("alice")})
	if v, ok := c.Get("aws:username"); !ok || v.String() != "alice" {
		t.Errorf("Get is not case-insensitive: %v %v", v, ok)
	}
	if keys := c.With("b:b", Bool(true)).Keys(); len(keys) != 2 || keys[0] != "AWS:UserName" {
		t.Errorf("With/Keys: %v", keys)
	}
	if len(c.Keys()) != 1 {
		t.Errorf("With changed the original context")
	}
}

// TestZeroValue: a zero Value (what Get returns for a missing key) prints
// and decides without panicking.
func TestZeroValue(t *testing.T) {
	var v Value
	if v.String() != "[]" {
		t.Errorf("zero value prints %q", v.String())
	}
	if got := holds(t, "2012-10-17", `{"StringEquals":{"k:k":"${k:v}"}}`, ctx("k:k", "", "k:v", v)); got != No {
		t.Errorf("zero value as a variable: %v", got)
	}
	if got := holds(t, "2012-10-17", `{"StringNotEquals":{"k:k":"a"}}`, ctx("k:k", v)); got != No {
		t.Errorf("zero value as a key: %v", got)
	}
}

// TestHandBuiltCondition: a Condition built by hand (not by Parse) is
// decided by the operator it names, compiled or not.
func TestHandBuiltCondition(t *testing.T) {
	doc := &policy.Policy{Version: "2012-10-17", Statements: []policy.Statement{{
		Effect: policy.Allow, Action: policy.Values{List: []string{"*"}},
		Conditions: []policy.Condition{{Operator: "NumericLessThan", Key: "k:n", Values: []policy.ConditionValue{{Text: "10", Type: policy.TypeNumber}}}},
	}}}
	for _, p := range []*Policy{Compile(doc), {Policy: doc}} {
		for n, want := range map[string]Decision{"9": Allowed, "11": ImplicitDeny} {
			req := Request{Action: "s3:GetObject", Resource: "*", Context: ctx("k:n", n)}
			if got := Evaluate(req, Policies{Identity: []Named{{Name: "p", Policy: p}}}).Decision; got != want {
				t.Errorf("k:n = %s: %v, want %v", n, got, want)
			}
		}
	}
}

package policy

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

// TestParseShapes reads the shapes AWS writes: Statement as an object or a
// list, every element as a string or a list, condition values of every
// JSON type, principals of every type.
func TestParseShapes(t *testing.T) {
	p := mustParse(t, `{
	  "Version": "2012-10-17", "Id": "",
	  "Statement": {
	    "Sid": "Trust", "Effect": "Allow",
	    "Principal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:role/r"], "Service": "ec2.amazonaws.com",
	                  "Federated": "cognito-identity.amazonaws.com", "CanonicalUser": "79a59df900b949e5"},
	    "Action": "sts:AssumeRole",
	    "Condition": {
	      "StringEquals": {"sts:ExternalId": "x", "aws:PrincipalTag/team": ["a", "b"]},
	      "NumericLessThan": {"s3:max-keys": 10},
	      "Bool": {"aws:SecureTransport": true},
	      "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": []}
	    }
	  }}`)
	if p.Version != "2012-10-17" || !p.HasID || p.ID != "" || p.StatementArray || len(p.Statements) != 1 {
		t.Fatalf("document: %+v", p)
	}
	st := p.Statements[0]
	if st.Sid != "Trust" || st.Effect != Allow || st.NotAction || st.Action.Array || st.Action.List[0] != "sts:AssumeRole" || st.Resource != nil {
		t.Errorf("statement: %+v", st)
	}
	if st.Principal == nil || st.Principal.Any || len(st.Principal.Entries) != 4 ||
		st.Principal.Entries[0].Type != "AWS" || len(st.Principal.Entries[0].Values.List) != 2 || st.Principal.Entries[1].Values.Array {
		t.Errorf("principal: %+v", st.Principal)
	}
	want := []struct {
		op, key string
		vals    []ConditionValue
		array   bool
	}{
		{"StringEquals", "sts:ExternalId", []ConditionValue{{"x", TypeString}}, false},
		{"StringEquals", "aws:PrincipalTag/team", []ConditionValue{{"a", TypeString}, {"b", TypeString}}, true},
		{"NumericLessThan", "s3:max-keys", []ConditionValue{{"10", TypeNumber}}, false},
		{"Bool", "aws:SecureTransport", []ConditionValue{{"true", TypeBool}}, false},
		{"ForAnyValue:StringLikeIfExists", "aws:TagKeys", nil, true},
	}
	if len(st.Conditions) != len(want) {
		t.Fatalf("conditions: %+v", st.Conditions)
	}
	for i, w := range want {
		c := st.Conditions[i]
		if c.Operator != w.op || c.Key != w.key || c.Array != w.array || len(c.Values) != len(w.vals) {
			t.Errorf("condition %d: %+v, want %+v", i, c, w)
			continue
		}
		for j := range w.vals {
			if c.Values[j] != w.vals[j] {
				t.Errorf("condition %d value %d: %+v, want %+v", i, j, c.Values[j], w.vals[j])
			}
		}
	}
	if op := st.Conditions[4].Op(); op.Set != SetForAnyValue || !op.IfExists || op.Name != "StringLike" {
		t.Errorf("operator: %+v", op)
	}

	q := mustParse(t, `{"Statement":[{"Effect":"Deny","NotPrincipal":"*","NotAction":["s3:*"],"NotResource":"arn:aws:s3:::b/*"}]}`)
	st = q.Statements[0]
	if q.Version != "" || !q.StatementArray || !st.NotPrincipal || !st.Principal.Any || !st.NotAction || !st.Action.Array || !st.NotResource || st.Resource.Array {
		t.Errorf("negated elements: %+v", st)
	}
}

// TestParseErrors: what IAM refuses is refused, and the error names the
// statement (index and Sid) and the field.
func TestParseErrors(t *testing.T) {
	stmt := func(body string) string { return `{"Version":"2012-10-17","Statement":[{"Sid":"S1",` + body + `}]}` }
	cases := []struct {
		name, src, want string
	}{
		{"not JSON", `{"Statement":`, "not valid JSON"},
		{"data after", `{"Statement":{"Effect":"Allow","Action":"*"}} {}`, "after the document"},
		{"array", `[]`, "the document is an array"},
		{"unknown element", `{"Statment":[]}`, "Statment: unknown element"},
		{"bad version", `{"Version":"2012-10-18","Statement":[]}`, `Version: must be "2012-10-17" or "2008-10-17"`},
		{"version number", `{"Version":2012,"Statement":[]}`, "Version: must be"},
		{"id number", `{"Id":1,"Statement":[]}`, "Id: must be a string"},
		{"no statement", `{"Version":"2012-10-17"}`, "Statement: missing"},
		{"statement string", `{"Statement":"Allow"}`, "Statement: must be an object or a list"},
		{"statement element", `{"Statement":[{"Effect":"Allow","Action":"*"},"x"]}`, "Statement[1]: a statement must be an object"},
		{"duplicate key", stmt(`"Effect":"Allow","Action":"*","Effect":"Deny"`), `Statement[0]: duplicate key "Effect"`},
		{"duplicate operator", stmt(`"Effect":"Allow","Action":"*","Condition":{"Bool":{"a:b":"true"},"Bool":{"a:c":"true"}}`), `Statement[0].Condition: duplicate key "Bool"`},
		{"unknown statement element", stmt(`"Effect":"Allow","Actions":"*"`), `Statement[0] (Sid "S1"): Actions: unknown element`},
		{"effect casing", stmt(`"Effect":"allow","Action":"*"`), `Statement[0] (Sid "S1"): Effect: must be "Allow" or "Deny"`},
		{"no effect", stmt(`"Action":"*"`), `(Sid "S1"): Effect: missing`},
		{"no action", stmt(`"Effect":"Allow","Resource":"*"`), `(Sid "S1"): Action: missing`},
		{"action and notaction", stmt(`"Effect":"Allow","Action":"*","NotAction":"s3:*"`), "NotAction: a statement has Action or NotAction, not both"},
		{"empty action list", stmt(`"Effect":"Allow","Action":[]`), "Action: an empty list"},
		{"action number", stmt(`"Effect":"Allow","Action":["s3:*",3]`), "Action: [1] is a number, not a string"},
		{"no prefix", stmt(`"Effect":"Allow","Action":"GetItem"`), `Action: "GetItem": needs a service prefix`},
		{"two colons", stmt(`"Effect":"Allow","Action":"s3:Get:Object"`), "can contain only one colon"},
		{"wildcard vendor", stmt(`"Effect":"Allow","Action":"*:Untag*"`), "the service prefix must not contain wildcards"},
		{"empty vendor", stmt(`"Effect":"Allow","Action":":Get"`), "an empty service prefix"},
		{"resource not arn", stmt(`"Effect":"Allow","Action":"*","Resource":"my-bucket"`), `Resource: "my-bucket" must be in ARN format or "*"`},
		{"resource and notresource", stmt(`"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"`), "NotResource: a statement has Resource or NotResource, not both"},
		{"resource object", stmt(`"Effect":"Allow","Action":"*","Resource":{"a":1}`), "Resource: must be a string or a list of strings, not an object"},
		{"principal string", stmt(`"Effect":"Allow","Action":"*","Principal":"111122223333"`), `Principal: a string principal must be "*"`},
		{"principal empty", stmt(`"Effect":"Allow","Action":"*","Principal":{}`), "Principal: an empty principal map"},
		{"principal type", stmt(`"Effect":"Allow","Action":"*","Principal":{"User":"x"}`), `unknown principal type "User"`},
		{"principal both", stmt(`"Effect":"Allow","Action":"*","Principal":"*","NotPrincipal":"*"`), "not both"},
		{"condition list", stmt(`"Effect":"Allow","Action":"*","Condition":[]`), "Condition: must be an object of condition operators"},
		{"unknown operator", stmt(`"Effect":"Allow","Action":"*","Condition":{"StringEqualz":{"a:b":"c"}}`), "Condition: StringEqualz: unknown condition operator"},
		{"unknown set operator", stmt(`"Effect":"Allow","Action":"*","Condition":{"ForEveryValue:StringEquals":{"a:b":"c"}}`), `unknown set operator "ForEveryValue"`},
		{"null ifexists", stmt(`"Effect":"Allow","Action":"*","Condition":{"NullIfExists":{"a:b":"true"}}`), "IfExists cannot be added to Null"},
		{"operator block list", stmt(`"Effect":"Allow","Action":"*","Condition":{"StringEquals":["a"]}`), "StringEquals: must be an object of condition keys"},
		{"value object", stmt(`"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"a:b":{"c":"d"}}}`), "StringEquals.a:b: a condition value must be"},
		{"value null", stmt(`"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"a:b":["x",null]}}`), "StringEquals.a:b[1]: a condition value must be a string, number or boolean, not null"},
		{"empty key", stmt(`"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"":"x"}}`), "an empty condition key"},
		{"sid number", `{"Statement":[{"Sid":1,"Effect":"Allow","Action":"*"}]}`, "Statement[0]: Sid: must be a string"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.src))
		if err == nil {
			t.Errorf("%s: accepted %s", c.name, c.src)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
	}
}

// TestPrintBack: a statement prints as written, for evidence, and the
// policy prints to a document that reads back to the same policy.
func TestPrintBack(t *testing.T) {
	src := `{"Version":"2012-10-17","Id":"guard","Statement":[{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":["*"],"Condition":{"ArnLike":{"aws:PrincipalArn":["arn:*:iam::*:root"]},"Null":{"aws:AssumedRoot":"true"},"NumericLessThan":{"s3:max-keys":10.5},"Bool":{"aws:ViaAWSService":false}}},{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"NotAction":["s3:<Get>*"],"NotResource":"arn:aws:s3:::b&c/*"}]}`
	p := mustParse(t, src)
	out, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != src {
		t.Errorf("printed\n%s\nwant\n%s", out, src)
	}
	if got, want := p.Statements[0].JSON(), `{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":["*"],"Condition":{"ArnLike":{"aws:PrincipalArn":["arn:*:iam::*:root"]},"Null":{"aws:AssumedRoot":"true"},"NumericLessThan":{"s3:max-keys":10.5},"Bool":{"aws:ViaAWSService":false}}}`; got != want {
		t.Errorf("statement JSON\n%s\nwant\n%s", got, want)
	}
	if got, want := p.Statements[0].Label(), `Statement[0] (Sid "GRRESTRICTROOTUSER")`; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
	if got, want := p.Statements[1].Label(), "Statement[1]"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
	if got, want := p.Statements[0].Conditions[0].String(), `ArnLike {"aws:PrincipalArn": ["arn:*:iam::*:root"]}`; got != want {
		t.Errorf("condition %q, want %q", got, want)
	}
	if got, want := p.Statements[0].Conditions[3].String(), `Bool {"aws:ViaAWSService": false}`; got != want {
		t.Errorf("condition %q, want %q", got, want)
	}
}

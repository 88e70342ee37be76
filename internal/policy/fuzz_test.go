package policy

import (
	"bytes"
	"reflect"
	"testing"
)

var fuzzSeeds = []string{
	`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
	`{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":["*"],"Condition":{"ArnLike":{"aws:PrincipalArn":["arn:*:iam::*:root"]},"ArnNotLikeIfExists":{"aws:PrincipalArn":"arn:aws:iam::222233334444:root"},"Null":{"aws:AssumedRoot":"true"}}}]}`,
	`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["s3:GetBucketPolicy","s3:PutBucketPolicy"],"Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}}`,
	`{"Version":"2012-10-17","Id":"x","Statement":[{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/r"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"e"},"NumericLessThan":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":true}}}]}`,
	`{"Statement":{"Effect":"Allow","NotPrincipal":"*","Action":"s3:*","NotResource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*","b?"]},"ForAnyValue:StringEqualsIgnoreCase":{"aws:TagKeys":[]},"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"BinaryEquals":{"k:b":"QUJD"}}}}`,
	`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRoot"],"Resource":"arn:aws:iam::*:root","Condition":{"ArnEquals":{"sts:TaskPolicyArn":"arn:aws:iam::aws:policy/root-task/${aws:x, 'S3UnlockBucketPolicy'}"}}}]}`,
}

// FuzzParse: Parse never panics, and a policy it reads prints back to a
// document it reads to the same policy, which prints the same.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"Statement":[]}`))
	f.Add([]byte(`{"Statement":{"Effect":"Allow","Action":"a:b","Effect":"Deny"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		printed, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(printed)
		if err != nil {
			t.Fatalf("printed policy does not parse: %v\n%s", err, printed)
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("round trip changed the policy:\n%s\n%#v\n%#v", printed, p, again)
		}
		reprinted, _ := again.MarshalJSON()
		if !bytes.Equal(printed, reprinted) {
			t.Fatalf("printing is not stable:\n%s\n%s", printed, reprinted)
		}
		for i := range p.Statements {
			_ = p.Statements[i].JSON()
			for j := range p.Statements[i].Conditions {
				_ = p.Statements[i].Conditions[j].String()
			}
		}
	})
}

var denyAll = &Policy{Version: "2012-10-17", Statements: []Statement{{
	Effect: Deny, Action: Values{List: []string{"*"}}, Resource: &Values{List: []string{"*"}},
}}}

// FuzzEvaluate: evaluation never panics, a complete context never gives a
// conditional answer, and a Deny of everything added anywhere never
// allows.
func FuzzEvaluate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "s3:GetObject", "arn:aws:s3:::b/alice/k", "aws:PrincipalArn", "arn:aws:iam::111122223333:root", "aws:TagKeys", "a,b")
	}
	f.Add([]byte(fuzzSeeds[1]), "sts:AssumeRoot", "arn:aws:iam::444455556666:root", "aws:username", "alice", "aws:SourceIp", "203.0.113.7")
	f.Fuzz(func(t *testing.T, data []byte, action, resource, k1, v1, k2, v2 string) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		ctx := NewContext(map[string]Value{k1: String(v1), k2: Strings(v2, v1)})
		req := Request{Action: action, Resource: resource, Context: ctx}
		named := Named{Name: "fuzz", Policy: p}
		sets := []Policies{
			{Identity: []Named{named}},
			{Identity: []Named{{Name: "all", Policy: AllowAll()}}, Boundary: &named},
			{Identity: []Named{{Name: "all", Policy: AllowAll()}}, SCPs: []SCPTarget{{Target: "r", Policies: []Named{named}}}},
		}
		for _, ps := range sets {
			r := Evaluate(req, ps)
			if r.Decision == Conditional {
				t.Fatalf("a complete context gave a conditional answer: %+v", r)
			}
			if (r.Decision == ExplicitDeny) != (len(r.Denies) > 0) {
				t.Fatalf("decision %v with denies %v", r.Decision, r.Denies)
			}
			withDeny := ps
			withDeny.SCPs = append(append([]SCPTarget(nil), ps.SCPs...), SCPTarget{Target: "deny", Policies: []Named{{Name: "deny", Policy: denyAll}, {Name: "all", Policy: AllowAll()}}})
			if d := Evaluate(req, withDeny).Decision; d != ExplicitDeny {
				t.Fatalf("a Deny of everything gave %v", d)
			}
			withDeny = ps
			withDeny.Identity = append(append([]Named(nil), ps.Identity...), Named{Name: "deny", Policy: denyAll})
			if d := Evaluate(req, withDeny).Decision; d != ExplicitDeny {
				t.Fatalf("a Deny of everything gave %v", d)
			}
		}
		// What Parse compiled decides as compiling on the fly does.
		bare := unprepared(p)
		for i, ps := range sets {
			again := []Policies{
				{Identity: []Named{{Name: "fuzz", Policy: bare}}},
				{Identity: []Named{{Name: "all", Policy: AllowAll()}}, Boundary: &Named{Name: "fuzz", Policy: bare}},
				{Identity: []Named{{Name: "all", Policy: AllowAll()}}, SCPs: []SCPTarget{{Target: "r", Policies: []Named{{Name: "fuzz", Policy: bare}}}}},
			}[i]
			if a, b := Evaluate(req, ps), Evaluate(req, again); a.Decision != b.Decision || len(a.Allows) != len(b.Allows) || len(a.Denies) != len(b.Denies) {
				t.Fatalf("compiled %+v, on the fly %+v", a, b)
			}
		}
		// A scenario that knows the same keys, and no other, decides as the
		// complete context does wherever it decides at all.
		scenario := Scenario(map[string]Value{k1: String(v1), k2: Strings(v2, v1)})
		for _, ps := range sets {
			closed := Evaluate(req, ps).Decision
			open := Evaluate(Request{Action: action, Resource: resource, Context: scenario}, ps).Decision
			if open != Conditional && open != closed && !(open == ImplicitDeny && closed == ExplicitDeny) {
				t.Fatalf("scenario decided %v, complete context %v", open, closed)
			}
		}
		if sc, err := RootScenario("arn:aws:iam::111122223333:root"); err == nil {
			for i := range p.Statements {
				c := StatementCoverage(p, i, sc)
				_ = c.Gaps()
				if c.Complete() && len(c.Gaps()) > 0 {
					t.Fatalf("complete coverage with gaps %v", c.Gaps())
				}
			}
		}
	})
}

// unprepared copies a parsed policy without what Parse compiled, as a
// policy built by hand would be.
func unprepared(p *Policy) *Policy {
	q := *p
	q.Statements = make([]Statement, len(p.Statements))
	for i, st := range p.Statements {
		st.actions, st.resources = nil, nil
		st.Conditions = append([]Condition(nil), st.Conditions...)
		for j := range st.Conditions {
			st.Conditions[j].lkey, st.Conditions[j].values = "", nil
		}
		q.Statements[i] = st
	}
	return &q
}

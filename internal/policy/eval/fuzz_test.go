package eval_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/rootwatch/rootwatch/internal/policy"
	"github.com/rootwatch/rootwatch/internal/policy/analysis"
	"github.com/rootwatch/rootwatch/internal/policy/eval"
)

var denyAll = eval.Compile(&policy.Policy{Version: "2012-10-17", Statements: []policy.Statement{{
	Effect: policy.Deny, Action: policy.Values{List: []string{"*"}}, Resource: &policy.Values{List: []string{"*"}},
}}})

// FuzzEvaluate: evaluation never panics, a complete context never gives a
// conditional answer, and a Deny of everything added anywhere never
// allows.
func FuzzEvaluate(f *testing.F) {
	// The seeds of internal/policy's FuzzParse, one policy a line.
	data, err := os.ReadFile(filepath.Join("..", "testdata", "seeds.txt"))
	if err != nil {
		f.Fatal(err)
	}
	seeds := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	for _, s := range seeds {
		f.Add(s, "s3:GetObject", "arn:aws:s3:::b/alice/k", "aws:PrincipalArn", "arn:aws:iam::111122223333:root", "aws:TagKeys", "a,b")
	}
	f.Add(seeds[1], "sts:AssumeRoot", "arn:aws:iam::444455556666:root", "aws:username", "alice", "aws:SourceIp", "203.0.113.7")
	f.Fuzz(func(t *testing.T, data []byte, action, resource, k1, v1, k2, v2 string) {
		p, err := eval.Parse(data)
		if err != nil {
			return
		}
		ctx := eval.NewContext(map[string]eval.Value{k1: eval.String(v1), k2: eval.Strings(v2, v1)})
		req := eval.Request{Action: action, Resource: resource, Context: ctx}
		named := eval.Named{Name: "fuzz", Policy: p}
		sets := []eval.Policies{
			{Identity: []eval.Named{named}},
			{Identity: []eval.Named{{Name: "all", Policy: eval.AllowAll()}}, Boundary: &named},
			{Identity: []eval.Named{{Name: "all", Policy: eval.AllowAll()}}, SCPs: []eval.SCPTarget{{Target: "r", Policies: []eval.Named{named}}}},
		}
		for _, ps := range sets {
			r := eval.Evaluate(req, ps)
			if r.Decision == eval.Conditional {
				t.Fatalf("a complete context gave a conditional answer: %+v", r)
			}
			if (r.Decision == eval.ExplicitDeny) != (len(r.Denies) > 0) {
				t.Fatalf("decision %v with denies %v", r.Decision, r.Denies)
			}
			withDeny := ps
			withDeny.SCPs = append(append([]eval.SCPTarget(nil), ps.SCPs...), eval.SCPTarget{Target: "deny", Policies: []eval.Named{{Name: "deny", Policy: denyAll}, {Name: "all", Policy: eval.AllowAll()}}})
			if d := eval.Evaluate(req, withDeny).Decision; d != eval.ExplicitDeny {
				t.Fatalf("a Deny of everything gave %v", d)
			}
			withDeny = ps
			withDeny.Identity = append(append([]eval.Named(nil), ps.Identity...), eval.Named{Name: "deny", Policy: denyAll})
			if d := eval.Evaluate(req, withDeny).Decision; d != eval.ExplicitDeny {
				t.Fatalf("a Deny of everything gave %v", d)
			}
		}
		// What eval.Parse compiled decides as compiling on the fly does.
		bare := &eval.Policy{Policy: p.Policy} // compiled as it is evaluated
		for i, ps := range sets {
			again := []eval.Policies{
				{Identity: []eval.Named{{Name: "fuzz", Policy: bare}}},
				{Identity: []eval.Named{{Name: "all", Policy: eval.AllowAll()}}, Boundary: &eval.Named{Name: "fuzz", Policy: bare}},
				{Identity: []eval.Named{{Name: "all", Policy: eval.AllowAll()}}, SCPs: []eval.SCPTarget{{Target: "r", Policies: []eval.Named{{Name: "fuzz", Policy: bare}}}}},
			}[i]
			if a, b := eval.Evaluate(req, ps), eval.Evaluate(req, again); a.Decision != b.Decision || len(a.Allows) != len(b.Allows) || len(a.Denies) != len(b.Denies) {
				t.Fatalf("compiled %+v, on the fly %+v", a, b)
			}
		}
		// A scenario that knows the same keys, and no other, decides as the
		// complete context does wherever it decides at all.
		scenario := eval.Scenario(map[string]eval.Value{k1: eval.String(v1), k2: eval.Strings(v2, v1)})
		for _, ps := range sets {
			closed := eval.Evaluate(req, ps).Decision
			open := eval.Evaluate(eval.Request{Action: action, Resource: resource, Context: scenario}, ps).Decision
			if open != eval.Conditional && open != closed && !(open == eval.ImplicitDeny && closed == eval.ExplicitDeny) {
				t.Fatalf("scenario decided %v, complete context %v", open, closed)
			}
		}
		if sc, err := analysis.RootScenario("arn:aws:iam::111122223333:root"); err == nil {
			for i := range p.Statements {
				c := analysis.StatementCoverage(p, i, sc)
				_ = c.Gaps()
				if c.Complete() && len(c.Gaps()) > 0 {
					t.Fatalf("complete coverage with gaps %v", c.Gaps())
				}
			}
		}
	})
}

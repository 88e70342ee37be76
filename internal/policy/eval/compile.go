package eval

import (
	"strings"

	"github.com/rootwatch/rootwatch/internal/policy"
)

// Policy is a parsed policy with what evaluation would otherwise compile for
// every request: action and resource patterns, condition keys and the
// condition values that hold no policy variable. A Policy holding only the
// document (&Policy{Policy: p}) is compiled as it is evaluated, and decides
// the same.
type Policy struct {
	*policy.Policy
	// statements parallels Policy.Statements; nil when not compiled.
	statements []compiled
}

// compiled is one statement's compiled form.
type compiled struct {
	actions    []actionPattern
	resources  []resourcePattern
	conditions []compiledCondition
}

// compiledCondition is one condition's compiled form.
type compiledCondition struct {
	op     policy.Operator
	lkey   string         // Key lower-cased
	values []valuePattern // Values compiled; nil when not compiled
}

// Parse reads a policy document (policy.Parse) and compiles it.
func Parse(data []byte) (*Policy, error) {
	p, err := policy.Parse(data)
	if err != nil {
		return nil, err
	}
	return Compile(p), nil
}

// Compile compiles a policy for evaluation. The policy must not change
// afterwards.
func Compile(p *policy.Policy) *Policy {
	out := &Policy{Policy: p, statements: make([]compiled, len(p.Statements))}
	for i := range p.Statements {
		out.statements[i] = compileStatement(&p.Statements[i], out.vars(), true)
	}
	return out
}

// compileStatement compiles a statement's patterns; values: its condition
// values too (else they are compiled as they are compared).
func compileStatement(st *policy.Statement, vars, values bool) compiled {
	c := compiled{actions: make([]actionPattern, len(st.Action.List))}
	for i, a := range st.Action.List {
		c.actions[i] = newActionPattern(a)
	}
	if st.Resource != nil {
		c.resources = make([]resourcePattern, len(st.Resource.List))
		for i, r := range st.Resource.List {
			c.resources[i] = newResourcePattern(r, vars)
		}
	}
	c.conditions = make([]compiledCondition, len(st.Conditions))
	for i := range st.Conditions {
		cond := &st.Conditions[i]
		cc := compiledCondition{op: cond.Op(), lkey: strings.ToLower(cond.Key)}
		if values {
			cc.values = make([]valuePattern, len(cond.Values))
			for j, v := range cond.Values {
				cc.values[j] = newValuePattern(cc.op, v.Text, vars)
			}
		}
		c.conditions[i] = cc
	}
	return c
}

// vars reports whether the policy reads policy variables (2012-10-17;
// earlier versions treat ${…} as literal text).
func (p *Policy) vars() bool { return p.Version == "2012-10-17" }

// statement returns statement i and its compiled form, compiling it now
// when the policy was not compiled.
func (p *Policy) statement(i int) (*policy.Statement, *compiled) {
	st := &p.Statements[i]
	if len(p.statements) == len(p.Statements) {
		return st, &p.statements[i]
	}
	c := compileStatement(st, p.vars(), false)
	return st, &c
}

// valuePattern is a condition value compiled for its operator, when it
// holds no policy variable (static).
type valuePattern struct {
	static bool
	str    pattern    // String operators
	arn    [6]pattern // ARN operators: the six components
	arnN   int
}

func newValuePattern(op policy.Operator, text string, vars bool) valuePattern {
	if vars && strings.Contains(text, "${") {
		return valuePattern{}
	}
	vp := valuePattern{static: true}
	switch op.Family {
	case policy.FamilyString:
		vp.str, _ = env{}.compile(text, op.Comparison == policy.CompareLike, false, false)
	case policy.FamilyARN:
		parts, n := arnFields(text, false)
		vp.arnN = n
		for i := 0; i < n; i++ {
			vp.arn[i], _ = env{}.compile(parts[i], true, false, false)
		}
	}
	return vp
}

// ConditionHolds decides condition j of statement i for the requests ctx
// describes: Maybe when that depends on what a scenario leaves open.
func (p *Policy) ConditionHolds(i, j int, ctx Context) Truth {
	st, cs := p.statement(i)
	return env{ctx: ctx, vars: p.vars()}.condition(&st.Conditions[j], &cs.conditions[j])
}

package eval

import (
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/policy"
)

// Request is what is being authorized: an action on a resource, with the
// request context.
type Request struct {
	// Action is "service:Action", e.g. "sts:AssumeRoot".
	Action string
	// Resource is the resource's ARN, or "*" for actions that name none.
	Resource string
	Context  Context
}

// Named is a policy with the caller's name for it (an ARN, a policy id),
// which evidence repeats.
type Named struct {
	Name   string
	Policy *Policy
}

// SCPTarget is the set of SCPs attached to one target: the organization
// root, an OU, or the account.
type SCPTarget struct {
	Target   string
	Policies []Named
}

// Policies are the policies that decide a principal's request within its
// account.
type Policies struct {
	// Identity: the principal's inline and attached policies (for a user,
	// also those of its groups). The root user's own permissions are not
	// policies: pass AllowAll for it.
	Identity []Named
	// Boundary is the permissions boundary, or nil.
	Boundary *Named
	// SCPs: one entry per level of the account's path, the organization
	// root first, then each OU, then the account. Empty when no SCP applies
	// (SCPs not enabled, or the management account: "SCPs never apply to
	// the management account" is the caller's to know).
	SCPs []SCPTarget
}

// AllowAll is an identity policy allowing everything: what the root user
// (whose permissions are not written in any policy) and AdministratorAccess
// have.
func AllowAll() *Policy {
	return Compile(&policy.Policy{Version: "2012-10-17", Statements: []policy.Statement{{
		Effect: policy.Allow, Action: policy.Values{List: []string{"*"}}, Resource: &policy.Values{List: []string{"*"}},
	}}})
}

// Layer is the kind of policy a statement came from.
type Layer int

// The layers of the evaluation.
const (
	LayerIdentity Layer = iota
	LayerBoundary
	LayerSCP
	LayerResource
)

func (l Layer) String() string {
	return [...]string{"identity", "permissions boundary", "SCP", "resource-based"}[l]
}

// Match is a statement that applies to the request, or, in a scenario, may
// apply (Pending says on what).
type Match struct {
	Layer Layer
	// Target is the SCP target the policy is attached to.
	Target    string
	Policy    string
	Statement *policy.Statement
	// Principal is how the statement's Principal matched (resource-based
	// policies only).
	Principal PrincipalMatch
	// Pending lists what a scenario leaves undecided; empty when the
	// statement applies outright.
	Pending []Pending
}

// Pending is one part of a statement a scenario could not decide: a
// condition, or a Resource pattern whose policy variable it does not know.
type Pending struct {
	Condition *policy.Condition
	Resource  string
}

func (p Pending) String() string {
	if p.Condition != nil {
		return p.Condition.String()
	}
	return fmt.Sprintf("Resource %q", p.Resource)
}

// applies is Yes for a statement that applies outright, Maybe for one
// that may.
func (m Match) applies() Truth {
	if len(m.Pending) == 0 {
		return Yes
	}
	return Maybe
}

func (m Match) String() string {
	var b strings.Builder
	b.WriteString(m.Layer.String())
	if m.Target != "" {
		b.WriteString(" on " + m.Target)
	}
	fmt.Fprintf(&b, " %s %s", m.Policy, m.Statement.Label())
	if len(m.Pending) > 0 {
		parts := make([]string, len(m.Pending))
		for i, p := range m.Pending {
			parts[i] = p.String()
		}
		b.WriteString(" if " + strings.Join(parts, " and "))
	}
	return b.String()
}

// Decision is the outcome of an evaluation.
type Decision int

// The decisions. Conditional only comes from scenarios: the request is
// allowed or not depending on what the scenario leaves open.
const (
	ImplicitDeny Decision = iota
	Allowed
	ExplicitDeny
	Conditional
)

func (d Decision) String() string {
	return [...]string{"implicit deny", "allow", "explicit deny", "conditional"}[d]
}

// Result is a decision with the statements that made it.
type Result struct {
	Decision Decision
	// Denies are the Deny statements that apply (or may apply), any layer.
	Denies []Match
	// Allows are the Allow statements that apply (or may apply), every
	// layer.
	Allows []Match
	// Missing names each layer with no Allow that applies or may apply:
	// why a request is implicitly denied.
	Missing []string
}

// Evaluate decides a request the way IAM's "Policy evaluation logic"
// does within one account: a Deny that applies in any policy decides
// (explicit deny); otherwise the identity policies must allow, the
// permissions boundary (if any) must allow, and an SCP must allow at every
// level of the account's path; else the request is implicitly denied.
//
// With a scenario (Scenario) a statement whose conditions depend on what
// the scenario leaves open may apply; the decision is Conditional when the
// outcome depends on them, and the Matches say on what.
func Evaluate(req Request, p Policies) Result {
	var r Result
	layer := func(l Layer, target string, named []Named) Truth {
		allowed := No
		for _, n := range named {
			allows, denies := matches(req, l, target, n, nil)
			r.Denies = append(r.Denies, denies...)
			r.Allows = append(r.Allows, allows...)
			for _, m := range allows {
				allowed = allowed.Or(m.applies())
			}
		}
		return allowed
	}
	var missing []string
	need := func(t Truth, what string) Truth {
		if t == No {
			missing = append(missing, what)
		}
		return t
	}
	allowed := need(layer(LayerIdentity, "", p.Identity), "identity policies")
	if p.Boundary != nil {
		allowed = allowed.And(need(layer(LayerBoundary, "", []Named{*p.Boundary}), "permissions boundary "+p.Boundary.Name))
	}
	for _, t := range p.SCPs {
		allowed = allowed.And(need(layer(LayerSCP, t.Target, t.Policies), "SCPs attached to "+t.Target))
	}
	r.Missing = missing
	denied := No
	for _, m := range r.Denies {
		denied = denied.Or(m.applies())
	}
	switch {
	case denied == Yes:
		r.Decision = ExplicitDeny
	case allowed == No:
		r.Decision = ImplicitDeny
	case allowed == Yes && denied == No:
		r.Decision = Allowed
	default:
		r.Decision = Conditional
	}
	return r
}

// matches returns the statements of one policy that apply (or may apply)
// to the request. principal, for resource-based policies, says whether and
// how a statement's Principal names the caller; nil for the other layers.
func matches(req Request, l Layer, target string, n Named, principal func(*policy.Statement) (PrincipalMatch, bool)) (allows, denies []Match) {
	if n.Policy == nil {
		return nil, nil
	}
	e := env{ctx: req.Context, vars: n.Policy.vars()}
	for i := range n.Policy.Statements {
		st, cs := n.Policy.statement(i)
		var how PrincipalMatch
		if principal != nil {
			var ok bool
			if how, ok = principal(st); !ok {
				continue
			}
		}
		applies, pending := e.statement(st, cs, req)
		if applies == No {
			continue
		}
		m := Match{Layer: l, Target: target, Policy: n.Name, Statement: st, Principal: how, Pending: pending}
		if st.Effect == policy.Deny {
			denies = append(denies, m)
		} else {
			allows = append(allows, m)
		}
	}
	return allows, denies
}

// statement decides whether a statement applies to the request: its
// action, its resource and all its conditions. Principal elements are not
// read here (identity policies, boundaries and SCPs have none).
func (e env) statement(st *policy.Statement, cs *compiled, req Request) (Truth, []Pending) {
	if !actionCovered(st, cs, req.Action) {
		return No, nil
	}
	res, pending := e.resourceCovered(st, cs, req.Resource)
	if res == No {
		return No, nil
	}
	result := res
	for i := range st.Conditions {
		c := &st.Conditions[i]
		switch e.condition(c, &cs.conditions[i]) {
		case No:
			return No, nil
		case Maybe:
			result = Maybe
			pending = append(pending, Pending{Condition: c})
		}
	}
	return result, pending
}

func actionCovered(st *policy.Statement, cs *compiled, action string) bool {
	for _, a := range cs.actions {
		if a.match(action) {
			return !st.NotAction
		}
	}
	return st.NotAction
}

func (e env) resourceCovered(st *policy.Statement, cs *compiled, resource string) (Truth, []Pending) {
	if st.Resource == nil {
		return Yes, nil
	}
	any := No
	var pending []Pending
	for i, rp := range cs.resources {
		t := rp.match(e, resource)
		if t == Maybe {
			pending = append(pending, Pending{Resource: st.Resource.List[i]})
		}
		any = any.Or(t)
	}
	if st.NotResource {
		any = any.Not()
	}
	if any != Maybe {
		pending = nil
	}
	return any, pending
}

// ValueResult is the decision for one value of a context key.
type ValueResult struct {
	Value  Value
	Result Result
}

// EvaluateValues evaluates the request once for each value of key: for
// example, for which task policies (sts:TaskPolicyArn) sts:AssumeRoot on
// a member's root is allowed.
func EvaluateValues(req Request, p Policies, key string, values []Value) []ValueResult {
	out := make([]ValueResult, len(values))
	for i, v := range values {
		r := req
		r.Context = req.Context.With(key, v)
		out[i] = ValueResult{Value: v, Result: Evaluate(r, p)}
	}
	return out
}

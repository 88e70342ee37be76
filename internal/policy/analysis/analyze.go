package analysis

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rootwatch/rootwatch/internal/policy"
	"github.com/rootwatch/rootwatch/internal/policy/eval"
)

// Coverage is what one statement covers of "every action on every
// resource", and whether its conditions hold, for the requests a scenario
// describes. For a Deny statement in an SCP and the root user's scenario
// (RootScenario) it answers "does this deny everything to this root, and
// if not, what is left open".
type Coverage struct {
	Statement *policy.Statement
	// AllActions: Action holds "*". Otherwise Actions are the only actions
	// covered, or NotActions (NotAction) those left out.
	AllActions bool
	Actions    []string
	NotActions []string
	// AllResources: Resource holds "*" (or the statement names no
	// resource). Otherwise Resources are the only resources covered, or
	// NotResources those left out.
	AllResources bool
	Resources    []string
	NotResources []string
	// Applies says whether every condition holds for the scenario's
	// requests (eval.Yes), whether one cannot (eval.No: the statement does not apply
	// to them, e.g. an ArnNotLike exemption names the principal), or whether
	// that depends on what the scenario leaves open (eval.Maybe: a condition on
	// the region, a tag, the source address).
	Applies    eval.Truth
	Conditions []ConditionOutcome
}

// ConditionOutcome is one condition decided for a scenario.
type ConditionOutcome struct {
	Condition *policy.Condition
	Holds     eval.Truth
}

// StatementCoverage analyses statement i of a policy for a scenario.
func StatementCoverage(p *eval.Policy, i int, scenario eval.Context) Coverage {
	st := &p.Statements[i]
	c := Coverage{Statement: st, Applies: eval.Yes}
	c.AllActions, c.Actions, c.NotActions = cover(st.Action.List, st.NotAction)
	c.AllResources = true
	if st.Resource != nil {
		c.AllResources, c.Resources, c.NotResources = cover(st.Resource.List, st.NotResource)
	}
	for j := range st.Conditions {
		cond := &st.Conditions[j]
		holds := p.ConditionHolds(i, j, scenario)
		c.Conditions = append(c.Conditions, ConditionOutcome{Condition: cond, Holds: holds})
		c.Applies = c.Applies.And(holds)
	}
	return c
}

// cover reads an Action/NotAction or Resource/NotResource list: all (a
// "*" in the positive form), only the listed ones, or all but them.
func cover(list []string, not bool) (all bool, only, except []string) {
	switch {
	case not:
		return false, nil, list
	case slices.Contains(list, "*"):
		return true, nil, nil
	}
	return false, list, nil
}

// Complete reports whether the statement covers every action on every
// resource for every request of the scenario.
func (c Coverage) Complete() bool {
	return c.AllActions && c.AllResources && c.Applies == eval.Yes
}

// Gaps lists, in words, what keeps the statement from being complete: the
// actions and resources it leaves out and the conditions that do not hold
// or that the scenario cannot decide.
func (c Coverage) Gaps() []string {
	var gaps []string
	if len(c.NotActions) > 0 {
		gaps = append(gaps, "NotAction leaves out "+strings.Join(c.NotActions, ", "))
	}
	if len(c.Actions) > 0 {
		gaps = append(gaps, "Action covers only "+strings.Join(c.Actions, ", "))
	}
	if len(c.NotResources) > 0 {
		gaps = append(gaps, "NotResource leaves out "+strings.Join(c.NotResources, ", "))
	}
	if len(c.Resources) > 0 {
		gaps = append(gaps, "Resource covers only "+strings.Join(c.Resources, ", "))
	}
	for _, o := range c.Conditions {
		switch o.Holds {
		case eval.No:
			gaps = append(gaps, "condition does not hold: "+o.Condition.String())
		case eval.Maybe:
			gaps = append(gaps, "condition not always met: "+o.Condition.String())
		}
	}
	return gaps
}

// TargetCoverage is the coverage of one Deny statement of an SCP attached
// to a target on an account's path.
type TargetCoverage struct {
	Target string
	Policy string
	Coverage
}

// DenyCoverages analyses every Deny statement of the SCPs in force for an
// account (root first, each OU, the account) for a scenario. The account
// is covered when one of them is Complete; the others say what is left
// open (Gaps) or whom they exempt (Applies eval.No).
func DenyCoverages(scps []eval.SCPTarget, scenario eval.Context) []TargetCoverage {
	var out []TargetCoverage
	eachDeny(scps, scenario, func(tc TargetCoverage, _ *eval.Policy, _ int) { out = append(out, tc) })
	return out
}

// eachDeny calls fn with the coverage of every Deny statement of the SCPs,
// in order, with the policy it is in and its index there.
func eachDeny(scps []eval.SCPTarget, scenario eval.Context, fn func(TargetCoverage, *eval.Policy, int)) {
	for _, t := range scps {
		for _, n := range t.Policies {
			if n.Policy == nil {
				continue
			}
			for i := range n.Policy.Statements {
				if n.Policy.Statements[i].Effect == policy.Deny {
					fn(TargetCoverage{Target: t.Target, Policy: n.Name, Coverage: StatementCoverage(n.Policy, i, scenario)}, n.Policy, i)
				}
			}
		}
	}
}

var rootARN = regexp.MustCompile(`^arn:([a-z][a-z0-9-]*):iam::([0-9]{12}):root$`)

// RootScenario describes the requests an account's root user makes when it
// signs in with its own credentials and calls AWS directly, from the IAM
// User Guide's "AWS global condition context keys" and the "Principal key
// values" table of "Variables and tags":
//   - aws:PrincipalArn is arn:<partition>:iam::<account>:root,
//     aws:PrincipalAccount and aws:userid the account id, aws:PrincipalType
//     "Account";
//   - aws:PrincipalIsAWSService and aws:ViaAWSService are false ("false when
//     the principal makes the call directly");
//   - aws:username is absent ("requests that are made using the AWS account
//     root user … do not include this key"), and so is aws:AssumedRoot,
//     which is true only in sessions opened with sts:AssumeRoot.
//
// Every other key (region, source address, MFA, tags, time) is left open.
// More known keys (aws:PrincipalOrgID) can be added with With.
func RootScenario(principalARN string) (eval.Context, error) {
	m := rootARN.FindStringSubmatch(principalARN)
	if m == nil {
		return eval.Context{}, fmt.Errorf("%q is not a root user eval.ARN (arn:<partition>:iam::<account>:root)", principalARN)
	}
	return eval.Scenario(map[string]eval.Value{
		"aws:PrincipalArn":          eval.ARN(principalARN),
		"aws:PrincipalAccount":      eval.String(m[2]),
		"aws:userid":                eval.String(m[2]),
		"aws:PrincipalType":         eval.String("Account"),
		"aws:PrincipalIsAWSService": eval.Bool(false),
		"aws:ViaAWSService":         eval.Bool(false),
	}, "aws:username", "aws:AssumedRoot"), nil
}

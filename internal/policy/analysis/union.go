package analysis

import (
	"slices"
	"strings"

	"github.com/rootwatch/rootwatch/internal/policy"
	"github.com/rootwatch/rootwatch/internal/policy/eval"
)

// DenyUnion decides whether the Deny statements of the SCPs in force for an
// account together cover every action on every resource for every request
// of a scenario, when no single one does (Coverage.Complete): a Deny of
// every action in one region beside a Deny of every action outside it, or
// AWS's NotAction sample beside a Deny of exactly the actions it leaves out.
// It answers yes only when it can show it, and then returns the statements
// that do it; anything it cannot decide counts as a hole.
//
// Actions are split into classes: the actions no NotAction list names, and,
// for each entry of each NotAction list, the actions it names. A statement
// counts for a class only when it surely covers all of the class: Action
// "*" always; a NotAction statement only the first class; an Action list
// only a class whose entry one of its patterns includes. Resources: only
// statements on every resource count. Conditions: within a class, one of
// the counted statements must apply outright, or their undecided
// conditions must be equality tests (String equality, StringLike without
// wildcards, Bool, Null; no set operators, no policy variables) on keys
// whose every value class can be tried: absent, each value the conditions
// name, any other value, and for keys not known to be single-valued a set
// of values. Every combination must leave one statement applying.
func DenyUnion(scps []eval.SCPTarget, scenario eval.Context) (bool, []TargetCoverage) {
	var parts []unionPart
	eachDeny(scps, scenario, func(tc TargetCoverage, p *eval.Policy, i int) {
		if tc.AllResources && tc.Applies != eval.No {
			parts = append(parts, unionPart{tc, p, i})
		}
	})
	// The class of actions no NotAction list names.
	var others, notActions []int
	for i, p := range parts {
		switch {
		case p.AllActions:
			others = append(others, i)
		case len(p.NotActions) > 0:
			others = append(others, i)
			notActions = append(notActions, i)
		}
	}
	used := map[int]bool{}
	ok, by := coversAll(parts, others, scenario)
	if !ok {
		return false, nil
	}
	for _, i := range by {
		used[i] = true
	}
	// Each action a NotAction list leaves out.
	for _, n := range notActions {
		for _, left := range parts[n].NotActions {
			var class []int
			for i, p := range parts {
				if p.AllActions || slices.ContainsFunc(p.Actions, func(q string) bool { return actionIncludes(q, left) }) {
					class = append(class, i)
				}
			}
			ok, by := coversAll(parts, class, scenario)
			if !ok {
				return false, nil
			}
			for _, i := range by {
				used[i] = true
			}
		}
	}
	var out []TargetCoverage
	for i, p := range parts {
		if used[i] {
			out = append(out, p.TargetCoverage)
		}
	}
	return true, out
}

type unionPart struct {
	TargetCoverage
	policy    *eval.Policy
	statement int // the statement's index in policy
}

// maxCombinations bounds the value combinations coversAll tries; beyond
// it the statements count as leaving a hole.
const maxCombinations = 4096

// coversAll reports whether, for every request of the scenario, one of the
// statements idx applies, and which statements it took.
func coversAll(parts []unionPart, idx []int, scenario eval.Context) (bool, []int) {
	for _, i := range idx {
		if parts[i].Applies == eval.Yes {
			return true, []int{i}
		}
	}
	type keyValues struct {
		name     string
		literals []string
	}
	keys := map[string]*keyValues{}
	var usable []int
	for _, i := range idx {
		open := false
		for _, o := range parts[i].Conditions {
			if o.Holds == eval.Maybe && !enumerable(o.Condition) {
				open = true
			}
		}
		if open {
			continue
		}
		usable = append(usable, i)
		for _, o := range parts[i].Conditions {
			if o.Holds != eval.Maybe {
				continue
			}
			c := o.Condition
			lk := strings.ToLower(c.Key)
			k := keys[lk]
			if k == nil {
				k = &keyValues{name: c.Key}
				keys[lk] = k
			}
			if c.Op().Family != policy.FamilyNull {
				for _, v := range c.Values {
					if !slices.Contains(k.literals, v.Text) {
						k.literals = append(k.literals, v.Text)
					}
				}
			}
		}
	}
	if len(usable) == 0 {
		return false, nil
	}
	// The value classes of each key; a nil *eval.Value is "absent".
	names := make([]string, 0, len(keys))
	for lk := range keys {
		names = append(names, lk)
	}
	slices.Sort(names)
	reps := make([][]*eval.Value, len(names))
	total := 1
	for i, lk := range names {
		k := keys[lk]
		r := []*eval.Value{nil}
		boolean := booleanKeys[lk]
		lits := k.literals
		if boolean {
			lits = append(slices.Clone(lits), "true", "false")
		}
		seen := map[string]bool{}
		for _, l := range lits {
			if !seen[l] {
				seen[l] = true
				v := eval.String(l)
				r = append(r, &v)
			}
		}
		if !boolean {
			other := "rootwatch-other-value"
			for seen[other] {
				other += "+"
			}
			v := eval.String(other)
			r = append(r, &v)
		}
		if !singleValued(lk) {
			set, empty := eval.Strings(k.literals...), eval.Strings()
			r = append(r, &set, &empty)
		}
		reps[i] = r
		total *= len(r)
		if total > maxCombinations {
			return false, nil
		}
	}
	used := map[int]bool{}
	choice := make([]int, len(names))
	for {
		ctx := scenario
		for i, lk := range names {
			if v := reps[i][choice[i]]; v == nil {
				ctx = ctx.Without(keys[lk].name)
			} else {
				ctx = ctx.With(keys[lk].name, *v)
			}
		}
		found := false
		for _, i := range usable {
			all := eval.Yes
			for j := range parts[i].Statement.Conditions {
				all = all.And(parts[i].policy.ConditionHolds(parts[i].statement, j, ctx))
			}
			if all == eval.Yes {
				found = true
				used[i] = true
				break
			}
		}
		if !found {
			return false, nil
		}
		// Next combination.
		k := 0
		for ; k < len(choice); k++ {
			choice[k]++
			if choice[k] < len(reps[k]) {
				break
			}
			choice[k] = 0
		}
		if k == len(choice) {
			break
		}
	}
	var out []int
	for _, i := range usable {
		if used[i] {
			out = append(out, i)
		}
	}
	return true, out
}

// enumerable reports whether a condition only tests its key for equality
// with values it names (or for presence), so that trying absent, each
// named value and one other value decides it for every request.
func enumerable(c *policy.Condition) bool {
	op, err := policy.ParseOperator(c.Operator)
	if err != nil || op.Set != policy.SetNone {
		return false
	}
	for _, v := range c.Values {
		if strings.Contains(v.Text, "${") {
			return false
		}
	}
	switch op.Family {
	case policy.FamilyNull, policy.FamilyBool:
		return true
	case policy.FamilyString:
		switch op.Comparison {
		case policy.CompareEqual:
			return true
		case policy.CompareLike:
			return !slices.ContainsFunc(c.Values, func(v policy.ConditionValue) bool { return strings.ContainsAny(v.Text, "*?") })
		}
	}
	return false
}

// booleanKeys are global condition keys whose value, when present, is
// true or false ("AWS global condition context keys", Data type Boolean).
var booleanKeys = map[string]bool{
	"aws:securetransport": true, "aws:multifactorauthpresent": true, "aws:viaawsservice": true,
	"aws:principalisawsservice": true, "aws:assumedroot": true,
}

// singleValued reports whether a key is a global condition key documented
// as single-valued; any other key may carry a set of values.
func singleValued(lk string) bool {
	switch lk {
	case "aws:requestedregion", "aws:sourceip", "aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip",
		"aws:securetransport", "aws:multifactorauthpresent", "aws:multifactorauthage", "aws:currenttime",
		"aws:epochtime", "aws:tokenissuetime", "aws:principalorgid", "aws:principalaccount", "aws:principalarn",
		"aws:resourceaccount", "aws:resourceorgid", "aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid",
		"aws:calledviafirst", "aws:calledvialast", "aws:viaawsservice", "aws:principalisawsservice",
		"aws:federatedprovider", "aws:referer", "aws:useragent", "aws:userid", "aws:username",
		"aws:principaltype", "aws:assumedroot", "aws:sourceidentity", "aws:ec2instancesourcevpc":
		return true
	}
	for _, prefix := range []string{"aws:principaltag/", "aws:requesttag/", "aws:resourcetag/"} {
		if strings.HasPrefix(lk, prefix) {
			return true
		}
	}
	return false
}

// actionIncludes reports whether every action the pattern inner names is
// named by outer too. It answers yes only when it can show it: outer's *
// may stand for any run of inner (wildcards included), outer's ? for one
// literal character or ? of inner, and literals must be the same letters.
func actionIncludes(outer, inner string) bool {
	if outer == "*" {
		return true
	}
	if inner == "*" {
		return false
	}
	os, on, ok1 := strings.Cut(outer, ":")
	is, in, ok2 := strings.Cut(inner, ":")
	if !ok1 || !ok2 || !strings.EqualFold(os, is) {
		return false
	}
	o, i := []rune(strings.ToLower(on)), []rune(strings.ToLower(in))
	// inc[a][b]: outer[a:] includes inner[b:].
	inc := make([][]bool, len(o)+1)
	for a := range inc {
		inc[a] = make([]bool, len(i)+1)
	}
	inc[len(o)][len(i)] = true
	for a := len(o) - 1; a >= 0; a-- {
		for b := len(i); b >= 0; b-- {
			switch o[a] {
			case '*':
				inc[a][b] = inc[a+1][b] || (b < len(i) && inc[a][b+1])
			case '?':
				inc[a][b] = b < len(i) && i[b] != '*' && inc[a+1][b+1]
			default:
				inc[a][b] = b < len(i) && i[b] != '*' && i[b] != '?' && o[a] == i[b] && inc[a+1][b+1]
			}
		}
	}
	return inc[0][0]
}

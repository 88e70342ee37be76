package policy

import "strings"

// Parse compiles, once, what evaluation would otherwise compile for every
// request: action and resource patterns, condition keys and the condition
// values that hold no policy variable. A Statement built by hand has none
// of it, and is compiled as it is evaluated.

// prepare fills a parsed statement's compiled forms. vars: the policy reads
// policy variables (2012-10-17).
func (st *Statement) prepare(vars bool) {
	st.actions = make([]actionPattern, len(st.Action.List))
	for i, a := range st.Action.List {
		st.actions[i] = newActionPattern(a)
	}
	if st.Resource != nil {
		st.resources = make([]resourcePattern, len(st.Resource.List))
		for i, r := range st.Resource.List {
			st.resources[i] = newResourcePattern(r, vars)
		}
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		c.lkey = strings.ToLower(c.Key)
		c.values = make([]valuePattern, len(c.Values))
		for j, v := range c.Values {
			c.values[j] = newValuePattern(c.op, v.Text, vars)
		}
	}
}

// valuePattern is a condition value compiled for its operator, when it
// holds no policy variable (static).
type valuePattern struct {
	static bool
	str    pattern    // String operators
	arn    [6]pattern // ARN operators: the six components
	arnN   int
}

func newValuePattern(op operator, text string, vars bool) valuePattern {
	if vars && strings.Contains(text, "${") {
		return valuePattern{}
	}
	vp := valuePattern{static: true}
	switch op.fam {
	case famString:
		vp.str, _ = env{}.compile(text, op.cmp == cmpLike, false, false)
	case famARN:
		parts, n := arnFields(text, false)
		vp.arnN = n
		for i := 0; i < n; i++ {
			vp.arn[i], _ = env{}.compile(parts[i], true, false, false)
		}
	}
	return vp
}

// actionPatterns returns the statement's compiled Action entries.
func (st *Statement) actionPatterns() []actionPattern {
	if len(st.actions) == len(st.Action.List) {
		return st.actions
	}
	out := make([]actionPattern, len(st.Action.List))
	for i, a := range st.Action.List {
		out[i] = newActionPattern(a)
	}
	return out
}

// resourcePatterns returns the statement's compiled Resource entries.
func (st *Statement) resourcePatterns(vars bool) []resourcePattern {
	if len(st.resources) == len(st.Resource.List) {
		return st.resources
	}
	out := make([]resourcePattern, len(st.Resource.List))
	for i, r := range st.Resource.List {
		out[i] = newResourcePattern(r, vars)
	}
	return out
}

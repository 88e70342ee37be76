package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// Effect is a statement's Effect.
type Effect string

// The two effects IAM knows. Anything else, in any other casing, is refused.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed policy document, faithful enough to be printed back
// (MarshalJSON) as evidence.
type Policy struct {
	// Version is the policy language version, "" when the document has
	// none (then policy variables are literal text, as in 2008-10-17).
	Version string
	// ID is the Id element; HasID tells an absent Id from an empty one.
	ID    string
	HasID bool
	// Statements in document order; Statement[i].Index is i.
	Statements []Statement
	// StatementArray records that Statement was written as a list.
	StatementArray bool
}

// Statement is one statement of a policy. Exactly one of Action/NotAction
// is set (NotAction tells which); Resource/NotResource and
// Principal/NotPrincipal likewise, or neither.
type Statement struct {
	Index  int
	Sid    string
	HasSid bool
	Effect Effect

	// Principal is nil when the statement has no Principal/NotPrincipal.
	Principal    *Principal
	NotPrincipal bool

	Action    Values
	NotAction bool

	// Resource is nil when the statement names no Resource/NotResource
	// (role trust policies): then it applies to any resource.
	Resource    *Values
	NotResource bool

	// Conditions in document order, one per (operator, key) pair; all must
	// hold.
	Conditions []Condition
}

// Values is an element that is a string or a list of strings, as written.
type Values struct {
	List []string
	// Array records that the element was written as a JSON array.
	Array bool
}

// Principal is a Principal or NotPrincipal element: "*" or a map of
// principal types (AWS, Service, Federated, CanonicalUser) to values.
type Principal struct {
	Any     bool // written as "*"
	Entries []PrincipalEntry
}

// PrincipalEntry is one principal type of a Principal map.
type PrincipalEntry struct {
	Type   string
	Values Values
}

// Condition is one condition key under one operator: all of a statement's
// conditions must hold; the values of one condition are ORed (NORed for
// negated operators).
type Condition struct {
	// Operator and Key as written, e.g. "ForAnyValue:StringLike" and
	// "aws:PrincipalArn". Keys are matched case-insensitively.
	Operator string
	Key      string
	Values   []ConditionValue
	// Array records that the values were written as a JSON array.
	Array bool

	op Operator // Operator parsed (Parse); Op reads it
}

// ConditionValue is a condition value with the JSON type it was written
// in ("true" and true mean the same to IAM, but evidence shows which).
type ConditionValue struct {
	Text string
	Type ValueType
}

// ValueType is the JSON type of a condition value.
type ValueType int

// JSON types a condition value may have.
const (
	TypeString ValueType = iota
	TypeNumber
	TypeBool
)

// Error says why a policy cannot be read: which statement (index and Sid)
// and which field.
type Error struct {
	// Statement is the statement's index, or -1 for the document itself.
	Statement int
	Sid       string
	Field     string
	Reason    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("policy")
	if e.Statement >= 0 {
		fmt.Fprintf(&b, ": Statement[%d]", e.Statement)
		if e.Sid != "" {
			fmt.Fprintf(&b, " (Sid %q)", e.Sid)
		}
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	return b.String() + ": " + e.Reason
}

// Parse reads a policy document as AWS writes it: Statement as an object
// or a list, every list element as a string or a list, condition values as
// strings, numbers or booleans. It refuses what IAM refuses — malformed
// JSON, duplicate keys, unknown elements or effects, an action without a
// service prefix or with a wildcard in it, a resource that is neither "*"
// nor an ARN, an unknown condition operator — so that a document it
// accepts is read as AWS reads it.
func Parse(data []byte) (*Policy, error) {
	root, err := decodeJSON(data)
	if err != nil {
		return nil, &Error{Statement: -1, Reason: "not valid JSON: " + err.Error()}
	}
	docErr := func(field, format string, a ...any) error {
		return &Error{Statement: -1, Field: field, Reason: fmt.Sprintf(format, a...)}
	}
	if root.kind != jsonObject {
		return nil, docErr("", "the document is %s, not an object", root.kind)
	}
	p := &Policy{}
	var statements *jnode
	for i, k := range root.keys {
		v := root.vals[i]
		switch k {
		case "Version":
			if v.kind != jsonString || (v.text != "2012-10-17" && v.text != "2008-10-17") {
				return nil, docErr(k, `must be "2012-10-17" or "2008-10-17"`)
			}
			p.Version = v.text
		case "Id":
			if v.kind != jsonString {
				return nil, docErr(k, "must be a string, not %s", v.kind)
			}
			p.ID, p.HasID = v.text, true
		case "Statement":
			statements = v
		default:
			return nil, docErr(k, "unknown element (a policy has Version, Id and Statement)")
		}
	}
	if statements == nil {
		return nil, docErr("Statement", "missing")
	}
	var list []*jnode
	switch statements.kind {
	case jsonObject:
		list = []*jnode{statements}
	case jsonArray:
		p.StatementArray = true
		list = statements.vals
	default:
		return nil, docErr("Statement", "must be an object or a list of objects, not %s", statements.kind)
	}
	for i, sn := range list {
		st, err := parseStatement(sn, i)
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(n *jnode, index int) (Statement, error) {
	st := Statement{Index: index}
	fail := func(field, format string, a ...any) error {
		return &Error{Statement: index, Sid: st.Sid, Field: field, Reason: fmt.Sprintf(format, a...)}
	}
	if n.kind != jsonObject {
		return st, fail("", "a statement must be an object, not %s", n.kind)
	}
	// Sid first, so that every later error can name it.
	if sid := n.field("Sid"); sid != nil {
		if sid.kind != jsonString {
			return st, fail("Sid", "must be a string, not %s", sid.kind)
		}
		st.Sid, st.HasSid = sid.text, true
	}
	var hasAction, hasEffect bool
	for i, k := range n.keys {
		v := n.vals[i]
		var err error
		switch k {
		case "Sid":
		case "Effect":
			if v.kind != jsonString || (v.text != string(Allow) && v.text != string(Deny)) {
				return st, fail(k, `must be "Allow" or "Deny"`)
			}
			st.Effect, hasEffect = Effect(v.text), true
		case "Action", "NotAction":
			if hasAction {
				return st, fail(k, "a statement has Action or NotAction, not both")
			}
			hasAction, st.NotAction = true, k == "NotAction"
			if st.Action, err = stringList(v); err != nil {
				return st, fail(k, "%v", err)
			}
			for _, a := range st.Action.List {
				if err := checkAction(a); err != nil {
					return st, fail(k, "%q: %v", a, err)
				}
			}
		case "Resource", "NotResource":
			if st.Resource != nil {
				return st, fail(k, "a statement has Resource or NotResource, not both")
			}
			vals, err := stringList(v)
			if err != nil {
				return st, fail(k, "%v", err)
			}
			for _, r := range vals.List {
				if r != "*" && !strings.HasPrefix(r, "arn:") {
					return st, fail(k, "%q must be in ARN format or \"*\"", r)
				}
			}
			st.Resource, st.NotResource = &vals, k == "NotResource"
		case "Principal", "NotPrincipal":
			if st.Principal != nil {
				return st, fail(k, "a statement has Principal or NotPrincipal, not both")
			}
			if st.Principal, err = parsePrincipal(v); err != nil {
				return st, fail(k, "%v", err)
			}
			st.NotPrincipal = k == "NotPrincipal"
		case "Condition":
			if st.Conditions, err = parseConditions(v); err != nil {
				return st, fail("Condition", "%v", err)
			}
		default:
			return st, fail(k, "unknown element")
		}
	}
	if !hasEffect {
		return st, fail("Effect", "missing")
	}
	if !hasAction {
		return st, fail("Action", "missing (a statement needs Action or NotAction)")
	}
	return st, nil
}

// stringList reads a string or a non-empty list of strings.
func stringList(n *jnode) (Values, error) {
	switch n.kind {
	case jsonString:
		return Values{List: []string{n.text}}, nil
	case jsonArray:
		if len(n.vals) == 0 {
			return Values{}, fmt.Errorf("an empty list")
		}
		v := Values{Array: true}
		for i, e := range n.vals {
			if e.kind != jsonString {
				return Values{}, fmt.Errorf("[%d] is %s, not a string", i, e.kind)
			}
			v.List = append(v.List, e.text)
		}
		return v, nil
	}
	return Values{}, fmt.Errorf("must be a string or a list of strings, not %s", n.kind)
}

// checkAction applies IAM's checks: "*", or a service prefix without
// wildcards ("Action vendors must not contain wildcards"), one colon
// ("Actions/Condition can contain only one colon"), and an action name.
func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	svc, name, ok := strings.Cut(a, ":")
	switch {
	case !ok:
		return fmt.Errorf(`needs a service prefix ("service:Action") or is "*"`)
	case strings.Contains(name, ":"):
		return fmt.Errorf("can contain only one colon")
	case svc == "":
		return fmt.Errorf("has an empty service prefix")
	case strings.ContainsAny(svc, "*?"):
		return fmt.Errorf("the service prefix must not contain wildcards")
	}
	return nil
}

func parsePrincipal(n *jnode) (*Principal, error) {
	switch n.kind {
	case jsonString:
		if n.text != "*" {
			return nil, fmt.Errorf(`a string principal must be "*", not %q`, n.text)
		}
		return &Principal{Any: true}, nil
	case jsonObject:
		if len(n.keys) == 0 {
			return nil, fmt.Errorf("an empty principal map")
		}
		p := &Principal{}
		for i, k := range n.keys {
			switch k {
			case "AWS", "Service", "Federated", "CanonicalUser":
			default:
				return nil, fmt.Errorf("unknown principal type %q (AWS, Service, Federated, CanonicalUser)", k)
			}
			vals, err := stringList(n.vals[i])
			if err != nil {
				return nil, fmt.Errorf("%s: %v", k, err)
			}
			p.Entries = append(p.Entries, PrincipalEntry{Type: k, Values: vals})
		}
		return p, nil
	}
	return nil, fmt.Errorf(`must be "*" or a map of principal types, not %s`, n.kind)
}

func parseConditions(n *jnode) ([]Condition, error) {
	if n.kind != jsonObject {
		return nil, fmt.Errorf("must be an object of condition operators, not %s", n.kind)
	}
	var conds []Condition
	for i, opName := range n.keys {
		op, err := ParseOperator(opName)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", opName, err)
		}
		block := n.vals[i]
		if block.kind != jsonObject {
			return nil, fmt.Errorf("%s: must be an object of condition keys, not %s", opName, block.kind)
		}
		for j, key := range block.keys {
			where := opName + "." + key
			if key == "" {
				return nil, fmt.Errorf("%s: an empty condition key", opName)
			}
			c := Condition{Operator: opName, Key: key, op: op}
			v := block.vals[j]
			elems := []*jnode{v}
			if v.kind == jsonArray {
				c.Array, elems = true, v.vals
			}
			for k, e := range elems {
				cv, ok := conditionValue(e)
				if !ok {
					if c.Array {
						return nil, fmt.Errorf("%s[%d]: a condition value must be a string, number or boolean, not %s", where, k, e.kind)
					}
					return nil, fmt.Errorf("%s: a condition value must be a string, number or boolean (or a list of them), not %s", where, e.kind)
				}
				c.Values = append(c.Values, cv)
			}
			conds = append(conds, c)
		}
	}
	return conds, nil
}

func conditionValue(n *jnode) (ConditionValue, bool) {
	switch n.kind {
	case jsonString:
		return ConditionValue{Text: n.text, Type: TypeString}, true
	case jsonNumber:
		return ConditionValue{Text: n.text, Type: TypeNumber}, true
	case jsonBool:
		return ConditionValue{Text: n.text, Type: TypeBool}, true
	}
	return ConditionValue{}, false
}

// Texts returns a condition's values as strings.
func (c *Condition) Texts() []string {
	out := make([]string, len(c.Values))
	for i, v := range c.Values {
		out[i] = v.Text
	}
	return out
}

// String renders a condition as `Operator {"Key": values}` for evidence.
func (c *Condition) String() string {
	vals := make([]string, len(c.Values))
	for i, v := range c.Values {
		if v.Type == TypeString {
			vals[i] = strconv.Quote(v.Text)
		} else {
			vals[i] = v.Text
		}
	}
	list := strings.Join(vals, ", ")
	if c.Array {
		list = "[" + list + "]"
	}
	return fmt.Sprintf("%s {%q: %s}", c.Operator, c.Key, list)
}

// Label names a statement for evidence: its Sid when it has one, else its
// position.
func (s *Statement) Label() string {
	if s.Sid != "" {
		return fmt.Sprintf("Statement[%d] (Sid %q)", s.Index, s.Sid)
	}
	return fmt.Sprintf("Statement[%d]", s.Index)
}

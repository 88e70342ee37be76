package logfilter

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Match reports whether the pattern matches one log event: its message
// text (for CloudTrail, the record's JSON). A JSON pattern never matches a
// message that is not a JSON object.
func (p *Pattern) Match(message []byte) bool {
	if p.terms != nil {
		return p.terms.match(string(message))
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(message)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return false
	}
	if _, ok := v.(map[string]any); !ok {
		return false
	}
	return p.json.eval(v)
}

func (n andNode) eval(v any) bool { return n.left.eval(v) && n.right.eval(v) }
func (n orNode) eval(v any) bool  { return n.left.eval(v) || n.right.eval(v) }

// lookup follows the selector; found is false when a step is missing.
func (s selector) lookup(v any) (any, bool) {
	for _, st := range s {
		if st.index >= 0 {
			arr, ok := v.([]any)
			if !ok || st.index >= len(arr) {
				return nil, false
			}
			v = arr[st.index]
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[st.key]; !ok {
			return nil, false
		}
	}
	return v, true
}

func (n cmpNode) eval(root any) bool {
	v, found := n.sel.lookup(root)
	switch n.op {
	case "notexists":
		return !found
	case "null":
		return found && v == nil
	case "true", "false":
		b, ok := v.(bool)
		return found && ok && b == (n.op == "true")
	}
	if !found || v == nil {
		return false
	}
	switch v.(type) {
	case map[string]any, []any:
		// A selector at an object or array never matches, = or !=.
		return false
	}
	switch n.value.kind {
	case "number":
		num, ok := v.(json.Number)
		if !ok {
			// A number compares only with a number.
			return false
		}
		f, err := num.Float64()
		if err != nil {
			return false
		}
		switch n.op {
		case "=":
			return f == n.value.num
		case "!=":
			return f != n.value.num
		case "<":
			return f < n.value.num
		case ">":
			return f > n.value.num
		case "<=":
			return f <= n.value.num
		case ">=":
			return f >= n.value.num
		}
		return false
	}
	text := scalarText(v)
	eq := n.value.matches(text)
	if n.op == "!=" {
		return !eq
	}
	return eq
}

func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return fmt.Sprint(x)
	}
	return ""
}

func (l literal) matches(s string) bool {
	switch l.kind {
	case "any":
		return true
	case "regex":
		return l.re.MatchString(s)
	}
	switch {
	case l.prefix && l.suffix:
		return strings.Contains(s, l.text)
	case l.prefix:
		return strings.HasSuffix(s, l.text)
	case l.suffix:
		return strings.HasPrefix(s, l.text)
	}
	return s == l.text
}

// terms is a term pattern: every required term appears, no excluded one
// does, and (when there are ?alternatives) at least one alternative does.
type terms struct {
	all, none, any []string
}

func (t *terms) match(msg string) bool {
	for _, s := range t.all {
		if !strings.Contains(msg, s) {
			return false
		}
	}
	for _, s := range t.none {
		if strings.Contains(msg, s) {
			return false
		}
	}
	if len(t.any) == 0 {
		return true
	}
	for _, s := range t.any {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// parseTerms reads a term pattern: plain alphanumeric words or "quoted
// phrases", each optionally prefixed with - (must not appear) or ?
// (alternatives). The empty pattern matches everything.
func parseTerms(src string) (*terms, error) {
	t := &terms{}
	i := 0
	for {
		for i < len(src) && strings.IndexByte(" \t\r\n\f\v", src[i]) >= 0 {
			i++
		}
		if i >= len(src) {
			break
		}
		kind := byte(0)
		if src[i] == '-' || src[i] == '?' {
			kind = src[i]
			i++
		}
		var word string
		switch {
		case i < len(src) && src[i] == '"':
			p := &parser{src: src, pos: i}
			s, err := p.quoted()
			if err != nil {
				return nil, err
			}
			word, i = s, p.pos
		case i < len(src) && src[i] == '\'':
			return nil, &Error{Offset: i, Reason: "single-quoted terms are not filter-pattern syntax; use double quotes"}
		default:
			start := i
			for i < len(src) && isTermByte(src[i]) {
				i++
			}
			if i == start || i < len(src) && strings.IndexByte(" \t\r\n\f\v", src[i]) < 0 {
				return nil, &Error{Offset: i, Reason: fmt.Sprintf("not a term pattern: %q must be double-quoted (JSON patterns start with {)", clip(src[start:], 12))}
			}
			word = src[start:i]
		}
		switch kind {
		case '-':
			t.none = append(t.none, word)
		case '?':
			t.any = append(t.any, word)
		default:
			t.all = append(t.all, word)
		}
	}
	return t, nil
}

func isTermByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Canonical prints a JSON pattern in one form: whitespace and optional
// quotes normalised, the operands of each && or || chain sorted. Two
// patterns with the same canonical form match the same events. A term
// pattern prints as written, trimmed.
func (p *Pattern) Canonical() string {
	if p.json == nil {
		return strings.TrimSpace(p.source)
	}
	return "{ " + canonical(p.json) + " }"
}

func canonical(n node) string {
	switch x := n.(type) {
	case andNode, orNode:
		op := " && "
		if _, ok := x.(orNode); ok {
			op = " || "
		}
		parts := flatten(n, op)
		strs := make([]string, len(parts))
		for i, part := range parts {
			strs[i] = canonical(part)
			if _, isOr := part.(orNode); isOr && op == " && " {
				strs[i] = "(" + strs[i] + ")"
			}
		}
		slices.Sort(strs)
		return strings.Join(strs, op)
	case cmpNode:
		switch x.op {
		case "null":
			return x.sel.String() + " IS NULL"
		case "notexists":
			return x.sel.String() + " NOT EXISTS"
		case "true":
			return x.sel.String() + " IS TRUE"
		case "false":
			return x.sel.String() + " IS FALSE"
		}
		return x.sel.String() + " " + x.op + " " + x.value.String()
	}
	return ""
}

// flatten lists the operands of a chain of the same operator.
func flatten(n node, op string) []node {
	switch x := n.(type) {
	case andNode:
		if op == " && " {
			return append(flatten(x.left, op), flatten(x.right, op)...)
		}
	case orNode:
		if op == " || " {
			return append(flatten(x.left, op), flatten(x.right, op)...)
		}
	}
	return []node{n}
}

func (l literal) String() string {
	switch l.kind {
	case "number":
		return l.text
	case "regex":
		return "%" + l.text + "%"
	case "any":
		return "*"
	}
	s := l.text
	if l.prefix {
		s = "*" + s
	}
	if l.suffix {
		s += "*"
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

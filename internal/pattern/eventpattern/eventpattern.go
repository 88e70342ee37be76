// Package eventpattern parses Amazon EventBridge event patterns and matches
// them against events, for the operators used on CloudTrail events: exact
// values, prefix, suffix, equals-ignore-case, anything-but (a value, a
// list, a prefix, a suffix, a wildcard, equals-ignore-case), exists,
// numeric, cidr, wildcard and $or (EventBridge user guide, "Event patterns"
// and "Content filtering").
//
// A pattern AWS would refuse (not JSON, a duplicate key, a leaf that is not
// an array, an empty array, an unknown operator) is an error: the caller
// must not count a pattern it cannot read as coverage.
package eventpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Pattern is a parsed event pattern.
type Pattern struct {
	root object
}

// object is a pattern object: every field must match, and each $or must
// have a matching alternative.
type object struct {
	fields []field
	ors    [][]object
}

type field struct {
	name   string
	nested *object   // a nested pattern object
	values []matcher // or a leaf array
}

// matcher is one element of a leaf array.
type matcher struct {
	op    string // exact, prefix, suffix, ignorecase, anythingbut, exists, numeric, cidr, wildcard
	value any    // for exact: string, float64, bool or nil
	text  string
	// nocase: the prefix or suffix ignores case.
	nocase bool
	exists bool
	// anythingbut: the excluded matchers (exact, prefix, suffix, wildcard, ignorecase).
	not     []matcher
	numeric []numCmp
	prefix  netip.Prefix
	re      *regexp.Regexp
}

type numCmp struct {
	op string
	n  float64
}

// Parse reads an event pattern (the EventPattern of a rule).
func Parse(src string) (*Pattern, error) {
	v, err := decodeStrict([]byte(src))
	if err != nil {
		return nil, fmt.Errorf("event pattern is not valid JSON: %w", err)
	}
	obj, ok := v.(*ordered)
	if !ok {
		return nil, errors.New("event pattern must be a JSON object")
	}
	if len(obj.keys) == 0 {
		return nil, errors.New("event pattern is an empty object")
	}
	root, err := parseObject(obj, "")
	if err != nil {
		return nil, err
	}
	return &Pattern{root: root}, nil
}

func parseObject(obj *ordered, path string) (object, error) {
	var o object
	for _, k := range obj.keys {
		v := obj.vals[k]
		where := strings.TrimPrefix(path+"."+k, ".")
		if k == "$or" {
			arr, ok := v.([]any)
			if !ok || len(arr) < 2 {
				return o, fmt.Errorf("%s: $or needs an array of at least two pattern objects", where)
			}
			var alts []object
			for i, a := range arr {
				ao, ok := a.(*ordered)
				if !ok || len(ao.keys) == 0 {
					return o, fmt.Errorf("%s[%d]: each $or alternative must be a non-empty object", where, i)
				}
				alt, err := parseObject(ao, path)
				if err != nil {
					return o, err
				}
				alts = append(alts, alt)
			}
			o.ors = append(o.ors, alts)
			continue
		}
		switch x := v.(type) {
		case *ordered:
			if len(x.keys) == 0 {
				return o, fmt.Errorf("%s: an empty object", where)
			}
			nested, err := parseObject(x, where)
			if err != nil {
				return o, err
			}
			o.fields = append(o.fields, field{name: k, nested: &nested})
		case []any:
			if len(x) == 0 {
				return o, fmt.Errorf("%s: an empty array matches nothing and is refused", where)
			}
			f := field{name: k}
			for i, e := range x {
				m, err := parseMatcher(e, fmt.Sprintf("%s[%d]", where, i))
				if err != nil {
					return o, err
				}
				f.values = append(f.values, m)
			}
			o.fields = append(o.fields, f)
		default:
			return o, fmt.Errorf("%s: a value must be an array of match values or an object, not %s", where, describe(v))
		}
	}
	return o, nil
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func parseMatcher(e any, where string) (matcher, error) {
	switch x := e.(type) {
	case string:
		return matcher{op: "exact", value: x}, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return matcher{}, fmt.Errorf("%s: number %s: %v", where, x, err)
		}
		return matcher{op: "exact", value: f}, nil
	case bool:
		return matcher{op: "exact", value: x}, nil
	case nil:
		return matcher{op: "exact", value: nil}, nil
	case []any:
		return matcher{}, fmt.Errorf("%s: a nested array is not a match value", where)
	}
	obj := e.(*ordered)
	if len(obj.keys) != 1 {
		return matcher{}, fmt.Errorf("%s: a filter object must hold exactly one operator, not %d", where, len(obj.keys))
	}
	op := obj.keys[0]
	arg := obj.vals[op]
	switch op {
	case "prefix", "suffix":
		if s, ok := arg.(string); ok {
			return matcher{op: op, text: s}, nil
		}
		if inner, ok := arg.(*ordered); ok && len(inner.keys) == 1 && inner.keys[0] == "equals-ignore-case" {
			if s, ok := inner.vals["equals-ignore-case"].(string); ok {
				return matcher{op: op, text: s, nocase: true}, nil
			}
		}
		return matcher{}, fmt.Errorf("%s: %s needs a string or {\"equals-ignore-case\": string}", where, op)
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return matcher{}, fmt.Errorf("%s: equals-ignore-case needs a string", where)
		}
		return matcher{op: "ignorecase", text: s}, nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return matcher{}, fmt.Errorf("%s: exists needs true or false", where)
		}
		return matcher{op: "exists", exists: b}, nil
	case "wildcard":
		s, ok := arg.(string)
		if !ok {
			return matcher{}, fmt.Errorf("%s: wildcard needs a string", where)
		}
		re, err := wildcardRE(s)
		if err != nil {
			return matcher{}, fmt.Errorf("%s: %v", where, err)
		}
		return matcher{op: "wildcard", text: s, re: re}, nil
	case "cidr":
		s, ok := arg.(string)
		if !ok {
			return matcher{}, fmt.Errorf("%s: cidr needs a string", where)
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return matcher{}, fmt.Errorf("%s: cidr %q: %v", where, s, err)
		}
		return matcher{op: "cidr", prefix: p.Masked()}, nil
	case "numeric":
		return parseNumeric(arg, where)
	case "anything-but":
		return parseAnythingBut(arg, where)
	}
	return matcher{}, fmt.Errorf("%s: unknown operator %q", where, op)
}

func parseNumeric(arg any, where string) (matcher, error) {
	arr, ok := arg.([]any)
	if !ok || len(arr) == 0 || len(arr)%2 != 0 || len(arr) > 4 {
		return matcher{}, fmt.Errorf("%s: numeric needs [op, number] or [op, number, op, number]", where)
	}
	m := matcher{op: "numeric"}
	for i := 0; i < len(arr); i += 2 {
		op, ok := arr[i].(string)
		if !ok || !slices.Contains([]string{"=", "<", "<=", ">", ">="}, op) {
			return matcher{}, fmt.Errorf("%s: numeric operator %v is not one of = < <= > >=", where, arr[i])
		}
		num, ok := arr[i+1].(json.Number)
		if !ok {
			return matcher{}, fmt.Errorf("%s: numeric %s needs a number", where, op)
		}
		f, err := num.Float64()
		if err != nil {
			return matcher{}, fmt.Errorf("%s: %v", where, err)
		}
		m.numeric = append(m.numeric, numCmp{op: op, n: f})
	}
	return m, nil
}

func parseAnythingBut(arg any, where string) (matcher, error) {
	m := matcher{op: "anythingbut"}
	switch x := arg.(type) {
	case string, json.Number, bool:
		inner, err := parseMatcher(x, where)
		if err != nil {
			return matcher{}, err
		}
		m.not = []matcher{inner}
	case []any:
		if len(x) == 0 {
			return matcher{}, fmt.Errorf("%s: anything-but needs a non-empty list", where)
		}
		for i, e := range x {
			switch e.(type) {
			case string, json.Number:
			default:
				return matcher{}, fmt.Errorf("%s[%d]: an anything-but list holds strings or numbers", where, i)
			}
			inner, _ := parseMatcher(e, where)
			m.not = append(m.not, inner)
		}
	case *ordered:
		if len(x.keys) != 1 {
			return matcher{}, fmt.Errorf("%s: anything-but takes one operator", where)
		}
		op := x.keys[0]
		switch op {
		case "prefix", "suffix", "wildcard", "equals-ignore-case":
		default:
			return matcher{}, fmt.Errorf("%s: anything-but does not take %q", where, op)
		}
		// Each of these may take a string or a list of strings.
		vals := []any{x.vals[op]}
		if arr, ok := x.vals[op].([]any); ok && op != "prefix" && op != "suffix" {
			vals = arr
		}
		for _, v := range vals {
			inner, err := parseMatcher(&ordered{keys: []string{op}, vals: map[string]any{op: v}}, where)
			if err != nil {
				return matcher{}, err
			}
			m.not = append(m.not, inner)
		}
	default:
		return matcher{}, fmt.Errorf("%s: anything-but needs a value, a list or an operator object", where)
	}
	return m, nil
}

// wildcardRE turns a wildcard value (* any run, \* and \\ escaped) into an
// anchored expression. Consecutive wildcards are refused, as AWS does.
func wildcardRE(s string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return nil, fmt.Errorf("wildcard %q: a backslash escapes only * or \\", s)
			}
			b.WriteString(regexp.QuoteMeta(s[i+1 : i+2]))
			i++
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return nil, fmt.Errorf("wildcard %q: consecutive wildcards are not allowed", s)
			}
			b.WriteString("(?s:.*)")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// ordered is a JSON object that kept its key order.
type ordered struct {
	keys []string
	vals map[string]any
}

// decodeStrict decodes JSON with numbers kept exact, refusing duplicate keys
// (EventBridge refuses them) and trailing data.
func decodeStrict(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the pattern")
	}
	return v, nil
}

const maxDepth = 64

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &ordered{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				if _, dup := o.vals[k]; dup {
					return nil, fmt.Errorf("duplicate key %q", k)
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				o.keys = append(o.keys, k)
				o.vals[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return tok, nil
}

// Match reports whether the pattern matches an event (the JSON EventBridge
// delivers: for CloudTrail, the envelope with the record under "detail").
func (p *Pattern) Match(event []byte) (bool, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return false, fmt.Errorf("event is not JSON: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return false, errors.New("event is not a JSON object")
	}
	return p.root.match(obj), nil
}

func (o object) match(ev map[string]any) bool {
	for _, f := range o.fields {
		v, present := ev[f.name]
		if f.nested != nil {
			sub, ok := v.(map[string]any)
			if !ok {
				// A nested pattern over a missing or scalar field matches
				// only if every leaf below accepts a missing field.
				if !f.nested.match(map[string]any{}) {
					return false
				}
				continue
			}
			if !f.nested.match(sub) {
				return false
			}
			continue
		}
		if !leafMatch(f.values, v, present) {
			return false
		}
	}
	for _, alts := range o.ors {
		any := false
		for _, alt := range alts {
			if alt.match(ev) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	return true
}

// leafMatch: the field matches when any matcher matches; an array value
// matches when any of its elements does.
func leafMatch(ms []matcher, v any, present bool) bool {
	for _, m := range ms {
		if m.op == "exists" {
			leaf := present
			if present {
				switch v.(type) {
				case map[string]any:
					leaf = false // exists works on leaf nodes only
				case []any:
					leaf = len(v.([]any)) > 0
				}
			}
			if leaf == m.exists {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if m.matchValue(e) {
					return true
				}
			}
			continue
		}
		if m.matchValue(v) {
			return true
		}
	}
	return false
}

func (m matcher) matchValue(v any) bool {
	switch m.op {
	case "exact":
		switch want := m.value.(type) {
		case string:
			s, ok := v.(string)
			return ok && s == want
		case float64:
			return numberOf(v) == want
		case bool:
			b, ok := v.(bool)
			return ok && b == want
		case nil:
			return v == nil
		}
	case "prefix", "suffix":
		s, ok := v.(string)
		if !ok {
			return false
		}
		t := m.text
		if m.nocase {
			s, t = strings.ToLower(s), strings.ToLower(t)
		}
		if m.op == "prefix" {
			return strings.HasPrefix(s, t)
		}
		return strings.HasSuffix(s, t)
	case "ignorecase":
		s, ok := v.(string)
		return ok && strings.EqualFold(s, m.text)
	case "wildcard":
		s, ok := v.(string)
		return ok && m.re.MatchString(s)
	case "cidr":
		s, ok := v.(string)
		if !ok {
			return false
		}
		a, err := netip.ParseAddr(s)
		return err == nil && m.prefix.Contains(a)
	case "numeric":
		n := numberOf(v)
		if math.IsNaN(n) {
			return false
		}
		for _, c := range m.numeric {
			ok := false
			switch c.op {
			case "=":
				ok = n == c.n
			case "<":
				ok = n < c.n
			case "<=":
				ok = n <= c.n
			case ">":
				ok = n > c.n
			case ">=":
				ok = n >= c.n
			}
			if !ok {
				return false
			}
		}
		return true
	case "anythingbut":
		if v == nil {
			return false
		}
		switch v.(type) {
		case map[string]any:
			return false
		}
		for _, n := range m.not {
			if n.matchValue(v) {
				return false
			}
		}
		return true
	}
	return false
}

func numberOf(v any) float64 {
	if n, ok := v.(json.Number); ok {
		if f, err := strconv.ParseFloat(string(n), 64); err == nil {
			return f
		}
	}
	return math.NaN()
}

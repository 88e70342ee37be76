// Package logfilter parses CloudWatch Logs filter patterns and evaluates
// them against log events, the way a metric filter on a CloudTrail log
// group sees them: each event is one JSON CloudTrail record.
//
// The grammar is the documented one (CloudWatch Logs user guide, "Filter
// pattern syntax", "Using filter patterns to match terms in JSON log
// events", "Regular expressions"):
//
//   - JSON patterns { SELECTOR OP VALUE } with selectors $.name.name[N],
//     string = and != (quoted or plain values, * at either end), numeric
//     = != < > <= >=, IS NULL, NOT EXISTS, IS TRUE, IS FALSE, %regex%
//     values, && over ||, parentheses;
//   - term patterns: words and quoted phrases that must all appear, -term
//     that must not, ?term alternatives; the empty pattern matches every
//     event.
//
// Anything else (space-delimited [..] patterns, single-quoted values, a
// misspelt operator, a selector into nothing) is refused with the reason:
// the caller must not treat a pattern it cannot read as a match, nor as a
// miss.
package logfilter

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MaxLength is the longest filterPattern AWS accepts.
const MaxLength = 1024

// maxRegexes is how many %regex% terms one pattern may hold.
const maxRegexes = 2

// Pattern is a parsed filter pattern.
type Pattern struct {
	source string
	json   node   // the JSON form, or nil
	terms  *terms // the term form, or nil
}

// String returns the pattern as written.
func (p *Pattern) String() string { return p.source }

// IsJSON reports whether the pattern is a JSON pattern ({ … }).
func (p *Pattern) IsJSON() bool { return p.json != nil }

// Error says why a pattern cannot be read, with the byte offset.
type Error struct {
	Offset int
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("filter pattern: at offset %d: %s", e.Offset, e.Reason)
}

// Parse reads a filter pattern.
func Parse(src string) (*Pattern, error) {
	if len(src) > MaxLength {
		return nil, &Error{Offset: MaxLength, Reason: fmt.Sprintf("longer than the %d characters AWS accepts", MaxLength)}
	}
	p := &Pattern{source: src}
	trimmed := strings.TrimSpace(src)
	switch {
	case strings.HasPrefix(trimmed, "{"):
		ps := &parser{src: src, pos: strings.Index(src, "{") + 1}
		n, err := ps.parseJSON()
		if err != nil {
			return nil, err
		}
		p.json = n
	case strings.HasPrefix(trimmed, "["):
		return nil, &Error{Offset: strings.Index(src, "["), Reason: "space-delimited ([…]) patterns are not supported: they do not apply to JSON CloudTrail events"}
	default:
		t, err := parseTerms(src)
		if err != nil {
			return nil, err
		}
		p.terms = t
	}
	return p, nil
}

// node is one expression of a JSON pattern.
type node interface{ eval(v any) bool }

type (
	andNode struct{ left, right node }
	orNode  struct{ left, right node }
	cmpNode struct {
		sel   selector
		op    string // = != < > <= >= null notexists true false
		value literal
	}
)

// literal is a comparison value.
type literal struct {
	kind   string // string, number, regex, any
	text   string // the string, with wildcards
	prefix bool   // *text: suffix match
	suffix bool   // text*: prefix match
	num    float64
	re     *regexp.Regexp
}

// selector is a path of object keys and array indexes.
type selector []step

type step struct {
	key   string
	index int // -1 for an object key
}

func (s selector) String() string {
	var b strings.Builder
	b.WriteString("$")
	for _, st := range s {
		if st.index >= 0 {
			fmt.Fprintf(&b, "[%d]", st.index)
		} else {
			b.WriteString("." + st.key)
		}
	}
	return b.String()
}

type parser struct {
	src     string
	pos     int
	regexes int
}

func (p *parser) fail(format string, args ...any) error {
	return &Error{Offset: p.pos, Reason: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n\f\v", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *parser) peek(s string) bool {
	p.skipSpace()
	return strings.HasPrefix(p.src[p.pos:], s)
}

func (p *parser) parseJSON() (node, error) {
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if !p.peek("}") {
		if p.pos >= len(p.src) {
			return nil, p.fail("missing the closing }")
		}
		return nil, p.fail("unexpected %q: expected &&, || or }", p.rest(12))
	}
	p.pos++
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.fail("unexpected %q after the closing }", p.rest(12))
	}
	return n, nil
}

func (p *parser) rest(n int) string {
	r := p.src[p.pos:]
	if len(r) > n {
		r = r[:n]
	}
	return r
}

func (p *parser) parseOr() (node, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.peek("||") {
		p.pos += 2
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = orNode{left, right}
	}
	return left, nil
}

func (p *parser) parseAnd() (node, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.peek("&&") {
		p.pos += 2
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = andNode{left, right}
	}
	return left, nil
}

func (p *parser) parseUnary() (node, error) {
	if p.peek("(") {
		p.pos++
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if !p.peek(")") {
			return nil, p.fail("missing )")
		}
		p.pos++
		return n, nil
	}
	return p.parseComparison()
}

func (p *parser) parseComparison() (node, error) {
	p.skipSpace()
	sel, err := p.parseSelector()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	for _, kw := range []struct{ text, op string }{
		{"IS NULL", "null"}, {"IS TRUE", "true"}, {"IS FALSE", "false"}, {"NOT EXISTS", "notexists"},
	} {
		if p.keyword(kw.text) {
			return cmpNode{sel: sel, op: kw.op}, nil
		}
	}
	op := ""
	for _, o := range []string{"!=", "<=", ">=", "=", "<", ">"} {
		if strings.HasPrefix(p.src[p.pos:], o) {
			op = o
			break
		}
	}
	if op == "" {
		return nil, p.fail("expected an operator (=, !=, <, >, <=, >=, IS NULL, IS TRUE, IS FALSE, NOT EXISTS) after %s, found %q", sel, p.rest(12))
	}
	p.pos += len(op)
	if p.pos < len(p.src) && strings.IndexByte("=<>!", p.src[p.pos]) >= 0 {
		return nil, p.fail("unknown operator %q", op+p.src[p.pos:p.pos+1])
	}
	p.skipSpace()
	lit, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	switch op {
	case "<", ">", "<=", ">=":
		if lit.kind != "number" {
			return nil, p.fail("%s needs a number, not %s", op, lit.kind)
		}
	}
	return cmpNode{sel: sel, op: op, value: lit}, nil
}

// keyword consumes words separated by any whitespace (IS  NULL, NOT\nEXISTS).
func (p *parser) keyword(text string) bool {
	save := p.pos
	for i, w := range strings.Fields(text) {
		if i > 0 {
			start := p.pos
			p.skipSpace()
			if p.pos == start {
				p.pos = save
				return false
			}
		}
		if !strings.HasPrefix(p.src[p.pos:], w) {
			p.pos = save
			return false
		}
		p.pos += len(w)
	}
	// The keyword must end there.
	if p.pos < len(p.src) && isWordByte(p.src[p.pos]) {
		p.pos = save
		return false
	}
	return true
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (p *parser) parseSelector() (selector, error) {
	if !strings.HasPrefix(p.src[p.pos:], "$") {
		return nil, p.fail("expected a selector starting with $, found %q", p.rest(12))
	}
	p.pos++
	var sel selector
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case '.':
			p.pos++
			start := p.pos
			for p.pos < len(p.src) && isWordByte(p.src[p.pos]) {
				p.pos++
			}
			if p.pos == start {
				return nil, p.fail("a selector name must follow .")
			}
			sel = append(sel, step{key: p.src[start:p.pos], index: -1})
		case '[':
			p.pos++
			start := p.pos
			for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
				p.pos++
			}
			if p.pos == start || p.pos >= len(p.src) || p.src[p.pos] != ']' {
				return nil, p.fail("an array index must be [digits]")
			}
			n, err := strconv.Atoi(p.src[start:p.pos])
			if err != nil {
				return nil, p.fail("array index %q: %v", p.src[start:p.pos], err)
			}
			p.pos++
			sel = append(sel, step{index: n})
		default:
			if len(sel) == 0 {
				return nil, p.fail("a selector needs at least one .name after $")
			}
			return sel, nil
		}
	}
	if len(sel) == 0 {
		return nil, p.fail("a selector needs at least one .name after $")
	}
	return sel, nil
}

func (p *parser) parseValue() (literal, error) {
	if p.pos >= len(p.src) {
		return literal{}, p.fail("missing a value")
	}
	switch c := p.src[p.pos]; c {
	case '"':
		s, err := p.quoted()
		if err != nil {
			return literal{}, err
		}
		return stringLiteral(s), nil
	case '\'':
		return literal{}, p.fail("single-quoted values are not filter-pattern syntax; use double quotes")
	case '%':
		end := strings.IndexByte(p.src[p.pos+1:], '%')
		if end < 0 {
			return literal{}, p.fail("a regular expression %%…%% is not closed")
		}
		expr := p.src[p.pos+1 : p.pos+1+end]
		p.regexes++
		if p.regexes > maxRegexes {
			return literal{}, p.fail("more than %d regular expressions in one pattern", maxRegexes)
		}
		re, err := compileRegex(expr)
		if err != nil {
			return literal{}, p.fail("%v", err)
		}
		p.pos += end + 2
		return literal{kind: "regex", text: expr, re: re}, nil
	}
	start := p.pos
	for p.pos < len(p.src) && isPlainByte(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return literal{}, p.fail("expected a value, found %q", p.rest(12))
	}
	text := p.src[start:p.pos]
	if p.pos < len(p.src) && !strings.ContainsRune(" \t\r\n\f\v)}&|", rune(p.src[p.pos])) {
		return literal{}, p.fail("a value with %q must be double-quoted", p.src[p.pos:p.pos+1])
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil && isNumberText(text) {
		return literal{kind: "number", text: text, num: f}, nil
	}
	return stringLiteral(text), nil
}

// isPlainByte: characters allowed in an unquoted value. The guide shows
// plain words, IP addresses with wildcards (123.123.*) and numbers.
func isPlainByte(c byte) bool {
	return isWordByte(c) || strings.IndexByte(".*:+@/", c) >= 0
}

func isNumberText(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789+-.eE", c) {
			return false
		}
	}
	return true
}

func (p *parser) quoted() (string, error) {
	var b strings.Builder
	i := p.pos + 1
	for i < len(p.src) {
		c := p.src[i]
		switch c {
		case '"':
			p.pos = i + 1
			return b.String(), nil
		case '\\':
			if i+1 >= len(p.src) {
				return "", &Error{Offset: i, Reason: "a backslash ends the pattern"}
			}
			b.WriteByte(p.src[i+1])
			i += 2
			continue
		}
		b.WriteByte(c)
		i++
	}
	return "", p.fail("a quoted value is not closed")
}

func stringLiteral(s string) literal {
	l := literal{kind: "string", text: s}
	if s == "*" {
		l.kind = "any"
		return l
	}
	if strings.HasPrefix(s, "*") {
		l.prefix, l.text = true, l.text[1:]
	}
	if strings.HasSuffix(l.text, "*") {
		l.suffix, l.text = true, l.text[:len(l.text)-1]
	}
	return l
}

// compileRegex accepts the documented subset: no groups, no lookaround.
func compileRegex(expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, fmt.Errorf("an empty regular expression")
	}
	if strings.ContainsAny(expr, "()") {
		return nil, fmt.Errorf("regular expression %%%s%%: groups are not supported in filter patterns", expr)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("regular expression %%%s%%: %v", expr, err)
	}
	return re, nil
}

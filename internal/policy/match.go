package policy

import (
	"strings"
	"unicode/utf8"
)

// Truth is a three-valued answer: a complete context always gives Yes or
// No; a scenario leaves Maybe where the answer depends on what it does not
// know.
type Truth int8

// The three answers.
const (
	No Truth = iota
	Yes
	Maybe
)

func (t Truth) String() string { return [...]string{"no", "yes", "maybe"}[t] }

func truth(b bool) Truth {
	if b {
		return Yes
	}
	return No
}

// and combines two answers that must both hold.
func (t Truth) and(u Truth) Truth {
	switch {
	case t == No || u == No:
		return No
	case t == Yes && u == Yes:
		return Yes
	}
	return Maybe
}

// or combines two answers of which one must hold.
func (t Truth) or(u Truth) Truth {
	switch {
	case t == Yes || u == Yes:
		return Yes
	case t == No && u == No:
		return No
	}
	return Maybe
}

// not negates an answer.
func (t Truth) not() Truth {
	switch t {
	case Yes:
		return No
	case No:
		return Yes
	}
	return Maybe
}

// token is one element of a compiled pattern: a literal character, or a
// wildcard (* any run, ? one character).
type token struct {
	r    rune
	kind byte // 'l' literal, '*', '?'
	// cross: a * that may match colons. In resource ARNs a * matches
	// within a colon-separated segment unless it ends the segment ("If the
	// * wildcard is the last character of a resource ARN segment, it can
	// expand to match beyond the colon boundaries", IAM User Guide,
	// Resource element).
	cross bool
}

// env carries what pattern compilation needs: the request context, and
// whether policy variables are read at all (only in 2012-10-17 policies;
// earlier versions treat ${…} as literal text).
type env struct {
	ctx  Context
	vars bool
}

// compile turns a policy string into tokens. like: * and ? are wildcards
// (else literal). vars: ${…} policy variables are resolved. colons: a *
// that does not end a colon-separated segment, and a ?, do not match ':'.
// The Truth is No when a variable has no value (the string then matches
// nothing: "the value is effectively null"), Maybe when a scenario does not
// know the variable's key.
func (e env) compile(s string, like, vars, colons bool) ([]token, Truth) {
	var toks []token
	state := Yes
	lit := func(str string) {
		for _, r := range str {
			toks = append(toks, token{r: r, kind: 'l'})
		}
	}
	for i := 0; i < len(s); {
		switch {
		case like && (s[i] == '*' || s[i] == '?'):
			toks = append(toks, token{kind: s[i]})
			i++
		case vars && e.vars && strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				lit(s[i:])
				i = len(s)
				continue
			}
			inner := s[i+2 : i+2+end]
			i += end + 3
			switch inner {
			case "*", "?", "$":
				lit(inner) // ${*} ${?} ${$}: the character itself, never a wildcard
				continue
			}
			val, st := e.variable(inner)
			switch st {
			case No:
				state = No
			case Maybe:
				if state == Yes {
					state = Maybe
				}
			}
			lit(val)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			toks = append(toks, token{r: r, kind: 'l'})
			i += size
		}
	}
	for i := range toks {
		if toks[i].kind == '*' {
			toks[i].cross = !colons || i+1 == len(toks) || (toks[i+1].kind == 'l' && toks[i+1].r == ':')
		}
	}
	return toks, state
}

// variable resolves the inside of ${…}: a key name, optionally with a
// default value (${aws:PrincipalTag/team, 'company-wide'}). A multivalued
// key cannot be a variable ("You can't use a multivalued condition key as
// a variable").
func (e env) variable(inner string) (string, Truth) {
	name, def, hasDef := strings.Cut(inner, ",")
	name = strings.TrimSpace(name)
	def = strings.TrimSpace(def)
	if hasDef && (len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'') {
		hasDef = false
	}
	v, p := e.ctx.lookup(name)
	switch {
	case p == present && !v.multi && name != "":
		return v.texts[0], Yes
	case p == unknown:
		return "", Maybe
	case hasDef:
		return def[1 : len(def)-1], Yes
	}
	return "", No
}

// literal returns the tokens as a string when they hold no wildcard.
func literal(toks []token) (string, bool) {
	var b strings.Builder
	for _, t := range toks {
		if t.kind != 'l' {
			return "", false
		}
		b.WriteRune(t.r)
	}
	return b.String(), true
}

// glob matches s against the tokens. colons: ? does not match ':'.
func glob(toks []token, s string, colons bool) bool {
	if lit, ok := literal(toks); ok {
		return lit == s
	}
	text := []rune(s)
	// prev[j]: the tokens so far match text[:j].
	prev := make([]bool, len(text)+1)
	cur := make([]bool, len(text)+1)
	prev[0] = true
	for _, t := range toks {
		switch t.kind {
		case 'l':
			cur[0] = false
			for j := 1; j <= len(text); j++ {
				cur[j] = prev[j-1] && text[j-1] == t.r
			}
		case '?':
			cur[0] = false
			for j := 1; j <= len(text); j++ {
				cur[j] = prev[j-1] && !(colons && text[j-1] == ':')
			}
		case '*':
			cur[0] = prev[0]
			for j := 1; j <= len(text); j++ {
				cur[j] = prev[j] || (cur[j-1] && (t.cross || text[j-1] != ':'))
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(text)]
}

// actionMatches reports whether a policy action pattern covers a request
// action. "The prefix and the action name are case insensitive"; the
// prefix is literal (IAM refuses wildcards in it), the name may hold * and ?.
func actionMatches(pattern, action string) bool {
	if pattern == "*" {
		return true
	}
	psvc, pname, _ := strings.Cut(pattern, ":")
	svc, name, ok := strings.Cut(action, ":")
	if !ok || !strings.EqualFold(psvc, svc) {
		return false
	}
	toks, _ := env{}.compile(strings.ToLower(pname), true, false, false)
	return glob(toks, strings.ToLower(name), false)
}

// resourceMatches reports whether a Resource pattern covers a resource.
// The partition, service, region and account segments compare
// case-insensitively, the resource part case-sensitively; policy variables
// are read in the resource part only ("You can't use a variable to replace
// parts of the ARN before the fifth colon").
func (e env) resourceMatches(pattern, resource string) Truth {
	if pattern == "*" {
		return Yes
	}
	phead, ptail, ptailOK := splitARNHead(pattern, true)
	rhead, rtail, rtailOK := splitARNHead(resource, false)
	toks, _ := e.compile(strings.ToLower(phead), true, false, true)
	if ptailOK {
		tail, st := e.compile(ptail, true, true, true)
		switch {
		case st == No:
			return No
		case st == Maybe:
			// The resource part depends on a key the scenario does not
			// know: decided only if the segments before it differ.
			if rtailOK && glob(toks, strings.ToLower(rhead), true) {
				return Maybe
			}
			return No
		}
		toks = append(append(toks, token{r: ':', kind: 'l'}), tail...)
	}
	text := strings.ToLower(rhead)
	if rtailOK {
		text += ":" + rtail
	}
	return truth(glob(toks, text, true))
}

// splitARNHead splits an ARN after its fifth colon: the head holds the
// "arn", partition, service, region and account segments. In a pattern,
// colons inside a policy variable (${aws:username}) do not count.
func splitARNHead(s string, pattern bool) (head, tail string, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if pattern {
		parts = splitColons(s, 6)
	}
	if len(parts) < 6 {
		return s, "", false
	}
	return s[:len(s)-len(parts[5])-1], parts[5], true
}

// splitColons splits s at its colons into at most n parts, the last taking
// the rest, as strings.SplitN does, except that colons inside ${…} do not
// split.
func splitColons(s string, n int) []string {
	var parts []string
	start, depth := 0, false
	for i := 0; i < len(s) && len(parts) < n-1; i++ {
		switch {
		case !depth && strings.HasPrefix(s[i:], "${") && strings.IndexByte(s[i:], '}') > 0:
			depth = true
		case depth && s[i] == '}':
			depth = false
		case !depth && s[i] == ':':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

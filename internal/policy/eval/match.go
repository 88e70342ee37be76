package eval

import (
	"slices"
	"strings"
	"unicode"
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

// And combines two answers that must both hold.
func (t Truth) And(u Truth) Truth {
	switch {
	case t == No || u == No:
		return No
	case t == Yes && u == Yes:
		return Yes
	}
	return Maybe
}

// Or combines two answers of which one must hold.
func (t Truth) Or(u Truth) Truth {
	switch {
	case t == Yes || u == Yes:
		return Yes
	case t == No && u == No:
		return No
	}
	return Maybe
}

// Not negates an answer.
func (t Truth) Not() Truth {
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

// pattern is a compiled policy string: a literal, or tokens when it holds
// a wildcard.
type pattern struct {
	lit  string
	toks []token
}

// compile turns a policy string into a pattern. like: * and ? are
// wildcards (else literal). vars: ${…} policy variables are resolved.
// colons: a * that does not end a colon-separated segment, and a ?, do not
// match ':'. The Truth is No when a variable has no value (the string then
// matches nothing: "the value is effectively null"), Maybe when a scenario
// does not know the variable's key.
func (e env) compile(s string, like, vars, colons bool) (pattern, Truth) {
	vars = vars && e.vars && strings.Contains(s, "${")
	like = like && strings.ContainsAny(s, "*?")
	if !vars && !like {
		return pattern{lit: s}, Yes
	}
	toks := make([]token, 0, len(s))
	state, wild := Yes, false
	lit := func(str string) {
		for _, r := range str {
			toks = append(toks, token{r: r, kind: 'l'})
		}
	}
	for i := 0; i < len(s); {
		switch {
		case like && (s[i] == '*' || s[i] == '?'):
			toks = append(toks, token{kind: s[i]})
			wild = true
			i++
		case vars && strings.HasPrefix(s[i:], "${"):
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
	if !wild {
		var b strings.Builder
		b.Grow(len(toks))
		for _, t := range toks {
			b.WriteRune(t.r)
		}
		return pattern{lit: b.String()}, state
	}
	for i := range toks {
		if toks[i].kind == '*' {
			toks[i].cross = !colons || i+1 == len(toks) || (toks[i+1].kind == 'l' && toks[i+1].r == ':')
		}
	}
	return pattern{toks: toks}, state
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
	case p == present && !v.multi && len(v.texts) == 1 && name != "":
		return v.texts[0], Yes
	case p == unknown:
		return "", Maybe
	case hasDef:
		return def[1 : len(def)-1], Yes
	}
	return "", No
}

// match matches s against a compiled pattern. colons: ? does not match
// ':'.
func (p pattern) match(s string, colons bool) bool {
	if p.toks == nil {
		return p.lit == s
	}
	return glob(p.toks, s, colons)
}

// glob matches s against the tokens. colons: ? does not match ':'.
func glob(toks []token, s string, colons bool) bool {
	for _, t := range toks {
		if t.kind == '*' && !t.cross {
			return globSegments(toks, s, colons)
		}
	}
	return globRun(toks, s, colons, false)
}

// globRun matches when every * may match any run: the usual walk that
// backs up to the last *. fold compares without regard to case.
func globRun(toks []token, s string, colons, fold bool) bool {
	ti, si := 0, 0
	star, starSi := -1, 0
	for si < len(s) {
		if ti < len(toks) {
			t := toks[ti]
			r, size := utf8.DecodeRuneInString(s[si:])
			switch {
			case t.kind == '*':
				star, starSi = ti, si
				ti++
				continue
			case t.kind == '?' && !(colons && r == ':'):
				si += size
				ti++
				continue
			case t.kind == 'l' && (r == t.r || fold && unicode.ToLower(r) == unicode.ToLower(t.r)):
				si += size
				ti++
				continue
			}
		}
		if star < 0 {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[starSi:])
		starSi += size
		si, ti = starSi, star+1
	}
	for ti < len(toks) && toks[ti].kind == '*' {
		ti++
	}
	return ti == len(toks)
}

// globSegments matches when some * stays within a colon-separated segment,
// by dynamic programming over the text.
func globSegments(toks []token, s string, colons bool) bool {
	// Short texts are matched without allocating: an ASCII text is read
	// byte by byte into a buffer on the stack.
	var rbuf [128]rune
	var text []rune
	if len(s) <= len(rbuf) && isASCII(s) {
		text = rbuf[:len(s)]
		for i := 0; i < len(s); i++ {
			text[i] = rune(s[i])
		}
	} else {
		text = []rune(s)
	}
	var bbuf [2 * (len(rbuf) + 1)]bool
	var prev, cur []bool
	if n := len(text) + 1; n <= len(rbuf)+1 {
		prev, cur = bbuf[:n], bbuf[n:2*n]
	} else {
		prev, cur = make([]bool, n), make([]bool, n)
	}
	// prev[j]: the tokens so far match text[:j].
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

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// actionPattern is a compiled Action entry. "The prefix and the action
// name are case insensitive"; the prefix is literal (IAM refuses wildcards
// in it), the name may hold * and ?.
type actionPattern struct {
	any  bool
	svc  string
	name pattern
}

func newActionPattern(s string) actionPattern {
	if s == "*" {
		return actionPattern{any: true}
	}
	svc, name, _ := strings.Cut(s, ":")
	p, _ := env{}.compile(name, true, false, false)
	return actionPattern{svc: svc, name: p}
}

func (a actionPattern) match(action string) bool {
	if a.any {
		return true
	}
	svc, name, ok := strings.Cut(action, ":")
	if !ok || !strings.EqualFold(a.svc, svc) {
		return false
	}
	if a.name.toks == nil {
		return strings.EqualFold(a.name.lit, name)
	}
	return globRun(a.name.toks, name, false, true)
}

// actionMatches reports whether a policy action pattern covers a request
// action.
func actionMatches(pattern, action string) bool {
	return newActionPattern(pattern).match(action)
}

// resourcePattern is a compiled Resource entry: all of it, unless its
// resource part holds a policy variable, which is resolved per request.
// The partition, service, region and account segments (the head) compare
// without regard to case, the resource part (the tail) case-sensitively;
// policy variables are read in the tail only ("You can't use a variable to
// replace parts of the ARN before the fifth colon").
type resourcePattern struct {
	any      bool    // "*"
	head     pattern // lower-cased
	headWild bool
	hasTail  bool
	tailSrc  string
	dynamic  bool    // the tail holds a policy variable
	tail     pattern // when not dynamic
	full     []token // head, ':' and tail, when the head holds a wildcard and the tail is not dynamic
}

func newResourcePattern(s string, vars bool) resourcePattern {
	if s == "*" {
		return resourcePattern{any: true}
	}
	phead, ptail, ok := splitARNHead(s, vars)
	rp := resourcePattern{hasTail: ok, tailSrc: ptail}
	rp.head, _ = env{}.compile(strings.ToLower(phead), true, false, true)
	rp.headWild = rp.head.toks != nil
	rp.dynamic = ok && vars && strings.Contains(ptail, "${")
	if ok && !rp.dynamic {
		rp.tail, _ = env{}.compile(ptail, true, false, true)
		if rp.headWild {
			rp.full = joinARN(rp.head, rp.tail)
		}
	}
	return rp
}

// match reports whether the pattern covers a resource ("IAM JSON policy
// elements: Resource").
func (rp *resourcePattern) match(e env, resource string) Truth {
	if rp.any {
		return Yes
	}
	if !rp.hasTail {
		return truth(rp.head.match(strings.ToLower(resource), true))
	}
	rhead, rtail, ok := splitARNHead(resource, false)
	if !ok {
		return No // the pattern's five colons are literal
	}
	tail, full := rp.tail, rp.full
	if rp.dynamic {
		t, st := e.compile(rp.tailSrc, true, true, true)
		switch st {
		case No:
			return No
		case Maybe:
			// The resource part depends on a key the scenario does not
			// know: decided only if the segments before it differ.
			return truth(rp.head.match(strings.ToLower(rhead), true)).And(Maybe)
		}
		tail = t
		if rp.headWild {
			full = joinARN(rp.head, tail)
		}
	}
	if !rp.headWild {
		return truth(strings.EqualFold(rp.head.lit, rhead) && tail.match(rtail, true))
	}
	// A * ending a head segment may run into the resource part: match the
	// whole ARN at once.
	text := resource
	if lower := strings.ToLower(rhead); lower != rhead {
		text = lower + ":" + rtail
	}
	return truth(glob(full, text, true))
}

// joinARN joins a head and a tail pattern into the tokens of a whole ARN.
func joinARN(head, tail pattern) []token {
	toks := append(tokens(head), token{r: ':', kind: 'l'})
	toks = append(toks, tokens(tail)...)
	for i := range toks {
		if toks[i].kind == '*' {
			toks[i].cross = i+1 == len(toks) || (toks[i+1].kind == 'l' && toks[i+1].r == ':')
		}
	}
	return toks
}

// resourceMatches reports whether a Resource pattern covers a resource.
func (e env) resourceMatches(pattern, resource string) Truth {
	rp := newResourcePattern(pattern, e.vars)
	return rp.match(e, resource)
}

// tokens returns a pattern's tokens, a literal as literal tokens.
func tokens(p pattern) []token {
	if p.toks != nil {
		return slices.Clone(p.toks)
	}
	toks := make([]token, 0, len(p.lit))
	for _, r := range p.lit {
		toks = append(toks, token{r: r, kind: 'l'})
	}
	return toks
}

// splitARNHead splits an ARN after its fifth colon: the head holds the
// "arn", partition, service, region and account segments. In a pattern,
// colons inside a policy variable (${aws:username}) do not count.
func splitARNHead(s string, pattern bool) (head, tail string, ok bool) {
	parts, n := arnFields(s, pattern)
	if n < 6 {
		return s, "", false
	}
	return s[:len(s)-len(parts[5])-1], parts[5], true
}

// arnFields splits s at its colons into at most six fields, the last
// taking the rest, and says how many it found. In a pattern, colons inside
// ${…} do not split.
func arnFields(s string, pattern bool) ([6]string, int) {
	var parts [6]string
	n, start, inVar := 0, 0, false
	for i := 0; i < len(s) && n < 5; i++ {
		switch {
		case pattern && !inVar && strings.HasPrefix(s[i:], "${") && strings.IndexByte(s[i:], '}') > 0:
			inVar = true
		case inVar && s[i] == '}':
			inVar = false
		case !inVar && s[i] == ':':
			parts[n] = s[start:i]
			n++
			start = i + 1
		}
	}
	parts[n] = s[start:]
	return parts, n + 1
}

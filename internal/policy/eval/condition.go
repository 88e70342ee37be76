package eval

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/policy"
)

// outcome is one request value compared with one policy value.
type outcome int

const (
	outNoMatch outcome = iota
	outMatch
	outError   // a value that does not parse for the operator's family
	outUnknown // a policy variable the scenario does not know
)

// condition decides one condition against the context ("IAM JSON policy
// elements: Condition operators"; "Single-valued vs. multivalued context
// keys"):
//   - a missing key makes the condition false, except for negated
//     operators ("the condition is true") and IfExists ("evaluate the
//     condition element as true"); Null tests presence only;
//   - ForAllValues is true when every request value matches a policy value,
//     and when the key is missing or empty; ForAnyValue when one does, false
//     when the key is missing (true with IfExists);
//   - a multivalued key without a set operator matches nothing
//     ("Multivalued context keys require a condition set operator").
func (e env) condition(c *policy.Condition, cc *compiledCondition) Truth {
	op := cc.op
	v, p := e.ctx.lookupLower(cc.lkey)
	if p == unknown {
		return Maybe
	}
	if op.Family == policy.FamilyNull {
		holds := false
		for _, pv := range c.Values {
			switch strings.ToLower(pv.Text) {
			case "true":
				holds = holds || p == absent
			case "false":
				holds = holds || p == present
			}
		}
		return truth(holds)
	}
	if op.Set != policy.SetNone {
		if p == absent {
			return truth(op.Set == policy.SetForAllValues || op.IfExists)
		}
		if op.Set == policy.SetForAllValues {
			result := Yes
			for _, rv := range v.texts {
				result = result.And(e.values(c, cc, rv))
			}
			return result
		}
		result := No
		for _, rv := range v.texts {
			result = result.Or(e.values(c, cc, rv))
		}
		return result
	}
	if p == absent {
		return truth(op.Negated || op.IfExists)
	}
	if v.multi || len(v.texts) != 1 {
		return No
	}
	return e.values(c, cc, v.texts[0])
}

// values compares one request value with a condition's policy values:
// positive operators need one match (OR); negated operators need every
// value not to match (NOR), and a value that does not parse is not a
// "does not match" but a failure.
func (e env) values(c *policy.Condition, cc *compiledCondition, rv string) Truth {
	op := cc.op
	compare := func(i int) outcome {
		var vp *valuePattern
		if len(cc.values) == len(c.Values) && cc.values[i].static {
			vp = &cc.values[i]
		}
		return e.compare(op, rv, c.Values[i].Text, vp)
	}
	if !op.Negated {
		result := No
		for i := range c.Values {
			switch compare(i) {
			case outMatch:
				return Yes
			case outUnknown:
				result = Maybe
			}
		}
		return result
	}
	result := Yes
	for i := range c.Values {
		switch compare(i) {
		case outMatch, outError:
			return No
		case outUnknown:
			result = Maybe
		}
	}
	return result
}

// compare compares a request value with one policy value, ignoring
// negation.
func (e env) compare(op policy.Operator, rv, pv string, vp *valuePattern) outcome {
	switch op.Family {
	case policy.FamilyString:
		p, st := pattern{}, Yes
		if vp != nil {
			p = vp.str
		} else {
			p, st = e.compile(pv, op.Comparison == policy.CompareLike, true, false)
		}
		switch st {
		case No:
			// "When you use a variable with no value … StringEquals or
			// StringLike do not match … Inverted condition operators like
			// StringNotEquals or StringNotLike do match against a null
			// value."
			return outNoMatch
		case Maybe:
			return outUnknown
		}
		if op.Comparison == policy.CompareEqualFold {
			return matched(strings.EqualFold(p.lit, rv))
		}
		return matched(p.match(rv, false))
	case policy.FamilyARN:
		return e.arnLike(pv, rv, vp)
	case policy.FamilyBool:
		p, st := e.compile(pv, false, true, false)
		switch st {
		case No:
			return outNoMatch
		case Maybe:
			return outUnknown
		}
		pb, okp := parseBool(p.lit)
		rb, okr := parseBool(rv)
		if !okp || !okr {
			return outError
		}
		return matched(pb == rb)
	case policy.FamilyNumeric:
		pn, okp := parseNumber(pv)
		rn, okr := parseNumber(rv)
		if !okp || !okr {
			return outError
		}
		return ordered(op.Comparison, cmpFloat(rn, pn))
	case policy.FamilyDate:
		pt, okp := parseDate(pv)
		rt, okr := parseDate(rv)
		if !okp || !okr {
			return outError
		}
		return ordered(op.Comparison, rt.Compare(pt))
	case policy.FamilyBinary:
		pb, errp := base64.StdEncoding.DecodeString(pv)
		rb, errr := base64.StdEncoding.DecodeString(rv)
		if errp != nil || errr != nil {
			return outError
		}
		return matched(bytes.Equal(pb, rb))
	case policy.FamilyIP:
		prefix, okp := parseIPRange(pv)
		addr, err := netip.ParseAddr(rv)
		if !okp || err != nil || addr.Zone() != "" {
			return outError
		}
		return matched(prefix.Contains(addr))
	}
	return outError
}

func matched(b bool) outcome {
	if b {
		return outMatch
	}
	return outNoMatch
}

// ordered turns a comparison of request value with policy value (-1, 0, 1)
// into an outcome for the operator's comparison.
func ordered(c policy.Comparison, sign int) outcome {
	switch c {
	case policy.CompareLess:
		return matched(sign < 0)
	case policy.CompareLessEqual:
		return matched(sign <= 0)
	case policy.CompareGreater:
		return matched(sign > 0)
	case policy.CompareGreaterEqual:
		return matched(sign >= 0)
	}
	return matched(sign == 0)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// arnLike compares an ARN with a policy ARN pattern: "Each of the six
// colon-delimited components of the ARN is checked separately and each can
// include multi-character match wildcards (*) or single-character match
// wildcards (?)", case-sensitively. Either side without six components
// compares as an error.
func (e env) arnLike(pattern, value string, vp *valuePattern) outcome {
	vparts, vn := arnFields(value, false)
	if vp != nil {
		if vp.arnN < 6 || vn < 6 {
			return outError
		}
		for i := range vparts {
			if !vp.arn[i].match(vparts[i], false) {
				return outNoMatch
			}
		}
		return outMatch
	}
	pparts, pn := arnFields(pattern, e.vars)
	if pn < 6 || vn < 6 {
		return outError
	}
	result := outMatch
	for i := range pparts {
		p, st := e.compile(pparts[i], true, true, false)
		switch st {
		case No:
			return outNoMatch
		case Maybe:
			result = outUnknown
			continue
		}
		if !p.match(vparts[i], false) {
			return outNoMatch
		}
	}
	return result
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

var decimal = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// parseNumber reads an integer or decimal value.
func parseNumber(s string) (float64, bool) {
	if !decimal.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// dateLayouts are the W3C profile of ISO 8601 ("W3C implementations of
// the ISO 8601 date formats"); a time without a zone is read as UTC.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006-01",
}

var epoch = regexp.MustCompile(`^-?[0-9]+$`)

// parseDate reads a date: an integer is epoch (UNIX) seconds, anything
// else one of the ISO 8601 forms.
func parseDate(s string) (time.Time, bool) {
	if epoch.MatchString(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < -62135596800 || n > 253402300799 { // years 1 to 9999
			return time.Time{}, false
		}
		return time.Unix(n, 0), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseIPRange reads a CIDR block, or an address ("If you specify an IP
// address without the associated routing prefix, IAM uses the default
// prefix value of /32").
func parseIPRange(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

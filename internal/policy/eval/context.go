package eval

import (
	"encoding/base64"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is the type a context value was given as. Condition operators
// compare by their own family (a Numeric operator reads the value as a
// number), as IAM does; the kind documents the caller's intent and shows
// in evidence.
type Kind int

// The context value types of the IAM request context.
const (
	KindString Kind = iota
	KindARN
	KindBool
	KindNumber
	KindDate
	KindIP
	KindBinary
)

// Value is the value of one context key: one value, or a set of values for
// a multivalued key (aws:TagKeys, aws:PrincipalServiceNamesList, …).
type Value struct {
	kind  Kind
	texts []string
	multi bool
}

// String is a single string value.
func String(s string) Value { return Value{kind: KindString, texts: []string{s}} }

// ARN is a single ARN value.
func ARN(s string) Value { return Value{kind: KindARN, texts: []string{s}} }

// Bool is a single boolean value.
func Bool(b bool) Value { return Value{kind: KindBool, texts: []string{strconv.FormatBool(b)}} }

// Number is a single numeric value.
func Number(f float64) Value {
	return Value{kind: KindNumber, texts: []string{strconv.FormatFloat(f, 'f', -1, 64)}}
}

// Date is a single date value (aws:CurrentTime, aws:TokenIssueTime).
func Date(t time.Time) Value {
	return Value{kind: KindDate, texts: []string{t.UTC().Format(time.RFC3339Nano)}}
}

// IP is a single IP address value (aws:SourceIp).
func IP(a netip.Addr) Value { return Value{kind: KindIP, texts: []string{a.String()}} }

// Binary is a single binary value, held base64-encoded as policies write it.
func Binary(b []byte) Value {
	return Value{kind: KindBinary, texts: []string{base64.StdEncoding.EncodeToString(b)}}
}

// Strings is a multivalued key's set of values (possibly empty).
func Strings(ss ...string) Value { return Multi(KindString, ss...) }

// Multi is a multivalued key's set of values of one kind.
func Multi(kind Kind, ss ...string) Value {
	return Value{kind: kind, texts: slices.Clone(ss), multi: true}
}

// Texts returns the value's texts.
func (v Value) Texts() []string { return slices.Clone(v.texts) }

// IsMulti reports whether the value is a multivalued key's set.
func (v Value) IsMulti() bool { return v.multi }

// Kind returns the kind the value was given as.
func (v Value) Kind() Kind { return v.kind }

func (v Value) String() string {
	if v.multi || len(v.texts) != 1 {
		return "[" + strings.Join(v.texts, ", ") + "]"
	}
	return v.texts[0]
}

// presence is what a context says about a key.
type presence int

const (
	absent presence = iota
	present
	unknown
)

// Context is the request context: condition keys and their values, keys
// compared case-insensitively as IAM does ("Key names are
// case-insensitive"). A context made with NewContext is complete: a key it
// does not hold is absent from the request. A context made with Scenario
// describes what is known of a class of requests: a key it neither holds
// nor lists as absent may be present or not, with any value, and whatever
// depends on it is left undecided (Maybe).
type Context struct {
	values map[string]namedValue
	absent map[string]bool
	open   bool
}

type namedValue struct {
	key   string
	value Value
}

// NewContext returns a complete request context. Of keys that differ only
// in case, the last in byte order wins.
func NewContext(values map[string]Value) Context {
	c := Context{values: map[string]namedValue{}, absent: map[string]bool{}}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		c.values[strings.ToLower(k)] = namedValue{k, values[k]}
	}
	return c
}

// Scenario returns a partial context: the values known for every request
// of the scenario, the keys known to be absent from all of them, and
// nothing known of any other key.
func Scenario(values map[string]Value, absentKeys ...string) Context {
	c := NewContext(values)
	c.open = true
	for _, k := range absentKeys {
		c.absent[strings.ToLower(k)] = true
	}
	return c
}

// With returns a copy of the context with key set to v.
func (c Context) With(key string, v Value) Context {
	out := Context{values: make(map[string]namedValue, len(c.values)+1), absent: map[string]bool{}, open: c.open}
	for k, nv := range c.values {
		out.values[k] = nv
	}
	for k := range c.absent {
		out.absent[k] = true
	}
	lk := strings.ToLower(key)
	out.values[lk] = namedValue{key, v}
	delete(out.absent, lk)
	return out
}

// Without returns a copy of the context with key absent from the request.
func (c Context) Without(key string) Context {
	out := c.With(key, Value{})
	lk := strings.ToLower(key)
	delete(out.values, lk)
	out.absent[lk] = true
	return out
}

// IsScenario reports whether the context is partial (made with Scenario).
func (c Context) IsScenario() bool { return c.open }

// Get returns the value of key, if the context holds one.
func (c Context) Get(key string) (Value, bool) {
	nv, ok := c.values[strings.ToLower(key)]
	return nv.value, ok
}

// Keys returns the keys the context holds values for, as given, sorted.
func (c Context) Keys() []string {
	keys := make([]string, 0, len(c.values))
	for _, nv := range c.values {
		keys = append(keys, nv.key)
	}
	slices.Sort(keys)
	return keys
}

func (c Context) lookup(key string) (Value, presence) {
	return c.lookupLower(strings.ToLower(key))
}

// lookupLower looks up a lower-cased key.
func (c Context) lookupLower(lk string) (Value, presence) {
	if nv, ok := c.values[lk]; ok {
		return nv.value, present
	}
	if c.open && !c.absent[lk] {
		return Value{}, unknown
	}
	return Value{}, absent
}

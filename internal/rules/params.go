package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/window"
)

// Kind is the type of a rule parameter's value.
type Kind string

const (
	KindDuration Kind = "duration" // written 15d, 36h, 90m
	KindCount    Kind = "count"    // a whole number, at least 1
	// KindList is a list of strings, each entry read by the parameter's
	// Check (e.g. ARN patterns, domain names).
	KindList Kind = "list"
)

// Names of the parameters rules share.
const (
	ParamWindow    = "window"
	ParamThreshold = "threshold"
)

// Param declares one tunable of a rule, once: config parsing and
// validation, the engine, and the rules and explain commands all read it
// from here, so a new tunable is one declaration.
type Param struct {
	// Name is the key under rules.<rule-id> in a config file.
	Name string
	Kind Kind
	// Default is the value when nothing sets it: nanoseconds for a
	// duration. A window without a default takes the run's window
	// (window: in the config, or --window).
	Default int64
	Doc     string
	// Check reads one entry of a list parameter: it returns the entry as
	// the rule compares it (normalised), or why it is refused.
	Check func(string) (string, error)
	// DefaultList is a list parameter's fixed default; DefaultDoc
	// describes it instead when it is derived (e.g. from the evidence),
	// and the rule then reads an unset list as nil.
	DefaultList []string
	DefaultDoc  string
}

// Format writes a value of the parameter the way users write it.
func (p Param) Format(v int64) string {
	if p.Kind == KindDuration {
		return window.Window(v).String()
	}
	return strconv.FormatInt(v, 10)
}

// FormatList writes a list parameter's value the way documentation and
// the run's settings show it.
func FormatList(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

var arnPattern = regexp.MustCompile(`^arn:[^:]*:[^:]*:[^:]*:[^:]*:.+$`)

// CheckPattern checks one entry of an ARN-pattern list parameter: an ARN
// (six colon-separated fields) in which * and ? are wildcards.
func CheckPattern(s string) (string, error) {
	if !arnPattern.MatchString(s) {
		return "", fmt.Errorf("not an ARN pattern (arn:partition:service:region:account:resource, * and ? as wildcards, e.g. arn:aws:iam::111122223333:role/BreakGlass*)")
	}
	return s, nil
}

// DefaultText describes the default for documentation.
func (p Param) DefaultText() string {
	switch {
	case p.Kind == KindList && p.DefaultDoc != "":
		return p.DefaultDoc
	case p.Kind == KindList:
		return FormatList(p.DefaultList)
	case p.Name == ParamWindow && p.Default == 0:
		return "the run's window"
	}
	return p.Format(p.Default)
}

// windowParam is the look-back of rules that judge recent use.
func windowParam(what string) Param {
	return Param{Name: ParamWindow, Kind: KindDuration,
		Doc: "how far back " + what + " counts as recent"}
}

// Param finds a declared parameter of the rule.
func (r Rule) Param(name string) (Param, bool) {
	for _, p := range r.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Settings are the values a rule receives, resolved from the declared
// defaults, the config files and the command line.
type Settings struct {
	// MaxReportAge is how old a credential report may be and still
	// support a pass; every rule that reads the report honours it.
	MaxReportAge time.Duration
	// Values holds every declared number or duration parameter of the
	// rule by name; Lists every declared list parameter (nil: not set and
	// no fixed default, the rule's DefaultDoc applies).
	Values map[string]int64
	Lists  map[string][]string
}

// Duration is the value of a duration parameter. Asking for a parameter
// the rule did not declare is a programming error.
func (s Settings) Duration(name string) time.Duration {
	return time.Duration(s.value(name))
}

// List is the value of a list parameter: nil when it was not set.
func (s Settings) List(name string) []string {
	v, ok := s.Lists[name]
	if !ok {
		panic(fmt.Sprintf("rule setting %q is not declared by the rule", name))
	}
	return v
}

// Count is the value of a count parameter.
func (s Settings) Count(name string) int { return int(s.value(name)) }

// Window is the rule's window.
func (s Settings) Window() time.Duration { return s.Duration(ParamWindow) }

func (s Settings) value(name string) int64 {
	v, ok := s.Values[name]
	if !ok {
		panic(fmt.Sprintf("rule setting %q is not declared by the rule", name))
	}
	return v
}

// With returns a copy of s with one value changed.
func (s Settings) With(name string, v int64) Settings {
	out := Settings{MaxReportAge: s.MaxReportAge, Values: make(map[string]int64, len(s.Values)+1), Lists: s.Lists}
	for k, x := range s.Values {
		out.Values[k] = x
	}
	out.Values[name] = v
	return out
}

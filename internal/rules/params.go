package rules

import (
	"fmt"
	"strconv"
	"time"

	"github.com/rootwatch/rootwatch/internal/window"
)

// Kind is the type of a rule parameter's value.
type Kind string

const (
	KindDuration Kind = "duration" // written 15d, 36h, 90m
	KindCount    Kind = "count"    // a whole number, at least 1
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
}

// Format writes a value of the parameter the way users write it.
func (p Param) Format(v int64) string {
	if p.Kind == KindDuration {
		return window.Window(v).String()
	}
	return strconv.FormatInt(v, 10)
}

// DefaultText describes the default for documentation.
func (p Param) DefaultText() string {
	if p.Name == ParamWindow && p.Default == 0 {
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
	// Values holds every declared parameter of the rule by name.
	Values map[string]int64
}

// Duration is the value of a duration parameter. Asking for a parameter
// the rule did not declare is a programming error.
func (s Settings) Duration(name string) time.Duration {
	return time.Duration(s.value(name))
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
	out := Settings{MaxReportAge: s.MaxReportAge, Values: make(map[string]int64, len(s.Values)+1)}
	for k, x := range s.Values {
		out.Values[k] = x
	}
	out.Values[name] = v
	return out
}

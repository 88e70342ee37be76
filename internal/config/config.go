// Package config reads rootwatch's settings: embedded defaults, then a
// user's YAML file, resolved into engine.Settings. Decoding is strict, and
// every error names the file, the rule and the key at fault.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rootwatch/rootwatch/internal/engine"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default configuration.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// File is the shape of a configuration file.
type File struct {
	Window       string                `yaml:"window"`
	MaxReportAge string                `yaml:"max_report_age"`
	Rules        map[string]RuleConfig `yaml:"rules"`
	Suppressions []SuppressionConfig   `yaml:"suppressions"`
}

// RuleConfig is one rule's entry under rules:.
type RuleConfig struct {
	Enabled   *bool  `yaml:"enabled"`
	Window    string `yaml:"window"`
	Severity  string `yaml:"severity"`
	Threshold *int   `yaml:"threshold"`
}

// SuppressionConfig is one entry under suppressions:.
type SuppressionConfig struct {
	Rule     string `yaml:"rule"`
	Account  string `yaml:"account"`
	Resource string `yaml:"resource"`
	Reason   string `yaml:"reason"`
	Expires  string `yaml:"expires"`
}

var windowRE = regexp.MustCompile(`^(\d+)(w|d|h|m|s)$`)

// ParseWindow reads a duration as users write it: 15d, 2w, 36h, 90m, or any
// Go duration (1h30m). It must be positive.
func ParseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if m := windowRE.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("%q is too large", s)
		}
		unit := map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second}[m[2]]
		d = time.Duration(n) * unit
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration (use e.g. 15d, 36h, 90m)", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be longer than zero", s)
	}
	return d, nil
}

// Decode reads one configuration file strictly: unknown keys are errors.
func Decode(data []byte, name string) (File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return File{}, fmt.Errorf("config %s: %w", name, err)
	}
	return f, nil
}

// Resolve applies the defaults and then each file in order, and checks every
// value against the catalog.
func Resolve(catalog []rules.Rule, files ...NamedFile) (engine.Settings, error) {
	s := engine.Settings{Threshold: 3, Rules: map[string]engine.RuleSettings{}}
	all := append([]NamedFile{{Name: "(built-in defaults)", Data: defaultYAML}}, files...)
	byID := map[string]rules.Rule{}
	for _, r := range catalog {
		byID[r.ID] = r
	}
	for _, nf := range all {
		f, err := Decode(nf.Data, nf.Name)
		if err != nil {
			return engine.Settings{}, err
		}
		if err := apply(&s, f, nf.Name, byID); err != nil {
			return engine.Settings{}, err
		}
	}
	if s.Window == 0 || s.MaxReportAge == 0 {
		return engine.Settings{}, errors.New("config: window and max_report_age must be set")
	}
	return s, nil
}

// NamedFile is configuration text with the name errors should show.
type NamedFile struct {
	Name string
	Data []byte
}

func apply(s *engine.Settings, f File, name string, byID map[string]rules.Rule) error {
	if f.Window != "" {
		d, err := ParseWindow(f.Window)
		if err != nil {
			return fmt.Errorf("config %s: window: %w", name, err)
		}
		s.Window = d
	}
	if f.MaxReportAge != "" {
		d, err := ParseWindow(f.MaxReportAge)
		if err != nil {
			return fmt.Errorf("config %s: max_report_age: %w", name, err)
		}
		s.MaxReportAge = d
	}
	ids := make([]string, 0, len(f.Rules))
	for id := range f.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		rc := f.Rules[id]
		r, ok := byID[id]
		if !ok {
			return fmt.Errorf("config %s: rules.%s: no such rule (list them with `rootwatch rules`)", name, id)
		}
		rs := s.Rules[id]
		if rc.Enabled != nil {
			rs.Disabled = !*rc.Enabled
		}
		if rc.Window != "" {
			if !r.UsesWindow {
				return fmt.Errorf("config %s: rules.%s.window: rule %s has no window", name, id, id)
			}
			d, err := ParseWindow(rc.Window)
			if err != nil {
				return fmt.Errorf("config %s: rules.%s.window: %w", name, id, err)
			}
			rs.Window = d
		}
		if rc.Severity != "" {
			sev, err := finding.ParseSeverity(rc.Severity)
			if err != nil {
				return fmt.Errorf("config %s: rules.%s.severity: %w", name, id, err)
			}
			rs.Severity = sev
		}
		if rc.Threshold != nil {
			if !r.UsesThreshold {
				return fmt.Errorf("config %s: rules.%s.threshold: rule %s has no threshold", name, id, id)
			}
			if *rc.Threshold < 1 {
				return fmt.Errorf("config %s: rules.%s.threshold: must be at least 1, got %d", name, id, *rc.Threshold)
			}
			rs.Threshold = *rc.Threshold
		}
		s.Rules[id] = rs
	}
	for i, sc := range f.Suppressions {
		where := fmt.Sprintf("config %s: suppressions[%d]", name, i)
		if _, ok := byID[sc.Rule]; !ok {
			return fmt.Errorf("%s.rule: %q is not a rule (list them with `rootwatch rules`)", where, sc.Rule)
		}
		if strings.TrimSpace(sc.Reason) == "" {
			return fmt.Errorf("%s (rule %s).reason: a suppression needs a reason", where, sc.Rule)
		}
		if sc.Account != "" && !evidence.ValidAccountID(sc.Account) {
			return fmt.Errorf("%s (rule %s).account: %q is not a 12-digit account ID (quote it in YAML)", where, sc.Rule, sc.Account)
		}
		sup := engine.Suppression{RuleID: sc.Rule, AccountID: sc.Account, Resource: sc.Resource, Reason: sc.Reason}
		if sc.Expires != "" {
			t, err := parseExpiry(sc.Expires)
			if err != nil {
				return fmt.Errorf("%s (rule %s).expires: %w", where, sc.Rule, err)
			}
			sup.Expires = t
		}
		s.Suppressions = append(s.Suppressions, sup)
	}
	return nil
}

func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD nor RFC 3339", s)
}

// Describe renders the resolved settings for the run's "settings" object.
func Describe(s engine.Settings) map[string]string {
	out := map[string]string{
		"window":         rules.FormatWindow(s.Window),
		"max_report_age": rules.FormatWindow(s.MaxReportAge),
	}
	for id, rs := range s.Rules {
		if rs.Disabled {
			out["rules."+id+".enabled"] = "false"
		}
		if rs.Window > 0 {
			out["rules."+id+".window"] = rules.FormatWindow(rs.Window)
		}
		if rs.Severity != "" {
			out["rules."+id+".severity"] = string(rs.Severity)
		}
		if rs.Threshold > 0 {
			out["rules."+id+".threshold"] = strconv.Itoa(rs.Threshold)
		}
	}
	if n := len(s.Suppressions); n > 0 {
		out["suppressions"] = strconv.Itoa(n)
	}
	return out
}

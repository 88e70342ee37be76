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
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rootwatch/rootwatch/internal/engine"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/window"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default configuration.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// File is the shape of a configuration file.
type File struct {
	Window       string              `yaml:"window"`
	MaxReportAge string              `yaml:"max_report_age"`
	Rules        map[string]RuleKeys `yaml:"rules"`
	Suppressions []SuppressionConfig `yaml:"suppressions"`
	// Notifications are read by the scan command (Notifications), not the
	// engine: where and when to tell people.
	Notifications *NotificationsConfig `yaml:"notifications"`
}

// NotificationsConfig is the notifications: section. Flags win over it.
type NotificationsConfig struct {
	Targets     []string `yaml:"targets"` // KIND[@ROUTE]=TARGET, as --notify
	On          string   `yaml:"on"`
	MinSeverity string   `yaml:"min_severity"`
	RouteTag    string   `yaml:"route_tag"`
	Secret      string   `yaml:"secret"` // env:VAR or file:PATH, not the key itself
}

// Notifications reads the notifications: section of a config file (nil
// when it has none).
func Notifications(data []byte, name string) (*NotificationsConfig, error) {
	f, err := Decode(data, name)
	if err != nil {
		return nil, err
	}
	n := f.Notifications
	if n != nil && n.Secret != "" && !strings.HasPrefix(n.Secret, "env:") && !strings.HasPrefix(n.Secret, "file:") {
		return nil, fmt.Errorf("config %s: notifications.secret: give env:VAR or file:PATH, so that the key itself is not kept in the file", name)
	}
	return n, nil
}

// RuleKeys is one rule's entry under rules:. Every rule takes enabled and
// severity; any other key must be a parameter the rule declares
// (rules.Param), and is parsed by its kind.
type RuleKeys map[string]yaml.Node

// SuppressionConfig is one entry under suppressions:.
type SuppressionConfig struct {
	Rule     string `yaml:"rule"`
	Account  string `yaml:"account"`
	Resource string `yaml:"resource"`
	Reason   string `yaml:"reason"`
	// Owner names who answers for the exception (optional; the panel
	// and the evidence show it).
	Owner   string `yaml:"owner"`
	Expires string `yaml:"expires"`
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
	s := engine.Settings{Rules: map[string]engine.RuleSettings{}}
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
		w, err := window.Parse(f.Window)
		if err != nil {
			return fmt.Errorf("config %s: window: %w", name, err)
		}
		s.Window = w.Duration()
	}
	if f.MaxReportAge != "" {
		w, err := window.Parse(f.MaxReportAge)
		if err != nil {
			return fmt.Errorf("config %s: max_report_age: %w", name, err)
		}
		s.MaxReportAge = w.Duration()
	}
	for _, id := range slices.Sorted(maps.Keys(f.Rules)) {
		r, ok := byID[id]
		if !ok {
			return fmt.Errorf("config %s: rules.%s: no such rule (list them with `rootwatch rules`)", name, id)
		}
		rs := s.Rules[id]
		keys := f.Rules[id]
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			node := keys[key]
			if err := applyRuleKey(&rs, r, key, &node); err != nil {
				return fmt.Errorf("config %s: rules.%s.%s: %w", name, id, key, err)
			}
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
		sup := engine.Suppression{RuleID: sc.Rule, AccountID: sc.Account, Resource: sc.Resource, Reason: sc.Reason, Owner: strings.TrimSpace(sc.Owner)}
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

// applyRuleKey sets one key of a rule's entry.
func applyRuleKey(rs *engine.RuleSettings, r rules.Rule, key string, node *yaml.Node) error {
	switch key {
	case "enabled":
		var on bool
		if err := node.Decode(&on); err != nil {
			return fmt.Errorf("want true or false: %w", err)
		}
		rs.Disabled = !on
		return nil
	case "severity":
		var text string
		if err := node.Decode(&text); err != nil {
			return err
		}
		sev, err := finding.ParseSeverity(text)
		if err != nil {
			return err
		}
		rs.Severity = sev
		return nil
	}
	p, ok := r.Param(key)
	if !ok {
		names := []string{"enabled", "severity"}
		for _, p := range r.Params {
			names = append(names, p.Name)
		}
		return fmt.Errorf("rule %s has no %s (its settings: %s)", r.ID, key, strings.Join(names, ", "))
	}
	var v int64
	switch p.Kind {
	case rules.KindList:
		var entries []string
		if err := node.Decode(&entries); err != nil {
			return fmt.Errorf("want a list of strings: %w", err)
		}
		list := make([]string, 0, len(entries))
		for i, e := range entries {
			if p.Check != nil {
				var err error
				if e, err = p.Check(e); err != nil {
					return fmt.Errorf("[%d] %q: %w", i, entries[i], err)
				}
			}
			list = append(list, e)
		}
		if rs.Lists == nil {
			rs.Lists = map[string][]string{}
		}
		rs.Lists[key] = list
		return nil
	case rules.KindDuration:
		var text string
		if err := node.Decode(&text); err != nil {
			return err
		}
		w, err := window.Parse(text)
		if err != nil {
			return err
		}
		v = int64(w)
	case rules.KindCount:
		var n int
		if err := node.Decode(&n); err != nil {
			return fmt.Errorf("want a whole number: %w", err)
		}
		if n < 1 {
			return fmt.Errorf("must be at least 1, got %d", n)
		}
		v = int64(n)
	default:
		return fmt.Errorf("parameter of unknown kind %q", p.Kind)
	}
	if rs.Params == nil {
		rs.Params = map[string]int64{}
	}
	rs.Params[key] = v
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

// Describe renders the resolved settings for the run's "settings" object:
// the run's window and report age, then what was set for each rule.
func Describe(s engine.Settings) map[string]string {
	out := map[string]string{
		"window":         window.Window(s.Window).String(),
		"max_report_age": window.Window(s.MaxReportAge).String(),
	}
	for id, rs := range s.Rules {
		if rs.Disabled {
			out["rules."+id+".enabled"] = "false"
		}
		if rs.Severity != "" {
			out["rules."+id+".severity"] = string(rs.Severity)
		}
		r, _ := rules.ByID(id)
		for name, v := range rs.Params {
			p, ok := r.Param(name)
			if !ok {
				p = rules.Param{Name: name, Kind: rules.KindCount}
			}
			out["rules."+id+"."+name] = p.Format(v)
		}
		for name, v := range rs.Lists {
			out["rules."+id+"."+name] = rules.FormatList(v)
		}
	}
	if n := len(s.Suppressions); n > 0 {
		out["suppressions"] = strconv.Itoa(n)
	}
	return out
}

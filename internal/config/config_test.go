package config

import (
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/rules"
)

func TestParseWindow(t *testing.T) {
	good := map[string]time.Duration{"15d": 15 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, " 7d ": 7 * 24 * time.Hour}
	for in, want := range good {
		if got, err := ParseWindow(in); err != nil || got != want {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-1d", "15", "fifteen days", "15y", "99999999d", "3651d", "522w", "87601h", "5256001m", "315360001s", "87601h0m", "99999999999w"} {
		if _, err := ParseWindow(in); err == nil {
			t.Errorf("ParseWindow(%q) accepted", in)
		}
	}
}

// TestWindowLimitIsOneForEveryUnit: ten years is accepted however written.
func TestWindowLimitIsOneForEveryUnit(t *testing.T) {
	for _, in := range []string{"3650d", "521w", "87600h", "5256000m", "315360000s", "87600h0m0s"} {
		if d, err := ParseWindow(in); err != nil || d > MaxWindow {
			t.Errorf("ParseWindow(%q) = %v, %v", in, d, err)
		}
	}
}

func TestResolveDefaults(t *testing.T) {
	s, err := Resolve(rules.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	if s.Window != 15*24*time.Hour || s.MaxReportAge != 4*time.Hour || len(s.Rules) != 0 {
		t.Errorf("defaults = %+v", s)
	}
	// The failed-logins threshold comes from the rule's declaration.
	r, _ := rules.ByID("iam-root-failed-logins")
	if got := s.For(r); got.Count(rules.ParamThreshold) != 3 || got.Window() != 15*24*time.Hour {
		t.Errorf("failed-logins settings = %+v", got)
	}
	if d := Describe(s); d["window"] != "15d" || d["max_report_age"] != "4h" || len(d) != 2 {
		t.Errorf("Describe = %v", d)
	}
}

func TestResolveUserFile(t *testing.T) {
	yaml := `
window: 30d
rules:
  iam-root-active-password:
    window: 7d
    severity: HIGH
  iam-root-signing-cert-active:
    enabled: false
  iam-root-failed-logins:
    threshold: 5
suppressions:
  - rule: iam-root-no-hardware-mfa
    account: "123456789012"
    reason: hardware keys ordered, ticket SEC-9
    owner: " secops@example.com "
    expires: 2026-06-30
`
	s, err := Resolve(rules.Catalog(), NamedFile{Name: "rw.yaml", Data: []byte(yaml)})
	if err != nil {
		t.Fatal(err)
	}
	rs := s.Rules["iam-root-active-password"]
	if s.Window != 30*24*time.Hour || rs.Params[rules.ParamWindow] != int64(7*24*time.Hour) || rs.Severity != "high" || !s.Rules["iam-root-signing-cert-active"].Disabled {
		t.Errorf("settings = %+v", s)
	}
	d := Describe(s)
	if d["rules.iam-root-active-password.window"] != "7d" || d["rules.iam-root-failed-logins.threshold"] != "5" || d["rules.iam-root-signing-cert-active.enabled"] != "false" {
		t.Errorf("Describe = %v", d)
	}
	if len(s.Suppressions) != 1 || !s.Suppressions[0].Expires.Equal(time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)) || s.Suppressions[0].Owner != "secops@example.com" {
		t.Errorf("suppressions = %+v", s.Suppressions)
	}
}

func TestResolveErrorsNameFileRuleAndKey(t *testing.T) {
	cases := map[string]string{
		"window: 15x": "config rw.yaml: window:",
		"rules:\n  iam-root-nope:\n    window: 1d":                                        "rules.iam-root-nope: no such rule",
		"rules:\n  iam-root-no-mfa:\n    window: 1d":                                      "rules.iam-root-no-mfa.window: rule iam-root-no-mfa has no window",
		"rules:\n  iam-root-no-mfa:\n    severity: urgent":                                "rules.iam-root-no-mfa.severity: unknown severity",
		"rules:\n  iam-root-no-mfa:\n    threshold: 2":                                    "rules.iam-root-no-mfa.threshold",
		"rules:\n  iam-root-active-password:\n    windw: 1d":                              "rules.iam-root-active-password.windw: rule iam-root-active-password has no windw (its settings: enabled, severity, window)",
		"rules:\n  iam-root-failed-logins:\n    threshold: 0":                             "rules.iam-root-failed-logins.threshold: must be at least 1",
		"rules:\n  iam-root-failed-logins:\n    threshold: many":                          "rules.iam-root-failed-logins.threshold: want a whole number",
		"rules:\n  iam-root-failed-logins:\n    enabled: maybe":                           "rules.iam-root-failed-logins.enabled: want true or false",
		"rules:\n  iam-root-failed-logins:\n    window: soon":                             "rules.iam-root-failed-logins.window:",
		"suppressions:\n  - rule: iam-root-no-mfa":                                        "suppressions[0] (rule iam-root-no-mfa).reason",
		"suppressions:\n  - rule: x\n    reason: r":                                       `suppressions[0].rule: "x" is not a rule`,
		"suppressions:\n  - rule: iam-root-no-mfa\n    reason: r\n    account: 12":        "is not a 12-digit account ID",
		"suppressions:\n  - rule: iam-root-no-mfa\n    reason: r\n    expires: next week": "expires",
		"colour: red": "field colour not found",
	}
	for in, want := range cases {
		_, err := Resolve(rules.Catalog(), NamedFile{Name: "rw.yaml", Data: []byte(in)})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "rw.yaml") {
			t.Errorf("%q: err = %v, want it to contain %q and the file name", in, err, want)
		}
	}
}

package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/rules"
)

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

// TestListSetting: a list parameter's entries are checked and kept as the
// rule compares them; a rule that sets nothing gets nil (its documented
// default), not an empty list.
func TestListSetting(t *testing.T) {
	r, _ := rules.ByID("org-root-email-outside-domains")
	s, err := Resolve(rules.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	if got := s.For(r).List(rules.ParamRootEmailDomains); got != nil {
		t.Errorf("default: %q, want nil", got)
	}
	s, err = Resolve(rules.Catalog(), NamedFile{Name: "rw.yaml", Data: []byte("rules:\n  org-root-email-outside-domains:\n    root_email_domains: [Example.COM., bücher.example]\n")})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.For(r).List(rules.ParamRootEmailDomains); !slices.Equal(got, []string{"example.com", "xn--bcher-kva.example"}) {
		t.Errorf("set: %q", got)
	}
	if d := Describe(s); d["rules.org-root-email-outside-domains.root_email_domains"] != "example.com, xn--bcher-kva.example" {
		t.Errorf("Describe = %v", d)
	}
	s, err = Resolve(rules.Catalog(), NamedFile{Name: "rw.yaml", Data: []byte("rules:\n  org-root-email-outside-domains:\n    root_email_domains: []\n")})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.For(r).List(rules.ParamRootEmailDomains); got == nil || len(got) != 0 {
		t.Errorf("an empty list set: %q, want an empty list (no domain allowed)", got)
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
		"rules:\n  org-root-session-holders:\n    allowed_principals: [BreakGlass]":              `rules.org-root-session-holders.allowed_principals: [0] "BreakGlass": not an ARN pattern`,
		"rules:\n  org-root-session-holders:\n    allowed_principals: {a: b}":                    "rules.org-root-session-holders.allowed_principals: want a list of strings",
		"rules:\n  org-root-email-outside-domains:\n    root_email_domains: example.com":         "rules.org-root-email-outside-domains.root_email_domains: want a list of strings",
		"rules:\n  org-root-email-outside-domains:\n    root_email_domains: ['@example.com']":    `root_email_domains: [0] "@example.com": write a domain name such as example.com`,
		"rules:\n  org-root-email-outside-domains:\n    root_email_domains: [ok.com, '*.x.com']": `root_email_domains: [1] "*.x.com"`,
		"rules:\n  org-root-email-outside-domains:\n    root_email_domains: [localhost]":         `root_email_domains: [0] "localhost": a single label`,
		"rules:\n  iam-root-no-mfa:\n    root_email_domains: [example.com]":                      "rule iam-root-no-mfa has no root_email_domains",
	}
	for in, want := range cases {
		_, err := Resolve(rules.Catalog(), NamedFile{Name: "rw.yaml", Data: []byte(in)})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "rw.yaml") {
			t.Errorf("%q: err = %v, want it to contain %q and the file name", in, err, want)
		}
	}
}

// TestPatternsParameter: a list parameter takes a list of patterns,
// reaches the rule through the engine, and shows in the run's settings.
func TestPatternsParameter(t *testing.T) {
	r, _ := rules.ByID("org-root-session-holders")
	s, err := Resolve(rules.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	if got := s.For(r).List(rules.ParamAllowedPrincipals); len(got) != 0 {
		t.Errorf("default = %v, want none", got)
	}
	for in, want := range map[string]string{
		"rules:\n  org-root-session-holders:\n    allowed_principals:\n      - arn:aws:iam::111122223333:role/BreakGlass*\n      - arn:aws:iam::*:role/Audit?": "arn:aws:iam::111122223333:role/BreakGlass*, arn:aws:iam::*:role/Audit?",
	} {
		s, err := Resolve(rules.Catalog(), NamedFile{Name: "rw.yaml", Data: []byte(in)})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(s.For(r).List(rules.ParamAllowedPrincipals), ", "); got != want {
			t.Errorf("%q: patterns %q, want %q", in, got, want)
		}
		if got := Describe(s)["rules.org-root-session-holders.allowed_principals"]; got != want {
			t.Errorf("%q: Describe %q, want %q", in, got, want)
		}
	}
}

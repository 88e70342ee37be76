package rules

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// emailOf is an organization scan's account whose root address is addr,
// in an organization whose management account's address is mgmt.
func emailOf(addr, mgmt string) func(*testing.T) *evidence.Account {
	return func(t *testing.T) *evidence.Account {
		a := &evidence.Account{ID: "123456789012", Partition: "aws"}
		re := evidence.ParseRootEmail(addr, "ListAccounts")
		if mgmt != "" {
			m := evidence.ParseRootEmail(mgmt, "DescribeOrganization")
			re.ManagementDomain, re.ManagementProblem = m.Domain, m.Problem
		}
		a.RootEmail = &re
		a.SetSource(evidence.SourceRootEmail, evidence.SourceStatus{State: evidence.StateOK})
		return a
	}
}

func domains(ds ...string) *Settings {
	s := defaults
	s.Lists = map[string][]string{ParamRootEmailDomains: {}}
	for _, d := range ds {
		n, err := checkDomain(d)
		if err != nil {
			panic(err)
		}
		s.Lists[ParamRootEmailDomains] = append(s.Lists[ParamRootEmailDomains], n)
	}
	return &s
}

func TestRootEmailOutsideDomains(t *testing.T) {
	const corp = "aws-management@example.com"
	runCases(t, orgRootEmailOutsideDomains(), []ruleCase{
		{"not an organization scan", func(*testing.T) *evidence.Account { return &evidence.Account{ID: "123456789012"} }, nil,
			finding.StatusNotApplicable, "known only to an organization scan", nil},
		{"source failed", func(*testing.T) *evidence.Account {
			a := &evidence.Account{ID: "123456789012"}
			a.SetSource(evidence.SourceRootEmail, evidence.SourceStatus{State: evidence.StateError, Detail: "ListAccounts: boom"})
			return a
		}, nil, finding.StatusError, "boom", nil},
		{"no address", emailOf("", corp), nil, finding.StatusUnknown, "ListAccounts gave no e-mail address", nil},
		{"not an address", emailOf("root-at-example.com", corp), nil, finding.StatusUnknown, "not an e-mail address", nil},
		{"invalid domain", emailOf("root@exa_mple.com", corp), nil, finding.StatusUnknown, "not a domain name", nil},

		{"own domain", emailOf("aws-prod@example.com", corp), nil, finding.StatusPass, "within the management account's e-mail domain (example.com)",
			map[string]any{"address": "a***@example.com", "domain": "example.com", "allowed_domains": []string{"example.com"}}},
		{"subdomain", emailOf("aws-prod@aws.Example.COM.", corp), nil, finding.StatusPass, "aws.example.com", nil},
		{"plus-addressing", emailOf("aws+sandbox-222@example.com", corp), nil, finding.StatusPass, "a***@example.com", nil},
		{"the management account's own address", emailOf(corp, corp), nil, finding.StatusPass, "example.com", nil},
		{"lookalike suffix", emailOf("root@notexample.com", corp), nil, finding.StatusFail, "outside the management account's e-mail domain (example.com)", nil},
		{"parent as subdomain of another", emailOf("root@example.com.evil.net", corp), nil, finding.StatusFail, "outside", nil},
		{"a partner's domain", emailOf("ops@partner.net", corp), nil, finding.StatusFail, "on partner.net, outside", map[string]any{"domain": "partner.net"}},

		{"gmail", emailOf("jane.doe@gmail.com", corp), nil, finding.StatusFail, "on gmail.com, a free-mail provider", map[string]any{"free_mail": "gmail.com", "address": "j***@gmail.com"}},
		{"gmail, upper case, trailing dot", emailOf("Jane.Doe@GMAIL.COM.", corp), nil, finding.StatusFail, "a free-mail provider", map[string]any{"domain": "gmail.com"}},
		{"hotmail in a country", emailOf("ops@hotmail.co.uk", corp), nil, finding.StatusFail, "free-mail", map[string]any{"free_mail": "hotmail.*"}},
		{"yahoo.co.jp", emailOf("ops@yahoo.co.jp", corp), nil, finding.StatusFail, "free-mail", map[string]any{"free_mail": "yahoo.*"}},
		{"live.com.au", emailOf("ops@live.com.au", corp), nil, finding.StatusFail, "free-mail", nil},
		{"gmx.de", emailOf("ops@gmx.de", corp), nil, finding.StatusFail, "free-mail", nil},
		{"a subdomain of a provider", emailOf("ops@mail.yandex.ru", corp), nil, finding.StatusFail, "free-mail", nil},
		{"proton", emailOf("ops@proton.me", corp), nil, finding.StatusFail, "free-mail", nil},
		{"disposable", emailOf("ops@mailinator.com", corp), nil, finding.StatusFail, "anyone who knows an address there can read its mail", nil},
		{"free-mail even when allowed", emailOf("ops@gmail.com", corp), domains("gmail.com"), finding.StatusFail, "free-mail", nil},
		{"the management account on free-mail", emailOf("founder@gmail.com", "founder@gmail.com"), nil, finding.StatusFail, "free-mail", nil},
		{"not a wildcard look-alike", emailOf("ops@live.example.com", "ops@example.com"), nil, finding.StatusPass, "example.com", nil},

		{"declared domains", emailOf("root@example.org", corp), domains("corp.example", "example.org"), finding.StatusPass, "within root_email_domains (example.org)", nil},
		{"declared domains leave out the management domain", emailOf("root@example.com", corp), domains("example.org"), finding.StatusFail, "outside root_email_domains (example.org)", nil},
		{"internationalised, declared in Punycode", emailOf("zoë@Bücher.example", corp), domains("xn--bcher-kva.example"), finding.StatusPass, "z***@bücher.example",
			map[string]any{"domain": "bücher.example", "domain_ascii": "xn--bcher-kva.example"}},
		{"internationalised, written in Punycode, declared in Unicode", emailOf("ops@xn--bcher-kva.example", corp), domains("BÜCHER.example"), finding.StatusPass, "within", nil},
		{"an empty list allows nothing", emailOf("root@example.com", corp), domains(), finding.StatusFail, "outside root_email_domains (an empty list: no domain is allowed)", nil},
		{"management domain unknown", emailOf("root@example.org", ""), nil, finding.StatusUnknown, "no domain to judge it against", nil},
		{"management domain unknown, domains declared", emailOf("root@example.org", ""), domains("example.org"), finding.StatusPass, "within", nil},
		{"management domain unknown, free-mail", emailOf("root@gmail.com", ""), nil, finding.StatusFail, "free-mail", nil},
	})
}

// TestRootEmailNeverShown: no finding holds more of the address than its
// domain and the first letter of its local part.
func TestRootEmailNeverShown(t *testing.T) {
	for _, addr := range []string{"jane.doe+aws@gmail.com", "jane.doe@example.org", "jane.doe@example.com", "jane.doe@bücher.example"} {
		for _, s := range []*Settings{nil, domains("example.org")} {
			a := emailOf(addr, "ops@example.com")(t)
			set := defaults
			if s != nil {
				set = *s
			}
			for _, r := range orgRootEmailOutsideDomains().Eval(Input{Account: a, AsOf: asOf, Settings: set}) {
				b, _ := json.Marshal(r)
				if strings.Contains(string(b), "jane.doe") || strings.Contains(string(b), "ane.d") {
					t.Errorf("%s: the finding shows the address: %s", addr, b)
				}
			}
			b, _ := json.Marshal(a.RootEmail)
			if strings.Contains(string(b), "jane") {
				t.Errorf("%s: the evidence keeps the address: %s", addr, b)
			}
		}
	}
}

// TestFreeMailList: every entry is a domain as the rule compares them;
// the wildcard entries match the providers' country domains and nothing
// under another organization's domain.
func TestFreeMailList(t *testing.T) {
	for entry, why := range freeMailDomains {
		d := strings.TrimSuffix(entry, ".*")
		if strings.HasSuffix(entry, ".*") {
			d += ".com"
		}
		if n, err := checkDomain(d); err != nil || n != d {
			t.Errorf("entry %q: %q %v", entry, n, err)
		}
		if why != whyFreeMail && why != whyDisposable {
			t.Errorf("entry %q: no known reason", entry)
		}
	}
	for domain, want := range map[string]string{
		"gmail.com": "gmail.com", "googlemail.com": "googlemail.com", "outlook.com": "outlook.*", "outlook.de": "outlook.*",
		"hotmail.com": "hotmail.*", "hotmail.fr": "hotmail.*", "hotmail.co.uk": "hotmail.*", "hotmail.com.br": "hotmail.*",
		"live.com": "live.*", "live.co.uk": "live.*", "yahoo.com": "yahoo.*", "yahoo.co.jp": "yahoo.*", "yahoo.com.tw": "yahoo.*", "mail.yahoo.com": "yahoo.*",
		"icloud.com": "icloud.com", "me.com": "me.com", "proton.me": "proton.me", "protonmail.com": "protonmail.com",
		"gmx.de": "gmx.*", "gmx.net": "gmx.*", "aol.com": "aol.*", "mail.ru": "mail.ru", "yandex.ru": "yandex.*", "yandex.com.tr": "yandex.*",
		"qq.com": "qq.com", "163.com": "163.com",
		"example.com": "", "live.example.com": "", "gmail.example.com": "", "mygmail.com": "", "yahoo.example.co.uk": "", "hotmail.co.example": "",
		"me.example.com": "", "corp-mail.ru.example": "",
	} {
		if got, _ := freeMail(domain); got != want {
			t.Errorf("%s: matched %q, want %q", domain, got, want)
		}
	}
}

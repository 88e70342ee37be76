package rules

import (
	"errors"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// Why a root e-mail domain is on the free-mail list.
const (
	// A consumer mailbox: anyone can open one, it belongs to a person
	// under the provider's terms rather than to the organization, its
	// protection (password, MFA, recovery phone) is that person's choice,
	// and the provider's consumer processes recover it, lock it, or delete
	// it after a period of inactivity (after which some providers let the
	// name be registered again). The organization can neither take it back
	// when the person leaves nor see who reads it.
	whyFreeMail = "a free-mail provider: anyone can open a mailbox there, and the mailbox belongs to a person under the provider's terms, not to the organization, which cannot take it back, protect it or see who reads it"
	// A disposable or public mailbox: whoever knows (or guesses) the
	// address reads what arrives, with no password at all.
	whyDisposable = "a disposable mailbox service: anyone who knows an address there can read its mail, the root password recovery e-mail included"
)

// freeMailDomains is the maintained list. An entry ending in ".*" stands
// for the provider's domains in every country (hotmail.co.uk, yahoo.co.jp,
// gmx.de): the label, then a top-level domain, or a second-level one
// (co, com, net, org, ne, or, ac) under a two-letter country code. Other
// entries match the domain and its subdomains. An organization's own
// domain that happens to match a wildcard (live.example-tld) is a finding
// to suppress with a reason.
var freeMailDomains = map[string]string{
	// Google, Microsoft, Yahoo, AOL, Apple.
	"gmail.com": whyFreeMail, "googlemail.com": whyFreeMail,
	"outlook.*": whyFreeMail, "hotmail.*": whyFreeMail, "live.*": whyFreeMail, "msn.com": whyFreeMail, "windowslive.com": whyFreeMail,
	"yahoo.*": whyFreeMail, "ymail.com": whyFreeMail, "rocketmail.com": whyFreeMail,
	"aol.*": whyFreeMail, "aim.com": whyFreeMail,
	"icloud.com": whyFreeMail, "me.com": whyFreeMail, "mac.com": whyFreeMail,
	// Privacy-minded providers: still a person's mailbox, not the organization's.
	"proton.me": whyFreeMail, "protonmail.com": whyFreeMail, "protonmail.ch": whyFreeMail, "pm.me": whyFreeMail,
	"tutanota.com": whyFreeMail, "tutanota.de": whyFreeMail, "tuta.io": whyFreeMail, "tuta.com": whyFreeMail,
	"fastmail.com": whyFreeMail, "fastmail.fm": whyFreeMail, "hey.com": whyFreeMail,
	"zoho.com": whyFreeMail, "zohomail.com": whyFreeMail,
	// Europe.
	"gmx.*": whyFreeMail, "web.de": whyFreeMail, "mail.com": whyFreeMail, "email.com": whyFreeMail, "t-online.de": whyFreeMail, "freenet.de": whyFreeMail,
	"orange.fr": whyFreeMail, "wanadoo.fr": whyFreeMail, "free.fr": whyFreeMail, "laposte.net": whyFreeMail, "sfr.fr": whyFreeMail,
	"libero.it": whyFreeMail, "virgilio.it": whyFreeMail, "seznam.cz": whyFreeMail,
	"wp.pl": whyFreeMail, "o2.pl": whyFreeMail, "interia.pl": whyFreeMail, "onet.pl": whyFreeMail, "btinternet.com": whyFreeMail,
	// Russia and neighbours.
	"mail.ru": whyFreeMail, "inbox.ru": whyFreeMail, "list.ru": whyFreeMail, "bk.ru": whyFreeMail, "internet.ru": whyFreeMail,
	"yandex.*": whyFreeMail, "ya.ru": whyFreeMail, "rambler.ru": whyFreeMail,
	// Asia.
	"qq.com": whyFreeMail, "foxmail.com": whyFreeMail, "163.com": whyFreeMail, "126.com": whyFreeMail, "yeah.net": whyFreeMail,
	"sina.com": whyFreeMail, "sina.cn": whyFreeMail, "sohu.com": whyFreeMail, "aliyun.com": whyFreeMail,
	"naver.com": whyFreeMail, "daum.net": whyFreeMail, "hanmail.net": whyFreeMail, "kakao.com": whyFreeMail, "rediffmail.com": whyFreeMail,
	// Internet providers' mailboxes: a subscriber's, not the organization's.
	"comcast.net": whyFreeMail, "att.net": whyFreeMail, "sbcglobal.net": whyFreeMail, "verizon.net": whyFreeMail,
	// Disposable and public mailboxes.
	"mailinator.com": whyDisposable, "yopmail.com": whyDisposable, "guerrillamail.com": whyDisposable, "sharklasers.com": whyDisposable,
	"10minutemail.com": whyDisposable, "temp-mail.org": whyDisposable, "trashmail.com": whyDisposable, "maildrop.cc": whyDisposable,
	"dispostable.com": whyDisposable, "getnada.com": whyDisposable,
}

// countrySecondLevel are the second-level labels providers' country
// domains use under a two-letter country code (yahoo.co.uk, hotmail.com.br).
var countrySecondLevel = map[string]bool{"co": true, "com": true, "net": true, "org": true, "ne": true, "or": true, "ac": true}

// freeMail says why an e-mail domain (ASCII form) is on the free-mail
// list, with the entry it matched, or "" when it is not.
func freeMail(domain string) (entry, why string) {
	labels := strings.Split(domain, ".")
	for i := range labels {
		// The domain and each parent: an entry covers its subdomains.
		if w, ok := freeMailDomains[strings.Join(labels[i:], ".")]; ok {
			return strings.Join(labels[i:], "."), w
		}
		// label.* with a country suffix after it.
		if rest := labels[i+1:]; len(rest) == 1 || len(rest) == 2 && countrySecondLevel[rest[0]] && len(rest[1]) == 2 {
			if w, ok := freeMailDomains[labels[i]+".*"]; ok {
				return labels[i] + ".*", w
			}
		}
	}
	return "", ""
}

// checkDomain reads one entry of root_email_domains.
func checkDomain(s string) (string, error) {
	if strings.ContainsAny(s, "@*") {
		return "", errors.New("write a domain name such as example.com (it covers its subdomains), without @ or wildcards")
	}
	ascii, _, err := evidence.NormalizeDomain(s)
	if err != nil {
		return "", err
	}
	return ascii, nil
}

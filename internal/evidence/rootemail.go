package evidence

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RootEmail is what rootwatch keeps of a root user's e-mail address: its
// domain and a masked local part, never the whole address (whoever reads
// that mailbox can recover the root password, so the address is not
// printed, logged or stored).
type RootEmail struct {
	// Domain is the address's domain in ASCII form: lowercased, without a
	// trailing dot, internationalised labels in Punycode (xn--…). It is ""
	// when there is no usable address (Problem says why).
	Domain string `json:"domain,omitempty"`
	// DomainText is the domain as written (lowercased), when it differs
	// from Domain: an internationalised domain written in Unicode.
	DomainText string `json:"domain_text,omitempty"`
	// Masked is the address with its local part masked: a***@example.com.
	Masked string `json:"masked,omitempty"`
	// Problem says why there is no usable address, without the address.
	Problem string `json:"problem,omitempty"`
	// Source is the call the address came from (ListAccounts).
	Source string `json:"source"`
	// ManagementDomain is the e-mail domain of the organization's
	// management account (DescribeOrganization MasterAccountEmail, else
	// its ListAccounts Email), in ASCII form: the default of the rule's
	// root_email_domains. ManagementProblem says why it is "".
	ManagementDomain  string `json:"management_domain,omitempty"`
	ManagementProblem string `json:"management_problem,omitempty"`
}

// ParseRootEmail keeps of an address what RootEmail keeps. The last @
// separates the local part from the domain (a quoted local part may hold
// one); the domain is normalised by NormalizeDomain. A missing or
// malformed address gives a Problem, never an error: it is evidence.
func ParseRootEmail(addr, source string) RootEmail {
	re := RootEmail{Source: source}
	addr = strings.TrimSpace(addr)
	at := strings.LastIndexByte(addr, '@')
	switch {
	case addr == "":
		re.Problem = source + " gave no e-mail address"
		return re
	case !utf8.ValidString(addr) || strings.ContainsFunc(addr, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		re.Problem = source + " gave an e-mail address with white space, control characters or invalid UTF-8"
		return re
	case at <= 0 || at == len(addr)-1:
		re.Problem = source + " gave a value that is not an e-mail address (no local part and domain around an @)"
		return re
	}
	ascii, text, err := NormalizeDomain(addr[at+1:])
	if err != nil {
		re.Problem = fmt.Sprintf("%s gave an e-mail address whose domain is not a domain name: %v", source, err)
		return re
	}
	re.Domain = ascii
	if text != ascii {
		re.DomainText = text
	}
	re.Masked = MaskLocal(addr[:at]) + "@" + text
	return re
}

// MaskLocal masks an address's local part: its first character and ***
// when it has at least three, *** alone otherwise (a shorter one would be
// shown nearly whole).
func MaskLocal(local string) string {
	r, size := utf8.DecodeRuneInString(local)
	if utf8.RuneCountInString(local) < 3 || r == utf8.RuneError && size <= 1 || !unicode.IsPrint(r) {
		return "***"
	}
	return string(r) + "***"
}

// Label separators IDNA reads as full stops (RFC 3490, 3.1).
var fullStops = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".")

// NormalizeDomain returns a domain name in ASCII form (lowercased, one
// trailing dot dropped, each non-ASCII label in Punycode as xn--…) and as
// written (lowercased, the dot dropped), so that example.com., EXAMPLE.COM
// and the Unicode and Punycode spellings of one internationalised domain
// compare equal. Labels are letters, digits and hyphens (not at either
// end), at most 63 bytes in ASCII form; a name has at least two labels and
// at most 253 bytes. Unicode is only lowercased, not normalised further
// (IDNA's mapping): a name typed in decomposed form is another name here.
func NormalizeDomain(s string) (ascii, text string, err error) {
	text = strings.TrimSuffix(strings.ToLower(fullStops.Replace(s)), ".")
	if text == "" {
		return "", "", errors.New("empty")
	}
	labels := strings.Split(text, ".")
	if len(labels) < 2 {
		return "", "", errors.New("a single label, not a domain of the DNS")
	}
	out := make([]string, len(labels))
	for i, l := range labels {
		switch {
		case l == "":
			return "", "", errors.New("an empty label")
		case strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-"):
			return "", "", fmt.Errorf("label %q begins or ends with a hyphen", l)
		}
		ascii := true
		for _, r := range l {
			switch {
			case r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)):
				ascii = false
			default:
				return "", "", fmt.Errorf("label %q holds %q", l, r)
			}
		}
		out[i] = l
		if !ascii {
			out[i] = "xn--" + punycode(l)
		}
		if len(out[i]) > 63 {
			return "", "", fmt.Errorf("label %q is longer than 63 bytes", l)
		}
	}
	ascii = strings.Join(out, ".")
	if len(ascii) > 253 {
		return "", "", errors.New("longer than 253 bytes")
	}
	return ascii, text, nil
}

// punycode encodes a label (RFC 3492, 6.3). Labels are at most 63 bytes
// long, so its integers cannot overflow.
func punycode(label string) string {
	const base, tmin, tmax, skew, damp = 36, 1, 26, 38, 700
	runes := []rune(label)
	var out []byte
	for _, r := range runes {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	if b > 0 {
		out = append(out, '-')
	}
	adapt := func(delta, points int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / points
		k := 0
		for delta > (base-tmin)*tmax/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	digit := func(d int) byte {
		if d < 26 {
			return byte('a' + d)
		}
		return byte('0' + d - 26)
	}
	n, delta, bias, h := rune(128), 0, 72, b
	for h < len(runes) {
		m := rune(unicode.MaxRune + 1)
		for _, r := range runes {
			if r >= n && r < m {
				m = r
			}
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, r := range runes {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := delta
			for k := base; ; k += base {
				t := min(max(k-bias, tmin), tmax)
				if q < t {
					break
				}
				out = append(out, digit(t+(q-t)%(base-t)))
				q = (q - t) / (base - t)
			}
			out = append(out, digit(q))
			bias = adapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return string(out)
}

// InDomain reports whether domain (ASCII form) is parent or one of its
// subdomains.
func InDomain(domain, parent string) bool {
	return domain == parent || strings.HasSuffix(domain, "."+parent)
}

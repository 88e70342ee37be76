package evidence

import (
	"strings"
	"testing"
)

func TestNormalizeDomain(t *testing.T) {
	for _, c := range []struct{ in, ascii, text, err string }{
		{in: "example.com", ascii: "example.com", text: "example.com"},
		{in: "EXAMPLE.Com.", ascii: "example.com", text: "example.com"},
		{in: "Bücher.example", ascii: "xn--bcher-kva.example", text: "bücher.example"},
		{in: "xn--bcher-kva.example", ascii: "xn--bcher-kva.example", text: "xn--bcher-kva.example"},
		{in: "münchen.de", ascii: "xn--mnchen-3ya.de", text: "münchen.de"},
		// IANA's internationalised test domains.
		{in: "παράδειγμα.δοκιμή", ascii: "xn--hxajbheg2az3al.xn--jxalpdlp", text: "παράδειγμα.δοκιμή"},
		{in: "例え。テスト", ascii: "xn--r8jz45g.xn--zckzah", text: "例え.テスト"},
		{in: "mail.example.co.uk", ascii: "mail.example.co.uk", text: "mail.example.co.uk"},
		{in: "", err: "empty"},
		{in: ".", err: "empty"},
		{in: "localhost", err: "single label"},
		{in: "example..com", err: "empty label"},
		{in: "example.com..", err: "empty label"},
		{in: "-example.com", err: "hyphen"},
		{in: "exa mple.com", err: "holds"},
		{in: "exa_mple.com", err: "holds"},
		{in: "example.com/x", err: "holds"},
		{in: strings.Repeat("a", 64) + ".com", err: "63 bytes"},
		{in: "一丁丂七丄丅丆万丈三上下丌不与丏丐丑丒专且丕世丗丘丙业丛东丝丞丟丠両丢丣两严並丧丨丩个丫.com", err: "63 bytes"},
		{in: strings.Repeat("abcdefgh.", 30) + "com", err: "253 bytes"},
	} {
		ascii, text, err := NormalizeDomain(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: err %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || ascii != c.ascii || text != c.text):
			t.Errorf("%q: %q %q %v, want %q %q", c.in, ascii, text, err, c.ascii, c.text)
		}
	}
}

// TestParseRootEmail: only the domain and a masked local part are kept;
// whatever cannot be read is a problem that names no address.
func TestParseRootEmail(t *testing.T) {
	for _, c := range []struct{ in, domain, text, masked, problem string }{
		{in: "alice@example.com", domain: "example.com", masked: "a***@example.com"},
		{in: "Alice.Smith@EXAMPLE.COM", domain: "example.com", masked: "A***@example.com"},
		{in: "aws+prod-123@example.com", domain: "example.com", masked: "a***@example.com"},
		{in: "root@aws.example.com.", domain: "aws.example.com", masked: "r***@aws.example.com"},
		{in: "jo@example.com", domain: "example.com", masked: "***@example.com"},
		{in: `"odd@local"@example.com`, domain: "example.com", masked: `"***@example.com`},
		{in: "zoë@bücher.example", domain: "xn--bcher-kva.example", text: "bücher.example", masked: "z***@bücher.example"},
		{in: "  bob@example.org ", domain: "example.org", masked: "b***@example.org"},
		{in: "", problem: "ListAccounts gave no e-mail address"},
		{in: "not-an-address", problem: "not an e-mail address"},
		{in: "@example.com", problem: "not an e-mail address"},
		{in: "bob@", problem: "not an e-mail address"},
		{in: "bob@localhost", problem: "single label"},
		{in: "bob smith@example.com", problem: "white space"},
		{in: "bob@exa\x00mple.com", problem: "control characters"},
		{in: "bob@ex\xffample.com", problem: "invalid UTF-8"},
	} {
		got := ParseRootEmail(c.in, "ListAccounts")
		want := RootEmail{Domain: c.domain, DomainText: c.text, Masked: c.masked, Source: "ListAccounts"}
		if c.problem != "" {
			if got.Domain != "" || got.Masked != "" || !strings.Contains(got.Problem, c.problem) {
				t.Errorf("%q: %+v, want the problem %q", c.in, got, c.problem)
			}
			if local, _, _ := strings.Cut(strings.TrimSpace(c.in), "@"); len(local) > 2 && strings.Contains(got.Problem, local) {
				t.Errorf("%q: the problem shows the address: %s", c.in, got.Problem)
			}
			continue
		}
		if got != want {
			t.Errorf("%q: %+v, want %+v", c.in, got, want)
		}
	}
}

func TestMFAKindOf(t *testing.T) {
	for serial, want := range map[string]string{
		"arn:aws:iam::123456789012:mfa/root-account-mfa-device":                  MFAVirtual,
		"arn:aws:iam::123456789012:mfa/ops/phone":                                MFAVirtual,
		"arn:aws-us-gov:iam::123456789012:mfa/phone":                             MFAVirtual,
		"arn:aws:iam::123456789012:u2f/root/yubikey-EXAMPLEBN5FHTECLFG7EXAMPLE":  MFAFIDO,
		"arn:aws:iam::123456789012:u2f/user/alice/fidokeyname-EXAMPLEBN5FHTECLF": MFAFIDO,
		"arn:aws-cn:iam::123456789012:u2f/root/passkey-1":                        MFAFIDO,
		"GAHT12345678":                         MFAHardware,
		"987654321098":                         MFAHardware,
		"arn:aws:iam::123456789012:user/alice": MFAUnknown,
		"arn:aws:sts::123456789012:mfa/x":      MFAUnknown,
		"arn:aws:iam":                          MFAUnknown,
		"":                                     MFAUnknown,
	} {
		if got := MFAKindOf(serial); got != want {
			t.Errorf("%q: %s, want %s", serial, got, want)
		}
	}
}

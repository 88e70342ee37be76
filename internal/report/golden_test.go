package report

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// hostile is AWS text that tries to drive a terminal or reorder what a
// reader sees: an escape sequence (clear screen, set the title) and a
// right-to-left override.
const hostile = "ops\x1b[2J\x1b]0;pwned\x07 \u202eexe.txt"

// goldenCatalog describes the rules goldenRun judges, in catalog order.
func goldenCatalog() finding.Catalog {
	rule := func(id, title, category string, sev finding.Severity, tags ...string) finding.RuleInfo {
		return finding.RuleInfo{ID: id, Title: title, Category: category, Severity: sev, Tags: tags,
			Summary: title + ".", Details: "Why " + id + " matters.", Action: "Fix " + id + ".", References: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html",
			Frameworks: []finding.Framework{{Framework: "CIS AWS Foundations Benchmark", Version: "3.0.0", Control: "1.4"}}}
	}
	return finding.NewCatalog([]finding.RuleInfo{
		rule("iam-root-active-password", "Root user signed in with its password", "credentials", finding.SeverityCritical, "root", "cloudtrail"),
		rule("iam-root-access-key-active", "Root user has an active access key", "credentials", finding.SeverityCritical, "root"),
		rule("iam-root-mfa-enabled", "Root user has MFA", "mfa", finding.SeverityHigh, "root"),
		rule("org-root-access-centralized", "Root access is centrally managed", "organization", finding.SeverityMedium),
		rule("iam-root-access-key-used", "Root access key was used", "credentials", finding.SeverityHigh, "root"),
		rule("iam-root-signing-cert-active", "Root user has an active signing certificate", "credentials", finding.SeverityLow),
	})
}

// goldenRun is a small fixed run: three accounts (assessed, partial,
// failed), a finding of every status, a suppression, a disabled rule, and
// hostile text in a source's detail, a message and a CloudTrail event's
// evidence.
func goldenRun() *finding.Run {
	asOf := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const a, b, c = "111111111111", "222222222222", "333333333333"
	root := func(account, partition string) string { return "arn:" + partition + ":iam::" + account + ":root" }
	f := func(rule, title string, st finding.Status, sev finding.Severity, account, resource, msg string, ev map[string]any) finding.Finding {
		return finding.Finding{RuleID: rule, Title: title, Status: st, Severity: sev, AccountID: account, Region: "global",
			Resource: resource, Message: msg, Evidence: ev, Fingerprint: finding.Fingerprint(rule, account, resource)}
	}
	suppressed := f("iam-root-access-key-active", "Root user has an active access key", finding.StatusSuppressed, finding.SeverityCritical, a, root(a, "aws"),
		"Suppressed (break-glass key, SEC-142): The root user has an active access key: access key 1.",
		map[string]any{"access_key_1_active": "true", "report_line": 2, "source": "credential_report",
			"suppressed_status": "fail", "suppression_reason": "break-glass key, SEC-142", "suppression_owner": "security@example.com", "suppression_expires": "2026-04-15T00:00:00Z"})
	suppressed.Suppression = &finding.Suppression{Reason: "break-glass key, SEC-142", Owner: "security@example.com",
		Expires: time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC), Status: finding.StatusFail}
	findings := []finding.Finding{
		f("iam-root-active-password", "Root user signed in with its password", finding.StatusFail, finding.SeverityCritical, a, root(a, "aws"),
			"The root user signed in with its password 3 days ago, from user agent "+hostile+".",
			map[string]any{"age_days": 3.2, "password_last_used": "2026-02-25T18:23:00+00:00", "source": "credential_report", "window": "15d",
				"cloudtrail_signins": []any{map[string]any{"event_id": "fa4e0001-0000-4000-8000-111111111111", "event_name": "ConsoleLogin",
					"event_time": "2026-02-25T18:00:00Z", "mfa": "no", "region": "us-east-1", "result": "success",
					"source_ip": "203.0.113.24", "user_agent": hostile}}}),
		suppressed,
		f("iam-root-mfa-enabled", "Root user has MFA", finding.StatusPass, finding.SeverityHigh, a, root(a, "aws"),
			"The root user has a hardware MFA device.", map[string]any{"mfa_active": "true", "source": "credential_report"}),
		f("org-root-access-centralized", "Root access is centrally managed", finding.StatusUnknown, finding.SeverityMedium, b, "arn:aws:organizations::111111111111:organization/o-abc",
			"Unknown: organizations:ListAWSServiceAccessForOrganization was denied (AccessDenied).", map[string]any{"source": "organization", "error": "AccessDenied"}),
		f("iam-root-mfa-enabled", "Root user has MFA", finding.StatusNotApplicable, finding.SeverityHigh, b, root(b, "aws"),
			"Not applicable: the member account has no root credentials.", map[string]any{"root_credentials": "none"}),
		f("iam-root-access-key-used", "Root access key was used", finding.StatusError, finding.SeverityHigh, c, root(c, "aws-us-gov"),
			"Error: the credential report could not be read: line 3 has 21 fields, want 22.", map[string]any{"source": "credential_report"}),
	}
	return &finding.Run{
		SchemaVersion: finding.SchemaVersion,
		Tool:          finding.Tool{Name: "rootwatch", Version: "v1.2.3"},
		GeneratedAt:   asOf.Add(5 * time.Minute), AsOf: asOf,
		Settings: map[string]string{"window": "15d", "suppressions": "1"},
		Accounts: []finding.Account{
			{AccountID: a, Name: "payments", Partition: "aws", Status: finding.AccountAssessed, Sources: []finding.Source{
				{Name: "cloudtrail", State: "ok", Detail: "LookupEvents us-east-1, Username=root: 1 root event"},
				{Name: "credential_report", State: "ok", Detail: "reused the existing report; 3 rows", GeneratedTime: "2026-02-28T23:23:00Z"}}},
			{AccountID: b, Name: hostile, Partition: "aws", Status: finding.AccountPartial, Sources: []finding.Source{
				{Name: "organization", State: "denied", Detail: "AccessDenied for role " + hostile}}},
			{AccountID: c, Partition: "aws-us-gov", Status: finding.AccountFailed, Error: "assume role: ExpiredToken"},
		},
		Findings:      findings,
		DisabledRules: []finding.DisabledRule{{RuleID: "iam-root-signing-cert-active", Title: "Root user has an active signing certificate", Severity: finding.SeverityLow}},
		Summary:       finding.Summarize(findings),
	}
}

// goldenPath is where a format's golden file lives.
func goldenPath(format string) string {
	return filepath.Join("testdata", "golden", "run."+Extension(format))
}

// TestFormatsGolden renders goldenRun in every format and compares each with
// testdata/golden/run.<ext>; `go test ./internal/report -update` rewrites
// them (review the diff).
func TestFormatsGolden(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			w, err := New(format, Options{Meta: goldenCatalog()})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := w.Write(&got, goldenRun()); err != nil {
				t.Fatal(err)
			}
			path := goldenPath(format)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/report -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("output differs from %s (review, then regenerate with -update):\n--- got ---\n%s", path, got.Bytes())
			}
			// No format lets a raw control character through; those people
			// read (all but the JSON contract and the JSON records for
			// Security Hub and OCSF consumers) show the override escaped
			// too.
			if bytes.ContainsRune(want, 0x1b) || bytes.ContainsRune(want, 0x07) {
				t.Errorf("%s holds a raw control character", path)
			}
			if machine := format == "json" || format == "asff" || format == "ocsf"; !machine && bytes.ContainsRune(want, 0x202e) {
				t.Errorf("%s holds a raw bidirectional override", path)
			}
		})
	}
}

// TestSARIFGoldenValidates: the SARIF golden, with a disabled rule's
// configuration override and a suppression, passes `sarif-multitool
// validate`.
func TestSARIFGoldenValidates(t *testing.T) {
	testutil.ValidateSARIF(t, goldenPath("sarif"))
}

// TestJUnitGoldenIsWellFormed: the JUnit golden is XML a CI server reads,
// with a suite per account and one for the disabled rules.
func TestJUnitGoldenIsWellFormed(t *testing.T) {
	b, err := os.ReadFile(goldenPath("junit"))
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatal(err)
	}
	if n := len(goldenRun().Accounts) + 1; len(suites.Suites) != n {
		t.Errorf("%d suites, want %d (an account each and the disabled rules): %+v", len(suites.Suites), n, suites.Suites)
	}
}

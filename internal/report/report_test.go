package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestSanitize(t *testing.T) {
	cases := map[string]string{
		"plain text é ü":              "plain text é ü",
		"evil\x1b[2J\x1b]0;pwned\x07": `evil\x1b[2J\x1b]0;pwned\x07`,
		"line\nbreak\r":               `line\x0abreak\x0d`,
		"rtl\u202eoverride":           `rtl\u202eoverride`,
		"c1\u009bcsi":                 `c1\x9bcsi`,
	}
	for in, want := range cases {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTableNeutralisesHostileText(t *testing.T) {
	run := &finding.Run{
		Tool: finding.Tool{Version: "v"}, AsOf: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Settings: map[string]string{"window": "15d"},
		Accounts: []finding.Account{{AccountID: "111111111111", Partition: "aws", Status: finding.AccountPartial,
			Sources: []finding.Source{{Name: "credential_report", State: "error", Detail: "user \x1b[31mred"}}}},
		Findings: []finding.Finding{{RuleID: "r", Status: finding.StatusFail, Severity: finding.SeverityHigh, AccountID: "111111111111",
			Message: "agent \x1b]8;;http://evil\x07click"}},
	}
	var b bytes.Buffer
	if err := (Table{}).Write(&b, run); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(b.String(), 0x1b) || strings.ContainsRune(b.String(), 0x07) {
		t.Errorf("control characters reached the terminal: %q", b.String())
	}
	if !strings.Contains(b.String(), `agent \x1b]8;;http://evil\x07click`) {
		t.Errorf("hostile text not shown escaped: %s", b.String())
	}
}

func TestNewFormats(t *testing.T) {
	for _, f := range Formats() {
		if _, err := New(f, Options{}); err != nil {
			t.Errorf("New(%q): %v", f, err)
		}
	}
	if _, err := New("yaml", Options{}); err == nil || !strings.Contains(err.Error(), "table, json") {
		t.Errorf("unknown format error: %v", err)
	}
}

func TestASFFLimitsAndIDs(t *testing.T) {
	long := strings.Repeat("x", 5000)
	run := &finding.Run{AsOf: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Findings: []finding.Finding{
		{RuleID: "iam-root-no-mfa", Title: long, Status: finding.StatusFail, Severity: finding.SeverityCritical, AccountID: "111111111111",
			Resource: "arn:aws-us-gov:iam::111111111111:root", Message: long, Fingerprint: "abc", Evidence: map[string]any{"k": long, "n": 3}},
		{RuleID: "x", Status: finding.StatusNotApplicable, AccountID: "111111111111"},
		{RuleID: "y", Status: finding.StatusUnknown, Severity: finding.SeverityLow, AccountID: "111111111111", Resource: "arn:aws:iam::111111111111:root", Fingerprint: "def", Evidence: map[string]any{}},
	}}
	recs := ASFF{Region: "us-gov-west-1"}.Findings(run)
	if len(recs) != 2 {
		t.Fatalf("records %d: not_applicable must be left out", len(recs))
	}
	r := recs[0]
	if n := len([]rune(r["Title"].(string))); n != 256 {
		t.Errorf("title length %d", n)
	}
	if n := len([]rune(r["Description"].(string))); n != 1024 {
		t.Errorf("description length %d", n)
	}
	if v := r["ProductFields"].(map[string]string)["rootwatch/evidence/k"]; len([]rune(v)) != 2048 {
		t.Errorf("product field length %d", len([]rune(v)))
	}
	if r["Id"] != "rootwatch/111111111111/iam-root-no-mfa/abc" || r["ProductArn"] != "arn:aws-us-gov:securityhub:us-gov-west-1:111111111111:product/111111111111/default" {
		t.Errorf("id %v product %v", r["Id"], r["ProductArn"])
	}
	if recs[1]["Compliance"].(map[string]any)["Status"] != "NOT_AVAILABLE" {
		t.Errorf("unknown maps to %v", recs[1]["Compliance"])
	}
}

// TestHTMLCardsForEveryoneWhoMustAct: failures, errors and unknowns get
// cards, worst severity first, then fail before error before unknown; a
// partial account says which sources are missing.
func TestHTMLCardsForEveryoneWhoMustAct(t *testing.T) {
	f := func(rule string, st finding.Status, sev finding.Severity) finding.Finding {
		return finding.Finding{RuleID: rule, Title: rule, Status: st, Severity: sev, AccountID: "111111111111", Evidence: map[string]any{}}
	}
	run := &finding.Run{Findings: []finding.Finding{
		f("low-fail", finding.StatusFail, finding.SeverityLow), f("crit-unknown", finding.StatusUnknown, finding.SeverityCritical),
		f("crit-fail", finding.StatusFail, finding.SeverityCritical), f("high-error", finding.StatusError, finding.SeverityHigh),
		f("crit-error", finding.StatusError, finding.SeverityCritical), f("crit-pass", finding.StatusPass, finding.SeverityCritical),
	}, Accounts: []finding.Account{{AccountID: "111111111111", Status: finding.AccountPartial,
		Sources: []finding.Source{{Name: "cloudtrail", State: "missing", Detail: "no CloudTrail evidence was given"}, {Name: "credential_report", State: "ok"}}}}}
	var b strings.Builder
	if err := (HTML{}).Write(&b, run); err != nil {
		t.Fatal(err)
	}
	ids := regexp.MustCompile(`class="card" id="rule-([^"]+)"`).FindAllStringSubmatch(b.String(), -1)
	var got []string
	for _, m := range ids {
		got = append(got, m[1])
	}
	want := []string{"crit-fail-fail", "crit-error-error", "crit-unknown-unknown", "high-error-error", "low-fail-fail"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("cards %v, want %v", got, want)
	}
	if !strings.Contains(b.String(), "<td>cloudtrail missing: no CloudTrail evidence was given</td>") {
		t.Error("the partial account's reason is not shown")
	}
	var md strings.Builder
	if err := (Markdown{}).Write(&md, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| partial | cloudtrail missing: no CloudTrail evidence was given |") {
		t.Errorf("markdown reason missing:\n%s", md.String())
	}
}

// TestJSONStreamsTheEncodersBytes: the streaming writer prints exactly what
// json.Encoder with a two-space indent prints, for full, empty and nil parts.
func TestJSONStreamsTheEncodersBytes(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	full := &finding.Run{SchemaVersion: "1", Tool: finding.Tool{Name: "rootwatch", Version: "t"}, GeneratedAt: at, AsOf: at,
		Settings:      map[string]string{"window": "15d", "b": "<&>"},
		Accounts:      []finding.Account{{AccountID: "111122223333", Sources: []finding.Source{}}, {AccountID: "222233334444"}},
		Findings:      []finding.Finding{{RuleID: "r", Message: "a \u2028 <b>", Evidence: map[string]any{"k": []any{1, "x"}}}},
		DisabledRules: []finding.DisabledRule{{RuleID: "d", Title: "<t>", Severity: finding.SeverityLow}, {RuleID: "e"}},
		History:       &finding.History{RunID: 3, Scope: "s", Changes: []finding.Change{}}}
	for name, run := range map[string]*finding.Run{
		"full":    full,
		"empty":   {SchemaVersion: "1", Accounts: []finding.Account{}, Findings: []finding.Finding{}, DisabledRules: []finding.DisabledRule{}},
		"nil":     {SchemaVersion: "1"},
		"history": {SchemaVersion: "1", History: &finding.History{}},
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(run); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := (JSON{}).Write(&got, run); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: streamed\n%s\nencoder\n%s", name, got.String(), want.String())
		}
	}
}

// TestASFFAndOCSFStreamTheEncodersBytes: ASFF and OCSF, written a finding
// at a time, print what encoding their whole lists prints: one document
// with a two-space indent, and one line per record.
func TestASFFAndOCSFStreamTheEncodersBytes(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var fs []finding.Finding
	for i, st := range []finding.Status{finding.StatusFail, finding.StatusNotApplicable, finding.StatusPass, finding.StatusUnknown} {
		fs = append(fs, finding.Finding{RuleID: "iam-root-active-password", Status: st, Severity: finding.SeverityHigh,
			AccountID: "111122223333", Resource: fmt.Sprintf("arn:aws:iam::111122223333:root#%d", i), Message: "a \u2028 <b> & c",
			Evidence: map[string]any{"k": []any{1, "x"}, "n": 2.5}, Fingerprint: fmt.Sprintf("fp%d", i)})
	}
	runs := map[string]*finding.Run{
		"findings":       {SchemaVersion: "1", AsOf: at, Findings: fs, Accounts: []finding.Account{{AccountID: "111122223333", Partition: "aws"}}},
		"none":           {SchemaVersion: "1", AsOf: at},
		"not applicable": {SchemaVersion: "1", AsOf: at, Findings: fs[1:2]},
	}
	for name, run := range runs {
		a := ASFF{Region: "eu-west-1"}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"Findings": a.Findings(run)}); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := a.Write(&got, run); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("asff, %s: streamed\n%s\nencoder\n%s", name, got.String(), want.String())
		}

		want.Reset()
		got.Reset()
		enc = json.NewEncoder(&want)
		for _, rec := range (OCSF{}).Records(run) {
			if err := enc.Encode(rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := (OCSF{}).Write(&got, run); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() || strings.Count(got.String(), "\n") != len(run.Findings) {
			t.Errorf("ocsf, %s: streamed\n%s\nencoder\n%s", name, got.String(), want.String())
		}
	}
}

// TestASFFResolvedClosesWhatNoLongerFails: what an earlier run imported as
// failing and this run does not send (not applicable now, or gone) is sent
// again archived as passed, for accounts this run assessed; what this run
// judges again is left to its own record.
func TestASFFResolvedClosesWhatNoLongerFails(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f := func(acct, rule string, st finding.Status) finding.Finding {
		res := "arn:aws:iam::" + acct + ":root"
		return finding.Finding{RuleID: rule, Title: rule, Status: st, Severity: finding.SeverityHigh, AccountID: acct, Resource: res,
			Message: string(st) + " message", Evidence: map[string]any{}, Fingerprint: finding.Fingerprint(rule, acct, res)}
	}
	prev := &finding.Run{AsOf: at, Findings: []finding.Finding{
		f("111111111111", "now-not-applicable", finding.StatusFail),
		f("111111111111", "gone", finding.StatusSuppressed),
		f("111111111111", "passes-now", finding.StatusFail),
		f("111111111111", "still-fails", finding.StatusFail),
		f("111111111111", "was-unknown", finding.StatusUnknown),
		f("222222222222", "account-not-assessed-now", finding.StatusFail),
	}}
	run := &finding.Run{AsOf: at.Add(24 * time.Hour),
		Accounts: []finding.Account{{AccountID: "111111111111", Status: finding.AccountPartial}, {AccountID: "222222222222", Status: finding.AccountFailed}},
		Findings: []finding.Finding{
			f("111111111111", "now-not-applicable", finding.StatusNotApplicable),
			f("111111111111", "passes-now", finding.StatusPass),
			f("111111111111", "still-fails", finding.StatusFail),
			f("222222222222", "account-not-assessed-now", finding.StatusError),
		}}
	a := ASFF{Region: "eu-west-1", ProductAccount: "111111111111"}
	got := map[string]map[string]any{}
	for _, rec := range a.Resolved(prev, run) {
		got[rec["GeneratorId"].(string)] = rec
	}
	if len(got) != 2 || got["rootwatch/now-not-applicable"] == nil || got["rootwatch/gone"] == nil {
		t.Fatalf("resolved: %v", got)
	}
	for id, why := range map[string]string{"rootwatch/now-not-applicable": "now not_applicable: not_applicable message (was fail: fail message)",
		"rootwatch/gone": "no longer found: this run judged no such resource (was suppressed: suppressed message)"} {
		rec := got[id]
		if rec["RecordState"] != "ARCHIVED" || rec["Compliance"].(map[string]any)["Status"] != "PASSED" || rec["UpdatedAt"] != "2026-03-02T00:00:00Z" ||
			rec["Description"] != "Resolved as of 2026-03-02T00:00:00Z, "+why || rec["ProductFields"].(map[string]string)["rootwatch/Status"] != "resolved" {
			t.Errorf("%s: %v", id, rec)
		}
	}
	// The id is the one the failing finding was imported under.
	if got["rootwatch/now-not-applicable"]["Id"] != ASFFID(prev.Findings[0]) {
		t.Errorf("id %v, want %s", got["rootwatch/now-not-applicable"]["Id"], ASFFID(prev.Findings[0]))
	}
	if a.Resolved(nil, run) != nil {
		t.Error("resolved findings without a previous run")
	}
	// A pass now is PASSED and ACTIVE: every run updates it.
	for _, rec := range a.Findings(run) {
		if rec["GeneratorId"] == "rootwatch/passes-now" && (rec["RecordState"] != "ACTIVE" || rec["Compliance"].(map[string]any)["Status"] != "PASSED") {
			t.Errorf("a pass: %v", rec)
		}
	}
}

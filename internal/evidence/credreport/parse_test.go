package credreport

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

const header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

// awsRootRow is the realistic root row quoted in AWS.md.
const awsRootRow = "<root_account>,arn:aws:iam::000000000000:root,2022-03-23T10:21:07+00:00,not_supported,2022-08-26T15:26:38+00:00,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "credential-reports", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t *testing.T, csv string) *evidence.CredentialReport {
	t.Helper()
	rep, err := Parse([]byte(csv), "test.csv", time.Time{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rep
}

func TestParseRealisticRootRow(t *testing.T) {
	rep := mustParse(t, header+"\n"+awsRootRow+"\n")
	lk := rep.Root()
	if lk.Row == nil {
		t.Fatalf("root row not found: %s", lk.Problem)
	}
	r := lk.Row
	if r.Line != 2 || r.ARN != "arn:aws:iam::000000000000:root" {
		t.Errorf("line %d arn %q", r.Line, r.ARN)
	}
	want := time.Date(2022, 8, 26, 15, 26, 38, 0, time.UTC)
	if r.PasswordLastUsed.Kind != evidence.KindTime || !r.PasswordLastUsed.Time.Equal(want) {
		t.Errorf("password_last_used = %+v, want %v", r.PasswordLastUsed, want)
	}
	if r.PasswordEnabled.Kind != evidence.KindNotSupported {
		t.Errorf("password_enabled kind = %v, want not_supported", r.PasswordEnabled.Kind)
	}
	if !r.MFAActive.IsFalse() || !r.AccessKeys[0].Active.IsFalse() || r.AccessKeys[0].LastUsedDate.Kind != evidence.KindNotApplicable {
		t.Errorf("mfa/key cells wrong: %+v %+v", r.MFAActive, r.AccessKeys[0])
	}
	if len(rep.Issues) != 0 || len(rep.Warnings) != 0 {
		t.Errorf("unexpected issues %v warnings %v", rep.Issues, rep.Warnings)
	}
}

func TestParseTimeAndBoolValues(t *testing.T) {
	times := []struct {
		raw  string
		kind evidence.Kind
	}{
		{"2022-08-26T15:26:38+00:00", evidence.KindTime},
		{"2022-08-26T15:26:38Z", evidence.KindTime},
		{"2022-08-26T17:26:38+02:00", evidence.KindTime},
		{"N/A", evidence.KindNotApplicable},
		{"no_information", evidence.KindNoInformation},
		{"not_supported", evidence.KindNotSupported},
		{"", evidence.KindInvalid},
		{"2022-08-26", evidence.KindInvalid},
		{"n/a", evidence.KindInvalid},
		{"yesterday", evidence.KindInvalid},
	}
	for _, tc := range times {
		v := evidence.ParseTime(tc.raw)
		if v.Kind != tc.kind {
			t.Errorf("ParseTime(%q) kind = %v, want %v", tc.raw, v.Kind, tc.kind)
		}
		if v.Kind == evidence.KindTime && !v.Time.Equal(time.Date(2022, 8, 26, 15, 26, 38, 0, time.UTC)) {
			t.Errorf("ParseTime(%q) = %v", tc.raw, v.Time)
		}
		if v.Raw != tc.raw {
			t.Errorf("ParseTime(%q) lost the raw text: %q", tc.raw, v.Raw)
		}
	}
	bools := []struct {
		raw   string
		kind  evidence.Kind
		value bool
	}{
		{"true", evidence.KindBool, true}, {"TRUE", evidence.KindBool, true}, {"True", evidence.KindBool, true},
		{"false", evidence.KindBool, false}, {"FALSE", evidence.KindBool, false},
		{"not_supported", evidence.KindNotSupported, false}, {"N/A", evidence.KindNotApplicable, false},
		{"yes", evidence.KindInvalid, false}, {"1", evidence.KindInvalid, false}, {"", evidence.KindInvalid, false},
	}
	for _, tc := range bools {
		v := evidence.ParseBool(tc.raw)
		if v.Kind != tc.kind || v.Value != tc.value {
			t.Errorf("ParseBool(%q) = %+v, want kind %v value %v", tc.raw, v, tc.kind, tc.value)
		}
	}
}

func TestParseMessyButValid(t *testing.T) {
	rep, err := Parse(fixture(t, "messy-bom-crlf.csv"), "messy.csv", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Columns[0] != "user" {
		t.Errorf("BOM not stripped from first column: %q", rep.Columns[0])
	}
	if len(rep.Rows) != 3 {
		t.Fatalf("rows = %d, want 3 (the last line has no final newline)", len(rep.Rows))
	}
	root := rep.Root().Row
	if root == nil || !root.MFAActive.IsTrue() || root.PasswordLastUsed.Kind != evidence.KindNoInformation {
		t.Fatalf("root row from quoted CRLF fields: %+v", root)
	}
	if got := rep.Rows[2].PasswordLastUsed.Raw; got != "2026-01-01T00:00:00+00:00" {
		t.Errorf("CR left in the last cell: %q", got)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], `user "bob" appears on lines 3 and 4`) {
		t.Errorf("duplicate user warning = %v", rep.Warnings)
	}
}

func TestParseHeaderAnyCase(t *testing.T) {
	rep := mustParse(t, strings.Replace(header, "user,", "User,", 1)+"\n"+awsRootRow)
	if rep.Root().Row == nil {
		t.Fatal("header 'User' (as cloud-custodian's fixture has it) not recognised")
	}
}

func TestParseSixteenColumns(t *testing.T) {
	rep, err := Parse(fixture(t, "legacy-16-columns.csv"), "legacy.csv", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Columns) != 16 {
		t.Fatalf("columns = %d", len(rep.Columns))
	}
	r := rep.Root().Row
	if r.AccessKeys[0].LastUsedDate.Kind != evidence.KindMissing {
		t.Errorf("missing column should be KindMissing, got %v", r.AccessKeys[0].LastUsedDate.Kind)
	}
	if !r.AccessKeys[0].Active.IsTrue() || !r.Certs[0].Active.IsTrue() {
		t.Errorf("columns found by name, not position: %+v %+v", r.AccessKeys[0], r.Certs[0])
	}
	if rep.HasColumn("access_key_1_last_used_date") || !rep.HasColumn("cert_2_last_rotated") {
		t.Error("HasColumn wrong")
	}
}

func TestParseInvalidCellsRecorded(t *testing.T) {
	rep, err := Parse(fixture(t, "invalid-cells.csv"), "invalid.csv", time.Time{})
	if err != nil {
		t.Fatalf("a report with invalid cells must still parse: %v", err)
	}
	got := map[string]string{}
	for _, is := range rep.Issues {
		if is.Line != 2 || is.User != "<root_account>" {
			t.Errorf("issue with wrong place: %+v", is)
		}
		got[is.Column] = is.Raw
	}
	want := map[string]string{"password_last_used": "yesterday", "mfa_active": "maybe"}
	if len(got) != len(want) || got["password_last_used"] != "yesterday" || got["mfa_active"] != "maybe" {
		t.Errorf("issues = %v, want %v", got, want)
	}
}

func TestParseRejectsNonReports(t *testing.T) {
	cases := []struct {
		name    string
		data    string
		missing []string
	}{
		{"other CSV", string(fixture(t, "not-a-report.csv")), []string{"user", "arn", "password_last_used", "mfa_active"}},
		{"no mfa column", "user,arn,password_last_used\n", []string{"mfa_active"}},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.data), "people.csv", time.Time{})
		var nr *NotReportError
		if !errors.As(err, &nr) {
			t.Fatalf("%s: err = %v, want NotReportError", tc.name, err)
		}
		if strings.Join(nr.Missing, ",") != strings.Join(tc.missing, ",") {
			t.Errorf("%s: missing = %v, want %v", tc.name, nr.Missing, tc.missing)
		}
		if !strings.Contains(err.Error(), "people.csv") {
			t.Errorf("%s: error does not name the file: %v", tc.name, err)
		}
	}
	for name, data := range map[string]string{
		"empty":            "",
		"bad quote":        header + "\n\"<root_account>,x\n",
		"duplicate column": "user,arn,user,password_last_used,mfa_active\n",
	} {
		_, err := Parse([]byte(data), "f.csv", time.Time{})
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want FormatError", name, err)
		}
	}
}

func TestRootLookupProblems(t *testing.T) {
	other := "<root_account>,arn:aws:iam::000000000000:root,2022-03-23T10:21:07+00:00,not_supported,2022-08-27T00:00:00+00:00,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	cases := []struct {
		name, csv, problem string
	}{
		{"no root row", string(fixture(t, "no-root-row.csv")), "has no root row"},
		{"root name, user ARN", string(fixture(t, "inconsistent-root.csv")), `line 2 is named <root_account> but its ARN "arn:aws:iam::567890123456:user/root" is not a root ARN`},
		{"root ARN, other name", header + "\n" + strings.Replace(awsRootRow, "<root_account>", "admin", 1), `root ARN "arn:aws:iam::000000000000:root" under user name "admin"`},
		{"root rows disagree", header + "\n" + awsRootRow + "\n" + other, "root rows that disagree (lines 2 and 3)"},
		{"short root row", header + "\n" + strings.TrimSuffix(awsRootRow, ",false,N/A"), "root row is malformed: line 2 has 20 fields, the header has 22"},
	}
	for _, tc := range cases {
		rep := mustParse(t, tc.csv)
		lk := rep.Root()
		if lk.Row != nil || !strings.Contains(lk.Problem, tc.problem) {
			t.Errorf("%s: row %v problem %q, want %q", tc.name, lk.Row != nil, lk.Problem, tc.problem)
		}
	}
	// Identical duplicate root rows are tolerated.
	rep := mustParse(t, header+"\n"+awsRootRow+"\n"+awsRootRow+"\n")
	if rep.Root().Row == nil {
		t.Errorf("identical duplicate root rows rejected: %s", rep.Root().Problem)
	}
}

func TestParseFileCLIJSON(t *testing.T) {
	rep, err := ParseFile(fixture(t, "prod-root-recent.cli.json"), "report.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 2, 28, 22, 0, 0, 0, time.UTC); !rep.GeneratedTime.Equal(want) {
		t.Errorf("GeneratedTime = %v, want %v", rep.GeneratedTime, want)
	}
	if rep.Root().Row == nil || len(rep.Rows) != 3 {
		t.Errorf("rows = %d, root %v", len(rep.Rows), rep.Root().Problem)
	}
	for name, data := range map[string]string{
		"no content":   `{"ReportFormat":"text/csv"}`,
		"not base64":   `{"Content":"!!!"}`,
		"bad json":     `{"Content":`,
		"bad time":     `{"Content":"","GeneratedTime":"yesterday"}`,
		"wrong format": `{"Content":"","ReportFormat":"application/pdf"}`,
	} {
		if _, err := ParseFile([]byte(data), "x.json"); err == nil || !strings.Contains(err.Error(), "x.json") {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
}

func TestAccountOf(t *testing.T) {
	rep := mustParse(t, header+"\n"+strings.ReplaceAll(awsRootRow, "arn:aws:", "arn:aws-us-gov:"))
	p, a, err := AccountOf(rep)
	if err != nil || p != "aws-us-gov" || a != "000000000000" {
		t.Errorf("AccountOf = %q %q %v", p, a, err)
	}
	mixed := mustParse(t, string(fixture(t, "prod-root-recent.csv"))+"x,arn:aws:iam::999999999999:user/x,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
	if _, _, err := AccountOf(mixed); err == nil || !strings.Contains(err.Error(), "mixes accounts") {
		t.Errorf("mixed accounts: err = %v", err)
	}
	if _, _, err := AccountOf(mustParse(t, header+"\n")); !errors.Is(err, ErrNoAccountID) {
		t.Errorf("no ARN: err = %v", err)
	}
}

// TestTimesBeforeAWSAreInvalid: no report holds a time before 2006.
func TestTimesBeforeAWSAreInvalid(t *testing.T) {
	for raw, want := range map[string]evidence.Kind{"2005-12-31T23:59:59+00:00": evidence.KindInvalid, "1970-01-01T00:00:00Z": evidence.KindInvalid, "2006-03-14T00:00:00+00:00": evidence.KindTime} {
		if got := evidence.ParseTime(raw).Kind; got != want {
			t.Errorf("%s: kind %v, want %v", raw, got, want)
		}
	}
}

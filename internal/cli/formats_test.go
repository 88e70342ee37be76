package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/outfile"
	"github.com/rootwatch/rootwatch/internal/report"
)

// TestEveryFormatInOneInvocation: one scan writes every format with
// --output-dir, each to rootwatch.<ext>, owner-only; the JSON is the demo
// golden. What each format holds is internal/report's golden test.
func TestEveryFormatInOneInvocation(t *testing.T) {
	dir := t.TempDir()
	args := []string{"scan", "--demo", "--as-of", "2026-03-01T00:00:00Z", "--output-dir", dir}
	for _, f := range report.Formats() {
		args = append(args, "-f", f)
	}
	if r := runCLI(t, nil, args...); r.code != ExitFindings || r.stdout != "" {
		t.Fatalf("exit %d (%v), stdout %q", r.code, r.err, r.stdout)
	}
	var names []string
	for _, f := range report.Formats() {
		name := "rootwatch." + report.Extension(f)
		names = append(names, name)
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, st, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(names) {
		t.Errorf("%d files written, want %d: %v", len(entries), len(names), entries)
	}
	golden(t, "scan-demo.json", string(mustRead(t, filepath.Join(dir, "rootwatch.json"))))
}

func TestOutputPairing(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.sarif")
	r := runCLI(t, nil, "scan", "--demo", "-f", "json", "-o", a, "-f", "sarif", "-o", b)
	if r.code != ExitFindings {
		t.Fatal(r.err)
	}
	if !strings.HasPrefix(string(mustRead(t, a)), "{\n  \"schema_version\"") || !strings.Contains(string(mustRead(t, b)), `"version": "2.1.0"`) {
		t.Error("outputs not paired in order")
	}
	for _, args := range [][]string{
		{"scan", "--demo", "-f", "json", "-f", "csv"},
		{"scan", "--demo", "-f", "json", "-o", a, "-f", "csv"},
		{"scan", "--demo", "-o", a, "--output-dir", dir},
		{"scan", "--demo", "-f", "json", "-o", a, "-f", "csv", "-o", a},
		{"scan", "--demo", "-f", "pdf"},
	} {
		if r := runCLI(t, nil, args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d", args, r.code)
		}
	}
	// --output-dir creates the directory, owner-only.
	created := filepath.Join(dir, "new", "out")
	if r := runCLI(t, nil, "scan", "--demo", "-f", "json", "--output-dir", created); r.code != ExitFindings {
		t.Fatalf("--output-dir a new directory: exit %d (%v)", r.code, r.err)
	}
	if st, err := os.Stat(filepath.Join(created, "rootwatch.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("output in the created directory: %v %v", st, err)
	}
	// -o - is standard output.
	if r := runCLI(t, nil, "scan", "--demo", "-f", "json", "-o", "-", "-f", "csv", "-o", b); r.code != ExitFindings || !strings.HasPrefix(r.stdout, "{") {
		t.Errorf("-o -: exit %d, stdout %.40q", r.code, r.stdout)
	}
	if r := runCLI(t, nil, "scan", "--demo", "-f", "json", "-o", "-", "-f", "csv"); r.code != ExitUsage {
		t.Errorf("two formats to standard output: exit %d", r.code)
	}
}

// TestOutputsCannotCollide: an output over an input, the bundle or another
// output is refused before anything is written, however the path is
// spelled; a failed write leaves an existing output as it was.
func TestOutputsCannotCollide(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.csv")
	data, err := os.ReadFile(fixture("prod-root-recent.csv"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(report, data, 0o600)
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(report, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	out := filepath.Join(dir, "out.json")
	for name, args := range map[string][]string{
		"output over the input, via ./":        {"--credential-report", report, "-f", "csv", "-o", "./report.csv"},
		"output over the input, via a symlink": {"--credential-report", report, "-f", "json", "-o", link},
		"output over the input, relative":      {"--credential-report", "report.csv", "-f", "json", "-o", report},
		"bundle over the input":                {"--credential-report", report, "--save-evidence", link},
		"output over the bundle":               {"--credential-report", report, "--save-evidence", out, "-f", "json", "-o", "./out.json"},
		"two outputs, spelled apart":           {"--credential-report", report, "-f", "json", "-o", out, "-f", "csv", "-o", "./out.json"},
		"output is a directory":                {"--credential-report", report, "-f", "json", "-o", dir},
	} {
		r := runCLI(t, nil, append([]string{"scan", "--as-of", "2026-03-01T00:00:00Z"}, args...)...)
		if r.code != ExitUsage {
			t.Errorf("%s: exit %d (%v)", name, r.code, r.err)
		}
		if got, _ := os.ReadFile(report); string(got) != string(data) {
			t.Fatalf("%s: the input was overwritten", name)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: %s was written", name, out)
		}
	}
	if r := runCLI(t, nil, "trail", repoPath("testdata", "cloudtrail", "root-events.records.json"), "-o", repoPath("testdata", "cloudtrail", "root-events.records.json")); r.code != ExitUsage {
		t.Errorf("trail -o over its input: exit %d", r.code)
	}

	// A write that fails leaves the existing file as it was.
	os.WriteFile(out, []byte("previous run"), 0o600)
	err = outfile.WriteFile(context.Background(), "--output", out, 0o600, func(w io.Writer) error {
		io.WriteString(w, "half a run")
		return errors.New("disk full")
	})
	if got, _ := os.ReadFile(out); err == nil || string(got) != "previous run" {
		t.Errorf("failed write: err %v, file now %q", err, got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".out.json.*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestCSVNeutralisesFormulas checks that cells a spreadsheet would run as
// formulas (from hostile user agents) are neutralised.
func TestCSVNeutralisesFormulas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	runLive(t, hostileWorld, "scan", "-f", "csv", "-o", path)
	f, _ := os.Open(path)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(report.CSVHeader, ",") {
		t.Errorf("header %v", rows[0])
	}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("a cell starts with a formula character: %q", cell)
			}
		}
	}
	for in, want := range map[string]string{"=1+1": "'=1+1", "+cmd": "'+cmd", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx", "ok=1": "ok=1", "": ""} {
		if got := report.NeutralizeCell(in); got != want {
			t.Errorf("NeutralizeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDisabledRulesInEveryFormat: a rule turned off in the configuration
// is judged for no account and listed as disabled in every format that has
// a summary (JSON disabled_rules, SARIF's rule configuration overrides, a
// JUnit suite of skipped cases, a CSV row per rule); ASFF and OCSF, lists
// of findings, have none of it.
func TestDisabledRulesInEveryFormat(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rootwatch.yaml")
	if err := os.WriteFile(cfg, []byte("rules:\n  iam-root-no-hardware-mfa:\n    enabled: false\n  iam-root-signing-cert-active:\n    enabled: false\n    severity: low\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"scan", "--demo", "--as-of", "2026-03-01T00:00:00Z", "--config", cfg, "--output-dir", out}
	for _, f := range report.Formats() {
		args = append(args, "-f", f)
	}
	if r := runCLI(t, nil, args...); r.code != ExitFindings {
		t.Fatalf("exit %d (%v): %s", r.code, r.err, r.stderr)
	}
	read := func(f string) string {
		return string(mustRead(t, filepath.Join(out, "rootwatch."+report.Extension(f))))
	}
	disabled := []string{"iam-root-no-hardware-mfa", "iam-root-signing-cert-active"}

	if got := read("table"); !strings.Contains(got, "\nDisabled by the configuration, judged for no account: 2 rules (iam-root-no-hardware-mfa, iam-root-signing-cert-active).\n") {
		t.Errorf("table:\n%s", got)
	}
	run := decodeRun(t, read("json"))
	want := []finding.DisabledRule{{RuleID: disabled[0], Title: "Root user has no hardware MFA", Severity: finding.SeverityHigh},
		{RuleID: disabled[1], Title: "Root user has an active signing certificate", Severity: finding.SeverityLow}}
	if !reflect.DeepEqual(run.DisabledRules, want) {
		t.Errorf("json disabled_rules = %+v, want %+v", run.DisabledRules, want)
	}
	for _, f := range run.Findings {
		if slices.Contains(disabled, f.RuleID) {
			t.Errorf("a disabled rule was judged: %+v", f)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(read("csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var csvDisabled []string
	for _, row := range rows[1:] {
		if row[3] == report.CSVDisabled {
			if row[0] != "" || row[8] != "" {
				t.Errorf("csv: a disabled rule's row names an account or a fingerprint: %v", row)
			}
			csvDisabled = append(csvDisabled, row[1])
		}
	}
	if !slices.Equal(csvDisabled, disabled) || len(rows) != 1+len(run.Findings)+2 {
		t.Errorf("csv: disabled rows %v of %d rows (findings %d)", csvDisabled, len(rows), len(run.Findings))
	}
	var junit struct {
		Skipped int `xml:"skipped,attr"`
		Suites  []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(read("junit")), &junit); err != nil {
		t.Fatal(err)
	}
	last := junit.Suites[len(junit.Suites)-1]
	if last.Name != "rules disabled by the configuration" || len(last.Cases) != 2 || last.Cases[0].Name != disabled[0] ||
		last.Cases[1].Skipped == nil || !strings.HasPrefix(last.Cases[1].Skipped.Message, "disabled by the configuration") {
		t.Errorf("junit: %+v", last)
	}
	if got := read("markdown"); !strings.Contains(got, "**Disabled by the configuration, judged for no account: 2 rules (`iam-root-no-hardware-mfa`, `iam-root-signing-cert-active`).**") {
		t.Errorf("markdown:\n%s", got)
	}
	var sarif struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				Overrides []struct {
					Descriptor struct {
						ID    string `json:"id"`
						Index int    `json:"index"`
					} `json:"descriptor"`
					Configuration struct {
						Enabled *bool `json:"enabled"`
					} `json:"configuration"`
				} `json:"ruleConfigurationOverrides"`
				Notes []struct {
					Message struct {
						Text string `json:"text"`
					} `json:"message"`
				} `json:"toolConfigurationNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(read("sarif")), &sarif); err != nil {
		t.Fatal(err)
	}
	inv := sarif.Runs[0].Invocations[0]
	if len(inv.Overrides) != 2 || len(inv.Notes) != 2 || !strings.Contains(inv.Notes[0].Message.Text, "iam-root-no-hardware-mfa") {
		t.Fatalf("sarif invocation: %+v", inv)
	}
	for i, o := range inv.Overrides {
		if o.Descriptor.ID != disabled[i] || o.Configuration.Enabled == nil || *o.Configuration.Enabled ||
			sarif.Runs[0].Tool.Driver.Rules[o.Descriptor.Index].ID != disabled[i] {
			t.Errorf("sarif override %d: %+v", i, o)
		}
	}
	if got := read("html"); !strings.Contains(got, `<p id="disabled-rules" data-count="2">`) || !strings.Contains(got, `>iam-root-signing-cert-active</span>`) {
		t.Errorf("html lacks the disabled rules")
	}
	// A finding names its rule in its id (other findings' texts may
	// mention the rule, e.g. iam-root-no-mfa pointing to its sibling).
	for _, f := range []string{"asff", "ocsf"} {
		for _, id := range disabled {
			if strings.Contains(read(f), "/"+id+"/") {
				t.Errorf("%s holds a finding of the disabled rule %s", f, id)
			}
		}
	}
}

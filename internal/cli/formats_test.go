package cli

import (
	"encoding/csv"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/report"
)

// TestEveryFormatGolden writes every format from one fixed run (the demo at
// a fixed time) in a single invocation with --output-dir, and compares each
// with its golden file.
func TestEveryFormatGolden(t *testing.T) {
	dir := t.TempDir()
	args := []string{"scan", "--demo", "--as-of", "2026-03-01T00:00:00Z", "--output-dir", dir}
	for _, f := range report.Formats() {
		args = append(args, "-f", f)
	}
	if r := runCLI(t, nil, args...); r.code != ExitFindings || r.stdout != "" {
		t.Fatalf("exit %d (%v), stdout %q", r.code, r.err, r.stdout)
	}
	for _, f := range report.Formats() {
		name := "rootwatch." + report.Extension(f)
		golden(t, "formats/"+name, string(mustRead(t, filepath.Join(dir, name))))
	}
	// JUnit is well-formed XML with a suite per account.
	var suites struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(mustRead(t, filepath.Join(dir, "rootwatch.junit.xml")), &suites); err != nil || len(suites.Suites) != 3 {
		t.Errorf("junit: %v %+v", err, suites)
	}
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
		{"scan", "--demo", "--output-dir", filepath.Join(dir, "missing")},
		{"scan", "--demo", "-f", "json", "-o", a, "-f", "csv", "-o", a},
		{"scan", "--demo", "-f", "pdf"},
	} {
		if r := runCLI(t, nil, args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d", args, r.code)
		}
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

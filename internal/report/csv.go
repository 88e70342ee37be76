package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// CSVHeader is the fixed column order of the CSV output.
var CSVHeader = []string{"account_id", "rule_id", "title", "status", "severity", "region", "resource", "message", "fingerprint", "evidence"}

// CSV writes one row per finding for spreadsheets, then one row per rule
// the configuration disabled (status "disabled", no account: it was judged
// for none), so that a filter by status shows it. Every cell that a
// spreadsheet would take for a formula is neutralised.
type CSV struct{}

// CSVDisabled is the status cell of a disabled rule's row.
const CSVDisabled = "disabled"

// NeutralizeCell defuses spreadsheet formula injection (CWE-1236): a cell
// starting with =, +, -, @, a tab or a carriage return gets a leading
// apostrophe, which spreadsheets show as text.
func NeutralizeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (CSV) Write(w io.Writer, run *finding.Run) error {
	run = clean(run)
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, f := range run.Findings {
		ev, err := json.Marshal(f.Evidence)
		if err != nil {
			return fmt.Errorf("write csv: evidence of %s/%s: %w", f.AccountID, f.RuleID, err)
		}
		row := []string{f.AccountID, f.RuleID, f.Title, string(f.Status), string(f.Severity), f.Region, f.Resource, f.Message, f.Fingerprint, string(ev)}
		for i := range row {
			row[i] = NeutralizeCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	for _, r := range run.DisabledRules {
		row := []string{"", r.RuleID, r.Title, CSVDisabled, string(r.Severity), "", "", "Disabled by the configuration (enabled: false): judged for no account.", "", "{}"}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

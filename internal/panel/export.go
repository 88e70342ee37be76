package panel

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/rootwatch/rootwatch/internal/panel/query"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
)

// ExportHeader is the export CSV's fixed columns; one column per rule
// (its id, holding the cell's status) follows them.
var ExportHeader = []string{"account_id", "name", "ou_path", "tags", "current", "state_run_id", "state_as_of", "last_status", "last_reason"}

// MatrixExport is the JSON export of the matrix (schema 1): the rows the
// filter selects, every page of them.
type MatrixExport struct {
	SchemaVersion string         `json:"schema_version"`
	LatestRunID   int64          `json:"latest_run_id,omitempty"`
	Filter        ExportFilter   `json:"filter"`
	Rules         []query.Column `json:"rules"`
	// Rows' cells are in the order of Rules.
	Rows []query.Row `json:"rows"`
}

// ExportFilter is the filter an export was made under.
type ExportFilter struct {
	Statuses     []finding.Status   `json:"status,omitempty"`
	Severities   []finding.Severity `json:"severity,omitempty"`
	Rule         string             `json:"rule,omitempty"`
	Account      string             `json:"account,omitempty"`
	OU           string             `json:"ou,omitempty"`
	ChangedSince int64              `json:"changed_since_run,omitempty"`
	Stale        bool               `json:"not_assessed_by_latest,omitempty"`
	Sort         string             `json:"sort,omitempty"`
}

// export serves the matrix's rows under the page's filter, every page of
// them: CSV for spreadsheets (cells sanitised and neutralised as the CSV
// report's are) or JSON for machines (text verbatim, as the JSON report).
func (s *server) export(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tag, err := s.etag(r, false)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if matches(r.Header.Get("If-None-Match"), tag) {
			w.Header().Set("ETag", tag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		f, _, _, err := parseFilter(r.URL.Query())
		if err != nil {
			s.error(w, r, err)
			return
		}
		m, err := s.Source.Matrix(r.Context(), f, query.Page{})
		if err != nil {
			s.error(w, r, err)
			return
		}
		var body []byte
		switch kind {
		case "csv":
			body, err = exportCSV(m)
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		default:
			body, err = exportJSON(m, f)
			w.Header().Set("Content-Type", "application/json")
		}
		if err != nil {
			s.error(w, r, err)
			return
		}
		w.Header().Set("Content-Disposition", `attachment; filename="rootwatch-matrix.`+kind+`"`)
		w.Header().Set("ETag", tag)
		w.Header().Set("Cache-Control", "private, no-cache")
		if r.Method != http.MethodHead {
			w.Write(body)
		}
	}
}

func exportCSV(m query.Matrix) ([]byte, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	header := slices.Clone(ExportHeader)
	for _, c := range m.Rules {
		header = append(header, c.RuleID)
	}
	for i := range header {
		header[i] = cell(header[i])
	}
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	for _, r := range m.Rows {
		var tags []string
		for k, v := range r.Account.Tags {
			tags = append(tags, k+"="+v)
		}
		slices.Sort(tags)
		asOf := ""
		if r.RunID != 0 {
			asOf = r.AsOf.UTC().Format(time.RFC3339)
		}
		row := []string{r.Account.ID, r.Account.Name, r.Account.OUPath, strings.Join(tags, ";"), strconv.FormatBool(r.Current),
			strconv.FormatInt(r.RunID, 10), asOf, string(r.Outcome), r.Reason}
		for _, c := range r.Cells {
			row = append(row, string(c.Status))
		}
		for i := range row {
			row[i] = cell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return nil, err
		}
	}
	cw.Flush()
	return b.Bytes(), cw.Error()
}

// cell makes a CSV cell safe for a spreadsheet and a terminal.
func cell(s string) string { return report.NeutralizeCell(report.Sanitize(s)) }

func exportJSON(m query.Matrix, f query.Filter) ([]byte, error) {
	e := MatrixExport{SchemaVersion: "1", Rules: m.Rules, Rows: m.Rows,
		Filter: ExportFilter{Statuses: f.Statuses, Severities: f.Severities, Rule: f.Rule, Account: f.Account, OU: f.OU, ChangedSince: f.ChangedSince, Stale: f.Stale, Sort: f.Sort}}
	if m.Latest != nil {
		e.LatestRunID = m.Latest.ID
	}
	if e.Rules == nil {
		e.Rules = []query.Column{}
	}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(escapeInvisible(b), '\n'), nil
}

// escapeInvisible writes, in encoded JSON, the runes a viewer would obey
// rather than show (bidirectional overrides, C1 controls; encoding/json
// escapes the C0 ones itself) as \uXXXX escapes. They can only be inside
// strings, which decode to the same text: the data stays verbatim.
func escapeInvisible(b []byte) []byte {
	if !bytes.ContainsFunc(b, unsafeRune) {
		return b
	}
	var out bytes.Buffer
	for _, r := range string(b) {
		if unsafeRune(r) {
			fmt.Fprintf(&out, `\u%04x`, r)
			continue
		}
		out.WriteRune(r)
	}
	return out.Bytes()
}

// unsafeRune is what report.Sanitize escapes, beyond ASCII controls.
func unsafeRune(r rune) bool {
	return (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

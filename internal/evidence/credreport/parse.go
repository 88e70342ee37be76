// Package credreport parses IAM credential reports: the CSV that
// GetCredentialReport returns, or the JSON the AWS CLI prints for
// `aws iam get-credential-report` (base64 content plus GeneratedTime).
package credreport

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// RequiredColumns are the columns without which a CSV is not a credential report.
var requiredColumns = []string{evidence.ColUser, evidence.ColARN, evidence.ColPasswordLastUsed, evidence.ColMFAActive}

// NotReportError says a file is not a credential report.
type NotReportError struct {
	Source  string
	Missing []string
}

func (e *NotReportError) Error() string {
	return fmt.Sprintf("%s is not an IAM credential report: required columns missing: %s", e.Source, strings.Join(e.Missing, ", "))
}

// FormatError says a file could not be read as CSV (or as CLI JSON).
type FormatError struct {
	Source string
	Line   int
	Err    error
}

func (e *FormatError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %v", e.Source, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Source, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// MaxReportBytes is the largest credential report rootwatch reads. IAM
// documents no maximum size, but an account holds at most 5,000 IAM users
// (IAM's quota) and a row is at most about 1.1 KB (a 64-character name, a
// 512-character path in the ARN, 22 cells): 5.5 MB at worst, typically
// 1.5 MB. 16 MiB leaves room for a raised quota (three times the worst
// case, or some 55,000 typical rows) while bounding what a report may cost:
// a parsed report takes about five times its size in memory (the CSV, kept
// as evidence, and a typed row for every line). A larger file is
// refused before it is read, a larger GetCredentialReport answer before it
// is parsed, with TooLargeError.
const MaxReportBytes = 16 << 20

// TooLargeError says a report is over MaxReportBytes.
type TooLargeError struct {
	Source string
	Size   int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: the credential report is %s bytes (%.1f MiB), over the %d MiB rootwatch reads "+
		"(an account's 5,000 IAM users take at most about 5.5 MB); is it the credential report of one account?",
		e.Source, thousands(e.Size), float64(e.Size)/(1<<20), MaxReportBytes>>20)
}

// thousands writes n with commas: 16,777,217.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// maxFileBytes bounds a saved report file: the CLI's JSON form carries the
// report base64-encoded (a third larger) with a few fields around it.
const maxFileBytes = MaxReportBytes/3*4 + 64<<10

// ReadFile reads a saved report file (either form ParseFile takes),
// refusing one too large to be a credential report before reading it all.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read credential report: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > maxFileBytes {
		return nil, &TooLargeError{Source: path, Size: fi.Size()}
	}
	// A pipe or a file that grows is cut one byte past the bound, to tell.
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read credential report %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, &TooLargeError{Source: path, Size: int64(len(data))}
	}
	return data, nil
}

// cliOutput is the JSON printed by `aws iam get-credential-report`.
type cliOutput struct {
	Content       *string `json:"Content"`
	ReportFormat  string  `json:"ReportFormat"`
	GeneratedTime string  `json:"GeneratedTime"`
}

// ParseFile reads either form of a saved report: raw CSV or the AWS CLI's
// JSON. The JSON form carries the generation time; raw CSV does not.
func ParseFile(data []byte, source string) (*evidence.CredentialReport, error) {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var out cliOutput
		if err := json.Unmarshal(trimmed, &out); err != nil {
			return nil, &FormatError{Source: source, Err: fmt.Errorf("looks like JSON but is not valid: %w", err)}
		}
		if out.Content == nil {
			return nil, &FormatError{Source: source, Err: errors.New("JSON has no Content field; expected the output of `aws iam get-credential-report`")}
		}
		if out.ReportFormat != "" && out.ReportFormat != "text/csv" {
			return nil, &FormatError{Source: source, Err: fmt.Errorf("ReportFormat is %q, want text/csv", out.ReportFormat)}
		}
		content := strings.TrimSpace(*out.Content)
		if n := base64.StdEncoding.DecodedLen(len(content)); n > MaxReportBytes {
			return nil, &TooLargeError{Source: source, Size: int64(n)}
		}
		csvData, err := base64.StdEncoding.DecodeString(content)
		if err != nil {
			return nil, &FormatError{Source: source, Err: fmt.Errorf("Content is not base64: %w", err)}
		}
		var gen time.Time
		if out.GeneratedTime != "" {
			gen, err = time.Parse(time.RFC3339, out.GeneratedTime)
			if err != nil {
				return nil, &FormatError{Source: source, Err: fmt.Errorf("GeneratedTime %q is not an RFC 3339 time", out.GeneratedTime)}
			}
		}
		return Parse(csvData, source, gen.UTC())
	}
	return Parse(data, source, time.Time{})
}

// Parse reads credential-report CSV. Columns are found by header name (any
// case), so the 22-column report, the older 16-column one and reports with
// extra columns all parse; cells are typed, and a cell that is not valid for
// its column is recorded in Issues rather than failing the whole report.
func Parse(data []byte, source string, generated time.Time) (*evidence.CredentialReport, error) {
	if len(data) > MaxReportBytes {
		return nil, &TooLargeError{Source: source, Size: int64(len(data))}
	}
	body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1 // short or long rows are reported per row, not fatal
	r.ReuseRecord = false

	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, &FormatError{Source: source, Err: errors.New("file is empty")}
	}
	if err != nil {
		return nil, csvError(source, err)
	}
	cols := make([]string, len(header))
	index := make(map[string]int, len(header))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if _, dup := index[name]; dup {
			return nil, &FormatError{Source: source, Line: 1, Err: fmt.Errorf("column %q appears twice in the header", name)}
		}
		cols[i] = name
		index[name] = i
	}
	var missing []string
	for _, c := range requiredColumns {
		if _, ok := index[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, &NotReportError{Source: source, Missing: missing}
	}

	rep := &evidence.CredentialReport{Source: source, GeneratedTime: generated, Columns: cols, CSV: data}
	// One row a line at most: sized once, a large report's rows are not
	// copied again and again as they grow.
	rep.Rows = make([]evidence.Row, 0, bytes.Count(body, []byte{'\n'})+1)
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(source, err)
		}
		line, _ := r.FieldPos(0)
		row := parseRow(rec, cols, index, line, rep)
		if prev, dup := seen[row.User]; dup {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("user %q appears on lines %d and %d", row.User, prev, line))
		} else {
			seen[row.User] = line
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

func csvError(source string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FormatError{Source: source, Line: pe.Line, Err: pe.Err}
	}
	return &FormatError{Source: source, Err: err}
}

func parseRow(rec, cols []string, index map[string]int, line int, rep *evidence.CredentialReport) evidence.Row {
	for i := range rec {
		rec[i] = evidence.Bound(rec[i]) // a cell of megabytes is no value of any column
	}
	row := evidence.Row{Line: line}
	if len(rec) != len(cols) {
		row.Malformed = fmt.Sprintf("line %d has %d fields, the header has %d", line, len(rec), len(cols))
		rep.Warnings = append(rep.Warnings, row.Malformed)
	}
	cell := func(name string) (string, bool) {
		i, ok := index[name]
		if !ok {
			return "", false
		}
		if i >= len(rec) {
			return "", true // short row: the cell exists in the header but is empty
		}
		return rec[i], true
	}
	str := func(name string) string { s, _ := cell(name); return s }
	timeCol := func(name string) evidence.TimeValue {
		raw, ok := cell(name)
		if !ok {
			return evidence.TimeValue{Kind: evidence.KindMissing}
		}
		v := evidence.ParseTime(raw)
		if v.Kind == evidence.KindInvalid {
			rep.Issues = append(rep.Issues, evidence.FieldIssue{Line: line, User: str(evidence.ColUser), Column: name, Raw: raw})
		}
		return v
	}
	boolCol := func(name string) evidence.BoolValue {
		raw, ok := cell(name)
		if !ok {
			return evidence.BoolValue{Kind: evidence.KindMissing}
		}
		v := evidence.ParseBool(raw)
		if v.Kind == evidence.KindInvalid {
			rep.Issues = append(rep.Issues, evidence.FieldIssue{Line: line, User: str(evidence.ColUser), Column: name, Raw: raw})
		}
		return v
	}

	row.User = str(evidence.ColUser)
	row.ARN = str(evidence.ColARN)
	// Every cell by name is kept for the rows the root lookup compares
	// (named root or with a root ARN); for the others it would be half the
	// memory of a large report, and the report's CSV keeps them anyway.
	if strings.HasSuffix(row.ARN, ":root") || row.User == evidence.RootUserName {
		row.Raw = make(map[string]string, len(cols))
		for i, c := range cols {
			if i < len(rec) {
				row.Raw[c] = rec[i]
			}
		}
	}
	row.UserCreationTime = timeCol(evidence.ColUserCreationTime)
	row.PasswordEnabled = boolCol(evidence.ColPasswordEnabled)
	row.PasswordLastUsed = timeCol(evidence.ColPasswordLastUsed)
	row.PasswordLastChanged = timeCol(evidence.ColPasswordLastChanged)
	row.PasswordNextRotation = timeCol(evidence.ColPasswordNextRotation)
	row.MFAActive = boolCol(evidence.ColMFAActive)
	for n := 1; n <= 2; n++ {
		row.AccessKeys[n-1] = evidence.AccessKey{
			Active:         boolCol(evidence.KeyCol(n, "active")),
			LastRotated:    timeCol(evidence.KeyCol(n, "last_rotated")),
			LastUsedDate:   timeCol(evidence.KeyCol(n, "last_used_date")),
			LastUsedRegion: str(evidence.KeyCol(n, "last_used_region")),
			LastUsedSvc:    str(evidence.KeyCol(n, "last_used_service")),
		}
		row.Certs[n-1] = evidence.Cert{
			Active:      boolCol(evidence.CertCol(n, "active")),
			LastRotated: timeCol(evidence.CertCol(n, "last_rotated")),
		}
	}
	return row
}

// ErrNoAccountID says a report names no account; the caller must.
var ErrNoAccountID = errors.New("the account must be given")

// AccountOf returns the partition and account ID a report belongs to, read
// from its ARNs. A report whose ARNs name several accounts is refused.
func AccountOf(rep *evidence.CredentialReport) (partition, account string, err error) {
	for _, row := range rep.Rows {
		p, a, ok := evidence.ParseIAMARN(row.ARN)
		if !ok {
			continue
		}
		if account == "" {
			partition, account = p, a
			continue
		}
		if a != account || p != partition {
			return "", "", fmt.Errorf("%s mixes accounts: line %d has %s in %s, earlier rows have %s in %s",
				rep.Source, row.Line, a, p, account, partition)
		}
	}
	if account == "" {
		return "", "", fmt.Errorf("%s has no IAM ARN from which to read the account ID: %w", rep.Source, ErrNoAccountID)
	}
	return partition, account, nil
}

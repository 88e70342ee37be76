package evidence

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Credential report column names, as AWS writes them.
const (
	ColUser                 = "user"
	ColARN                  = "arn"
	ColUserCreationTime     = "user_creation_time"
	ColPasswordEnabled      = "password_enabled"
	ColPasswordLastUsed     = "password_last_used"
	ColPasswordLastChanged  = "password_last_changed"
	ColPasswordNextRotation = "password_next_rotation"
	ColMFAActive            = "mfa_active"
)

// RootUserName is the user column of the root row.
const RootUserName = "<root_account>"

// KeyCol returns the column name of access key n (1 or 2), e.g. KeyCol(1, "active").
func KeyCol(n int, field string) string { return fmt.Sprintf("access_key_%d_%s", n, field) }

// CertCol returns the column name of signing certificate n (1 or 2).
func CertCol(n int, field string) string { return fmt.Sprintf("cert_%d_%s", n, field) }

// AccessKey is one access-key slot of a credential report row.
type AccessKey struct {
	Active         BoolValue
	LastRotated    TimeValue
	LastUsedDate   TimeValue
	LastUsedRegion string
	LastUsedSvc    string
}

// Cert is one signing-certificate slot of a credential report row.
type Cert struct {
	Active      BoolValue
	LastRotated TimeValue
}

// Row is one user of a credential report, typed.
type Row struct {
	Line int // 1-based line of the record in the file
	// Malformed is non-empty when the row's field count differs from the
	// header's: its cells may be shifted, so root rules will not trust it.
	Malformed            string
	User                 string
	ARN                  string
	UserCreationTime     TimeValue
	PasswordEnabled      BoolValue
	PasswordLastUsed     TimeValue
	PasswordLastChanged  TimeValue
	PasswordNextRotation TimeValue
	MFAActive            BoolValue
	AccessKeys           [2]AccessKey
	Certs                [2]Cert
	// Raw holds every cell by (lower-case) column name, for the rows the
	// root lookup compares (named <root_account> or with an ARN ending in
	// :root); nil for other users, whose cells stay in the report's CSV.
	Raw map[string]string
}

// FieldIssue records a cell whose value is not valid for its column.
type FieldIssue struct {
	Line   int
	User   string
	Column string
	Raw    string
}

func (f FieldIssue) String() string {
	return fmt.Sprintf("line %d (user %q): column %s has invalid value %q", f.Line, f.User, f.Column, f.Raw)
}

// CredentialReport is a parsed IAM credential report.
type CredentialReport struct {
	// Source names where the report came from (a file path or "GetCredentialReport").
	Source string `json:"source"`
	// GeneratedTime is when AWS generated the report; zero when unknown
	// (a bare CSV file carries no generation time).
	GeneratedTime time.Time `json:"generated_time"`
	// TakenAtAsOf says the user stated that a report without a generation
	// time shows the state at the as-of time (a bare CSV judged with an
	// explicit --as-of). Without it, an undated report cannot support a
	// pass: it may be years old.
	TakenAtAsOf bool `json:"taken_at_as_of,omitempty"`
	// Columns are the header names, lower-cased, in file order.
	Columns []string `json:"-"`
	Rows    []Row    `json:"-"`
	// Issues lists invalid cells; only rules reading those cells are affected.
	Issues []FieldIssue `json:"-"`
	// Warnings lists structural oddities (duplicate rows, short rows).
	Warnings []string `json:"-"`
	// CSV is the report text exactly as read (base64 in JSON, so that it
	// survives exactly). Only Source, GeneratedTime and CSV are saved: the
	// rest is parsed again from CSV by the same parser.
	CSV []byte `json:"csv"`
}

// HasColumn reports whether the report has the named column.
func (r *CredentialReport) HasColumn(name string) bool {
	return slices.Contains(r.Columns, name)
}

var rootARN = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):root$`)

// ParseRootARN returns the partition and account of a root ARN.
func ParseRootARN(arn string) (partition, account string, ok bool) {
	m := rootARN.FindStringSubmatch(arn)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

var iamARN = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):`)

// ParseIAMARN returns the partition and account of any IAM ARN.
func ParseIAMARN(arn string) (partition, account string, ok bool) {
	m := iamARN.FindStringSubmatch(arn)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// RootLookup is the outcome of looking for the root row.
type RootLookup struct {
	Row *Row
	// Problem is empty when Row is usable; otherwise it says why root rules
	// cannot be judged from this report.
	Problem string
}

// Root finds the root row. It refuses to guess: a missing root row, a row
// named <root_account> without a root ARN, a root ARN on another user name,
// or two root rows that disagree all make the root row unusable.
func (r *CredentialReport) Root() RootLookup {
	var found []*Row
	for i := range r.Rows {
		row := &r.Rows[i]
		_, _, arnIsRoot := ParseRootARN(row.ARN)
		switch {
		case row.User == RootUserName && !arnIsRoot:
			return RootLookup{Problem: fmt.Sprintf("credential report line %d is named %s but its ARN %q is not a root ARN; root rules cannot trust it", row.Line, RootUserName, row.ARN)}
		case row.User != RootUserName && arnIsRoot:
			return RootLookup{Problem: fmt.Sprintf("credential report line %d has the root ARN %q under user name %q; root rules cannot trust it", row.Line, row.ARN, row.User)}
		case row.User == RootUserName:
			found = append(found, row)
		}
	}
	if len(found) == 0 {
		return RootLookup{Problem: "the credential report has no root row (" + RootUserName + ")"}
	}
	if found[0].Malformed != "" {
		return RootLookup{Problem: "the root row is malformed: " + found[0].Malformed}
	}
	for _, other := range found[1:] {
		if !sameCells(found[0].Raw, other.Raw) {
			return RootLookup{Problem: fmt.Sprintf("the credential report has root rows that disagree (lines %d and %d)", found[0].Line, other.Line)}
		}
	}
	return RootLookup{Row: found[0]}
}

func sameCells(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

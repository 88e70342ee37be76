// Package finding defines what a scan produces: findings with a status and a
// severity, per-account outcomes, and the Run that gathers them. Writers read
// these types; nothing here does I/O.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Status is the verdict of one rule on one account and resource.
type Status string

const (
	StatusPass          Status = "pass"
	StatusFail          Status = "fail"
	StatusUnknown       Status = "unknown"
	StatusError         Status = "error"
	StatusNotApplicable Status = "not_applicable"
	StatusSuppressed    Status = "suppressed"
)

// Statuses lists every status in the order summaries print them.
func Statuses() []Status {
	return []Status{StatusFail, StatusUnknown, StatusError, StatusPass, StatusNotApplicable, StatusSuppressed}
}

// Urgency orders statuses by how much they need someone, the worst
// highest: fail, error, unknown, suppressed, pass, not_applicable (0, as
// is anything else).
func (s Status) Urgency() int {
	switch s {
	case StatusFail:
		return 5
	case StatusError:
		return 4
	case StatusUnknown:
		return 3
	case StatusSuppressed:
		return 2
	case StatusPass:
		return 1
	}
	return 0
}

// Severity ranks how bad a failing finding is.
type Severity string

const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Rank orders severities: critical is 4, info is 0, anything else -1.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	case SeverityInfo:
		return 0
	}
	return -1
}

// ParseSeverity accepts a severity name in any case.
func ParseSeverity(s string) (Severity, error) {
	sev := Severity(strings.ToLower(strings.TrimSpace(s)))
	if sev.Rank() < 0 {
		return "", fmt.Errorf("unknown severity %q (want critical, high, medium, low or info)", s)
	}
	return sev, nil
}

// Finding is the verdict of one rule on one resource of one account.
type Finding struct {
	RuleID      string         `json:"rule_id"`
	Title       string         `json:"title"`
	Status      Status         `json:"status"`
	Severity    Severity       `json:"severity"`
	AccountID   string         `json:"account_id"`
	Region      string         `json:"region"`
	Resource    string         `json:"resource"`
	Message     string         `json:"message"`
	Evidence    map[string]any `json:"evidence"`
	Fingerprint string         `json:"fingerprint"`
	// Suppression is set when a suppression matched the finding (applied,
	// or expired and so not applied). Writers read it here; the JSON
	// contract carries the same facts as suppression_* evidence keys.
	Suppression *Suppression `json:"-"`
	// FirstSeen and Change are set when the run is kept in a store: since
	// when the finding has had its status (runs that did not judge it,
	// error or unknown, do not interrupt a verdict), and how it changed
	// since the previous run of the same scope (a Change kind, or
	// "unchanged").
	FirstSeen *time.Time `json:"first_seen,omitempty"`
	Change    string     `json:"change,omitempty"`
}

// Suppression is an accepted finding's exception.
type Suppression struct {
	Reason string
	// Owner is who answers for the exception ("" when the configuration
	// names nobody).
	Owner string
	// Expires is zero for a suppression that never expires.
	Expires time.Time
	// Expired is true when the suppression matched but had expired, so
	// the finding keeps its status.
	Expired bool
	// Status is the status the finding had before it was suppressed.
	Status Status
}

// Fingerprint identifies the subject of a finding (rule, account, resource),
// not its verdict, so that baselines and suppressions survive status changes.
func Fingerprint(ruleID, accountID, resource string) string {
	sum := sha256.Sum256([]byte(ruleID + "\x00" + accountID + "\x00" + resource))
	return hex.EncodeToString(sum[:16])
}

// AccountStatus says how completely an account was assessed.
type AccountStatus string

const (
	AccountAssessed AccountStatus = "assessed"
	AccountPartial  AccountStatus = "partial"
	AccountFailed   AccountStatus = "failed"
	AccountSkipped  AccountStatus = "skipped"
)

// Source reports what happened to one evidence source of an account.
type Source struct {
	Name          string `json:"name"`
	State         string `json:"state"`
	Detail        string `json:"detail"`
	GeneratedTime string `json:"generated_time,omitempty"`
}

// Account is one audited account's outcome.
type Account struct {
	AccountID string `json:"account_id"`
	// Name is the account's name (Organizations), when the scan read it.
	Name string `json:"name,omitempty"`
	// OUPath is the account's place in the organization, its OU names
	// from the root down joined by "/" (e.g. "Root/Workloads/Prod"), when
	// the scan knows it: an organization scan's SCP reader walks each
	// member's path (evidence.SCPs.OUPath; an OU ID stands in for a name
	// DescribeOrganizationalUnit did not give). The panel filters by it.
	OUPath    string        `json:"ou_path,omitempty"`
	Partition string        `json:"partition"`
	Status    AccountStatus `json:"status"`
	Sources   []Source      `json:"sources"`
	Error     string        `json:"error"`
	// Tags are the account's Organizations tags, when the scan read them.
	Tags map[string]string `json:"tags,omitempty"`
}

// Reason says why an account was not fully assessed: its error, or for a
// partial account the sources that were not collected and why.
func (a Account) Reason() string {
	if a.Error != "" || a.Status != AccountPartial {
		return a.Error
	}
	var why []string
	for _, s := range a.Sources {
		if s.State != "ok" {
			why = append(why, fmt.Sprintf("%s %s: %s", s.Name, s.State, s.Detail))
		}
	}
	return strings.Join(why, "; ")
}

// Tool names the program that produced a run.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Summary counts findings per status.
type Summary struct {
	Pass          int `json:"pass"`
	Fail          int `json:"fail"`
	Unknown       int `json:"unknown"`
	Error         int `json:"error"`
	NotApplicable int `json:"not_applicable"`
	Suppressed    int `json:"suppressed"`
}

// Count returns the number of findings with status s.
func (s Summary) Count(st Status) int {
	switch st {
	case StatusPass:
		return s.Pass
	case StatusFail:
		return s.Fail
	case StatusUnknown:
		return s.Unknown
	case StatusError:
		return s.Error
	case StatusNotApplicable:
		return s.NotApplicable
	case StatusSuppressed:
		return s.Suppressed
	}
	return 0
}

// Summarize counts the findings per status.
func Summarize(fs []Finding) Summary {
	var s Summary
	for _, f := range fs {
		switch f.Status {
		case StatusPass:
			s.Pass++
		case StatusFail:
			s.Fail++
		case StatusUnknown:
			s.Unknown++
		case StatusError:
			s.Error++
		case StatusNotApplicable:
			s.NotApplicable++
		case StatusSuppressed:
			s.Suppressed++
		}
	}
	return s
}

// SchemaVersion is the version of the JSON contract in docs/DESIGN.md.
const SchemaVersion = "1"

// Run is the whole result of a scan.
type Run struct {
	SchemaVersion string            `json:"schema_version"`
	Tool          Tool              `json:"tool"`
	GeneratedAt   time.Time         `json:"generated_at"`
	AsOf          time.Time         `json:"as_of"`
	Settings      map[string]string `json:"settings"`
	Accounts      []Account         `json:"accounts"`
	Findings      []Finding         `json:"findings"`
	// DisabledRules are the rules the configuration turned off, in
	// catalog order: judged for no account, so no finding of theirs is in
	// Findings, and every writer says so. Empty when none; null only in a
	// run stored before rootwatch recorded them.
	DisabledRules []DisabledRule `json:"disabled_rules"`
	Summary       Summary        `json:"summary"`
	// History is set when the run is kept in a store: its id there and
	// what changed since the previous run of the same scope.
	History *History `json:"history,omitempty"`
}

// DisabledRule is a rule the configuration turned off (enabled: false).
type DisabledRule struct {
	RuleID   string   `json:"rule_id"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
}

// History places a stored run among the others.
type History struct {
	RunID int64  `json:"run_id"`
	Scope string `json:"scope"`
	// PreviousRunID and PreviousAsOf are zero when the store held no
	// earlier run of the scope. The findings are then compared with their
	// last verdicts in runs of other scopes (an account or a rule added
	// since), and what the store never judged is new.
	PreviousRunID int64      `json:"previous_run_id,omitempty"`
	PreviousAsOf  *time.Time `json:"previous_as_of,omitempty"`
	// Baseline says the store had judged none of the run's findings
	// before: nothing is new against it, and Changes are empty.
	Baseline bool     `json:"baseline,omitempty"`
	Changes  []Change `json:"changes"`
}

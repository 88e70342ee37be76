// Package query is the query layer of rootwatch serve's panel
// (internal/panel): a Source answers the questions the panel's views ask
// of the stored runs, from memory (Memory, for tests) or from a store
// (StoreSource). It knows nothing of HTTP or HTML.
package query

import (
	"context"
	"errors"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/store"
)

// Source answers exactly the questions the panel's views ask of the
// stored runs. Every method is safe for concurrent use.
//
// Time is judged time, as in the store: runs are ordered by as-of time,
// then id, and "the latest run" is the last in that order. An account's
// current state is what the last run that assessed it (status assessed or
// partial) found; a later run that did not assess it (failed, skipped,
// or another scope) leaves that state in place, with its age.
type Source interface {
	// Generation names the set of stored runs: it changes whenever a run
	// is stored or pruned, so that pages can be revalidated (ETags).
	Generation(ctx context.Context) (string, error)
	// Overview is the latest run's counts and the trend over every run.
	Overview(ctx context.Context) (Overview, error)
	// Matrix is one page of the accounts × rules matrix under a filter
	// (Page.Limit 0: every row, for exports).
	Matrix(ctx context.Context, f Filter, p Page) (Matrix, error)
	// Account is an account's current findings, evidence included, and
	// each rule's status over the runs that held the account;
	// ErrNotFound when no stored run holds it.
	Account(ctx context.Context, id string) (AccountView, error)
	// Rule is how the accounts' current findings of a rule stand, and the
	// accounts it fails, newest failure first.
	Rule(ctx context.Context, id string) (RuleView, error)
	// Runs lists the stored runs, newest stored first (as 'rootwatch runs').
	Runs(ctx context.Context) ([]store.RunInfo, error)
	// Diff compares two stored runs as 'rootwatch diff' does (history.Changes).
	// to 0 is the newest stored run; from 0 is the run of to's scope
	// judged before it
	// (ErrNoEarlierRun when there is none). ErrNotFound for a run not
	// stored.
	Diff(ctx context.Context, from, to int64) (Diff, error)
	// Suppressions lists every suppression the accounts' current findings
	// carry: in force, and expired (matched but no longer applied).
	Suppressions(ctx context.Context) ([]Suppression, error)
}

var (
	// ErrNotFound says an account, rule or run is not in the store.
	ErrNotFound = errors.New("not in the store")
	// ErrNoEarlierRun says a run is the first of its scope.
	ErrNoEarlierRun = errors.New("no earlier run of the same scope")
)

// StatusNotAssessed marks, in a timeline, a run that held the account but
// could not assess it (failed or skipped).
const StatusNotAssessed finding.Status = "not_assessed"

// StatusDisabled marks, in a cell or a timeline, a rule the run's
// configuration turned off (enabled: false): judged for no account. It is
// the CSV report's word for it.
const StatusDisabled finding.Status = "disabled"

// Overview is what the overview page shows.
type Overview struct {
	// Latest is nil when the store holds no run.
	Latest *store.RunInfo
	// Counts are the latest run's findings by status and severity.
	Counts map[finding.Status]map[finding.Severity]int
	// NotAssessed are the accounts the latest run held but could not
	// assess (failed or skipped).
	NotAssessed int
	// Accounts counts every account any stored run held.
	Accounts int
	Trend    []TrendPoint
}

// TrendPoint is the organization's state as of one run: every account at
// its last known state, those this run did not assess included.
type TrendPoint struct {
	RunID           int64
	AsOf            time.Time
	FailingFindings int
	FailingAccounts int
	// Carried are the accounts whose state came from an earlier run.
	Carried int
}

// Filter selects rows of the matrix. Cell conditions (Statuses,
// Severities, Rule) hold together for one cell: a row matches when one of
// its cells meets them all. Empty fields do not filter.
type Filter struct {
	Statuses   []finding.Status
	Severities []finding.Severity
	Rule       string
	// Account matches, without regard to case, a part of the account's
	// ID, name, or one of its tags written key=value.
	Account string
	// OU matches the start of the account's OU path, without regard to
	// case.
	OU string
	// ChangedSince keeps the accounts whose state differs from their state
	// as of that run (a cell's status changed, or the account had none);
	// 0: no such condition.
	ChangedSince int64
	// Stale keeps the accounts the latest run did not assess.
	Stale bool
	// Sort is "account" (by ID, the default) or "failing" (most failing
	// cells first).
	Sort string
}

// Page is a window of rows; Limit 0 means every row.
type Page struct{ Offset, Limit int }

// AccountInfo is what the runs say of an account (the last run that held
// it), untrusted text from AWS.
type AccountInfo struct {
	ID     string            `json:"account_id"`
	Name   string            `json:"name,omitempty"`
	OUPath string            `json:"ou_path,omitempty"`
	Tags   map[string]string `json:"tags,omitempty"`
}

// Column is one rule of the matrix.
type Column struct {
	RuleID   string           `json:"rule_id"`
	Title    string           `json:"title"`
	Severity finding.Severity `json:"severity"`
}

// Cell is an account's current finding of one rule (the worst, when the
// rule judged several resources). Status "" means the account's run has
// no finding of the rule, StatusDisabled that the run's configuration
// turned the rule off.
type Cell struct {
	Status   finding.Status   `json:"status"`
	Severity finding.Severity `json:"severity,omitempty"`
	Message  string           `json:"message,omitempty"`
	// Findings counts the findings behind the cell (resources).
	Findings int `json:"findings,omitempty"`
}

// Row is one account of the matrix at its current state.
type Row struct {
	Account AccountInfo `json:"account"`
	// RunID and AsOf name the run the state comes from (the last that
	// assessed the account); 0 when no stored run ever assessed it.
	RunID int64     `json:"state_run_id"`
	AsOf  time.Time `json:"state_as_of"`
	// Age is how much older than the latest run that state is (0 when the
	// latest run assessed the account).
	Age time.Duration `json:"-"`
	// Current says the latest run assessed the account.
	Current bool `json:"current"`
	// Outcome is the account's status in the last run that held it, and
	// why it was not assessed there if it was not.
	Outcome   finding.AccountStatus `json:"last_status"`
	Reason    string                `json:"last_reason,omitempty"`
	LastRunID int64                 `json:"last_run_id"`
	Cells     []Cell                `json:"cells"`
}

// Matrix is one page of the matrix.
type Matrix struct {
	Latest *store.RunInfo
	Rules  []Column
	Rows   []Row
	// Total counts the rows that match the filter, on every page.
	Total int
	// HasOU says some account carries an OU path (the OU filter applies).
	HasOU bool
}

// AccountView is the account page.
type AccountView struct {
	Row
	Latest store.RunInfo
	// Findings are the current findings (those of Row.RunID), whole.
	Findings []finding.Finding
	Timeline Timeline
}

// Timeline is each rule's status in each run that held an account.
type Timeline struct {
	Runs  []store.RunInfo
	Rules []TimelineRow
}

// TimelineRow is one rule's statuses, one per Timeline.Runs: "" where the
// run had no finding of the rule, StatusDisabled where its configuration
// turned the rule off, StatusNotAssessed where it could not assess the
// account.
type TimelineRow struct {
	Column
	Statuses []finding.Status
}

// RuleView is the rule page's list.
type RuleView struct {
	// Counts are the accounts' current findings of the rule by status.
	Counts  map[finding.Status]int
	Failing []Failure
}

// Failure is an account a rule fails now.
type Failure struct {
	Row
	// Since is when the failure began (the finding's first_seen, or its
	// run's as-of time in a run stored without history).
	Since    time.Time
	Severity finding.Severity
	Message  string
}

// Diff is the diff page.
type Diff struct {
	From, To store.RunInfo
	Changes  []finding.Change
}

// Suppression is one suppression carried by an account's current
// finding.
type Suppression struct {
	Account  AccountInfo
	RuleID   string
	Title    string
	Resource string
	Reason   string
	// Owner is "" when the configuration named nobody.
	Owner string
	// Expires is zero for a suppression that never expires.
	Expires time.Time
	// Expired says it had expired at the run's as-of time, so the
	// finding kept its status.
	Expired bool
	// Status is the finding's status without the suppression.
	Status finding.Status
	RunID  int64
	AsOf   time.Time
}

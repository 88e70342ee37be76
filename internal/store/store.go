// Package store keeps the history of scans in a database, and the watch's
// delivery log beside it. A run is kept as what changed: each account and
// finding is a version the store holds once, referenced by every run that
// holds it unchanged, and what varies from run to run in it (the as-of
// time in a window, a report's generation time, ages) is kept per run in
// a few bytes (parts.go). A run reads back as the bytes the scan wrote
// (Export). SQLite (embedded, the default) and PostgreSQL implement the
// same Store and pass the same tests. Schema migrations are embedded and
// applied on open; a store written by a newer rootwatch is refused.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/secret"
)

// Store keeps runs. Every method is safe for concurrent use, and so are two
// processes writing one store at once.
type Store interface {
	// Save records a run in one transaction: all of it or nothing.
	Save(ctx context.Context, run *finding.Run, scope string) (RunInfo, error)
	// Runs lists the newest runs first (limit <= 0: all).
	Runs(ctx context.Context, limit int) ([]RunInfo, error)
	// Load reads a run back whole.
	Load(ctx context.Context, id int64) (*finding.Run, RunInfo, error)
	// Export writes a run as the JSON the scan wrote (-f json), byte for
	// byte.
	Export(ctx context.Context, id int64, w io.Writer) error
	// Previous is the run of scope just before run id in judged time (as-of
	// time, then id; id 0: the latest of all); ok is false when there is
	// none.
	Previous(ctx context.Context, scope string, id int64) (info RunInfo, ok bool, err error)
	// Latest is the run of scope judged last as of asOf (as-of time, then
	// id): the run a new run of that as-of time is compared with.
	Latest(ctx context.Context, scope string, asOf time.Time) (info RunInfo, ok bool, err error)
	// LastJudged gives, for each fingerprint a stored run at or before
	// the point (asOf, id) judged (see Judged), that run's verdict. Runs of
	// every scope count.
	LastJudged(ctx context.Context, fingerprints []string, asOf time.Time, id int64) (map[string]Verdict, error)
	// Import saves a run judged earlier and kept as JSON (rootwatch runs
	// import), as Save does, but refuses one the store already holds (the
	// same scope, as-of and generation times) with a *DuplicateError.
	Import(ctx context.Context, run *finding.Run, scope string) (RunInfo, error)
	// FirstSeen gives, for each fingerprint the store knows, the as-of time
	// of the first run that held it.
	FirstSeen(ctx context.Context, fingerprints []string) (map[string]time.Time, error)
	// History lists an account's findings over the stored runs, oldest
	// first; rule "" means every rule.
	History(ctx context.Context, account, rule string) ([]HistoryEntry, error)
	// Prune deletes the runs judged before the cutoff and says how many;
	// what a kept run still holds stays. The watch's delivery log has its
	// own retention (Deliveries).
	Prune(ctx context.Context, before time.Time) (int, error)
	Close() error
}

// RunInfo describes a stored run.
type RunInfo struct {
	ID          int64           `json:"id"`
	Scope       string          `json:"scope"`
	GeneratedAt time.Time       `json:"generated_at"`
	AsOf        time.Time       `json:"as_of"`
	StoredAt    time.Time       `json:"stored_at"`
	ToolVersion string          `json:"tool_version"`
	Accounts    int             `json:"accounts"`
	Summary     finding.Summary `json:"summary"`
}

// HistoryEntry is one finding of one stored run.
type HistoryEntry struct {
	RunID       int64          `json:"run_id"`
	AsOf        time.Time      `json:"as_of"`
	Fingerprint string         `json:"fingerprint"`
	RuleID      string         `json:"rule_id"`
	Resource    string         `json:"resource"`
	Status      finding.Status `json:"status"`
	Severity    string         `json:"severity"`
	Message     string         `json:"message"`
}

// ErrNotFound says a run does not exist.
var ErrNotFound = errors.New("no such run")

// Judged says whether a status is a verdict on the evidence: pass, fail,
// suppressed (a failure accepted by a suppression) and not_applicable are;
// error and unknown (the evidence could not be read or did not suffice) are
// not. History looks through runs that did not judge a finding.
func Judged(s finding.Status) bool {
	switch s {
	case finding.StatusPass, finding.StatusFail, finding.StatusSuppressed, finding.StatusNotApplicable:
		return true
	}
	return false
}

// Verdict is what one stored run judged of one finding.
type Verdict struct {
	Status finding.Status
	// FirstSeen is the first_seen that run marked the finding with (its
	// as-of time in runs stored before rootwatch kept it).
	FirstSeen time.Time
	RunID     int64
	AsOf      time.Time
}

// DuplicateError says a run to import is already stored.
type DuplicateError struct {
	ID int64 // the stored run
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("the store already holds this run, as run %d (the same accounts and rules, as-of and generation times)", e.ID)
}

// NoStoreError says a command that only reads or prunes a store was
// pointed where there is none: such commands never create one.
type NoStoreError struct {
	Name string // the store, described without secrets
	// Schema is true when a database is there but holds no rootwatch
	// schema.
	Schema bool
}

func (e *NoStoreError) Error() string {
	if e.Schema {
		return fmt.Sprintf("no rootwatch store in %s (the database holds no rootwatch schema)", e.Name)
	}
	return "no store at " + e.Name
}

// DefaultLockTimeout bounds how long a write waits for another writer.
const DefaultLockTimeout = 30 * time.Second

// Options tune how a store is opened.
type Options struct {
	// Getenv reads env:VAR specifications (nil: os.Getenv).
	Getenv func(string) string
	// Existing refuses to create a store: a missing SQLite file, or a
	// PostgreSQL database without the schema, is a *NoStoreError.
	Existing bool
	// LockTimeout bounds a write's wait for another writer's lock
	// (SQLite's database lock, PostgreSQL's row locks); then the write
	// fails. Default DefaultLockTimeout.
	LockTimeout time.Duration
	// Notice, when set, hears that a write waits for another writer.
	Notice func(string)
}

// Open opens (creating it if need be) the store a specification names:
// a path or sqlite:PATH for SQLite, postgres://… or postgresql://… for
// PostgreSQL, or env:VAR to read either from the environment (so that a
// password stays off the command line). Errors never repeat a
// connection string: it may hold a password.
func Open(ctx context.Context, spec string, getenv func(string) string) (Store, error) {
	return OpenWith(ctx, spec, Options{Getenv: getenv})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, spec string, o Options) (Store, error) {
	return open(ctx, spec, o, false)
}

// open resolves spec and opens it in its dialect, read-only or not.
func open(ctx context.Context, spec string, o Options, readOnly bool) (Store, error) {
	spec, err := resolve(spec, o.Getenv)
	if err != nil {
		return nil, err
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if isPostgres(spec) {
		return openPostgres(ctx, spec, o, readOnly)
	}
	return openSQLite(ctx, strings.TrimPrefix(spec, "sqlite:"), o, readOnly)
}

// Check says, before a long scan, whether a run could be saved in the
// store at its end: a PostgreSQL database answers (and is migrated, as a
// save would), an existing SQLite file opens, and a new SQLite file's
// directory takes files. It creates no SQLite file.
func Check(ctx context.Context, spec string, o Options) error {
	spec, err := resolve(spec, o.Getenv)
	if err != nil {
		return err
	}
	if !isPostgres(spec) {
		path := strings.TrimPrefix(spec, "sqlite:")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if err := checkSQLitePath(path); err != nil {
				return err
			}
			probe, err := os.CreateTemp(filepath.Dir(path), ".rootwatch-check-*")
			if err != nil {
				return fmt.Errorf("store %s cannot be created: %w", path, err)
			}
			probe.Close()
			return os.Remove(probe.Name())
		}
	}
	s, err := OpenWith(ctx, spec, o)
	if err != nil {
		return err
	}
	return s.Close()
}

// resolve reads an env:VAR specification (only env:, so that a SQLite path
// is never taken for a reference).
func resolve(spec string, getenv func(string) string) (string, error) {
	if strings.HasPrefix(spec, "env:") {
		var err error
		if spec, err = (secret.Source{Getenv: getenv}).Resolve(spec); err != nil {
			return "", fmt.Errorf("store: %w", err)
		}
	}
	if spec == "" {
		return "", errors.New("store: no store given (a path, sqlite:PATH, postgres://… or env:VAR)")
	}
	return spec, nil
}

func isPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// Describe names a store for messages without its secrets: the path of a
// SQLite file, or the host and database of a PostgreSQL URL.
func Describe(spec string) string {
	if strings.HasPrefix(spec, "env:") {
		return "the store in $" + strings.TrimPrefix(spec, "env:")
	}
	if strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://") {
		rest := spec[strings.Index(spec, "://")+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			rest = rest[at+1:]
		}
		if q := strings.IndexByte(rest, '?'); q >= 0 {
			rest = rest[:q]
		}
		return "postgres://" + rest
	}
	return strings.TrimPrefix(spec, "sqlite:")
}

// timeLayout stores times as fixed-width UTC text, which sorts as time.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: a stored time %q does not parse: %w", s, err)
	}
	return t, nil
}

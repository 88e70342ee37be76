// Package store keeps the history of scans in a database: each run whole,
// its findings by fingerprint, and for each fingerprint when it was first
// and last seen. SQLite (embedded, the default) and PostgreSQL implement
// the same Store and pass the same tests. Schema migrations are embedded
// and applied on open; a store written by a newer rootwatch is refused.
package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
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
	// Previous is the newest run of scope stored before run id (id 0: the
	// newest of all); ok is false when there is none.
	Previous(ctx context.Context, scope string, id int64) (info RunInfo, ok bool, err error)
	// FirstSeen gives, for each fingerprint the store knows, the as-of time
	// of the first run that held it.
	FirstSeen(ctx context.Context, fingerprints []string) (map[string]time.Time, error)
	// History lists an account's findings over the stored runs, oldest
	// first; rule "" means every rule.
	History(ctx context.Context, account, rule string) ([]HistoryEntry, error)
	// Prune deletes the runs judged before the cutoff and says how many
	// (and the watch alerts delivered before it).
	Prune(ctx context.Context, before time.Time) (int, error)
	// Delivered lists which of targets already received an alert for
	// the event (rootwatch watch).
	Delivered(ctx context.Context, eventID string, targets []string) (map[string]bool, error)
	// MarkDelivered records that target received the alert for the event;
	// recording it twice is not an error.
	MarkDelivered(ctx context.Context, eventID, target string, at time.Time) error
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

// Open opens (creating it if need be) the store a specification names:
// a path or sqlite:PATH for SQLite, postgres://… or postgresql://… for
// PostgreSQL, or env:VAR to read either from the environment (so that a
// password stays off the command line). Errors never repeat a
// connection string: it may hold a password.
func Open(ctx context.Context, spec string, getenv func(string) string) (Store, error) {
	if name, ok := strings.CutPrefix(spec, "env:"); ok {
		if getenv == nil {
			getenv = os.Getenv
		}
		if spec = getenv(name); spec == "" {
			return nil, fmt.Errorf("store: environment variable %s is empty or not set", name)
		}
	}
	switch {
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return openPostgres(ctx, spec)
	case spec == "":
		return nil, errors.New("store: no store given (a path, sqlite:PATH, postgres://… or env:VAR)")
	}
	return openSQLite(ctx, strings.TrimPrefix(spec, "sqlite:"))
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

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/scan"
	"github.com/rootwatch/rootwatch/internal/store"
)

const storeHelp = `STORE is a SQLite file (a path or sqlite:PATH, created owner-only), a
PostgreSQL URL (postgres://user@host/db), or env:VAR to read either from the
environment so that a password stays off the command line.`

func openStore(ctx context.Context, app *App, spec string) (store.Store, error) {
	s, err := store.Open(ctx, spec, app.Getenv)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return s, nil
}

// recordRun keeps a judged run in the store and says what changed.
func recordRun(ctx context.Context, app *App, spec string, run *finding.Run) error {
	s, err := openStore(ctx, app, spec)
	if err != nil {
		return err
	}
	defer s.Close()
	changes, err := scan.Record(ctx, s, run)
	if err != nil {
		return err
	}
	h := run.History
	if h.PreviousRunID == 0 {
		fmt.Fprintf(app.Stderr, "stored as run %d in %s (the first of its scope)\n", h.RunID, report.Clean(store.Describe(spec)))
		return nil
	}
	counts := map[string]int{}
	for _, c := range changes {
		counts[c.Kind]++
	}
	fmt.Fprintf(app.Stderr, "stored as run %d in %s; since run %d: %d new failures, %d resolved, %d other changes\n", h.RunID, report.Clean(store.Describe(spec)),
		h.PreviousRunID, counts[finding.ChangeNewFailure], counts[finding.ChangeResolved], len(changes)-counts[finding.ChangeNewFailure]-counts[finding.ChangeResolved])
	return nil
}

func newRunsCommand(app *App) *cobra.Command {
	var spec, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "runs --store STORE",
		Short: "List the runs kept in a history store, newest first",
		Long:  "runs lists the scans kept with 'scan --store', newest first.\n\n" + storeHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openStore(cmd.Context(), app, spec)
			if err != nil {
				return err
			}
			defer s.Close()
			runs, err := s.Runs(cmd.Context(), limit)
			if err != nil {
				return err
			}
			switch format {
			case "json":
				return writeJSON(app.Stdout, runs)
			case "table":
				fmt.Fprintf(app.Stdout, "%-6s  %-20s  %-20s  %-8s  %-5s  %-5s  %-7s  %s\n", "RUN", "AS OF", "STORED", "ACCOUNTS", "FAIL", "UNKN", "ERROR", "SCOPE")
				for _, r := range runs {
					fmt.Fprintf(app.Stdout, "%-6d  %-20s  %-20s  %-8d  %-5d  %-5d  %-7d  %s\n", r.ID, r.AsOf.Format(time.RFC3339), r.StoredAt.Format(time.RFC3339),
						r.Accounts, r.Summary.Fail, r.Summary.Unknown, r.Summary.Error, r.Scope)
				}
				return nil
			}
			return usageErr("--format must be table or json")
		},
	}
	cmd.Flags().StringVar(&spec, "store", "", "the history `STORE`")
	cmd.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most this many runs (0: all)")
	cmd.MarkFlagRequired("store")
	return cmd
}

// Diff is the JSON of 'rootwatch diff' (schema 1).
type Diff struct {
	SchemaVersion string           `json:"schema_version"`
	From          store.RunInfo    `json:"from"`
	To            store.RunInfo    `json:"to"`
	Changes       []finding.Change `json:"changes"`
}

func newDiffCommand(app *App) *cobra.Command {
	var spec, format, from, to string
	cmd := &cobra.Command{
		Use:   "diff --store STORE [--from RUN] [--to RUN]",
		Short: "Show what changed between two stored runs: new failures first",
		Long: `diff compares two runs kept with 'scan --store'. Without --to it takes the
newest run; without --from, the run before it of the same scope (the same
accounts and rules). Each change has a kind: new_failure (fails now; before it
did not, or was absent), not_assessed (an account assessed before is not now),
resolved (failed before; now pass, not_applicable or suppressed), changed,
added or removed.

` + storeHelp,
		Example: `  rootwatch diff --store rootwatch.db
  rootwatch diff --store env:ROOTWATCH_STORE --from 41 --to 57 -f json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := openStore(ctx, app, spec)
			if err != nil {
				return err
			}
			defer s.Close()
			toRun, toInfo, err := loadRun(ctx, s, to, "--to")
			if err != nil {
				return err
			}
			var fromRun *finding.Run
			var fromInfo store.RunInfo
			if from == "" {
				prev, ok, err := s.Previous(ctx, toInfo.Scope, toInfo.ID)
				if err != nil {
					return err
				}
				if !ok {
					return &ExitError{Code: ExitUsage, Err: fmt.Errorf("run %d is the first of its scope in the store: give --from RUN to compare it with another", toInfo.ID)}
				}
				from = strconv.FormatInt(prev.ID, 10)
			}
			if fromRun, fromInfo, err = loadRun(ctx, s, from, "--from"); err != nil {
				return err
			}
			d := Diff{SchemaVersion: finding.SchemaVersion, From: fromInfo, To: toInfo, Changes: finding.Compare(fromRun, toRun)}
			if d.Changes == nil {
				d.Changes = []finding.Change{}
			}
			switch format {
			case "json":
				return writeJSON(app.Stdout, d)
			case "table", "markdown":
				return writeDiff(app.Stdout, d, format == "markdown")
			}
			return usageErr("--format must be table, json or markdown")
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec, "store", "", "the history `STORE`")
	f.StringVar(&from, "from", "", "the earlier `RUN` (default: the run before --to of the same scope)")
	f.StringVar(&to, "to", "", "the later `RUN` (default: the newest)")
	f.StringVarP(&format, "format", "f", "table", "table, json or markdown")
	cmd.MarkFlagRequired("store")
	return cmd
}

func loadRun(ctx context.Context, s store.Store, id, flag string) (*finding.Run, store.RunInfo, error) {
	if id == "" {
		runs, err := s.Runs(ctx, 1)
		if err != nil {
			return nil, store.RunInfo{}, err
		}
		if len(runs) == 0 {
			return nil, store.RunInfo{}, &ExitError{Code: ExitUsage, Err: fmt.Errorf("the store holds no run yet (scan --store first)")}
		}
		id = strconv.FormatInt(runs[0].ID, 10)
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, store.RunInfo{}, usageErr("%s %q is not a run number (see 'rootwatch runs')", flag, id)
	}
	run, info, err := s.Load(ctx, n)
	if err != nil {
		return nil, store.RunInfo{}, &ExitError{Code: ExitUsage, Err: err}
	}
	return run, info, nil
}

func writeDiff(w io.Writer, d Diff, markdown bool) error {
	esc := report.Clean
	if markdown {
		esc = report.EscapeMarkdown
		fmt.Fprintf(w, "## rootwatch: run %d → run %d\n\n", d.From.ID, d.To.ID)
	} else {
		fmt.Fprintf(w, "Run %d (as of %s) → run %d (as of %s): %s\n", d.From.ID, d.From.AsOf.Format(time.RFC3339), d.To.ID, d.To.AsOf.Format(time.RFC3339), countChanges(len(d.Changes)))
	}
	if len(d.Changes) == 0 {
		if markdown {
			fmt.Fprintln(w, "No change.")
		}
		return nil
	}
	if markdown {
		fmt.Fprintln(w, "| change | severity | account | rule | from | to | message |\n|---|---|---|---|---|---|---|")
	}
	for _, c := range d.Changes {
		fromSt, toSt := orAbsent(c.FromStatus), orAbsent(c.ToStatus)
		if markdown {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", c.Kind, c.Severity, esc(c.AccountID), esc(c.RuleID), fromSt, toSt, esc(c.Message))
		} else {
			fmt.Fprintf(w, "%-12s  %-8s  %-12s  %-34s  %-14s → %-14s  %s\n", c.Kind, c.Severity, esc(c.AccountID), esc(c.RuleID), fromSt, toSt, esc(c.Message))
		}
	}
	return nil
}

func countChanges(n int) string {
	if n == 1 {
		return "1 change"
	}
	return strconv.Itoa(n) + " changes"
}

func orAbsent(s *string) string {
	if s == nil {
		return "(absent)"
	}
	return *s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/outfile"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/store"
	"github.com/rootwatch/rootwatch/internal/store/history"
)

const storeHelp = `STORE is a SQLite file (a path or sqlite:PATH, created owner-only), a
PostgreSQL URL (postgres://user@host/db), or env:VAR to read either from the
environment so that a password stays off the command line. Only 'scan --store'
and 'runs import' create a store; the other commands refuse a STORE where
there is none ("no store at PATH").`

// addHistoryFlags adds the timeouts of a scan that stores and notifies.
func addHistoryFlags(cmd *cobra.Command, storeTimeout, notifyTimeout *time.Duration) {
	f := cmd.Flags()
	if storeTimeout != nil {
		f.DurationVar(storeTimeout, "store-timeout", store.DefaultLockTimeout, "wait at most this long for another writer's lock on the store (said on stderr while waiting), or for a PostgreSQL server to answer; then the store is not written")
	}
	if notifyTimeout != nil {
		f.DurationVar(notifyTimeout, "notify-timeout", notify.DefaultTimeout, "give each delivery attempt of a notification this long to be answered (up to 4 attempts; a wait is said on stderr)")
	}
}

// openStore opens a store for a command; o.Existing for the commands that
// must not create one.
func openStore(ctx context.Context, app *App, spec string, o store.Options) (store.Store, error) {
	o.Getenv = app.Getenv
	o.Notice = func(line string) { fmt.Fprintln(app.Stderr, "rootwatch: "+report.Clean(line)) }
	s, err := store.OpenWith(ctx, spec, o)
	if err != nil {
		return nil, storeOpenErr(err)
	}
	return s, nil
}

// storeOpenErr is the usage error of a store that does not open.
func storeOpenErr(err error) error {
	var ns *store.NoStoreError
	if errors.As(err, &ns) {
		return usageErr("%v ('scan --store' and 'runs import' create a store; this command only uses one)", err)
	}
	return &ExitError{Code: ExitUsage, Err: storeHint(err)}
}

// openExisting opens a store that must exist, for the commands that read
// (or prune) one.
func openExisting(ctx context.Context, app *App, spec string) (store.Store, error) {
	return openStore(ctx, app, spec, store.Options{Existing: true})
}

// storeHint names the flag that bounds a lock wait.
func storeHint(err error) error {
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w; --store-timeout sets how long to wait", err)
	}
	return err
}

// checkStore tells, before a scan collects anything, whether its run could
// be stored at the end.
func checkStore(ctx context.Context, app *App, spec string, timeout time.Duration) error {
	if spec == "" {
		return nil
	}
	if timeout <= 0 {
		return usageErr("--store-timeout %s: want more than 0", timeout)
	}
	if err := store.Check(ctx, spec, store.Options{Getenv: app.Getenv, LockTimeout: timeout}); err != nil {
		return usageErr("--store: %v (checked before scanning: nothing was collected)", err)
	}
	return nil
}

// recordRun keeps a judged run in the store and says what changed. Its
// error (the run is not stored) leaves the run without history marks.
func recordRun(ctx context.Context, app *App, spec string, timeout time.Duration, run *finding.Run) error {
	s, err := store.OpenWith(ctx, spec, store.Options{Getenv: app.Getenv, LockTimeout: timeout,
		Notice: func(line string) { fmt.Fprintln(app.Stderr, "rootwatch: "+report.Clean(line)) }})
	if err != nil {
		return fmt.Errorf("the run was judged but not stored: %w", storeHint(err))
	}
	defer s.Close()
	changes, err := history.Record(ctx, s, run)
	if err != nil {
		return storeHint(err)
	}
	sayStored(app, spec, run.History, changes)
	return nil
}

// sayStored says where a run was stored and what changed.
func sayStored(app *App, spec string, h *finding.History, changes []finding.Change) {
	if h.Baseline {
		fmt.Fprintf(app.Stderr, "stored as run %d in %s (a baseline: the store had judged none of its findings)\n", h.RunID, report.Clean(store.Describe(spec)))
		return
	}
	counts := map[string]int{}
	for _, c := range changes {
		counts[c.Kind]++
	}
	since := fmt.Sprintf("since run %d", h.PreviousRunID)
	if h.PreviousRunID == 0 {
		since = "the first of its scope; against the last verdicts stored"
	}
	fmt.Fprintf(app.Stderr, "stored as run %d in %s; %s: %d new failures, %d resolved, %d other changes\n", h.RunID, report.Clean(store.Describe(spec)),
		since, counts[finding.ChangeNewFailure], counts[finding.ChangeResolved], len(changes)-counts[finding.ChangeNewFailure]-counts[finding.ChangeResolved])
}

// notStored is the error of a scan whose run was judged and written but
// not stored (the cause was said when it happened): how to store it later
// with what the scan left (a JSON output, an evidence bundle).
func notStored(o *scanOptions, jsonOuts []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "the run was judged and its outputs written, but it is not in %s (the store error above).", store.Describe(o.store))
	storeWord, storeOK := printableStore(o.store)
	ways := 0
	for _, p := range jsonOuts {
		ways++
		switch {
		case p == "":
			fmt.Fprintf(&b, "\nstore it from the JSON this scan printed, saved to a file:\n  rootwatch runs import FILE --store %s", storeWord)
		case strings.HasPrefix(p, "s3://"):
			fmt.Fprintf(&b, "\nstore it from its JSON:\n  aws s3 cp %s run.json && rootwatch runs import run.json --store %s", shellWord(p), storeWord)
		default:
			fmt.Fprintf(&b, "\nstore it from its JSON:\n  rootwatch runs import %s --store %s", shellWord(p), storeWord)
		}
	}
	if o.saveEvidence != "" {
		ways++
		fmt.Fprintf(&b, "\n%s judge its evidence again into the store (the same findings, as of the same time):\n  rootwatch scan --evidence %s --store %s",
			map[bool]string{true: "or", false: "store it:"}[ways > 1], shellWord(o.saveEvidence), storeWord)
		if o.configFile != "" {
			fmt.Fprintf(&b, " --config %s", shellWord(o.configFile))
		}
	}
	if ways == 0 {
		b.WriteString("\nno JSON of this run was written and no evidence was saved, so it cannot be stored later: with --store, keep -f json -o FILE or --save-evidence FILE")
	}
	var notes []string
	if !storeOK {
		notes = append(notes, storeSecretNote)
	}
	if p := o.notifyPlan; ways > 0 && p != nil && len(p.Targets) > 0 && p.When.NeedsHistory() {
		var all []int
		for i := range o.notify.Targets {
			all = append(all, i+1)
		}
		line, more := notifyCommand(o.store, "RUN", o.notify, all, "")
		fmt.Fprintf(&b, "\nthen send its notifications (RUN: the number the store gives it):\n  %s", line)
		notes = append(notes, more...)
	}
	for _, note := range slices.Compact(notes) {
		b.WriteString("\n  (" + note + ")")
	}
	return &ExitError{Code: ExitNotStored, Err: errors.New(b.String())}
}

const storeSecretNote = "STORE: the store's URL holds a password and is not repeated here; give it again, or keep it in env:VAR"

// printableStore is how a command line may repeat a store: a path or
// env:VAR as given, a PostgreSQL URL only when it holds no password.
func printableStore(spec string) (string, bool) {
	if !strings.HasPrefix(spec, "postgres://") && !strings.HasPrefix(spec, "postgresql://") {
		return shellWord(spec), true
	}
	u, err := url.Parse(spec)
	if err != nil {
		return "STORE", false
	}
	if _, has := u.User.Password(); has || u.Query().Has("password") {
		return "STORE", false
	}
	return shellWord(spec), true
}

// shellWord quotes s for a POSIX shell when it needs quoting.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func newRunsCommand(app *App) *cobra.Command {
	var spec, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "runs --store STORE",
		Short: "List the runs kept in a history store, newest first; import or export one",
		Long:  "runs lists the scans kept with 'scan --store', newest first.\n'runs import' stores a run from the JSON a scan wrote; 'runs export' writes a\nstored run as that JSON again.\n\n" + storeHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openExisting(cmd.Context(), app, spec)
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
	cmd.AddCommand(newRunsImportCommand(app), newRunsExportCommand(app))
	return cmd
}

func newRunsImportCommand(app *App) *cobra.Command {
	var spec string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "import FILE --store STORE",
		Short: "Store a run from the JSON a scan wrote (when the store was down)",
		Long: `import stores a run from the JSON a scan wrote (-f json; - reads standard
input), as 'scan --store' would have: in its place in time (its own as-of time),
compared with the run of the same accounts and rules before it, each finding
marked with first_seen and its change. Use it when the store could not keep a
scan's run (the scan exited 5).

The file is checked first: a rootwatch run of schema 1, accounts of 12 digits,
findings whose statuses, severities and fingerprints are what a scan writes, a
summary that counts them. A run the store already holds (the same accounts and
rules, as-of and generation times) is refused. Nothing is sent: 'rootwatch
notify --run N' sends its notifications.

` + storeHelp,
		Example: `  rootwatch runs import run.json --store rootwatch.db
  rootwatch runs import org.json --store env:ROOTWATCH_STORE && rootwatch notify --store env:ROOTWATCH_STORE --notify slack=env:SLACK_WEBHOOK_URL`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if timeout <= 0 {
				return usageErr("--store-timeout %s: want more than 0", timeout)
			}
			var in io.Reader = app.Stdin
			name := "standard input"
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return usageErr("%v", err)
				}
				defer f.Close()
				in, name = f, args[0]
			} else if in == nil {
				return usageErr("import -: no standard input")
			}
			run, err := history.ReadRun(in, name)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			s, err := openStore(ctx, app, spec, store.Options{LockTimeout: timeout})
			if err != nil {
				return err
			}
			defer s.Close()
			changes, err := history.Import(ctx, s, run)
			var dup *store.DuplicateError
			if errors.As(err, &dup) {
				return usageErr("%s: %v", name, dup)
			}
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: storeHint(err)}
			}
			sayStored(app, spec, run.History, changes)
			return nil
		},
	}
	cmd.Flags().StringVar(&spec, "store", "", "the history `STORE` (created if need be)")
	addHistoryFlags(cmd, &timeout, nil)
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
newest run stored; without --from, the run of the same scope (the same accounts
and rules) judged before it. Each change has a kind: new_failure (fails now;
before it did not, or was absent), not_assessed (an account assessed before is
not now), resolved (failed before; now pass, not_applicable or suppressed),
changed, added or removed. Where --from did not judge a finding (error or
unknown, or its account was not assessed), its last verdict before --from
stands in: a failure interrupted by an error is not new again.

` + storeHelp,
		Example: `  rootwatch diff --store rootwatch.db
  rootwatch diff --store env:ROOTWATCH_STORE --from 41 --to 57 -f json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := openExisting(ctx, app, spec)
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
			changes, err := history.Changes(ctx, s, fromRun, fromInfo, toRun)
			if err != nil {
				return err
			}
			d := Diff{SchemaVersion: finding.SchemaVersion, From: fromInfo, To: toInfo, Changes: changes}
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

// jsonOutputs lists where the run's JSON went ("" where it cannot be read
// back: standard output, a descriptor, a pipe or a device).
func jsonOutputs(outs []output) []string {
	var paths []string
	for _, out := range outs {
		if _, ok := out.writer.(report.JSON); !ok {
			continue
		}
		switch {
		case out.uri != "":
			paths = append(paths, out.uri)
		case out.target != nil && out.target.Kind == outfile.File:
			paths = append(paths, out.target.Path)
		default:
			// Standard output, a descriptor, a pipe or a device: nothing
			// to read the run back from.
			paths = append(paths, "")
		}
	}
	return paths
}

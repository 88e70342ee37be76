package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/outfile"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/store"
	"github.com/rootwatch/rootwatch/internal/window"
	"github.com/spf13/cobra"
)

func newHistoryCommand(app *App) *cobra.Command {
	var spec, account, rule, format string
	cmd := &cobra.Command{
		Use:   "history --store STORE --account ID [--rule RULE]",
		Short: "Show an account's findings over the stored runs, oldest first",
		Long:  "history lists, for one account (and one rule), each stored run's verdict.\n\n" + storeHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !evidence.ValidAccountID(account) {
				return usageErr("--account %q is not a 12-digit account ID", account)
			}
			s, err := openExisting(cmd.Context(), app, spec)
			if err != nil {
				return err
			}
			defer s.Close()
			hist, err := s.History(cmd.Context(), account, rule)
			if err != nil {
				return err
			}
			// A rule no longer in the catalog may still have a history;
			// a rule with neither is a typo.
			if _, known := rules.ByID(rule); rule != "" && !known && len(hist) == 0 {
				return unknownRule(rule)
			}
			switch format {
			case "json":
				return writeJSON(app.Stdout, hist)
			case "table":
				if len(hist) == 0 {
					fmt.Fprintf(app.Stdout, "The store holds no finding of account %s%s.\n", account, map[bool]string{true: " for rule " + report.Clean(rule)}[rule != ""])
					return nil
				}
				for _, e := range hist {
					fmt.Fprintf(app.Stdout, "run %-5d  %s  %-34s  %-14s  %s\n", e.RunID, e.AsOf.Format(time.RFC3339), report.Clean(e.RuleID), e.Status, report.Clean(e.Message))
				}
				return nil
			}
			return usageErr("--format must be table or json")
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec, "store", "", "the history `STORE`")
	f.StringVar(&account, "account", "", "the 12-digit account `ID`")
	f.StringVar(&rule, "rule", "", "only this rule")
	f.StringVarP(&format, "format", "f", "table", "table or json")
	cmd.MarkFlagRequired("store")
	cmd.MarkFlagRequired("account")
	return cmd
}

func newPruneCommand(app *App) *cobra.Command {
	var spec, keep, keepDeliveries string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "prune --store STORE [--keep 90d] [--keep-deliveries 14d]",
		Short: "Delete stored runs judged longer ago than --keep, and the watch's older deliveries",
		Long: `prune deletes the runs whose as-of time is older than --keep. What a kept run
still holds stays: an account or a finding that did not change between runs is
kept once and shared by them. The first_seen marks of the runs kept are
unchanged.

--keep-deliveries forgets the alerts 'rootwatch watch --store' delivered longer
ago than its window. The watch remembers them so that an event EventBridge or
SQS delivers again is not alerted twice: keep them longer than the queue keeps
a message (its MessageRetentionPeriod, at most 14 days), or a redelivered
event is alerted again. Pruning runs never touches the deliveries, nor the
other way round; give either flag or both.

` + storeHelp,
		Example: `  rootwatch prune --store rootwatch.db --keep 90d
  rootwatch prune --store env:ROOTWATCH_STORE --keep-deliveries 30d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keep == "" && keepDeliveries == "" {
				return usageErr("give --keep (runs), --keep-deliveries (the watch's delivered alerts) or both")
			}
			var runsFor, deliveriesFor time.Duration
			if keep != "" {
				w, err := window.Parse(keep)
				if err != nil {
					return usageErr("--keep: %v", err)
				}
				runsFor = w.Duration()
			}
			if keepDeliveries != "" {
				w, err := window.Parse(keepDeliveries)
				if err != nil {
					return usageErr("--keep-deliveries: %v", err)
				}
				deliveriesFor = w.Duration()
			}
			if timeout <= 0 {
				return usageErr("--store-timeout %s: want more than 0", timeout)
			}
			o := store.Options{Existing: true, LockTimeout: timeout}
			if keep != "" {
				s, err := openStore(cmd.Context(), app, spec, o)
				if err != nil {
					return err
				}
				defer s.Close()
				cutoff := app.Now().UTC().Add(-runsFor)
				n, err := s.Prune(cmd.Context(), cutoff)
				if err != nil {
					return storeHint(err)
				}
				fmt.Fprintf(app.Stdout, "deleted %s judged before %s\n", strings.Replace(countChanges(n), "change", "run", 1), cutoff.Format(time.RFC3339))
			}
			if keepDeliveries != "" {
				o.Getenv = app.Getenv
				o.Notice = func(line string) { fmt.Fprintln(app.Stderr, "rootwatch: "+report.Clean(line)) }
				d, err := store.OpenDeliveries(cmd.Context(), spec, o)
				if err != nil {
					return storeOpenErr(err)
				}
				defer d.Close()
				cutoff := app.Now().UTC().Add(-deliveriesFor)
				n, err := d.PruneDeliveries(cmd.Context(), cutoff)
				if err != nil {
					return storeHint(err)
				}
				fmt.Fprintf(app.Stdout, "forgot %s made before %s\n", strings.Replace(countChanges(n), "change", "delivery", 1), cutoff.Format(time.RFC3339))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&spec, "store", "", "the history `STORE`")
	cmd.Flags().StringVar(&keep, "keep", "", "keep runs judged within this `WINDOW`, e.g. 90d")
	cmd.Flags().StringVar(&keepDeliveries, "keep-deliveries", "", "keep the watch's delivered alerts of this `WINDOW`, e.g. 30d (longer than the queue keeps a message)")
	addHistoryFlags(cmd, &timeout, nil)
	cmd.MarkFlagRequired("store")
	return cmd
}

func newRunsExportCommand(app *App) *cobra.Command {
	var spec, output string
	cmd := &cobra.Command{
		Use:   "export RUN --store STORE [-o FILE]",
		Short: "Write a stored run as the JSON its scan wrote (-f json), byte for byte",
		Long: `export writes a stored run as the JSON 'scan -f json' wrote when the run was
stored: the same bytes, with its history (its run number, first_seen and change
marks). Any format can be made from it again, and 'runs import' reads it into
another store. Nothing is written when the run cannot be read whole.

` + storeHelp,
		Example: `  rootwatch runs export 57 --store rootwatch.db -o run-57.json
  rootwatch runs export 57 --store env:ROOTWATCH_STORE | jq '.summary'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageErr("RUN %q is not a run number (see 'rootwatch runs')", args[0])
			}
			files := newPathSet()
			if path := sqlitePath(app, spec); path != "" {
				if err := files.input("--store", path); err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
			}
			out, err := files.output("--output", output, outfile.Options{})
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			s, err := openExisting(cmd.Context(), app, spec)
			if err != nil {
				return err
			}
			defer s.Close()
			err = writeOne(cmd.Context(), app, out, 0o600, func(w io.Writer) error { return s.Export(cmd.Context(), id, w) })
			if errors.Is(err, store.ErrNotFound) {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w (see 'rootwatch runs')", err)}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&spec, "store", "", "the history `STORE`")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` instead of standard output (a device, pipe or link is written through, a file replaced whole)")
	cmd.MarkFlagRequired("store")
	return cmd
}

// sqlitePath is the file a SQLite store specification names ("" for
// PostgreSQL), so that no output is written over it.
func sqlitePath(app *App, spec string) string {
	if name, ok := strings.CutPrefix(spec, "env:"); ok {
		spec = app.Getenv(name)
	}
	if spec == "" || strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://") {
		return ""
	}
	return strings.TrimPrefix(spec, "sqlite:")
}

func newNotifyCommand(app *App) *cobra.Command {
	var spec, run string
	var timeout time.Duration
	n := notify.Notifying{}
	cmd := &cobra.Command{
		Use:   "notify --store STORE --run RUN --notify KIND=TARGET",
		Short: "Send a stored run's notifications again (after a delivery failed)",
		Long: `notify sends what a stored run has to say, as scan --notify would have: its new
failures (--notify-on new), every change since the run before it (change), or
every failure (always). Use it when a target was down during the scan (the run
was stored before anyone was notified: the scan printed this command, ready to
run), after 'runs import' stored a run the scan could not, or to send the
failures of a baseline (the first run into an empty store: nothing is new in
it) with --notify-on always. A run with nothing to say sends nothing, and says so.

` + storeHelp,
		Example: `  rootwatch notify --store rootwatch.db --run 57 --notify slack=env:SLACK_WEBHOOK_URL
  rootwatch notify --store rootwatch.db --run 1 --notify-on always --notify webhook=env:HOOK_URL`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if len(n.Targets) == 0 {
				return usageErr("give at least one --notify KIND=TARGET")
			}
			plan, err := prepareNotify(app, &n, timeout, true)
			if err != nil {
				return err
			}
			s, err := openExisting(ctx, app, spec)
			if err != nil {
				return err
			}
			defer s.Close()
			r, _, err := loadRun(ctx, s, run, "--run")
			if err != nil {
				return err
			}
			if r.History == nil {
				r.History = &finding.History{Changes: []finding.Change{}}
			}
			when := plan.When
			if _, ok := notify.Select(r, when, plan.Min); !ok {
				why := fmt.Sprintf("no change to tell under --notify-on %s", when)
				if r.History.Baseline && when.NeedsHistory() {
					why = "it is a baseline (the store had judged none of its findings before), so nothing is new or changed; --notify-on always sends its failures"
				}
				fmt.Fprintf(app.Stderr, "rootwatch notify: run %d has nothing to send: %s\n", r.History.RunID, why)
				return nil
			}
			if !sendNotifications(ctx, app, plan, n, r, spec) {
				return &ExitError{Code: ExitNotify}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec, "store", "", "the history `STORE`")
	f.StringVar(&run, "run", "", "the stored `RUN` (default: the newest stored)")
	f.StringArrayVar(&n.Targets, "notify", nil, "`KIND=TARGET`, as for scan; repeatable")
	f.StringVar(&n.On, "notify-on", "new", "new, change or always")
	f.StringVar(&n.MinSeverity, "notify-min-severity", "", "leave out findings below this severity")
	f.StringVar(&n.Secret, "notify-secret", "", "sign webhook bodies under this `KEY` (env:VAR or file:PATH)")
	f.StringVar(&n.RouteTag, "notify-route-tag", "owner", "the account `TAG` whose value routes KIND@VALUE=TARGET notifications, as for scan")
	f.StringVar(&n.Profile, "profile", "", "AWS shared config `PROFILE` for sns targets")
	addHistoryFlags(cmd, nil, &timeout)
	cmd.MarkFlagRequired("store")
	return cmd
}

// unknownRule refuses a rule id that is not in the catalog, suggesting
// the ids it is close to.
func unknownRule(id string) error {
	var ids, close []string
	for _, r := range rules.Catalog() {
		ids = append(ids, r.ID)
		if d := editDistance(strings.ToLower(id), r.ID); d <= max(2, len(r.ID)/4) || (len(id) >= 4 && strings.Contains(r.ID, strings.ToLower(id))) {
			close = append(close, r.ID)
		}
	}
	if len(close) > 0 {
		return usageErr("--rule %q is not a rule; did you mean %s? ('rootwatch rules' lists them)", id, strings.Join(close, " or "))
	}
	return usageErr("--rule %q is not a rule; rules are: %s", id, strings.Join(ids, ", "))
}

// editDistance is the Levenshtein distance of two strings, by bytes (rule
// ids are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

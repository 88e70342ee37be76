package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/config"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/scan"
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
			if !scan.ValidAccountID(account) {
				return usageErr("--account %q is not a 12-digit account ID", account)
			}
			s, err := openStore(cmd.Context(), app, spec)
			if err != nil {
				return err
			}
			defer s.Close()
			hist, err := s.History(cmd.Context(), account, rule)
			if err != nil {
				return err
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
	var spec, keep string
	cmd := &cobra.Command{
		Use:   "prune --store STORE --keep 90d",
		Short: "Delete stored runs judged longer ago than --keep",
		Long:  "prune deletes the runs (and their findings) whose as-of time is older than --keep.\nFirst-seen times of fingerprints are kept.\n\n" + storeHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := config.ParseWindow(keep)
			if err != nil {
				return usageErr("--keep: %v", err)
			}
			s, err := openStore(cmd.Context(), app, spec)
			if err != nil {
				return err
			}
			defer s.Close()
			cutoff := app.Now().UTC().Add(-d)
			n, err := s.Prune(cmd.Context(), cutoff)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(app.Stdout, "deleted %s judged before %s\n", strings.Replace(countChanges(n), "change", "run", 1), cutoff.Format(time.RFC3339))
			return err
		},
	}
	cmd.Flags().StringVar(&spec, "store", "", "the history `STORE`")
	cmd.Flags().StringVar(&keep, "keep", "", "keep runs judged within this window, e.g. 90d")
	cmd.MarkFlagRequired("store")
	cmd.MarkFlagRequired("keep")
	return cmd
}

func newNotifyCommand(app *App) *cobra.Command {
	var spec, run string
	n := scan.Notifying{}
	cmd := &cobra.Command{
		Use:   "notify --store STORE --run RUN --notify KIND=TARGET",
		Short: "Send a stored run's notifications again (after a delivery failed)",
		Long: `notify sends what a stored run has to say, as scan --notify would have: its new
failures (--notify-on new), every change since the run before it (change), or
every failure (always). Use it when a target was down during the scan: the run
was stored before anyone was notified.

` + storeHelp,
		Example: "  rootwatch notify --store rootwatch.db --run 57 --notify slack=env:SLACK_WEBHOOK_URL",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			n.Getenv, n.AWS = app.Getenv, app.AWSConfig
			if len(n.Targets) == 0 {
				return usageErr("give at least one --notify KIND=TARGET")
			}
			if _, _, _, err := n.Plan(true); err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--notify: %w", err)}
			}
			s, err := openStore(ctx, app, spec)
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
			if !sendNotifications(ctx, app, n, r) {
				return &ExitError{Code: ExitNotify}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec, "store", "", "the history `STORE`")
	f.StringVar(&run, "run", "", "the stored `RUN` (default: the newest)")
	f.StringArrayVar(&n.Targets, "notify", nil, "`KIND=TARGET`, as for scan; repeatable")
	f.StringVar(&n.On, "notify-on", "new", "new, change or always")
	f.StringVar(&n.MinSeverity, "notify-min-severity", "", "leave out findings below this severity")
	f.StringVar(&n.Secret, "notify-secret", "", "sign webhook bodies under this `KEY` (env:VAR or file:PATH)")
	cmd.MarkFlagRequired("store")
	return cmd
}

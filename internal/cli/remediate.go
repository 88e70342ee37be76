package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/remediate"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/scan"
)

func newRemediateCommand(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remediate",
		Short: "Remove member root credentials across an organization: plan, review, apply, verify",
		Long: `remediate removes the root password, access keys and signing certificates of
an organization's member accounts, and deactivates their MFA, through
centralized root access (sts:AssumeRoot with the IAMDeleteRootUserCredentials
task policy), from the management account or IAM's delegated administrator.

  rootwatch remediate plan --org -o plan.json     read-only: what would be removed
  rootwatch remediate apply plan.json             remove it, after you confirm

What cannot be undone: a deleted password or access key is gone; MFA
deactivation leaves the device unassigned. Root access can be recovered with
the IAMCreateRootUserPassword task policy (documented, not automated here).`,
	}
	cmd.AddCommand(newRemediatePlanCommand(app), newRemediateApplyCommand(app))
	return cmd
}

func newRemediatePlanCommand(app *App) *cobra.Command {
	var orgFlag, enable bool
	var accounts, exclude, what []string
	var out, profile, region string
	var concurrency int
	cmd := &cobra.Command{
		Use:   "plan --org [-o plan.json]",
		Short: "Read each member root user's credentials and plan their removal (read-only)",
		Example: `  rootwatch remediate plan --org -o plan.json
  rootwatch remediate plan --org --accounts 111122223333 --what password,keys -o plan.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !orgFlag {
				return usageErr("remediate plan works on an organization: give --org (from the management account or IAM's delegated administrator)")
			}
			for _, w := range what {
				if !slices.Contains(remediate.AllKinds(), w) {
					return usageErr("--what %q: want %s", w, strings.Join(remediate.AllKinds(), ", "))
				}
			}
			sel := map[string]map[string]bool{"--accounts": {}, "--exclude-accounts": {}}
			for flag, ids := range map[string][]string{"--accounts": accounts, "--exclude-accounts": exclude} {
				for _, a := range ids {
					if !scan.ValidAccountID(a) {
						return usageErr("%s %q is not a 12-digit account ID", flag, a)
					}
					sel[flag][a] = true
				}
			}
			target, err := checkPlanOutput(out)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			cfg, err := awsx.Load(cmd.Context(), app.AWSConfig, profile, region)
			if err != nil {
				return withCredentialsHelp(err)
			}
			plan, err := remediate.BuildPlan(cmd.Context(), remediate.NewClients(cfg), remediate.PlanOptions{What: what, Include: sel["--accounts"], Exclude: sel["--exclude-accounts"],
				Concurrency: concurrency, Now: app.Now, Tool: "rootwatch " + app.Version, EnableCentralRootAccess: enable})
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			writePlanSummary(app.Stdout, plan)
			if out == "" {
				return nil
			}
			if err := writeOne(cmd.Context(), app, target, 0o600, func(w io.Writer) error {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(plan)
			}); err != nil {
				return err
			}
			fmt.Fprintf(app.Stderr, "plan written to %s (digest %s); review it, then: rootwatch remediate apply %s\n", out, plan.Digest[:16], out)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&orgFlag, "org", false, "plan for every member account of the organization")
	f.StringSliceVar(&accounts, "accounts", nil, "only these member account IDs")
	f.StringSliceVar(&exclude, "exclude-accounts", nil, "leave these account IDs out")
	f.StringSliceVar(&what, "what", nil, "what to remove: password, keys, certificates, mfa (default all)")
	f.StringVarP(&out, "output", "o", "", "write the plan to `FILE` (JSON, owner-only; checked before anything is read)")
	f.BoolVar(&enable, "enable-central-root-access", false, "when centralized root access is off, include the calls that would enable it (apply does not make them)")
	f.IntVar(&concurrency, "concurrency", 64, "accounts read at once")
	f.StringVar(&profile, "profile", "", "AWS shared config `PROFILE` of the management account")
	f.StringVar(&region, "region", "", "region for STS (AssumeRoot needs a regional endpoint)")
	return cmd
}

func writePlanSummary(w io.Writer, p *remediate.Plan) {
	counts := map[string]int{}
	for _, a := range p.Accounts {
		counts[a.Status]++
	}
	fmt.Fprintf(w, "Plan for %s by %s, %s (removing: %s)\n", report.Clean(p.OrganizationID), report.Clean(p.Caller), p.CreatedAt.Format(time.RFC3339), strings.Join(p.What, ", "))
	for _, a := range p.Accounts {
		switch a.Status {
		case remediate.StatusPlanned:
			fmt.Fprintf(w, "  %s  planned:", a.AccountID)
			for _, act := range a.Actions {
				fmt.Fprintf(w, " %s %s;", act.Call, report.Clean(act.CredentialID))
			}
			fmt.Fprintln(w)
		case remediate.StatusBlocked:
			fmt.Fprintf(w, "  %s  blocked: %s\n", a.AccountID, report.Clean(a.Reason))
		}
	}
	fmt.Fprintf(w, "%d planned, %d with nothing to do, %d blocked.\n", counts[remediate.StatusPlanned], counts[remediate.StatusNothingToDo], counts[remediate.StatusBlocked])
}

func newRemediateApplyCommand(app *App) *cobra.Command {
	var yes, rescan bool
	var logPath, summary, profile, region string
	var maxAge time.Duration
	var concurrency int
	cmd := &cobra.Command{
		Use:   "apply PLAN.json",
		Short: "Carry out a reviewed plan: delete what it names, then verify",
		Long: `apply refuses a plan whose digest does not match (it was edited), that is older
than --max-plan-age, or that is for another organization. Without --yes it asks
you to type the number of accounts it will change, on a terminal; it refuses
when standard input is not one. For each account: a delete session, a fresh
read, only the deletions the plan named that still exist (credentials added
since are left alone and reported), then an audit to verify. Every action goes
to --log (JSON Lines). Exit 0 when everything planned was done and verified, 1
when something failed or could not be verified, 2 for a refused plan.`,
		Example: "  rootwatch remediate apply plan.json --log remediation.jsonl",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			summaryTarget, err := checkApplyFiles(args[0], logPath, summary)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return usageErr("read plan: %v", err)
			}
			var plan remediate.Plan
			dec := json.NewDecoder(strings.NewReader(string(data)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&plan); err != nil {
				return usageErr("%s is not a rootwatch plan: %v", args[0], err)
			}
			cfg, err := awsx.Load(ctx, app.AWSConfig, profile, region)
			if err != nil {
				return withCredentialsHelp(err)
			}
			clients := remediate.NewClients(cfg)
			opts := remediate.ApplyOptions{MaxPlanAge: maxAge, Concurrency: concurrency, Now: app.Now}
			id, err := remediate.Check(ctx, clients, &plan, opts)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: %w", args[0], err)}
			}
			n := 0
			for _, a := range plan.Accounts {
				if a.Status == remediate.StatusPlanned {
					n++
				}
			}
			if n == 0 {
				fmt.Fprintln(app.Stdout, "The plan changes no account.")
				return nil
			}
			if !yes {
				if err := confirm(app, n, plan.OrganizationID); err != nil {
					return err
				}
			}
			if logPath != "" {
				f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
				if err != nil {
					return usageErr("--log: %v", err)
				}
				defer f.Close()
				opts.Log = f
			}
			results := remediate.Apply(ctx, clients, &plan, id, opts)
			if summary != "" {
				if err := writeOne(ctx, app, summaryTarget, 0o600, func(w io.Writer) error { return writeApplySummary(w, &plan, id.ARN, app.Now(), results) }); err != nil {
					return err
				}
			}
			return afterApply(ctx, app, results, rescan, profile, region)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	f.BoolVar(&rescan, "rescan", true, "scan the changed accounts again afterwards (--rescan=false to skip)")
	f.StringVar(&summary, "summary", "", "also write a Markdown summary for a change record to `FILE` (checked before anything is changed)")
	f.StringVar(&logPath, "log", "", "append one JSON line per action to `FILE` (owner-only)")
	f.DurationVar(&maxAge, "max-plan-age", time.Hour, "refuse a plan made longer ago than this")
	f.IntVar(&concurrency, "concurrency", 64, "accounts changed at once")
	f.StringVar(&profile, "profile", "", "AWS shared config `PROFILE` of the management account")
	f.StringVar(&region, "region", "", "region for STS (AssumeRoot needs a regional endpoint)")
	return cmd
}

// writeApplySummary is the change record: who applied which plan when,
// and each account's outcome.
func writeApplySummary(w io.Writer, p *remediate.Plan, caller string, at time.Time, results []remediate.AccountResult) error {
	fmt.Fprintf(w, "# Root credential removal in %s\n\nApplied %s by `%s`; plan of %s by `%s`, digest `%s`; removing: %s.\n\n",
		report.EscapeMarkdown(p.OrganizationID), at.UTC().Format(time.RFC3339), report.EscapeMarkdown(caller), p.CreatedAt.Format(time.RFC3339),
		report.EscapeMarkdown(p.Caller), p.Digest, strings.Join(p.What, ", "))
	fmt.Fprintln(w, "| account | outcome | removed | already gone | note |\n|---|---|---|---|---|")
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s |\n", r.AccountID, r.Outcome, r.Done, r.Gone, report.EscapeMarkdown(r.Reason))
	}
	return nil
}

// confirm asks for the number of accounts on a terminal.
func confirm(app *App, n int, orgID string) error {
	if app.StdinIsTerminal == nil || !app.StdinIsTerminal() || app.Stdin == nil {
		return usageErr("standard input is not a terminal, so nobody can confirm: review the plan and give --yes")
	}
	fmt.Fprintf(app.Stderr, "This deletes root credentials in %d accounts of %s; it cannot be undone.\nType %d to go on: ", n, report.Clean(orgID), n)
	line, _ := bufio.NewReader(app.Stdin).ReadString('\n')
	if strings.TrimSpace(line) != strconv.Itoa(n) {
		return usageErr("not confirmed: nothing was changed")
	}
	return nil
}

// afterApply prints each account's outcome, scans the changed accounts
// again so iam-root-credentials-present shows what now holds, and maps the
// outcomes to the exit code.
func afterApply(ctx context.Context, app *App, results []remediate.AccountResult, rescan bool, profile, region string) error {
	failed := 0
	var changed []string
	for _, r := range results {
		line := fmt.Sprintf("  %s  %s", r.AccountID, r.Outcome)
		if r.Outcome == remediate.OutcomeDone {
			line += fmt.Sprintf(": %d removed, %d already gone", r.Done, r.Gone)
			changed = append(changed, r.AccountID)
		}
		if r.Reason != "" {
			line += " (" + r.Reason + ")"
		}
		fmt.Fprintln(app.Stdout, report.Clean(line))
		if r.Outcome == remediate.OutcomeFailed {
			failed++
			changed = append(changed, r.AccountID)
		}
	}
	if len(changed) > 0 && rescan {
		run, err := scan.Run(ctx, scan.Options{Org: &scan.Org{Include: changed, Concurrency: 32, AccountTimeout: 5 * time.Minute, RoleName: scan.DefaultRoleName, SessionName: "rootwatch"},
			AWS: app.AWSConfig, Profile: profile, Region: region, Now: app.Now, Version: app.Version, ReportTimeout: 2 * time.Minute})
		if err != nil {
			fmt.Fprintln(app.Stderr, "rootwatch: the re-scan after apply failed: "+report.Clean(err.Error()))
		} else {
			fmt.Fprintln(app.Stdout, "Re-scan:")
			for _, f := range run.Findings {
				if f.RuleID == "iam-root-credentials-present" {
					fmt.Fprintln(app.Stdout, report.Clean(fmt.Sprintf("  %s  %s: %s", f.AccountID, f.Status, f.Message)))
					if f.Status == finding.StatusFail {
						failed++
					}
				}
			}
		}
	}
	if failed > 0 {
		return &ExitError{Code: ExitFindings, Err: errors.New("some planned removals failed or could not be verified")}
	}
	return nil
}

package cli

import (
	"bufio"
	"context"
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
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/remediate"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/scan"
	"github.com/rootwatch/rootwatch/internal/secret"
	"github.com/rootwatch/rootwatch/internal/source/org"
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

A member root "credential" is a password, an access key or a signing
certificate, active or not: what iam-root-credentials-present fails on. An MFA
device is not one (alone it lets no one sign in): an account whose root user
has only MFA devices is left alone, and a device is deactivated only when the
plan leaves its root user no credential.

The plan's digest catches accidental edits and truncation; it does not stop
someone who can edit the file, who can recompute it. To stop them, sign the
plan (--sign-key on plan and apply). Apply also checks the plan against the
organization as it is: it refuses a plan that names the management account,
an account outside the organization or one not ACTIVE.

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
	var out, profile, region, signKeySpec string
	var concurrency int
	cmd := &cobra.Command{
		Use:   "plan --org [-o plan.json]",
		Short: "Read each member root user's credentials and plan their removal (read-only)",
		Long: `plan opens an audit session (IAMAuditRootUserCredentials) in each member
account, never the management account or an account outside the
organization, and plans the removal of the root user's credentials in AWS's
order: password, access keys, signing certificates, then MFA deactivation.
A credential is a password, access key or signing certificate (as
iam-root-credentials-present counts them); MFA devices are deactivated only in
an account the plan leaves with no credential, and an account with only MFA
devices has nothing to do. What the plan keeps, and why, is listed.

Without centralized root access every account is blocked, naming the calls
that would enable it; --enable-central-root-access plans those calls instead
(only the ones not already in effect), for apply to make.

--sign-key env:VAR or file:PATH signs the plan with HMAC-SHA256 under that
key, so that apply --sign-key refuses it after any change; the key itself is
never printed, logged or written to the plan.`,
		Example: `  rootwatch remediate plan --org -o plan.json
  rootwatch remediate plan --org --accounts 111122223333 --what password,keys -o plan.json
  rootwatch remediate plan --org --sign-key env:PLAN_KEY -o plan.json
  rootwatch remediate plan --org --enable-central-root-access -o enable.json`,
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
			if len(what) > 0 && !slices.ContainsFunc(what, func(w string) bool { return w != remediate.MFA }) {
				return usageErr("--what mfa alone removes nothing: an MFA device is deactivated only with the last credential it protects; add password, keys or certificates")
			}
			key, err := signKey(app, signKeySpec)
			if err != nil {
				return err
			}
			sel := map[string]map[string]bool{"--accounts": {}, "--exclude-accounts": {}}
			for flag, ids := range map[string][]string{"--accounts": accounts, "--exclude-accounts": exclude} {
				for _, a := range ids {
					if !evidence.ValidAccountID(a) {
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
			if key != nil {
				plan.Sign(key)
			}
			writePlanSummary(app.Stdout, plan)
			if out == "" {
				return nil
			}
			if err := writeOne(cmd.Context(), app, target, 0o600, plan.Write); err != nil {
				return err
			}
			signed, applyFlags := "", ""
			if key != nil {
				signed, applyFlags = ", signed", " --sign-key "+signKeySpec
			}
			fmt.Fprintf(app.Stderr, "plan written to %s (digest %s%s); review it, then: rootwatch remediate apply %s%s\n", out, plan.Digest[:16], signed, out, applyFlags)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&orgFlag, "org", false, "plan for every member account of the organization")
	f.StringSliceVar(&accounts, "accounts", nil, "only these member account IDs")
	f.StringSliceVar(&exclude, "exclude-accounts", nil, "leave these account IDs out")
	f.StringSliceVar(&what, "what", nil, "what to remove: password, keys, certificates, mfa (default all)")
	f.StringVarP(&out, "output", "o", "", "write the plan to `FILE` (JSON, owner-only; checked before anything is read)")
	f.BoolVar(&enable, "enable-central-root-access", false, "when centralized root access is off, plan the calls that enable it (those not in effect); apply makes them after the same confirmation and verifies them; then plan again")
	f.StringVar(&signKeySpec, "sign-key", "", "sign the plan with HMAC-SHA256 under the key in `env:VAR or file:PATH` (never the key itself)")
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
	if len(p.EnableCalls) > 0 {
		fmt.Fprintf(w, "  %s  planned (management account): %s\n", report.Clean(p.ManagementAccountID), strings.Join(p.EnableCalls, "; "))
	}
	for _, a := range p.Accounts {
		kept := ""
		if len(a.Kept) > 0 {
			kept = " kept: " + strings.Join(a.Kept, "; ")
		}
		switch a.Status {
		case remediate.StatusPlanned:
			fmt.Fprintf(w, "  %s  planned:", a.AccountID)
			for _, act := range a.Actions {
				fmt.Fprintf(w, " %s;", strings.TrimSpace(act.Call+" "+report.Clean(act.CredentialID)))
			}
			fmt.Fprintln(w, report.Clean(kept))
		case remediate.StatusNothingToDo:
			if kept != "" {
				fmt.Fprintf(w, "  %s  nothing to do;%s\n", a.AccountID, report.Clean(kept))
			}
		case remediate.StatusBlocked:
			fmt.Fprintf(w, "  %s  blocked: %s\n", a.AccountID, report.Clean(a.Reason))
		}
	}
	fmt.Fprintf(w, "%d planned, %d with nothing to do, %d blocked.\n", counts[remediate.StatusPlanned], counts[remediate.StatusNothingToDo], counts[remediate.StatusBlocked])
	if n := len(p.EnableCalls); n > 0 {
		fmt.Fprintf(w, "%d enabling %s planned; apply makes them, then plan again to remove credentials.\n", n, map[bool]string{true: "call", false: "calls"}[n == 1])
	}
	fmt.Fprintln(w, "A credential is a password, access key or signing certificate (as iam-root-credentials-present counts them); MFA is deactivated only where none is left.")
}

func newRemediateApplyCommand(app *App) *cobra.Command {
	var yes, rescan bool
	var logPath, summary, profile, region, signKeySpec string
	var maxAge time.Duration
	var concurrency int
	cmd := &cobra.Command{
		Use:   "apply PLAN.json",
		Short: "Carry out a reviewed plan: delete what it names, then verify",
		Long: `apply refuses the whole plan, before any AssumeRoot or deletion, when:
  - its digest does not match (an accidental edit or a truncated file; the
    digest is not a signature: whoever can edit the plan can recompute it);
  - --sign-key is given and the plan is unsigned or its HMAC-SHA256 signature
    does not match under that key (give --sign-key to stop a forger);
  - it is older than --max-plan-age, of another schema version, or its
    actions are not those its own credentials give;
  - it is for another organization or management account than the
    credentials in use manage;
  - it names the management account, the caller's own account, an account
    outside the organization or one whose state is not ACTIVE (ListAccounts
    is read again).
Each refusal names the plan file, the account and the field.

Without --yes it asks you to type the number of accounts it will change (or
of the enabling calls it will make), on a terminal; it refuses when standard
input is not one. For each account: a delete session, a fresh read, only the
deletions the plan named that still exist (credentials added since are left
alone and reported; an MFA device stays while any credential does), then an
audit to verify. A plan made with --enable-central-root-access makes its
enabling calls instead (each skipped when already in effect, so applying it
again calls nothing) and verifies them with ListOrganizationsFeatures. Every
action goes to --log (JSON Lines). Exit 0 when everything planned was done and
verified, 1 when something failed or could not be verified, 2 for a refused
plan.`,
		Example: `  rootwatch remediate apply plan.json --log remediation.jsonl
  rootwatch remediate apply plan.json --sign-key env:PLAN_KEY --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			path := args[0]
			summaryTarget, err := checkApplyFiles(path, logPath, summary)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			key, err := signKey(app, signKeySpec)
			if err != nil {
				return err
			}
			plan, err := remediate.LoadPlan(path, key)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			if key == nil && plan.Signature != "" {
				fmt.Fprintf(app.Stderr, "rootwatch: %s is signed, but no --sign-key was given: its signature was not checked\n", path)
			}
			cfg, err := awsx.Load(ctx, app.AWSConfig, profile, region)
			if err != nil {
				return withCredentialsHelp(err)
			}
			clients := remediate.NewClients(cfg)
			opts := remediate.ApplyOptions{MaxPlanAge: maxAge, Concurrency: concurrency, Now: app.Now, SignKey: key}
			checked, err := remediate.Check(ctx, clients, plan, opts)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: %w", path, err)}
			}
			n := 0
			for _, a := range plan.Accounts {
				if a.Status == remediate.StatusPlanned {
					n++
				}
			}
			var prompt string
			switch {
			case len(plan.EnableCalls) > 0:
				n = len(plan.EnableCalls)
				prompt = fmt.Sprintf("This enables centralized root access in %s (%s): the management account and IAM's delegated administrator can then delete member root credentials and take root sessions in member accounts.",
					report.Clean(plan.OrganizationID), strings.Join(plan.EnableCalls, ", "))
			case n == 0:
				fmt.Fprintln(app.Stdout, "The plan changes no account.")
				return nil
			default:
				prompt = fmt.Sprintf("This deletes root credentials in %d accounts of %s; it cannot be undone.", n, report.Clean(plan.OrganizationID))
			}
			if !yes {
				if err := confirm(app, n, prompt); err != nil {
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
			results, err := remediate.Apply(ctx, clients, checked, opts)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: %w", path, err)}
			}
			id := checked.Identity
			if summary != "" {
				if err := writeOne(ctx, app, summaryTarget, 0o600, func(w io.Writer) error { return writeApplySummary(w, plan, id.ARN, app.Now(), results) }); err != nil {
					return err
				}
			}
			return afterApply(ctx, app, plan, results, rescan, profile, region)
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
	f.StringVar(&signKeySpec, "sign-key", "", "require the plan's HMAC-SHA256 signature under the key in `env:VAR or file:PATH`; refuse it unsigned or wrongly signed")
	return cmd
}

// signKey resolves --sign-key as --notify-secret is resolved (package
// secret), but only from env:VAR or file:PATH: a key in argv is visible to
// every user of the machine. Neither the key nor its length beyond the
// minimum is ever printed.
func signKey(app *App, spec string) ([]byte, error) {
	if spec == "" {
		return nil, nil
	}
	if !secret.IsRef(spec) {
		return nil, usageErr("--sign-key: give env:VAR or file:PATH, not the key itself (argv is visible to every user of the machine)")
	}
	k, err := app.secrets().Resolve(spec)
	if err != nil {
		return nil, usageErr("--sign-key: %v", err)
	}
	if len(k) < minSignKey {
		return nil, usageErr("--sign-key: the key is shorter than %d bytes; use a random one (e.g. openssl rand -hex 32)", minSignKey)
	}
	return []byte(k), nil
}

// minSignKey is the shortest key --sign-key takes.
const minSignKey = 16

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

// confirm says what is about to happen and asks for its number (of
// accounts, or of enabling calls) on a terminal.
func confirm(app *App, n int, what string) error {
	if app.StdinIsTerminal == nil || !app.StdinIsTerminal() || app.Stdin == nil {
		return usageErr("standard input is not a terminal, so nobody can confirm: review the plan and give --yes")
	}
	fmt.Fprintf(app.Stderr, "%s\nType %d to go on: ", what, n)
	line, _ := bufio.NewReader(app.Stdin).ReadString('\n')
	if strings.TrimSpace(line) != strconv.Itoa(n) {
		return usageErr("not confirmed: nothing was changed")
	}
	return nil
}

// afterApply prints each account's outcome, scans the changed accounts
// again so iam-root-credentials-present shows what now holds, and maps the
// outcomes to the exit code.
func afterApply(ctx context.Context, app *App, plan *remediate.Plan, results []remediate.AccountResult, rescan bool, profile, region string) error {
	failed := 0
	var changed []string
	// A failing re-scan is expected where the plan kept credentials of a
	// kind outside --what; an enabling plan changed no member.
	keeps := map[string]bool{}
	for _, a := range plan.Accounts {
		keeps[a.AccountID] = a.KeepsCredentials()
	}
	rescan = rescan && len(plan.EnableCalls) == 0
	for _, r := range results {
		line := fmt.Sprintf("  %s  %s", r.AccountID, r.Outcome)
		switch {
		case len(plan.EnableCalls) > 0:
			line += fmt.Sprintf(": %d enabling calls made, %d already in effect", r.Done, r.Gone)
		case r.Outcome == remediate.OutcomeDone:
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
		run, err := scan.Run(ctx, scan.Options{Org: &scan.Org{Include: changed, Concurrency: 32, AccountTimeout: 5 * time.Minute, RoleName: org.DefaultRoleName, SessionName: "rootwatch"},
			AWS: app.AWSConfig, Profile: profile, Region: region, Now: app.Now, Version: app.Version, ReportTimeout: 2 * time.Minute})
		if err != nil {
			fmt.Fprintln(app.Stderr, "rootwatch: the re-scan after apply failed: "+report.Clean(err.Error()))
		} else {
			fmt.Fprintln(app.Stdout, "Re-scan:")
			for _, f := range run.Findings {
				if f.RuleID == "iam-root-credentials-present" {
					line := fmt.Sprintf("  %s  %s: %s", f.AccountID, f.Status, f.Message)
					switch {
					case f.Status == finding.StatusFail && keeps[f.AccountID]:
						line += " (as planned: --what kept them)"
					case f.Status == finding.StatusFail:
						failed++
					}
					fmt.Fprintln(app.Stdout, report.Clean(line))
				}
			}
		}
	}
	switch {
	case failed > 0 && len(plan.EnableCalls) > 0:
		return &ExitError{Code: ExitFindings, Err: errors.New("centralized root access was not enabled, or could not be verified")}
	case failed > 0:
		return &ExitError{Code: ExitFindings, Err: errors.New("some planned removals failed or could not be verified")}
	}
	return nil
}

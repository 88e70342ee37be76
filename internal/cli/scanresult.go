package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/secret"
	"github.com/rootwatch/rootwatch/internal/store"
)

// prepareNotify completes the notification settings from the flags and
// reads them once, into the plan the command then sends by: bad ones are
// refused before anything is scanned or read. stored says whether the run
// is (or will be) in a store.
func prepareNotify(app *App, n *notify.Notifying, timeout time.Duration, stored bool) (*notify.Plan, error) {
	n.Getenv, n.ReadFile, n.AWS = app.Getenv, app.ReadFile, app.AWSConfig
	if timeout <= 0 || timeout > 10*time.Minute {
		return nil, usageErr("--notify-timeout %s: want more than 0 and at most 10m", timeout)
	}
	n.Delivery.Timeout = timeout
	n.Delivery.Waiting = func(line string) { fmt.Fprintln(app.Stderr, "rootwatch: "+report.Clean(line)) }
	plan, err := n.Plan(stored)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--notify: %w", err)}
	}
	return plan, nil
}

// notifyRun tells people about a scanned run, unless what they would be
// told needs a history the run is not in: the store did not keep it
// (storeErr), or it is a baseline (the store judged none of its findings
// before; said with
// the command that sends its failures). It returns false when a delivery
// failed.
func notifyRun(ctx context.Context, app *App, o *scanOptions, run *finding.Run, storeErr error) bool {
	n, plan := o.notify, o.notifyPlan
	if plan == nil || len(plan.Targets) == 0 {
		return true
	}
	when := plan.When
	switch {
	case !when.NeedsHistory():
	case storeErr != nil:
		fmt.Fprintf(app.Stderr, "rootwatch: notifications not sent: --notify-on %s compares the run with the stored history, and the store did not keep it; store it, then send them (below)\n", when)
		return true
	case run.History != nil && run.History.Baseline:
		var all []int
		for i := range n.Targets {
			all = append(all, i+1)
		}
		line, notes := notifyCommand(o.store, strconv.FormatInt(run.History.RunID, 10), n, all, string(notify.OnAlways))
		fmt.Fprintf(app.Stderr, "rootwatch: notifications not sent: run %d is the first in %s to judge these findings: the baseline that --notify-on %s compares the next runs with; nothing is new yet. To send its failures now:\n  %s\n",
			run.History.RunID, report.Clean(store.Describe(o.store)), when, report.Clean(line))
		sayNotes(app, notes)
		return true
	}
	return sendNotifications(ctx, app, plan, n, run, o.store)
}

// sendNotifications delivers what the run has to say and reports each
// target on stderr; it returns false when a delivery failed. A stored run
// (spec) gets the command that sends it again to the targets that failed,
// ready to run.
func sendNotifications(ctx context.Context, app *App, plan *notify.Plan, n notify.Notifying, run *finding.Run, spec string) bool {
	deliveries, err := plan.Notify(ctx, run)
	if err != nil {
		fmt.Fprintln(app.Stderr, "rootwatch: notification: "+report.Clean(err.Error()))
		return false
	}
	var failed []int
	for _, d := range deliveries {
		if d.Err != nil {
			msg := fmt.Sprintf("rootwatch: notification to %s failed after %d attempts: %v", d.Target, d.Attempts, d.Err)
			if errors.Is(d.Err, notify.ErrNoAnswer) {
				msg += " (--notify-timeout)"
			}
			fmt.Fprintln(app.Stderr, report.Clean(msg))
			if !slices.Contains(failed, d.Index) {
				failed = append(failed, d.Index)
			}
			continue
		}
		fmt.Fprintln(app.Stderr, report.Clean(fmt.Sprintf("notified %s", d.Target)))
	}
	if len(failed) > 0 && run.History != nil && run.History.RunID != 0 && spec != "" {
		line, notes := notifyCommand(spec, strconv.FormatInt(run.History.RunID, 10), n, failed, "")
		fmt.Fprintf(app.Stderr, "the run is stored as run %d: send it again to the targets that failed with\n  %s\n", run.History.RunID, report.Clean(line))
		sayNotes(app, notes)
	}
	return len(failed) == 0
}

func sayNotes(app *App, notes []string) {
	for _, note := range notes {
		fmt.Fprintf(app.Stderr, "  (%s)\n", report.Clean(note))
	}
}

// notifyCommand is the 'rootwatch notify' command that sends stored run
// (its number) to the targets at idx (places in n.Targets, from 1) as n
// would, with on instead of n.On when it is set. It is exact, but for
// secrets that were given in clear (a target's address, the signing key,
// a store URL with a password): those become placeholders that the notes
// explain, and are never printed.
func notifyCommand(spec, run string, n notify.Notifying, idx []int, on string) (string, []string) {
	storeWord, ok := printableStore(spec)
	words := []string{"rootwatch", "notify", "--store", storeWord, "--run", run}
	var notes []string
	if !ok {
		notes = append(notes, storeSecretNote)
	}
	sns, routed, webhook := false, false, false
	for _, i := range idx {
		t := n.Targets[i-1]
		kind, addr, _ := strings.Cut(t, "=")
		base, route, _ := strings.Cut(strings.ToLower(strings.TrimSpace(kind)), "@")
		routed = routed || route != ""
		webhook = webhook || base == "webhook"
		switch {
		case base == "sns":
			sns = true
			words = append(words, "--notify", shellWord(t))
		case secret.IsRef(addr):
			words = append(words, "--notify", shellWord(t))
		default:
			ph := strings.ToUpper(base) + "_URL"
			words = append(words, "--notify", shellWord(kind+"="+ph))
			notes = append(notes, fmt.Sprintf("%s: the address of %s target %d was given in clear and is a secret: put it in place of %s, or keep it in env:VAR", ph, base, i, ph))
		}
	}
	if on == "" {
		on = n.On
	}
	if on != "" && on != string(notify.OnNew) {
		words = append(words, "--notify-on", shellWord(on))
	}
	if n.MinSeverity != "" {
		words = append(words, "--notify-min-severity", shellWord(n.MinSeverity))
	}
	if n.Secret != "" && webhook {
		if secret.IsRef(n.Secret) {
			words = append(words, "--notify-secret", shellWord(n.Secret))
		} else {
			words = append(words, "--notify-secret", "KEY")
			notes = append(notes, "KEY: the webhook signing key was given in clear and is a secret: put it in place of KEY, or keep it in env:VAR")
		}
	}
	if routed && n.RouteTag != "" && n.RouteTag != "owner" {
		words = append(words, "--notify-route-tag", shellWord(n.RouteTag))
	}
	if sns && n.Profile != "" {
		words = append(words, "--profile", shellWord(n.Profile))
	}
	if d := n.Delivery.Timeout; d > 0 && d != notify.DefaultTimeout {
		words = append(words, "--notify-timeout", d.String())
	}
	return strings.Join(words, " "), notes
}

// warnExpiredSuppressions says, once per finding, that an accepted
// exception has run out and the finding counts again.
func warnExpiredSuppressions(app *App, run *finding.Run) {
	for _, f := range run.Findings {
		if s := f.Suppression; s != nil && s.Expired {
			fmt.Fprintln(app.Stderr, report.Clean(fmt.Sprintf("warning: the suppression of %s for account %s (%s) expired on %s: the finding counts as %s again",
				f.RuleID, f.AccountID, s.Reason, s.Expires.Format("2006-01-02"), f.Status)))
		}
	}
}

// nothingJudged says why a run holds no finding.
func nothingJudged(run *finding.Run) string {
	if len(run.Accounts) == 0 {
		return "no account was found to scan"
	}
	skipped := 0
	for _, a := range run.Accounts {
		if a.Status == finding.AccountSkipped {
			skipped++
		}
	}
	if skipped == len(run.Accounts) {
		return fmt.Sprintf("every account was skipped (%d; their reasons are in the output)", skipped)
	}
	return "no rule is enabled"
}

// failOnNone ranks above every severity: nothing fails the exit code.
const failOnNone = 99

func parseFailOn(s string) (int, error) {
	if strings.EqualFold(s, "none") {
		return failOnNone, nil
	}
	sev, err := finding.ParseSeverity(s)
	if err != nil {
		return 0, fmt.Errorf("--fail-on: %w, or none", err)
	}
	return sev.Rank(), nil
}

// verdictExit maps a run to exit code 0, 1 or 3. Findings below the
// --fail-on severity count for neither; with --fail-on none nothing exits 1,
// but rules that could not be judged still exit 3.
func verdictExit(run *finding.Run, failOnRank int) error {
	undecidedRank := failOnRank
	if failOnRank == failOnNone {
		undecidedRank = 0
	}
	undecided := false
	for _, f := range run.Findings {
		rank := f.Severity.Rank()
		switch f.Status {
		case finding.StatusFail:
			if rank >= failOnRank {
				return &ExitError{Code: ExitFindings}
			}
		case finding.StatusUnknown, finding.StatusError:
			undecided = undecided || rank >= undecidedRank
		}
	}
	if undecided {
		return &ExitError{Code: ExitUnknown}
	}
	return nil
}

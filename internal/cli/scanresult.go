package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/scan"
)

// sendNotifications delivers what the run has to say and reports each
// target on stderr; it returns false when a delivery failed. The run is
// already stored (scan --store) when this runs, so 'rootwatch notify' can
// send it again.
func sendNotifications(ctx context.Context, app *App, n scan.Notifying, run *finding.Run) bool {
	deliveries, err := scan.Notify(ctx, n, run)
	if err != nil {
		fmt.Fprintln(app.Stderr, "rootwatch: notification: "+report.Clean(err.Error()))
		return false
	}
	ok := true
	for _, d := range deliveries {
		if d.Err != nil {
			ok = false
			fmt.Fprintln(app.Stderr, report.Clean(fmt.Sprintf("rootwatch: notification to %s failed after %d attempts: %v", d.Target, d.Attempts, d.Err)))
			continue
		}
		fmt.Fprintln(app.Stderr, report.Clean(fmt.Sprintf("notified %s", d.Target)))
	}
	if !ok && run.History != nil {
		fmt.Fprintf(app.Stderr, "the run is stored as run %d: send it again with 'rootwatch notify --store STORE --run %d --notify …'\n", run.History.RunID, run.History.RunID)
	}
	return ok
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

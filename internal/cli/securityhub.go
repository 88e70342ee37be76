package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/securityhub"
	"github.com/rootwatch/rootwatch/internal/store"
)

// importSecurityHub sends the run's findings, as ASFF, to Security Hub in
// the caller's account and region, and closes the findings the previous
// stored run of the scope imported as failing that this run resolved.
// Refused findings are listed on stderr, and so is what could not be sent
// (other accounts' findings, resolved findings without a history); an
// import that fails outright is an error.
func importSecurityHub(ctx context.Context, app *App, o *scanOptions, run *finding.Run) error {
	prev := previousStoredRun(ctx, app, o.store, run)
	res, err := securityhub.ImportRun(ctx, app.AWSConfig, o.profile, o.region, run, prev)
	if res.Account == "" && err != nil {
		return withCredentialsHelp(err)
	}
	fmt.Fprintf(app.Stderr, "Security Hub (%s, %s): imported %d of %d findings in %d batches", res.Account, res.Region, res.Imported, res.Total, res.Batches)
	if res.Resolved > 0 {
		fmt.Fprintf(app.Stderr, ", %s since run %d closed (Compliance PASSED, RecordState ARCHIVED)", evidence.Count(res.Resolved, "resolved finding"), run.History.PreviousRunID)
	}
	if len(res.Refused) > 0 {
		fmt.Fprintf(app.Stderr, "; %d refused:", len(res.Refused))
		for _, r := range res.Refused {
			fmt.Fprintf(app.Stderr, "\n  %s: %s: %s", report.Sanitize(r.ID), report.Sanitize(r.Code), report.Sanitize(r.Message))
		}
	}
	fmt.Fprintln(app.Stderr)
	if len(res.Elsewhere) > 0 {
		n := 0
		for _, c := range res.Elsewhere {
			n += c
		}
		accounts := slices.Sorted(maps.Keys(res.Elsewhere))
		fmt.Fprintf(app.Stderr, "Security Hub: %s of %s not imported (%s): BatchImportFindings takes an account's findings only from that account; "+
			"import them there, e.g. rootwatch scan --evidence BUNDLE --securityhub --profile PROFILE with that account's credentials\n",
			evidence.Count(n, "finding"), evidence.Count(len(accounts), "other account"), report.Clean(strings.Join(accounts, ", ")))
	}
	return err
}

// previousStoredRun is the run before this one of its scope, read from the
// store, for the findings it imported as failing that are resolved now; nil
// (and a line saying what cannot be closed) when there is no history.
func previousStoredRun(ctx context.Context, app *App, spec string, run *finding.Run) *finding.Run {
	const cannot = "Security Hub: findings resolved since an earlier run cannot be closed"
	switch {
	case spec == "":
		fmt.Fprintln(app.Stderr, cannot+" without history: with --store, a failure that no longer applies is archived as passed; without it, it stays active in Security Hub until deleted for want of updates")
		return nil
	case run.History == nil:
		fmt.Fprintln(app.Stderr, cannot+": this run was not stored, so the previous one is not known")
		return nil
	case run.History.PreviousRunID == 0:
		return nil // the first run of its scope: nothing was imported before by it
	}
	s, err := store.Open(ctx, spec, app.Getenv)
	if err != nil {
		fmt.Fprintf(app.Stderr, "%s: %s\n", cannot, report.Clean(err.Error()))
		return nil
	}
	defer s.Close()
	prev, _, err := s.Load(ctx, run.History.PreviousRunID)
	if err != nil {
		fmt.Fprintf(app.Stderr, "%s: run %d: %s\n", cannot, run.History.PreviousRunID, report.Clean(err.Error()))
		return nil
	}
	return prev
}

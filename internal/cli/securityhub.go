package cli

import (
	"context"
	"fmt"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/scan"
)

// importSecurityHub sends the run's findings, as ASFF, to Security Hub in
// the caller's account and region. Refused findings are listed on stderr;
// an import that fails outright is an error.
func importSecurityHub(ctx context.Context, app *App, o *scanOptions, run *finding.Run) error {
	res, err := scan.ImportSecurityHub(ctx, app.AWSConfig, o.profile, o.region, run)
	if res.Account == "" && err != nil {
		return withCredentialsHelp(err)
	}
	fmt.Fprintf(app.Stderr, "Security Hub (%s, %s): imported %d of %d findings in %d batches", res.Account, res.Region, res.Imported, res.Total, res.Batches)
	if len(res.Refused) > 0 {
		fmt.Fprintf(app.Stderr, "; %d refused:", len(res.Refused))
		for _, r := range res.Refused {
			fmt.Fprintf(app.Stderr, "\n  %s: %s: %s", report.Sanitize(r.ID), report.Sanitize(r.Code), report.Sanitize(r.Message))
		}
	}
	fmt.Fprintln(app.Stderr)
	return err
}

package cli

import (
	"context"
	"fmt"

	shapi "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/securityhub"
)

// importSecurityHub sends the run's findings, as ASFF, to Security Hub in
// the caller's account and region. Refused findings are listed on stderr;
// an import that fails outright is an error.
func importSecurityHub(ctx context.Context, app *App, o *scanOptions, run *finding.Run) error {
	cfg, err := awsx.Load(ctx, app.AWSConfig, o.profile, o.region)
	if err != nil {
		return withCredentialsHelp(err)
	}
	id, err := awsx.WhoAmI(ctx, sts.NewFromConfig(cfg))
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("Security Hub import: %w", err)}
	}
	meta, err := rules.Info()
	if err != nil {
		return err
	}
	records := report.ASFF{Meta: meta, Region: cfg.Region, ProductAccount: id.Account}.Findings(run)
	findings, err := securityhub.Convert(records)
	if err != nil {
		return err
	}
	res, err := securityhub.Import(ctx, shapi.NewFromConfig(cfg), findings)
	fmt.Fprintf(app.Stderr, "Security Hub (%s, %s): imported %d of %d findings in %d batches", id.Account, cfg.Region, res.Imported, len(findings), res.Batches)
	if len(res.Refused) > 0 {
		fmt.Fprintf(app.Stderr, "; %d refused:", len(res.Refused))
		for _, r := range res.Refused {
			fmt.Fprintf(app.Stderr, "\n  %s: %s: %s", report.Sanitize(r.ID), report.Sanitize(r.Code), report.Sanitize(r.Message))
		}
	}
	fmt.Fprintln(app.Stderr)
	if err != nil {
		return fmt.Errorf("Security Hub import: %w", err)
	}
	return nil
}

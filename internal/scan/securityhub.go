package scan

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

// SecurityHubResult is what an import did.
type SecurityHubResult struct {
	Account, Region   string
	Imported, Batches int
	Total             int
	Refused           []securityhub.Refusal
}

// ImportSecurityHub sends the run's findings, as ASFF, to Security Hub in
// the caller's account and region. The result is returned even when the
// import fails part way.
func ImportSecurityHub(ctx context.Context, load awsx.Loader, profile, region string, run *finding.Run) (SecurityHubResult, error) {
	cfg, err := awsx.Load(ctx, load, profile, region)
	if err != nil {
		return SecurityHubResult{}, err
	}
	id, err := awsx.WhoAmI(ctx, sts.NewFromConfig(cfg))
	if err != nil {
		return SecurityHubResult{}, fmt.Errorf("Security Hub import: %w", err)
	}
	meta, err := rules.Info()
	if err != nil {
		return SecurityHubResult{}, err
	}
	records := report.ASFF{Meta: meta, Region: cfg.Region, ProductAccount: id.Account}.Findings(run)
	findings, err := securityhub.Convert(records)
	if err != nil {
		return SecurityHubResult{}, err
	}
	res, err := securityhub.Import(ctx, shapi.NewFromConfig(cfg), findings)
	out := SecurityHubResult{Account: id.Account, Region: cfg.Region, Imported: res.Imported, Batches: res.Batches, Total: len(findings), Refused: res.Refused}
	if err != nil {
		return out, fmt.Errorf("Security Hub import: %w", err)
	}
	return out, nil
}

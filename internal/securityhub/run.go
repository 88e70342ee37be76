package securityhub

import (
	"context"
	"fmt"

	shapi "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/rules"
)

// RunResult is what an import of a run did.
type RunResult struct {
	Account, Region   string
	Imported, Batches int
	// Total counts the records sent: the run's findings of the calling
	// account and the resolved ones closed.
	Total int
	// Resolved counts the findings an earlier run imported as failing that
	// were closed (archived as passed).
	Resolved int
	// Elsewhere counts the findings of other accounts, which Security Hub
	// takes only from their own account, by account.
	Elsewhere map[string]int
	Refused   []Refusal
}

// ImportRun sends the run's findings, as ASFF, to Security Hub in
// the caller's account and region, with the findings prev (the previous
// stored run of the same scope, nil when there is none) imported as failing
// that this run resolved, closed. BatchImportFindings takes, with the
// account's default product, only the calling account's findings: those of
// other accounts (an organization scan's members) are not sent and are
// counted in Elsewhere. The result is returned even when the import fails
// part way.
func ImportRun(ctx context.Context, load awsx.Loader, profile, region string, run, prev *finding.Run) (RunResult, error) {
	cfg, err := awsx.Load(ctx, load, profile, region)
	if err != nil {
		return RunResult{}, err
	}
	id, err := awsx.WhoAmI(ctx, sts.NewFromConfig(cfg))
	if err != nil {
		return RunResult{}, fmt.Errorf("Security Hub import: %w", err)
	}
	meta, err := rules.Info()
	if err != nil {
		return RunResult{}, err
	}
	out := RunResult{Account: id.Account, Region: cfg.Region, Elsewhere: map[string]int{}}
	a := report.ASFF{Meta: meta, Region: cfg.Region, ProductAccount: id.Account}
	var records []map[string]any
	keep := func(rec map[string]any) bool {
		if acct := rec["AwsAccountId"].(string); acct != id.Account {
			out.Elsewhere[acct]++
			return false
		}
		return true
	}
	for _, rec := range a.Findings(run) {
		if keep(rec) {
			records = append(records, rec)
		}
	}
	for _, rec := range a.Resolved(prev, run) {
		if keep(rec) {
			records = append(records, rec)
			out.Resolved++
		}
	}
	findings, err := Convert(records)
	if err != nil {
		return RunResult{}, err
	}
	out.Total = len(findings)
	res, err := Import(ctx, shapi.NewFromConfig(cfg), findings)
	out.Imported, out.Batches, out.Refused = res.Imported, res.Batches, res.Refused
	if err != nil {
		return out, fmt.Errorf("Security Hub import: %w", err)
	}
	return out, nil
}

package live

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/credreport"
)

// CredentialReport returns the account's credential report. It reuses an
// existing report younger than MaxReportAge; otherwise it asks IAM to
// generate one and polls with backoff until it is ready or ReportTimeout
// passes. The SDK retries throttling; ReportInProgress (404) and
// LimitExceeded (409) are not retried by the SDK and are waited out here.
// A report that never became ready is "missing", with the last state seen.
func CredentialReport(ctx context.Context, c IAMAPI, opts Options) (*evidence.CredentialReport, evidence.SourceStatus) {
	opts = opts.withDefaults()
	start := opts.Now()

	out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	switch {
	case err == nil:
		gen := aws.ToTime(out.GeneratedTime)
		if age := opts.Now().Sub(gen); age <= opts.MaxReportAge {
			return parseLive(out, fmt.Sprintf("reused the existing report, generated %s ago", humanAge(age)))
		}
	case awsx.CodeIs(err, "ReportNotPresent", "ReportExpired", "ReportInProgress"):
		// Generate (or join the generation under way) below.
	case awsx.IsDenied(err):
		return nil, awsx.Failed("GetCredentialReport", err)
	default:
		if ctx.Err() != nil {
			return nil, awsx.Failed("GetCredentialReport", err)
		}
		// A transient failure: generation may still succeed.
	}

	// The wait is bounded in real time; the injected clock only dates reports.
	waitCtx, cancel := context.WithTimeout(ctx, opts.ReportTimeout)
	defer cancel()
	wait := opts.PollInterval
	polls := 0
	last := "not started"
	pause := func() error {
		t := time.NewTimer(wait)
		defer t.Stop()
		wait = min(time.Duration(float64(wait)*1.5), opts.PollMax)
		select {
		case <-waitCtx.Done():
			return waitCtx.Err()
		case <-t.C:
			return nil
		}
	}
	notReady := func() (*evidence.CredentialReport, evidence.SourceStatus) {
		if ctx.Err() != nil {
			return nil, evidence.SourceStatus{State: evidence.StateError, Detail: fmt.Sprintf("credential report: interrupted after %s (%s): %v", evidence.Count(polls, "poll"), last, ctx.Err())}
		}
		return nil, evidence.SourceStatus{State: evidence.StateMissing,
			Detail: fmt.Sprintf("credential report not ready within %s (%d polls; last: %s)", opts.ReportTimeout, polls, last)}
	}

	for {
		polls++
		gen, err := c.GenerateCredentialReport(waitCtx, &iam.GenerateCredentialReportInput{})
		if waitCtx.Err() != nil {
			return notReady()
		}
		switch {
		case err == nil:
			last = "GenerateCredentialReport " + string(gen.State)
		case awsx.IsDenied(err):
			return nil, awsx.Failed("GenerateCredentialReport", err)
		case awsx.CodeIs(err, "LimitExceeded", "Throttling", "ThrottlingException", "ServiceFailure"):
			last = awsx.Describe("GenerateCredentialReport", err)
		default:
			return nil, awsx.Failed("GenerateCredentialReport", err)
		}
		if err == nil && gen.State == "COMPLETE" {
			out, err := c.GetCredentialReport(waitCtx, &iam.GetCredentialReportInput{})
			if waitCtx.Err() != nil {
				return notReady()
			}
			switch {
			case err == nil:
				how := fmt.Sprintf("generated a new report (%s)", evidence.Count(polls, "poll"))
				if aws.ToTime(out.GeneratedTime).Before(start.Add(-time.Minute)) {
					// IAM regenerates at most every four hours and hands back
					// the report it has; the rules judge whether it is fresh enough.
					how = fmt.Sprintf("IAM returned its existing report, generated %s ago, instead of a new one", humanAge(opts.Now().Sub(aws.ToTime(out.GeneratedTime))))
				}
				return parseLive(out, how)
			case awsx.CodeIs(err, "ReportInProgress", "ReportNotPresent", "ServiceFailure", "Throttling"):
				last = awsx.Describe("GetCredentialReport", err)
			default:
				return nil, awsx.Failed("GetCredentialReport", err)
			}
		}
		if err := pause(); err != nil {
			return notReady()
		}
	}
}

func parseLive(out *iam.GetCredentialReportOutput, how string) (*evidence.CredentialReport, evidence.SourceStatus) {
	if f := string(out.ReportFormat); f != "" && f != "text/csv" {
		return nil, evidence.SourceStatus{State: evidence.StateError, Detail: fmt.Sprintf("GetCredentialReport returned format %q, want text/csv", f)}
	}
	gen := aws.ToTime(out.GeneratedTime).UTC()
	rep, err := credreport.Parse(out.Content, "GetCredentialReport", gen)
	if err != nil {
		return nil, evidence.SourceStatus{State: evidence.StateError, Detail: "GetCredentialReport returned content that is not a credential report: " + err.Error()}
	}
	detail := how + "; " + evidence.Count(len(rep.Rows), "row")
	if n := len(rep.Warnings) + len(rep.Issues); n > 0 {
		detail += "; " + evidence.Count(n, "warning")
	}
	return rep, evidence.SourceStatus{State: evidence.StateOK, Detail: detail}
}

// humanAge prints an age the way a person reads it: 45s, 37m, 5.5h, 12.3 days.
func humanAge(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + humanAge(-d)
	case d < 2*time.Minute:
		return d.Round(time.Second).String()
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1fh", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

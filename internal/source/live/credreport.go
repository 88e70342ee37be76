package live

import (
	"context"
	"errors"
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
// generate one and polls until it is ready or ReportTimeout passes, waiting
// between polls as reportBackoff says: IAM takes seconds to minutes to
// generate a report whatever the poller does, so polling faster only spends
// the account's IAM quota. The SDK retries Throttling itself; a poll that
// still ends throttled (Throttling, LimitExceeded) lengthens the next wait,
// and ReportInProgress is the ordinary "not yet". A report that never became
// ready is "missing", with the number of polls and the last state seen.
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

	// The timeout is measured on PollClock (real time unless a test brings
	// its own), never on Now, which the demo and tests freeze. The real-time
	// context also bounds a call that hangs.
	clock := opts.PollClock
	deadline := clock.Now().Add(opts.ReportTimeout)
	waitCtx, cancel := context.WithTimeout(ctx, opts.ReportTimeout)
	defer cancel()
	backoff := newReportBackoff(opts)
	polls := 0
	last := "not started"
	notReady := func() (*evidence.CredentialReport, evidence.SourceStatus) {
		if ctx.Err() != nil {
			return nil, evidence.SourceStatus{State: evidence.StateError, Detail: fmt.Sprintf("credential report: interrupted after %s (%s): %v", evidence.Count(polls, "poll"), last, ctx.Err())}
		}
		return nil, evidence.SourceStatus{State: evidence.StateMissing,
			Detail: fmt.Sprintf("credential report not ready within %s (%s; last: %s)", opts.ReportTimeout, evidence.Count(polls, "poll"), last)}
	}

	for {
		polls++
		slowDown := false
		gen, err := c.GenerateCredentialReport(waitCtx, &iam.GenerateCredentialReportInput{})
		if waitCtx.Err() != nil {
			return notReady()
		}
		switch {
		case err == nil:
			last = "GenerateCredentialReport " + string(gen.State)
		case awsx.IsDenied(err):
			return nil, awsx.Failed("GenerateCredentialReport", err)
		case throttled(err):
			last, slowDown = awsx.Describe("GenerateCredentialReport", err), true
		case awsx.CodeIs(err, "ServiceFailure"):
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
			case throttled(err):
				last, slowDown = awsx.Describe("GetCredentialReport", err), true
			case awsx.CodeIs(err, "ReportInProgress", "ReportNotPresent", "ServiceFailure"):
				last = awsx.Describe("GetCredentialReport", err)
			default:
				return nil, awsx.Failed("GetCredentialReport", err)
			}
		}
		// No poll starts at or after the deadline: the last wait is cut to
		// it, and then the report is declared not ready.
		wait := min(backoff.next(slowDown), deadline.Sub(clock.Now()))
		if wait <= 0 {
			return notReady()
		}
		if err := clock.Sleep(waitCtx, wait); err != nil || !clock.Now().Before(deadline) {
			return notReady()
		}
	}
}

// throttled reports whether IAM asked the caller to slow down: Throttling
// (which the SDK has already retried), or LimitExceeded (409), the refusal
// GenerateCredentialReport documents and answered when AWS was holding the
// call back (AWS.md §1).
func throttled(err error) bool {
	return awsx.CodeIs(err, "Throttling", "LimitExceeded", "TooManyRequests")
}

// reportBackoff spaces credential report polls: PollInterval (1 s)
// doubling up to PollMax (5 s), so a report that takes a typical few
// seconds is seen within a second or two of being ready, and one that
// never becomes ready costs one call every five seconds (about 27 calls in
// the default two minutes, where a fixed half-second poll made 240). A
// throttled poll doubles the wait instead, past PollMax up to six times it
// (30 s), until a poll goes through. Every wait is spread by ±20% so that
// many accounts or scanners started together do not poll in step.
type reportBackoff struct {
	base, max, throttledMax time.Duration
	jitter                  func() float64
}

// jitterSpread is how far a wait may move either way, as a fraction.
const jitterSpread = 0.2

func newReportBackoff(o Options) *reportBackoff {
	return &reportBackoff{base: o.PollInterval, max: o.PollMax, throttledMax: 6 * o.PollMax, jitter: o.Jitter}
}

// next is the wait after a poll; slowDown says IAM asked for it (throttled).
func (b *reportBackoff) next(slowDown bool) time.Duration {
	var d time.Duration
	if slowDown {
		b.base = min(2*b.base, b.throttledMax)
		d = b.base
	} else {
		// Back to the ordinary ceiling once a poll goes through.
		d = min(b.base, b.max)
		b.base = min(2*d, b.max)
	}
	return time.Duration(float64(d) * (1 + jitterSpread*(2*b.jitter()-1)))
}

// Clock spaces report polls; tests give one whose Sleep moves its Now.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx ends (then it returns ctx's error).
	Sleep(ctx context.Context, d time.Duration) error
}

// realClock is wall-clock time.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func parseLive(out *iam.GetCredentialReportOutput, how string) (*evidence.CredentialReport, evidence.SourceStatus) {
	if f := string(out.ReportFormat); f != "" && f != "text/csv" {
		return nil, evidence.SourceStatus{State: evidence.StateError, Detail: fmt.Sprintf("GetCredentialReport returned format %q, want text/csv", f)}
	}
	gen := aws.ToTime(out.GeneratedTime).UTC()
	rep, err := credreport.Parse(out.Content, "GetCredentialReport", gen)
	var tooLarge *credreport.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		return nil, evidence.SourceStatus{State: evidence.StateError, Detail: err.Error()}
	case err != nil:
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

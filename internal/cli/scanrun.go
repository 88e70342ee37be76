package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/config"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/bundle"
	"github.com/rootwatch/rootwatch/internal/evidence/credreport"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/scan"
	"github.com/rootwatch/rootwatch/internal/source/org"
	"github.com/rootwatch/rootwatch/internal/window"
)

func usageErr(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

func runScan(ctx context.Context, app *App, o *scanOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	opts, err := o.options(app)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	failOn, err := parseFailOn(o.failOn)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	outs, bundleTarget, err := planOutputs(app, o)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	// Every output of the run, the evidence bundle included, is staged in
	// one batch and committed together, or not at all.
	batch := newBatch(app)
	defer batch.Abort()
	savedAccounts := -1
	if bundleTarget != nil {
		opts.SaveBundle = func(b *bundle.Bundle) error {
			savedAccounts = len(b.Accounts)
			return batch.Add(bundleTarget, 0o600, func(w io.Writer) error { return b.Write(w, strings.HasSuffix(o.saveEvidence, ".gz")) })
		}
	}
	o.notify.Profile = o.profile
	if o.notifyPlan, err = prepareNotify(app, &o.notify, o.notifyTimeout, o.store != ""); err != nil {
		return err
	}
	if err := checkStore(ctx, app, o.store, o.storeTimeout); err != nil {
		return err
	}
	bar := newProgressBar(app)
	opts.Progress = bar.update
	run, err := scan.Run(ctx, opts)
	bar.finish()
	if errors.Is(err, credreport.ErrNoAccountID) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w: pass --account", err)}
	}
	if err != nil {
		if awsx.IsInterrupted(err) {
			return fmt.Errorf("%w: the scan stopped before judging; nothing was written, stored or sent", err)
		}
		return withCredentialsHelp(err)
	}
	var storeErr error
	if o.store != "" {
		// Stored before anything is written or sent; a run the store
		// cannot keep is still written (and exits 5).
		if storeErr = recordRun(ctx, app, o.store, o.storeTimeout, run); storeErr != nil {
			fmt.Fprintln(app.Stderr, "rootwatch: "+report.Clean(storeErr.Error()))
		}
	}
	warnExpiredSuppressions(app, run)
	if err := writeRun(ctx, app, o, batch, outs, run); err != nil {
		return err
	}
	if savedAccounts >= 0 {
		fmt.Fprintf(app.Stderr, "evidence bundle saved to %s, %s (it holds whole credential reports: keep it private)\n", report.Clean(o.saveEvidence), evidence.Count(savedAccounts, "account"))
	}
	if o.securityHub {
		if err := importSecurityHub(ctx, app, o, run); err != nil {
			return err
		}
	}
	notified := notifyRun(ctx, app, o, run, storeErr)
	if len(run.Findings) == 0 {
		fmt.Fprintf(app.Stderr, "rootwatch scan: nothing was judged: %s\n", nothingJudged(run))
		return &ExitError{Code: ExitUnknown}
	}
	if storeErr != nil {
		return notStored(o, jsonOutputs(outs))
	}
	verdict := verdictExit(run, failOn)
	if verdict == nil && !notified {
		return &ExitError{Code: ExitNotify}
	}
	return verdict
}

// options turns the flags into the pipeline's options, checking what only
// the flags can tell (which go together, which values parse); what the
// options can tell, scan.Options.Validate checks in the flags' names.
func (o *scanOptions) options(app *App) (scan.Options, error) {
	opts := scan.Options{
		Demo: o.demo, Bundle: o.evidenceFile, CloudTrail: o.cloudtrail, AthenaOutput: o.athenaOutput, QueryTimeout: o.queryTimeout, ReportTimeout: o.reportTimeout, Regions: o.regions,
		CloudTrailHint: "use --cloudtrail PATH|s3://…|athena://…|lake://…, or a live scan, which reads LookupEvents",
		SaveEvidence:   o.saveEvidence, AWS: app.AWSConfig, Profile: o.profile, Region: o.region,
		Now: app.Now, Version: app.Version,
		Notice: func(s string) { fmt.Fprintln(app.Stderr, report.Clean(s)) },
		Labels: scan.Labels{Demo: "--demo", Reports: "--credential-report", Org: "--org", Bundle: "--evidence", CloudTrail: "--cloudtrail",
			Account: "--account", RoleARNTemplate: "--role-arn-template"},
	}
	if o.configFile != "" {
		data, err := os.ReadFile(o.configFile)
		if err != nil {
			return opts, fmt.Errorf("read config: %w", err)
		}
		opts.ConfigFiles = []config.NamedFile{{Name: o.configFile, Data: data}}
		nc, err := config.Notifications(data, o.configFile)
		if err != nil {
			return opts, err
		}
		o.applyNotifications(nc)
	}
	if (o.account != "" || o.reportTime != "") && len(o.credentialReports) == 0 {
		return opts, errors.New("--account and --report-time go with --credential-report")
	}
	usesS3 := false
	for _, p := range o.cloudtrail {
		usesS3 = usesS3 || strings.HasPrefix(p, "s3://")
	}
	for _, p := range o.outputs {
		usesS3 = usesS3 || strings.HasPrefix(p, "s3://")
	}
	offline := o.demo || len(o.credentialReports) > 0 || o.evidenceFile != ""
	if (o.profile != "" || o.region != "") && offline && !usesS3 && !o.org && !o.securityHub {
		return opts, errors.New("--profile and --region are for live scans and s3:// CloudTrail paths")
	}
	if err := o.checkFlags(); err != nil {
		return opts, err
	}
	if err := o.orgOptions(&opts); err != nil {
		return opts, err
	}
	if len(o.credentialReports) > 0 {
		opts.Reports = &scan.Reports{Paths: o.credentialReports, Account: o.account}
		if o.reportTime != "" {
			t, err := time.Parse(time.RFC3339, o.reportTime)
			if err != nil {
				return opts, fmt.Errorf("--report-time %q is not an RFC 3339 time", o.reportTime)
			}
			opts.Reports.GeneratedAt = t.UTC()
		}
	}
	if o.asOf != "" {
		t, err := time.Parse(time.RFC3339, o.asOf)
		if err != nil {
			return opts, fmt.Errorf("--as-of %q is not an RFC 3339 time (e.g. 2026-01-31T12:00:00Z)", o.asOf)
		}
		opts.AsOf = t.UTC()
	}
	var err error
	if opts.Window, err = durationFlag("--window", o.window); err != nil {
		return opts, err
	}
	if opts.MaxReportAge, err = durationFlag("--max-report-age", o.maxReportAge); err != nil {
		return opts, err
	}
	return opts, opts.Validate()
}

// applyNotifications takes the config file's notifications: section where
// no flag said otherwise.
func (o *scanOptions) applyNotifications(nc *config.NotificationsConfig) {
	if nc == nil {
		return
	}
	if len(o.notify.Targets) == 0 {
		o.notify.Targets = nc.Targets
	}
	if !o.flagSet("notify-on") && nc.On != "" {
		o.notify.On = nc.On
	}
	if o.notify.MinSeverity == "" {
		o.notify.MinSeverity = nc.MinSeverity
	}
	if !o.flagSet("notify-route-tag") && nc.RouteTag != "" {
		o.notify.RouteTag = nc.RouteTag
	}
	if o.notify.Secret == "" {
		o.notify.Secret = nc.Secret
	}
}

// roleNameRE is IAM's role name: 1 to 64 of letters, digits and +=,.@_-.
var roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// regionRE is the shape of an AWS region name: us-east-1, us-gov-west-1, eusc-de-east-1.
var regionRE = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$`)

// checkFlags refuses values no scan can use, before anything is read.
func (o *scanOptions) checkFlags() error {
	switch o.color {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--color %q: want auto, always or never", o.color)
	}
	if o.reportTimeout <= 0 || o.reportTimeout > time.Hour {
		return fmt.Errorf("--report-timeout %s: want more than 0 and at most 1h (IAM generates a report in seconds to minutes)", o.reportTimeout)
	}
	if o.accountTimeout <= 0 || o.accountTimeout > 24*time.Hour {
		return fmt.Errorf("--account-timeout %s: want more than 0 and at most 24h", o.accountTimeout)
	}
	for _, r := range o.regions {
		if !regionRE.MatchString(r) {
			return fmt.Errorf("--regions: %q is not an AWS region name (like eu-west-1)", r)
		}
	}
	if !roleNameRE.MatchString(o.roleName) {
		return fmt.Errorf("--role-name %q is not an IAM role name (1 to 64 letters, digits and +=,.@_-; give a path with --role-arn-template)", o.roleName)
	}
	return nil
}

func (o *scanOptions) orgOptions(opts *scan.Options) error {
	orgOnly := o.roleARNTemplate != "" || o.externalID != "" || len(o.accounts) > 0 || len(o.excludeAccounts) > 0
	if orgOnly && !o.org {
		return errors.New("--role-arn-template, --external-id, --accounts and --exclude-accounts go with --org")
	}
	if o.concurrency < 1 || o.concurrency > 1000 {
		return fmt.Errorf("--concurrency must be between 1 and 1000, got %d", o.concurrency)
	}
	if o.org {
		opts.Org = &scan.Org{
			RoleName: o.roleName, RoleARNTemplate: o.roleARNTemplate, ExternalID: o.externalID, SessionName: o.sessionName,
			Include: o.accounts, Exclude: o.excludeAccounts, Concurrency: o.concurrency, AccountTimeout: o.accountTimeout,
			Names:    org.Names{Include: "--accounts", Exclude: "--exclude-accounts", AccountTimeout: "--account-timeout"},
			ReadTags: o.notify.Routes(),
		}
	}
	return nil
}

func durationFlag(name, s string) (window.Window, error) {
	if s == "" {
		return 0, nil
	}
	w, err := window.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return w, nil
}

const credentialsHelp = `provide credentials in one of these ways:
  --profile NAME (or AWS_PROFILE) naming a profile in ~/.aws/config or ~/.aws/credentials
  aws sso login --profile NAME, then --profile NAME
  AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)
  a container or instance role
or try rootwatch without AWS: rootwatch scan --demo`

// withCredentialsHelp adds how to provide credentials to an error that
// says there were none usable.
func withCredentialsHelp(err error) error {
	var ce *awsx.CredentialsError
	if errors.As(err, &ce) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w;\n%s", err, credentialsHelp)}
	}
	return err
}

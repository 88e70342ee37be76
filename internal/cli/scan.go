package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwatch/rootwatch/internal/config"
	"github.com/rootwatch/rootwatch/internal/engine"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/bundle"
	"github.com/rootwatch/rootwatch/internal/evidence/credreport"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
	"github.com/rootwatch/rootwatch/internal/source/demo"
	"github.com/rootwatch/rootwatch/internal/source/org"
)

type scanOptions struct {
	demo              bool
	credentialReports []string
	account           string
	reportTime        string
	asOf              string
	window            string
	maxReportAge      string
	configFile        string
	formats           []string
	outputs           []string
	outputDir         string
	failOn            string
	color             string
	profile           string
	region            string
	reportTimeout     time.Duration
	cloudtrail        []string
	org               bool
	roleName          string
	roleARNTemplate   string
	externalID        string
	sessionName       string
	accounts          []string
	excludeAccounts   []string
	concurrency       int
	accountTimeout    time.Duration
	securityHub       bool
	evidenceFile      string
	saveEvidence      string
}

func newScanCommand(app *App) *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Audit root-user risk and print one finding per rule and account",
		Long: `scan collects evidence, evaluates every rule against it and prints one finding
per rule and account, passes included, so the absence of a failure is never
ambiguous.

Evidence comes from:
  (nothing)                   the live account your AWS credentials land in
  --org                       every account of the organization your credentials
                              manage: ListAccounts, then in each ACTIVE account
                              AssumeRole (--role-name or --role-arn-template) and
                              the same collection; with centralized root access,
                              an AssumeRoot audit session reads each member root
                              user's password, keys, MFA devices and certificates
  --demo                      an embedded demo organization served by a fake AWS
                              on a loopback port (no credentials needed)
  --credential-report FILE    a saved IAM credential report: the CSV, or the JSON
                              printed by 'aws iam get-credential-report' (which also
                              carries the generation time). Repeat for several accounts.
  --evidence FILE             an evidence bundle saved by --save-evidence: the same
                              evidence evaluated again offline, as of the same time
                              and with the same settings unless flags say otherwise

Live, rootwatch calls GetCallerIdentity, reuses the account's credential report
when it is younger than --max-report-age or asks IAM to generate one and waits up
to --report-timeout, then reads GetAccountSummary, ListVirtualMFADevices (every
page), DescribeOrganization and, in an organization, ListOrganizationsFeatures.
A call that is denied makes only the rules that need it "unknown".
Credentials come from the SDK's default chain (environment, --profile/AWS_PROFILE,
SSO, instance roles); AWS_ENDPOINT_URL redirects every call (e.g. to an emulator).

--cloudtrail adds root activity from CloudTrail log files (any shape, gzip or
not, directories walked): the sign-in rules judge it, and iam-root-active-password
also fails on a successful root console sign-in within the window. Without
CloudTrail evidence those rules are "unknown", never "pass".

A bare CSV does not say when it was generated: pass --report-time so rootwatch can
check that the report is fresh enough (--max-report-age) to support a pass, or use
--as-of to judge it as of the moment it was taken.

--save-evidence FILE keeps everything a scan collected (every source's status,
the credential reports as AWS sent them, account summaries, MFA devices,
organization facts, root credentials, CloudTrail root events), its as-of time and
its settings, so that 'scan --evidence FILE' later prints the same findings. The
bundle holds no AWS credentials, but it does hold whole credential reports: it is
written readable by its owner only.

Windows are written 15d, 2w, 36h or 90m. --window sets the default window; a
window set for one rule in the --config file still applies to that rule.

Outputs (--format is repeatable; pair each with an --output FILE in order, or
give --output-dir DIR for rootwatch.<ext> files):
  table      a summary for the terminal (the default)
  json       the whole run: accounts, sources, findings and evidence (schema 1)
  csv        a row per finding for spreadsheets; formula-like cells neutralised
  junit      CI dashboards: a suite per account, a case per rule
  markdown   pull-request comments
  sarif      GitHub code scanning (SARIF 2.1.0), one result per failing finding
  html       one self-contained page for a browser or a ticket
  asff       AWS Security Finding Format; --securityhub also imports it
  ocsf       OCSF 1.3.0 Detection Findings (class 2004), one JSON line each,
             for Security Lake and other OCSF pipelines`,
		Example: `  rootwatch scan --demo
  rootwatch scan --profile audit
  rootwatch scan --org --profile management --role-name RootwatchAudit --external-id "$EXTERNAL_ID"
  rootwatch scan --org --exclude-accounts 111122223333 --concurrency 32 --format json -o org.json
  rootwatch scan --demo --format json --output findings.json
  rootwatch scan --demo -f sarif -o rootwatch.sarif -f html -o report.html
  rootwatch scan --demo -f json -f sarif -f csv -f junit -f markdown -f html --output-dir out/
  rootwatch scan --credential-report report.csv --as-of 2026-03-01T12:00:00Z --window 30d
  aws iam get-credential-report > report.json && rootwatch scan --credential-report report.json
  rootwatch scan --credential-report report.csv --config rootwatch.yaml --fail-on high
  rootwatch scan --org --save-evidence evidence-2026-11-22.json.gz -f json -o org.json
  rootwatch scan --evidence evidence-2026-11-22.json.gz -f html -o report.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd.Context(), app, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.demo, "demo", false, "scan the embedded demo organization instead of AWS")
	f.StringVar(&o.evidenceFile, "evidence", "", "evaluate an evidence bundle `FILE` saved by --save-evidence, offline")
	f.StringVar(&o.saveEvidence, "save-evidence", "", "also save what was collected as an evidence bundle `FILE` (.gz to compress)")
	f.StringArrayVar(&o.credentialReports, "credential-report", nil, "evaluate a saved credential report `FILE` (CSV or AWS CLI JSON); repeatable")
	f.StringVar(&o.account, "account", "", "expected 12-digit account `ID` of the --credential-report (checked against its ARNs)")
	f.StringVar(&o.reportTime, "report-time", "", "when the --credential-report was generated (RFC 3339), for the freshness check")
	f.StringVar(&o.asOf, "as-of", "", "judge as of this `TIME` (RFC 3339) instead of now")
	f.StringVar(&o.window, "window", "", "default window for recent use, e.g. 15d, 36h (default from config: 15d)")
	f.StringVar(&o.maxReportAge, "max-report-age", "", "oldest credential report that can support a pass, e.g. 4h (default 4h)")
	f.StringVar(&o.configFile, "config", "", "YAML `FILE` with per-rule windows, severities, disabled rules and suppressions")
	f.StringArrayVarP(&o.formats, "format", "f", []string{"table"}, "output `FORMAT`: "+strings.Join(report.Formats(), ", ")+"; repeatable")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "write to `FILE` instead of standard output; repeat to pair with each --format in order")
	f.StringVar(&o.outputDir, "output-dir", "", "write every --format into `DIR` as rootwatch.<ext> ("+strings.Join(extensions(), ", ")+")")
	f.StringVar(&o.failOn, "fail-on", "info", "exit 1 when a failing finding has this severity or worse: critical, high, medium, low, info, or none")
	f.StringVar(&o.profile, "profile", "", "AWS shared config `PROFILE` for a live scan (default: AWS_PROFILE or the default chain)")
	f.StringVar(&o.region, "region", "", "AWS region for STS and Organizations calls (default from config, else us-east-1)")
	f.DurationVar(&o.reportTimeout, "report-timeout", 2*time.Minute, "how long to wait for IAM to generate a credential report")
	f.StringArrayVar(&o.cloudtrail, "cloudtrail", nil, "CloudTrail evidence: a `PATH` (file or directory of logs, any shape, gzip or not) or s3://bucket/prefix; repeatable")
	f.BoolVar(&o.org, "org", false, "scan every account of the organization (run from the management account or a delegated administrator)")
	f.StringVar(&o.roleName, "role-name", "OrganizationAccountAccessRole", "with --org: the role to assume in each member account")
	f.StringVar(&o.roleARNTemplate, "role-arn-template", "", "with --org: the role ARN to assume, with {account} (and {partition}), e.g. arn:aws:iam::{account}:role/RootwatchAudit")
	f.StringVar(&o.externalID, "external-id", "", "with --org: the sts:ExternalId the member roles require")
	f.StringVar(&o.sessionName, "session-name", "rootwatch", "with --org: the role session name (shows in the members' CloudTrail)")
	f.StringSliceVar(&o.accounts, "accounts", nil, "with --org: scan only these account IDs (comma-separated or repeated)")
	f.StringSliceVar(&o.excludeAccounts, "exclude-accounts", nil, "with --org: skip these account IDs (listed as skipped)")
	f.IntVar(&o.concurrency, "concurrency", org.DefaultConcurrency, "with --org: accounts scanned at once (most of an account's time is spent waiting)")
	f.DurationVar(&o.accountTimeout, "account-timeout", 5*time.Minute, "with --org: give up on an account after this long (it is reported as failed)")
	f.BoolVar(&o.securityHub, "securityhub", false, "also import the findings (ASFF) into AWS Security Hub in your account and --region, 100 per call")
	f.StringVar(&o.color, "color", "auto", "colour the table: auto (only on a terminal, honours NO_COLOR), always, never")
	return cmd
}

func usageErr(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

func runScan(ctx context.Context, app *App, o *scanOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	modes := 0
	if o.demo {
		modes++
	}
	if len(o.credentialReports) > 0 {
		modes++
	}
	if o.org {
		modes++
	}
	if o.evidenceFile != "" {
		modes++
	}
	switch {
	case modes > 1:
		return usageErr("--demo, --credential-report, --org and --evidence cannot be combined")
	case o.evidenceFile != "" && len(o.cloudtrail) > 0:
		return usageErr("--evidence already holds the CloudTrail evidence its scan collected; --cloudtrail cannot add to it")
	}
	if err := o.validateOrg(); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if (o.account != "" || o.reportTime != "") && len(o.credentialReports) == 0 {
		return usageErr("--account and --report-time go with --credential-report")
	}

	now := app.Now().UTC().Truncate(time.Second)
	asOf := now
	var saved *bundle.Bundle
	if o.evidenceFile != "" {
		b, err := bundle.Load(o.evidenceFile)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		saved, asOf = b, b.AsOf
		fmt.Fprintf(app.Stderr, "evidence bundle %s: accounts %d, collected by %s %s at %s, judged as of %s unless --as-of says otherwise\n",
			o.evidenceFile, len(b.Accounts), report.Sanitize(b.Tool), report.Sanitize(b.ToolVersion), b.CreatedAt.Format(time.RFC3339), b.AsOf.Format(time.RFC3339))
	}
	if o.asOf != "" {
		t, err := time.Parse(time.RFC3339, o.asOf)
		if err != nil {
			return usageErr("--as-of %q is not an RFC 3339 time (e.g. 2026-01-31T12:00:00Z)", o.asOf)
		}
		asOf = t.UTC()
	}
	failOn, err := parseFailOn(o.failOn)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	outs, err := planOutputs(app, o)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if o.saveEvidence != "" {
		// Checked now, not after a long collection.
		if st, err := os.Stat(filepath.Dir(o.saveEvidence)); err != nil || !st.IsDir() {
			return usageErr("--save-evidence %s: directory %s does not exist", o.saveEvidence, filepath.Dir(o.saveEvidence))
		}
	}

	catalog := rules.Catalog()
	var cfgFiles []config.NamedFile
	if o.demo {
		cfgFiles = append(cfgFiles, config.NamedFile{Name: "(demo)", Data: demo.Config(asOf)})
	}
	if o.configFile != "" {
		data, err := os.ReadFile(o.configFile)
		if err != nil {
			return usageErr("read config: %w", err)
		}
		cfgFiles = append(cfgFiles, config.NamedFile{Name: o.configFile, Data: data})
	} else if saved != nil {
		// The settings the bundle's scan used, unless told otherwise.
		for _, c := range saved.Config {
			cfgFiles = append(cfgFiles, config.NamedFile{Name: c.Name, Data: []byte(c.Data)})
		}
	}
	window, maxReportAge := o.window, o.maxReportAge
	if saved != nil && window == "" {
		window = saved.Window
	}
	if saved != nil && maxReportAge == "" {
		maxReportAge = saved.MaxReportAge
	}
	settings, err := config.Resolve(catalog, cfgFiles...)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if window != "" {
		if settings.Window, err = config.ParseWindow(window); err != nil {
			return usageErr("--window: %w", err)
		}
	}
	if maxReportAge != "" {
		if settings.MaxReportAge, err = config.ParseWindow(maxReportAge); err != nil {
			return usageErr("--max-report-age: %w", err)
		}
	}

	usesS3 := false
	for _, p := range o.cloudtrail {
		usesS3 = usesS3 || cloudtrail.IsS3(p)
	}
	if (o.profile != "" || o.region != "") && modes > 0 && !usesS3 && !o.org && !o.securityHub {
		return usageErr("--profile and --region are for live scans and s3:// CloudTrail paths")
	}
	var accounts []*evidence.Account
	switch {
	case o.demo:
		accounts, err = collectDemo(ctx, settings, asOf)
	case len(o.credentialReports) > 0:
		if accounts, err = loadCredentialReports(app, o, now); err != nil {
			err = &ExitError{Code: ExitUsage, Err: err}
		}
	case o.org:
		accounts, err = collectOrg(ctx, app, o, settings)
	case saved != nil:
		if accounts, err = saved.Evidence(o.evidenceFile); err != nil {
			err = &ExitError{Code: ExitUsage, Err: err}
		}
	default:
		accounts, err = collectLive(ctx, app, o, settings)
	}
	if err != nil {
		return err
	}
	if len(o.cloudtrail) > 0 {
		// Read only the days the widest rule window needs.
		f := cloudtrail.Filter{Since: asOf.Add(-lookback(settings))}
		res, err := readCloudTrail(ctx, app, o.cloudtrail, f, o.profile, o.region, 0)
		if err != nil {
			return err
		}
		attachCloudTrail(accounts, res, fmt.Sprintf("%d CloudTrail sources (%s)", len(res.Sources), strings.Join(o.cloudtrail, ", ")), time.Time{}, time.Time{}, now)
	}
	markNoCloudTrail(accounts)
	if o.saveEvidence != "" {
		b := bundle.New(accounts, "rootwatch", app.Version, now, asOf)
		for _, c := range cfgFiles {
			b.Config = append(b.Config, bundle.ConfigFile{Name: c.Name, Data: string(c.Data)})
		}
		b.Window, b.MaxReportAge = window, maxReportAge
		if err := b.Save(o.saveEvidence); err != nil {
			return err
		}
		fmt.Fprintf(app.Stderr, "evidence bundle saved to %s, accounts %d (it holds whole credential reports: keep it private)\n", o.saveEvidence, len(accounts))
	}

	findings := engine.Evaluate(accounts, settings.Enabled(catalog), settings, asOf)
	run := engine.BuildRun(finding.Tool{Name: "rootwatch", Version: app.Version}, accounts, findings, config.Describe(settings), asOf, now)
	for _, out := range outs {
		if err := writeRun(app, out.writer, &run, out.path); err != nil {
			return err
		}
	}
	if o.securityHub {
		if err := importSecurityHub(ctx, app, o, &run); err != nil {
			return err
		}
	}
	return verdictExit(&run, failOn)
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

// extensions lists the file name endings --output-dir uses, by format.
func extensions() []string {
	var out []string
	for _, f := range report.Formats() {
		out = append(out, report.Extension(f))
	}
	return out
}

// output is one writer and where it writes ("" is standard output).
type output struct {
	writer report.Writer
	path   string
}

// planOutputs pairs formats with destinations: one format to standard
// output, formats paired in order with --output files, or every format
// into --output-dir with its default name.
func planOutputs(app *App, o *scanOptions) ([]output, error) {
	meta, err := report.CatalogMeta()
	if err != nil {
		return nil, err
	}
	var paths []string
	switch {
	case o.outputDir != "" && len(o.outputs) > 0:
		return nil, fmt.Errorf("--output and --output-dir cannot be combined")
	case o.outputDir != "":
		if st, err := os.Stat(o.outputDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--output-dir %s is not a directory", o.outputDir)
		}
		for _, f := range o.formats {
			paths = append(paths, filepath.Join(o.outputDir, "rootwatch."+report.Extension(f)))
		}
	case len(o.outputs) == len(o.formats):
		paths = o.outputs
	case len(o.outputs) == 0 && len(o.formats) == 1:
		paths = []string{""}
	case len(o.outputs) == 0:
		return nil, fmt.Errorf("%d formats but no --output: give one --output per --format, or --output-dir", len(o.formats))
	default:
		return nil, fmt.Errorf("%d --format and %d --output: give one --output per --format, in the same order", len(o.formats), len(o.outputs))
	}
	seen := map[string]bool{}
	var outs []output
	for i, f := range o.formats {
		if paths[i] != "" && seen[paths[i]] {
			return nil, fmt.Errorf("two outputs write to %s", paths[i])
		}
		seen[paths[i]] = true
		w, err := report.New(f, report.Options{Color: useColor(app, o, paths[i]), Meta: meta})
		if err != nil {
			return nil, err
		}
		outs = append(outs, output{writer: w, path: paths[i]})
	}
	return outs, nil
}

func useColor(app *App, o *scanOptions, path string) bool {
	switch o.color {
	case "always":
		return true
	case "never":
		return false
	}
	return path == "" && app.Getenv("NO_COLOR") == "" && app.IsTerminal(app.Stdout)
}

func writeRun(app *App, w report.Writer, run *finding.Run, path string) error {
	if path == "" {
		return w.Write(app.Stdout, run)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("open output: %w", err)}
	}
	if err := w.Write(f, run); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
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

// loadCredentialReports turns saved reports into account evidence. Sources
// a file cannot provide are recorded as missing, so the account is shown as
// partial and the rules that need them say so.
func loadCredentialReports(app *App, o *scanOptions, now time.Time) ([]*evidence.Account, error) {
	if o.account != "" && len(o.credentialReports) > 1 {
		return nil, errors.New("--account names one account; it cannot go with several --credential-report files")
	}
	var reportTime time.Time
	if o.reportTime != "" {
		t, err := time.Parse(time.RFC3339, o.reportTime)
		if err != nil {
			return nil, fmt.Errorf("--report-time %q is not an RFC 3339 time", o.reportTime)
		}
		reportTime = t.UTC()
	}
	seen := map[string]string{}
	var out []*evidence.Account
	for _, path := range o.credentialReports {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read credential report: %w", err)
		}
		rep, err := credreport.ParseFile(data, path)
		if err != nil {
			return nil, err
		}
		if !reportTime.IsZero() {
			if !rep.GeneratedTime.IsZero() && !rep.GeneratedTime.Equal(reportTime) {
				return nil, fmt.Errorf("%s says it was generated at %s, but --report-time says %s", path, rep.GeneratedTime.Format(time.RFC3339), o.reportTime)
			}
			rep.GeneratedTime = reportTime
		}
		partition, account, err := credreport.AccountOf(rep)
		switch {
		case err != nil && o.account == "":
			return nil, err
		case err != nil:
			partition, account = "aws", o.account
		case o.account != "" && o.account != account:
			return nil, fmt.Errorf("%s belongs to account %s, not %s (--account)", path, account, o.account)
		}
		if prev, dup := seen[account]; dup {
			return nil, fmt.Errorf("%s and %s are both reports of account %s; give one per account", prev, path, account)
		}
		seen[account] = path
		for _, warn := range rep.Warnings {
			fmt.Fprintf(app.Stderr, "warning: %s: %s\n", path, report.Sanitize(warn))
		}
		for _, is := range rep.Issues {
			fmt.Fprintf(app.Stderr, "warning: %s: %s\n", path, report.Sanitize(is.String()))
		}
		a := &evidence.Account{ID: account, Partition: partition, CollectedAt: now, CredentialReport: rep}
		a.SetSource(evidence.SourceCredentialReport, evidence.SourceStatus{State: evidence.StateOK, CollectedAt: now, Detail: reportDetail(rep)})
		offline := evidence.SourceStatus{State: evidence.StateMissing, Detail: "not available from a credential report file"}
		a.SetSource(evidence.SourceAccountSummary, offline)
		a.SetSource(evidence.SourceVirtualMFA, offline)
		a.SetSource(evidence.SourceOrganization, offline)
		out = append(out, a)
	}
	return out, nil
}

func reportDetail(rep *evidence.CredentialReport) string {
	d := fmt.Sprintf("read from %s (%s, %s)", rep.Source, evidence.Count(len(rep.Rows), "row"), evidence.Count(len(rep.Columns), "column"))
	if n := len(rep.Warnings) + len(rep.Issues); n > 0 {
		d += fmt.Sprintf("; %d warnings, see stderr", n)
	}
	return d
}

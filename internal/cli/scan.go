package cli

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail/query"
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
	regions           []string
	cloudtrail        []string
	athenaOutput      string
	queryTimeout      time.Duration
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
	store             string
	storeTimeout      time.Duration
	notify            notify.Notifying
	notifyPlan        *notify.Plan // notify read once, by prepareNotify
	notifyTimeout     time.Duration
	flagSet           func(name string) bool
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
                              user's password, keys, MFA devices and certificates;
                              and the SCPs on each member's path (ListRoots,
                              ListParents, ListPoliciesForTarget, DescribePolicy,
                              each OU and policy once per scan)
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
It then asks whether root activity would reach a person: ListRegions, the trails
(DescribeTrails with shadow trails, GetTrailStatus, GetEventSelectors), the metric
filters of each trail's log group, the alarms on them and their SNS topics'
subscriptions, and in every enabled region (or --regions) the EventBridge rules of
the default bus with their targets and the GuardDuty detectors.
A call that is denied makes only the rules that need it "unknown".
Credentials come from the SDK's default chain (environment, --profile/AWS_PROFILE,
SSO, instance roles); AWS_ENDPOINT_URL redirects every call (e.g. to an emulator).

--cloudtrail adds root activity from CloudTrail log files (any shape, gzip or
not, directories walked), an S3 trail bucket, or a query run by AWS over years of
CloudTrail: athena://WORKGROUP/DATABASE.TABLE (the CloudTrail table Athena
documents; results go to the workgroup's location or --athena-output) or
lake://EVENT_DATA_STORE_ID (CloudTrail Lake). The sign-in rules judge it, and
iam-root-active-password also fails on a successful root console sign-in within
the window. Without CloudTrail evidence, or when a query fails or outlasts
--query-timeout, those rules are "unknown", never "pass".

A bare CSV does not say when it was generated: pass --report-time so rootwatch can
check that the report is fresh enough (--max-report-age) to support a pass, or use
--as-of to judge it as of the moment it was taken. With neither, it can fail a rule
but supports no pass (those findings are "unknown").

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
             for Security Lake and other OCSF pipelines

Every output path, and --save-evidence's, is checked before anything is
collected: its directory must exist and take a new file, and it must not be an
input, another output, the bundle, or inside a --cloudtrail directory (however
the paths are spelled); a bad one is exit 2. A file is written to a temporary
file beside it and renamed into place, owner-only, only once every output of
the run was written whole: a run that fails changes no file. A device
(/dev/null), a named pipe, -, /dev/stdout and /dev/fd/N are written in place,
never replaced; a symbolic link is written through to its target (a link in a
shared sticky directory such as /tmp owned by someone else is refused).

A rule disabled in the --config file is judged for no account: every format with
a summary lists it as disabled (CSV as a row with status "disabled").

--securityhub imports the findings of the account your credentials are in (Security
Hub takes an account's findings only from that account; an organization's other
accounts are listed on stderr). With --store, what the previous stored run imported
as failing and that no longer applies (not_applicable now, or gone) is closed:
imported again with Compliance PASSED and RecordState ARCHIVED. Without --store
there is no previous run to compare with, and stderr says so.`,
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
	o.flagSet = func(name string) bool { return f.Changed(name) }
	f.BoolVar(&o.demo, "demo", false, "scan the embedded demo organization instead of AWS")
	f.StringVar(&o.evidenceFile, "evidence", "", "evaluate an evidence bundle `FILE` saved by --save-evidence, offline")
	f.StringVar(&o.saveEvidence, "save-evidence", "", "also save what was collected as an evidence bundle `FILE` (.gz to compress; written with the outputs, all or nothing)")
	f.StringArrayVar(&o.credentialReports, "credential-report", nil, "evaluate a saved credential report `FILE` (CSV or AWS CLI JSON); repeatable")
	f.StringVar(&o.account, "account", "", "expected 12-digit account `ID` of the --credential-report (checked against its ARNs)")
	f.StringVar(&o.reportTime, "report-time", "", "when the --credential-report was generated (RFC 3339), for the freshness check")
	f.StringVar(&o.asOf, "as-of", "", "judge as of this `TIME` (RFC 3339) instead of now")
	f.StringVar(&o.window, "window", "", "default window for recent use, e.g. 15d, 36h (default from config: 15d)")
	f.StringVar(&o.maxReportAge, "max-report-age", "", "oldest credential report that can support a pass, e.g. 4h (default 4h)")
	f.StringVar(&o.configFile, "config", "", "YAML `FILE` with per-rule windows, severities, disabled rules and suppressions")
	f.StringArrayVarP(&o.formats, "format", "f", []string{"table"}, "output `FORMAT`: "+strings.Join(report.Formats(), ", ")+"; repeatable")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "write to `FILE` instead of standard output (- is standard output; a device, pipe or link is written through, not replaced); repeat to pair with each --format in order")
	f.StringVar(&o.outputDir, "output-dir", "", "write every --format into `DIR` as rootwatch.<ext> ("+strings.Join(extensions(), ", ")+"); made when the run succeeds")
	f.StringVar(&o.failOn, "fail-on", "info", "exit 1 when a failing finding has this severity or worse: critical, high, medium, low, info, or none")
	f.StringVar(&o.profile, "profile", "", "AWS shared config `PROFILE` for a live scan (default: AWS_PROFILE or the default chain)")
	f.StringVar(&o.region, "region", "", "AWS region for STS and Organizations calls (default from config, else us-east-1)")
	f.DurationVar(&o.reportTimeout, "report-timeout", 2*time.Minute, "how long to wait for IAM to generate a credential report")
	f.StringSliceVar(&o.regions, "regions", nil, "read EventBridge rules and GuardDuty only in these `REGIONS` (comma-separated; default every enabled region); rules needing the others are unknown")
	f.StringArrayVar(&o.cloudtrail, "cloudtrail", nil, "CloudTrail evidence: a `PATH` (file or directory of logs, any shape, gzip or not), s3://bucket/prefix, athena://WORKGROUP/DATABASE.TABLE or lake://EVENT_DATA_STORE_ID; repeatable")
	f.StringVar(&o.athenaOutput, "athena-output", "", "s3:// `LOCATION` for athena:// query results (default: the workgroup's)")
	f.DurationVar(&o.queryTimeout, "query-timeout", query.DefaultTimeout, "how long an athena:// or lake:// query may run before it is stopped")
	f.BoolVar(&o.org, "org", false, "scan every account of the organization (run from the management account or a delegated administrator)")
	f.StringVar(&o.roleName, "role-name", org.DefaultRoleName, "with --org: the role to assume in each member account")
	f.StringVar(&o.roleARNTemplate, "role-arn-template", "", "with --org: the role ARN to assume, with {account} (and {partition}), e.g. arn:aws:iam::{account}:role/RootwatchAudit")
	f.StringVar(&o.externalID, "external-id", "", "with --org: the sts:ExternalId the member roles require")
	f.StringVar(&o.sessionName, "session-name", "rootwatch", "with --org: the role session name (shows in the members' CloudTrail)")
	f.StringSliceVar(&o.accounts, "accounts", nil, "with --org: scan only these account IDs (comma-separated or repeated)")
	f.StringSliceVar(&o.excludeAccounts, "exclude-accounts", nil, "with --org: skip these account IDs (listed as skipped)")
	f.IntVar(&o.concurrency, "concurrency", org.DefaultConcurrency, "with --org: the most accounts scanned at once (most of an account's time is spent waiting on its credential report; throttling of the management account's STS or Organizations calls lowers, for a while, how many role sessions open at once, not this)")
	f.DurationVar(&o.accountTimeout, "account-timeout", 5*time.Minute, "with --org: give up on an account after this long (it is reported as failed)")
	f.BoolVar(&o.securityHub, "securityhub", false, "also import the findings (ASFF) of your account into AWS Security Hub in --region, 100 per call; with --store, close those resolved since the previous run")
	f.StringVar(&o.store, "store", "", "keep the run in a history `STORE` (a SQLite path, sqlite:PATH, postgres://… or env:VAR) and mark what changed since the previous run of the same accounts and rules; checked before scanning; a run it cannot keep is still written, and the scan exits 5 with the command that stores it later")
	f.StringArrayVar(&o.notify.Targets, "notify", nil, "tell people: `KIND=TARGET`, KIND slack (incoming-webhook URL), webhook (URL), email (smtp://[user:pass@]host:port?from=…&to=…), sns (topic ARN), teams (Teams Workflows or incoming-webhook URL) or pagerduty (an Events API v2 routing key, only as env:VAR or file:PATH); TARGET may be env:VAR or file:PATH; repeatable")
	f.StringVar(&o.notify.On, "notify-on", "new", "when to notify: new (new failures since the previous run; needs --store), change (any change; needs --store), always")
	f.StringVar(&o.notify.MinSeverity, "notify-min-severity", "", "leave out findings below this severity from notifications")
	f.StringVar(&o.notify.RouteTag, "notify-route-tag", "owner", "with --org and KIND@VALUE=TARGET notifications: the account `TAG` whose value routes an account's findings to that target (others go to targets without @VALUE)")
	f.StringVar(&o.notify.Secret, "notify-secret", "", "sign webhook bodies with HMAC-SHA256 under this `KEY` (env:VAR or file:PATH)")
	addHistoryFlags(cmd, &o.storeTimeout, &o.notifyTimeout)
	f.StringVar(&o.color, "color", "auto", "colour the table: auto (only on a terminal, honours NO_COLOR), always, never")
	return cmd
}

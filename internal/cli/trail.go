package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/outfile"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/scan"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail/query"
	"github.com/rootwatch/rootwatch/internal/window"
)

type trailOptions struct {
	since, until, asOf string
	accounts           []string
	format, output     string
	workers            int
	lookup             bool
	profile, region    string
	athenaOutput       string
	queryTimeout       time.Duration
}

func newTrailCommand(app *App) *cobra.Command {
	o := &trailOptions{}
	cmd := &cobra.Command{
		Use:   "trail [PATH | s3://BUCKET/PREFIX | athena://WORKGROUP/DATABASE.TABLE | lake://EVENT_DATA_STORE_ID]... [--lookup]",
		Short: "Show root activity from CloudTrail: who signed in as root, when, from where, with or without MFA",
		Long: `trail reads CloudTrail data and prints every root event, newest first:
console sign-ins (with result and MFA), other sign-in events, root API calls,
calls made by AWS services on root's behalf, and centralized-root-access sessions
(sts:AssumeRoot) with the principal who opened them, the member and the task
policy. The steps of a root takeover are categories of their own: login_profile
(root's own CreateLoginProfile: a root password created), password_recovery
(PasswordRecoveryRequested, PasswordRecoveryCompleted, PasswordUpdated) and
email_change (StartPrimaryEmailUpdate and AcceptPrimaryEmailUpdate, made in the
management account about a member, and root's own EmailUpdated).

PATH is a file or a directory (walked recursively; CloudTrail-Digest folders are
skipped), or s3://bucket/prefix: an account trail's bucket
(AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/) or an organization trail's
(AWSLogs/<o-id>/<account>/…). With --since, only the days asked for are listed
and fetched; --account lists only those accounts' folders. Objects are fetched in
parallel.

A root event is listed under the account whose root acted (userIdentity.accountId,
or its root ARN's account), with where it was logged when that is another account
("on a resource of B (logged in B's trail)"). --account keeps an account's root
activity, what other roots did that its trail logged, and the AssumeRoot calls
and e-mail changes made elsewhere about its root. The copies of one
cross-account call (one sharedEventID, in both accounts' trails) are shown once.
Athena and Lake queries ask for the accounts' roots wherever they were logged; an
s3:// organization trail with --account reads only those accounts' folders, so a
root's calls logged in another account's folder need that account (or no --account).

For years of CloudTrail, let AWS read it: athena://WORKGROUP/DATABASE.TABLE queries
the CloudTrail table Athena documents (partition projection on the delivery day,
and on the account when the table has such a partition), lake://EVENT_DATA_STORE_ID
queries a CloudTrail Lake event data store (its ID or ARN). rootwatch asks for root
events in the window, every sts:AssumeRoot call (to tell centralized-root sessions
apart) and primary e-mail change (no root makes them) and, per account, how many events the table holds and from when to when,
so that an empty answer is told from a table that shows nothing of the account.
Each row is rebuilt into its record and judged as a log file's. The query's ID, SQL
and bytes scanned are listed with the source; a failed query, a table that lacks
the needed columns, or one that outlasts --query-timeout (it is then stopped) is an
error, never an empty timeline.

--lookup asks LookupEvents (us-east-1, where root sign-ins are recorded; 90 days
at most, two calls a second) about the account your credentials land in.

Each file is recognised by its content: a single event, an S3 log file
{"Records": [...]}, a JSON array, JSON Lines, EventBridge events or saved
LookupEvents output, each gzip-compressed or not.

Every source is listed with the events it held and how many were root's; a file
that is not JSON or not CloudTrail is listed with its error and the others are
still read; a symbolic link loop is listed as such; a record over 4 MiB
(CloudTrail writes at most 256 KB) is listed with its offset, not read, and the
records after it are. Exit code 3 when any source could not be fully read.`,
		Example: `  rootwatch trail ./AWSLogs
  rootwatch trail logs/*.json.gz --since 30d --account 111122223333
  rootwatch trail s3://org-trail-bucket/AWSLogs/o-exampleorg1/ --since 7d
  rootwatch trail --lookup --profile audit --since 30d
  rootwatch trail athena://primary/security.cloudtrail_logs_pp --since 400d
  rootwatch trail lake://EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE --since 730d --account 111122223333
  rootwatch trail events.json --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrail(cmd.Context(), app, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.since, "since", "", "only events after this: a duration back from now (90d, 36h) or an RFC 3339 time")
	f.StringVar(&o.until, "until", "", "only events before this RFC 3339 time (or duration back from now)")
	f.StringVar(&o.asOf, "as-of", "", "take 'now' to be this RFC 3339 time for --since and --until")
	f.StringArrayVar(&o.accounts, "account", nil, "only this 12-digit account `ID`; repeatable")
	f.StringVarP(&o.format, "format", "f", "table", "table or json")
	f.StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of standard output (checked before anything is read; not inside a PATH directory; a device, pipe or link is written through, a file replaced whole)")
	f.IntVar(&o.workers, "workers", 0, "files decoded at once (default: one per core; 16 for S3)")
	f.BoolVar(&o.lookup, "lookup", false, "ask LookupEvents about the account your AWS credentials land in")
	f.StringVar(&o.profile, "profile", "", "AWS shared config `PROFILE` for s3:// paths and --lookup")
	f.StringVar(&o.region, "region", "", "AWS region of the bucket for s3:// paths, and of Athena and Lake queries")
	f.StringVar(&o.athenaOutput, "athena-output", "", "s3:// `LOCATION` for athena:// query results (default: the workgroup's)")
	f.DurationVar(&o.queryTimeout, "query-timeout", query.DefaultTimeout, "how long an athena:// or lake:// query may run before it is stopped")
	return cmd
}

// parseWhen reads a time as RFC 3339 or as a duration back from now.
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	w, err := window.Parse(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want an RFC 3339 time or a duration such as 90d", flag, s)
	}
	return now.Add(-w.Duration()), nil
}

// query turns the flags into what to read.
func (o *trailOptions) query(app *App, args []string, now time.Time) (scan.TrailOptions, error) {
	q := scan.TrailOptions{Paths: args, Lookup: o.lookup, Accounts: o.accounts, Workers: o.workers,
		Now: now, AWS: app.AWSConfig, Profile: o.profile, Region: o.region, AthenaOutput: o.athenaOutput, QueryTimeout: o.queryTimeout,
		Notice: func(s string) { fmt.Fprintln(app.Stderr, "rootwatch trail: "+report.Clean(s)) }}
	var err error
	if q.Since, err = parseWhen("since", o.since, now); err != nil {
		return q, err
	}
	if q.Until, err = parseWhen("until", o.until, now); err != nil {
		return q, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return q, fmt.Errorf("--until %s is before --since %s", q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	for _, a := range o.accounts {
		if !evidence.ValidAccountID(a) {
			return q, fmt.Errorf("--account %q is not a 12-digit account ID", a)
		}
	}
	return q, q.Validate()
}

func resolveNow(app *App, asOf string) (time.Time, error) {
	if asOf == "" {
		return app.Now().UTC().Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, asOf)
	if err != nil {
		return time.Time{}, fmt.Errorf("--as-of %q is not an RFC 3339 time", asOf)
	}
	return t.UTC(), nil
}

func runTrail(ctx context.Context, app *App, o *trailOptions, args []string) error {
	now, err := resolveNow(app, o.asOf)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	q, err := o.query(app, args, now)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if f := strings.ToLower(o.format); f != "table" && f != "json" {
		return usageErr("--format must be table or json")
	}
	if len(args) == 0 && !o.lookup {
		return usageErr("nothing to read: give a PATH, an s3://, athena:// or lake:// URI, or --lookup (see 'rootwatch trail --help')")
	}
	files := newPathSet()
	for _, p := range args {
		if err := files.input("PATH", p); err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
	}
	out, err := files.output("--output", o.output, outfile.Options{})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	res, err := scan.Trail(ctx, q)
	if err != nil {
		return withCredentialsHelp(err)
	}
	tl := report.NewTimeline(res.Sources, res.Events, res.Duplicates)
	tl.SharedCopies = res.SharedCopies

	if err := writeOne(ctx, app, out, 0o600, func(w io.Writer) error { return report.WriteTimeline(w, tl, o.format) }); err != nil {
		return err
	}
	if why := tl.NothingRead(); why != "" {
		fmt.Fprintf(app.Stderr, "rootwatch trail: %s\n", why)
		return &ExitError{Code: ExitUnknown}
	}
	for _, s := range tl.Sources {
		if s.Error != "" || s.Undecodable > 0 {
			return &ExitError{Code: ExitUnknown}
		}
	}
	return nil
}

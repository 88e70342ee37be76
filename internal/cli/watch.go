package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwatch/rootwatch/internal/deploy"
	"github.com/rootwatch/rootwatch/internal/watch"
)

func newWatchCommand(app *App) *cobra.Command {
	var o watch.ServeOptions
	var logFormat string
	cmd := &cobra.Command{
		Use:   "watch --queue-url URL --notify KIND=TARGET",
		Short: "Alert on root activity as it happens, from CloudTrail events EventBridge routes to SQS",
		Long: `watch long-polls an SQS queue that EventBridge feeds with CloudTrail events
(deploy it with 'rootwatch watch template'), classifies each event as 'rootwatch
trail' does (AssumeRoot sessions included) and alerts on root activity by a person:
console sign-ins, other sign-in events and API calls. Service events and everyone
else's events are counted, not alerted; but each step of a root takeover is
alerted at once: a privileged AssumeRoot call (every task but the read-only
IAMAuditRootUserCredentials, which rootwatch's own organization scans open), a
root password created, recovered or changed, and a root e-mail change. When a
member's root password created, its recovery by e-mail and a root sign-in arrive
within an hour (with the AssumeRoot call that opened the session, when it came),
one more alert names the chain: who opened the session, which member, what
followed.

Failed root sign-ins are gathered per account and source address into bursts, as
alert grouping does elsewhere: the first failure of a burst is alerted
--burst-first (30s) after the watch received it, with any that came meanwhile;
the failures that follow are gathered and alerted together at the end of each
--burst-window (5m). A window without failures ends the burst: the next failure
is a first again. A burst alert that fails is sent again when its messages come
back: with the burst's next alert, or as a new burst's first.

Delivery is at least once. A message is deleted only after every alert it needed
was delivered to every target. A failed delivery (3 attempts) leaves the message
to be received again after the queue's visibility timeout, and then only the
targets that missed the alert get it. An event already alerted on is not alerted
again: in memory, and across restarts with --store (EventBridge and SQS deliver
at least once too). An alert can still come twice, when a target took it but its
answer was lost, or when the watch stopped between delivery and deletion without
--store. The store's delivery log has its own retention: 'rootwatch prune
--keep-deliveries 30d' forgets older deliveries (keep them longer than the queue
keeps a message); pruning runs leaves it alone.

stdout has one JSON line per root event alerted on (the event schema of
'rootwatch trail -f json', with "alert"), printed once: when its alert was
delivered to every target ("alert":"delivered"). Nothing is printed while
deliveries fail. Without --notify, each event is printed once, at once, marked
"alert":"no_target": nobody was told. Logs go to stderr (--log-format json for
machines).

The queue's redrive policy (dead-letter queue, maxReceiveCount) is read at start
and logged; a queue without one is a warning, and so is a denied
sqs:GetQueueAttributes (the watch then sets a 30s visibility timeout on each
receive, and cannot warn of the dead-letter queue). A message
rootwatch cannot read, or whose alert keeps failing, goes to the dead-letter queue
after maxReceiveCount receives, its alert undelivered. When such a message is
left to be received again with one receive left, and when it is left for the last
time, a warning names it (message id and receive count, never its content) and a
metric counts it (rootwatch_watch_messages_near_dead_letter_total,
rootwatch_watch_messages_dead_lettered_total). Read the dead-letter queue, fix the
cause, and move its messages back (aws sqs start-message-move-task) to alert them.

Visibility is extended while an alert is being delivered or a burst gathers.
SIGINT or SIGTERM stop receiving, send the gathering bursts, finish the work in
flight within --shutdown-timeout, and exit 0. --idle-exit does the same once the
queue has been empty that long (a gathering burst does not keep it busy).

Messages may be EventBridge events (the CloudTrail record under "detail"), raw
CloudTrail records or {"Records": [...]}, SNS notifications wrapping either, or
notifications of log files delivered to S3 (CloudTrail's SNS notification, or an
S3 event notification), whose files are read with s3:GetObject.

IAM permissions: sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility,
sqs:GetQueueAttributes on the queue (kms:Decrypt on its key when encrypted), and
s3:GetObject for S3 notifications; sns:Publish for sns targets.`,
		Example: `  rootwatch watch --queue-url https://sqs.eu-west-1.amazonaws.com/111122223333/rootwatch-root-activity \
      --notify slack=env:SLACK_WEBHOOK_URL --store /var/lib/rootwatch/history.db --metrics-addr 127.0.0.1:9464
  rootwatch watch --queue-url "$QUEUE_URL" --notify webhook=https://siem.example.com/hook --notify-secret env:HOOK_KEY --log-format json
  rootwatch watch --queue-url "$QUEUE_URL" --notify webhook=http://127.0.0.1:8080/ --idle-exit 1m   # drain, then exit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.QueueURL == "" {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--queue-url is required (the SQS queue EventBridge delivers root activity to; see 'rootwatch watch template')")}
			}
			if o.BurstWindow <= 0 || o.BurstWindow > time.Hour {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--burst-window %s: want more than 0 and at most 1h", o.BurstWindow)}
			}
			if !cmd.Flags().Changed("burst-first") {
				o.BurstFirst = min(o.BurstFirst, o.BurstWindow)
			}
			if o.BurstFirst <= 0 || o.BurstFirst > o.BurstWindow {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--burst-first %s: want more than 0 and at most --burst-window (%s)", o.BurstFirst, o.BurstWindow)}
			}
			if o.Receivers < 1 || o.Receivers > 64 {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--receivers %d: want 1 to 64", o.Receivers)}
			}
			if o.IdleExit < 0 || o.ShutdownTimeout <= 0 {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--idle-exit must not be negative and --shutdown-timeout must be positive")}
			}
			log, err := stderrLogger(app, logFormat)
			if err != nil {
				return err
			}
			o.Log, o.Out, o.Getenv, o.AWS = log, app.Stdout, app.Getenv, app.AWSConfig
			if len(o.Targets) == 0 {
				o.Log.Warn("no --notify target: root activity is printed and counted, and nobody is told")
			}
			if _, err := watch.Serve(cmd.Context(), o); err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.QueueURL, "queue-url", "", "the SQS queue `URL` EventBridge delivers CloudTrail events to")
	f.StringArrayVar(&o.Targets, "notify", nil, "alert `KIND=TARGET`: slack (incoming-webhook URL), webhook (URL), email (smtp://…), sns (topic ARN), teams (Teams Workflows or incoming-webhook URL) or pagerduty (an Events API v2 routing key, only as env:VAR or file:PATH); TARGET may be env:VAR or file:PATH; repeatable")
	f.StringVar(&o.Secret, "notify-secret", "", "sign webhook bodies with HMAC-SHA256 under this `KEY` (env:VAR or file:PATH)")
	f.StringVar(&o.Store, "store", "", "remember delivered alerts in this history `STORE` (SQLite path, postgres://… or env:VAR) so a restart does not repeat them")
	f.DurationVar(&o.BurstFirst, "burst-first", 30*time.Second, "alert the first failed root sign-in of a burst (per account and source address) this long after it arrived, with any that came meanwhile (at most --burst-window)")
	f.DurationVar(&o.BurstWindow, "burst-window", 5*time.Minute, "after a burst's first alert, gather its failed root sign-ins over this long into one alert; a window without any ends the burst")
	f.IntVar(&o.Receivers, "receivers", 4, "long polls at once (each takes up to 10 messages)")
	f.DurationVar(&o.IdleExit, "idle-exit", 0, "exit 0 once the queue has been empty this long, after sending the gathering bursts (0: run until signalled)")
	f.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM or --idle-exit, how long to finish the alerts, bursts and deletions in flight")
	f.StringVar(&o.MetricsAddr, "metrics-addr", "", "serve Prometheus /metrics and /healthz on this `ADDR` (e.g. 127.0.0.1:9464)")
	f.StringVar(&logFormat, "log-format", "text", "log format on stderr: text or json")
	f.StringVar(&o.Profile, "profile", "", "AWS shared config `PROFILE` (default: AWS_PROFILE or the default chain)")
	f.StringVar(&o.Region, "region", "", "AWS region (default: the queue URL's)")
	cmd.AddCommand(newWatchTemplateCommand(app))
	return cmd
}

func newWatchTemplateCommand(app *App) *cobra.Command {
	var part, format string
	cmd := &cobra.Command{
		Use:   "template",
		Short: "Print the CloudFormation templates that feed rootwatch watch",
		Long: `template prints a CloudFormation template, JSON or YAML:

  --part receiver  (once, where rootwatch watch runs) a central event bus the
                   organization may put events on (aws:PrincipalOrgID), a rule on
                   it matching root activity, an SQS queue encrypted with a KMS
                   key and its dead-letter queue (maxReceiveCount), and the queue
                   policy that lets only that rule deliver. Outputs: QueueUrl,
                   EventBusArn.
  --part member    (a service-managed StackSet to every account and enabled region)
                   a rule on the default bus, state
                   ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS (so root's read-only
                   calls are seen too), forwarding root sign-ins and root API calls
                   to the central bus with a role allowed events:PutEvents on it.

Sign-in events arrive in us-east-1 only; API calls in the region they are made:
deploy the member stack in every enabled region. Together they pass
account-root-activity-unalerted.`,
		Example: `  rootwatch watch template --part receiver > receiver.json
  aws cloudformation deploy --template-file receiver.json --stack-name rootwatch-receiver --parameter-overrides OrganizationId=o-abc123defg
  rootwatch watch template --part member --format yaml > member.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := deploy.Template(part)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--part: %w", err)}
			}
			b, err := deploy.Render(t, format)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--format: %w", err)}
			}
			_, err = app.Stdout.Write(b)
			return err
		},
	}
	cmd.Flags().StringVar(&part, "part", deploy.Receiver, "which template: receiver or member")
	cmd.Flags().StringVar(&format, "format", "json", "json or yaml")
	return cmd
}

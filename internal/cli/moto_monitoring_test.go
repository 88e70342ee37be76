package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"

	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

const cisFilter = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`

// motoWorld builds, in moto, the two paths from root activity to a person:
// a multi-region trail delivering to a log group with the CIS metric
// filter, an alarm on its metric notifying a subscribed SNS topic; and an
// EventBridge root rule targeting an SQS queue in every region. skip names
// the links left out or broken.
type motoWorld struct {
	cfg  aws.Config
	skip map[string]bool
}

func (w motoWorld) build(t *testing.T, ctx context.Context) {
	t.Helper()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const bucket, group, region = "org-trail-bucket", "org-trail-logs", "us-east-1"
	must(s3.NewFromConfig(w.cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}))
	logs := cloudwatchlogs.NewFromConfig(w.cfg)
	must(logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}))
	groupARN := "arn:aws:logs:" + region + ":123456789012:log-group:" + group + ":*"

	if !w.skip["trail"] {
		in := &cloudtrail.CreateTrailInput{Name: aws.String("org-trail"), S3BucketName: aws.String(bucket), IsMultiRegionTrail: aws.Bool(!w.skip["multi-region"])}
		if !w.skip["log_group"] {
			in.CloudWatchLogsLogGroupArn = aws.String(groupARN)
			in.CloudWatchLogsRoleArn = aws.String("arn:aws:iam::123456789012:role/CloudTrailToCloudWatch")
		}
		ct := cloudtrail.NewFromConfig(w.cfg)
		must(ct.CreateTrail(ctx, in))
		if !w.skip["logging"] {
			must(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("org-trail")}))
		}
		// moto gives a new trail no selectors (AWS gives a default one).
		rw := cttypes.ReadWriteTypeAll
		if w.skip["selectors"] {
			rw = cttypes.ReadWriteTypeWriteOnly
		}
		must(ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("org-trail"),
			EventSelectors: []cttypes.EventSelector{{ReadWriteType: rw, IncludeManagementEvents: aws.Bool(true)}}}))
	}
	if !w.skip["metric_filter"] {
		must(logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String(group), FilterName: aws.String("root-usage"),
			FilterPattern: aws.String(cisFilter), MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String("RootAccountUsageCount"),
				MetricNamespace: aws.String("CISBenchmark"), MetricValue: aws.String("1")}}}))
	}
	snsc := sns.NewFromConfig(w.cfg)
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("security-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	if !w.skip["subscriber"] {
		// moto confirms every subscription at once.
		must(snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("oncall@example.com")}))
	}
	if !w.skip["alarm"] {
		actions := []string{aws.ToString(topic.TopicArn)}
		if w.skip["topic_action"] {
			actions = []string{}
		}
		cw := cloudwatch.NewFromConfig(w.cfg, func(o *cloudwatch.Options) { o.Protocol = awsjson.New10(cwschemas.GraniteServiceVersion20100801) })
		must(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("root-usage"), MetricName: aws.String("RootAccountUsageCount"),
			Namespace: aws.String("CISBenchmark"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1),
			Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
			ActionsEnabled: aws.Bool(!w.skip["alarm_actions"]), AlarmActions: actions}))
	}

	if w.skip["eventbridge"] {
		return
	}
	regions, err := ec2.NewFromConfig(w.cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(w.cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("root-activity")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	queueARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	for _, r := range regions.Regions {
		name := aws.ToString(r.RegionName)
		if w.skip["eventbridge:"+name] {
			continue
		}
		in := func(o *eventbridge.Options) { o.Region = name }
		eb := eventbridge.NewFromConfig(w.cfg)
		must(eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("root-activity"), State: ebtypes.RuleStateEnabledWithAllCloudtrailManagementEvents,
			EventPattern: aws.String(`{"detail-type":["AWS API Call via CloudTrail","AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}`)}, in))
		if !w.skip["eventbridge-target"] {
			must(eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("root-activity"), Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(queueARN)}}}, in))
		}
	}
}

// TestMotoMonitoringPaths builds both alert paths in moto for real, scans
// live, and removes each link in turn: the finding names it.
func TestMotoMonitoringPaths(t *testing.T) {
	url := testutil.StartMoto(t)
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	loader := func(context.Context, string, string) (aws.Config, error) { return cfg, nil }
	cases := []struct {
		name       string
		skip       []string
		alarm      finding.Status
		link       string // the missing link the alarm rule names
		unalerted  finding.Status
		unalertMsg string
	}{
		{"both paths", nil, finding.StatusPass, "", finding.StatusPass, "CloudWatch alarm"},
		{"the alarm path alone", []string{"eventbridge"}, finding.StatusPass, "", finding.StatusPass, "CloudWatch alarm"},
		{"the EventBridge path alone", []string{"metric_filter"}, finding.StatusFail, "metric_filter", finding.StatusPass, "EventBridge rules deliver"},
		{"no trail", []string{"trail", "eventbridge"}, finding.StatusFail, "trail", finding.StatusFail, "No multi-region"},
		{"a single-region trail", []string{"multi-region", "eventbridge"}, finding.StatusFail, "trail", finding.StatusFail, ""},
		{"not logging", []string{"logging", "eventbridge"}, finding.StatusFail, "logging", finding.StatusFail, "not logging"},
		{"write-only selectors", []string{"selectors", "eventbridge"}, finding.StatusFail, "selectors", finding.StatusFail, ""},
		{"no log group", []string{"log_group", "eventbridge"}, finding.StatusFail, "log_group", finding.StatusFail, ""},
		{"no metric filter", []string{"metric_filter", "eventbridge"}, finding.StatusFail, "metric_filter", finding.StatusFail, ""},
		{"no alarm", []string{"alarm", "eventbridge"}, finding.StatusFail, "alarm", finding.StatusFail, ""},
		{"alarm actions disabled", []string{"alarm_actions", "eventbridge"}, finding.StatusFail, "alarm_actions", finding.StatusFail, ""},
		{"no topic action", []string{"topic_action", "eventbridge"}, finding.StatusFail, "topic_action", finding.StatusFail, ""},
		{"no subscriber", []string{"subscriber", "eventbridge"}, finding.StatusFail, "subscriber", finding.StatusFail, ""},
		{"no EventBridge rule in one region", []string{"metric_filter", "eventbridge:eu-west-3"}, finding.StatusFail, "metric_filter", finding.StatusFail, "in eu-west-3"},
		{"EventBridge rules without targets", []string{"metric_filter", "eventbridge-target"}, finding.StatusFail, "metric_filter", finding.StatusFail, "root console sign-in (success) in us-east-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			resetMoto(t, url)
			skip := map[string]bool{}
			for _, s := range tc.skip {
				skip[s] = true
			}
			motoWorld{cfg: cfg, skip: skip}.build(t, ctx)
			r := runWith(t, loader, "scan", "-f", "json", "--report-timeout", "30s")
			if r.code == ExitUsage {
				t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
			}
			run := decodeRun(t, r.stdout)
			for _, f := range run.Findings {
				switch f.RuleID {
				case "cloudwatch-root-usage-no-alarm":
					if f.Status != tc.alarm || tc.link != "" && f.Evidence["missing_link"] != tc.link {
						t.Errorf("%s: %s (link %v) %q; want %s at %q", f.RuleID, f.Status, f.Evidence["missing_link"], f.Message, tc.alarm, tc.link)
					}
				case "account-root-activity-unalerted":
					if f.Status != tc.unalerted || !strings.Contains(f.Message, tc.unalertMsg) {
						t.Errorf("%s: %s %q; want %s containing %q", f.RuleID, f.Status, f.Message, tc.unalerted, tc.unalertMsg)
					}
				}
			}
			for _, s := range run.Accounts[0].Sources {
				if s.Name == "regions" && (s.State != "ok" || !strings.Contains(s.Detail, "DescribeRegions")) {
					t.Errorf("regions source %+v: moto has no ListRegions, DescribeRegions must answer", s)
				}
			}
		})
	}
}

func resetMoto(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto reset: %s", resp.Status)
	}
}

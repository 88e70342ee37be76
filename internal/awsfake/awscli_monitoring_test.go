package awsfake

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

const monitoringWorld = `
accounts:
  - id: "111111111111"
    access_keys: [AKIAMON0000000000001]
    organization: {id: o-abcdefghij, management_account: "111111111111"}
    monitoring:
      regions: [eu-west-1, us-east-1]
      page_size: 1
      trails:
        - {name: org-trail, home_region: eu-west-1, organization: true, log_group: org-trail-logs, selectors: advanced}
        - {name: local, single_region: true, selectors: write-only}
      metric_filters:
        - {log_group: org-trail-logs, name: root-usage, pattern: '{ $.userIdentity.type = "Root" }', metric: RootUsage, namespace: CISBenchmark}
        - {log_group: org-trail-logs, name: other, pattern: 'ERROR', metric: Errors, namespace: App}
        - {log_group: app-logs, region: eu-west-1, name: app-errors, pattern: 'ERROR', metric: AppErrors, namespace: App}
        - {log_group: us-logs, region: us-east-1, name: us-root, pattern: '{ $.userIdentity.type = "Root" }', metric: RootUsage, namespace: CISBenchmark}
      alarms:
        - {name: root-usage, region: eu-west-1, metric: RootUsage, namespace: CISBenchmark, topic: alerts}
        - {name: quiet, region: eu-west-1, metric: Errors, namespace: App, actions_disabled: true}
      topics:
        - {name: alerts, region: eu-west-1, confirmed: 1, pending: 1}
      event_rules:
        - {name: root-activity, state: ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, pattern: '{"detail":{"userIdentity":{"type":["Root"]}}}', targets: 2}
        - {name: nightly, regions: [us-east-1], state: DISABLED}
      guardduty: [us-east-1]
    faults:
      - {op: ListRules, region: eu-west-1, code: AccessDeniedException, status: 400, message: "not authorized to perform events:ListRules"}
  - id: "222222222222"
    access_keys: [AKIAMON0000000000002]
    organization: {id: o-abcdefghij, management_account: "111111111111"}
    faults:
      - {op: DescribeRegions, code: UnauthorizedOperation, status: 403, message: "You are not authorized to perform this operation."}
`

// TestAWSCLIMonitoringConformance drives every monitoring call the fake
// serves through the AWS CLI (botocore's parsers and its choice of
// protocol: JSON for CloudWatch, Query for SNS, REST-JSON for GuardDuty
// and Account).
func TestAWSCLIMonitoringConformance(t *testing.T) {
	bin := testutil.RequireTool(t, "aws")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, url, err := Serve(ctx, []byte(monitoringWorld), "monitoring world", Options{Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	c := awsCLI{t: t, bin: bin, url: url, home: t.TempDir()}
	const mgmt, member = "AKIAMON0000000000001", "AKIAMON0000000000002"
	in := func(region string, args ...string) []string { return append(args, "--region", region) }

	t.Run("account list-regions, every page", func(t *testing.T) {
		var out struct {
			Regions []struct{ RegionName, RegionOptStatus string }
		}
		c.json(mgmt, &out, "account", "list-regions", "--region-opt-status-contains", "ENABLED", "ENABLED_BY_DEFAULT")
		if len(out.Regions) != 2 || out.Regions[0].RegionName != "eu-west-1" || out.Regions[1].RegionOptStatus != "ENABLED_BY_DEFAULT" {
			t.Errorf("%+v", out)
		}
	})
	t.Run("ec2 describe-regions", func(t *testing.T) {
		var out struct {
			Regions []struct{ RegionName, OptInStatus string }
		}
		c.json(mgmt, &out, "ec2", "describe-regions")
		if len(out.Regions) != 2 || out.Regions[1].RegionName != "us-east-1" || out.Regions[0].OptInStatus != "opt-in-not-required" {
			t.Errorf("%+v", out)
		}
		c.fails(member, "UnauthorizedOperation", "ec2", "describe-regions")
	})
	t.Run("cloudtrail describe-trails with shadow trails, status, selectors", func(t *testing.T) {
		var out struct {
			TrailList []struct {
				Name, TrailARN, HomeRegion, CloudWatchLogsLogGroupArn string
				IsMultiRegionTrail, IsOrganizationTrail               bool
			} `json:"trailList"`
		}
		c.json(mgmt, &out, "cloudtrail", "describe-trails", "--include-shadow-trails")
		if len(out.TrailList) != 2 || out.TrailList[0].TrailARN != "arn:aws:cloudtrail:eu-west-1:111111111111:trail/org-trail" ||
			!out.TrailList[0].IsOrganizationTrail || out.TrailList[0].CloudWatchLogsLogGroupArn != "arn:aws:logs:eu-west-1:111111111111:log-group:org-trail-logs:*" {
			t.Errorf("%+v", out)
		}
		var member struct {
			TrailList []struct{ TrailARN string } `json:"trailList"`
		}
		c.json("AKIAMON0000000000002", &member, "cloudtrail", "describe-trails", "--include-shadow-trails")
		if len(member.TrailList) != 1 || !strings.Contains(member.TrailList[0].TrailARN, ":111111111111:trail/org-trail") {
			t.Errorf("a member must see the organization trail: %+v", member)
		}
		var st struct{ IsLogging bool }
		c.json(mgmt, &st, in("eu-west-1", "cloudtrail", "get-trail-status", "--name", out.TrailList[0].TrailARN)...)
		if !st.IsLogging {
			t.Errorf("%+v", st)
		}
		c.fails(mgmt, "TrailNotFoundException", "cloudtrail", "get-trail-status", "--name", out.TrailList[0].TrailARN)
		var sel struct {
			EventSelectors         []struct{ ReadWriteType string }
			AdvancedEventSelectors []struct {
				Name           string
				FieldSelectors []struct {
					Field  string
					Equals []string
				}
			}
		}
		c.json(mgmt, &sel, in("eu-west-1", "cloudtrail", "get-event-selectors", "--trail-name", out.TrailList[0].TrailARN)...)
		if len(sel.AdvancedEventSelectors) != 1 || sel.AdvancedEventSelectors[0].FieldSelectors[0].Equals[0] != "Management" {
			t.Errorf("%+v", sel)
		}
		c.json(mgmt, &sel, "cloudtrail", "get-event-selectors", "--trail-name", "local")
		if len(sel.EventSelectors) != 1 || sel.EventSelectors[0].ReadWriteType != "WriteOnly" {
			t.Errorf("%+v", sel)
		}
	})
	t.Run("logs describe-metric-filters, every page", func(t *testing.T) {
		type filters struct {
			MetricFilters []struct {
				FilterName, FilterPattern, LogGroupName string
				MetricTransformations                   []struct{ MetricName, MetricNamespace string }
			} `json:"metricFilters"`
		}
		names := func(out filters) string {
			var n []string
			for _, f := range out.MetricFilters {
				n = append(n, f.LogGroupName+"/"+f.FilterName)
			}
			return strings.Join(n, ",")
		}
		// One log group: its filters, ASCII-sorted by name, one a page.
		var out filters
		c.json(mgmt, &out, in("eu-west-1", "logs", "describe-metric-filters", "--log-group-name", "org-trail-logs")...)
		if names(out) != "org-trail-logs/other,org-trail-logs/root-usage" || out.MetricFilters[1].FilterPattern != `{ $.userIdentity.type = "Root" }` || out.MetricFilters[1].MetricTransformations[0].MetricNamespace != "CISBenchmark" {
			t.Errorf("%+v", out)
		}
		// No log group: every filter of the region, across pages.
		c.json(mgmt, &out, in("eu-west-1", "logs", "describe-metric-filters")...)
		if got := names(out); got != "app-logs/app-errors,org-trail-logs/other,org-trail-logs/root-usage" {
			t.Errorf("every filter of eu-west-1: %s", got)
		}
		c.json(mgmt, &out, in("us-east-1", "logs", "describe-metric-filters")...)
		if got := names(out); got != "us-logs/us-root" {
			t.Errorf("every filter of us-east-1: %s", got)
		}
		// --page-size is the API's limit; --max-items stops the CLI early.
		var first struct {
			filters
			NextToken string
		}
		c.json(mgmt, &first, in("eu-west-1", "logs", "describe-metric-filters", "--page-size", "1", "--max-items", "2")...)
		if names(first.filters) != "app-logs/app-errors,org-trail-logs/other" || first.NextToken == "" {
			t.Errorf("first two: %s, next %q", names(first.filters), first.NextToken)
		}
		// A name prefix counts only with a log group; a metric name only with its namespace.
		c.json(mgmt, &out, in("eu-west-1", "logs", "describe-metric-filters", "--filter-name-prefix", "root")...)
		if got := names(out); got != "app-logs/app-errors,org-trail-logs/other,org-trail-logs/root-usage" {
			t.Errorf("a prefix without a log group is ignored: %s", got)
		}
		c.json(mgmt, &out, in("eu-west-1", "logs", "describe-metric-filters", "--log-group-name", "org-trail-logs", "--filter-name-prefix", "root")...)
		if got := names(out); got != "org-trail-logs/root-usage" {
			t.Errorf("prefix root in org-trail-logs: %s", got)
		}
		c.json(mgmt, &out, in("eu-west-1", "logs", "describe-metric-filters", "--metric-name", "Errors", "--metric-namespace", "App")...)
		if got := names(out); got != "org-trail-logs/other" {
			t.Errorf("metric App/Errors: %s", got)
		}
		c.fails(mgmt, "InvalidParameterException", in("eu-west-1", "logs", "describe-metric-filters", "--metric-name", "Errors")...)
	})
	t.Run("cloudwatch describe-alarms, every page", func(t *testing.T) {
		var out struct {
			MetricAlarms []struct {
				AlarmName, MetricName, Namespace string
				ActionsEnabled                   bool
				AlarmActions                     []string
			}
		}
		c.json(mgmt, &out, in("eu-west-1", "cloudwatch", "describe-alarms")...)
		if len(out.MetricAlarms) != 2 || out.MetricAlarms[0].AlarmActions[0] != "arn:aws:sns:eu-west-1:111111111111:alerts" || out.MetricAlarms[1].ActionsEnabled {
			t.Errorf("%+v", out)
		}
	})
	t.Run("sns list-subscriptions-by-topic, every page", func(t *testing.T) {
		var out struct {
			Subscriptions []struct{ SubscriptionArn, Protocol string }
		}
		c.json(mgmt, &out, in("eu-west-1", "sns", "list-subscriptions-by-topic", "--topic-arn", "arn:aws:sns:eu-west-1:111111111111:alerts")...)
		if len(out.Subscriptions) != 2 || !strings.HasPrefix(out.Subscriptions[0].SubscriptionArn, "arn:aws:sns:") || out.Subscriptions[1].SubscriptionArn != "PendingConfirmation" {
			t.Errorf("%+v", out)
		}
		c.fails(mgmt, "NotFound", in("eu-west-1", "sns", "list-subscriptions-by-topic", "--topic-arn", "arn:aws:sns:eu-west-1:111111111111:nope")...)
	})
	t.Run("events list-rules and list-targets-by-rule, every page", func(t *testing.T) {
		var out struct {
			Rules []struct{ Name, State, EventPattern string }
		}
		c.json(mgmt, &out, "events", "list-rules")
		if len(out.Rules) != 2 || out.Rules[0].State != "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" || out.Rules[1].State != "DISABLED" {
			t.Errorf("%+v", out)
		}
		var targets struct{ Targets []struct{ Id, Arn string } }
		c.json(mgmt, &targets, "events", "list-targets-by-rule", "--rule", "root-activity")
		if len(targets.Targets) != 2 {
			t.Errorf("%+v", targets)
		}
		c.fails(mgmt, "ResourceNotFoundException", "events", "list-targets-by-rule", "--rule", "nope")
		c.fails(mgmt, "AccessDeniedException", in("eu-west-1", "events", "list-rules")...)
	})
	t.Run("guardduty list-detectors and get-detector", func(t *testing.T) {
		var out struct{ DetectorIds []string }
		c.json(mgmt, &out, "guardduty", "list-detectors")
		if len(out.DetectorIds) != 1 {
			t.Fatalf("%+v", out)
		}
		var d struct{ Status string }
		c.json(mgmt, &d, "guardduty", "get-detector", "--detector-id", out.DetectorIds[0])
		if d.Status != "ENABLED" {
			t.Errorf("%+v", d)
		}
		c.json(mgmt, &out, in("eu-west-1", "guardduty", "list-detectors")...)
		if len(out.DetectorIds) != 0 {
			t.Errorf("eu-west-1 has no detector: %+v", out)
		}
		c.fails(member, "BadRequestException", "guardduty", "get-detector", "--detector-id", "nope")
	})
}

package live

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/parallel"
)

// The monitoring calls, all read-only. Regional calls take the region as a
// per-call option, so one client serves every region.
type (
	RegionsAPI interface {
		ListRegions(context.Context, *account.ListRegionsInput, ...func(*account.Options)) (*account.ListRegionsOutput, error)
	}
	EC2RegionsAPI interface {
		DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
	}
	TrailsAPI interface {
		DescribeTrails(context.Context, *cloudtrail.DescribeTrailsInput, ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
		GetTrailStatus(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
		GetEventSelectors(context.Context, *cloudtrail.GetEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
	}
	LogsAPI interface {
		DescribeMetricFilters(context.Context, *cloudwatchlogs.DescribeMetricFiltersInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeMetricFiltersOutput, error)
	}
	AlarmsAPI interface {
		DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	}
	TopicsAPI interface {
		ListSubscriptionsByTopic(context.Context, *sns.ListSubscriptionsByTopicInput, ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	}
	EventsAPI interface {
		ListRules(context.Context, *eventbridge.ListRulesInput, ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error)
		ListTargetsByRule(context.Context, *eventbridge.ListTargetsByRuleInput, ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	}
	DetectorsAPI interface {
		ListDetectors(context.Context, *guardduty.ListDetectorsInput, ...func(*guardduty.Options)) (*guardduty.ListDetectorsOutput, error)
		GetDetector(context.Context, *guardduty.GetDetectorInput, ...func(*guardduty.Options)) (*guardduty.GetDetectorOutput, error)
	}
)

// MonitoringClients are the clients of the monitoring sources.
type MonitoringClients struct {
	Regions RegionsAPI
	// EC2 answers when account:ListRegions cannot (denied, or an endpoint
	// that does not serve it).
	EC2       EC2RegionsAPI
	Trails    TrailsAPI
	Logs      LogsAPI
	Alarms    AlarmsAPI
	Topics    TopicsAPI
	Events    EventsAPI
	GuardDuty DetectorsAPI
}

// NewMonitoringClients builds them from an SDK configuration. CloudWatch
// speaks AWS JSON 1.0, one of the protocols the service offers and the one
// botocore chooses; the SDK's default, CBOR, is not spoken by every
// endpoint that emulates AWS.
func NewMonitoringClients(cfg aws.Config) MonitoringClients {
	return MonitoringClients{
		Regions:   account.NewFromConfig(cfg),
		EC2:       ec2.NewFromConfig(cfg),
		Trails:    cloudtrail.NewFromConfig(cfg),
		Logs:      cloudwatchlogs.NewFromConfig(cfg),
		Alarms:    cloudwatch.NewFromConfig(cfg, cloudWatchJSON),
		Topics:    sns.NewFromConfig(cfg),
		Events:    eventbridge.NewFromConfig(cfg),
		GuardDuty: guardduty.NewFromConfig(cfg),
	}
}

// regionConcurrency bounds the regional calls in flight for one account.
const regionConcurrency = 8

// monitoring reads every monitoring source of an account.
func monitoring(ctx context.Context, c MonitoringClients, opts Options, a *evidence.Account, stamp func(evidence.SourceStatus) evidence.SourceStatus) *evidence.Monitoring {
	m := &evidence.Monitoring{}
	set := func(name string, st evidence.SourceStatus) { a.SetSource(name, stamp(st)) }

	regions, st := enabledRegions(ctx, c.Regions, c.EC2)
	m.Regions = regions
	set(evidence.SourceRegions, st)
	m.Scanned, m.NotScanned = scannedRegions(regions, opts.Regions)

	trails, st := readTrails(ctx, c.Trails, a.ID, m.Scanned)
	m.Trails = trails
	set(evidence.SourceTrails, st)

	m.LogGroups, st = readMetricFilters(ctx, c.Logs, a.ID, trails)
	set(evidence.SourceMetricFilters, st)

	var alarmRegions []string
	for _, lg := range m.LogGroups {
		if !slices.Contains(alarmRegions, lg.Region) {
			alarmRegions = append(alarmRegions, lg.Region)
		}
	}
	m.Alarms, st = readAlarms(ctx, c.Alarms, alarmRegions)
	set(evidence.SourceAlarms, st)

	m.Topics, st = readTopics(ctx, c.Topics, alarmTopics(m))
	set(evidence.SourceSubscriptions, st)

	m.EventBuses, st = readEventRules(ctx, c.Events, m.Scanned)
	set(evidence.SourceEventRules, st)

	m.GuardDuty, st = readDetectors(ctx, c.GuardDuty, m.Scanned)
	set(evidence.SourceGuardDuty, st)
	return m
}

func inRegion[O any](region string, set func(*O, string)) func(*O) {
	return func(o *O) { set(o, region) }
}

// enabledRegions lists the regions enabled for the account: from
// account:ListRegions, else from ec2:DescribeRegions (which lists the
// regions enabled for the caller's account unless asked for all).
func enabledRegions(ctx context.Context, c RegionsAPI, e EC2RegionsAPI) ([]string, evidence.SourceStatus) {
	in := &account.ListRegionsInput{RegionOptStatusContains: []accounttypes.RegionOptStatus{accounttypes.RegionOptStatusEnabled, accounttypes.RegionOptStatusEnabledByDefault}}
	p := account.NewListRegionsPaginator(c, in)
	regions := []string{}
	var listErr error
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			listErr = err
			break
		}
		for _, r := range out.Regions {
			regions = append(regions, aws.ToString(r.RegionName))
		}
	}
	detail := ""
	if listErr != nil {
		first := awsx.Failed("ListRegions", listErr)
		if e == nil {
			return nil, first
		}
		out, err := e.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		if err != nil {
			second := awsx.Failed("DescribeRegions", err)
			if first.State != second.State {
				second.State = evidence.StateError
			}
			second.Detail = first.Detail + "; " + second.Detail
			return nil, second
		}
		regions = regions[:0]
		for _, r := range out.Regions {
			regions = append(regions, aws.ToString(r.RegionName))
		}
		detail = " (from ec2:DescribeRegions; " + first.Detail + ")"
	}
	slices.Sort(regions)
	return regions, evidence.SourceStatus{State: evidence.StateOK, Detail: evidence.Count(len(regions), "enabled region") + detail}
}

// scannedRegions: the enabled regions, limited to those asked for. With
// the enabled regions unknown, the regions asked for (or us-east-1, where
// sign-in events arrive) are read, and rules that need every region stay
// unknown.
func scannedRegions(enabled, limit []string) (scanned, notScanned []string) {
	switch {
	case enabled == nil && len(limit) > 0:
		return slices.Clone(limit), nil
	case enabled == nil:
		return []string{"us-east-1"}, nil
	case len(limit) == 0:
		return slices.Clone(enabled), nil
	}
	for _, r := range enabled {
		if slices.Contains(limit, r) {
			scanned = append(scanned, r)
		} else {
			notScanned = append(notScanned, r)
		}
	}
	return scanned, notScanned
}

// inParallel runs fn for 0..n-1, regionConcurrency at a time, and returns
// the results in order with the failures. A call that never started
// because ctx ended is made after all, with the ended context: it fails at
// once in the words of its own call and region, as every call in flight
// does, so that no region goes unreported.
func inParallel[T any](ctx context.Context, n int, fn func(ctx context.Context, i int) (T, *evidence.SourceStatus)) ([]T, []evidence.SourceStatus) {
	type result struct {
		v    T
		fail *evidence.SourceStatus
	}
	call := func(ctx context.Context, i int) result {
		v, fail := fn(ctx, i)
		return result{v, fail}
	}
	results, notRun := parallel.Map(ctx, n, parallel.Options{Limit: regionConcurrency}, call)
	for _, i := range notRun {
		results[i] = call(ctx, i)
	}
	out := make([]T, n)
	var failures []evidence.SourceStatus
	for i, r := range results {
		out[i] = r.v
		if r.fail != nil {
			failures = append(failures, *r.fail)
		}
	}
	return out, failures
}

// eachRegion is inParallel over regions (or any names).
func eachRegion[T any](ctx context.Context, regions []string, fn func(ctx context.Context, region string) (T, *evidence.SourceStatus)) ([]T, []evidence.SourceStatus) {
	return inParallel(ctx, len(regions), func(ctx context.Context, i int) (T, *evidence.SourceStatus) { return fn(ctx, regions[i]) })
}

// failed is awsx.Failed as a pointer, with its detail for the part.
func failed(op string, err error) (*evidence.SourceStatus, string) {
	st := awsx.Failed(op, err)
	return &st, st.Detail
}

// partStatus sums up the parts of a source: ok when every part was read;
// otherwise denied (every failure a denial) or error, naming each failure.
func partStatus(n int, noun string, failures []evidence.SourceStatus) evidence.SourceStatus {
	if len(failures) == 0 {
		return evidence.SourceStatus{State: evidence.StateOK, Detail: evidence.Count(n, noun)}
	}
	state := evidence.StateDenied
	details := make([]string, len(failures))
	for i, f := range failures {
		if f.State != evidence.StateDenied {
			state = evidence.StateError
		}
		details[i] = f.Detail
	}
	return evidence.SourceStatus{State: state, Detail: fmt.Sprintf("%d of %s not read: %s", len(failures), evidence.Count(n, noun), strings.Join(details, "; "))}
}

// readTrails lists the trails that apply to the account (shadow and
// organization trails included) and reads each one's status and selectors
// in its home region. A trail of another account (an organization trail
// seen from a member) that cannot be read keeps its error on the trail but
// does not make the source fail: its owner's evidence judges it.
func readTrails(ctx context.Context, c TrailsAPI, account string, scanned []string) ([]evidence.Trail, evidence.SourceStatus) {
	region := "us-east-1"
	if len(scanned) > 0 && !slices.Contains(scanned, region) {
		region = scanned[0]
	}
	out, err := c.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)}, inRegion(region, func(o *cloudtrail.Options, r string) { o.Region = r }))
	if err != nil {
		return nil, awsx.Failed("DescribeTrails", err)
	}
	trails := make([]evidence.Trail, 0, len(out.TrailList))
	seen := map[string]bool{}
	for _, t := range out.TrailList {
		arn := aws.ToString(t.TrailARN)
		if seen[arn] {
			continue
		}
		seen[arn] = true
		trails = append(trails, evidence.Trail{
			Name: aws.ToString(t.Name), ARN: arn, HomeRegion: aws.ToString(t.HomeRegion),
			MultiRegion: aws.ToBool(t.IsMultiRegionTrail), Organization: aws.ToBool(t.IsOrganizationTrail),
			LogGroupARN: aws.ToString(t.CloudWatchLogsLogGroupArn),
		})
	}
	_, failures := inParallel(ctx, len(trails), func(ctx context.Context, i int) (struct{}, *evidence.SourceStatus) {
		t := &trails[i]
		home := inRegion(t.HomeRegion, func(o *cloudtrail.Options, r string) {
			if r != "" {
				o.Region = r
			}
		})
		var fail *evidence.SourceStatus
		if st, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(t.ARN)}, home); err != nil {
			fail, t.StatusError = failed("GetTrailStatus "+t.Name, err)
		} else {
			logging := aws.ToBool(st.IsLogging)
			t.IsLogging = &logging
		}
		sel, err := c.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(t.ARN)}, home)
		if err != nil {
			f, detail := failed("GetEventSelectors "+t.Name, err)
			t.SelectorsError = detail
			if fail == nil {
				fail = f
			}
			if foreignTrail(*t, account) {
				return struct{}{}, nil // its errors stay on the trail
			}
			return struct{}{}, fail
		}
		es := &evidence.EventSelectors{Classic: []evidence.ClassicSelector{}, Advanced: []evidence.AdvancedSelector{}}
		for _, s := range sel.EventSelectors {
			es.Classic = append(es.Classic, evidence.ClassicSelector{ReadWriteType: string(s.ReadWriteType),
				IncludeManagementEvents: aws.ToBool(s.IncludeManagementEvents), ExcludeManagementEventSources: s.ExcludeManagementEventSources})
		}
		for _, s := range sel.AdvancedEventSelectors {
			as := evidence.AdvancedSelector{Name: aws.ToString(s.Name)}
			for _, f := range s.FieldSelectors {
				as.Fields = append(as.Fields, evidence.FieldSelector{Field: aws.ToString(f.Field), Equals: f.Equals, NotEquals: f.NotEquals,
					StartsWith: f.StartsWith, NotStartsWith: f.NotStartsWith, EndsWith: f.EndsWith, NotEndsWith: f.NotEndsWith})
			}
			es.Advanced = append(es.Advanced, as)
		}
		t.Selectors = es
		if foreignTrail(*t, account) {
			return struct{}{}, nil // its errors stay on the trail
		}
		return struct{}{}, fail
	})
	own := 0
	for _, t := range trails {
		if !foreignTrail(t, account) {
			own++
		}
	}
	st := partStatus(own, "trail", failures)
	if foreign := len(trails) - own; foreign > 0 {
		st.Detail += fmt.Sprintf(" of its own, and %s of other accounts (organization trails, judged on their owner's evidence)", evidence.Count(foreign, "trail"))
	}
	return trails, st
}

// foreignTrail: the trail belongs to another account (an organization
// trail seen from a member).
func foreignTrail(t evidence.Trail, account string) bool {
	parts := strings.Split(t.ARN, ":")
	return len(parts) > 4 && parts[4] != "" && parts[4] != account
}

// logGroupOf splits arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*].
func logGroupOf(arn string) (region, owner, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 7 || parts[2] != "logs" || !strings.HasPrefix(parts[5], "log-group") {
		return "", "", "", false
	}
	return parts[3], parts[4], strings.TrimSuffix(parts[6], ":*"), true
}

// readMetricFilters reads every page of metric filters of each log group
// the account's own trails deliver to.
func readMetricFilters(ctx context.Context, c LogsAPI, acct string, trails []evidence.Trail) ([]evidence.LogGroup, evidence.SourceStatus) {
	var groups []evidence.LogGroup
	seen := map[string]bool{}
	for _, t := range trails {
		region, owner, name, ok := logGroupOf(t.LogGroupARN)
		key := strings.TrimSuffix(t.LogGroupARN, ":*")
		if !ok || owner != acct || seen[key] {
			continue
		}
		seen[key] = true
		groups = append(groups, evidence.LogGroup{ARN: key, Region: region, Name: name})
	}
	var failures []evidence.SourceStatus
	for i := range groups {
		g := &groups[i]
		g.Filters = []evidence.MetricFilter{}
		p := cloudwatchlogs.NewDescribeMetricFiltersPaginator(c, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(g.Name)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx, inRegion(g.Region, func(o *cloudwatchlogs.Options, r string) { o.Region = r }))
			if err != nil {
				f, detail := failed("DescribeMetricFilters "+g.Name, err)
				g.Error, g.Filters = detail, nil
				failures = append(failures, *f)
				break
			}
			for _, mf := range out.MetricFilters {
				f := evidence.MetricFilter{Name: aws.ToString(mf.FilterName), Pattern: aws.ToString(mf.FilterPattern), Metrics: []evidence.Metric{}}
				for _, t := range mf.MetricTransformations {
					f.Metrics = append(f.Metrics, evidence.Metric{Name: aws.ToString(t.MetricName), Namespace: aws.ToString(t.MetricNamespace)})
				}
				g.Filters = append(g.Filters, f)
			}
		}
	}
	return groups, partStatus(len(groups), "log group", failures)
}

func cloudWatchRegion(o *cloudwatch.Options, r string) { o.Region = r }

func cloudWatchJSON(o *cloudwatch.Options) {
	o.Protocol = awsjson.New10(cwschemas.GraniteServiceVersion20100801)
}

// readAlarms reads every page of metric alarms in each region.
func readAlarms(ctx context.Context, c AlarmsAPI, regions []string) ([]evidence.AlarmRegion, evidence.SourceStatus) {
	out, failures := eachRegion(ctx, regions, func(ctx context.Context, region string) (evidence.AlarmRegion, *evidence.SourceStatus) {
		ar := evidence.AlarmRegion{Region: region, Alarms: []evidence.Alarm{}}
		p := cloudwatch.NewDescribeAlarmsPaginator(c, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx, inRegion(region, cloudWatchRegion))
			if err != nil {
				f, detail := failed("DescribeAlarms "+region, err)
				ar.Error, ar.Alarms = detail, nil
				return ar, f
			}
			for _, al := range page.MetricAlarms {
				alarm := evidence.Alarm{Name: aws.ToString(al.AlarmName), ARN: aws.ToString(al.AlarmArn), ActionsEnabled: aws.ToBool(al.ActionsEnabled),
					AlarmActions: al.AlarmActions, Metrics: []evidence.Metric{}}
				if al.MetricName != nil {
					alarm.Metrics = append(alarm.Metrics, evidence.Metric{Name: aws.ToString(al.MetricName), Namespace: aws.ToString(al.Namespace)})
				}
				for _, q := range al.Metrics {
					if q.MetricStat != nil && q.MetricStat.Metric != nil {
						alarm.Metrics = append(alarm.Metrics, evidence.Metric{Name: aws.ToString(q.MetricStat.Metric.MetricName), Namespace: aws.ToString(q.MetricStat.Metric.Namespace)})
					}
				}
				if alarm.AlarmActions == nil {
					alarm.AlarmActions = []string{}
				}
				ar.Alarms = append(ar.Alarms, alarm)
			}
		}
		return ar, nil
	})
	return out, partStatus(len(regions), "region", failures)
}

// alarmTopics are the SNS topics of alarms that watch a metric one of the
// trail log groups' filters publishes.
func alarmTopics(m *evidence.Monitoring) []string {
	metrics := map[evidence.Metric]bool{}
	for _, lg := range m.LogGroups {
		for _, f := range lg.Filters {
			for _, mt := range f.Metrics {
				metrics[mt] = true
			}
		}
	}
	var topics []string
	for _, ar := range m.Alarms {
		for _, al := range ar.Alarms {
			watches := false
			for _, mt := range al.Metrics {
				watches = watches || metrics[mt]
			}
			for _, act := range al.AlarmActions {
				if watches && strings.Contains(act, ":sns:") && !slices.Contains(topics, act) {
					topics = append(topics, act)
				}
			}
		}
	}
	return topics
}

// readTopics counts each topic's confirmed and pending subscriptions.
func readTopics(ctx context.Context, c TopicsAPI, arns []string) ([]evidence.Topic, evidence.SourceStatus) {
	topics, failures := eachRegion(ctx, arns, func(ctx context.Context, arn string) (evidence.Topic, *evidence.SourceStatus) {
		t := evidence.Topic{ARN: arn}
		region := ""
		if parts := strings.Split(arn, ":"); len(parts) > 3 {
			region = parts[3]
		}
		p := sns.NewListSubscriptionsByTopicPaginator(c, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx, inRegion(region, func(o *sns.Options, r string) {
				if r != "" {
					o.Region = r
				}
			}))
			if err != nil {
				f, detail := failed("ListSubscriptionsByTopic "+arn, err)
				t.Error = detail
				return t, f
			}
			for _, s := range out.Subscriptions {
				switch sa := aws.ToString(s.SubscriptionArn); {
				case strings.HasPrefix(sa, "arn:"):
					t.Confirmed++
					if pr := aws.ToString(s.Protocol); !slices.Contains(t.Protocols, pr) {
						t.Protocols = append(t.Protocols, pr)
					}
				case sa == "PendingConfirmation":
					t.Pending++
				}
			}
		}
		return t, nil
	})
	return topics, partStatus(len(arns), "topic", failures)
}

// readEventRules lists the default bus's rules in each region, and the
// targets of each rule with an event pattern.
func readEventRules(ctx context.Context, c EventsAPI, regions []string) ([]evidence.EventBus, evidence.SourceStatus) {
	buses, failures := eachRegion(ctx, regions, func(ctx context.Context, region string) (evidence.EventBus, *evidence.SourceStatus) {
		bus := evidence.EventBus{Region: region, Rules: []evidence.EventRule{}}
		opt := inRegion(region, func(o *eventbridge.Options, r string) { o.Region = r })
		var token *string
		seen := map[string]bool{}
		for {
			out, err := c.ListRules(ctx, &eventbridge.ListRulesInput{NextToken: token}, opt)
			if err != nil {
				f, detail := failed("ListRules "+region, err)
				bus.Error, bus.Rules = detail, nil
				return bus, f
			}
			for _, r := range out.Rules {
				bus.Rules = append(bus.Rules, evidence.EventRule{Name: aws.ToString(r.Name), ARN: aws.ToString(r.Arn), State: string(r.State), Pattern: aws.ToString(r.EventPattern)})
			}
			if token = out.NextToken; token == nil || *token == "" {
				break
			}
			if seen[*token] {
				bus.Error, bus.Rules = fmt.Sprintf("ListRules %s: the same NextToken came back twice", region), nil
				return bus, &evidence.SourceStatus{State: evidence.StateError, Detail: bus.Error}
			}
			seen[*token] = true
		}
		var fail *evidence.SourceStatus
		for i := range bus.Rules {
			r := &bus.Rules[i]
			if r.Pattern == "" {
				continue
			}
			r.Targets = []string{}
			var tok *string
			for {
				out, err := c.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(r.Name), NextToken: tok}, opt)
				if err != nil {
					fail, r.TargetsError = failed("ListTargetsByRule "+r.Name, err)
					r.Targets = nil
					break
				}
				for _, t := range out.Targets {
					r.Targets = append(r.Targets, aws.ToString(t.Arn))
				}
				if tok = out.NextToken; tok == nil || *tok == "" {
					break
				}
			}
		}
		return bus, fail
	})
	return buses, partStatus(len(regions), "region", failures)
}

// readDetectors lists GuardDuty detectors and their status in each region.
func readDetectors(ctx context.Context, c DetectorsAPI, regions []string) ([]evidence.GuardDutyRegion, evidence.SourceStatus) {
	out, failures := eachRegion(ctx, regions, func(ctx context.Context, region string) (evidence.GuardDutyRegion, *evidence.SourceStatus) {
		g := evidence.GuardDutyRegion{Region: region, Detectors: []evidence.Detector{}}
		opt := inRegion(region, func(o *guardduty.Options, r string) { o.Region = r })
		p := guardduty.NewListDetectorsPaginator(c, &guardduty.ListDetectorsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx, opt)
			if err != nil {
				f, detail := failed("ListDetectors "+region, err)
				g.Error, g.Detectors = detail, nil
				return g, f
			}
			for _, id := range page.DetectorIds {
				d, err := c.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String(id)}, opt)
				if err != nil {
					f, detail := failed("GetDetector "+id, err)
					g.Error = detail
					return g, f
				}
				g.Detectors = append(g.Detectors, evidence.Detector{ID: id, Status: string(d.Status)})
			}
		}
		return g, nil
	})
	return out, partStatus(len(regions), "region", failures)
}

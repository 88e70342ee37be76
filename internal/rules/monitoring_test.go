package rules

import (
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

const (
	testTrailARN = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/org-trail"
	testLogGroup = "arn:aws:logs:eu-west-1:123456789012:log-group:aws-cloudtrail:*"
	testTopic    = "arn:aws:sns:eu-west-1:123456789012:root-alerts"
	rootEBRule   = `{"detail-type":["AWS API Call via CloudTrail","AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}`
)

var testRegions = []string{"eu-west-1", "us-east-1", "us-west-2"}

// monitored is an account whose every monitoring link holds: a logging
// multi-region trail with the CIS filter, an alarm with an SNS action and
// a confirmed subscriber. change edits it before it is returned.
func monitored(change func(m *evidence.Monitoring)) func(*testing.T) *evidence.Account {
	return func(t *testing.T) *evidence.Account {
		yes := true
		m := &evidence.Monitoring{
			Regions: testRegions, Scanned: testRegions,
			Trails: []evidence.Trail{{Name: "org-trail", ARN: testTrailARN, HomeRegion: "eu-west-1", MultiRegion: true, LogGroupARN: testLogGroup, IsLogging: &yes,
				Selectors: &evidence.EventSelectors{Classic: []evidence.ClassicSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}}},
			LogGroups: []evidence.LogGroup{{ARN: strings.TrimSuffix(testLogGroup, ":*"), Region: "eu-west-1", Name: "aws-cloudtrail",
				Filters: []evidence.MetricFilter{{Name: "root-usage", Pattern: CISRootFilter, Metrics: []evidence.Metric{{Name: "RootAccountUsage", Namespace: "CISBenchmark"}}}}}},
			Alarms: []evidence.AlarmRegion{{Region: "eu-west-1", Alarms: []evidence.Alarm{{Name: "root-usage-alarm", ActionsEnabled: true,
				Metrics: []evidence.Metric{{Name: "RootAccountUsage", Namespace: "CISBenchmark"}}, AlarmActions: []string{testTopic}}}}},
			Topics: []evidence.Topic{{ARN: testTopic, Confirmed: 1, Protocols: []string{"email"}}},
		}
		for _, r := range testRegions {
			m.EventBuses = append(m.EventBuses, evidence.EventBus{Region: r, Rules: []evidence.EventRule{}})
		}
		if change != nil {
			change(m)
		}
		a := &evidence.Account{ID: "123456789012", Partition: "aws", Monitoring: m}
		for _, s := range evidence.MonitoringSources() {
			a.SetSource(s, evidence.SourceStatus{State: evidence.StateOK})
		}
		return a
	}
}

func withSource(src string, st evidence.SourceState, change func(m *evidence.Monitoring)) func(*testing.T) *evidence.Account {
	return func(t *testing.T) *evidence.Account {
		a := monitored(change)(t)
		a.SetSource(src, evidence.SourceStatus{State: st, Detail: "AccessDenied: not authorized"})
		return a
	}
}

func filter(p string) func(m *evidence.Monitoring) {
	return func(m *evidence.Monitoring) { m.LogGroups[0].Filters[0].Pattern = p }
}

func TestRootUsageNoAlarm(t *testing.T) {
	f := finding.StatusFail
	cases := []ruleCase{
		{"every link holds", monitored(nil), nil, finding.StatusPass, "confirmed subscription", map[string]any{"cis_exact": true, "alarm": "root-usage-alarm"}},
		{"CIS v4+ unquoted", monitored(filter(`{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }`)), nil, finding.StatusPass, "", map[string]any{"cis_exact": true}},
		{"whitespace and order", monitored(filter("{\n$.eventType != \"AwsServiceEvent\" &&\n\t$.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = \"Root\"\n}")), nil, finding.StatusPass, "", map[string]any{"cis_exact": true}},
		{"Control Tower's misspelt sample over-matches service events", monitored(filter(`{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AWsServiceEvent"}`)), nil, finding.StatusPass, "not CIS's exact pattern",
			map[string]any{"cis_exact": false, "over_matches": "[AWS-service event on root's behalf (eventType AwsServiceEvent)]"}},
		{"|| form catching both", monitored(filter(`{ ($.userIdentity.type = "Root" && $.eventName = "ConsoleLogin") || ($.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS) }`)), nil, finding.StatusPass, "", nil},
		{"no trail", monitored(func(m *evidence.Monitoring) { m.Trails = nil }), nil, f, "No multi-region CloudTrail trail", map[string]any{"missing_link": linkTrail}},
		{"single-region trail", monitored(func(m *evidence.Monitoring) { m.Trails[0].MultiRegion = false }), nil, f, "Single-region trails: org-trail", map[string]any{"missing_link": linkTrail}},
		{"not logging", monitored(func(m *evidence.Monitoring) { no := false; m.Trails[0].IsLogging = &no }), nil, f, "is not logging", map[string]any{"missing_link": linkLogging}},
		{"status unreadable", monitored(func(m *evidence.Monitoring) { m.Trails[0].IsLogging, m.Trails[0].StatusError = nil, "AccessDenied" }), nil, finding.StatusUnknown, "AccessDenied", nil},
		{"write-only selector", monitored(func(m *evidence.Monitoring) { m.Trails[0].Selectors.Classic[0].ReadWriteType = "WriteOnly" }), nil, f, "WriteOnly management events only", map[string]any{"missing_link": linkSelectors}},
		{"management events excluded", monitored(func(m *evidence.Monitoring) { m.Trails[0].Selectors.Classic[0].IncludeManagementEvents = false }), nil, f, "excludes management events", nil},
		{"no selectors", monitored(func(m *evidence.Monitoring) { m.Trails[0].Selectors = &evidence.EventSelectors{} }), nil, f, "no event selectors", nil},
		{"advanced selector for management events", monitored(func(m *evidence.Monitoring) {
			m.Trails[0].Selectors = &evidence.EventSelectors{Advanced: []evidence.AdvancedSelector{{Name: "mgmt", Fields: []evidence.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}}}}
		}), nil, finding.StatusPass, "", nil},
		{"advanced selector for read-only management events", monitored(func(m *evidence.Monitoring) {
			m.Trails[0].Selectors = &evidence.EventSelectors{Advanced: []evidence.AdvancedSelector{{Name: "reads", Fields: []evidence.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"true"}}}}}}
		}), nil, f, "only read-only or only write", nil},
		{"KMS events excluded is noted", monitored(func(m *evidence.Monitoring) {
			m.Trails[0].Selectors.Classic[0].ExcludeManagementEventSources = []string{"kms.amazonaws.com"}
		}), nil, finding.StatusPass, "", map[string]any{"selector_note": "management events from kms.amazonaws.com are excluded"}},
		{"no log group", monitored(func(m *evidence.Monitoring) { m.Trails[0].LogGroupARN = "" }), nil, f, "does not deliver to CloudWatch Logs", map[string]any{"missing_link": linkLogGroup}},
		{"log group unreadable", monitored(func(m *evidence.Monitoring) { m.LogGroups[0].Error = "AccessDeniedException" }), nil, finding.StatusUnknown, "AccessDeniedException", nil},
		{"no metric filter", monitored(func(m *evidence.Monitoring) { m.LogGroups[0].Filters = nil }), nil, f, "has no metric filter", map[string]any{"missing_link": linkMetricFilter}},
		{"filter catching only sign-ins", monitored(filter(`{ $.userIdentity.type = "Root" && $.eventName = "ConsoleLogin" }`)), nil, f, "misses: root API call with access keys",
			map[string]any{"missing_link": linkMetricFilter}},
		{"filter catching every IAM user", monitored(filter(`{ $.eventName = * }`)), nil, f, "also fires for IAM users", map[string]any{"matches_iam_users": "[root-usage]"}},
		{"Steampipe-style quoted regex author wrote single quotes", monitored(filter(`{ $.userIdentity.type = 'Root' }`)), nil, finding.StatusUnknown, "single-quoted", nil},
		{"no alarm", monitored(func(m *evidence.Monitoring) { m.Alarms[0].Alarms = nil }), nil, f, "no alarm in eu-west-1 watches that metric", map[string]any{"missing_link": linkAlarm}},
		{"alarm on the name in another namespace", monitored(func(m *evidence.Monitoring) { m.Alarms[0].Alarms[0].Metrics[0].Namespace = "LogMetrics" }), nil, f, "Same name, other namespace", nil},
		{"alarm actions disabled", monitored(func(m *evidence.Monitoring) { m.Alarms[0].Alarms[0].ActionsEnabled = false }), nil, f, "actions disabled", map[string]any{"missing_link": linkAlarmActions}},
		{"no SNS action", monitored(func(m *evidence.Monitoring) {
			m.Alarms[0].Alarms[0].AlarmActions = []string{"arn:aws:automate:eu-west-1:ec2:stop"}
		}), nil, f, "no SNS topic", map[string]any{"missing_link": linkTopicAction}},
		{"only pending subscriptions", monitored(func(m *evidence.Monitoring) { m.Topics[0].Confirmed, m.Topics[0].Pending = 0, 2 }), nil, f, "no confirmed subscription (2 pending", map[string]any{"missing_link": linkSubscriber}},
		{"topic unreadable", monitored(func(m *evidence.Monitoring) { m.Topics[0].Error = "AuthorizationError" }), nil, finding.StatusUnknown, "AuthorizationError", nil},
		{"alarms unreadable", monitored(func(m *evidence.Monitoring) { m.Alarms[0].Error = "AccessDenied" }), nil, finding.StatusUnknown, "alarms of region eu-west-1", nil},
		{"trails denied", withSource(evidence.SourceTrails, evidence.StateDenied, nil), nil, finding.StatusUnknown, "", nil},
		{"metric filters denied", withSource(evidence.SourceMetricFilters, evidence.StateDenied, nil), nil, finding.StatusUnknown, "", nil},
		{"a second trail that fails does not hide the first that passes", monitored(func(m *evidence.Monitoring) {
			no := false
			m.Trails = append([]evidence.Trail{{Name: "old", ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/old", MultiRegion: true, IsLogging: &no}}, m.Trails...)
		}), nil, finding.StatusPass, "", nil},
		{"an unreadable trail beside a failing one is unknown", monitored(func(m *evidence.Monitoring) {
			m.Trails = append(m.Trails, evidence.Trail{Name: "other", ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/other", MultiRegion: true, StatusError: "ThrottlingException"})
			m.LogGroups[0].Filters = nil
		}), nil, finding.StatusUnknown, "ThrottlingException", nil},
	}
	runCases(t, rootUsageNoAlarm(), cases)
}

// TestOrganizationTrailCoverage: a member sees the management account's
// organization trail; its chain is judged on that account's evidence.
func TestOrganizationTrailCoverage(t *testing.T) {
	mgmt := monitored(func(m *evidence.Monitoring) {
		m.Trails[0].ARN = "arn:aws:cloudtrail:eu-west-1:999999999999:trail/org-trail"
		m.Trails[0].Organization = true
	})(t)
	mgmt.ID = "999999999999"
	member := monitored(func(m *evidence.Monitoring) {
		m.Trails[0].ARN, m.Trails[0].Organization = "arn:aws:cloudtrail:eu-west-1:999999999999:trail/org-trail", true
		m.Trails[0].IsLogging, m.Trails[0].StatusError = nil, "TrailNotFoundException" // members cannot read it
		m.LogGroups, m.Alarms, m.Topics = nil, nil, nil
	})(t)
	for _, r := range []Rule{rootUsageNoAlarm(), rootActivityUnalerted()} {
		res := r.Eval(Input{Account: member, AsOf: asOf, Settings: defaults, Peer: func(id string) *evidence.Account {
			if id == mgmt.ID {
				return mgmt
			}
			return nil
		}})[0]
		if res.Status != finding.StatusPass || res.Evidence["coverage_account"] != "999999999999" || !strings.Contains(res.Message, "999999999999") {
			t.Errorf("%s with the management account: %s %q %v", r.ID, res.Status, res.Message, res.Evidence)
		}
		res = r.Eval(Input{Account: member, AsOf: asOf, Settings: defaults})[0]
		if res.Status != finding.StatusUnknown || !strings.Contains(res.Message, "account 999999999999") {
			t.Errorf("%s without the management account: %s %q", r.ID, res.Status, res.Message)
		}
	}
}

// eventRules removes the alarm chain and gives every region's bus the rules
// the change adds.
func eventRules(change func(m *evidence.Monitoring)) func(*testing.T) *evidence.Account {
	return monitored(func(m *evidence.Monitoring) {
		m.LogGroups[0].Filters = nil
		for i, b := range m.EventBuses {
			m.EventBuses[i].Rules = []evidence.EventRule{{Name: "root-activity-" + b.Region, State: evidence.RuleEnabledAllManagement, Pattern: rootEBRule, Targets: []string{"arn:aws:events:us-east-1:999999999999:event-bus/central"}}}
		}
		if change != nil {
			change(m)
		}
	})
}

func TestRootActivityUnalerted(t *testing.T) {
	f := finding.StatusFail
	cases := []ruleCase{
		{"the alarm chain alone", monitored(nil), nil, finding.StatusPass, "CloudWatch alarm", map[string]any{"alarm_chain": "pass"}},
		{"EventBridge in every region", eventRules(nil), nil, finding.StatusPass, "in all 3 enabled regions", map[string]any{"alarm_chain": "fail", "eventbridge": "pass"}},
		{"rules in state ENABLED miss reads", eventRules(func(m *evidence.Monitoring) {
			for i := range m.EventBuses {
				m.EventBuses[i].Rules[0].State = evidence.RuleEnabled
			}
		}), nil, finding.StatusPass, "miss read-only root calls", nil},
		{"CIS-parity pattern", eventRules(func(m *evidence.Monitoring) {
			for i := range m.EventBuses {
				m.EventBuses[i].Rules[0].Pattern = `{"detail":{"userIdentity":{"type":["Root"],"invokedBy":[{"exists":false}]},"eventType":[{"anything-but":"AwsServiceEvent"}]}}`
			}
		}), nil, finding.StatusPass, "", nil},
		{"a region without a rule", eventRules(func(m *evidence.Monitoring) { m.EventBuses[2].Rules = nil }), nil, f, "root API call with access keys in us-west-2",
			map[string]any{"eventbridge": "fail"}},
		{"sign-ins only in us-east-1 count", eventRules(func(m *evidence.Monitoring) { m.EventBuses[1].Rules = nil }), nil, f, "root console sign-in (success) in us-east-1", nil},
		{"a rule without a target", eventRules(func(m *evidence.Monitoring) { m.EventBuses[0].Rules[0].Targets = nil }), nil, f, "in eu-west-1", nil},
		{"a disabled rule", eventRules(func(m *evidence.Monitoring) { m.EventBuses[0].Rules[0].State = evidence.RuleDisabled }), nil, f, "in eu-west-1", nil},
		{"a rule for everyone", eventRules(func(m *evidence.Monitoring) { m.EventBuses[0].Rules[0].Pattern = `{"source":[{"prefix":""}]}` }), nil, f, "in eu-west-1", nil},
		{"a region not scanned", eventRules(func(m *evidence.Monitoring) { m.Scanned, m.NotScanned = testRegions[:2], testRegions[2:] }), nil, finding.StatusUnknown, "us-west-2: region not scanned", nil},
		{"a bus that cannot be read", eventRules(func(m *evidence.Monitoring) { m.EventBuses[0].Error = "AccessDeniedException" }), nil, finding.StatusUnknown, "AccessDeniedException", nil},
		{"an operator rootwatch does not know", eventRules(func(m *evidence.Monitoring) {
			m.EventBuses[0].Rules[0].Pattern = `{"detail":{"userIdentity":{"type":[{"begins-with":"Root"}]}}}`
		}), nil, finding.StatusUnknown, "cannot evaluate", nil},
		{"a pattern with duplicate keys", eventRules(func(m *evidence.Monitoring) {
			m.EventBuses[0].Rules[0].Pattern = `{"detail":{"userIdentity":{"type":["Root"]}},"detail":{}}`
		}), nil, finding.StatusUnknown, "duplicate key", nil},
		{"regions unknown", eventRules(func(m *evidence.Monitoring) { m.Regions = nil }), nil, finding.StatusUnknown, "enabled regions are unknown", nil},
		{"regions denied", withSource(evidence.SourceRegions, evidence.StateDenied, func(m *evidence.Monitoring) { m.Regions, m.LogGroups[0].Filters = nil, nil }), nil, finding.StatusUnknown, "", nil},
		{"neither path", monitored(func(m *evidence.Monitoring) { m.Alarms[0].Alarms = nil }), nil, f, "EventBridge: no enabled rule with a target", map[string]any{"alarm_missing_link": linkAlarm}},
		{"GuardDuty alone is not coverage", monitored(func(m *evidence.Monitoring) {
			m.Alarms[0].Alarms = nil
			m.GuardDuty = []evidence.GuardDutyRegion{{Region: "eu-west-1", Detectors: []evidence.Detector{{ID: "d1", Status: "ENABLED"}}}}
		}), nil, f, "", map[string]any{"guardduty": "GuardDuty is enabled in eu-west-1 (finding Policy:IAMUser/RootCredentialUsage), but a detector notifies no one unless its findings are routed"}},
	}
	runCases(t, rootActivityUnalerted(), cases)
}

// TestClosestFilterIsNearestInMeaning: with a console-login filter (it
// misses one root event and fires for IAM users' sign-ins) beside a root
// filter that a slip breaks (it misses every root event), the finding
// names the broken root filter and the slip, not the console-login one.
func TestClosestFilterIsNearestInMeaning(t *testing.T) {
	consoleLogin := evidence.MetricFilter{Name: "console-logins", Pattern: `{ $.eventName = "ConsoleLogin" }`}
	withFilters := func(root string) func(*testing.T) *evidence.Account {
		return monitored(func(m *evidence.Monitoring) {
			m.LogGroups[0].Filters = []evidence.MetricFilter{consoleLogin, {Name: "root-usage", Pattern: root}}
		})
	}
	f := finding.StatusFail
	cases := []ruleCase{
		{"root mis-cased", withFilters(`{ $.userIdentity.type = "root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`), nil, f,
			`the closest, root-usage, would be if "root" were "Root" (values and field names are compared with their case). As written it misses: root console sign-in (success); root console sign-in (failure); root API call with access keys.`,
			map[string]any{"closest_filter": "root-usage", "missing_link": linkMetricFilter}},
		{"unquoted and a field name mis-cased", withFilters(`{ $.userIdentity.Type = ROOT && $.userIdentity.invokedBy NOT EXISTS }`), nil, f,
			`would be if "Type" were "type" and "ROOT" were "Root"`, map[string]any{"closest_filter": "root-usage"}},
		{"!= for =", withFilters(`{ $.userIdentity.type != "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`), nil, f,
			"would be if its != in `…$.userIdentity.type != \"Root\" && $.userIdentity.invokedBy…` were =", map[string]any{"closest_filter": "root-usage"}},
		{"|| for &&", withFilters(`{ $.userIdentity.type = "Root" || $.userIdentity.invokedBy NOT EXISTS }`), nil, f,
			`its || in`, map[string]any{"closest_filter": "root-usage"}},
		{"= for != on eventType", withFilters(`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType = "AwsServiceEvent" }`), nil, f,
			"its = in `…EXISTS && $.eventType = \"AwsServiceEvent\" }` were !=", map[string]any{"closest_filter": "root-usage"}},
		// No slip makes either a root filter (&& is not widened to ||, an
		// operator on another field is not flipped): a filter about root
		// beats one that fires for everyone's sign-ins, though it misses more.
		{"root sign-ins only beats everyone's sign-ins", withFilters(`{ $.userIdentity.type = "Root" && $.eventName = "GetCallerIdentity" }`), nil, f,
			"the closest, root-usage, misses: root console sign-in (success); root console sign-in (failure); root API call with access keys.", nil},
		{"only the console-login filter", monitored(func(m *evidence.Monitoring) { m.LogGroups[0].Filters = []evidence.MetricFilter{consoleLogin} }), nil, f,
			"the closest, console-logins, misses: root API call with access keys.", nil},
	}
	runCases(t, rootUsageNoAlarm(), cases)
}

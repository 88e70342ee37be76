package awsfake

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// DefaultRegions are the enabled regions of an account whose world names none.
var defaultRegions = []string{"eu-west-1", "us-east-1", "us-west-2"}

// MonitoringSpec is what the account's monitoring calls answer: trails,
// metric filters, alarms, SNS topics, EventBridge rules, GuardDuty.
type MonitoringSpec struct {
	// Regions are the enabled regions (ListRegions); default eu-west-1,
	// us-east-1, us-west-2.
	Regions []string `yaml:"regions"`
	// Preset adds a complete path from root activity to a person: "alarm"
	// (the CIS chain: a multi-region trail, the CIS metric filter, an
	// alarm, a topic with a confirmed subscriber), "eventbridge" (a root
	// rule with a target in every region), or "both".
	Preset  string       `yaml:"preset"`
	Trails  []TrailSpec  `yaml:"trails"`
	Filters []FilterSpec `yaml:"metric_filters"`
	Alarms  []AlarmSpec  `yaml:"alarms"`
	Topics  []TopicSpec  `yaml:"topics"`
	Rules   []RuleSpec   `yaml:"event_rules"`
	// GuardDuty lists the regions with an enabled detector.
	GuardDuty []string `yaml:"guardduty"`
	// PageSize caps the items per page of every paged monitoring call
	// (default 50), to exercise pagination.
	PageSize int `yaml:"page_size"`
}

// TrailSpec is a CloudTrail trail.
type TrailSpec struct {
	Name         string `yaml:"name"`
	HomeRegion   string `yaml:"home_region"`   // default us-east-1
	SingleRegion bool   `yaml:"single_region"` // default multi-region
	Organization bool   `yaml:"organization"`  // an organization trail (management account only)
	NotLogging   bool   `yaml:"not_logging"`
	// LogGroup is the CloudWatch Logs log group name it delivers to ("": none).
	LogGroup string `yaml:"log_group"`
	// Selectors: all (default), write-only, no-management, none, advanced,
	// advanced-read-only.
	Selectors string `yaml:"selectors"`
}

// FilterSpec is a metric filter of a log group.
type FilterSpec struct {
	LogGroup  string `yaml:"log_group"`
	Region    string `yaml:"region"` // default: the region of the trail delivering to the group, else us-east-1
	Name      string `yaml:"name"`
	Pattern   string `yaml:"pattern"`
	Metric    string `yaml:"metric"`
	Namespace string `yaml:"namespace"`
}

// AlarmSpec is a CloudWatch metric alarm.
type AlarmSpec struct {
	Name            string `yaml:"name"`
	Region          string `yaml:"region"` // default us-east-1
	Metric          string `yaml:"metric"`
	Namespace       string `yaml:"namespace"`
	ActionsDisabled bool   `yaml:"actions_disabled"`
	// Topic names an SNS topic of the alarm's region ("": no action).
	Topic string `yaml:"topic"`
}

// TopicSpec is an SNS topic with its subscriptions.
type TopicSpec struct {
	Name      string `yaml:"name"`
	Region    string `yaml:"region"` // default us-east-1
	Confirmed int    `yaml:"confirmed"`
	Pending   int    `yaml:"pending"`
}

// RuleSpec is an EventBridge rule on the default bus.
type RuleSpec struct {
	Name    string   `yaml:"name"`
	Regions []string `yaml:"regions"` // default every enabled region
	State   string   `yaml:"state"`   // default ENABLED
	Pattern string   `yaml:"pattern"`
	Targets *int     `yaml:"targets"` // default 1
}

const (
	cisPattern  = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`
	rootPattern = `{"detail-type":["AWS API Call via CloudTrail","AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}`
)

// expand applies the preset and defaults; it returns a copy.
func (m MonitoringSpec) expand() MonitoringSpec {
	if len(m.Regions) == 0 {
		m.Regions = defaultRegions
	}
	if m.Preset == "alarm" || m.Preset == "both" {
		m.Trails = append(slices.Clone(m.Trails), TrailSpec{Name: "management-events", LogGroup: "aws-cloudtrail-logs"})
		m.Filters = append(slices.Clone(m.Filters), FilterSpec{LogGroup: "aws-cloudtrail-logs", Name: "root-usage", Pattern: cisPattern, Metric: "RootAccountUsageCount", Namespace: "CISBenchmark"})
		m.Alarms = append(slices.Clone(m.Alarms), AlarmSpec{Name: "root-usage", Metric: "RootAccountUsageCount", Namespace: "CISBenchmark", Topic: "security-alerts"})
		m.Topics = append(slices.Clone(m.Topics), TopicSpec{Name: "security-alerts", Confirmed: 1})
	}
	if m.Preset == "eventbridge" || m.Preset == "both" {
		m.Rules = append(slices.Clone(m.Rules), RuleSpec{Name: "root-activity", State: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", Pattern: rootPattern})
	}
	return m
}

func (m *MonitoringSpec) validate() error {
	if m == nil {
		return nil
	}
	switch m.Preset {
	case "", "alarm", "eventbridge", "both":
	default:
		return fmt.Errorf("monitoring.preset %q (want alarm, eventbridge or both)", m.Preset)
	}
	for _, t := range m.Trails {
		switch t.Selectors {
		case "", "all", "write-only", "no-management", "none", "advanced", "advanced-read-only":
		default:
			return fmt.Errorf("trail %s: selectors %q (want all, write-only, no-management, none, advanced or advanced-read-only)", t.Name, t.Selectors)
		}
	}
	for _, r := range m.Rules {
		switch r.State {
		case "", "ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS":
		default:
			return fmt.Errorf("event rule %s: state %q", r.Name, r.State)
		}
	}
	return nil
}

func (a *Account) monitoring() MonitoringSpec {
	if a.Monitoring == nil {
		return MonitoringSpec{}.expand()
	}
	return a.Monitoring.expand()
}

func trailARN(a *Account, t TrailSpec) string {
	return fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", partition(a), orDefault(t.HomeRegion, "us-east-1"), a.ID, t.Name)
}

// visibleTrail is a trail with the account that owns it.
type visibleTrail struct {
	owner *Account
	spec  TrailSpec
}

// trailsSeenBy lists the account's trails and the organization trails of
// its management account.
func (s *Server) trailsSeenBy(a *Account) []visibleTrail {
	var out []visibleTrail
	for _, t := range a.monitoring().Trails {
		out = append(out, visibleTrail{a, t})
	}
	if a.Organization != nil && a.Organization.ManagementAccount != a.ID {
		if mgmt := s.accounts[a.Organization.ManagementAccount]; mgmt != nil {
			for _, t := range mgmt.spec.monitoring().Trails {
				if t.Organization {
					out = append(out, visibleTrail{mgmt.spec, t})
				}
			}
		}
	}
	return out
}

func (s *Server) serveTrailOps(w http.ResponseWriter, req request) {
	a := req.acct.spec
	var in struct {
		IncludeShadowTrails *bool  `json:"includeShadowTrails"`
		Name                string `json:"Name"`
		TrailName           string `json:"TrailName"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil && len(req.body) > 0 {
		s.writeJSONError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	if req.op == "DescribeTrails" {
		shadow := in.IncludeShadowTrails == nil || *in.IncludeShadowTrails
		list := []map[string]any{}
		for _, vt := range s.trailsSeenBy(a) {
			home := orDefault(vt.spec.HomeRegion, "us-east-1")
			if home != req.region && (!shadow || vt.spec.SingleRegion) {
				continue
			}
			if vt.owner != a && !shadow {
				continue
			}
			t := map[string]any{
				"Name": vt.spec.Name, "TrailARN": trailARN(vt.owner, vt.spec), "HomeRegion": home,
				"IsMultiRegionTrail": !vt.spec.SingleRegion, "IsOrganizationTrail": vt.spec.Organization,
				"S3BucketName": "aws-cloudtrail-logs-" + vt.owner.ID, "IncludeGlobalServiceEvents": true,
				"HasCustomEventSelectors": vt.spec.Selectors != "" && vt.spec.Selectors != "all",
				"HasInsightSelectors":     false, "LogFileValidationEnabled": true,
			}
			if vt.spec.LogGroup != "" {
				t["CloudWatchLogsLogGroupArn"] = fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", partition(vt.owner), home, vt.owner.ID, vt.spec.LogGroup)
				t["CloudWatchLogsRoleArn"] = fmt.Sprintf("arn:%s:iam::%s:role/CloudTrailToCloudWatch", partition(vt.owner), vt.owner.ID)
			}
			list = append(list, t)
		}
		s.writeJSON(w, map[string]any{"trailList": list})
		return
	}
	name := orDefault(in.Name, in.TrailName)
	var found *visibleTrail
	for _, vt := range s.trailsSeenBy(a) {
		if name == trailARN(vt.owner, vt.spec) || (vt.owner == a && name == vt.spec.Name) {
			found = &vt
			break
		}
	}
	if found == nil || orDefault(found.spec.HomeRegion, "us-east-1") != req.region {
		s.writeJSONError(w, http.StatusBadRequest, "TrailNotFoundException", fmt.Sprintf("Unknown trail: %s for the user: %s", name, a.ID))
		return
	}
	t := found.spec
	switch req.op {
	case "GetTrailStatus":
		s.writeJSON(w, map[string]any{"IsLogging": !t.NotLogging, "LatestDeliveryTime": float64(s.now().Add(-5 * 60e9).Unix())})
	case "GetEventSelectors":
		out := map[string]any{"TrailARN": trailARN(found.owner, t)}
		switch t.Selectors {
		case "", "all":
			out["EventSelectors"] = []any{map[string]any{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": []any{}, "ExcludeManagementEventSources": []any{}}}
		case "write-only":
			out["EventSelectors"] = []any{map[string]any{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true, "DataResources": []any{}}}
		case "no-management":
			out["EventSelectors"] = []any{map[string]any{"ReadWriteType": "All", "IncludeManagementEvents": false, "DataResources": []any{}}}
		case "none":
			out["EventSelectors"] = []any{}
		case "advanced", "advanced-read-only":
			fields := []any{map[string]any{"Field": "eventCategory", "Equals": []string{"Management"}}}
			if t.Selectors == "advanced-read-only" {
				fields = append(fields, map[string]any{"Field": "readOnly", "Equals": []string{"true"}})
			}
			out["AdvancedEventSelectors"] = []any{map[string]any{"Name": "Management events", "FieldSelectors": fields}}
		}
		s.writeJSON(w, out)
	}
}

// logGroupRegion is where a log group lives: the region of the trail that
// delivers to it, else the filter's own.
func logGroupRegion(m MonitoringSpec, f FilterSpec) string {
	if f.Region != "" {
		return f.Region
	}
	for _, t := range m.Trails {
		if t.LogGroup == f.LogGroup {
			return orDefault(t.HomeRegion, "us-east-1")
		}
	}
	return "us-east-1"
}

// page serves items[token:token+size] and the next token.
func page[T any](items []T, token string, size int) ([]T, string, error) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(token, "page-"))
		if err != nil || n < 0 || n > len(items) {
			return nil, "", fmt.Errorf("invalid token %q", token)
		}
		start = n
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = fmt.Sprintf("page-%d", end)
	}
	return items[start:end], next, nil
}

func (m MonitoringSpec) pageSize() int {
	if m.PageSize > 0 {
		return m.PageSize
	}
	return 50
}

// serveLogs answers DescribeMetricFilters as CloudWatch Logs does: the
// filters of one log group, or without logGroupName every filter of the
// region; filterNamePrefix counts only with a log group, metricName and
// metricNamespace only together; ASCII-sorted by filter name, at most
// limit (1 to 50, default 50) a page.
func (s *Server) serveLogs(w http.ResponseWriter, req request) {
	if req.op != "DescribeMetricFilters" {
		s.writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation "+req.op)
		return
	}
	var in struct {
		LogGroupName     string `json:"logGroupName"`
		FilterNamePrefix string `json:"filterNamePrefix"`
		MetricName       string `json:"metricName"`
		MetricNamespace  string `json:"metricNamespace"`
		Limit            *int   `json:"limit"`
		NextToken        string `json:"nextToken"`
	}
	_ = json.Unmarshal(req.body, &in)
	switch {
	case (in.MetricName == "") != (in.MetricNamespace == ""):
		s.writeJSONError(w, http.StatusBadRequest, "InvalidParameterException", "metricName and metricNamespace must be given together")
		return
	case in.Limit != nil && (*in.Limit < 1 || *in.Limit > 50):
		s.writeJSONError(w, http.StatusBadRequest, "InvalidParameterException", fmt.Sprintf("limit %d is not between 1 and 50", *in.Limit))
		return
	}
	m := req.acct.spec.monitoring()
	var specs []FilterSpec
	for _, f := range m.Filters {
		switch {
		case logGroupRegion(m, f) != req.region,
			in.LogGroupName != "" && f.LogGroup != in.LogGroupName,
			in.LogGroupName != "" && !strings.HasPrefix(f.Name, in.FilterNamePrefix),
			in.MetricName != "" && (f.Metric != in.MetricName || f.Namespace != in.MetricNamespace):
			continue
		}
		specs = append(specs, f)
	}
	slices.SortStableFunc(specs, func(a, b FilterSpec) int { return strings.Compare(a.Name, b.Name) })
	filters := make([]map[string]any, 0, len(specs))
	for _, f := range specs {
		filters = append(filters, map[string]any{
			"filterName": f.Name, "filterPattern": f.Pattern, "logGroupName": f.LogGroup, "creationTime": s.now().UnixMilli(),
			"metricTransformations": []any{map[string]any{"metricName": f.Metric, "metricNamespace": f.Namespace, "metricValue": "1"}},
		})
	}
	size := m.pageSize()
	if in.Limit != nil {
		size = min(size, *in.Limit)
	}
	items, next, err := page(filters, in.NextToken, size)
	if err != nil {
		s.writeJSONError(w, http.StatusBadRequest, "InvalidParameterException", err.Error())
		return
	}
	out := map[string]any{"metricFilters": orEmpty(items)}
	if next != "" {
		out["nextToken"] = next
	}
	s.writeJSON(w, out)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) serveAlarms(w http.ResponseWriter, req request) {
	if req.op != "DescribeAlarms" {
		s.writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation "+req.op)
		return
	}
	var in struct {
		NextToken string `json:"NextToken"`
	}
	_ = json.Unmarshal(req.body, &in)
	a := req.acct.spec
	m := a.monitoring()
	var alarms []map[string]any
	for _, al := range m.Alarms {
		region := orDefault(al.Region, "us-east-1")
		if region != req.region {
			continue
		}
		actions := []string{}
		if al.Topic != "" {
			actions = append(actions, fmt.Sprintf("arn:%s:sns:%s:%s:%s", partition(a), region, a.ID, al.Topic))
		}
		alarms = append(alarms, map[string]any{
			"AlarmName": al.Name, "AlarmArn": fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", partition(a), region, a.ID, al.Name),
			"ActionsEnabled": !al.ActionsDisabled, "AlarmActions": actions, "OKActions": []string{}, "InsufficientDataActions": []string{},
			"MetricName": al.Metric, "Namespace": al.Namespace, "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1,
			"Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "StateValue": "OK", "Dimensions": []any{},
		})
	}
	items, next, err := page(alarms, in.NextToken, m.pageSize())
	if err != nil {
		s.writeJSONError(w, http.StatusBadRequest, "InvalidNextToken", err.Error())
		return
	}
	out := map[string]any{"MetricAlarms": orEmpty(items), "CompositeAlarms": []any{}}
	if next != "" {
		out["NextToken"] = next
	}
	s.writeJSON10(w, out)
}

func (s *Server) writeJSON10(w http.ResponseWriter, v any) {
	s.writeBody(w, "application/x-amz-json-1.0", v)
}

// writeBody writes a JSON body with its Content-Length, as AWS does (not
// chunked).
func (s *Server) writeBody(w http.ResponseWriter, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-RequestId", s.requestID())
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

const snsNS = "http://sns.amazonaws.com/doc/2010-03-31/"

func (s *Server) serveSNS(w http.ResponseWriter, req request) {
	if req.op != "ListSubscriptionsByTopic" {
		s.writeQueryError(w, snsNS, http.StatusBadRequest, "InvalidAction", "The action "+req.op+" is not valid for this endpoint.")
		return
	}
	a := req.acct.spec
	m := a.monitoring()
	arn := req.form.Get("TopicArn")
	var topic *TopicSpec
	for i, t := range m.Topics {
		if arn == fmt.Sprintf("arn:%s:sns:%s:%s:%s", partition(a), orDefault(t.Region, "us-east-1"), a.ID, t.Name) && orDefault(t.Region, "us-east-1") == req.region {
			topic = &m.Topics[i]
		}
	}
	if topic == nil {
		s.writeQueryError(w, snsNS, http.StatusNotFound, "NotFound", "Topic does not exist")
		return
	}
	type sub struct {
		TopicArn        string `xml:"TopicArn"`
		Protocol        string `xml:"Protocol"`
		SubscriptionArn string `xml:"SubscriptionArn"`
		Owner           string `xml:"Owner"`
		Endpoint        string `xml:"Endpoint"`
	}
	var subs []sub
	for i := range topic.Confirmed {
		subs = append(subs, sub{arn, "email", fmt.Sprintf("%s:0000%04d-0000-4000-8000-000000000000", arn, i), a.ID, fmt.Sprintf("oncall-%d@example.com", i)})
	}
	for i := range topic.Pending {
		subs = append(subs, sub{arn, "email", "PendingConfirmation", a.ID, fmt.Sprintf("pending-%d@example.com", i)})
	}
	items, next, err := page(subs, req.form.Get("NextToken"), m.pageSize())
	if err != nil {
		s.writeQueryError(w, snsNS, http.StatusBadRequest, "InvalidParameter", err.Error())
		return
	}
	result := &struct {
		XMLName       xml.Name
		Subscriptions []sub  `xml:"Subscriptions>member"`
		NextToken     string `xml:"NextToken,omitempty"`
	}{Subscriptions: items, NextToken: next}
	s.writeQueryResult(w, snsNS, req.op, result)
}

func (s *Server) serveEvents(w http.ResponseWriter, req request) {
	var in struct {
		Rule      string `json:"Rule"`
		NextToken string `json:"NextToken"`
	}
	_ = json.Unmarshal(req.body, &in)
	a := req.acct.spec
	m := a.monitoring()
	var rules []RuleSpec
	for _, r := range m.Rules {
		if len(r.Regions) == 0 && slices.Contains(m.Regions, req.region) || slices.Contains(r.Regions, req.region) {
			rules = append(rules, r)
		}
	}
	ruleARN := func(r RuleSpec) string {
		return fmt.Sprintf("arn:%s:events:%s:%s:rule/%s", partition(a), req.region, a.ID, r.Name)
	}
	switch req.op {
	case "ListRules":
		var out []map[string]any
		for _, r := range rules {
			out = append(out, map[string]any{"Name": r.Name, "Arn": ruleARN(r), "EventPattern": r.Pattern, "State": orDefault(r.State, "ENABLED"), "EventBusName": "default"})
		}
		items, next, err := page(out, in.NextToken, m.pageSize())
		if err != nil {
			s.writeJSONError(w, http.StatusBadRequest, "ValidationException", err.Error())
			return
		}
		resp := map[string]any{"Rules": orEmpty(items)}
		if next != "" {
			resp["NextToken"] = next
		}
		s.writeJSON(w, resp)
	case "ListTargetsByRule":
		for _, r := range rules {
			if r.Name != in.Rule {
				continue
			}
			n := 1
			if r.Targets != nil {
				n = *r.Targets
			}
			var targets []map[string]any
			for i := range n {
				targets = append(targets, map[string]any{"Id": fmt.Sprintf("target-%d", i), "Arn": fmt.Sprintf("arn:%s:events:us-east-1:%s:event-bus/central", partition(a), a.ID)})
			}
			items, next, err := page(targets, in.NextToken, m.pageSize())
			if err != nil {
				s.writeJSONError(w, http.StatusBadRequest, "ValidationException", err.Error())
				return
			}
			resp := map[string]any{"Targets": orEmpty(items)}
			if next != "" {
				resp["NextToken"] = next
			}
			s.writeJSON(w, resp)
			return
		}
		s.writeJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("Rule %s does not exist on EventBus default.", in.Rule))
	default:
		s.writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation "+req.op)
	}
}

// serveGuardDuty answers GET /detector and GET /detector/{id} (REST-JSON).
func (s *Server) serveGuardDuty(w http.ResponseWriter, req request, path string) {
	a := req.acct.spec
	m := a.monitoring()
	id := "d0" + strings.ReplaceAll(req.region, "-", "") + a.ID
	enabled := slices.Contains(m.GuardDuty, req.region)
	if rest, ok := strings.CutPrefix(path, "/detector/"); ok {
		if !enabled || rest != id {
			s.writeRESTError(w, http.StatusBadRequest, "BadRequestException", "The request is rejected because the input detectorId is not owned by the current account.")
			return
		}
		s.writeRESTJSON(w, map[string]any{"status": "ENABLED", "serviceRole": fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty", partition(a), a.ID),
			"findingPublishingFrequency": "SIX_HOURS", "createdAt": "2025-01-01T00:00:00.000Z", "updatedAt": "2025-01-01T00:00:00.000Z"})
		return
	}
	ids := []string{}
	if enabled {
		ids = append(ids, id)
	}
	s.writeRESTJSON(w, map[string]any{"detectorIds": ids})
}

// serveAccount answers POST /listRegions (REST-JSON).
func (s *Server) serveAccount(w http.ResponseWriter, req request) {
	var in struct {
		NextToken string `json:"NextToken"`
	}
	_ = json.Unmarshal(req.body, &in)
	m := req.acct.spec.monitoring()
	var regions []map[string]any
	for _, r := range m.Regions {
		status := "ENABLED_BY_DEFAULT"
		if strings.HasPrefix(r, "ap-east") || strings.HasPrefix(r, "me-") || strings.HasPrefix(r, "af-") {
			status = "ENABLED"
		}
		regions = append(regions, map[string]any{"RegionName": r, "RegionOptStatus": status})
	}
	items, next, err := page(regions, in.NextToken, m.pageSize())
	if err != nil {
		s.writeRESTError(w, http.StatusBadRequest, "ValidationException", err.Error())
		return
	}
	out := map[string]any{"Regions": orEmpty(items)}
	if next != "" {
		out["NextToken"] = next
	}
	s.writeRESTJSON(w, out)
}

func (s *Server) writeRESTJSON(w http.ResponseWriter, v any) {
	s.writeBody(w, "application/json", v)
}

func (s *Server) writeRESTError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", s.requestID())
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg, "Message": msg})
}

const ec2NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

// serveEC2 answers DescribeRegions (the EC2 Query protocol): the regions
// enabled for the account, or every region with AllRegions.
func (s *Server) serveEC2(w http.ResponseWriter, req request) {
	if req.op != "DescribeRegions" {
		s.writeEC2Error(w, http.StatusBadRequest, "InvalidAction", "The action "+req.op+" is not valid for this web service.")
		return
	}
	type item struct {
		RegionName     string `xml:"regionName"`
		RegionEndpoint string `xml:"regionEndpoint"`
		OptInStatus    string `xml:"optInStatus"`
	}
	var items []item
	for _, r := range req.acct.spec.monitoring().Regions {
		items = append(items, item{r, "ec2." + r + ".amazonaws.com", "opt-in-not-required"})
	}
	body, err := xml.Marshal(struct {
		XMLName   xml.Name `xml:"DescribeRegionsResponse"`
		NS        string   `xml:"xmlns,attr"`
		RequestID string   `xml:"requestId"`
		Regions   []item   `xml:"regionInfo>item"`
	}{NS: ec2NS, RequestID: s.requestID(), Regions: items})
	if err != nil {
		s.writeEC2Error(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	_, _ = w.Write(body)
}

func (s *Server) writeEC2Error(w http.ResponseWriter, status int, code, msg string) {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(msg))
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`, code, b.String(), s.requestID())
}

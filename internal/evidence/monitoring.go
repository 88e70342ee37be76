package evidence

// Monitoring sources: what would tell a person that root was used.
const (
	SourceRegions       = "regions"           // account:ListRegions
	SourceTrails        = "trails"            // DescribeTrails, GetTrailStatus, GetEventSelectors
	SourceMetricFilters = "metric_filters"    // logs:DescribeMetricFilters per trail log group
	SourceAlarms        = "alarms"            // cloudwatch:DescribeAlarms per region
	SourceSubscriptions = "sns_subscriptions" // sns:ListSubscriptionsByTopic per alarm topic
	SourceEventRules    = "eventbridge_rules" // events:ListRules, ListTargetsByRule per region
	SourceGuardDuty     = "guardduty"         // guardduty:ListDetectors, GetDetector per region
)

// MonitoringSources lists the monitoring sources in the order they are read.
func MonitoringSources() []string {
	return []string{SourceRegions, SourceTrails, SourceMetricFilters, SourceAlarms, SourceSubscriptions, SourceEventRules, SourceGuardDuty}
}

// Monitoring is what was read of an account's alerting on root activity.
// Each part that failed says so in its Error, so a rule can tell "none" from
// "could not read".
type Monitoring struct {
	// Regions are the account's enabled regions; nil when unknown.
	Regions []string `json:"regions"`
	// Scanned are the regions whose regional sources were read; NotScanned
	// the enabled regions left out on purpose.
	Scanned    []string `json:"scanned_regions"`
	NotScanned []string `json:"not_scanned_regions,omitempty"`

	Trails     []Trail           `json:"trails"`
	LogGroups  []LogGroup        `json:"log_groups"`
	Alarms     []AlarmRegion     `json:"alarms"`
	Topics     []Topic           `json:"topics"`
	EventBuses []EventBus        `json:"event_buses"`
	GuardDuty  []GuardDutyRegion `json:"guardduty"`
}

// Trail is one trail that applies to the account (shadow trails included:
// a multi-region or organization trail seen outside its home region or
// account).
type Trail struct {
	Name         string `json:"name"`
	ARN          string `json:"arn"`
	HomeRegion   string `json:"home_region"`
	MultiRegion  bool   `json:"multi_region"`
	Organization bool   `json:"organization"`
	// LogGroupARN is the CloudWatch Logs log group the trail delivers to.
	LogGroupARN string `json:"log_group_arn,omitempty"`
	// IsLogging is nil when the status could not be read (StatusError).
	IsLogging   *bool  `json:"is_logging"`
	StatusError string `json:"status_error,omitempty"`
	// Selectors is nil when they could not be read (SelectorsError).
	Selectors      *EventSelectors `json:"selectors"`
	SelectorsError string          `json:"selectors_error,omitempty"`
}

// EventSelectors are a trail's selectors as AWS returns them: classic or
// advanced.
type EventSelectors struct {
	Classic  []ClassicSelector  `json:"classic"`
	Advanced []AdvancedSelector `json:"advanced"`
}

// ClassicSelector is one EventSelector.
type ClassicSelector struct {
	ReadWriteType                 string   `json:"read_write_type"`
	IncludeManagementEvents       bool     `json:"include_management_events"`
	ExcludeManagementEventSources []string `json:"exclude_management_event_sources,omitempty"`
}

// AdvancedSelector is one AdvancedEventSelector.
type AdvancedSelector struct {
	Name   string          `json:"name,omitempty"`
	Fields []FieldSelector `json:"fields"`
}

// FieldSelector is one condition of an advanced selector.
type FieldSelector struct {
	Field         string   `json:"field"`
	Equals        []string `json:"equals,omitempty"`
	NotEquals     []string `json:"not_equals,omitempty"`
	StartsWith    []string `json:"starts_with,omitempty"`
	NotStartsWith []string `json:"not_starts_with,omitempty"`
	EndsWith      []string `json:"ends_with,omitempty"`
	NotEndsWith   []string `json:"not_ends_with,omitempty"`
}

// LogGroup is a trail's log group with its metric filters.
type LogGroup struct {
	ARN     string         `json:"arn"`
	Region  string         `json:"region"`
	Name    string         `json:"name"`
	Filters []MetricFilter `json:"filters"`
	Error   string         `json:"error,omitempty"`
}

// MetricFilter is one metric filter of a log group.
type MetricFilter struct {
	Name    string   `json:"name"`
	Pattern string   `json:"pattern"`
	Metrics []Metric `json:"metrics"`
}

// Metric names a CloudWatch metric.
type Metric struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// AlarmRegion holds the metric alarms of one region.
type AlarmRegion struct {
	Region string  `json:"region"`
	Alarms []Alarm `json:"alarms"`
	Error  string  `json:"error,omitempty"`
}

// Alarm is one CloudWatch metric alarm.
type Alarm struct {
	Name           string `json:"name"`
	ARN            string `json:"arn,omitempty"`
	ActionsEnabled bool   `json:"actions_enabled"`
	// Metrics are the metric the alarm watches, or each metric of its
	// metric-math query.
	Metrics      []Metric `json:"metrics"`
	AlarmActions []string `json:"alarm_actions"`
}

// Topic is an SNS topic an alarm notifies.
type Topic struct {
	ARN       string `json:"arn"`
	Confirmed int    `json:"confirmed"`
	Pending   int    `json:"pending"`
	// Protocols of the confirmed subscriptions (email, https, sqs…).
	Protocols []string `json:"protocols,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// EventBus holds the rules of one region's default event bus.
type EventBus struct {
	Region string      `json:"region"`
	Rules  []EventRule `json:"rules"`
	Error  string      `json:"error,omitempty"`
}

// EventRule is one EventBridge rule with its targets.
type EventRule struct {
	Name    string   `json:"name"`
	ARN     string   `json:"arn,omitempty"`
	State   string   `json:"state"`
	Pattern string   `json:"pattern,omitempty"`
	Targets []string `json:"targets"`
	// TargetsError says why the targets could not be listed.
	TargetsError string `json:"targets_error,omitempty"`
}

// GuardDutyRegion holds the detectors of one region.
type GuardDutyRegion struct {
	Region    string     `json:"region"`
	Detectors []Detector `json:"detectors"`
	Error     string     `json:"error,omitempty"`
}

// Detector is one GuardDuty detector.
type Detector struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// Rule states of EventBridge.
const (
	RuleEnabled              = "ENABLED"
	RuleDisabled             = "DISABLED"
	RuleEnabledAllManagement = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
)

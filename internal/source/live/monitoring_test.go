package live

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

const monitoredWorld = `
accounts:
  - id: "123456789012"
    access_keys: [AKIATEST000000000001]
    organization: {id: o-abcdefghij, management_account: "123456789012"}
    monitoring:
      regions: [eu-west-1, us-east-1, us-west-2]
      page_size: 1
      trails:
        - {name: org-trail, home_region: eu-west-1, organization: true, log_group: org-trail-logs, selectors: advanced}
      metric_filters:
        - {log_group: org-trail-logs, name: root-usage, pattern: '{ $.userIdentity.type = "Root" }', metric: RootUsage, namespace: CISBenchmark}
        - {log_group: org-trail-logs, name: errors, pattern: 'ERROR', metric: Errors, namespace: App}
      alarms:
        - {name: root-usage, region: eu-west-1, metric: RootUsage, namespace: CISBenchmark, topic: alerts}
        - {name: errors, region: eu-west-1, metric: Errors, namespace: App, topic: app-alerts}
      topics:
        - {name: alerts, region: eu-west-1, confirmed: 2, pending: 1}
        - {name: app-alerts, region: eu-west-1, confirmed: 1}
      event_rules:
        - {name: root-activity, pattern: '{"detail":{"userIdentity":{"type":["Root"]}}}', targets: 2}
      guardduty: [us-east-1]
    faults: FAULTS
`

func monitoringOf(t *testing.T, faults string, opts Options) (*evidence.Account, func(op string) int) {
	t.Helper()
	srv, c := serve(t, strings.Replace(monitoredWorld, "FAULTS", faults, 1), func() time.Time { return clockStart })
	a := &evidence.Account{ID: acct, Partition: "aws"}
	stamp := func(st evidence.SourceStatus) evidence.SourceStatus { return st }
	a.Monitoring = monitoring(context.Background(), *c.Monitoring, opts, a, stamp)
	return a, func(op string) int { return srv.Calls(acct, op) }
}

func TestMonitoringCollection(t *testing.T) {
	a, calls := monitoringOf(t, "[]", Options{})
	m := a.Monitoring
	for _, s := range evidence.MonitoringSources() {
		if st := a.Source(s); st.State != evidence.StateOK {
			t.Errorf("%s: %+v", s, st)
		}
	}
	if !slices.Equal(m.Regions, []string{"eu-west-1", "us-east-1", "us-west-2"}) || !slices.Equal(m.Scanned, m.Regions) {
		t.Errorf("regions %v scanned %v", m.Regions, m.Scanned)
	}
	if len(m.Trails) != 1 || m.Trails[0].IsLogging == nil || !*m.Trails[0].IsLogging || m.Trails[0].Selectors == nil || len(m.Trails[0].Selectors.Advanced) != 1 {
		t.Fatalf("trails %+v", m.Trails)
	}
	if len(m.LogGroups) != 1 || m.LogGroups[0].Region != "eu-west-1" || m.LogGroups[0].Name != "org-trail-logs" || len(m.LogGroups[0].Filters) != 2 {
		t.Fatalf("log groups %+v", m.LogGroups)
	}
	if len(m.Alarms) != 1 || m.Alarms[0].Region != "eu-west-1" || len(m.Alarms[0].Alarms) != 2 {
		t.Fatalf("alarms %+v", m.Alarms)
	}
	// Both alarms watch a filter's metric: both topics are read, every page.
	if len(m.Topics) != 2 || m.Topics[0].Confirmed != 2 || m.Topics[0].Pending != 1 || !slices.Equal(m.Topics[0].Protocols, []string{"email"}) {
		t.Errorf("topics %+v", m.Topics)
	}
	if len(m.EventBuses) != 3 {
		t.Fatalf("buses %+v", m.EventBuses)
	}
	for _, b := range m.EventBuses {
		if len(b.Rules) != 1 || len(b.Rules[0].Targets) != 2 || b.Rules[0].State != "ENABLED" {
			t.Errorf("bus %s: %+v", b.Region, b.Rules)
		}
	}
	if calls("ListRegions") != 3 || calls("ListSubscriptionsByTopic") != 4 || calls("ListTargetsByRule") != 6 {
		t.Errorf("pages: ListRegions %d, ListSubscriptionsByTopic %d, ListTargetsByRule %d; want 3, 4, 6 (one item a page)",
			calls("ListRegions"), calls("ListSubscriptionsByTopic"), calls("ListTargetsByRule"))
	}
	var gd []string
	for _, g := range m.GuardDuty {
		if len(g.Detectors) > 0 && g.Detectors[0].Status == "ENABLED" {
			gd = append(gd, g.Region)
		}
	}
	if !slices.Equal(gd, []string{"us-east-1"}) {
		t.Errorf("guardduty %+v", m.GuardDuty)
	}
}

func TestMonitoringRegionsLimit(t *testing.T) {
	a, calls := monitoringOf(t, "[]", Options{Regions: []string{"us-east-1"}})
	m := a.Monitoring
	if !slices.Equal(m.Scanned, []string{"us-east-1"}) || !slices.Equal(m.NotScanned, []string{"eu-west-1", "us-west-2"}) {
		t.Errorf("scanned %v not scanned %v", m.Scanned, m.NotScanned)
	}
	if len(m.EventBuses) != 1 || calls("ListRules") != 1 {
		t.Errorf("buses %+v, ListRules calls %d", m.EventBuses, calls("ListRules"))
	}
	// The trail's home region is read whatever the limit: its status lives there.
	if m.Trails[0].IsLogging == nil {
		t.Errorf("trail status not read: %+v", m.Trails[0])
	}
}

func TestMonitoringFailuresAreKeptPerPart(t *testing.T) {
	a, _ := monitoringOf(t, `
      - {op: ListRules, region: us-west-2, code: AccessDeniedException, status: 400, message: "not authorized to perform events:ListRules"}
      - {op: ListRegions, code: AccessDeniedException, status: 403, message: "not authorized to perform account:ListRegions"}
      - {op: DescribeRegions, code: UnauthorizedOperation, status: 403, message: "You are not authorized to perform this operation."}
      - {op: GetEventSelectors, code: ThrottlingException, status: 400, message: "Rate exceeded"}
      - {op: ListSubscriptionsByTopic, code: AuthorizationError, status: 403, message: "not authorized"}`, Options{Regions: []string{"us-east-1", "us-west-2"}})
	m := a.Monitoring
	if st := a.Source(evidence.SourceRegions); st.State != evidence.StateDenied || m.Regions != nil || !strings.Contains(st.Detail, "ListRegions") || !strings.Contains(st.Detail, "DescribeRegions") {
		t.Errorf("regions: %+v %v", st, m.Regions)
	}
	// Without the enabled regions, the regions asked for are read.
	if !slices.Equal(m.Scanned, []string{"us-east-1", "us-west-2"}) {
		t.Errorf("scanned %v", m.Scanned)
	}
	if st := a.Source(evidence.SourceTrails); st.State != evidence.StateError || !strings.Contains(st.Detail, "GetEventSelectors org-trail") {
		t.Errorf("trails: %+v", st)
	}
	if m.Trails[0].Selectors != nil || !strings.Contains(m.Trails[0].SelectorsError, "ThrottlingException") || m.Trails[0].IsLogging == nil {
		t.Errorf("trail: %+v", m.Trails[0])
	}
	if st := a.Source(evidence.SourceSubscriptions); st.State != evidence.StateDenied || m.Topics[0].Error == "" {
		t.Errorf("topics: %+v %+v", st, m.Topics)
	}
	if st := a.Source(evidence.SourceEventRules); st.State != evidence.StateDenied || !strings.Contains(st.Detail, "1 of 2 regions not read: ListRules us-west-2") {
		t.Errorf("eventbridge: %+v", st)
	}
	if m.EventBuses[0].Error != "" || len(m.EventBuses[0].Rules) != 1 || m.EventBuses[1].Error == "" {
		t.Errorf("buses: %+v", m.EventBuses)
	}
}

func TestRegionsFromEC2WhenListRegionsIsDenied(t *testing.T) {
	a, _ := monitoringOf(t, `
      - {op: ListRegions, code: AccessDeniedException, status: 403, message: "not authorized to perform account:ListRegions"}`, Options{})
	st := a.Source(evidence.SourceRegions)
	if st.State != evidence.StateOK || !slices.Equal(a.Monitoring.Regions, []string{"eu-west-1", "us-east-1", "us-west-2"}) || !strings.Contains(st.Detail, "from ec2:DescribeRegions") {
		t.Errorf("%+v %v", st, a.Monitoring.Regions)
	}
}

// TestOrganizationTrailErrorsStayOnTheTrail: a member that cannot read the
// status of its management account's organization trail keeps the error on
// that trail, and its trails source stays ok (the owner's evidence judges
// the trail); a failure on its own trail is a source failure.
func TestOrganizationTrailErrorsStayOnTheTrail(t *testing.T) {
	world := func(faultRegion string) string {
		return `
accounts:
  - id: "999999999999"
    access_keys: [AKIATEST000000000009]
    organization: {id: o-abcdefghij, management_account: "999999999999"}
    monitoring: {trails: [{name: org-trail, home_region: us-east-1, organization: true, log_group: org-logs}]}
  - id: "123456789012"
    access_keys: [AKIATEST000000000001]
    organization: {id: o-abcdefghij, management_account: "999999999999"}
    monitoring: {trails: [{name: own-trail, home_region: eu-west-1}]}
    faults:
      - {op: GetTrailStatus, region: ` + faultRegion + `, code: AccessDeniedException, status: 400, message: "not authorized"}
`
	}
	for _, c := range []struct {
		region   string
		ok       bool
		errTrail string
	}{{"us-east-1", true, "org-trail"}, {"eu-west-1", false, "own-trail"}} {
		_, cl := serve(t, world(c.region), func() time.Time { return clockStart })
		a := &evidence.Account{ID: acct, Partition: "aws"}
		a.Monitoring = monitoring(context.Background(), *cl.Monitoring, Options{}, a, func(st evidence.SourceStatus) evidence.SourceStatus { return st })
		st := a.Source(evidence.SourceTrails)
		if (st.State == evidence.StateOK) != c.ok || !strings.Contains(st.Detail, "1 trail of other accounts") {
			t.Errorf("fault in %s: source %+v, want ok=%v", c.region, st, c.ok)
		}
		for _, tr := range a.Monitoring.Trails {
			if (tr.StatusError != "") != (tr.Name == c.errTrail) {
				t.Errorf("fault in %s: trail %s status error %q", c.region, tr.Name, tr.StatusError)
			}
		}
	}
}

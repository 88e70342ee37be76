package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// PagerDuty: alert events through the Events API v2
// (pagerduty=env:VAR or file:PATH, the integration's routing key, which is
// a secret and so is never taken from the command line).
//
// A run's items are alerts of their own, so that PagerDuty tracks each
// finding: a failure triggers the alert rootwatch:FINGERPRINT (a later run
// that still fails adds to it rather than opening another), a finding
// that resolved resolves it (resolutions are items under --notify-on
// change), and an account no longer assessed triggers
// rootwatch:not-assessed:ACCOUNT. Other changes (a finding that turned
// unknown or error, one added or removed without failing) page nobody and
// resolve nothing: an open alert stays open until a verdict ends it.
// PagerDuty takes about 120 events a minute per key: beyond maxItems, the
// rest go in one alert that lists them. A watch alert triggers one alert
// per event, or per account and source address for failed sign-ins, so
// that a burst's later alerts join its first.

// pagerDutyEvents is the Events API v2 endpoint.
const pagerDutyEvents = "https://events.pagerduty.com/v2/enqueue"

func pagerdutyChannel() channel { return pagerdutyAt(pagerDutyEvents) }

// pagerdutyAt sends to endpoint (tests give a loopback one).
func pagerdutyAt(endpoint string) channel {
	host := endpoint
	if u, err := parseURL(endpoint); err == nil {
		host = u.Host
	}
	return channel{kind: "pagerduty", syntax: "env:VAR", refOnly: true,
		check: func(key string) (string, error) {
			if len(key) != 32 || strings.IndexFunc(key, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') }) >= 0 {
				return "", errors.New("want the Events API v2 integration's routing key: 32 letters and digits")
			}
			return host, nil
		},
		notifier: func(t Target, _ Options) Notifier { return &pagerdutyNotifier{endpoint: endpoint, key: t.address} }}
}

// pagerdutyNotifier sends a message's events in order; an attempt that
// fails starts the next from the event that failed.
type pagerdutyNotifier struct {
	endpoint, key string
	sent          int
}

func (n *pagerdutyNotifier) Notify(ctx context.Context, c Content) (bool, error) {
	events, err := pagerdutyEvents(c)
	if err != nil {
		return false, err
	}
	for ; n.sent < len(events); n.sent++ {
		ev := events[n.sent]
		ev.RoutingKey = n.key
		body, err := json.Marshal(ev)
		if err != nil {
			return false, err
		}
		answer, retry, err := post(ctx, n.endpoint, body, nil)
		if err != nil {
			return retry, n.explain(err, answer, n.sent, len(events))
		}
	}
	return false, nil
}

// explain adds what PagerDuty said of a refused event (its message and
// errors, without the key should they quote it) and which event it was.
func (n *pagerdutyNotifier) explain(err error, answer []byte, i, of int) error {
	var said struct {
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	if json.Unmarshal(answer, &said) == nil && said.Message != "" {
		text := strings.ReplaceAll(strings.Join(append([]string{said.Message}, said.Errors...), "; "), n.key, "(the routing key)")
		err = fmt.Errorf("%w: %s", err, clip(oneLine(text), 300))
	}
	if of > 1 {
		err = fmt.Errorf("event %d of %d: %w", i+1, of, err)
	}
	return err
}

type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
	Links       []pdLink   `json:"links,omitempty"`
	Client      string     `json:"client,omitempty"`
	ClientURL   string     `json:"client_url,omitempty"`
}

type pdPayload struct {
	Summary       string `json:"summary"`
	Source        string `json:"source"`
	Severity      string `json:"severity"`
	Timestamp     string `json:"timestamp,omitempty"`
	Component     string `json:"component,omitempty"`
	Group         string `json:"group,omitempty"`
	Class         string `json:"class,omitempty"`
	CustomDetails any    `json:"custom_details,omitempty"`
}

type pdLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// pdSeverity maps a finding's severity onto PagerDuty's four.
func pdSeverity(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "critical"
	case finding.SeverityHigh:
		return "error"
	case finding.SeverityMedium:
		return "warning"
	}
	return "info"
}

func pdTrigger(dedup string, p pdPayload, ruleID string) pdEvent {
	p.Summary = clip(oneLine(p.Summary), 1024)
	ev := pdEvent{EventAction: "trigger", DedupKey: dedup, Payload: &p, Client: "rootwatch", ClientURL: "https://github.com/rootwatch/rootwatch"}
	if ruleID != "" {
		ev.Links = []pdLink{{Href: ruleURL(ruleID), Text: ruleID}}
	}
	return ev
}

func pagerdutyEvents(c Content) ([]pdEvent, error) {
	switch c := c.(type) {
	case Message:
		return pdMessage(c), nil
	case Alert:
		return []pdEvent{pdAlert(c)}, nil
	}
	return nil, cannotSend("pagerduty", c)
}

// pdFinding is what the alert of a finding carries: the change as the
// webhook has it (its message made one line of safe text), and its run.
type pdFinding struct {
	finding.Change
	RunID         int64  `json:"run_id,omitempty"`
	PreviousRunID int64  `json:"previous_run_id,omitempty"`
	NotifyOn      When   `json:"notify_on"`
	Suggested     string `json:"suggested_action,omitempty"`
}

// pdListed is an event the overflow alert lists instead of sending.
type pdListed struct {
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Severity    string `json:"severity,omitempty"`
	Summary     string `json:"summary,omitempty"`
}

func pdMessage(m Message) []pdEvent {
	var runID, prevID int64
	if h := m.Run.History; h != nil {
		runID, prevID = h.RunID, h.PreviousRunID
	}
	asOf := m.Run.AsOf.Format(time.RFC3339)
	var events []pdEvent
	var rest []pdListed
	for _, c := range m.Items {
		d := pdFinding{Change: c, RunID: runID, PreviousRunID: prevID, NotifyOn: m.When}
		d.Message, d.Title = clip(oneLine(c.Message), 1000), clip(oneLine(c.Title), 200)
		ev, ok := pdChange(m, c, d, asOf)
		switch {
		case !ok:
		case len(events) < maxItems:
			events = append(events, ev)
		default:
			l := pdListed{EventAction: ev.EventAction, DedupKey: ev.DedupKey}
			if ev.Payload != nil {
				l.Severity, l.Summary = ev.Payload.Severity, ev.Payload.Summary
			}
			rest = append(rest, l)
		}
	}
	if len(rest) > 0 {
		events = append(events, pdOverflow(m, rest, runID, asOf))
	}
	return events
}

// pdChange is an item's event, or ok false when it pages and resolves
// nothing.
func pdChange(m Message, c finding.Change, d pdFinding, asOf string) (ev pdEvent, ok bool) {
	if info, ok := m.Catalog.Rule(c.RuleID); ok {
		d.Suggested = firstLine(info.Action)
	}
	source := c.Resource
	if source == "" {
		source = "aws-account:" + c.AccountID
	}
	switch {
	case c.Kind == finding.ChangeNotAssessed:
		return pdTrigger("rootwatch:not-assessed:"+c.AccountID, pdPayload{
			Summary: fmt.Sprintf("rootwatch: account %s is no longer assessed (%s → %s): %s", c.AccountID, orNone(c.FromStatus), orNone(c.ToStatus), c.Message),
			Source:  source, Severity: "error", Timestamp: asOf, Component: "account", Group: c.AccountID, Class: finding.ChangeNotAssessed, CustomDetails: d}, ""), true
	case c.Kind == finding.ChangeResolved:
		return pdEvent{EventAction: "resolve", DedupKey: pdDedup(c)}, true
	case c.Kind == finding.ChangeNewFailure || c.Kind == "fail" || c.ToStatus != nil && *c.ToStatus == string(finding.StatusFail):
		return pdTrigger(pdDedup(c), pdPayload{
			Summary: fmt.Sprintf("%s %s — account %s: %s", strings.ToUpper(string(c.Severity)), c.Title, c.AccountID, c.Message),
			Source:  source, Severity: pdSeverity(c.Severity), Timestamp: asOf, Component: "root user", Group: c.AccountID, Class: c.RuleID, CustomDetails: d}, c.RuleID), true
	}
	return pdEvent{}, false
}

// pdDedup is a finding's alert: its fingerprint, the same in every run.
func pdDedup(c finding.Change) string {
	if c.Fingerprint != "" {
		return "rootwatch:" + c.Fingerprint
	}
	return "rootwatch:" + c.RuleID + ":" + c.AccountID + ":" + c.Resource
}

// pdOverflow is one alert for the events beyond maxItems, listing each
// (at most 500, then a count), at the worst severity they trigger.
func pdOverflow(m Message, rest []pdListed, runID int64, asOf string) pdEvent {
	rank := map[string]int{"info": 0, "warning": 1, "error": 2, "critical": 3}
	sev := "info"
	for _, l := range rest {
		if rank[l.Severity] > rank[sev] {
			sev = l.Severity
		}
	}
	details := map[string]any{"not_sent": len(rest), "notify_on": m.When}
	if len(rest) > 500 {
		details["listed"], rest = 500, rest[:500]
	}
	details["events"] = rest
	run := asOf
	if runID != 0 {
		run = "run-" + strconv.FormatInt(runID, 10)
	}
	return pdTrigger("rootwatch:more:"+run, pdPayload{
		Summary: fmt.Sprintf("rootwatch: %d more root-user changes than are sent one by one; see the report or rootwatch diff", details["not_sent"]),
		Source:  "rootwatch", Severity: sev, Timestamp: asOf, Component: "root user", Class: "more", CustomDetails: details}, "")
}

// pdAlert triggers one alert for root activity: per event, or per account
// and source address for failed sign-ins (a burst joins its first alert).
func pdAlert(a Alert) pdEvent {
	e := a.Events[0]
	dedup, sev := "rootwatch:event:"+e.EventID, "critical"
	switch {
	case a.Kind == KindTakeoverChain:
		// Its own alert: the chain's first step was alerted on its own.
		dedup = "rootwatch:takeover-chain:" + e.EventID
	case e.Category == evidence.CategoryConsoleLogin && e.Result == "failure":
		dedup, sev = "rootwatch:failed-sign-ins:"+e.AccountID+":"+e.SourceIP, "error"
	}
	class := cmp.Or(a.RuleID, a.Kind, "root_activity")
	return pdTrigger(dedup, pdPayload{Summary: a.Headline(), Source: "aws-account:" + e.AccountID, Severity: sev, Timestamp: e.EventTime,
		Component: e.EventSource, Group: e.AccountID, Class: class, CustomDetails: pdAlertDetails(a)}, a.RuleID)
}

// pdAlertDetails are shown to people: each event as a line of safe text
// (no control or bidirectional characters), with its id for the trail.
func pdAlertDetails(a Alert) any {
	ids := make([]string, 0, len(a.Events))
	for _, e := range a.Events {
		ids = append(ids, e.EventID)
	}
	return struct {
		AccountName string   `json:"account_name,omitempty"`
		RuleID      string   `json:"rule_id,omitempty"`
		Summary     string   `json:"summary,omitempty"`
		Suggested   string   `json:"suggested_action,omitempty"`
		Events      []string `json:"events"`
		EventIDs    []string `json:"event_ids"`
	}{shown(a.AccountName), a.RuleID, a.Summary, a.Action, a.details(func(s string) string { return s }), ids}
}

package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

const pdKey = "R0UT1NGKEY0123456789abcdefABCDEF"

func pdGetenv(k string) string { return map[string]string{"PD_KEY": pdKey}[k] }

// TestPagerDutyEvents: a failure triggers its finding's alert, a resolved
// finding resolves it, an account no longer assessed triggers its own; a
// watch alert triggers one alert (a burst's per account and address).
func TestPagerDutyEvents(t *testing.T) {
	m := Message{Run: storedRun(), Catalog: catalog(), When: OnChange}
	m.Items, _ = Select(m.Run, OnChange, "")
	events, err := pagerdutyEvents(m)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"events": events})
	golden(t, "pagerduty.json", b)
	if len(events) != 3 || events[0].EventAction != "trigger" || events[0].DedupKey != "rootwatch:fp1" || events[0].Payload.Severity != "critical" ||
		events[1].DedupKey != "rootwatch:not-assessed:222222222222" || events[2].EventAction != "resolve" || events[2].DedupKey != "rootwatch:fp2" || events[2].Payload != nil {
		t.Errorf("events %s", b)
	}
	alert, _ := pagerdutyEvents(testAlert())
	b, _ = json.Marshal(map[string]any{"events": alert})
	golden(t, "pagerduty-alert.json", b)
	if len(alert) != 1 || alert[0].DedupKey != "rootwatch:event:ev-1" || alert[0].Payload.Severity != "critical" || strings.Contains(string(b), "\u202e") {
		t.Errorf("alert %s", b)
	}
	burst := testAlert()
	burst.Events[0].Result = "failure"
	burst.Events = append(burst.Events, burst.Events[0])
	if ev, _ := pagerdutyEvents(burst); ev[0].DedupKey != "rootwatch:failed-sign-ins:111111111111:203.0.113.24" || ev[0].Payload.Severity != "error" {
		t.Errorf("burst %+v", ev[0])
	}
	// Under new, only the new failure; other changes page nobody.
	m.When = OnNew
	m.Items, _ = Select(m.Run, OnNew, "")
	m.Items = append(m.Items, finding.Change{Kind: finding.ChangeChanged, Fingerprint: "fp3", FromStatus: ptr("fail"), ToStatus: ptr("error")})
	if ev, _ := pagerdutyEvents(m); len(ev) != 1 || ev[0].DedupKey != "rootwatch:fp1" {
		t.Errorf("new: %+v", ev)
	}
	for sev, want := range map[finding.Severity]string{"critical": "critical", "high": "error", "medium": "warning", "low": "info", "info": "info"} {
		if got := pdSeverity(sev); got != want {
			t.Errorf("%s maps to %s, want %s", sev, got, want)
		}
	}
}

func ptr(s string) *string { return &s }

// TestPagerDutyBeyondMaxItems: events beyond maxItems go in one alert that
// lists them, at the worst severity they trigger.
func TestPagerDutyBeyondMaxItems(t *testing.T) {
	m := Message{Run: storedRun(), Catalog: catalog(), When: OnNew}
	for i := range maxItems + 5 {
		sev := finding.SeverityLow
		if i == maxItems+3 {
			sev = finding.SeverityHigh
		}
		m.Items = append(m.Items, finding.Change{Kind: finding.ChangeNewFailure, Fingerprint: fmt.Sprint("f", i), AccountID: fmt.Sprint(i), Severity: sev, ToStatus: ptr("fail")})
	}
	events, _ := pagerdutyEvents(m)
	last := events[len(events)-1]
	details, _ := json.Marshal(last.Payload.CustomDetails)
	if len(events) != maxItems+1 || last.DedupKey != "rootwatch:more:run-7" || last.Payload.Severity != "error" ||
		!strings.Contains(last.Payload.Summary, "5 more") || strings.Count(string(details), `"dedup_key"`) != 5 || !strings.Contains(string(details), `"rootwatch:f24"`) {
		t.Errorf("%d events, last %+v %s", len(events), last, details)
	}
}

// TestPagerDutyThroughALoopbackReceiver: each event is POSTed with the
// routing key; a 429 is retried from the event it stopped at; a refusal
// says what PagerDuty said, without the key; the key is never shown.
func TestPagerDutyThroughALoopbackReceiver(t *testing.T) {
	accepted := func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
	}
	srv := &server{script: []func(http.ResponseWriter){accepted, status(429, ""), accepted, accepted}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tg, err := ParseTarget("pagerduty=env:PD_KEY", 3, "", pdGetenv)
	if err != nil || tg.Name != "pagerduty #3 (events.pagerduty.com)" {
		t.Fatalf("%+v %v", tg, err)
	}
	tg.ch = pagerdutyAt(hs.URL + "/v2/enqueue")
	m := Message{Run: storedRun(), Catalog: catalog(), When: OnChange}
	m.Items, _ = Select(m.Run, OnChange, "")
	var waits []time.Duration
	o := Options{Backoff: time.Millisecond, Sleep: func(_ context.Context, d time.Duration) { waits = append(waits, d) }}
	res := Send(context.Background(), []Target{tg}, m, o)[0]
	if res.Err != nil || res.Attempts != 2 || len(srv.bodies) != 4 || fmt.Sprint(waits) != "[1ms]" {
		t.Fatalf("%+v, %d posts, waits %v", res, len(srv.bodies), waits)
	}
	var dedups []string
	for i, b := range srv.bodies {
		var ev pdEvent
		if err := json.Unmarshal(b, &ev); err != nil || ev.RoutingKey != pdKey {
			t.Errorf("post %d: %s (%v)", i, b, err)
		}
		dedups = append(dedups, ev.DedupKey)
	}
	if fmt.Sprint(dedups) != "[rootwatch:fp1 rootwatch:not-assessed:222222222222 rootwatch:not-assessed:222222222222 rootwatch:fp2]" {
		t.Errorf("posted %v: the event after the 429 is sent again, and none before it", dedups)
	}

	refused := &server{script: []func(http.ResponseWriter){func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"status":"invalid event","message":"Event object is invalid","errors":["routing_key `+pdKey+` is not known"]}`)
	}}}
	hs2 := httptest.NewServer(refused)
	defer hs2.Close()
	tg.ch = pagerdutyAt(hs2.URL)
	res = SendAlert(context.Background(), []Target{tg}, testAlert(), o)[0]
	if res.Err == nil || res.Attempts != 1 || res.Err.Error() != "HTTP 400: Event object is invalid; routing_key (the routing key) is not known" {
		t.Errorf("refused: %+v", res)
	}
}

func TestPagerDutyTargets(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"pagerduty=" + pdKey, "give the key as env:VAR or file:PATH"},
		{"pagerduty=env:PD_UNSET", "PD_UNSET is empty"},
		{"pagerduty@payments=env:SHORT", "32 letters and digits"},
	} {
		_, err := ParseTarget(tc.spec, 1, "", func(k string) string { return map[string]string{"SHORT": "abc-def"}[k] })
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), pdKey) || strings.Contains(err.Error(), "abc-def") {
			t.Errorf("%s: %v", tc.spec, err)
		}
	}
	tg, err := ParseTarget("pagerduty@payments=env:PD_KEY", 1, "", pdGetenv)
	if err != nil || tg.Route != "payments" || strings.Contains(tg.Name, pdKey) {
		t.Errorf("%+v %v", tg, err)
	}
}

// TestPagerDutyTakeoverChainIsItsOwnAlert: the chain alert names its first
// step's event, but must not join (and so hide in) that step's own alert.
func TestPagerDutyTakeoverChainIsItsOwnAlert(t *testing.T) {
	e := evidence.Event{EventID: "ev-1", AccountID: "111111111111", EventSource: "sts.amazonaws.com", EventName: "AssumeRoot", Category: evidence.CategoryAssumeRoot}
	step := pdAlert(Alert{Events: []evidence.Event{e}})
	chain := pdAlert(Alert{Events: []evidence.Event{e}, Kind: KindTakeoverChain, Title: "a root takeover chain"})
	if step.DedupKey == chain.DedupKey || chain.DedupKey != "rootwatch:takeover-chain:ev-1" || chain.Payload.Class != KindTakeoverChain || step.Payload.Class != "root_activity" {
		t.Errorf("step %q (%s), chain %q (%s)", step.DedupKey, step.Payload.Class, chain.DedupKey, chain.Payload.Class)
	}
}

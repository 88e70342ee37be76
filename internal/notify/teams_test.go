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

func testAlert() Alert {
	e := evidence.Event{EventID: "ev-1", EventTime: "2026-11-30T08:15:02Z", AccountID: "111111111111", Region: "us-east-1", EventSource: "signin.amazonaws.com",
		EventName: "ConsoleLogin", Category: evidence.CategoryConsoleLogin, Result: "success", MFA: "no", SourceIP: "203.0.113.24",
		UserAgent: "Mozilla <script>\u202e\x1b[2J"}
	return Alert{Events: []evidence.Event{e}, AccountName: "payments-prod [click](https://evil.example/)", RuleID: "iam-root-login-without-mfa",
		Summary: "Root signed in without MFA.", Action: "Enable a hardware MFA on the root user."}
}

// TestTeamsPayloads: a run and an alert as Adaptive Cards in Teams' message
// envelope; AWS text only in TextRuns (never Markdown), on one line.
func TestTeamsPayloads(t *testing.T) {
	m := Message{Run: storedRun(), Catalog: catalog(), When: OnChange}
	m.Items, _ = Select(m.Run, OnChange, "")
	msg, err := teamsPayload(m)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "teams.json", msg)
	alert, err := teamsPayload(testAlert())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "teams-alert.json", alert)
	for _, body := range [][]byte{msg, alert} {
		var env struct {
			Type        string
			Attachments []struct {
				ContentType string
				Content     struct {
					Type, Version string
					Body          []json.RawMessage
				}
			}
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Type != "message" || len(env.Attachments) != 1 ||
			env.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" || env.Attachments[0].Content.Type != "AdaptiveCard" {
			t.Errorf("envelope %s (%v)", body, err)
		}
		if strings.Contains(string(body), `"TextBlock"`) || strings.Contains(string(body), "\u202e") || strings.Contains(string(body), `\u001b`) {
			t.Errorf("Markdown or a control character could reach Teams: %s", body)
		}
	}

	// Many long items: the card stays under Teams' 28 KB and counts the rest.
	many := Message{Run: storedRun(), Catalog: catalog(), When: OnNew}
	for i := range 45 {
		many.Items = append(many.Items, finding.Change{Kind: finding.ChangeNewFailure, RuleID: "iam-root-active-password", AccountID: fmt.Sprint(i),
			Severity: "high", Title: strings.Repeat("t", 400), Message: strings.Repeat("m", 2000)})
	}
	long, _ := teamsPayload(many)
	if len(long) > 28<<10 || !strings.Contains(string(long), " more (see the report") {
		t.Errorf("45 long items: %d bytes", len(long))
	}
}

// TestTeamsThroughALoopbackWebhook: the card is POSTed as JSON; a legacy
// webhook's throttling (HTTP 200 with "HTTP error 429" in the answer) and a
// Workflows 429 are retried; the URL, with its signature, is never shown.
func TestTeamsThroughALoopbackWebhook(t *testing.T) {
	srv := &server{script: []func(http.ResponseWriter){
		func(w http.ResponseWriter) {
			io.WriteString(w, "Microsoft Teams endpoint returned HTTP error 429 with ContextId …")
		},
		status(429, "1"),
		status(202, ""),
	}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	url := hs.URL + "/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=S1GNATURE"
	tg, err := ParseTarget("teams=env:TEAMS", 2, "", func(string) string { return url })
	if err != nil || tg.Name != "teams #2 (127.0.0.1)" {
		t.Fatalf("%+v %v", tg, err)
	}
	var waits []time.Duration
	o := Options{Backoff: time.Millisecond, Sleep: func(_ context.Context, d time.Duration) { waits = append(waits, d) }}
	res := SendAlert(context.Background(), []Target{tg}, testAlert(), o)[0]
	if res.Err != nil || res.Attempts != 3 || fmt.Sprint(waits) != "[1ms 1s]" || len(srv.bodies) != 3 {
		t.Errorf("%+v, waits %v, %d posts", res, waits, len(srv.bodies))
	}
	want, _ := teamsPayload(testAlert())
	if string(srv.bodies[2]) != string(want) {
		t.Errorf("posted %s", srv.bodies[2])
	}
	srv = &server{script: []func(http.ResponseWriter){status(400, "")}}
	hs2 := httptest.NewServer(srv)
	defer hs2.Close()
	tg, _ = ParseTarget("teams="+hs2.URL+"/x?sig=S1GNATURE", 1, "", nil)
	res = SendAlert(context.Background(), []Target{tg}, testAlert(), o)[0]
	if res.Err == nil || res.Attempts != 1 || strings.Contains(res.Err.Error()+res.Target, "S1GNATURE") {
		t.Errorf("400: %+v", res)
	}
	for _, bad := range []string{"teams=http://teams.example/x", "teams=not a url"} {
		if _, err := ParseTarget(bad, 1, "", nil); err == nil || strings.Contains(err.Error(), "teams.example") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

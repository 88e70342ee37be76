package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func login(ago time.Duration, result, mfa string) evidence.Event {
	t := asOf.Add(-ago)
	return evidence.Event{EventID: t.Format(time.RFC3339) + result + mfa, EventTime: t.Format(time.RFC3339), Time: t, AccountID: "123456789012",
		EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", Category: evidence.CategoryConsoleLogin,
		Result: result, MFA: mfa, SourceIP: "198.51.100.7", UserAgent: "Mozilla/5.0"}
}

func undated(e evidence.Event) evidence.Event {
	e.Time, e.EventTime, e.TimeProblem = time.Time{}, "REDACTED", "invalid"
	return e
}

func ofCategory(ago time.Duration, cat string) evidence.Event {
	e := login(ago, "success", "")
	e.Category, e.EventSource, e.EventName, e.MFA = cat, "iam.amazonaws.com", "CreateUser", ""
	return e
}

// trail builds an account whose CloudTrail evidence covers the window
// unless from says otherwise.
func trail(from time.Time, problems []string, evs ...evidence.Event) func(*testing.T) *evidence.Account {
	return func(t *testing.T) *evidence.Account {
		a := withRoot(t, map[string]string{"password_last_used": ago(90 * day)})
		a.CloudTrail = &evidence.CloudTrail{Events: evs, From: from, To: asOf, Problems: problems, Description: "test trail", AccountEvents: 100}
		a.SetSource(evidence.SourceCloudTrail, evidence.SourceStatus{State: evidence.StateOK})
		evidence.SortNewestFirst(a.CloudTrail.Events)
		return a
	}
}

var covered = asOf.Add(-90 * day)

func TestCounted(t *testing.T) {
	cases := map[int]string{0: "0 successful root console sign-ins without MFA", 1: "1 successful root console sign-in without MFA", 3: "3 successful root console sign-ins without MFA"}
	for k, want := range cases {
		if got := counted(k, "successful root console sign-ins without MFA"); got != want {
			t.Errorf("counted(%d) = %q", k, got)
		}
	}
	if got := counted(1, "root API calls made by a person"); got != "1 root API call made by a person" {
		t.Errorf("%q", got)
	}
}

// TestCoverageOfTheWindow: a CloudTrail rule passes only when the evidence
// covers the window up to the as-of time, give or take DeliveryAllowance.
func TestCoverageOfTheWindow(t *testing.T) {
	span := func(from, to time.Time, events int) func(*testing.T) *evidence.Account {
		return func(t *testing.T) *evidence.Account {
			a := trail(from, nil)(t)
			a.CloudTrail.To, a.CloudTrail.AccountEvents = to, events
			return a
		}
	}
	start := asOf.Add(-15 * day)
	runCases(t, apiActivity(), []ruleCase{
		{"covers the window", span(start, asOf, 10), nil, finding.StatusPass, "no root API calls made by a person", nil},
		{"starts within the allowance", span(start.Add(50*time.Minute), asOf.Add(-50*time.Minute), 10), nil, finding.StatusPass, "", nil},
		{"starts after the window began", span(start.Add(2*time.Hour), asOf, 10), nil, finding.StatusUnknown, "reaches back only to", nil},
		{"old files", span(time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2022, 12, 31, 0, 0, 0, 0, time.UTC), 10), nil, finding.StatusUnknown,
			"covers 2019-01-01T00:00:00Z to 2022-12-31T00:00:00Z, which ends before the as-of time", map[string]any{"coverage_to": "2022-12-31T00:00:00Z"}},
		{"events, no usable times", span(time.Time{}, time.Time{}, 10), nil, finding.StatusUnknown, "does not show which period it covers", nil},
		{"no events of the account", span(time.Time{}, time.Time{}, 0), nil, finding.StatusUnknown, "holds no events at all", nil},
	})
}

// TestOddEventsNeverPassSilently: a root console sign-in whose result is
// neither Success nor Failure, and a record whose userIdentity.type is not
// written "Root", make the rules that could count them unknown.
func TestOddEventsNeverPassSilently(t *testing.T) {
	noResult := login(day, "", "no")
	unverified := ofCategory(day, evidence.CategoryAPICall)
	unverified.Unverified = true
	unverifiedLogin := login(day, "success", "no")
	unverifiedLogin.Unverified = true
	for _, tc := range []struct {
		ev    evidence.Event
		rules map[string]finding.Status
		want  string
	}{
		{noResult, map[string]finding.Status{"iam-root-console-login": finding.StatusUnknown, "iam-root-login-without-mfa": finding.StatusUnknown,
			"iam-root-failed-logins": finding.StatusUnknown, "iam-root-api-activity": finding.StatusPass}, "neither Success nor Failure"},
		{unverified, map[string]finding.Status{"iam-root-api-activity": finding.StatusUnknown, "iam-root-console-login": finding.StatusUnknown}, `not written "Root"`},
		{unverifiedLogin, map[string]finding.Status{"iam-root-console-login": finding.StatusUnknown, "iam-root-login-without-mfa": finding.StatusUnknown}, `not written "Root"`},
	} {
		for id, want := range tc.rules {
			r, _ := ByID(id)
			res := r.Eval(Input{Account: trail(covered, nil, tc.ev)(t), AsOf: asOf, Settings: defaults})[0]
			if res.Status != want || (want == finding.StatusUnknown && !strings.Contains(res.Message, tc.want)) {
				t.Errorf("%s with %s: %s %s", id, tc.ev.EventID, res.Status, res.Message)
			}
		}
	}
	// The central rule: a clean report and an unclear sign-in is no pass.
	a := trail(covered, nil, noResult)(t)
	res := activePassword().Eval(Input{Account: a, AsOf: asOf, Settings: defaults})[0]
	if res.Status != finding.StatusUnknown || strings.Contains(res.Message, " either.") {
		t.Errorf("active password with an unclear sign-in: %s %s", res.Status, res.Message)
	}
	// "either" is said only when CloudTrail covered the window.
	short := trail(asOf.Add(-2*day), nil)(t)
	if res := activePassword().Eval(Input{Account: short, AsOf: asOf, Settings: defaults})[0]; strings.Contains(res.Message, " either.") {
		t.Errorf("'either' said of CloudTrail that does not cover the window: %s", res.Message)
	}
	if res := activePassword().Eval(Input{Account: trail(covered, nil)(t), AsOf: asOf, Settings: defaults})[0]; !strings.Contains(res.Message, " either.") {
		t.Errorf("'either' not said of covering CloudTrail: %s", res.Message)
	}
}

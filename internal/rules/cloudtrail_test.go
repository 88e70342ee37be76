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

func TestConsoleLoginRule(t *testing.T) {
	runCases(t, consoleLogin(), []ruleCase{
		{"success inside", trail(covered, nil, login(2*day, "success", "yes")), nil, finding.StatusFail, "1 successful root console sign-in within", map[string]any{"matching_events": 1}},
		{"success at the edge", trail(covered, nil, login(15*day, "success", "yes")), nil, finding.StatusFail, "1 successful root console sign-in within", nil},
		{"success outside", trail(covered, nil, login(15*day+time.Second, "success", "yes")), nil, finding.StatusPass, "no successful root console sign-ins", nil},
		{"failures do not count", trail(covered, nil, login(day, "failure", "no")), nil, finding.StatusPass, "", nil},
		{"undated success", trail(covered, nil, undated(login(0, "success", "no"))), nil, finding.StatusUnknown, "missing or invalid", nil},
		{"source problems", trail(covered, []string{"x.json.gz: truncated"}), nil, finding.StatusUnknown, "could not be fully read", nil},
		{"coverage too short", trail(asOf.Add(-3*day), nil), nil, finding.StatusUnknown, "reaches back only to", nil},
		{"unknown coverage but events of the account", trail(time.Time{}, nil), nil, finding.StatusPass, "", nil},
		{"no CloudTrail", root(nil), nil, finding.StatusUnknown, "cloudtrail source is missing", nil},
		{"no events of the account", func(t *testing.T) *evidence.Account {
			a := trail(time.Time{}, nil)(t)
			a.CloudTrail.AccountEvents = 0
			return a
		}, nil, finding.StatusUnknown, "holds no events at all of account 123456789012", nil},
	})
}

func TestLoginWithoutMFARule(t *testing.T) {
	runCases(t, loginWithoutMFA(), []ruleCase{
		{"no MFA", trail(covered, nil, login(day, "success", "no")), nil, finding.StatusFail, "without MFA", nil},
		{"with MFA", trail(covered, nil, login(day, "success", "yes")), nil, finding.StatusPass, "", nil},
		{"MFA not recorded", trail(covered, nil, login(day, "success", "unknown")), nil, finding.StatusUnknown, "whose MFA use is not recorded", nil},
		{"failed without MFA does not count", trail(covered, nil, login(day, "failure", "no")), nil, finding.StatusPass, "", nil},
	})
}

func TestFailedLoginsRule(t *testing.T) {
	fails := func(n, undatedN int) func(*testing.T) *evidence.Account {
		var evs []evidence.Event
		for i := 0; i < n; i++ {
			evs = append(evs, login(time.Duration(i+1)*time.Hour, "failure", "no"))
		}
		for i := 0; i < undatedN; i++ {
			e := undated(login(0, "failure", "no"))
			e.EventID += string(rune('a' + i))
			evs = append(evs, e)
		}
		return trail(covered, nil, evs...)
	}
	five := defaults
	five.Threshold = 5
	runCases(t, failedLogins(), []ruleCase{
		{"three failures", fails(3, 0), nil, finding.StatusFail, "3 failed root console sign-ins", map[string]any{"threshold": 3}},
		{"two failures", fails(2, 0), nil, finding.StatusPass, "below the threshold of 3", nil},
		{"two plus an undated one", fails(2, 1), nil, finding.StatusUnknown, "1 more whose time is missing or invalid", nil},
		{"threshold 5", fails(4, 0), &five, finding.StatusPass, "below the threshold of 5", nil},
		{"threshold 5 reached", fails(5, 0), &five, finding.StatusFail, "5 failed", nil},
	})
}

func TestAPIActivityRule(t *testing.T) {
	runCases(t, apiActivity(), []ruleCase{
		{"a person's call", trail(covered, nil, ofCategory(day, evidence.CategoryAPICall)), nil, finding.StatusFail, "1 root API call made by a person", nil},
		{"a service's call", trail(covered, nil, ofCategory(day, evidence.CategoryService)), nil, finding.StatusPass, "", nil},
		{"an AssumeRoot session", trail(covered, nil, ofCategory(day, evidence.CategoryAssumeRoot)), nil, finding.StatusPass, "", nil},
		{"a sign-in is not an API call", trail(covered, nil, login(day, "success", "no")), nil, finding.StatusPass, "", nil},
	})
}

func TestActivePasswordWithCloudTrail(t *testing.T) {
	r := activePassword()
	in := func(a *evidence.Account) Input { return Input{Account: a, AsOf: asOf, Settings: defaults} }

	// The report says 90 days; CloudTrail shows a sign-in 2 days ago.
	a := trail(covered, nil, login(2*day, "success", "no"))(t)
	res := r.Eval(in(a))[0]
	if res.Status != finding.StatusFail || !strings.Contains(res.Message, "CloudTrail shows 1 successful root console sign-in within") ||
		!strings.Contains(res.Message, "The credential report alone") {
		t.Errorf("%s: %s", res.Status, res.Message)
	}
	if s, ok := res.Evidence["cloudtrail_signins"].([]map[string]any); !ok || len(s) != 1 || s[0]["source_ip"] != "198.51.100.7" || s[0]["mfa"] != "no" {
		t.Errorf("sign-ins not in the evidence: %#v", res.Evidence["cloudtrail_signins"])
	}

	// No root row, but CloudTrail: positive evidence still fails.
	b := trail(covered, nil, login(time.Hour, "success", "yes"))(t)
	b.CredentialReport.Rows[0].ARN = "arn:aws:iam::123456789012:user/x"
	if res := r.Eval(in(b))[0]; res.Status != finding.StatusFail {
		t.Errorf("no usable root row + CloudTrail sign-in: %s %s", res.Status, res.Message)
	}

	// Both say recent: the sign-ins are added to the report's failure.
	c := trail(covered, nil, login(time.Hour, "success", "yes"))(t)
	c.CredentialReport.Rows[0].PasswordLastUsed = evidence.ParseTime(ago(time.Hour))
	if res := r.Eval(in(c))[0]; res.Status != finding.StatusFail || !strings.Contains(res.Message, "0.0 days ago") || !strings.Contains(res.Message, "CloudTrail shows") {
		t.Errorf("both: %s", res.Message)
	}

	// No sign-ins in CloudTrail: the pass says so.
	d := trail(covered, nil)(t)
	if res := r.Eval(in(d))[0]; res.Status != finding.StatusPass || !strings.Contains(res.Message, "no successful root console sign-in within the window either") {
		t.Errorf("quiet: %s", res.Message)
	}
}

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

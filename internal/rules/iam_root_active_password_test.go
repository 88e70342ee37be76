package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestActivePassword(t *testing.T) {
	pw := func(v string) func(*testing.T) *evidence.Account {
		return root(map[string]string{"password_last_used": v})
	}
	window36h := defaults.With(ParamWindow, int64(36*time.Hour))
	runCases(t, activePassword(), []ruleCase{
		{"inside window", pw(ago(3*day + 5*time.Hour)), nil, finding.StatusFail, "3.2 days ago (window 15 days)",
			map[string]any{"age_days": 3.2, "window": "15d", "password_last_used": ago(3*day + 5*time.Hour), "report_line": 2}},
		{"exactly at the window edge", pw(ago(15 * day)), nil, finding.StatusFail, "15.0 days ago", nil},
		{"one second outside", pw(ago(15*day + time.Second)), nil, finding.StatusPass, "outside the window of 15 days", map[string]any{"age_days": 15.0}},
		{"old use", pw(ago(60 * day)), nil, finding.StatusPass, "60.0 days ago", nil},
		{"window in hours", pw(ago(40 * time.Hour)), &window36h, finding.StatusPass, "window of 36 hours", map[string]any{"window": "36h"}},
		{"window in hours, inside", pw(ago(20 * time.Hour)), &window36h, finding.StatusFail, "0.8 days ago", nil},
		{"Z suffix", pw(asOf.Add(-day).Format(time.RFC3339)), nil, finding.StatusFail, "1.0 days ago", nil},
		{"N/A: no password", pw("N/A"), nil, finding.StatusPass, "no password", map[string]any{"password_last_used": "N/A"}},
		{"no_information", pw("no_information"), nil, finding.StatusPass, "no_information", nil},
		{"not_supported", pw("not_supported"), nil, finding.StatusUnknown, "not_supported", nil},
		{"future time", pw(asOf.Add(2 * day).Format(time.RFC3339)), nil, finding.StatusFail, "The root user's password was last used 2026-03-03T00:00:00Z, after the as-of time 2026-03-01T00:00:00Z (password_last_used is in the future); treated as recent.", nil},
		{"invalid", pw("2026-02-30"), nil, finding.StatusUnknown, `invalid value "2026-02-30" (line 2)`, nil},
		{"empty", pw(""), nil, finding.StatusUnknown, "invalid value", nil},
		{"password_enabled false is not trusted alone", root(map[string]string{"password_enabled": "false", "password_last_used": ago(day)}), nil, finding.StatusFail, "1.0 days ago", nil},
		{"no root row", func(t *testing.T) *evidence.Account {
			return account(t, header+"\nbob,arn:aws:iam::123456789012:user/bob,2020-01-01T00:00:00+00:00,true,"+ago(day)+",N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n", asOf)
		}, nil, finding.StatusUnknown, "the credential report has no root row", nil},
		{"inconsistent root row", root(map[string]string{"arn": "arn:aws:iam::123456789012:user/x", "password_last_used": ago(90 * day)}), nil, finding.StatusUnknown, "is not a root ARN", nil},
		{"stale report, no recent use", func(t *testing.T) *evidence.Account {
			return account(t, header+"\n"+rootRowCSV(map[string]string{"password_last_used": ago(90 * day)})+"\n", asOf.Add(-3*day))
		}, nil, finding.StatusUnknown, "older than the maximum report age of 4h", map[string]any{"report_age_days": 3.0}},
		{"stale report, recent use still fails", func(t *testing.T) *evidence.Account {
			return account(t, header+"\n"+rootRowCSV(map[string]string{"password_last_used": ago(4 * day)})+"\n", asOf.Add(-3*day))
		}, nil, finding.StatusFail, "4.0 days ago", nil},
		{"undated report taken at the as-of time passes with a note", func(t *testing.T) *evidence.Account {
			a := account(t, header+"\n"+rootRowCSV(map[string]string{"password_last_used": ago(90 * day)})+"\n", time.Time{})
			a.CredentialReport.TakenAtAsOf = true
			return a
		}, nil, finding.StatusPass, "generation time is unknown", map[string]any{"report_generated_time": "unknown"}},
		{"undated report cannot support a pass", func(t *testing.T) *evidence.Account {
			return account(t, header+"\n"+rootRowCSV(map[string]string{"password_last_used": ago(90 * day)})+"\n", time.Time{})
		}, nil, finding.StatusUnknown, "does not say when it was generated (a bare CSV file), so it cannot show the state as of 2026-03-01T00:00:00Z; give --report-time, --as-of", map[string]any{"report_generated_time": "unknown"}},
		{"undated report still fails on a recent use", func(t *testing.T) *evidence.Account {
			return account(t, header+"\n"+rootRowCSV(map[string]string{"password_last_used": ago(2 * day)})+"\n", time.Time{})
		}, nil, finding.StatusFail, "2.0 days ago", nil},
		{"source denied", func(t *testing.T) *evidence.Account {
			a := &evidence.Account{ID: "123456789012"}
			a.SetSource(evidence.SourceCredentialReport, evidence.SourceStatus{State: evidence.StateDenied, Detail: "AccessDenied on GetCredentialReport"})
			return a
		}, nil, finding.StatusUnknown, "denied (AccessDenied on GetCredentialReport)", nil},
		{"source never collected", func(t *testing.T) *evidence.Account { return &evidence.Account{ID: "123456789012"} }, nil, finding.StatusUnknown, "missing", nil},
		{"source error", func(t *testing.T) *evidence.Account {
			a := &evidence.Account{ID: "123456789012"}
			a.SetSource(evidence.SourceCredentialReport, evidence.SourceStatus{State: evidence.StateError, Detail: "report not ready after 2m"})
			return a
		}, nil, finding.StatusError, "report not ready after 2m", nil},
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

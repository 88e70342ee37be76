package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/window"
)

// trailEvidence returns the account's CloudTrail evidence, or the verdict
// to give without it: no CloudTrail evidence is unknown, never a pass. A
// partial source (read with problems) is evidence: what it shows can fail
// a rule, while coverageProblem keeps it from passing one.
func trailEvidence(in Input, need string) (*evidence.CloudTrail, *Result) {
	if !usableTrail(in.Account) {
		if r := sourceProblem(in.Account, evidence.SourceCloudTrail, need); r != nil {
			return nil, r
		}
	}
	if in.Account.CloudTrail == nil {
		return nil, &Result{Status: finding.StatusError, Message: "Internal inconsistency: the cloudtrail source is ok but holds nothing.", Evidence: map[string]any{}}
	}
	return in.Account.CloudTrail, nil
}

// usableTrail reports whether the account's CloudTrail source holds
// events a rule may count: ok, or partial.
func usableTrail(a *evidence.Account) bool {
	st := a.Source(evidence.SourceCloudTrail).State
	return (st == evidence.StateOK || st == evidence.StatePartial) && a.CloudTrail != nil
}

// windowed splits events of the wanted kind into those inside the window
// (at or after as-of − window, including times after as-of) and those
// whose time is unknown.
func windowed(ct *evidence.CloudTrail, in Input, keep func(*evidence.Event) bool) (inside, undated []evidence.Event) {
	start := in.AsOf.Add(-in.Settings.Window())
	for _, e := range ct.Events {
		if !keep(&e) {
			continue
		}
		switch {
		case !e.HasTime():
			undated = append(undated, e)
		case !e.Time.Before(start):
			inside = append(inside, e)
		}
	}
	return inside, undated
}

// DeliveryAllowance is how far short of the window's edges CloudTrail
// evidence may stop and still cover it. CloudTrail delivers a log file
// about every five minutes per region, typically within 15 minutes of the
// call and without a guarantee, and a quiet account can go a while without
// any record; an hour accepts that, while files that stop days or years
// before the as-of time (or start after the window began) cannot hide
// root activity behind a pass.
const DeliveryAllowance = time.Hour

// coverageProblem says why the evidence cannot support a pass: sources not
// fully read, no known period, or a period that does not cover the window
// up to the as-of time.
func coverageProblem(ct *evidence.CloudTrail, in Input) string {
	var why []string
	switch {
	case ct.From.IsZero() && ct.AccountEvents == 0:
		why = append(why, fmt.Sprintf("the CloudTrail evidence (%s) holds no events at all of account %s, so it says nothing about it", ct.Description, in.Account.ID))
	case ct.From.IsZero() || ct.To.IsZero():
		why = append(why, fmt.Sprintf("the CloudTrail evidence (%s) does not show which period it covers: no event of account %s has a usable time", ct.Description, in.Account.ID))
	}
	switch {
	case len(ct.Problems) > 0:
		why = append(why, fmt.Sprintf("%d CloudTrail sources could not be fully read (%s)", len(ct.Problems), strings.Join(ct.Problems, "; ")))
	case in.Account.Source(evidence.SourceCloudTrail).State == evidence.StatePartial:
		why = append(why, "the CloudTrail source is partial ("+in.Account.Source(evidence.SourceCloudTrail).Detail+")")
	}
	start := in.AsOf.Add(-in.Settings.Window())
	if !ct.From.IsZero() && ct.From.After(start.Add(DeliveryAllowance)) {
		why = append(why, fmt.Sprintf("the CloudTrail evidence reaches back only to %s, not over the whole window (from %s)", fmtTime(ct.From), fmtTime(start)))
	}
	if !ct.To.IsZero() && ct.To.Before(in.AsOf.Add(-DeliveryAllowance)) {
		why = append(why, fmt.Sprintf("the CloudTrail evidence covers %s to %s, which ends before the as-of time %s (allowing %s for CloudTrail's delivery)",
			fmtTime(ct.From), fmtTime(ct.To), fmtTime(in.AsOf), humanWindow(DeliveryAllowance)))
	}
	return strings.Join(why, "; ")
}

func trailBase(ct *evidence.CloudTrail, in Input) map[string]any {
	ev := map[string]any{
		"source":          evidence.SourceCloudTrail,
		"cloudtrail":      ct.Description,
		"window":          window.Window(in.Settings.Window()).String(),
		"root_events":     len(ct.Events),
		"coverage_from":   "unknown",
		"coverage_to":     "unknown",
		"source_problems": len(ct.Problems),
		"account_events":  ct.AccountEvents,
	}
	if !ct.From.IsZero() {
		ev["coverage_from"] = fmtTime(ct.From)
	}
	if !ct.To.IsZero() {
		ev["coverage_to"] = fmtTime(ct.To)
	}
	return ev
}

// eventSummary is the part of an event a finding shows.
func eventSummary(e evidence.Event) map[string]any {
	m := map[string]any{
		"event_time": e.EventTime, "event_name": e.EventName, "event_id": e.EventID,
		"source_ip": e.SourceIP, "user_agent": e.UserAgent, "region": e.Region,
	}
	if e.MFA != "" {
		m["mfa"] = e.MFA
	}
	if e.Result != "" {
		m["result"] = e.Result
	}
	if e.TimeProblem != "" {
		m["time_problem"] = e.TimeProblem
	}
	if e.Note != "" {
		m["note"] = e.Note
	}
	if e.Attribution != "" {
		m["attribution"] = e.Attribution
	}
	// The steps of a root takeover say what they are and who took them.
	switch e.Category {
	case evidence.CategoryAssumeRoot, evidence.CategoryLoginProfile, evidence.CategoryPasswordRecovery, evidence.CategoryEmailChange:
		m["category"] = e.Category
		for k, v := range map[string]string{"caller": e.Caller, "target": e.Target, "task_policy": evidence.TaskName(e.TaskPolicy), "access_key_id": e.AccessKeyID} {
			if v != "" {
				m[k] = v
			}
		}
	}
	// Where the root acted, when not (only) in its own account: the
	// copy's recipient, and every trail that logged the call.
	if owner := e.OnResourceOf(); owner != "" {
		m["on_resource_of"] = owner
		m["recipient_account_id"] = e.Recipient
		if len(e.LoggedIn) > 0 {
			m["logged_in"] = e.LoggedIn
		}
	}
	return m
}

func summaries(evs []evidence.Event, max int) []map[string]any {
	out := []map[string]any{}
	for i, e := range evs {
		if i == max {
			break
		}
		out = append(out, eventSummary(e))
	}
	return out
}

func describeEvent(e evidence.Event) string {
	s := e.EventTime
	if e.SourceIP != "" {
		s += " from " + e.SourceIP
	}
	if e.MFA != "" {
		s += ", MFA " + e.MFA
	}
	if p := e.Place(); p != "" {
		s += ", " + p
	}
	return s
}

// judgeEvents is the shared shape of the CloudTrail rules: fail on events
// inside the window; unknown when undated events could be inside or the
// evidence cannot cover the window; pass otherwise.
func judgeEvents(in Input, need, noun string, threshold int, console bool, keep func(*evidence.Event) bool) []Result {
	n := func(k int) string { return counted(k, noun) }
	ct, stop := trailEvidence(in, need)
	if stop != nil {
		return one(*stop)
	}
	ev := trailBase(ct, in)
	inside, undated := windowed(ct, in, keep)
	ev["matching_events"] = len(inside)
	ev["events"] = summaries(inside, 20)
	if len(undated) > 0 {
		ev["undated_events"] = summaries(undated, 20)
	}
	if threshold > 1 {
		ev["threshold"] = threshold
	}
	if len(inside) >= threshold {
		latest := describeEvent(inside[0])
		return one(Result{Status: finding.StatusFail, Evidence: ev,
			Message: fmt.Sprintf("CloudTrail shows %s within the window of %s; the latest at %s.", n(len(inside)), humanWindow(in.Settings.Window()), latest)})
	}
	if len(inside)+len(undated) >= threshold {
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("CloudTrail shows %s within the window and %d more whose time is missing or invalid, which may fall inside it.", n(len(inside)), len(undated))})
	}
	if p := coverageProblem(ct, in); p != "" {
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("CloudTrail shows %s within the window, but %s.", n(len(inside)), p)})
	}
	if why, odd := unclearEvents(ct, in, console); len(odd) > 0 {
		ev["unclear_events"] = summaries(odd, 20)
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("CloudTrail shows %s within the window, but %s.", n(len(inside)), why)})
	}
	msg := fmt.Sprintf("CloudTrail shows no %s within the window of %s (%s).", noun, humanWindow(in.Settings.Window()), ct.Description)
	if threshold > 1 {
		msg = fmt.Sprintf("CloudTrail shows %s within the window of %s, below the threshold of %d (%s).", n(len(inside)), humanWindow(in.Settings.Window()), threshold, ct.Description)
	}
	return one(Result{Status: finding.StatusPass, Evidence: ev, Message: msg})
}

func isSuccessfulLogin(e *evidence.Event) bool {
	return e.Category == evidence.CategoryConsoleLogin && e.Result == "success" && !e.Unverified
}

// unclearEvents finds events in the window that a rule can neither count
// nor rule out: records whose userIdentity.type is not written as AWS
// writes it, and, for the console rules, root console sign-ins whose
// result is neither Success nor Failure. It says why, or "".
func unclearEvents(ct *evidence.CloudTrail, in Input, console bool) (string, []evidence.Event) {
	var unverified, noResult []evidence.Event
	inside, _ := windowed(ct, in, func(e *evidence.Event) bool { return true })
	for _, e := range inside {
		switch {
		case e.Unverified:
			unverified = append(unverified, e)
		case console && e.Category == evidence.CategoryConsoleLogin && e.Result != "success" && e.Result != "failure":
			noResult = append(noResult, e)
		}
	}
	var why []string
	if len(unverified) > 0 {
		why = append(why, fmt.Sprintf("%s whose userIdentity.type is not written \"Root\" as AWS writes it, so it is not verified either way", evidence.Count(len(unverified), "event")))
	}
	if len(noResult) > 0 {
		why = append(why, fmt.Sprintf("%s whose result (responseElements.ConsoleLogin) is neither Success nor Failure", evidence.Count(len(noResult), "root console sign-in")))
	}
	return strings.Join(why, "; and "), append(unverified, noResult...)
}

// counted writes "1 sign-in", "3 sign-ins", "0 sign-ins" for the noun
// phrases the CloudTrail rules use.
func counted(k int, plural string) string {
	if k != 1 {
		return fmt.Sprintf("%d %s", k, plural)
	}
	for _, w := range []string{"sign-ins", "calls", "events"} {
		if j := strings.Index(plural, w); j >= 0 {
			return "1 " + plural[:j] + strings.TrimSuffix(w, "s") + plural[j+len(w):]
		}
	}
	return "1 " + plural
}

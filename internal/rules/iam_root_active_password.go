package rules

import (
	"fmt"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/window"
)

func activePassword() Rule {
	return Rule{
		ID:       "iam-root-active-password",
		Title:    "Root user has active password",
		Severity: finding.SeverityCritical,
		Category: "identity",
		Sources:  []string{evidence.SourceCredentialReport, evidence.SourceCloudTrail},
		Params:   []Param{windowParam("a root password sign-in")},
		Eval: func(in Input) []Result {
			return one(withSignins(in, withAudit(in, passwordFromReport(in))))
		},
		Alerts: func(e evidence.Event) bool { return e.Category == evidence.CategorySignin },
	}
}

// withAudit lets an AssumeRoot audit settle the question the report could
// not: a root user without a password has no password to use. A recent use
// the report recorded still fails: it happened, even if the password has
// since been deleted.
func withAudit(in Input, r Result) Result {
	rc := auditedRoot(in.Account)
	if rc == nil {
		return r
	}
	if r.Evidence == nil {
		r.Evidence = map[string]any{}
	}
	r.Evidence["root_password"] = rc.Password
	if rc.Password {
		if !rc.PasswordCreated.IsZero() {
			r.Evidence["root_password_created"] = fmtTime(rc.PasswordCreated)
			r.Message += fmt.Sprintf(" The root user has a password, created %s (AssumeRoot audit).", fmtTime(rc.PasswordCreated))
		}
		return r
	}
	if r.Status == finding.StatusFail {
		r.Message += " The password has since been removed (AssumeRoot audit: GetLoginProfile found none)."
		return r
	}
	r.Status = finding.StatusPass
	r.Message = "The root user has no password (AssumeRoot audit: GetLoginProfile found none)." + " (The credential report alone: " + r.Message + ")"
	return r
}

// withSignins joins CloudTrail to the report's verdict: the successful root
// console sign-ins within the window explain a failure, and fail the rule
// even when the report is older, has no root row, or says otherwise.
func withSignins(in Input, r Result) Result {
	if r.Evidence == nil {
		r.Evidence = map[string]any{}
	}
	ct := in.Account.CloudTrail
	if !usableTrail(in.Account) {
		r.Evidence["cloudtrail_signins"] = "no CloudTrail evidence"
		return r
	}
	inside, _ := windowed(ct, in, isSuccessfulLogin)
	r.Evidence["cloudtrail_signins"] = summaries(inside, 10)
	if len(inside) == 0 {
		if r.Status != finding.StatusPass {
			return r
		}
		// "Either" only when CloudTrail could have shown one.
		if why, odd := unclearEvents(ct, in, true); len(odd) > 0 {
			r.Status = finding.StatusUnknown
			r.Evidence["unclear_events"] = summaries(odd, 10)
			r.Message += " But CloudTrail shows " + why + "."
		} else if p := coverageProblem(ct, in); p == "" {
			r.Message += " CloudTrail shows no successful root console sign-in within the window either."
		}
		return r
	}
	seen := fmt.Sprintf("CloudTrail shows %s within the window of %s; the latest at %s.",
		counted(len(inside), "successful root console sign-ins"), humanWindow(in.Settings.Window()), describeEvent(inside[0]))
	if r.Status == finding.StatusFail {
		r.Message += " " + seen
		return r
	}
	r.Message = seen + " (The credential report alone: " + r.Message + ")"
	r.Status = finding.StatusFail
	return r
}

// passwordFromReport judges password_last_used of the root row.
func passwordFromReport(in Input) Result {
	const need = "recent root password use"
	row, stop := rootRow(in, need)
	if stop != nil {
		if r := anyRootRow(in, func(row *evidence.Row, ev map[string]any) string {
			v := judgeLastUsed(row.PasswordLastUsed, evidence.ColPasswordLastUsed, in.AsOf, in.Settings.Window())
			if v.Status != finding.StatusFail {
				return ""
			}
			ev["password_last_used"], ev["window"], ev["age_days"] = row.PasswordLastUsed.Raw, window.Window(in.Settings.Window()).String(), v.Age
			return "The root user's password was " + v.Text
		}); r != nil {
			return *r
		}
		return *stop
	}
	ev := reportEvidence(in, row)
	ev["password_last_used"] = row.PasswordLastUsed.Raw
	ev["password_enabled"] = row.PasswordEnabled.Raw
	ev["window"] = window.Window(in.Settings.Window()).String()

	v := judgeLastUsed(row.PasswordLastUsed, evidence.ColPasswordLastUsed, in.AsOf, in.Settings.Window())
	if v.Age != 0 || row.PasswordLastUsed.Kind == evidence.KindTime {
		ev["age_days"] = v.Age
	}
	switch v.Status {
	case finding.StatusFail:
		return Result{Status: finding.StatusFail, Evidence: ev,
			Message: fmt.Sprintf("The root user's password was %s.", v.Text)}
	case finding.StatusUnknown:
		return Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("Cannot judge root password use: %s (line %d).", v.Text, row.Line)}
	}
	if stale := staleReport(in); stale != "" {
		return Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("No recent root password use in the report, but %s.", stale)}
	}
	var msg string
	switch row.PasswordLastUsed.Kind {
	case evidence.KindNotApplicable:
		msg = "The root user has no password (password_last_used is N/A)."
	case evidence.KindNoInformation:
		msg = "The credential report records no use of the root password (no_information: never used, or not since IAM began tracking on 2014-10-20)."
	default:
		msg = fmt.Sprintf("The root user's password was %s.", v.Text)
	}
	return Result{Status: finding.StatusPass, Evidence: ev, Message: msg + reportTimeNote(in)}
}

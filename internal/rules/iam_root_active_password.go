package rules

import (
	"fmt"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func activePassword() Rule {
	return Rule{
		ID:         "iam-root-active-password",
		Title:      "Root user has active password",
		Severity:   finding.SeverityCritical,
		Category:   "identity",
		Sources:    []string{evidence.SourceCredentialReport},
		UsesWindow: true,
		Eval:       evalActivePassword,
	}
}

func evalActivePassword(in Input) []Result {
	const need = "recent root password use"
	row, stop := rootRow(in, need)
	if stop != nil {
		return one(*stop)
	}
	ev := reportEvidence(in, row)
	ev["password_last_used"] = row.PasswordLastUsed.Raw
	ev["password_enabled"] = row.PasswordEnabled.Raw
	ev["window"] = FormatWindow(in.Settings.Window)

	v := judgeLastUsed(row.PasswordLastUsed, evidence.ColPasswordLastUsed, in.AsOf, in.Settings.Window)
	if v.Age != 0 || row.PasswordLastUsed.Kind == evidence.KindTime {
		ev["age_days"] = v.Age
	}
	switch v.Status {
	case finding.StatusFail:
		return one(Result{Status: finding.StatusFail, Evidence: ev,
			Message: fmt.Sprintf("The root user's password was %s.", v.Text)})
	case finding.StatusUnknown:
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("Cannot judge root password use: %s (line %d).", v.Text, row.Line)})
	}
	if stale := staleReport(in); stale != "" {
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("No recent root password use in the report, but %s.", stale)})
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
	return one(Result{Status: finding.StatusPass, Evidence: ev, Message: msg + reportTimeNote(in)})
}

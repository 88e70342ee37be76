package rules

import (
	"fmt"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/window"
)

// rootRow returns the usable root row of the credential report, or the
// verdict to give when there is none (source failed, no root row, an
// inconsistent root row).
func rootRow(in Input, needFor string) (*evidence.Row, *Result) {
	if r := sourceProblem(in.Account, evidence.SourceCredentialReport, needFor); r != nil {
		return nil, r
	}
	rep := in.Account.CredentialReport
	if rep == nil {
		return nil, &Result{Status: finding.StatusError, Message: "Internal inconsistency: the credential report source is ok but holds no report.", Evidence: map[string]any{}}
	}
	lk := rep.Root()
	if lk.Row == nil {
		return nil, &Result{
			Status:   finding.StatusUnknown,
			Message:  fmt.Sprintf("Cannot judge %s: %s.", needFor, lk.Problem),
			Evidence: reportEvidence(in, nil),
		}
	}
	return lk.Row, nil
}

// rootRows are the report's well-formed root rows (named <root_account>,
// with a root ARN), in file order. A row whose name and ARN disagree is
// left out, as a malformed row is: it may describe someone else, or its
// cells may be shifted into the wrong columns.
func rootRows(rep *evidence.CredentialReport) []*evidence.Row {
	var out []*evidence.Row
	for i := range rep.Rows {
		row := &rep.Rows[i]
		_, _, arnIsRoot := evidence.ParseRootARN(row.ARN)
		if row.Malformed == "" && row.User == evidence.RootUserName && arnIsRoot {
			out = append(out, row)
		}
	}
	return out
}

// badRootRow is a root row that shows a bad state, in a report with no
// single consistent root row (two root rows that disagree, beside them a
// row whose name and ARN disagree): positive evidence in any root row
// fails, while a pass still needs one consistent root row.
type badRootRow struct {
	row     *evidence.Row
	what    string // what the row shows, as a sentence's start
	problem string // why the report has no usable root row
	ev      map[string]any
}

// findBadRootRow looks for one: bad says what a row shows, filling ev with
// the cells it read, or "" when nothing bad. It returns nil when no row
// shows anything bad, or when the report has a usable root row (which the
// rules judge as usual).
func findBadRootRow(in Input, bad func(row *evidence.Row, ev map[string]any) string) *badRootRow {
	rep := in.Account.CredentialReport
	if rep == nil || in.Account.Source(evidence.SourceCredentialReport).State != evidence.StateOK {
		return nil
	}
	lk := rep.Root()
	if lk.Row != nil {
		return nil
	}
	for _, row := range rootRows(rep) {
		ev := reportEvidence(in, row)
		if what := bad(row, ev); what != "" {
			ev["root_row_problem"] = lk.Problem
			return &badRootRow{row: row, what: what, problem: lk.Problem, ev: ev}
		}
	}
	return nil
}

// note says why the row is trusted for a failure.
func (b *badRootRow) note() string {
	return fmt.Sprintf("credential report line %d; the report has no single consistent root row (%s), but a bad state in any root row is evidence, while a pass would need one consistent root row", b.row.Line, b.problem)
}

// anyRootRow is the failure findBadRootRow finds, or nil.
func anyRootRow(in Input, bad func(row *evidence.Row, ev map[string]any) string) *Result {
	b := findBadRootRow(in, bad)
	if b == nil {
		return nil
	}
	return &Result{Status: finding.StatusFail, Evidence: b.ev, Message: fmt.Sprintf("%s (%s).", b.what, b.note())}
}

// reportEvidence is the evidence every credential-report finding carries.
func reportEvidence(in Input, row *evidence.Row) map[string]any {
	rep := in.Account.CredentialReport
	ev := map[string]any{"source": evidence.SourceCredentialReport}
	if rep == nil {
		return ev
	}
	ev["report_source"] = rep.Source
	if rep.GeneratedTime.IsZero() {
		ev["report_generated_time"] = "unknown"
	} else {
		ev["report_generated_time"] = fmtTime(rep.GeneratedTime)
		ev["report_age_days"] = Days(in.AsOf.Sub(rep.GeneratedTime))
	}
	if row != nil {
		ev["report_line"] = row.Line
	}
	return ev
}

// staleReport says why a report is too old to support a pass, or "".
// A report without a known generation time (a bare CSV file) supports a
// pass only when the user said it shows the state at the as-of time
// (TakenAtAsOf); the finding then says so (reportTimeNote). Otherwise it
// may be years old, and cannot support a pass.
func staleReport(in Input) string {
	rep := in.Account.CredentialReport
	if rep != nil && rep.GeneratedTime.IsZero() && !rep.TakenAtAsOf {
		return fmt.Sprintf("the credential report %s does not say when it was generated (a bare CSV file), so it cannot show the state as of %s; "+
			"give --report-time, --as-of for the moment it was taken, or the AWS CLI JSON (aws iam get-credential-report), which carries the time", rep.Source, fmtTime(in.AsOf))
	}
	if rep == nil || rep.GeneratedTime.IsZero() || in.Settings.MaxReportAge <= 0 {
		return ""
	}
	age := in.AsOf.Sub(rep.GeneratedTime)
	if age <= in.Settings.MaxReportAge {
		return ""
	}
	return fmt.Sprintf("the credential report was generated %s (%.1f days before the as-of time), older than the maximum report age of %s, so it cannot show what happened since",
		fmtTime(rep.GeneratedTime), Days(age), window.Window(in.Settings.MaxReportAge).String())
}

// reportTimeNote is appended to passes that rest on a report of unknown age.
func reportTimeNote(in Input) string {
	rep := in.Account.CredentialReport
	if rep != nil && rep.GeneratedTime.IsZero() {
		return " The report's generation time is unknown (a bare CSV file), so it is taken as current at the as-of time."
	}
	return ""
}

// useVerdict is the window judgement of a last-used cell.
type useVerdict struct {
	Status finding.Status
	Recent bool    // a use within the window (or in the future)
	Age    float64 // days; set only for times
	Text   string  // a clause for the message
}

// judgeLastUsed applies docs/DESIGN.md's window semantics to a last-used cell:
// a time within the window (inclusive) fails, an older one passes, a time
// after the as-of time fails as recent; no_information and N/A pass;
// not_supported, invalid and missing cells are unknown.
func judgeLastUsed(v evidence.TimeValue, column string, asOf time.Time, window time.Duration) useVerdict {
	switch v.Kind {
	case evidence.KindTime:
		age := asOf.Sub(v.Time)
		days := Days(age)
		switch {
		case age < 0:
			return useVerdict{Status: finding.StatusFail, Recent: true, Age: days,
				Text: fmt.Sprintf("last used %s, after the as-of time %s (%s is in the future); treated as recent", fmtTime(v.Time), fmtTime(asOf), column)}
		case age <= window:
			return useVerdict{Status: finding.StatusFail, Recent: true, Age: days,
				Text: fmt.Sprintf("last used %s, %.1f days ago (window %s)", fmtTime(v.Time), days, humanWindow(window))}
		default:
			return useVerdict{Status: finding.StatusPass, Age: days,
				Text: fmt.Sprintf("last used %s, %.1f days ago, outside the window of %s", fmtTime(v.Time), days, humanWindow(window))}
		}
	case evidence.KindNoInformation:
		return useVerdict{Status: finding.StatusPass,
			Text: fmt.Sprintf("%s is no_information: no use recorded (never used, or not since IAM began tracking)", column)}
	case evidence.KindNotApplicable:
		return useVerdict{Status: finding.StatusPass, Text: fmt.Sprintf("%s is N/A: no such credential", column)}
	case evidence.KindNotSupported:
		return useVerdict{Status: finding.StatusUnknown, Text: fmt.Sprintf("%s is not_supported, which is not a value this column should hold", column)}
	case evidence.KindMissing:
		return useVerdict{Status: finding.StatusUnknown, Text: fmt.Sprintf("the credential report has no %s column", column)}
	default:
		return useVerdict{Status: finding.StatusUnknown, Text: fmt.Sprintf("%s has an invalid value %q", column, v.Raw)}
	}
}

// boolCell judges a boolean cell that must be true or false.
func boolProblem(v evidence.BoolValue, column string) string {
	switch v.Kind {
	case evidence.KindBool:
		return ""
	case evidence.KindMissing:
		return fmt.Sprintf("the credential report has no %s column", column)
	default:
		return fmt.Sprintf("%s has an invalid value %q", column, v.Raw)
	}
}

// summaryValue reads a key of the account summary when that source is ok.
func summaryValue(a *evidence.Account, key string) (int, bool) {
	if a.Source(evidence.SourceAccountSummary).State != evidence.StateOK || a.AccountSummary == nil {
		return 0, false
	}
	v, ok := a.AccountSummary[key]
	return v, ok
}

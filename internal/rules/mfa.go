package rules

import (
	"fmt"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// mfaFact is what the evidence says about root MFA.
type mfaFact struct {
	enabled bool
	text    string // where the answer came from, for messages
	ev      map[string]any
	stop    *Result // non-nil when the evidence cannot say
}

// rootMFA decides whether the root user has MFA. The live account summary
// (AccountMFAEnabled) wins over the credential report, which can be hours
// old; the report's mfa_active is used when the summary is unavailable.
func rootMFA(in Input, need string) mfaFact {
	summary, haveSummary := summaryValue(in.Account, evidence.SummaryMFAEnabled)
	row, stop := rootRow(in, need)
	ev := map[string]any{}
	if row != nil {
		ev = reportEvidence(in, row)
		ev[evidence.ColMFAActive] = row.MFAActive.Raw
	}
	if haveSummary {
		ev[evidence.SummaryMFAEnabled] = summary
		ev["mfa_source"] = evidence.SourceAccountSummary
		text := fmt.Sprintf("account summary %s = %d", evidence.SummaryMFAEnabled, summary)
		if row != nil && row.MFAActive.Kind == evidence.KindBool && row.MFAActive.Value != (summary == 1) {
			text += fmt.Sprintf("; the credential report, older, says mfa_active=%s", row.MFAActive.Raw)
		}
		return mfaFact{enabled: summary == 1, text: text, ev: ev}
	}
	if row == nil {
		return mfaFact{ev: ev, stop: stop}
	}
	ev["mfa_source"] = evidence.SourceCredentialReport
	if p := boolProblem(row.MFAActive, evidence.ColMFAActive); p != "" {
		return mfaFact{ev: ev, stop: &Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("Cannot judge %s: %s (line %d).", need, p, row.Line)}}
	}
	if row.MFAActive.Value {
		if stale := staleReport(in); stale != "" {
			return mfaFact{ev: ev, stop: &Result{Status: finding.StatusUnknown, Evidence: ev,
				Message: fmt.Sprintf("The report shows root MFA active, but %s.", stale)}}
		}
	}
	return mfaFact{enabled: row.MFAActive.Value, ev: ev,
		text: fmt.Sprintf("credential report mfa_active = %s", row.MFAActive.Raw)}
}

func noMFA() Rule {
	return Rule{
		ID:       "iam-root-no-mfa",
		Title:    "Root user has no MFA",
		Severity: finding.SeverityCritical,
		Category: "identity",
		Sources:  []string{evidence.SourceCredentialReport, evidence.SourceAccountSummary},
		Eval: func(in Input) []Result {
			if r := noCredentialsToProtect(in); r != nil {
				return one(*r)
			}
			m := rootMFA(in, "root MFA")
			if m.stop != nil {
				return one(*m.stop)
			}
			if !m.enabled {
				return one(Result{Status: finding.StatusFail, Evidence: m.ev,
					Message: fmt.Sprintf("The root user has no MFA device (%s).", m.text)})
			}
			return one(Result{Status: finding.StatusPass, Evidence: m.ev,
				Message: fmt.Sprintf("The root user has MFA (%s).", m.text) + reportTimeNoteIf(in, m)})
		},
	}
}

// reportTimeNoteIf adds the unknown-report-time note when the verdict rests on the report.
func reportTimeNoteIf(in Input, m mfaFact) string {
	if m.ev["mfa_source"] == evidence.SourceCredentialReport {
		return reportTimeNote(in)
	}
	return ""
}

func noHardwareMFA() Rule {
	return Rule{
		ID:       "iam-root-no-hardware-mfa",
		Title:    "Root user has no hardware MFA",
		Severity: finding.SeverityHigh,
		Category: "identity",
		Sources:  []string{evidence.SourceCredentialReport, evidence.SourceAccountSummary, evidence.SourceVirtualMFA},
		Eval:     evalNoHardwareMFA,
	}
}

// evalNoHardwareMFA: no MFA at all fails; MFA with a virtual device assigned
// to the root ARN (compared exactly, not by serial name or substring) fails;
// MFA with the device list read and no root virtual device passes (the
// device is hardware); MFA without a device list is unknown.
func evalNoHardwareMFA(in Input) []Result {
	if r := noCredentialsToProtect(in); r != nil {
		return one(*r)
	}
	m := rootMFA(in, "root hardware MFA")
	if m.stop != nil {
		return one(*m.stop)
	}
	ev := m.ev
	if !m.enabled {
		return one(Result{Status: finding.StatusFail, Evidence: ev,
			Message: fmt.Sprintf("The root user has no MFA at all, hardware or virtual (%s).", m.text)})
	}
	if r := sourceProblem(in.Account, evidence.SourceVirtualMFA, "whether the root MFA is hardware or virtual"); r != nil {
		for k, v := range ev {
			r.Evidence[k] = v
		}
		r.Message += " The root user has MFA; only its type is unknown."
		return one(*r)
	}
	root := in.Account.RootARN()
	ev["virtual_mfa_devices_listed"] = len(in.Account.VirtualMFADevices)
	for _, d := range in.Account.VirtualMFADevices {
		if d.UserARN == root {
			ev["virtual_mfa_serial"] = d.SerialNumber
			if !d.EnableDate.IsZero() {
				ev["virtual_mfa_enable_date"] = fmtTime(d.EnableDate)
			}
			return one(Result{Status: finding.StatusFail, Evidence: ev,
				Message: fmt.Sprintf("The root user's MFA is a virtual device (%s), not a hardware key.", d.SerialNumber)})
		}
	}
	return one(Result{Status: finding.StatusPass, Evidence: ev,
		Message: fmt.Sprintf("The root user has MFA and no virtual MFA device is assigned to it, so its MFA is hardware (%s).", m.text)})
}

// noCredentialsToProtect: under centralized root access, a member root user
// whose audit shows no password, keys or certificates cannot sign in and
// cannot recover a password, so MFA is neither possible nor necessary (CIS
// says as much).
func noCredentialsToProtect(in Input) *Result {
	rc := auditedRoot(in.Account)
	if rc == nil || rc.Any() {
		return nil
	}
	return &Result{Status: finding.StatusNotApplicable, Evidence: rootCredsEvidence(rc),
		Message: "Under centralized root access the member root user has no password, access keys or signing certificates (AssumeRoot audit), so root MFA is neither possible nor necessary."}
}

package rules

import (
	"fmt"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func noMFA() Rule {
	return Rule{
		ID:       "iam-root-no-mfa",
		Title:    "Root user has no MFA",
		Severity: finding.SeverityCritical,
		Category: "identity",
		Sources:  []string{evidence.SourceCredentialReport, evidence.SourceAccountSummary, evidence.SourceRootCredentials},
		Eval: func(in Input) []Result {
			if r := noCredentialsToProtect(in); r != nil {
				return one(*r)
			}
			if ds, ok := auditedDevices(in.Account); ok {
				return one(mfaFromAudit(in, ds))
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

// mfaFromAudit judges the devices an AssumeRoot audit listed: the audit
// reads them live in the member, so it decides; the account summary is
// shown beside it when it says otherwise.
func mfaFromAudit(in Input, ds []evidence.RootCredential) Result {
	ev := map[string]any{"source": evidence.SourceRootCredentials, "task_policy": evidence.TaskAuditRootUserCredentials, "mfa_devices": deviceEvidence(ds)}
	note := ""
	if v, ok := summaryValue(in.Account, evidence.SummaryMFAEnabled); ok {
		ev[evidence.SummaryMFAEnabled] = v
		if (v == 1) != (len(ds) > 0) {
			note = fmt.Sprintf(" (The account summary says %s = %d.)", evidence.SummaryMFAEnabled, v)
		}
	}
	if len(ds) == 0 {
		return Result{Status: finding.StatusFail, Evidence: ev, Message: "The root user has no MFA device (AssumeRoot audit: ListMFADevices lists none)." + note}
	}
	return Result{Status: finding.StatusPass, Evidence: ev, Message: fmt.Sprintf(
		"The root user has %s: %s (AssumeRoot audit: ListMFADevices). Any registered factor can sign in, so the weakest of them decides how well root is protected (see iam-root-no-hardware-mfa).",
		evidence.Count(len(ds), "MFA device"), describeDevices(ds)) + note}
}

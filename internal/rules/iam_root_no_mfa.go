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

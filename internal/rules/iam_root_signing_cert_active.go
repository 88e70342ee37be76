package rules

import (
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func signingCertActive() Rule {
	return Rule{
		ID:       "iam-root-signing-cert-active",
		Title:    "Root user has an active signing certificate",
		Severity: finding.SeverityHigh,
		Category: "identity",
		Sources:  []string{evidence.SourceCredentialReport, evidence.SourceAccountSummary},
		Eval: func(in Input) []Result {
			return evalActiveCredential(in, credentialKind{
				noun: "signing certificate", summaryKey: evidence.SummarySigningCertsPresent,
				audited: func(rc *evidence.RootCredentials) []evidence.RootCredential { return rc.Certificates },
				active:  func(r *evidence.Row, i int) evidence.BoolValue { return r.Certs[i].Active },
				col:     func(n int) string { return evidence.CertCol(n, "active") },
				rotCol:  func(n int) string { return evidence.CertCol(n, "last_rotated") },
				rot:     func(r *evidence.Row, i int) evidence.TimeValue { return r.Certs[i].LastRotated },
			})
		},
	}
}

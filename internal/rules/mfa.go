package rules

import (
	"fmt"
	"strings"

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
		// mfa_active=false is a bad state the report asserts (it fails even
		// from an old report), so it fails from any root row.
		if b := findBadRootRow(in, func(row *evidence.Row, ev map[string]any) string {
			if row.MFAActive.Kind != evidence.KindBool || row.MFAActive.Value {
				return ""
			}
			ev[evidence.ColMFAActive], ev["mfa_source"] = row.MFAActive.Raw, evidence.SourceCredentialReport
			return "credential report mfa_active = " + row.MFAActive.Raw
		}); b != nil {
			return mfaFact{ev: b.ev, text: b.what + ", " + b.note()}
		}
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

// reportTimeNoteIf adds the unknown-report-time note when the verdict rests on the report.
func reportTimeNoteIf(in Input, m mfaFact) string {
	if m.ev["mfa_source"] == evidence.SourceCredentialReport {
		return reportTimeNote(in)
	}
	return ""
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

// auditedDevices are the root user's MFA devices as an AssumeRoot audit
// session listed them (ListMFADevices lists every kind: virtual, FIDO and
// hardware TOTP); ok is false without such an audit.
func auditedDevices(a *evidence.Account) (devices []evidence.RootCredential, ok bool) {
	rc := auditedRoot(a)
	if rc == nil {
		return nil, false
	}
	return rc.MFADevices, true
}

// deviceEvidence shows each MFA device with its kind.
func deviceEvidence(ds []evidence.RootCredential) []map[string]any {
	out := []map[string]any{}
	for _, d := range ds {
		m := map[string]any{"id": d.ID, "kind": d.MFAKind()}
		if !d.Created.IsZero() {
			m["created"] = fmtTime(d.Created)
		}
		out = append(out, m)
	}
	return out
}

// describeDevices names devices for a sentence: "a virtual MFA device
// (arn:…:mfa/phone) and a FIDO security key or passkey (arn:…:u2f/…)".
func describeDevices(ds []evidence.RootCredential) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("a %s (%s)", evidence.MFAKindText(d.MFAKind()), d.ID))
	}
	switch len(parts) {
	case 0:
		return "no device"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// anyFactorSignsIn is why one weak device decides, for messages.
const anyFactorSignsIn = "Any registered factor can sign in, so the weakest decides: a virtual device beside a hardware key still fails (AWS Config's root-account-hardware-mfa-enabled is NON_COMPLIANT whenever a virtual device is there, for the same reason)."

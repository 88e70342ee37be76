package rules

import (
	"fmt"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

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

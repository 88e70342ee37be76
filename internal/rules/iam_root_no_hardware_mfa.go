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
		Sources:  []string{evidence.SourceCredentialReport, evidence.SourceAccountSummary, evidence.SourceVirtualMFA, evidence.SourceRootCredentials},
		Eval:     evalNoHardwareMFA,
	}
}

// evalNoHardwareMFA: no MFA at all fails; MFA with a virtual device assigned
// to the root ARN (compared exactly, not by serial name or substring) fails;
// MFA with the device list read and no root virtual device passes (the
// device is hardware); MFA without a device list is unknown. An AssumeRoot
// audit, which lists every device with its kind, decides instead.
func evalNoHardwareMFA(in Input) []Result {
	if r := noCredentialsToProtect(in); r != nil {
		return one(*r)
	}
	if ds, ok := auditedDevices(in.Account); ok {
		return one(hardwareFromAudit(in, ds))
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

// hardwareFromAudit judges the devices an AssumeRoot audit listed, each of
// a known kind: any virtual device fails, however many hardware keys sit
// beside it (and so does a root virtual device ListVirtualMFADevices shows
// that the audit did not); a device of an unrecognised kind cannot be told
// either way.
func hardwareFromAudit(in Input, ds []evidence.RootCredential) Result {
	ev := map[string]any{"source": evidence.SourceRootCredentials, "task_policy": evidence.TaskAuditRootUserCredentials, "mfa_devices": deviceEvidence(ds)}
	var weak, odd, strong []evidence.RootCredential
	listed := map[string]bool{}
	for _, d := range ds {
		listed[d.ID] = true
		switch d.MFAKind() {
		case evidence.MFAVirtual:
			weak = append(weak, d)
		case evidence.MFAUnknown:
			odd = append(odd, d)
		default:
			strong = append(strong, d)
		}
	}
	if in.Account.Source(evidence.SourceVirtualMFA).State == evidence.StateOK {
		for _, d := range in.Account.VirtualMFADevices {
			if d.UserARN == in.Account.RootARN() && !listed[d.SerialNumber] {
				ev["virtual_mfa_serial"] = d.SerialNumber
				weak = append(weak, evidence.RootCredential{ID: d.SerialNumber, Created: d.EnableDate})
			}
		}
	}
	switch {
	case len(weak) > 0:
		msg := fmt.Sprintf("The root user's MFA includes %s", describeDevices(weak))
		if others := append(strong, odd...); len(others) > 0 {
			msg += " beside " + describeDevices(others)
		}
		return Result{Status: finding.StatusFail, Evidence: ev, Message: msg + " (AssumeRoot audit: ListMFADevices). " + anyFactorSignsIn}
	case len(ds) == 0:
		return Result{Status: finding.StatusFail, Evidence: ev,
			Message: "The root user has no MFA device at all, hardware or virtual (AssumeRoot audit: ListMFADevices lists none)."}
	case len(odd) > 0:
		return Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("The root user's MFA includes %s, whose serial number does not tell whether it is hardware or virtual (AssumeRoot audit: ListMFADevices).", describeDevices(odd))}
	}
	return Result{Status: finding.StatusPass, Evidence: ev,
		Message: fmt.Sprintf("Every MFA device of the root user is hardware: %s (AssumeRoot audit: ListMFADevices).", describeDevices(strong))}
}

package rules

import (
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestNoHardwareMFA(t *testing.T) {
	devices := func(mfa string, devs []evidence.VirtualMFADevice, state evidence.SourceState) func(*testing.T) *evidence.Account {
		return func(t *testing.T) *evidence.Account {
			a := withRoot(t, map[string]string{"mfa_active": mfa})
			a.VirtualMFADevices = devs
			a.SetSource(evidence.SourceVirtualMFA, evidence.SourceStatus{State: state, Detail: "ListVirtualMFADevices: " + string(state)})
			return a
		}
	}
	rootARN := "arn:aws:iam::123456789012:root"
	runCases(t, noHardwareMFA(), []ruleCase{
		{"no MFA at all", devices("false", nil, evidence.StateOK), nil, finding.StatusFail, "no MFA at all", nil},
		{"virtual device on root", devices("true", []evidence.VirtualMFADevice{{SerialNumber: "arn:aws:iam::123456789012:mfa/ops-phone", UserARN: rootARN}}, evidence.StateOK),
			nil, finding.StatusFail, "virtual device (arn:aws:iam::123456789012:mfa/ops-phone)", map[string]any{"virtual_mfa_serial": "arn:aws:iam::123456789012:mfa/ops-phone"}},
		{"hardware: only other users' virtual devices", devices("true", []evidence.VirtualMFADevice{
			{SerialNumber: "arn:aws:iam::123456789012:mfa/root-account-mfa-device", UserARN: "arn:aws:iam::123456789012:user/rootkit"},
			{SerialNumber: "arn:aws:iam::123456789012:mfa/unassigned"},
		}, evidence.StateOK), nil, finding.StatusPass, "its MFA is hardware", map[string]any{"virtual_mfa_devices_listed": 2}},
		{"root ARN of another account does not match", devices("true", []evidence.VirtualMFADevice{{SerialNumber: "x", UserARN: "arn:aws:iam::999999999999:root"}}, evidence.StateOK), nil, finding.StatusPass, "hardware", nil},
		{"offline: no device list", root(map[string]string{"mfa_active": "true"}), nil, finding.StatusUnknown, "only its type is unknown", nil},
		{"device list denied", devices("true", nil, evidence.StateDenied), nil, finding.StatusUnknown, "denied", nil},
		{"device list error", devices("true", nil, evidence.StateError), nil, finding.StatusError, "error", nil},
		{"offline, no MFA: still fails", root(map[string]string{"mfa_active": "false"}), nil, finding.StatusFail, "no MFA at all", nil},
	})
}

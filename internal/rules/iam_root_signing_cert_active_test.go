package rules

import (
	"testing"

	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestSigningCertActive(t *testing.T) {
	runCases(t, signingCertActive(), []ruleCase{
		{"cert 1 active", root(map[string]string{"cert_1_active": "true", "cert_1_last_rotated": ago(10 * day)}), nil, finding.StatusFail, "signing certificate 1", map[string]any{"cert_1_active": "true"}},
		{"none", root(nil), nil, finding.StatusPass, "no active signing certificate", nil},
		{"not_supported is not a boolean", root(map[string]string{"cert_2_active": "not_supported"}), nil, finding.StatusUnknown, "cert_2_active", nil},
	})
}

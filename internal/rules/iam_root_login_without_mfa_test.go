package rules

import (
	"testing"

	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestLoginWithoutMFARule(t *testing.T) {
	runCases(t, loginWithoutMFA(), []ruleCase{
		{"no MFA", trail(covered, nil, login(day, "success", "no")), nil, finding.StatusFail, "without MFA", nil},
		{"with MFA", trail(covered, nil, login(day, "success", "yes")), nil, finding.StatusPass, "", nil},
		{"MFA not recorded", trail(covered, nil, login(day, "success", "unknown")), nil, finding.StatusUnknown, "whose MFA use is not recorded", nil},
		{"failed without MFA does not count", trail(covered, nil, login(day, "failure", "no")), nil, finding.StatusPass, "", nil},
	})
}

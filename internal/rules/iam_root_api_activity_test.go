package rules

import (
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestAPIActivityRule(t *testing.T) {
	runCases(t, apiActivity(), []ruleCase{
		{"a person's call", trail(covered, nil, ofCategory(day, evidence.CategoryAPICall)), nil, finding.StatusFail, "1 root API call made by a person", nil},
		{"a service's call", trail(covered, nil, ofCategory(day, evidence.CategoryService)), nil, finding.StatusPass, "", nil},
		{"an AssumeRoot session", trail(covered, nil, ofCategory(day, evidence.CategoryAssumeRoot)), nil, finding.StatusPass, "", nil},
		{"a sign-in is not an API call", trail(covered, nil, login(day, "success", "no")), nil, finding.StatusPass, "", nil},
	})
}

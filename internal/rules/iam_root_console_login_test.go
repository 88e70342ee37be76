package rules

import (
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestConsoleLoginRule(t *testing.T) {
	runCases(t, consoleLogin(), []ruleCase{
		{"success inside", trail(covered, nil, login(2*day, "success", "yes")), nil, finding.StatusFail, "1 successful root console sign-in within", map[string]any{"matching_events": 1}},
		{"success at the edge", trail(covered, nil, login(15*day, "success", "yes")), nil, finding.StatusFail, "1 successful root console sign-in within", nil},
		{"success outside", trail(covered, nil, login(15*day+time.Second, "success", "yes")), nil, finding.StatusPass, "no successful root console sign-ins", nil},
		{"failures do not count", trail(covered, nil, login(day, "failure", "no")), nil, finding.StatusPass, "", nil},
		{"undated success", trail(covered, nil, undated(login(0, "success", "no"))), nil, finding.StatusUnknown, "missing or invalid", nil},
		{"source problems", trail(covered, []string{"x.json.gz: truncated"}), nil, finding.StatusUnknown, "could not be fully read", nil},
		{"coverage too short", trail(asOf.Add(-3*day), nil), nil, finding.StatusUnknown, "reaches back only to", nil},
		{"unknown coverage but events of the account", trail(time.Time{}, nil), nil, finding.StatusUnknown, "does not show which period it covers", nil},
		{"no CloudTrail", root(nil), nil, finding.StatusUnknown, "cloudtrail source is missing", nil},
		{"no events of the account", func(t *testing.T) *evidence.Account {
			a := trail(time.Time{}, nil)(t)
			a.CloudTrail.AccountEvents = 0
			return a
		}, nil, finding.StatusUnknown, "holds no events at all of account 123456789012", nil},
	})
}

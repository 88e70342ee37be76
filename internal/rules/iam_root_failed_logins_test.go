package rules

import (
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func TestFailedLoginsRule(t *testing.T) {
	fails := func(n, undatedN int) func(*testing.T) *evidence.Account {
		var evs []evidence.Event
		for i := 0; i < n; i++ {
			evs = append(evs, login(time.Duration(i+1)*time.Hour, "failure", "no"))
		}
		for i := 0; i < undatedN; i++ {
			e := undated(login(0, "failure", "no"))
			e.EventID += string(rune('a' + i))
			evs = append(evs, e)
		}
		return trail(covered, nil, evs...)
	}
	five := defaults.With(ParamThreshold, 5)
	runCases(t, failedLogins(), []ruleCase{
		{"three failures", fails(3, 0), nil, finding.StatusFail, "3 failed root console sign-ins", map[string]any{"threshold": 3}},
		{"two failures", fails(2, 0), nil, finding.StatusPass, "below the threshold of 3", nil},
		{"two plus an undated one", fails(2, 1), nil, finding.StatusUnknown, "1 more whose time is missing or invalid", nil},
		{"threshold 5", fails(4, 0), &five, finding.StatusPass, "below the threshold of 5", nil},
		{"threshold 5 reached", fails(5, 0), &five, finding.StatusFail, "5 failed", nil},
	})
}

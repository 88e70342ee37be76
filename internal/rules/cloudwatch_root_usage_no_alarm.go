package rules

import (
	"fmt"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func rootUsageNoAlarm() Rule {
	return Rule{
		ID:       "cloudwatch-root-usage-no-alarm",
		Title:    "No CloudWatch alarm on root usage",
		Severity: finding.SeverityMedium,
		Category: "monitoring",
		Sources:  []string{evidence.SourceTrails, evidence.SourceMetricFilters, evidence.SourceAlarms, evidence.SourceSubscriptions},
		Eval:     evalRootUsageNoAlarm,
	}
}

// evalRootUsageNoAlarm follows the CIS chain (trail → log group → metric
// filter → alarm → SNS topic → confirmed subscriber), judging the filter by
// what it matches, and names the first missing link.
func evalRootUsageNoAlarm(in Input) []Result {
	c := alarmChain(in)
	ev := c.ev
	if ev == nil {
		ev = map[string]any{}
	}
	switch {
	case c.status == finding.StatusFail:
		ev["missing_link"] = c.link
	case c.status != finding.StatusPass && c.link != "":
		ev["unread_link"] = c.link
	}
	msg := c.message
	switch c.status {
	case finding.StatusPass:
		msg = "Root activity reaches a person through a CloudWatch alarm: " + msg
		if owner, ok := ev["coverage_account"]; ok {
			msg += fmt.Sprintf(" The chain is held by account %v (organization trail).", owner)
		}
		if exact, _ := ev["cis_exact"].(bool); !exact {
			msg += " The filter is not CIS's exact pattern, which Security Hub CloudWatch.1 demands, though it catches the same root activity."
		}
	case finding.StatusFail:
		msg = "Root activity raises no CloudWatch alarm: " + msg
	}
	return one(Result{Status: c.status, Message: msg, Evidence: ev})
}

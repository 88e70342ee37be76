package rules

import (
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func rootActivityUnalerted() Rule {
	return Rule{
		ID:       "account-root-activity-unalerted",
		Title:    "Root activity raises no alert",
		Severity: finding.SeverityHigh,
		Category: "monitoring",
		Sources: []string{evidence.SourceRegions, evidence.SourceTrails, evidence.SourceMetricFilters, evidence.SourceAlarms,
			evidence.SourceSubscriptions, evidence.SourceEventRules, evidence.SourceGuardDuty},
		Eval: evalRootActivityUnalerted,
	}
}

// evalRootActivityUnalerted passes when some path delivers root activity to
// a receiver: the alarm chain, or EventBridge rules (enabled, with a target)
// matching the root sign-ins in us-east-1 and the root calls in every
// enabled region without matching IAM users.
func evalRootActivityUnalerted(in Input) []Result {
	a := in.Account
	alarm := alarmChain(in)
	ebStatus, pairs, ebWhy := eventBridgeCoverage(a)
	ev := map[string]any{"alarm_chain": string(alarm.status), "eventbridge": string(ebStatus)}
	switch {
	case alarm.status == finding.StatusFail:
		ev["alarm_missing_link"] = alarm.link
	case alarm.status != finding.StatusPass && alarm.link != "":
		ev["alarm_unread_link"] = alarm.link
	}
	if a.Monitoring != nil {
		if note := guardDutyNote(a.Monitoring); note != "" {
			ev["guardduty"] = note
		}
		if len(a.Monitoring.NotScanned) > 0 {
			ev["regions_not_scanned"] = a.Monitoring.NotScanned
		}
	}
	var covered, uncovered, unknown, notes []string
	readOnlyBlind := false
	for _, p := range pairs {
		label := p.event + " in " + p.region
		switch p.status {
		case finding.StatusPass:
			covered = append(covered, label+" (rule "+p.by+")")
			if !p.allEvents && !p.signIn {
				readOnlyBlind = true
			}
		case finding.StatusFail:
			uncovered = append(uncovered, label)
		default:
			unknown = append(unknown, label+": "+p.why)
			continue
		}
		if p.why != "" && p.status != finding.StatusPass {
			notes = append(notes, label+": "+p.why)
		}
	}
	if len(covered) > 0 {
		ev["eventbridge_covered"] = covered
	}
	if len(uncovered) > 0 {
		ev["eventbridge_uncovered"] = uncovered
	}
	if len(unknown) > 0 {
		ev["eventbridge_unknown"] = unknown
	}
	if len(notes) > 0 {
		ev["eventbridge_notes"] = notes
	}
	if readOnlyBlind {
		ev["read_only_note"] = "a covering rule is in state ENABLED, which does not receive read-only management events (Describe, Get, List): root reads go unseen; ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS receives them"
	}
	if owner, ok := alarm.ev["coverage_account"]; ok {
		ev["coverage_account"] = owner
	}
	switch {
	case alarm.status == finding.StatusPass:
		msg := "Root activity reaches a person through a CloudWatch alarm: " + alarm.message
		if owner, ok := alarm.ev["coverage_account"]; ok {
			msg += fmt.Sprintf(" The chain is held by account %v.", owner)
		}
		return one(Result{Status: finding.StatusPass, Message: msg, Evidence: merge(ev, alarm.ev)})
	case ebStatus == finding.StatusPass:
		msg := fmt.Sprintf("EventBridge rules deliver root sign-ins in us-east-1 and root calls in all %s.", evidence.Count(len(a.Monitoring.Regions), "enabled region"))
		if readOnlyBlind {
			msg += " Some covering rules are in state ENABLED and miss read-only root calls."
		}
		return one(Result{Status: finding.StatusPass, Message: msg, Evidence: ev})
	case alarm.status == finding.StatusFail && ebStatus == finding.StatusFail:
		msg := "Root activity raises no alert. CloudWatch: " + alarm.message +
			" EventBridge: no enabled rule with a target catches " + summarize(uncovered) + "."
		return one(Result{Status: finding.StatusFail, Message: msg, Evidence: ev})
	}
	// Neither path passed and at least one could not be judged.
	var why []string
	if alarm.status != finding.StatusFail {
		why = append(why, "the alarm chain: "+strings.TrimSuffix(alarm.message, "."))
	}
	if ebStatus != finding.StatusFail {
		if ebWhy != "" {
			why = append(why, "EventBridge: "+strings.TrimSuffix(ebWhy, "."))
		} else {
			why = append(why, "EventBridge: "+summarize(unknown))
		}
	}
	status := finding.StatusUnknown
	if alarm.status == finding.StatusError {
		status = finding.StatusError
	}
	return one(Result{Status: status, Evidence: ev,
		Message: "Cannot tell whether root activity raises an alert: " + strings.Join(why, "; ") + "."})
}

// summarize lists a few items and counts the rest.
func summarize(items []string) string {
	const show = 4
	if len(items) <= show {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:show], "; ") + fmt.Sprintf("; and %d more", len(items)-show)
}

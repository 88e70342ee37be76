package rules

import (
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func recoveryActivity() Rule {
	return Rule{
		ID: "iam-root-recovery-activity", Title: "Root password or e-mail recovered, created or changed, or a privileged root session opened",
		Severity: finding.SeverityHigh, Category: "activity", Sources: []string{evidence.SourceCloudTrail},
		Params: []Param{windowParam("a step on the root user's recovery path")},
		Eval: func(in Input) []Result {
			res := judgeEvents(in, "the root user's recovery path", "recovery-path events", 1, false, func(e *evidence.Event) bool {
				return recoveryStep(e, in.Account.ID)
			})
			if r := &res[0]; r.Status == finding.StatusFail {
				inside, _ := windowed(in.Account.CloudTrail, in, func(e *evidence.Event) bool { return recoveryStep(e, in.Account.ID) })
				r.Message += " " + recoverySteps(inside)
			}
			return res
		},
		Alerts: func(e evidence.Event) bool {
			switch e.Category {
			case evidence.CategoryLoginProfile, evidence.CategoryPasswordRecovery, evidence.CategoryEmailChange, evidence.CategoryAssumeRoot:
				return true
			}
			return false
		},
	}
}

// recoveryStep reports whether an event is a step on account's root
// recovery path: a root password created (login_profile), recovered or
// changed (password_recovery), the root e-mail changed (email_change), or
// a privileged sts:AssumeRoot session opened on it (every task but the
// read-only audit). The calls made in the management account count for
// the member they name (TargetAccount), not for the management account.
func recoveryStep(e *evidence.Event, account string) bool {
	if e.Unverified || !e.Concerns(account) {
		return false
	}
	if t := e.TargetAccount(); t != "" && t != account {
		return false
	}
	switch e.Category {
	case evidence.CategoryLoginProfile, evidence.CategoryPasswordRecovery, evidence.CategoryEmailChange:
		return true
	case evidence.CategoryAssumeRoot:
		return e.Privileged()
	}
	return false
}

// recoverySteps lists what happened, oldest first, for the message.
func recoverySteps(evs []evidence.Event) string {
	var parts []string
	for i := len(evs) - 1; i >= 0 && len(parts) < 5; i-- {
		parts = append(parts, describeStep(evs[i]))
	}
	s := "In order: " + strings.Join(parts, "; ")
	if len(evs) > 5 {
		s += fmt.Sprintf("; and %d more (see the evidence)", len(evs)-5)
	}
	return s + "."
}

// describeStep says one step for people: what, when, by whom.
func describeStep(e evidence.Event) string {
	what := e.EventName
	switch {
	case e.Category == evidence.CategoryAssumeRoot:
		what = "AssumeRoot " + evidence.TaskName(e.TaskPolicy)
		if e.TaskPolicy == "" {
			what = "AssumeRoot with an unknown task policy"
		}
	case e.Category == evidence.CategoryLoginProfile:
		what = "CreateLoginProfile (a root password created)"
	}
	s := what + " at " + e.EventTime
	if e.Caller != "" {
		s += " by " + e.Caller
	}
	if e.Result == "failure" {
		s += " (failed)"
	}
	return s
}

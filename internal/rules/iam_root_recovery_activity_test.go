package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

const (
	member     = "123456789012"
	management = "999999999999"
	poweruser  = "arn:aws:sts::999999999999:assumed-role/PowerUser/alice"
)

// step is an event of the takeover chain, ago before the as-of time.
func step(ago time.Duration, cat, source, name string, edit func(*evidence.Event)) evidence.Event {
	t := asOf.Add(-ago)
	e := evidence.Event{EventID: name + t.Format(time.RFC3339), EventTime: t.Format(time.RFC3339), Time: t, AccountID: member, Recipient: member,
		EventSource: source, EventName: name, Category: cat, Result: "success", SourceIP: "192.0.2.200"}
	if edit != nil {
		edit(&e)
	}
	return e
}

// assumeRoot is the management account's call opening a session on the member.
func assumeRoot(ago time.Duration, task string) evidence.Event {
	return step(ago, evidence.CategoryAssumeRoot, "sts.amazonaws.com", "AssumeRoot", func(e *evidence.Event) {
		e.AccountID, e.Recipient, e.Caller, e.Target, e.SessionKeyID = management, management, poweruser, member, "ASIASESSION000000001"
		if task != "" {
			e.TaskPolicy = "arn:aws:iam::aws:policy/root-task/" + task
		}
	})
}

func TestRecoveryActivity(t *testing.T) {
	loginProfile := step(3*day, evidence.CategoryLoginProfile, "iam.amazonaws.com", "CreateLoginProfile", func(e *evidence.Event) {
		e.AccessKeyID, e.Caller, e.TaskPolicy = "ASIASESSION000000001", poweruser, "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"
	})
	requested := step(3*day-5*time.Minute, evidence.CategoryPasswordRecovery, "signin.amazonaws.com", "PasswordRecoveryRequested", nil)
	completed := step(3*day-9*time.Minute, evidence.CategoryPasswordRecovery, "signin.amazonaws.com", "PasswordRecoveryCompleted", nil)
	login := step(3*day-11*time.Minute, evidence.CategoryConsoleLogin, "signin.amazonaws.com", "ConsoleLogin", func(e *evidence.Event) { e.MFA = "no" })
	emailStart := step(2*day, evidence.CategoryEmailChange, "account.amazonaws.com", "StartPrimaryEmailUpdate", func(e *evidence.Event) {
		e.AccountID, e.Recipient, e.Caller, e.Target = management, management, poweruser, member
	})
	emailOwn := step(day, evidence.CategoryEmailChange, "signin.amazonaws.com", "EmailUpdated", func(e *evidence.Event) { e.Caller = "arn:aws:iam::123456789012:root" })
	inSession := step(3*day, evidence.CategoryAssumeRoot, "s3.amazonaws.com", "DeleteBucketPolicy", func(e *evidence.Event) { e.Caller, e.TaskPolicy = poweruser, "x/S3UnlockBucketPolicy" })
	failedRequest := step(day, evidence.CategoryPasswordRecovery, "signin.amazonaws.com", "PasswordRecoveryRequested", func(e *evidence.Event) { e.Result = "failure" })
	unverified := step(day, evidence.CategoryPasswordRecovery, "signin.amazonaws.com", "PasswordUpdated", func(e *evidence.Event) { e.Unverified = true })
	chain := trail(covered, nil, assumeRoot(3*day+time.Minute, evidence.TaskCreateRootUserPassword), loginProfile, requested, completed, login)

	runCases(t, recoveryActivity(), []ruleCase{
		{"the whole chain", chain, nil, finding.StatusFail,
			"CloudTrail shows 4 recovery-path events within the window of 15 days; the latest at " + completed.EventTime + " from 192.0.2.200. In order: AssumeRoot IAMCreateRootUserPassword at " +
				asOf.Add(-3*day-time.Minute).Format(time.RFC3339) + " by " + poweruser + "; CreateLoginProfile (a root password created) at " + loginProfile.EventTime + " by " + poweruser +
				"; PasswordRecoveryRequested at " + requested.EventTime + "; PasswordRecoveryCompleted at " + completed.EventTime + ".",
			map[string]any{"matching_events": 4}},
		{"a password recovery alone", trail(covered, nil, completed), nil, finding.StatusFail, "1 recovery-path event", nil},
		{"a root password created alone", trail(covered, nil, loginProfile), nil, finding.StatusFail, "CreateLoginProfile (a root password created)", nil},
		{"the management account changes the member's e-mail", trail(covered, nil, emailStart), nil, finding.StatusFail, "StartPrimaryEmailUpdate at " + emailStart.EventTime + " by " + poweruser, nil},
		{"root changes its own e-mail", trail(covered, nil, emailOwn), nil, finding.StatusFail, "EmailUpdated", nil},
		{"a failed attempt counts", trail(covered, nil, failedRequest), nil, finding.StatusFail, "PasswordRecoveryRequested at " + failedRequest.EventTime + " (failed)", nil},
		{"every privileged task", trail(covered, nil, assumeRoot(day, evidence.TaskDeleteRootUserCredentials), assumeRoot(2*day, evidence.TaskS3UnlockBucketPolicy),
			assumeRoot(3*day, evidence.TaskSQSUnlockQueuePolicy), assumeRoot(4*day, "")), nil, finding.StatusFail, "AssumeRoot with an unknown task policy", map[string]any{"matching_events": 4}},
		{"the audit task does not count", trail(covered, nil, assumeRoot(day, evidence.TaskAuditRootUserCredentials)), nil, finding.StatusPass, "no recovery-path events", nil},
		{"a session's actions are not steps themselves", trail(covered, nil, inSession), nil, finding.StatusPass, "no recovery-path events", nil},
		{"a sign-in alone is no step", trail(covered, nil, login), nil, finding.StatusPass, "no recovery-path events", nil},
		{"outside the window", trail(covered, nil, step(20*day, evidence.CategoryPasswordRecovery, "signin.amazonaws.com", "PasswordRecoveryCompleted", nil)), nil, finding.StatusPass, "", nil},
		{"undated", trail(covered, nil, undated(completed)), nil, finding.StatusUnknown, "missing or invalid", nil},
		{"not verified as root's", trail(covered, nil, unverified), nil, finding.StatusUnknown, `not written "Root"`, nil},
		{"evidence short of the window", trail(asOf.Add(-2*day), nil), nil, finding.StatusUnknown, "reaches back only to", nil},
		{"no CloudTrail", root(nil), nil, finding.StatusUnknown, "cloudtrail source is missing", nil},
	})

	// The management account's calls count for the member they name: the
	// management account itself has no step of its own.
	mgmt := trail(covered, nil, assumeRoot(day, evidence.TaskCreateRootUserPassword), emailStart)(t)
	mgmt.ID = management
	res := recoveryActivity().Eval(Input{Account: mgmt, AsOf: asOf, Settings: defaults})[0]
	if res.Status != finding.StatusPass {
		t.Errorf("the management account: %s %s", res.Status, res.Message)
	}
	// The evidence names the caller, the target and the task of each step.
	res = recoveryActivity().Eval(Input{Account: chain(t), AsOf: asOf, Settings: defaults})[0]
	evs := res.Evidence["events"].([]map[string]any)
	last := evs[len(evs)-1]
	if last["category"] != evidence.CategoryAssumeRoot || last["caller"] != poweruser || last["target"] != member || last["task_policy"] != evidence.TaskCreateRootUserPassword {
		t.Errorf("the AssumeRoot call's evidence: %v", last)
	}
	if lp := evs[len(evs)-2]; lp["category"] != evidence.CategoryLoginProfile || lp["access_key_id"] != "ASIASESSION000000001" {
		t.Errorf("the login profile's evidence: %v", lp)
	}
	if strings.Contains(res.Message, "ConsoleLogin") {
		t.Errorf("the sign-in is listed as a step: %s", res.Message)
	}
}

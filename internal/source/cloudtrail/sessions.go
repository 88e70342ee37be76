package cloudtrail

import (
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// MaxRootSession is the longest an sts:AssumeRoot session lives (its
// DurationSeconds is at most 900).
const MaxRootSession = 900 * time.Second

// UnmatchedSessionNote marks a root event signed with temporary
// credentials whose AssumeRoot call is not in the evidence.
const UnmatchedSessionNote = "signed with temporary credentials (ASIA…): it may be a centralized-root session whose sts:AssumeRoot call (in the management or delegated administrator account) is not in the evidence; read that account's CloudTrail too to tell"

// LinkRootSessions joins the member side of centralized-root sessions to
// the AssumeRoot calls that opened them ("Track privileged tasks in
// CloudTrail", IAM User Guide): the member account logs each action with
// userIdentity.type Root, the root ARN and an ASIA… key and no
// assumedRoot flag; the management account logs the AssumeRoot call with
// that key in responseElements.credentials.accessKeyId. A root event whose
// key matches a successful call for its account, at or after the call and
// within the session's 900 seconds, is a privileged task (assume_root)
// with the call's caller and task policy; a root password created in the
// session (login_profile) keeps its category and gains the caller and
// task. A root event with an ASIA… key and no matching call stays what it
// was, with a note saying what it may be. Sign-ins, password recovery and
// e-mail changes, and calls made in a console session, are never such
// sessions and are left alone.
func LinkRootSessions(evs []evidence.Event) {
	type call struct {
		at                   time.Time
		target, caller, task string
	}
	calls := map[string][]call{}
	for _, e := range evs {
		if e.Category == evidence.CategoryAssumeRoot && e.EventName == "AssumeRoot" && e.SessionKeyID != "" && e.Result == "success" && e.HasTime() {
			calls[e.SessionKeyID] = append(calls[e.SessionKeyID], call{e.Time, e.Target, e.Caller, e.TaskPolicy})
		}
	}
	for i := range evs {
		e := &evs[i]
		// A call made through the console (invokedBy signin.amazonaws.com)
		// is signed with the console session's ASIA key: a sign-in, not an
		// AssumeRoot session, which gives API credentials only.
		switch e.Category {
		case evidence.CategoryAPICall, evidence.CategoryService, evidence.CategoryLoginProfile:
		default:
			continue
		}
		if !strings.HasPrefix(e.AccessKeyID, "ASIA") || strings.EqualFold(e.InvokedBy, signinSource) {
			continue
		}
		matched := false
		for _, c := range calls[e.AccessKeyID] {
			if e.HasTime() && !e.Time.Before(c.at) && !e.Time.After(c.at.Add(MaxRootSession)) && targets(c.target, e.AccountID) {
				if e.Category != evidence.CategoryLoginProfile {
					e.Category = evidence.CategoryAssumeRoot
				}
				e.Caller, e.TaskPolicy, e.Target, e.Note = c.caller, c.task, e.AccountID, ""
				matched = true
				break
			}
		}
		if !matched {
			e.Note = UnmatchedSessionNote
		}
	}
}

// targets reports whether an AssumeRoot targetPrincipal (an account ID or
// a root ARN) names account.
func targets(principal, account string) bool {
	return principal == account || strings.HasSuffix(principal, ":"+account+":root")
}

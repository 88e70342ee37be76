package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// Alert is root activity seen as it happens (rootwatch watch): one event,
// or a burst of failed root sign-ins from one address.
type Alert struct {
	// Events are the root events, oldest first; a burst holds several.
	Events []evidence.Event
	// AccountName is the account's name when known.
	AccountName string
	// RuleID is the rule the activity touches, with its knowledge-base
	// summary and first suggested action.
	RuleID, Summary, Action string
	// Title, when set, is the headline (a takeover chain names what
	// happened across its events); Kind is the webhook's kind
	// (root_activity when empty).
	Title, Kind string
}

// KindTakeoverChain is the webhook kind of an alert naming the steps of a
// root takeover that arrived within an hour.
const KindTakeoverChain = "takeover_chain"

// SendAlert delivers an alert to every target, with the retries of Send.
func SendAlert(ctx context.Context, targets []Target, a Alert, o Options) []Result {
	return send(ctx, targets, a, o)
}

func (a Alert) account() string {
	id := a.Events[0].AccountID
	// A call made elsewhere about a root (AssumeRoot, a primary e-mail
	// change) is about the account it names.
	if t := a.Events[0].TargetAccount(); t != "" {
		id = t
	}
	if a.AccountName != "" {
		return shown(a.AccountName) + " (" + id + ")"
	}
	return id
}

// Headline says what happened, where and from where: "root signed in to
// payments-prod (111111111111) from 203.0.113.24 without MFA".
func (a Alert) Headline() string {
	if a.Title != "" {
		return shown(a.Title)
	}
	e := a.Events[0]
	from := ""
	if e.SourceIP != "" {
		from = " from " + shown(e.SourceIP)
	}
	switch {
	case e.Category == evidence.CategoryAssumeRoot:
		return fmt.Sprintf("rootwatch: %s opened a root session in %s (AssumeRoot %s)%s", shown(e.Caller), a.account(), shown(taskOf(e)), from)
	case e.Category == evidence.CategoryLoginProfile:
		by := ""
		if e.Caller != "" {
			by = ", in a root session opened by " + shown(e.Caller)
		}
		return fmt.Sprintf("rootwatch: a root password was created in %s (CreateLoginProfile%s)%s", a.account(), by, from)
	case e.Category == evidence.CategoryEmailChange && e.TargetAccount() != "":
		return fmt.Sprintf("rootwatch: %s changed the root e-mail address of %s (%s)%s", shown(e.Caller), a.account(), shown(e.EventName), from)
	case e.Category == evidence.CategoryEmailChange, e.Category == evidence.CategoryPasswordRecovery:
		return fmt.Sprintf("rootwatch: root %s in %s%s", shown(e.EventName), a.account(), from)
	case len(a.Events) > 1:
		return fmt.Sprintf("rootwatch: %d failed root sign-ins to %s%s", len(a.Events), a.account(), from)
	case e.Category == evidence.CategoryConsoleLogin && e.Result == "failure":
		return fmt.Sprintf("rootwatch: failed root sign-in to %s%s", a.account(), from)
	case e.Category == evidence.CategoryConsoleLogin:
		mfa := map[string]string{"yes": " with MFA", "no": " without MFA"}[e.MFA]
		return fmt.Sprintf("rootwatch: root signed in to %s%s%s", a.account(), from, mfa)
	case e.Category == evidence.CategorySignin:
		return fmt.Sprintf("rootwatch: root %s in %s%s", shown(e.EventName), a.account(), from)
	}
	return fmt.Sprintf("rootwatch: root called %s %s in %s%s", shown(strings.TrimSuffix(e.EventSource, ".amazonaws.com")), shown(e.EventName), a.account(), from)
}

// taskOf names an AssumeRoot call's task policy, or says it is unknown.
func taskOf(e evidence.Event) string {
	if e.TaskPolicy == "" {
		return "with an unknown task policy"
	}
	return evidence.TaskName(e.TaskPolicy)
}

// details lists each event on a line: time, what, region, MFA, agent.
func (a Alert) details(escape func(string) string) []string {
	var lines []string
	for i, e := range a.Events {
		if i == maxItems {
			lines = append(lines, fmt.Sprintf("…and %d more", len(a.Events)-maxItems))
			break
		}
		line := fmt.Sprintf("%s %s %s", e.EventTime, e.EventName, e.Region)
		if e.Result != "" {
			line += " " + e.Result
		}
		if e.MFA != "" {
			line += ", MFA " + e.MFA
		}
		if p := e.Place(); p != "" {
			line += ", " + p
		}
		if e.Category == evidence.CategoryAssumeRoot && e.EventName == "AssumeRoot" {
			line += ", task " + taskOf(e)
		}
		if t := e.TargetAccount(); t != "" {
			line += ", on " + t
		}
		if e.Caller != "" && e.Category != evidence.CategorySignin {
			line += ", by " + e.Caller
		}
		if e.UserAgent != "" {
			line += ", agent " + e.UserAgent
		}
		if e.Note != "" {
			line += " (" + e.Note + ")"
		}
		lines = append(lines, escape(shown(line)))
	}
	return lines
}

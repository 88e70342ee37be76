package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

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

// AlertSchema is the version of the webhook body of an alert.
const AlertSchema = "1"

// SendAlert delivers an alert to every target, with the retries of Send.
func SendAlert(ctx context.Context, targets []Target, a Alert, o Options) []Result {
	return send(ctx, targets, a, o)
}

// oneLine keeps printable text on one line, for subjects and headers:
// controls, line breaks and bidirectional overrides become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// shown is AWS text made safe to show: one line, bounded.
func shown(s string) string { return clip(oneLine(s), 200) }

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

func (a Alert) slack() ([]byte, error) {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type block struct {
		Type     string `json:"type"`
		Text     *text  `json:"text,omitempty"`
		Elements []text `json:"elements,omitempty"`
	}
	head := a.Headline()
	var b strings.Builder
	b.WriteString(strings.Join(a.details(slackEscape.Replace), "\n"))
	if a.Action != "" {
		fmt.Fprintf(&b, "\n*Suggested:* %s", slackEscape.Replace(a.Action))
	}
	blocks := []block{
		{Type: "header", Text: &text{"plain_text", clip(head, 150)}},
		{Type: "section", Text: &text{"mrkdwn", clip(b.String(), 2900)}},
	}
	if a.RuleID != "" {
		blocks = append(blocks, block{Type: "context", Elements: []text{{"mrkdwn", fmt.Sprintf("<%s|%s>: %s", ruleURL(a.RuleID), a.RuleID, slackEscape.Replace(a.Summary))}}})
	}
	return json.Marshal(map[string]any{"text": head, "blocks": blocks})
}

func (a Alert) webhook() ([]byte, error) {
	return json.Marshal(struct {
		Schema  string           `json:"schema_version"`
		Kind    string           `json:"kind"`
		Title   string           `json:"title"`
		RuleID  string           `json:"rule_id,omitempty"`
		Summary string           `json:"summary,omitempty"`
		Action  string           `json:"suggested_action,omitempty"`
		Account string           `json:"account_name,omitempty"`
		Events  []evidence.Event `json:"events"`
	}{AlertSchema, cmp.Or(a.Kind, "root_activity"), a.Headline(), a.RuleID, a.Summary, a.Action, a.AccountName, a.Events})
}

func (a Alert) mail() (string, []byte, string) {
	var b strings.Builder
	b.WriteString(a.Headline() + "\r\n\r\n")
	for _, l := range a.details(func(s string) string { return s }) {
		b.WriteString("- " + l + "\r\n")
	}
	if a.Action != "" {
		b.WriteString("\r\nSuggested: " + a.Action + "\r\n")
	}
	if a.RuleID != "" {
		b.WriteString("\r\n" + a.RuleID + ": " + a.Summary + "\r\n" + ruleURL(a.RuleID) + "\r\n")
	}
	return b.String(), nil, a.Headline()
}

func (a Alert) snsSubject() string { return snsSubject(a.Headline()) }

func (a Alert) snsBody() string {
	plain, _, _ := a.mail()
	return strings.ReplaceAll(plain, "\r\n", "\n")
}

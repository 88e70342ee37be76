package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// maxItems is how many findings a Slack message lists before it counts
// the rest (Slack allows 50 blocks).
const maxItems = 20

// headline is the message's one-line summary.
func headline(m Message) string {
	accounts := map[string]bool{}
	for _, c := range m.Items {
		accounts[c.AccountID] = true
	}
	what := map[When]string{OnNew: "new root-user failure", OnChange: "root-user change", OnAlways: "failing root-user finding"}[m.When]
	n := len(m.Items)
	s := fmt.Sprintf("rootwatch: %d %s", n, what)
	if n != 1 {
		s += "s"
	}
	if len(accounts) == 1 {
		return s + " in 1 account"
	}
	return s + fmt.Sprintf(" in %d accounts", len(accounts))
}

// summaryLine counts the run's findings.
func summaryLine(run *finding.Run) string {
	s := run.Summary
	line := fmt.Sprintf("%d accounts as of %s: %d fail, %d unknown, %d error, %d pass", len(run.Accounts), run.AsOf.Format("2006-01-02 15:04 MST"),
		s.Fail, s.Unknown, s.Error, s.Pass)
	if h := run.History; h != nil && h.PreviousRunID != 0 {
		line += fmt.Sprintf("; compared with run %d", h.PreviousRunID)
	}
	return line
}

// clip keeps s within n bytes (Slack limits a section's text to 3,000).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// slackEscape escapes what Slack's mrkdwn would read as markup or links.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackPayload(m Message) ([]byte, error) {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type block struct {
		Type     string `json:"type"`
		Text     *text  `json:"text,omitempty"`
		Elements []text `json:"elements,omitempty"`
	}
	head := headline(m)
	blocks := []block{{Type: "header", Text: &text{"plain_text", clip(head, 150)}}}
	for i, c := range m.Items {
		if i == maxItems {
			blocks = append(blocks, block{Type: "section", Text: &text{"mrkdwn", fmt.Sprintf("…and %d more (see the report or `rootwatch diff`).", len(m.Items)-maxItems)}})
			break
		}
		var b strings.Builder
		if c.Kind == finding.ChangeNotAssessed {
			fmt.Fprintf(&b, "*Account %s is no longer assessed* (%s → %s)\n%s", slackEscape.Replace(c.AccountID), orNone(c.FromStatus), orNone(c.ToStatus), slackEscape.Replace(c.Message))
			blocks = append(blocks, block{Type: "section", Text: &text{"mrkdwn", clip(b.String(), 2900)}})
			continue
		}
		fmt.Fprintf(&b, "*%s* %s — account %s\n%s", strings.ToUpper(string(c.Severity)), slackEscape.Replace(c.Title), slackEscape.Replace(c.AccountID), slackEscape.Replace(c.Message))
		if c.Kind != finding.ChangeNewFailure && c.Kind != "fail" {
			fmt.Fprintf(&b, "\n_%s_: %s → %s", c.Kind, orNone(c.FromStatus), orNone(c.ToStatus))
		}
		if info, ok := m.Catalog.Rule(c.RuleID); ok {
			if act := firstLine(info.Action); act != "" {
				fmt.Fprintf(&b, "\nSuggested: %s", slackEscape.Replace(act))
			}
			fmt.Fprintf(&b, "\n<%s|%s>", ruleURL(c.RuleID), c.RuleID)
		}
		blocks = append(blocks, block{Type: "section", Text: &text{"mrkdwn", clip(b.String(), 2900)}})
	}
	blocks = append(blocks, block{Type: "context", Elements: []text{{"mrkdwn", slackEscape.Replace(summaryLine(m.Run))}}})
	return json.Marshal(map[string]any{"text": head, "blocks": blocks})
}

func orNone(s *string) string {
	if s == nil {
		return "(absent)"
	}
	return *s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(strings.TrimPrefix(s, "1. "))
}

// ruleURL is the rule's knowledge-base page.
func ruleURL(id string) string {
	return "https://github.com/rootwatch/rootwatch/blob/main/docs/rules/" + id + ".md"
}

// WebhookSchema is the version of the webhook body.
const WebhookSchema = "1"

func webhookPayload(m Message) ([]byte, error) {
	type runInfo struct {
		RunID         int64           `json:"run_id,omitempty"`
		PreviousRunID int64           `json:"previous_run_id,omitempty"`
		AsOf          string          `json:"as_of"`
		GeneratedAt   string          `json:"generated_at"`
		Accounts      int             `json:"accounts"`
		Summary       finding.Summary `json:"summary"`
	}
	ri := runInfo{AsOf: m.Run.AsOf.Format("2006-01-02T15:04:05Z07:00"), GeneratedAt: m.Run.GeneratedAt.Format("2006-01-02T15:04:05Z07:00"),
		Accounts: len(m.Run.Accounts), Summary: m.Run.Summary}
	changes := []finding.Change{}
	if h := m.Run.History; h != nil {
		ri.RunID, ri.PreviousRunID, changes = h.RunID, h.PreviousRunID, h.Changes
	}
	notified := map[string]bool{}
	for _, c := range m.Items {
		notified[c.Fingerprint] = true
	}
	findings := []finding.Finding{}
	for _, f := range m.Run.Findings {
		if notified[f.Fingerprint] {
			findings = append(findings, f)
		}
	}
	return json.Marshal(map[string]any{
		"schema_version": WebhookSchema, "tool": m.Run.Tool, "notify_on": m.When, "headline": headline(m),
		"run": ri, "diff": changes, "items": m.Items, "findings": findings,
	})
}

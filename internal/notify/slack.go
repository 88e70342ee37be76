package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// Slack: a Block Kit message through an incoming webhook (slack=URL).

func slackChannel() channel {
	return channel{kind: "slack", syntax: "URL", check: httpsHost,
		notifier: func(t Target, _ Options) Notifier { return slackNotifier{t.address} }}
}

type slackNotifier struct{ url string }

func (s slackNotifier) Notify(ctx context.Context, c Content) (bool, error) {
	body, err := slackPayload(c)
	if err != nil {
		return false, err
	}
	_, retry, err := post(ctx, s.url, body, nil)
	return retry, err
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

// slackEscape escapes what Slack's mrkdwn would read as markup or links.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackPayload(c Content) ([]byte, error) {
	var blocks []slackBlock
	switch c := c.(type) {
	case Message:
		blocks = slackMessage(c)
	case Alert:
		blocks = slackAlert(c)
	default:
		return nil, cannotSend("slack", c)
	}
	return json.Marshal(map[string]any{"text": c.Headline(), "blocks": blocks})
}

func slackHeader(head string) slackBlock {
	return slackBlock{Type: "header", Text: &slackText{"plain_text", clip(head, 150)}}
}

func slackSection(mrkdwn string) slackBlock {
	return slackBlock{Type: "section", Text: &slackText{"mrkdwn", clip(mrkdwn, 2900)}}
}

func slackContext(mrkdwn string) slackBlock {
	return slackBlock{Type: "context", Elements: []slackText{{"mrkdwn", mrkdwn}}}
}

// slackMessage lists each item (at most maxItems, then a count) with its
// suggested action and knowledge-base link, then the run's summary.
func slackMessage(m Message) []slackBlock {
	blocks := []slackBlock{slackHeader(m.Headline())}
	for i, c := range m.Items {
		if i == maxItems {
			blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{"mrkdwn", fmt.Sprintf("…and %d more (see the report or `rootwatch diff`).", len(m.Items)-maxItems)}})
			break
		}
		var b strings.Builder
		if c.Kind == finding.ChangeNotAssessed {
			fmt.Fprintf(&b, "*Account %s is no longer assessed* (%s → %s)\n%s", slackEscape.Replace(c.AccountID), orNone(c.FromStatus), orNone(c.ToStatus), slackEscape.Replace(c.Message))
			blocks = append(blocks, slackSection(b.String()))
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
		blocks = append(blocks, slackSection(b.String()))
	}
	return append(blocks, slackContext(slackEscape.Replace(summaryLine(m.Run))))
}

// slackAlert is the headline, each event, the suggested action and the
// rule's page with its summary.
func slackAlert(a Alert) []slackBlock {
	var b strings.Builder
	b.WriteString(strings.Join(a.details(slackEscape.Replace), "\n"))
	if a.Action != "" {
		fmt.Fprintf(&b, "\n*Suggested:* %s", slackEscape.Replace(a.Action))
	}
	blocks := []slackBlock{slackHeader(a.Headline()), slackSection(b.String())}
	if a.RuleID != "" {
		blocks = append(blocks, slackContext(fmt.Sprintf("<%s|%s>: %s", ruleURL(a.RuleID), a.RuleID, slackEscape.Replace(a.Summary))))
	}
	return blocks
}

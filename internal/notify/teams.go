package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// Microsoft Teams: an Adaptive Card posted to a channel's webhook
// (teams=URL): a Workflows flow started by "When a Teams webhook request
// is received" (the way Microsoft gives since it retired the Microsoft 365
// connectors), or a legacy incoming webhook. The URL carries its own
// signature (sig=…) and is a secret; the target's name shows its host.
//
// AWS text is put in TextRuns, which Teams shows as they are: unlike a
// TextBlock's, their text is not read as Markdown, so an account name
// cannot make a link.

func teamsChannel() channel {
	return channel{kind: "teams", syntax: "URL", check: httpsHost,
		notifier: func(t Target, _ Options) Notifier { return teamsNotifier{t.address} }}
}

type teamsNotifier struct{ url string }

// teamsThrottled is how a legacy incoming webhook says HTTP 429: with a
// 200 and these words in the answer.
const teamsThrottled = "HTTP error 429"

func (n teamsNotifier) Notify(ctx context.Context, c Content) (bool, error) {
	body, err := teamsPayload(c)
	if err != nil {
		return false, err
	}
	answer, retry, err := post(ctx, n.url, body, nil)
	if err == nil && bytes.Contains(answer, []byte(teamsThrottled)) {
		return true, errors.New("throttled: Teams answered " + teamsThrottled)
	}
	return retry, err
}

// teamsBudget bounds a card's body: Teams refuses a message over 28 KB,
// and the envelope, the header and the summary need room too.
const teamsBudget = 24 << 10

type teamsRun struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Weight   string `json:"weight,omitempty"`
	Size     string `json:"size,omitempty"`
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Italic   bool   `json:"italic,omitempty"`
}

type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

type teamsElement struct {
	Type      string         `json:"type"`
	Separator bool           `json:"separator,omitempty"`
	Inlines   []teamsRun     `json:"inlines,omitempty"`
	Items     []teamsElement `json:"items,omitempty"`
	Actions   []teamsAction  `json:"actions,omitempty"`
}

// run is plain text, one line, bounded.
func textRun(text string, n int) teamsRun {
	return teamsRun{Type: "TextRun", Text: clip(oneLine(text), n)}
}

func richText(runs ...teamsRun) teamsElement {
	return teamsElement{Type: "RichTextBlock", Inlines: runs}
}

func bold(r teamsRun) teamsRun   { r.Weight = "Bolder"; return r }
func italic(r teamsRun) teamsRun { r.Italic = true; return r }
func subtle(r teamsRun) teamsRun { r.IsSubtle, r.Size = true, "Small"; return r }

func ruleLink(id string) teamsElement {
	return teamsElement{Type: "ActionSet", Actions: []teamsAction{{Type: "Action.OpenUrl", Title: id, URL: ruleURL(id)}}}
}

// teamsColor marks the severities that need someone now.
func teamsColor(sev finding.Severity) string {
	switch sev {
	case finding.SeverityCritical, finding.SeverityHigh:
		return "Attention"
	case finding.SeverityMedium:
		return "Warning"
	}
	return ""
}

func teamsPayload(c Content) ([]byte, error) {
	head := bold(textRun(c.Headline(), 300))
	head.Size = "Medium"
	body := []teamsElement{richText(head)}
	switch c := c.(type) {
	case Message:
		body = append(body, teamsMessage(c)...)
	case Alert:
		body = append(body, teamsAlert(c)...)
	default:
		return nil, cannotSend("teams", c)
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
		"msteams": map[string]string{"width": "Full"}, "body": body,
	}
	return json.Marshal(map[string]any{"type": "message", "attachments": []map[string]any{
		{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil, "content": card},
	}})
}

// teamsMessage lists each item with its suggested action and a button to
// its rule's page, as many as the card has room for, then counts the rest
// and gives the run's summary.
func teamsMessage(m Message) []teamsElement {
	var body []teamsElement
	used := 0
	for i, c := range m.Items {
		item := teamsItem(m, c)
		size, _ := json.Marshal(item)
		if i == maxItems || used+len(size) > teamsBudget {
			body = append(body, richText(italic(textRun(fmt.Sprintf("…and %d more (see the report or rootwatch diff).", len(m.Items)-i), 200))))
			break
		}
		used += len(size)
		body = append(body, item)
	}
	return append(body, richText(subtle(textRun(summaryLine(m.Run), 300))))
}

func teamsItem(m Message, c finding.Change) teamsElement {
	item := teamsElement{Type: "Container", Separator: true}
	if c.Kind == finding.ChangeNotAssessed {
		item.Items = []teamsElement{
			richText(bold(textRun("Account "+c.AccountID+" is no longer assessed", 200)), textRun(" ("+orNone(c.FromStatus)+" → "+orNone(c.ToStatus)+")", 100)),
			richText(textRun(c.Message, 500)),
		}
		return item
	}
	sev := bold(textRun(strings.ToUpper(string(c.Severity)), 20))
	sev.Color = teamsColor(c.Severity)
	item.Items = []teamsElement{
		richText(sev, textRun(" "+c.Title+" — account "+c.AccountID, 300)),
		richText(textRun(c.Message, 500)),
	}
	if c.Kind != finding.ChangeNewFailure && c.Kind != "fail" {
		item.Items = append(item.Items, richText(italic(textRun(c.Kind+": "+orNone(c.FromStatus)+" → "+orNone(c.ToStatus), 100))))
	}
	if info, ok := m.Catalog.Rule(c.RuleID); ok {
		if act := firstLine(info.Action); act != "" {
			item.Items = append(item.Items, richText(bold(textRun("Suggested: ", 20)), textRun(act, 300)))
		}
		item.Items = append(item.Items, ruleLink(c.RuleID))
	}
	return item
}

// teamsAlert is each event, the suggested action and the rule's page with
// its summary.
func teamsAlert(a Alert) []teamsElement {
	var body []teamsElement
	for _, l := range a.details(func(s string) string { return s }) {
		body = append(body, richText(textRun(l, 300)))
	}
	if a.Action != "" {
		body = append(body, richText(bold(textRun("Suggested: ", 20)), textRun(a.Action, 300)))
	}
	if a.RuleID != "" {
		body = append(body, richText(subtle(textRun(a.RuleID+": "+a.Summary, 300))), ruleLink(a.RuleID))
	}
	return body
}

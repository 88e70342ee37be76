package notify

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// maxItems is how many findings a message lists before it counts the rest
// (Slack allows 50 blocks).
const maxItems = 20

// Headline is the message's one-line summary.
func (m Message) Headline() string {
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

// itemLine is an item as a line of plain text (e-mail, SNS).
func itemLine(c finding.Change) string {
	if c.Kind == finding.ChangeNotAssessed {
		return fmt.Sprintf("- account %s is no longer assessed (%s -> %s): %s\n", c.AccountID, orNone(c.FromStatus), orNone(c.ToStatus), c.Message)
	}
	return fmt.Sprintf("- %s %s, account %s: %s\n", strings.ToUpper(string(c.Severity)), c.Title, c.AccountID, c.Message)
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

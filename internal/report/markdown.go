package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/exposure"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// Markdown writes a summary for a pull-request comment. Text from AWS is
// escaped so that it cannot open links, images, HTML or table cells.
type Markdown struct{ Meta finding.Catalog }

var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "|", `\|`,
	"#", `\#`, "!", `\!`, "\n", " ", "\r", " ", "&", "&amp;",
)

// EscapeMarkdown makes untrusted text inert inside Markdown and tables.
func EscapeMarkdown(s string) string { return mdEscaper.Replace(Sanitize(s)) }

func (m Markdown) Write(w io.Writer, run *finding.Run) error {
	run = clean(run)
	bw := bufio.NewWriter(w)
	s := run.Summary
	fmt.Fprintf(bw, "## rootwatch: %d failing, %d unknown, %d error\n\n", s.Fail, s.Unknown, s.Error)
	fmt.Fprintf(bw, "As of %s, window %s, %s.\n\n", run.AsOf.Format("2006-01-02 15:04 MST"), EscapeMarkdown(run.Settings["window"]), evidence.Count(len(run.Accounts), "account"))
	if h := run.History; h != nil && h.PreviousRunID != 0 {
		var newFail, resolved []finding.Change
		for _, c := range h.Changes {
			switch c.Kind {
			case finding.ChangeNewFailure:
				newFail = append(newFail, c)
			case finding.ChangeResolved:
				resolved = append(resolved, c)
			}
		}
		fmt.Fprintf(bw, "**Since run %d: %s, %d resolved.**\n\n", h.PreviousRunID, evidence.Count(len(newFail), "new failure"), len(resolved))
		for _, c := range newFail {
			fmt.Fprintf(bw, "- new failure: %s `%s` in %s: %s\n", c.Severity, EscapeMarkdown(c.RuleID), EscapeMarkdown(c.AccountID), EscapeMarkdown(c.Message))
		}
		for _, c := range resolved {
			fmt.Fprintf(bw, "- resolved: `%s` in %s\n", EscapeMarkdown(c.RuleID), EscapeMarkdown(c.AccountID))
		}
		if len(newFail)+len(resolved) > 0 {
			fmt.Fprintln(bw)
		}
	}
	fmt.Fprintln(bw, "| status | findings |")
	fmt.Fprintln(bw, "|---|---|")
	for _, st := range finding.Statuses() {
		fmt.Fprintf(bw, "| %s | %d |\n", st, s.Count(st))
	}
	if line := disabledLine(run, func(id string) string { return "`" + id + "`" }); line != "" {
		fmt.Fprintf(bw, "\n**%s**\n", line)
	}
	var problems []finding.Account
	for _, a := range run.Accounts {
		if a.Status != finding.AccountAssessed {
			problems = append(problems, a)
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(bw, "\n### Accounts not fully assessed\n\n| account | status | reason |\n|---|---|---|\n")
		for _, a := range problems {
			fmt.Fprintf(bw, "| %s | %s | %s |\n", EscapeMarkdown(a.AccountID), a.Status, EscapeMarkdown(a.Reason()))
		}
	}
	wrote := false
	for _, f := range run.Findings {
		if f.Status != finding.StatusFail && f.Status != finding.StatusUnknown && f.Status != finding.StatusError {
			continue
		}
		if !wrote {
			fmt.Fprintf(bw, "\n### Findings to act on\n\n| severity | status | account | rule | message |\n|---|---|---|---|---|\n")
			wrote = true
		}
		rule := EscapeMarkdown(f.RuleID)
		if _, ok := m.Meta.Rule(f.RuleID); ok {
			rule = fmt.Sprintf("[%s](%s)", rule, RulePageURL(f.RuleID))
		}
		fmt.Fprintf(bw, "| %s | %s | %s | %s | %s%s |\n", f.Severity, f.Status, EscapeMarkdown(f.AccountID), rule, EscapeMarkdown(f.Message), EscapeMarkdown(seenNote(f)))
	}
	if !wrote {
		fmt.Fprintln(bw, "\nNothing failing, unknown or in error.")
	}
	writeCouldMarkdown(bw, exposure.Answer(run))
	return bw.Flush()
}

// writeCouldMarkdown answers "could anyone become root?" for each account
// whose answer is not "no": a table of the questions; the others on one
// line, so that no account goes unmentioned.
func writeCouldMarkdown(w io.Writer, cs []exposure.Account) {
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### Could anyone become root?\n")
	var clear []string
	for _, c := range cs {
		if c.Verdict.Urgency() < finding.StatusUnknown.Urgency() {
			clear = append(clear, EscapeMarkdown(c.AccountID)+" ("+EscapeMarkdown(c.Answer)+")")
			continue
		}
		title := EscapeMarkdown(c.AccountID)
		if c.Name != "" {
			title += " · " + EscapeMarkdown(c.Name)
		}
		if c.OUPath != "" {
			title += " · " + EscapeMarkdown(c.OUPath)
		}
		fmt.Fprintf(w, "\n**%s: %s**\n", title, EscapeMarkdown(c.Answer))
		if len(c.Rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n| question | status | answer |\n|---|---|---|\n")
		for _, r := range c.Rows {
			answer := EscapeMarkdown(r.Answer)
			for _, d := range r.Details {
				answer += "<br>• " + EscapeMarkdown(d)
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", EscapeMarkdown(r.Question), r.Status, answer)
		}
	}
	if len(clear) > 0 {
		fmt.Fprintf(w, "\nNo way found, or only what a suppression accepts: %s.\n", strings.Join(clear, ", "))
	}
}

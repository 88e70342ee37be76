package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// Table writes findings for a person at a terminal: grouped by account,
// worst first, with each account's sources and a summary line.
type Table struct {
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiGreen  = "\x1b[32m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiMag    = "\x1b[35m"
)

func (t Table) paint(code, s string) string {
	if !t.Color || code == "" {
		return s
	}
	return code + s + ansiReset
}

func statusColor(s finding.Status) string {
	switch s {
	case finding.StatusFail:
		return ansiRed + ansiBold
	case finding.StatusUnknown:
		return ansiYellow
	case finding.StatusError:
		return ansiMag
	case finding.StatusPass:
		return ansiGreen
	}
	return ansiDim
}

func (t Table) Write(w io.Writer, run *finding.Run) error {
	bw := bufio.NewWriter(w)
	byAccount := map[string][]finding.Finding{}
	for _, f := range run.Findings {
		byAccount[f.AccountID] = append(byAccount[f.AccountID], f)
	}
	ruleW, statusW := len("RULE"), len("UNKNOWN")
	for _, f := range run.Findings {
		ruleW = max(ruleW, utf8.RuneCountInString(f.RuleID))
		statusW = max(statusW, len(f.Status))
	}
	fmt.Fprintf(bw, "rootwatch %s  as of %s  window %s\n", Sanitize(run.Tool.Version), run.AsOf.Format("2006-01-02 15:04:05Z07:00"), Sanitize(run.Settings["window"]))
	for _, a := range run.Accounts {
		fmt.Fprintln(bw)
		head := fmt.Sprintf("Account %s (%s): %s", Sanitize(a.AccountID), Sanitize(a.Partition), a.Status)
		if a.Error != "" {
			head += " — " + Sanitize(a.Error)
		}
		fmt.Fprintln(bw, t.paint(ansiBold, head))
		for _, s := range a.Sources {
			line := fmt.Sprintf("  source %-20s %-7s", s.Name, s.State)
			if s.GeneratedTime != "" {
				line += " generated " + s.GeneratedTime
			}
			if s.Detail != "" {
				line += " " + Sanitize(s.Detail)
			}
			fmt.Fprintln(bw, t.paint(ansiDim, strings.TrimRight(line, " ")))
		}
		fs := byAccount[a.AccountID]
		if len(fs) == 0 {
			fmt.Fprintln(bw, "  (no findings: the account was not evaluated)")
			continue
		}
		fmt.Fprintf(bw, "  %-*s  %-8s  %-*s  %s\n", statusW, "STATUS", "SEVERITY", ruleW, "RULE", "MESSAGE")
		for _, f := range fs {
			status := fmt.Sprintf("%-*s", statusW, strings.ToUpper(string(f.Status)))
			fmt.Fprintf(bw, "  %s  %-8s  %-*s  %s\n", t.paint(statusColor(f.Status), status), f.Severity, ruleW, f.RuleID, Sanitize(f.Message))
		}
	}
	fmt.Fprintln(bw)
	var parts []string
	for _, st := range finding.Statuses() {
		parts = append(parts, fmt.Sprintf("%d %s", run.Summary.Count(st), st))
	}
	fmt.Fprintf(bw, "Summary: %s, %s: %s\n", evidence.Count(len(run.Accounts), "account"), evidence.Count(len(run.Findings), "finding"), strings.Join(parts, ", "))
	if line := disabledLine(run, func(s string) string { return s }); line != "" {
		fmt.Fprintln(bw, t.paint(ansiYellow, line))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

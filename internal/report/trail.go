package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// Timeline is the result of `rootwatch trail` (docs/DESIGN.md, schema 1).
type Timeline struct {
	SchemaVersion string                 `json:"schema_version"`
	Sources       []evidence.SourceStats `json:"sources"`
	Events        []evidence.Event       `json:"events"`
	Duplicates    int                    `json:"duplicates"`
	// SharedCopies counts copies of cross-account calls (one
	// sharedEventID, logged in several accounts' trails) shown once.
	SharedCopies int `json:"shared_copies"`
}

// NewTimeline wraps what CloudTrail sources held for writing.
func NewTimeline(sources []evidence.SourceStats, events []evidence.Event, duplicates int) *Timeline {
	t := &Timeline{SchemaVersion: finding.SchemaVersion, Sources: sources, Events: events, Duplicates: duplicates}
	if t.Sources == nil {
		t.Sources = []evidence.SourceStats{}
	}
	if t.Events == nil {
		t.Events = []evidence.Event{}
	}
	return t
}

// NothingRead says why a timeline cannot show that there was no root
// activity, or "" when it can: no source was read, a source failed, or the
// sources held no CloudTrail event at all.
func (t *Timeline) NothingRead() string {
	total, failed, queried, read := 0, 0, false, 0
	for _, s := range t.Sources {
		total += s.Events
		if s.Error != "" {
			failed++
		}
		if s.NotRead == "" {
			read++
		}
		queried = queried || (s.Period != nil && s.Error == "")
	}
	switch {
	case read == 0:
		return "nothing was read: no CloudTrail file or object was found"
	case failed == read:
		return fmt.Sprintf("nothing was read: %s could not be read", plural(failed, "source"))
	case total == 0 && !queried:
		return fmt.Sprintf("the %s read held no CloudTrail event at all, so they say nothing about root activity", plural(read, "source"))
	}
	return ""
}

// NothingShown is the line a table prints when no root event is shown.
func (t *Timeline) NothingShown() string {
	failed := 0
	for _, s := range t.Sources {
		if s.Error != "" {
			failed++
		}
	}
	switch why := t.NothingRead(); {
	case why != "":
		return "No root activity can be shown: " + why + "."
	case failed > 0:
		return fmt.Sprintf("No root activity in what was read, but %s could not be read (below): it may hold some.", plural(failed, "source"))
	}
	return "No root activity found."
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// WriteTimeline writes a timeline as json or table.
func WriteTimeline(w io.Writer, t *Timeline, format string) error {
	switch strings.ToLower(format) {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	case "table", "":
		return timelineTable(w, t)
	}
	return fmt.Errorf("unknown format %q (want table or json)", format)
}

func timelineTable(w io.Writer, t *Timeline) error {
	bw := bufio.NewWriter(w)
	if len(t.Events) == 0 {
		fmt.Fprintln(bw, t.NothingShown())
	} else {
		fmt.Fprintf(bw, "%-20s  %-12s  %-17s  %-26s  %-7s  %-7s  %-15s  %s\n", "TIME (UTC)", "ACCOUNT", "CATEGORY", "EVENT", "RESULT", "MFA", "SOURCE IP", "DETAIL")
		for _, e := range t.Events {
			when := e.EventTime
			if e.HasTime() {
				when = e.Time.Format("2006-01-02 15:04:05")
			} else {
				when = fmt.Sprintf("(%s time %q)", e.TimeProblem, e.EventTime)
			}
			detail := e.UserAgent
			// Who took a privileged or takeover step, on which account, with what task.
			byCaller := e.Category == evidence.CategoryAssumeRoot || e.Caller != "" &&
				(e.Category == evidence.CategoryLoginProfile || e.Category == evidence.CategoryEmailChange)
			if byCaller {
				detail = "caller " + e.Caller
				if e.Target != "" && e.Target != e.AccountID {
					detail += " → " + e.Target
				}
				if e.TaskPolicy != "" {
					detail += " (" + evidence.TaskName(e.TaskPolicy) + ")"
				}
			} else if e.InvokedBy != "" {
				detail = "invoked by " + e.InvokedBy
			} else if e.Note != "" {
				detail = "temporary key " + e.AccessKeyID + ": an AssumeRoot session? " + detail
			}
			if !byCaller && len(detail) > 60 {
				detail = detail[:57] + "..."
			}
			// Where and why first: they change what the row means.
			if p := e.Place(); p != "" {
				detail = p + "; " + detail
			}
			if e.Attribution != "" {
				detail = e.Attribution + "; " + detail
			}
			fmt.Fprintf(bw, "%-20s  %-12s  %-17s  %-26s  %-7s  %-7s  %-15s  %s\n",
				Sanitize(when), Sanitize(e.AccountID), e.Category, Sanitize(e.EventSource[:strings.IndexByte(e.EventSource+".", '.')]+":"+e.EventName),
				e.Result, e.MFA, Sanitize(e.SourceIP), Sanitize(detail))
		}
	}
	fmt.Fprintln(bw)
	total, root, failed, notRead := 0, 0, 0, 0
	for _, s := range t.Sources {
		if s.NotRead != "" {
			notRead++
			fmt.Fprintf(bw, "source %s: not read: %s\n", Sanitize(s.Path), Sanitize(s.NotRead))
			continue
		}
		total += s.Events
		root += s.RootEvents
		if q := s.Query; q != nil {
			line := fmt.Sprintf("query %s: %s", Sanitize(s.Path), Sanitize(q.Engine))
			if q.ID != "" {
				line += " " + Sanitize(q.ID)
			}
			line += fmt.Sprintf(", %s scanned, %s in %s", evidence.Bytes(q.BytesScanned), evidence.Count(s.Events, "event"), evidence.Count(len(s.Accounts), "account"))
			fmt.Fprintln(bw, line)
			for _, n := range q.Notes {
				fmt.Fprintln(bw, "  "+Sanitize(n))
			}
		}
		if s.Error != "" || s.Undecodable > 0 || s.Skipped > 0 {
			failed++
			line := fmt.Sprintf("source %s: %s, %d root", Sanitize(s.Path), evidence.Count(s.Events, "event"), s.RootEvents)
			if s.Skipped > 0 {
				line += fmt.Sprintf(", %d skipped (not CloudTrail)", s.Skipped)
			}
			if s.Undecodable > 0 {
				line += fmt.Sprintf(", %d undecodable", s.Undecodable)
			}
			if s.Error != "" {
				line += ", error: " + Sanitize(s.Error)
			}
			fmt.Fprintln(bw, line)
			for _, p := range s.Problems {
				fmt.Fprintln(bw, "  "+Sanitize(p))
			}
		}
	}
	fmt.Fprintf(bw, "Read %s (%d with problems", evidence.Count(len(t.Sources)-notRead, "source"), failed)
	if notRead > 0 {
		fmt.Fprintf(bw, "; %d more not read", notRead)
	}
	fmt.Fprintf(bw, "): %s, %s; %d shown", evidence.Count(total, "event"), evidence.Count(root, "root event"), len(t.Events))
	if t.Duplicates > 0 {
		fmt.Fprintf(bw, "; %s dropped (identical after canonicalisation)", plural(t.Duplicates, "duplicate record"))
	}
	if t.SharedCopies > 0 {
		copies := "1 copy"
		if t.SharedCopies != 1 {
			copies = fmt.Sprintf("%d copies", t.SharedCopies)
		}
		fmt.Fprintf(bw, "; %s of cross-account calls folded into the call they copy (one sharedEventID in several accounts' trails)", copies)
	}
	fmt.Fprintln(bw, ".")
	return bw.Flush()
}

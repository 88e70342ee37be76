package rules

import (
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/window"
)

func accessKeyUsed() Rule {
	return Rule{
		ID:       "iam-root-access-key-used",
		Title:    "Root access key used recently",
		Severity: finding.SeverityCritical,
		Category: "identity",
		Sources:  []string{evidence.SourceCredentialReport},
		Params:   []Param{windowParam("a use of a root access key")},
		Eval:     evalAccessKeyUsed,
	}
}

func evalAccessKeyUsed(in Input) []Result {
	const need = "recent root access key use"
	row, stop := rootRow(in, need)
	if stop != nil {
		if r := anyRootRow(in, func(row *evidence.Row, ev map[string]any) string {
			var recent []string
			for i, k := range row.AccessKeys {
				col := evidence.KeyCol(i+1, "last_used_date")
				if v := judgeLastUsed(k.LastUsedDate, col, in.AsOf, in.Settings.Window()); v.Status == finding.StatusFail {
					ev[col] = k.LastUsedDate.Raw
					recent = append(recent, fmt.Sprintf("access key %d %s", i+1, v.Text))
				}
			}
			if len(recent) == 0 {
				return ""
			}
			ev["window"] = window.Window(in.Settings.Window()).String()
			return "A root access key was used recently: " + strings.Join(recent, "; ")
		}); r != nil {
			return one(*r)
		}
		return one(*stop)
	}
	ev := reportEvidence(in, row)
	ev["window"] = window.Window(in.Settings.Window()).String()
	var recent, unknown, quiet []string
	for i := 0; i < 2; i++ {
		n := i + 1
		k := row.AccessKeys[i]
		col := evidence.KeyCol(n, "last_used_date")
		ev[evidence.KeyCol(n, "active")] = k.Active.Raw
		ev[evidence.KeyCol(n, "last_rotated")] = k.LastRotated.Raw
		if k.LastUsedDate.Kind != evidence.KindMissing {
			ev[col] = k.LastUsedDate.Raw
		}
		// An empty slot (inactive, never rotated) has no key whose use could
		// be recorded, so a report without the last-used columns (the older
		// 16-column form) still settles it. A slot that says inactive but
		// records a use is judged by that use: the cells contradict each
		// other, and the use is the positive evidence.
		if k.Active.IsFalse() && k.LastRotated.Kind == evidence.KindNotApplicable && k.LastUsedDate.Kind != evidence.KindTime {
			quiet = append(quiet, fmt.Sprintf("access key %d: none", n))
			continue
		}
		v := judgeLastUsed(k.LastUsedDate, col, in.AsOf, in.Settings.Window())
		if k.LastUsedDate.Kind == evidence.KindTime {
			ev[fmt.Sprintf("access_key_%d_age_days", n)] = v.Age
		}
		where := ""
		if k.LastUsedSvc != "" && k.LastUsedSvc != "N/A" {
			where = fmt.Sprintf(" with %s in %s", k.LastUsedSvc, k.LastUsedRegion)
		}
		switch v.Status {
		case finding.StatusFail:
			recent = append(recent, fmt.Sprintf("access key %d %s%s", n, v.Text, where))
		case finding.StatusUnknown:
			unknown = append(unknown, v.Text)
		default:
			quiet = append(quiet, fmt.Sprintf("access key %d: %s", n, v.Text))
		}
	}
	switch {
	case len(recent) > 0:
		return one(Result{Status: finding.StatusFail, Evidence: ev,
			Message: "A root access key was used recently: " + strings.Join(recent, "; ") + "."})
	case len(unknown) > 0:
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("Cannot judge %s: %s (line %d).", need, strings.Join(unknown, "; "), row.Line)})
	}
	if stale := staleReport(in); stale != "" {
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("No recent root access key use in the report, but %s.", stale)})
	}
	return one(Result{Status: finding.StatusPass, Evidence: ev,
		Message: "No root access key was used within the window of " + humanWindow(in.Settings.Window()) + " (" + strings.Join(quiet, "; ") + ")." + reportTimeNote(in)})
}

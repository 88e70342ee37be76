package panel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rootwatch/rootwatch/internal/report"
)

// Evidence is a finding's evidence laid out for reading: scalars as key and
// value, lists of scalars joined, lists of objects (CloudTrail events,
// session holders, SCP targets…) as tables, objects nested. It knows a few
// keys by name (labels, column order) and shows every other key as it is,
// so a new rule's evidence reads sensibly without a change here. Every
// string is sanitised (report.Sanitize): a control character or a
// bidirectional override from AWS is shown, not obeyed.
type Evidence struct {
	Fields []EvidenceField
}

// EvidenceField is one key of an evidence object; exactly one of Text,
// Items, Table and Object is set (Text "" and the others nil: an empty
// value, shown as such).
type EvidenceField struct {
	Key, Label string
	Text       string
	Items      []string
	Table      *EvidenceTable
	Object     *Evidence
	Empty      bool
}

// EvidenceTable is a list of objects: one row per object, one column per
// key any of them has.
type EvidenceTable struct {
	Columns []string // labels
	Rows    [][]string
}

// labels name the evidence keys people read most; other keys are shown
// with underscores as spaces.
var labels = map[string]string{
	"event_time":         "time",
	"event_name":         "event",
	"event_id":           "event ID",
	"source_ip":          "source IP",
	"user_agent":         "user agent",
	"mfa":                "MFA used",
	"caller":             "AssumeRoot caller",
	"task_policy":        "task policy",
	"suppressed_status":  "status without the suppression",
	"suppression_reason": "suppression reason",
	"suppression_owner":  "suppression owner",
}

// columnOrder puts the columns of event tables in the order people scan
// them; unknown keys follow, sorted.
var columnOrder = []string{"event_time", "event_name", "result", "source_ip", "mfa", "caller", "region", "user_agent", "event_id"}

func label(key string) string {
	if l, ok := labels[key]; ok {
		return l
	}
	return report.Sanitize(strings.ReplaceAll(key, "_", " "))
}

// maxDepth bounds nesting; deeper values are shown as JSON text.
const maxDepth = 4

// NewEvidence lays out an evidence map. It is read through its JSON form,
// as a stored run's is, whatever Go types built it.
func NewEvidence(ev map[string]any) Evidence {
	b, err := json.Marshal(ev)
	if err != nil {
		return Evidence{Fields: []EvidenceField{{Key: "evidence", Label: "evidence", Text: "(not representable: " + report.Sanitize(err.Error()) + ")"}}}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return Evidence{Fields: []EvidenceField{{Key: "evidence", Label: "evidence", Text: "(not representable: " + report.Sanitize(err.Error()) + ")"}}}
	}
	return layout(m, 0)
}

func layout(ev map[string]any, depth int) Evidence {
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out Evidence
	for _, k := range keys {
		f := EvidenceField{Key: report.Sanitize(k), Label: label(k)}
		switch v := ev[k].(type) {
		case map[string]any:
			if len(v) == 0 {
				f.Empty = true
			} else if depth >= maxDepth {
				f.Text = asJSON(v)
			} else {
				o := layout(v, depth+1)
				f.Object = &o
			}
		case []any:
			switch {
			case len(v) == 0:
				f.Empty = true
			case allObjects(v) && depth < maxDepth:
				f.Table = table(v)
			default:
				for _, e := range v {
					f.Items = append(f.Items, scalar(e))
				}
			}
		default:
			f.Text = scalar(v)
			f.Empty = v == nil
		}
		out.Fields = append(out.Fields, f)
	}
	return out
}

func allObjects(v []any) bool {
	for _, e := range v {
		if _, ok := e.(map[string]any); !ok {
			return false
		}
	}
	return true
}

func table(v []any) *EvidenceTable {
	seen := map[string]bool{}
	for _, e := range v {
		for k := range e.(map[string]any) {
			seen[k] = true
		}
	}
	var keys []string
	for _, k := range columnOrder {
		if seen[k] {
			keys = append(keys, k)
			delete(seen, k)
		}
	}
	var rest []string
	for k := range seen {
		rest = append(rest, k)
	}
	slices.Sort(rest)
	keys = append(keys, rest...)
	t := &EvidenceTable{}
	for _, k := range keys {
		t.Columns = append(t.Columns, label(k))
	}
	for _, e := range v {
		m := e.(map[string]any)
		row := make([]string, len(keys))
		for i, k := range keys {
			if x, ok := m[k]; ok {
				row[i] = cellText(x)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// cellText is a table cell: a list of scalars joined (SCP names on a
// target, a gap's reasons), anything else as scalar shows it.
func cellText(v any) string {
	if list, ok := v.([]any); ok && !slices.ContainsFunc(list, func(e any) bool {
		switch e.(type) {
		case map[string]any, []any:
			return true
		}
		return false
	}) {
		items := make([]string, len(list))
		for i, e := range list {
			items[i] = scalar(e)
		}
		return strings.Join(items, "; ")
	}
	return scalar(v)
}

// scalar is a value as text; objects and lists (inside a list or a table
// cell) are their JSON.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return report.Sanitize(x)
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case map[string]any, []any:
		return asJSON(x)
	}
	return report.Sanitize(fmt.Sprint(v))
}

// asJSON is a value's JSON as people read it: html/template escapes it
// for the page, so JSON's own \u003c escaping is not wanted.
func asJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "(not representable: " + report.Sanitize(err.Error()) + ")"
	}
	return report.Sanitize(strings.TrimSpace(b.String()))
}

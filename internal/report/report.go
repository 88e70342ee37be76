// Package report writes a Run in the formats users read. Each format is one
// Writer over an io.Writer; writers never open or close files.
package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// Writer renders a run.
type Writer interface {
	Write(w io.Writer, run *finding.Run) error
}

// Formats lists the names New accepts.
func Formats() []string {
	return []string{"table", "json", "csv", "junit", "markdown", "sarif", "html", "asff", "ocsf"}
}

// Extension is the file name ending --output-dir gives a format.
func Extension(format string) string {
	switch strings.ToLower(format) {
	case "table":
		return "txt"
	case "junit":
		return "junit.xml"
	case "asff":
		return "asff.json"
	case "ocsf":
		return "ocsf.jsonl"
	case "markdown":
		return "md"
	}
	return strings.ToLower(format)
}

// Options tune writers that have a choice to make.
type Options struct {
	Color bool            // ANSI colour in the table (only for a terminal)
	Meta  finding.Catalog // the catalog, for formats that describe rules
}

// New returns the writer for a format name.
func New(format string, opts Options) (Writer, error) {
	switch strings.ToLower(format) {
	case "table", "":
		return Table{Color: opts.Color}, nil
	case "json":
		return JSON{}, nil
	case "csv":
		return CSV{}, nil
	case "junit":
		return JUnit{}, nil
	case "markdown", "md":
		return Markdown{Meta: opts.Meta}, nil
	case "sarif":
		return SARIF{Meta: opts.Meta}, nil
	case "html":
		return HTML{Meta: opts.Meta}, nil
	case "asff":
		return ASFF{Meta: opts.Meta}, nil
	case "ocsf":
		return OCSF{Meta: opts.Meta}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats(), ", "))
}

// JSON writes the schema-1 contract of docs/DESIGN.md.
type JSON struct{}

// Write streams the run field by field and its accounts and findings one by
// one, so that a 10,000-account run is never held twice in memory (once
// as values, once as text). The bytes are those of a json.Encoder with a
// two-space indent.
func (JSON) Write(w io.Writer, run *finding.Run) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	jw := &jsonStream{w: bw}
	jw.raw("{\n")
	jw.field("schema_version", run.SchemaVersion, false)
	jw.field("tool", run.Tool, false)
	jw.field("generated_at", run.GeneratedAt, false)
	jw.field("as_of", run.AsOf, false)
	jw.field("settings", run.Settings, false)
	jw.array("accounts", len(run.Accounts), run.Accounts == nil, func(i int) any { return run.Accounts[i] })
	jw.array("findings", len(run.Findings), run.Findings == nil, func(i int) any { return run.Findings[i] })
	jw.array("disabled_rules", len(run.DisabledRules), run.DisabledRules == nil, func(i int) any { return run.DisabledRules[i] })
	jw.field("summary", run.Summary, run.History == nil)
	if run.History != nil {
		jw.field("history", run.History, true)
	}
	jw.raw("}\n")
	if jw.err == nil {
		jw.err = bw.Flush()
	}
	if jw.err != nil {
		return fmt.Errorf("write json: %w", jw.err)
	}
	return nil
}

// jsonStream writes an indented JSON object a member at a time.
type jsonStream struct {
	w   *bufio.Writer
	err error
}

func (j *jsonStream) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

func (j *jsonStream) value(v any, prefix string) {
	if j.err != nil {
		return
	}
	b, err := json.MarshalIndent(v, prefix, "  ")
	if err != nil {
		j.err = err
		return
	}
	_, j.err = j.w.Write(b)
}

func (j *jsonStream) field(name string, v any, last bool) {
	j.raw("  " + strconv.Quote(name) + ": ")
	j.value(v, "  ")
	j.end(last)
}

func (j *jsonStream) end(last bool) {
	if last {
		j.raw("\n")
	} else {
		j.raw(",\n")
	}
}

// array writes a member holding a list, element by element.
func (j *jsonStream) array(name string, n int, isNil bool, elem func(int) any) {
	j.raw("  " + strconv.Quote(name) + ": ")
	switch {
	case isNil:
		j.raw("null")
	case n == 0:
		j.raw("[]")
	default:
		j.raw("[\n")
		for i := range n {
			j.raw("    ")
			j.value(elem(i), "    ")
			j.end(i == n-1)
		}
		j.raw("  ]")
	}
	j.end(false)
}

// Sanitize makes untrusted text safe for a terminal: control characters
// (which could carry escape sequences) and bidirectional overrides are
// shown as \x.. or \u.... escapes instead of being interpreted.
func Sanitize(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unsafeRune(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// arnPartition is the partition an ARN names (aws, aws-cn, aws-us-gov), or
// "" when s is not an ARN.
func arnPartition(s string) string {
	if p := strings.SplitN(s, ":", 3); len(p) == 3 && p[0] == "arn" {
		return p[1]
	}
	return ""
}

// sortedEvidenceKeys returns evidence keys in order, for stable output.
func sortedEvidenceKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// RulePageURL is where a rule's generated knowledge-base page lives.
func RulePageURL(id string) string {
	return "https://github.com/rootwatch/rootwatch/blob/main/docs/rules/" + id + ".md"
}

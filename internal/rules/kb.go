package rules

import (
	"bytes"
	"embed"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rootwatch/rootwatch/internal/finding"
)

//go:embed *.md
var kbFiles embed.FS

// Page is a rule's knowledge-base page.
type Page struct {
	ID         string              `yaml:"id" json:"id"`
	Title      string              `yaml:"title" json:"title"`
	Severity   string              `yaml:"severity" json:"severity"`
	Category   string              `yaml:"category" json:"category"`
	Tags       []string            `yaml:"tags" json:"tags"`
	Frameworks []finding.Framework `yaml:"frameworks" json:"frameworks"`
	Summary    string              `yaml:"summary" json:"summary"`

	// Body is the Markdown after the front matter; Sections splits it by
	// "## " heading.
	Body     string            `yaml:"-" json:"-"`
	Sections map[string]string `yaml:"-" json:"-"`
}

// RequiredSections are the headings every page must have, in order.
var requiredSections = []string{"Details", "Suggested Action", "References"}

// LoadPage reads and checks the embedded page of a rule.
func LoadPage(id string) (Page, error) {
	data, err := kbFiles.ReadFile(id + ".md")
	if err != nil {
		return Page{}, fmt.Errorf("rule %s: no knowledge-base page: %w", id, err)
	}
	return parsePage(id, data)
}

func parsePage(id string, data []byte) (Page, error) {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	rest, ok := bytes.CutPrefix(data, []byte("---\n"))
	if !ok {
		return Page{}, fmt.Errorf("rule %s: page does not start with front matter (---)", id)
	}
	fm, body, ok := bytes.Cut(rest, []byte("\n---\n"))
	if !ok {
		return Page{}, fmt.Errorf("rule %s: front matter is not closed by ---", id)
	}
	var p Page
	dec := yaml.NewDecoder(bytes.NewReader(fm))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return Page{}, fmt.Errorf("rule %s: front matter: %w", id, err)
	}
	p.Body = strings.TrimSpace(string(body))
	p.Sections = map[string]string{}
	var order []string
	for _, chunk := range strings.Split("\n"+p.Body, "\n## ")[1:] {
		head, text, _ := strings.Cut(chunk, "\n")
		head = strings.TrimSpace(head)
		p.Sections[head] = strings.TrimSpace(text)
		order = append(order, head)
	}
	if strings.Join(order, "|") != strings.Join(requiredSections, "|") {
		return Page{}, fmt.Errorf("rule %s: page sections are %q, want %q", id, order, requiredSections)
	}
	for _, s := range requiredSections {
		if p.Sections[s] == "" {
			return Page{}, fmt.Errorf("rule %s: section %q is empty", id, s)
		}
	}
	if !strings.Contains(p.Sections["References"], "https://docs.aws.amazon.com/") {
		return Page{}, fmt.Errorf("rule %s: References link no AWS documentation", id)
	}
	return p, nil
}

// CheckPage reports every way a rule and its page disagree.
func CheckPage(r Rule, p Page) []string {
	var bad []string
	if p.ID != r.ID {
		bad = append(bad, fmt.Sprintf("id %q, rule says %q", p.ID, r.ID))
	}
	if p.Title != r.Title {
		bad = append(bad, fmt.Sprintf("title %q, rule says %q", p.Title, r.Title))
	}
	if p.Severity != string(r.Severity) {
		bad = append(bad, fmt.Sprintf("severity %q, rule says %q", p.Severity, r.Severity))
	}
	if p.Category != r.Category {
		bad = append(bad, fmt.Sprintf("category %q, rule says %q", p.Category, r.Category))
	}
	if strings.TrimSpace(p.Summary) == "" {
		bad = append(bad, "summary is empty")
	}
	if len(p.Tags) == 0 {
		bad = append(bad, "no tags")
	}
	return bad
}

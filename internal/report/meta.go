package report

import (
	"fmt"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
)

// RuleMeta is what writers know of a rule: its definition and KB page.
type RuleMeta struct {
	ID, Title, Category, Summary, Details, Action, References string
	Severity                                                  finding.Severity
	Tags                                                      []string
	Frameworks                                                []rules.Framework
}

// Meta is the catalog as writers see it, in catalog order.
type Meta struct {
	Rules []RuleMeta
	byID  map[string]int
}

// Rule returns a rule's metadata.
func (m Meta) Rule(id string) (RuleMeta, bool) {
	i, ok := m.byID[id]
	if !ok {
		return RuleMeta{}, false
	}
	return m.Rules[i], true
}

// Index is a rule's position in the catalog (SARIF ruleIndex).
func (m Meta) Index(id string) int {
	if i, ok := m.byID[id]; ok {
		return i
	}
	return -1
}

// CatalogMeta builds writer metadata from the rule catalog and its pages.
func CatalogMeta() (Meta, error) {
	m := Meta{byID: map[string]int{}}
	for _, r := range rules.Catalog() {
		p, err := rules.LoadPage(r.ID)
		if err != nil {
			return Meta{}, fmt.Errorf("catalog: %w", err)
		}
		m.byID[r.ID] = len(m.Rules)
		m.Rules = append(m.Rules, RuleMeta{
			ID: r.ID, Title: r.Title, Category: r.Category, Severity: r.Severity, Summary: p.Summary,
			Details: p.Sections["Details"], Action: p.Sections["Suggested Action"], References: p.Sections["References"],
			Tags: p.Tags, Frameworks: p.Frameworks,
		})
	}
	return m, nil
}

// RulePageURL is where a rule's generated knowledge-base page lives.
func RulePageURL(id string) string {
	return "https://github.com/rootwatch/rootwatch/blob/main/docs/rules/" + id + ".md"
}

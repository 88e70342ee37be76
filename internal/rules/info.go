package rules

import (
	"fmt"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// Info is the catalog as writers see it: each rule with its page, in
// catalog order.
func Info() (finding.Catalog, error) {
	var infos []finding.RuleInfo
	for _, r := range Catalog() {
		p, err := LoadPage(r.ID)
		if err != nil {
			return finding.Catalog{}, fmt.Errorf("catalog: %w", err)
		}
		infos = append(infos, finding.RuleInfo{
			ID: r.ID, Title: r.Title, Category: r.Category, Severity: r.Severity, Summary: p.Summary,
			Details: p.Sections["Details"], Action: p.Sections["Suggested Action"], References: p.Sections["References"],
			Tags: p.Tags, Frameworks: p.Frameworks,
		})
	}
	return finding.NewCatalog(infos), nil
}

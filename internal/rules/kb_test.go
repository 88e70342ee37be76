package rules

import (
	"io/fs"
	"strings"
	"testing"
)

func TestEveryRuleHasAMatchingPage(t *testing.T) {
	ids := map[string]bool{}
	for _, r := range Catalog() {
		if ids[r.ID] {
			t.Errorf("rule id %s appears twice in the catalog", r.ID)
		}
		ids[r.ID] = true
		p, err := LoadPage(r.ID)
		if err != nil {
			t.Errorf("%s: %v", r.ID, err)
			continue
		}
		for _, bad := range CheckPage(r, p) {
			t.Errorf("%s: page and rule disagree: %s", r.ID, bad)
		}
		if r.Eval == nil || r.Title == "" || r.Severity.Rank() < 0 || len(r.Sources) == 0 {
			t.Errorf("%s: incomplete definition %+v", r.ID, r)
		}
	}
	pages, err := fs.Glob(kbFiles, "*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		if !ids[strings.TrimSuffix(p, ".md")] {
			t.Errorf("page %s has no rule", p)
		}
	}
}

func TestPageValidation(t *testing.T) {
	good := "---\nid: x\ntitle: X\nseverity: high\ncategory: identity\ntags: [a]\nsummary: s\n---\n## Details\nd\n## Suggested Action\na\n## References\n- [r](https://docs.aws.amazon.com/x)\n"
	if _, err := parsePage("x", []byte(good)); err != nil {
		t.Fatalf("good page rejected: %v", err)
	}
	bad := map[string]string{
		"no front matter":    "## Details\n",
		"unclosed":           "---\nid: x\n",
		"unknown key":        strings.Replace(good, "tags:", "tagz:", 1),
		"missing section":    strings.Replace(good, "## Suggested Action\na\n", "", 1),
		"sections reordered": strings.Replace(strings.Replace(good, "## Details\nd\n", "", 1), "## References", "## Details\nd\n## References", 1),
		"no AWS link":        strings.Replace(good, "https://docs.aws.amazon.com/x", "https://example.com", 1),
	}
	for name, page := range bad {
		if _, err := parsePage("x", []byte(page)); err == nil || !strings.Contains(err.Error(), "rule x") {
			t.Errorf("%s: err = %v, want an error naming the rule", name, err)
		}
	}
	r, _ := ByID("iam-root-active-password")
	p, _ := LoadPage(r.ID)
	p.Severity = "low"
	p.Title = "Other"
	if got := CheckPage(r, p); len(got) != 2 {
		t.Errorf("CheckPage found %v, want title and severity disagreements", got)
	}
}

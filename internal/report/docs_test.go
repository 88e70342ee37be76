package report

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedDocsAreCurrent fails when docs/rules differs from what the
// catalog generates: run `go run ./cmd/rootwatch docs --out docs/rules`.
func TestCommittedDocsAreCurrent(t *testing.T) {
	m, err := CatalogMeta()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "docs", "rules")
	pages := DocPages(m)
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("docs/rules/%s is not current (%v); regenerate with: go run ./cmd/rootwatch docs --out docs/rules", name, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if _, ok := pages[e.Name()]; !ok {
			t.Errorf("docs/rules/%s has no rule; remove it", e.Name())
		}
	}
}

package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rootwatch/rootwatch/internal/rules"
)

// TestCommittedDocsAreCurrent fails when docs/rules differs from what the
// catalog generates: run `go run ./cmd/rootwatch docs --out docs/rules`.
func TestCommittedDocsAreCurrent(t *testing.T) {
	m, err := rules.Info()
	if err != nil {
		t.Fatal(err)
	}
	dir := repoPath("docs", "rules")
	pages := docPages(m)
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

package query

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
)

// TestCheckPaths: every form of source is accepted when it names
// something, and refused before anything is read when it cannot.
func TestCheckPaths(t *testing.T) {
	dir := t.TempDir()
	if err := CheckPaths([]string{dir, "s3://bucket/prefix", "athena://primary/security.cloudtrail_logs", "lake://EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"}); err != nil {
		t.Errorf("good paths refused: %v", err)
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.json"): "CloudTrail path stat " + filepath.Join(dir, "missing.json") + ": no such file",
		"s3://":                            "s3://",
		"s3:///prefix":                     "s3:///prefix",
		"athena://primary/security":        "athena://primary/security",
		"lake://a b":                       "lake://a b",
	} {
		if err := CheckPaths([]string{dir, path}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %q", path, err, want)
		}
	}
}

// TestWindowOf: a query reads the filter's bounds and accounts,
// the accounts in order so that the statement is the same every time.
func TestWindowOf(t *testing.T) {
	since, now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	w := WindowOf(cloudtrail.Filter{Since: since, Accounts: map[string]bool{"333333333333": true, "111111111111": true, "222222222222": true}}, time.Minute, now)
	if !w.Since.Equal(since) || !w.Until.IsZero() || w.Timeout != time.Minute || !w.Now.Equal(now) ||
		!slices.Equal(w.Accounts, []string{"111111111111", "222222222222", "333333333333"}) {
		t.Errorf("window %+v", w)
	}
	if w := WindowOf(cloudtrail.Filter{}, 0, now); w.Accounts != nil {
		t.Errorf("no accounts: %v", w.Accounts)
	}
}

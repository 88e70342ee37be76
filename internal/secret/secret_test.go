package secret

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	os.WriteFile(path, []byte("  s3cret-from-file\n"), 0o600)
	env := map[string]string{"HOOK": "https://hooks.example/T0KEN"}
	src := Source{Getenv: func(k string) string { return env[k] }}
	for _, tc := range []struct{ in, want string }{
		{"env:HOOK", "https://hooks.example/T0KEN"},
		{"file:" + path, "s3cret-from-file"},
		{"https://literal.example/x", "https://literal.example/x"},
		{"", ""},
	} {
		if got, err := src.Resolve(tc.in); err != nil || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := src.Resolve("env:UNSET"); err == nil || err.Error() != "environment variable UNSET is empty or not set" {
		t.Errorf("unset variable: %v", err)
	}
	missing := filepath.Join(dir, "nope")
	_, err := src.Resolve("file:" + missing)
	if err == nil || err.Error() != "read "+missing+": no such file or directory" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestResolveReadsThroughTheSource: a file reference is read through the
// Source's ReadFile, once, and its error never carries the content.
func TestResolveReadsThroughTheSource(t *testing.T) {
	var reads []string
	src := Source{ReadFile: func(p string) ([]byte, error) {
		reads = append(reads, p)
		if p == "/bad" {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
		}
		return []byte("value\n"), nil
	}}
	if v, err := src.Resolve("file:/run/secrets/hook"); err != nil || v != "value" {
		t.Errorf("%q %v", v, err)
	}
	if _, err := src.Resolve("file:/bad"); err == nil || strings.Count(err.Error(), "/bad") != 1 {
		t.Errorf("the path is named once: %v", err)
	}
	if len(reads) != 2 || reads[0] != "/run/secrets/hook" {
		t.Errorf("reads %q", reads)
	}
}

func TestIsRef(t *testing.T) {
	for v, want := range map[string]bool{"env:X": true, "file:/p": true, "https://x": false, "environment": false, "": false} {
		if IsRef(v) != want {
			t.Errorf("IsRef(%q) = %v", v, !want)
		}
	}
}

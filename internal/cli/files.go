package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// stdoutPath is how -o names standard output.
const stdoutPath = "-"

// resolvePath is the file a path names, for comparing paths that are
// spelled differently: absolute, with symbolic links resolved (of the file
// when it exists, else of its directory).
func resolvePath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs))
	}
	return abs
}

// pathSet finds two roles naming the same file before anything is written:
// an output over an input, or two outputs over each other.
type pathSet struct {
	byPath map[string]string // resolved path -> "the flag PATH" that named it
}

func newPathSet() *pathSet { return &pathSet{byPath: map[string]string{}} }

// add records that role (e.g. "--output") names path; naming a file that
// another role names is an error that names both.
func (s *pathSet) add(role, path string) error {
	if path == "" || path == stdoutPath || strings.HasPrefix(path, "s3://") {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() && role != "--output-dir" {
		if strings.HasPrefix(role, "--output") || role == "--save-evidence" {
			return fmt.Errorf("%s %s is a directory", role, path)
		}
		return nil // an input directory is walked, not overwritten
	}
	real := resolvePath(path)
	if prev, ok := s.byPath[real]; ok {
		return fmt.Errorf("%s %s and %s name the same file (%s): nothing was written", prev, path, role, real)
	}
	s.byPath[real] = role + " " + path
	return nil
}

// writeAtomically writes a file whole or not at all: into a temporary file
// beside it (created exclusively, owner-only), renamed over the target only
// after every byte was written. A failed write leaves an existing file as
// it was.
func writeAtomically(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, errors.Unwrap(err))
	}
	return nil
}

package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rootwatch/rootwatch/internal/outfile"
	"github.com/rootwatch/rootwatch/internal/report"
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

// remote reports whether a path names something other than a local file
// (standard output, an S3 object, a query).
func remote(p string) bool {
	for _, scheme := range []string{"s3://", "athena://", "lake://"} {
		if strings.HasPrefix(p, scheme) {
			return true
		}
	}
	return false
}

// pathSet checks, before anything is read or written, that no output
// names an input, the bundle or another output, nor lies inside an input
// directory (a --cloudtrail directory is walked: a report written there
// would be read as CloudTrail by the next run), however the paths are
// spelled.
type pathSet struct {
	byPath map[string]string // resolved path (or descriptor) -> "the flag PATH" that named it
	dirs   [][2]string       // input directories: resolved path, "the flag PATH"
}

func newPathSet() *pathSet { return &pathSet{byPath: map[string]string{}} }

// input records that role (e.g. "--cloudtrail") reads path.
func (s *pathSet) input(role, path string) error {
	if path == "" || path == stdoutPath || remote(path) {
		return nil
	}
	real := resolvePath(path)
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		s.dirs = append(s.dirs, [2]string{real, role + " " + path})
		return nil
	}
	return s.claim(real, role+" "+path)
}

// output checks an output path (outfile.Check: how it is written, that it
// can be) and that it is nobody else's.
func (s *pathSet) output(role, path string, o outfile.Options) (*outfile.Target, error) {
	t, err := outfile.Check(role, path, o)
	if err != nil {
		return nil, err
	}
	if t.Kind != outfile.Descriptor {
		for _, d := range s.dirs {
			if t.File == d[0] || strings.HasPrefix(t.File, d[0]+string(filepath.Separator)) {
				return nil, fmt.Errorf("%s is inside %s, which rootwatch reads: the next run would read it as input; write it elsewhere", t, d[1])
			}
		}
	}
	return t, s.claim(t.Key(), t.String())
}

func (s *pathSet) claim(key, who string) error {
	if prev, ok := s.byPath[key]; ok {
		if key == "fd:1" {
			return fmt.Errorf("%s and %s both write to standard output: give each its own file", prev, who)
		}
		what := key
		if strings.HasPrefix(key, "fd:") {
			what = "descriptor " + strings.TrimPrefix(key, "fd:")
		}
		return fmt.Errorf("%s and %s name the same file (%s): nothing was written", prev, who, what)
	}
	s.byPath[key] = who
	return nil
}

// newBatch stages outputs with the App's standard output and error.
func newBatch(app *App) *outfile.Batch {
	return &outfile.Batch{Stdout: app.Stdout, Stderr: app.Stderr, Notice: func(s string) { fmt.Fprintln(app.Stderr, "rootwatch: "+report.Clean(s)) }}
}

// writeOne writes one checked target whole (standard output and error are
// the App's).
func writeOne(ctx context.Context, app *App, t *outfile.Target, perm fs.FileMode, write func(io.Writer) error) error {
	b := newBatch(app)
	defer b.Abort()
	if err := b.Add(t, perm, write); err != nil {
		return err
	}
	return b.Commit(ctx)
}

// checkPlanOutput checks remediate plan's -o before anything is read: the
// plan summary goes to standard output, so the plan must go elsewhere.
func checkPlanOutput(path string) (*outfile.Target, error) {
	if path == "" {
		return nil, nil
	}
	t, err := outfile.Check("--output", path, outfile.Options{})
	if err == nil && t.Kind == outfile.Descriptor && t.FD == 1 {
		err = fmt.Errorf("--output %s: the summary goes to standard output; write the plan to a file", path)
	}
	return t, err
}

// checkApplyFiles checks remediate apply's files before anything is
// changed: the --log journal is not the plan, and --summary has a
// directory that takes it and is neither.
func checkApplyFiles(plan, logPath, summary string) (*outfile.Target, error) {
	files := newPathSet()
	if err := files.input("PLAN", plan); err != nil {
		return nil, err
	}
	if err := files.input("--log", logPath); err != nil {
		return nil, err
	}
	if summary == "" {
		return nil, nil
	}
	return files.output("--summary", summary, outfile.Options{})
}

package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/rules"
)

// extensions lists the file name endings --output-dir uses, by format.
func extensions() []string {
	var out []string
	for _, f := range report.Formats() {
		out = append(out, report.Extension(f))
	}
	return out
}

// output is one writer and where it writes ("" is standard output).
type output struct {
	writer report.Writer
	path   string
}

// planOutputs pairs formats with destinations: one format to standard
// output, formats paired in order with --output files, or every format
// into --output-dir with its default name.
func planOutputs(app *App, o *scanOptions) ([]output, error) {
	meta, err := rules.Info()
	if err != nil {
		return nil, err
	}
	var paths []string
	switch {
	case o.outputDir != "" && len(o.outputs) > 0:
		return nil, fmt.Errorf("--output and --output-dir cannot be combined")
	case o.outputDir != "":
		if st, err := os.Stat(o.outputDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--output-dir %s is not a directory", o.outputDir)
		}
		for _, f := range o.formats {
			paths = append(paths, filepath.Join(o.outputDir, "rootwatch."+report.Extension(f)))
		}
	case len(o.outputs) == len(o.formats):
		paths = o.outputs
	case len(o.outputs) == 0 && len(o.formats) == 1:
		paths = []string{""}
	case len(o.outputs) == 0:
		return nil, fmt.Errorf("%d formats but no --output: give one --output per --format, or --output-dir", len(o.formats))
	default:
		return nil, fmt.Errorf("%d --format and %d --output: give one --output per --format, in the same order", len(o.formats), len(o.outputs))
	}
	seen := map[string]bool{}
	var outs []output
	for i, f := range o.formats {
		if paths[i] != "" && seen[paths[i]] {
			return nil, fmt.Errorf("two outputs write to %s", paths[i])
		}
		seen[paths[i]] = true
		w, err := report.New(f, report.Options{Color: useColor(app, o, paths[i]), Meta: meta})
		if err != nil {
			return nil, err
		}
		outs = append(outs, output{writer: w, path: paths[i]})
	}
	return outs, nil
}

func useColor(app *App, o *scanOptions, path string) bool {
	switch o.color {
	case "always":
		return true
	case "never":
		return false
	}
	return path == "" && app.Getenv("NO_COLOR") == "" && app.IsTerminal(app.Stdout)
}

func writeRun(app *App, w report.Writer, run *finding.Run, path string) error {
	if path == "" {
		return w.Write(app.Stdout, run)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("open output: %w", err)}
	}
	if err := w.Write(f, run); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Package cli builds rootwatch's cobra commands. Commands turn flags into
// option structs and call the packages that do the work; they hold no
// evaluation logic of their own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/secret"
)

// Exit codes (docs/DESIGN.md).
const (
	ExitOK       = 0 // no failing finding at or above --fail-on
	ExitFindings = 1 // failing findings
	ExitUsage    = 2 // usage, input or credentials error: nothing judged
	ExitUnknown  = 3 // no failing finding, but some rules could not be judged
	ExitNotify   = 4 // the scan was clean, but a notification was not delivered
	// ExitNotStored: the run was judged and its outputs written, but the
	// history store could not keep it (whatever the findings).
	ExitNotStored = 5
	// ExitInterrupted is the shell's code for a process stopped by SIGINT
	// (128+2): Ctrl-C or SIGTERM cancelled the run's context.
	ExitInterrupted = 130
)

// ExitError carries an exit code up to main. Err may be nil when the code
// alone says it all (findings were printed).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps an error returned by Execute to the process exit code: nil
// is 0, a cancelled context (Ctrl-C, SIGTERM) 130 whatever else the error
// says, an ExitError its code, and anything else a usage or input error (2).
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitUsage
}

// Message returns what main should print for an error, or "" for none.
// Errors can quote AWS's own messages and file contents: every line is
// sanitized for the terminal, and a line is bounded in length.
func Message(err error) string {
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return ""
	}
	if err == nil {
		return ""
	}
	msg := err.Error()
	if errors.Is(err, context.Canceled) && !strings.Contains(msg, "interrupted") {
		msg = "interrupted: " + msg
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		lines[i] = report.Clean(l)
	}
	return strings.Join(lines, "\n")
}

// App is the environment commands run in; tests replace every part.
type App struct {
	// Stdin answers confirmations, only when StdinIsTerminal says it is a
	// terminal (nil: it is not).
	Stdin           io.Reader
	StdinIsTerminal func() bool
	Stdout          io.Writer
	Stderr          io.Writer
	Getenv          func(string) string
	Now             func() time.Time
	Version         string
	// IsTerminal reports whether w is an interactive terminal (for colour
	// and progress).
	IsTerminal func(w io.Writer) bool
	// AWSConfig loads the SDK configuration for live scans.
	AWSConfig awsx.Loader
	// ReadFile reads what a file:PATH reference names (notification
	// targets, signing keys; nil: os.ReadFile).
	ReadFile func(string) ([]byte, error)
}

// DefaultApp is the App of the real process.
func DefaultApp(version string) *App {
	return &App{
		Stdin: os.Stdin,
		StdinIsTerminal: func() bool {
			st, err := os.Stdin.Stat()
			return err == nil && st.Mode()&os.ModeCharDevice != 0
		},
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.Getenv,
		ReadFile:   os.ReadFile,
		Now:        time.Now,
		Version:    version,
		IsTerminal: isTerminal,
		AWSConfig:  awsx.DefaultLoader,
	}
}

// secrets reads env:VAR and file:PATH references through the App.
func (app *App) secrets() secret.Source {
	return secret.Source{Getenv: app.Getenv, ReadFile: app.ReadFile}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Execute runs the command line args (without the program name).
func Execute(ctx context.Context, app *App, args []string) error {
	root := NewRootCommand(app)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// NewRootCommand builds the command tree.
func NewRootCommand(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "rootwatch",
		Short: "Audit AWS root users: is anyone using them, and could anyone?",
		Long: `rootwatch audits AWS accounts for root-user risk: a root password used
recently, root access keys and signing certificates, missing or virtual root MFA,
and organizations that have not centralized root access.

Every rule returns pass only on evidence. Missing, denied, stale or malformed
evidence gives "unknown" (or "error") with the reason, never a silent pass.

Exit codes:
  0  no failing finding at or above --fail-on
  1  failing findings
  2  usage, input or credentials error (nothing was judged)
  3  no failing finding, but some rules could not be judged (unknown/error)
  4  the scan was clean (exit 0 otherwise), but a notification was not delivered
  5  the run was judged and its outputs written, but --store could not keep it
     (store it later with 'rootwatch runs import'); 5 wins over 1, 3 and 4
  130  interrupted (Ctrl-C or SIGTERM): a scan stops before judging and writes,
       stores and sends nothing`,
		Example: `  # See real output in seconds, no AWS credentials needed
  rootwatch scan --demo

  # Judge a saved credential report as of the moment it was generated
  rootwatch scan --credential-report report.csv --as-of 2026-01-01T00:00:00Z

  # Read a rule's knowledge-base page
  rootwatch explain iam-root-active-password`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(app.Stdout)
	root.SetErr(app.Stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(newScanCommand(app), newTrailCommand(app), newRulesCommand(app), newExplainCommand(app), newDocsCommand(app), newVersionCommand(app),
		newRunsCommand(app), newDiffCommand(app), newHistoryCommand(app), newPruneCommand(app), newNotifyCommand(app),
		newRemediateCommand(app), newWatchCommand(app), newServeCommand(app))
	return root
}

func newVersionCommand(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print rootwatch's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(app.Stdout, "rootwatch %s\n", app.Version)
			return err
		},
	}
}

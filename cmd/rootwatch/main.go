// Command rootwatch audits AWS root users. main only wires the process to
// the CLI and maps the returned error to an exit code.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/rootwatch/rootwatch/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	// SIGINT and SIGTERM end the context: a scan stops, watch finishes
	// the alerts in flight and exits 0.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Execute(ctx, cli.DefaultApp(resolveVersion()), os.Args[1:])
	stop()
	if msg := cli.Message(err); msg != "" {
		fmt.Fprintln(os.Stderr, "rootwatch: "+msg)
	}
	os.Exit(cli.ExitCode(err))
}

func resolveVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/rootwatch/rootwatch/internal/panel"
	"github.com/rootwatch/rootwatch/internal/panel/query"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/store"
)

func newServeCommand(app *App) *cobra.Command {
	var spec, addr, tokenSpec, certFile, keyFile, logFormat string
	var shutdown time.Duration
	cmd := &cobra.Command{
		Use:   "serve --store STORE [--addr 127.0.0.1:8080]",
		Short: "Serve a read-only web panel over the history store",
		Long: `serve runs a web panel over the runs a history store keeps ('scan --store'),
from this binary: its pages, stylesheet and icon are built in, nothing is
fetched from elsewhere, and there is no script. It opens the store read-only
and shows a run that 'scan --store' stores while it serves, without a restart.

What each view answers:
  /               how did the latest run go (findings by status and
                  severity), and how do failing findings and failing accounts
                  trend over the stored runs?
  /matrix         which accounts fail what? One row per account, one cell per
                  rule, filtered by status, severity, rule, account ID, name or
                  tag (key=value), OU path (when runs carry one), "changed
                  since run N", or accounts the latest run did not assess. An
                  account the latest run did not assess keeps its last known
                  state, and says how much older it is. Export exactly the
                  filtered rows, every page of them, as CSV or JSON.
  /accounts/ID    what is wrong with this account, on what evidence
                  (CloudTrail events with time, source IP, MFA used, AssumeRoot
                  caller; any other evidence as keys and values), and since
                  when (each rule's status, run by run)?
  /rules/ID       what does this rule check and what should we do (its
                  knowledge-base page, as 'rootwatch explain' prints it), and
                  which accounts does it fail, newest failure first?
  /runs, /diff    what changed between any two runs: new failures, resolved,
                  changed, as 'rootwatch diff' lists them
  /suppressions   which failures did we accept, why, who answers for them,
                  until when? Expired ones are marked.
  /healthz        "ok", for a health check (no token needed)

Security: the panel shows who can become root, so it listens on loopback
(127.0.0.1:8080) unless told otherwise, and there answers only to a loopback
host name. Any other --addr needs --auth-token env:VAR or file:PATH, a random
secret of at least 16 characters ('openssl rand -hex 32'); without one,
serve refuses to start (exit 2). With a token every request needs it: the
header 'Authorization: Bearer TOKEN', or the sign-in form, which sets an
HttpOnly, SameSite=Strict session cookie for 12 hours (Secure under TLS).
--tls-cert and --tls-key serve HTTPS. Every response carries a strict
Content-Security-Policy (no script, no inline style, no framing); text from
AWS is escaped, control characters and bidirectional overrides shown, not
obeyed. The store's address and password are never shown.

Logs go to stderr: one line per request (method, path without its query,
status, size, duration). SIGINT or SIGTERM stop accepting requests, let those
in flight finish within --shutdown-timeout, and exit 0.

` + storeHelp + `
serve opens the store read-only and never migrates it: a store written by an
older rootwatch is refused until a command that migrates it ('rootwatch runs
--store STORE') has opened it.`,
		Example: `  rootwatch scan --org --store rootwatch.db          # daily, from cron or CI
  rootwatch serve --store rootwatch.db               # then open http://127.0.0.1:8080/

  # For a team: a token, TLS, every interface
  openssl rand -hex 32 > /etc/rootwatch/panel.token && chmod 600 /etc/rootwatch/panel.token
  rootwatch serve --store env:ROOTWATCH_STORE --addr 0.0.0.0:8443 \
      --auth-token file:/etc/rootwatch/panel.token --tls-cert panel.crt --tls-key panel.key
  curl -H "Authorization: Bearer $(cat /etc/rootwatch/panel.token)" https://panel.example:8443/matrix.csv?status=fail`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loopback, err := panel.IsLoopback(addr)
			if err != nil {
				return usageErr("%v", err)
			}
			var token []byte
			if tokenSpec != "" {
				if token, err = panel.LoadToken(tokenSpec, app.Getenv); err != nil {
					return usageErr("%v", err)
				}
			}
			if !loopback && token == nil {
				return usageErr("--addr %s is not a loopback address, and the panel shows who can become root in your accounts: give --auth-token env:VAR or file:PATH (a random secret of at least %d characters, e.g. from 'openssl rand -hex 32'), or listen on 127.0.0.1", addr, panel.MinTokenLength)
			}
			var cert *tls.Certificate
			switch {
			case (certFile == "") != (keyFile == ""):
				return usageErr("--tls-cert and --tls-key go together")
			case certFile != "":
				c, err := tls.LoadX509KeyPair(certFile, keyFile)
				if err != nil {
					return usageErr("--tls-cert/--tls-key: %v", err)
				}
				cert = &c
			}
			if shutdown <= 0 {
				return usageErr("--shutdown-timeout %s: want more than 0", shutdown)
			}
			log, err := stderrLogger(app, logFormat)
			if err != nil {
				return err
			}
			s, err := store.OpenReadOnly(cmd.Context(), spec, store.Options{Getenv: app.Getenv})
			var ns *store.NoStoreError
			if errors.As(err, &ns) {
				return usageErr("%v ('scan --store' and 'runs import' create a store; serve only reads one)", err)
			}
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			defer s.Close()
			catalog, err := rules.Info()
			if err != nil {
				return err
			}
			src := query.NewStoreSource(s)
			handler, err := panel.New(panel.Options{Source: src, Catalog: catalog, Token: token, TLS: cert != nil,
				Loopback: loopback, Log: log, Now: app.Now, Version: app.Version, Store: report.Clean(store.Describe(spec))})
			if err != nil {
				return err
			}
			scheme := "http"
			if cert != nil {
				scheme = "https"
			}
			// The stored runs are read while the panel listens, not when the
			// first page is asked for.
			ctx, stop := context.WithCancel(cmd.Context())
			var prepared sync.WaitGroup
			defer prepared.Wait()
			defer stop()
			err = panel.Serve(ctx, panel.ServeOptions{Addr: addr, Handler: handler, Cert: cert, Log: log, ShutdownTimeout: shutdown,
				Listening: func(bound string) {
					log.Info("serving the panel, read-only", "url", fmt.Sprintf("%s://%s/", scheme, bound), "store", report.Clean(store.Describe(spec)),
						"authentication", map[bool]string{true: "token", false: "none (loopback only)"}[token != nil])
					prepared.Go(func() {
						began := time.Now()
						runs, err := src.Prepare(ctx)
						switch {
						case err != nil && ctx.Err() == nil:
							log.Warn("could not read the stored runs ahead of the first page (each page will try again)", "error", err)
						case err == nil:
							log.Info("read the stored runs", "runs", runs, "took", time.Since(began).Round(time.Millisecond))
						}
					})
				}})
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec, "store", "", "the history `STORE` (opened read-only)")
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "listen on this `HOST:PORT`; anything but loopback needs --auth-token")
	f.StringVar(&tokenSpec, "auth-token", "", "require this access token (env:VAR or file:PATH), as a bearer token or through the sign-in form")
	f.StringVar(&certFile, "tls-cert", "", "serve HTTPS with this PEM certificate `FILE` (with --tls-key)")
	f.StringVar(&keyFile, "tls-key", "", "the PEM private key `FILE` of --tls-cert")
	f.StringVar(&logFormat, "log-format", "text", "log format on stderr: text or json")
	f.DurationVar(&shutdown, "shutdown-timeout", 10*time.Second, "on SIGINT/SIGTERM, how long the requests in flight may take to finish")
	cmd.MarkFlagRequired("store")
	return cmd
}

// stderrLogger is a long-running command's log on stderr, in text or JSON
// (--log-format).
func stderrLogger(app *App, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(app.Stderr, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(app.Stderr, nil)), nil
	}
	return nil, usageErr("--log-format %q: want text or json", format)
}

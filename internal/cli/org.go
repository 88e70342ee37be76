package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rootwatch/rootwatch/internal/engine"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/live"
	"github.com/rootwatch/rootwatch/internal/source/org"
)

func (o *scanOptions) validateOrg() error {
	orgOnly := o.roleARNTemplate != "" || o.externalID != "" || len(o.accounts) > 0 || len(o.excludeAccounts) > 0
	if orgOnly && !o.org {
		return fmt.Errorf("--role-arn-template, --external-id, --accounts and --exclude-accounts go with --org")
	}
	if o.roleARNTemplate != "" {
		if err := org.ValidateTemplate(o.roleARNTemplate); err != nil {
			return err
		}
	}
	for _, list := range [][]string{o.accounts, o.excludeAccounts} {
		for _, a := range list {
			if !evidence.ValidAccountID(a) {
				return fmt.Errorf("%q is not a 12-digit account ID", a)
			}
		}
	}
	if o.concurrency < 1 || o.concurrency > 1000 {
		return fmt.Errorf("--concurrency must be between 1 and 1000, got %d", o.concurrency)
	}
	return nil
}

func set(ids []string) map[string]bool {
	if len(ids) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// collectOrg scans every account of the caller's organization.
func collectOrg(ctx context.Context, app *App, o *scanOptions, settings engine.Settings) ([]*evidence.Account, error) {
	cfg, err := awsConfigFor(ctx, app, o.profile, o.region)
	if err != nil {
		return nil, err
	}
	bar := newProgressBar(app)
	accounts, err := org.Scan(ctx, cfg, org.Options{
		RoleName: o.roleName, RoleARNTemplate: o.roleARNTemplate, ExternalID: o.externalID, SessionName: o.sessionName,
		Include: set(o.accounts), Exclude: set(o.excludeAccounts), Concurrency: o.concurrency, AccountTimeout: o.accountTimeout,
		Collect:  live.Options{MaxReportAge: settings.MaxReportAge, ReportTimeout: o.reportTimeout, Now: app.Now, TrailLookback: lookback(settings)},
		Progress: bar.update,
	})
	bar.finish()
	if err != nil {
		if _, isCred := err.(*live.CredentialsError); isCred {
			return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w;\n%s", err, credentialsHelp)}
		}
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return accounts, nil
}

// progressBar draws "[####      ] 420/1000 accounts · 12 failed" on stderr
// when it is a terminal, at most ten times a second; in CI logs it is silent.
type progressBar struct {
	app   *App
	on    bool
	mu    sync.Mutex
	last  time.Time
	shown bool
}

func newProgressBar(app *App) *progressBar {
	return &progressBar{app: app, on: app.IsTerminal(app.Stderr)}
}

func (b *progressBar) update(p org.Progress) {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.Done < p.Total && time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	const width = 30
	filled := 0
	if p.Total > 0 {
		filled = p.Done * width / p.Total
	}
	fmt.Fprintf(b.app.Stderr, "\r[%s%s] %d/%d accounts · %d failed · %d remaining ",
		strings.Repeat("#", filled), strings.Repeat(" ", width-filled), p.Done, p.Total, p.Failed, p.Total-p.Done)
	b.shown = true
}

func (b *progressBar) finish() {
	if b.on && b.shown {
		fmt.Fprintln(b.app.Stderr)
	}
}

package scan

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rootwatch/rootwatch/internal/engine"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/credreport"
	"github.com/rootwatch/rootwatch/internal/source/demo"
	"github.com/rootwatch/rootwatch/internal/source/live"
	"github.com/rootwatch/rootwatch/internal/source/org"
)

func (o *Options) liveOptions(s engine.Settings, asOf time.Time) live.Options {
	return live.Options{MaxReportAge: s.MaxReportAge, ReportTimeout: o.ReportTimeout, Now: o.Now, AsOf: asOf, TrailLookback: Lookback(s), Regions: o.Regions}
}

// progress counts accounts for Options.Progress, from any goroutine.
type progress struct {
	mu   sync.Mutex
	o    *Options
	done Progress
}

func (p *progress) account(a *evidence.Account, total int) {
	if p.o.Progress == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done.Done++
	p.done.Total = total
	if a.Error != "" {
		p.done.Failed++
	}
	p.done.AccountID, p.done.Error = a.ID, a.Error
	p.o.Progress(p.done)
}

// collectLive scans the account the caller's credentials land in.
func collectLive(ctx context.Context, o *Options, s engine.Settings, asOf time.Time) ([]*evidence.Account, error) {
	cfg, err := o.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	a, err := live.Account(ctx, live.NewClients(cfg), o.liveOptions(s, asOf))
	if err != nil {
		return nil, err
	}
	(&progress{o: o}).account(a, 1)
	return []*evidence.Account{a}, nil
}

// collectOrg scans every account of the caller's organization.
func collectOrg(ctx context.Context, o *Options, s engine.Settings, asOf time.Time) ([]*evidence.Account, error) {
	cfg, err := o.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	g := o.Org
	bar := &progress{o: o}
	accounts, err := org.Scan(ctx, cfg, org.Options{
		RoleName: g.RoleName, RoleARNTemplate: g.RoleARNTemplate, ExternalID: g.ExternalID, SessionName: g.SessionName,
		Include: set(g.Include), Exclude: set(g.Exclude), Concurrency: g.Concurrency, AccountTimeout: g.AccountTimeout,
		Names: g.Names, Collect: o.liveOptions(s, asOf), ReadTags: g.ReadTags,
		Progress: func(p org.Progress) { bar.account(p.Account, p.Total) },
	})
	if err != nil {
		return nil, err
	}
	shareCallsAboutRoots(accounts)
	return accounts, nil
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

// collectDemo scans the demo's accounts on its fake AWS.
func collectDemo(ctx context.Context, o *Options, s engine.Settings, asOf time.Time) ([]*evidence.Account, error) {
	accounts, err := demo.Collect(ctx, demo.Options{AsOf: asOf, MaxReportAge: s.MaxReportAge, TrailLookback: Lookback(s), Progress: (&progress{o: o}).account})
	if err != nil {
		return nil, err
	}
	// The management account's calls about member roots (AssumeRoot, root
	// e-mail changes) go to the members they name.
	shareCallsAboutRoots(accounts)
	return accounts, nil
}

// loadReports turns saved credential reports into account evidence. Sources
// a file cannot provide are recorded as missing, so the account is shown as
// partial and the rules that need them say so.
func loadReports(o *Options, now time.Time) ([]*evidence.Account, error) {
	r := o.Reports
	seen := map[string]string{}
	var out []*evidence.Account
	for _, path := range r.Paths {
		data, err := credreport.ReadFile(path)
		if err != nil {
			return nil, err
		}
		rep, err := credreport.ParseFile(data, path)
		if err != nil {
			return nil, err
		}
		if !r.GeneratedAt.IsZero() {
			if !rep.GeneratedTime.IsZero() && !rep.GeneratedTime.Equal(r.GeneratedAt) {
				return nil, fmt.Errorf("%s says it was generated at %s, but the report time given is %s", path, rep.GeneratedTime.Format(time.RFC3339), r.GeneratedAt.Format(time.RFC3339))
			}
			rep.GeneratedTime = r.GeneratedAt.UTC()
		}
		// An explicit as-of time judges a bare CSV as of the moment it was
		// taken (docs/DESIGN.md); without one, "now" says nothing of its age.
		rep.TakenAtAsOf = rep.GeneratedTime.IsZero() && !o.AsOf.IsZero()
		partition, account, err := credreport.AccountOf(rep)
		switch {
		case err != nil && r.Account == "":
			return nil, err
		case err != nil:
			partition, account = "aws", r.Account
		case r.Account != "" && r.Account != account:
			return nil, fmt.Errorf("%s belongs to account %s, not %s (the account expected)", path, account, r.Account)
		}
		if prev, dup := seen[account]; dup {
			return nil, fmt.Errorf("%s and %s are both reports of account %s; give one per account", prev, path, account)
		}
		seen[account] = path
		for _, warn := range rep.Warnings {
			o.notice("warning: %s: %s", path, warn)
		}
		for _, is := range rep.Issues {
			o.notice("warning: %s: %s", path, is.String())
		}
		a := &evidence.Account{ID: account, Partition: partition, CollectedAt: now, CredentialReport: rep}
		a.SetSource(evidence.SourceCredentialReport, evidence.SourceStatus{State: evidence.StateOK, CollectedAt: now, Detail: reportDetail(rep)})
		offline := evidence.SourceStatus{State: evidence.StateMissing, Detail: "not available from a credential report file"}
		a.SetSource(evidence.SourceAccountSummary, offline)
		a.SetSource(evidence.SourceVirtualMFA, offline)
		a.SetSource(evidence.SourceOrganization, offline)
		for _, name := range evidence.MonitoringSources() {
			a.SetSource(name, offline)
		}
		out = append(out, a)
	}
	return out, nil
}

func reportDetail(rep *evidence.CredentialReport) string {
	d := fmt.Sprintf("read from %s (%s, %s)", rep.Source, evidence.Count(len(rep.Rows), "row"), evidence.Count(len(rep.Columns), "column"))
	if n := len(rep.Warnings) + len(rep.Issues); n > 0 {
		d += "; " + evidence.Count(n, "warning") + ", see stderr"
	}
	return d
}

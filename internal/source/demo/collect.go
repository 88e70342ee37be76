package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/live"
	"github.com/rootwatch/rootwatch/internal/source/org"
)

// Options say how the demo is collected.
type Options struct {
	// AsOf is the moment judged: the fake's clock and the collector's both
	// stand there, so the demo's verdicts never age.
	AsOf                        time.Time
	MaxReportAge, TrailLookback time.Duration
	// Progress, when set, is called as each account is done, with how many
	// accounts there are.
	Progress func(a *evidence.Account, total int)
}

// Collect serves the demo world on a loopback port for as long as it runs
// and collects each of its accounts through the same live collection path
// as a real scan: the organization through the organization path
// (ListAccounts, AssumeRole into the member), the standalone account on its
// own.
func Collect(ctx context.Context, o Options) ([]*evidence.Account, error) {
	clock := func() time.Time { return o.AsOf }
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, url, err := awsfake.Serve(ctx, World(), "demo world", awsfake.Options{Now: clock})
	if err != nil {
		return nil, fmt.Errorf("start the demo's fake AWS: %w", err)
	}
	creds := Credentials()
	copts := live.Options{MaxReportAge: o.MaxReportAge, ReportTimeout: 10 * time.Second, PollInterval: 10 * time.Millisecond,
		Now: clock, AsOf: o.AsOf, TrailLookback: o.TrailLookback}
	total := 0
	done := func(a *evidence.Account, n int) {
		total = n
		if o.Progress != nil {
			o.Progress(a, n)
		}
	}
	out, err := org.Scan(ctx, awsfake.ClientConfig(url, creds[ManagementAccount]), org.Options{Concurrency: 4, AccountTimeout: 30 * time.Second, Collect: copts,
		Progress: func(p org.Progress) { done(p.Account, p.Total+1) }})
	if err != nil {
		return nil, fmt.Errorf("demo organization: %w", err)
	}
	a, err := live.Account(ctx, live.NewClients(awsfake.ClientConfig(url, creds[StandaloneAccount])), copts)
	if err != nil {
		return nil, fmt.Errorf("demo account %s: %w", StandaloneAccount, err)
	}
	done(a, total)
	return append(out, a), nil
}

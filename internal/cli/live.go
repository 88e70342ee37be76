package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/engine"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/source/demo"
	"github.com/rootwatch/rootwatch/internal/source/live"
	"github.com/rootwatch/rootwatch/internal/source/org"
)

// AWSConfigLoader loads the SDK configuration for a profile and region.
type AWSConfigLoader func(ctx context.Context, profile, region string) (aws.Config, error)

// defaultAWSConfig uses the SDK's default chain: environment, shared config
// and credentials files (--profile or AWS_PROFILE), SSO, container and
// instance roles. AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> are
// honoured by the SDK. IAM is global; STS and Organizations need a region,
// us-east-1 when none is configured.
func defaultAWSConfig(ctx context.Context, profile, region string) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(profile))
	}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

const credentialsHelp = `provide credentials in one of these ways:
  --profile NAME (or AWS_PROFILE) naming a profile in ~/.aws/config or ~/.aws/credentials
  aws sso login --profile NAME, then --profile NAME
  AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)
  a container or instance role
or try rootwatch without AWS: rootwatch scan --demo`

// collectLive scans the account the caller's credentials land in.
func collectLive(ctx context.Context, app *App, o *scanOptions, settings engine.Settings) ([]*evidence.Account, error) {
	cfg, err := awsConfigFor(ctx, app, o.profile, o.region)
	if err != nil {
		return nil, err
	}
	a, err := live.Account(ctx, live.NewClients(cfg), live.Options{
		MaxReportAge: settings.MaxReportAge, ReportTimeout: o.reportTimeout, Now: app.Now,
		TrailLookback: lookback(settings),
	})
	var ce *live.CredentialsError
	switch {
	case errors.As(err, &ce):
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w;\n%s", err, credentialsHelp)}
	case err != nil:
		return nil, err
	}
	return []*evidence.Account{a}, nil
}

// collectDemo serves the demo world on a loopback port and scans each of its
// accounts through the same live collection path, with the fake's clock and
// the collector's both set to the as-of time.
func collectDemo(ctx context.Context, settings engine.Settings, asOf time.Time) ([]*evidence.Account, error) {
	clock := func() time.Time { return asOf }
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, url, err := awsfake.Serve(ctx, demo.World(), "demo world", awsfake.Options{Now: clock})
	if err != nil {
		return nil, fmt.Errorf("start the demo's fake AWS: %w", err)
	}
	creds := demo.Credentials()
	copts := live.Options{MaxReportAge: settings.MaxReportAge, ReportTimeout: 10 * time.Second, PollInterval: 10 * time.Millisecond,
		Now: clock, TrailLookback: lookback(settings)}
	// The organization goes through the --org path (ListAccounts, AssumeRole
	// into the member); the standalone account is scanned on its own.
	out, err := org.Scan(ctx, awsfake.ClientConfig(url, creds[demo.ManagementAccount]), org.Options{Concurrency: 4, AccountTimeout: 30 * time.Second, Collect: copts})
	if err != nil {
		return nil, fmt.Errorf("demo organization: %w", err)
	}
	a, err := live.Account(ctx, live.NewClients(awsfake.ClientConfig(url, creds[demo.StandaloneAccount])), copts)
	if err != nil {
		return nil, fmt.Errorf("demo account %s: %w", demo.StandaloneAccount, err)
	}
	out = append(out, a)
	return out, nil
}

// lookback is how far back live CloudTrail must reach: the widest window of
// the enabled rules. Beyond LookupEvents' 90 days the rules say the
// evidence does not cover their window.
func lookback(s engine.Settings) time.Duration {
	d := s.Window
	for _, r := range s.Enabled(rules.Catalog()) {
		if w := s.For(r).Window; r.UsesWindow && w > d {
			d = w
		}
	}
	return d
}

package scan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/config"
	"github.com/rootwatch/rootwatch/internal/engine"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/bundle"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
	"github.com/rootwatch/rootwatch/internal/source/demo"
	"github.com/rootwatch/rootwatch/internal/window"
)

// ToolName names rootwatch in runs and bundles.
const ToolName = "rootwatch"

// Run collects the evidence the options name, judges it with the enabled
// rules as of one moment, and returns the run. Sources that fail become
// per-source states in the evidence, never a missing account; an error is
// returned only when nothing can be judged (bad input, no credentials).
func Run(ctx context.Context, o Options) (*finding.Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	now := o.now()
	p, err := o.plan(now)
	if err != nil {
		return nil, err
	}
	accounts, err := o.collect(ctx, p, now)
	if err != nil {
		return nil, err
	}
	if len(o.CloudTrail) > 0 {
		// Read only the days the widest rule window needs.
		f := cloudtrail.Filter{Since: p.asOf.Add(-Lookback(p.settings))}
		res, err := readCloudTrail(ctx, &o, o.CloudTrail, f, 0, p.asOf)
		if err != nil {
			return nil, err
		}
		attachCloudTrail(accounts, res, fmt.Sprintf("%s (%s)", evidence.Count(len(res.Sources), "CloudTrail source"), strings.Join(o.CloudTrail, ", ")), now)
	}
	markNoCloudTrail(accounts, o.CloudTrailHint)
	// Stopped by the user: what was collected is not judged as if it were
	// complete (a deadline the caller set, by contrast, leaves partial
	// accounts that say so).
	if err := ctx.Err(); errors.Is(err, context.Canceled) {
		return nil, &awsx.InterruptedError{Op: "the collection of " + evidence.Count(len(accounts), "account"), Err: err}
	}
	if o.SaveEvidence != "" || o.SaveBundle != nil {
		b := bundle.New(accounts, ToolName, o.Version, now, p.asOf)
		for _, c := range p.configFiles {
			b.Config = append(b.Config, bundle.ConfigFile{Name: c.Name, Data: string(c.Data)})
		}
		b.Window, b.MaxReportAge = p.window, p.maxReportAge
		if o.SaveBundle != nil {
			if err := o.SaveBundle(b); err != nil {
				return nil, err
			}
		} else {
			if err := b.Save(ctx, o.SaveEvidence); err != nil {
				return nil, err
			}
			o.notice("evidence bundle saved to %s, %s (it holds whole credential reports: keep it private)", o.SaveEvidence, evidence.Count(len(accounts), "account"))
		}
	}
	return Judge(accounts, p.settings, o.Version, p.asOf, now), nil
}

// Judge evaluates the enabled rules on collected evidence and builds the run.
func Judge(accounts []*evidence.Account, s engine.Settings, version string, asOf, now time.Time) *finding.Run {
	findings := engine.Evaluate(accounts, s.Enabled(rules.Catalog()), s, asOf)
	run := engine.BuildRun(finding.Tool{Name: ToolName, Version: version}, accounts, findings, s.Disabled(rules.Catalog()), config.Describe(s), asOf, now)
	return &run
}

// plan is what a scan settles before it collects anything.
type plan struct {
	asOf        time.Time
	settings    engine.Settings
	configFiles []config.NamedFile
	// window and maxReportAge are the overrides, for the bundle (zero
	// when none).
	window, maxReportAge window.Window
	saved                *bundle.Bundle
}

// plan loads the bundle (whose as-of time and settings apply unless the
// options override them), fixes the as-of time and resolves the settings.
func (o *Options) plan(now time.Time) (*plan, error) {
	p := &plan{asOf: now}
	if o.Bundle != "" {
		b, err := bundle.Load(o.Bundle)
		if err != nil {
			return nil, err
		}
		p.saved, p.asOf = b, b.AsOf
		o.notice("evidence bundle %s: %s, collected by %s %s at %s, judged as of %s unless another as-of time is given",
			o.Bundle, evidence.Count(len(b.Accounts), "account"), b.Tool, b.ToolVersion, b.CreatedAt.Format(time.RFC3339), b.AsOf.Format(time.RFC3339))
	}
	if !o.AsOf.IsZero() {
		p.asOf = o.AsOf.UTC()
	}
	if o.Demo {
		p.configFiles = append(p.configFiles, config.NamedFile{Name: "(demo)", Data: demo.Config(p.asOf)})
	}
	switch {
	case len(o.ConfigFiles) > 0:
		p.configFiles = append(p.configFiles, o.ConfigFiles...)
	case p.saved != nil:
		// The settings the bundle's scan used, unless told otherwise.
		for _, c := range p.saved.Config {
			p.configFiles = append(p.configFiles, config.NamedFile{Name: c.Name, Data: []byte(c.Data)})
		}
	}
	var err error
	if p.settings, err = config.Resolve(rules.Catalog(), p.configFiles...); err != nil {
		return nil, err
	}
	var savedWindow, savedAge window.Window
	if p.saved != nil {
		savedWindow, savedAge = p.saved.Window, p.saved.MaxReportAge
	}
	p.window, p.settings.Window = override(o.Window, savedWindow, p.settings.Window)
	p.maxReportAge, p.settings.MaxReportAge = override(o.MaxReportAge, savedAge, p.settings.MaxReportAge)
	return p, nil
}

// override applies a window given in the options, else the one the
// bundle's scan was given, else keeps the configured one.
func override(given, saved window.Window, configured time.Duration) (window.Window, time.Duration) {
	switch {
	case given > 0:
		return given, given.Duration()
	case saved > 0:
		return saved, saved.Duration()
	}
	return 0, configured
}

// collect gathers the accounts' evidence from the one source the options name.
func (o *Options) collect(ctx context.Context, p *plan, now time.Time) ([]*evidence.Account, error) {
	switch {
	case o.Demo:
		return collectDemo(ctx, o, p.settings, p.asOf)
	case o.Reports != nil:
		return loadReports(o, now)
	case o.Org != nil:
		return collectOrg(ctx, o, p.settings, p.asOf)
	case p.saved != nil:
		return p.saved.Evidence(o.Bundle)
	}
	return collectLive(ctx, o, p.settings, p.asOf)
}

// Lookback is how far back CloudTrail must reach: the widest window of the
// enabled rules. Beyond LookupEvents' 90 days the rules say the evidence
// does not cover their window.
func Lookback(s engine.Settings) time.Duration {
	return max(s.Window, s.Widest(s.Enabled(rules.Catalog()), rules.ParamWindow))
}

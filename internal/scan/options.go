// Package scan is rootwatch's pipeline: sources → evidence → engine → run.
// Every front end calls it: the scan command, and anything that scans
// without a terminal (a scheduler, a history store, tests). It knows no
// flags and prints nothing; what a person should read while it runs reaches
// them through Options.Notice and Options.Progress.
package scan

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/config"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/bundle"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail/query"
	"github.com/rootwatch/rootwatch/internal/source/org"
	"github.com/rootwatch/rootwatch/internal/window"
)

// Options say what to scan and how. The zero value scans the account the
// default AWS credentials land in, as of now, with the built-in settings.
type Options struct {
	// Where the evidence comes from: at most one of Demo, Reports, Org and
	// Bundle; none means the live account of the credentials.
	Demo    bool
	Reports *Reports
	Org     *Org
	// Bundle is an evidence bundle saved by an earlier scan (SaveEvidence),
	// judged again offline.
	Bundle string
	// CloudTrail adds root activity from log files, directories,
	// s3://bucket/prefix URIs and athena:// or lake:// queries.
	// CloudTrailHint says, in the front end's words, how to give it, for
	// accounts that have none.
	CloudTrail     []string
	CloudTrailHint string
	// AthenaOutput is where athena:// queries write results (empty: the
	// workgroup's location); QueryTimeout bounds each Athena or Lake query.
	AthenaOutput string
	QueryTimeout time.Duration

	// AsOf is the moment judged; zero means now (or the bundle's as-of).
	AsOf time.Time
	// ConfigFiles are applied over the built-in settings, in order.
	ConfigFiles []config.NamedFile
	// Window and MaxReportAge override the configuration when not zero.
	Window       window.Window
	MaxReportAge window.Window
	// ReportTimeout bounds the wait for IAM to generate a credential report.
	ReportTimeout time.Duration
	// Regions limits the regional monitoring reads (EventBridge rules,
	// GuardDuty) of live scans; empty reads every enabled region.
	Regions []string

	// SaveEvidence, when set, is where the collected evidence is saved as
	// a bundle (gzip when it ends in .gz) before it is judged.
	SaveEvidence string
	// SaveBundle, when set, is given the bundle instead (SaveEvidence is
	// then unused): the CLI stages it with the run's outputs, so that a run
	// that fails leaves neither.
	SaveBundle func(*bundle.Bundle) error

	// AWS loads the SDK configuration (default: the SDK's default chain);
	// Profile and Region are handed to it.
	AWS     awsx.Loader
	Profile string
	Region  string

	// Labels name the options in Validate's messages.
	Labels Labels

	// Now is the clock (default time.Now); Version names the tool in runs
	// and bundles.
	Now     func() time.Time
	Version string
	// Notice receives lines a person should read (warnings about input
	// files, what a bundle holds); they are untrusted text. Progress is
	// called as each account is done.
	Notice   func(string)
	Progress func(Progress)
}

// Reports are saved credential report files, one per account.
type Reports struct {
	Paths []string
	// Account is the expected account of a single report ("" to read it
	// from the report's ARNs).
	Account string
	// GeneratedAt is when the report was generated, for a bare CSV that
	// does not say (zero: unknown).
	GeneratedAt time.Time
}

// Org scans every account of the organization the credentials manage.
type Org struct {
	RoleName        string
	RoleARNTemplate string // with {account} and {partition}; overrides RoleName
	ExternalID      string
	SessionName     string
	Include         []string // only these accounts, when not empty
	Exclude         []string
	Concurrency     int
	AccountTimeout  time.Duration
	// ReadTags reads each account's Organizations tags (for routing).
	ReadTags bool
	// Names label Include, Exclude and AccountTimeout in skip and failure
	// reasons, in the words of the front end (e.g. its flag names).
	Names org.Names
}

// Progress reports an account as it is done.
type Progress struct {
	Done, Failed, Total int
	// AccountID and Error are the account just done and why it failed ("").
	AccountID string
	Error     string
}

// Labels name options in Validate's messages in the words of the front
// end (e.g. its flag names), as org.Names does for skip reasons; an empty
// label keeps the pipeline's own words.
type Labels struct {
	// The sources of evidence: Demo, Reports, Org and Bundle.
	Demo, Reports, Org, Bundle string
	CloudTrail                 string
	// Account is Reports.Account; RoleARNTemplate is Org.RoleARNTemplate.
	Account, RoleARNTemplate string
}

func or(label, neutral string) string {
	if label == "" {
		return neutral
	}
	return label
}

// Validate checks that the options make sense together, before anything
// is read or collected. Front ends call it to refuse their input early;
// Run calls it again.
func (o *Options) Validate() error {
	l := o.Labels
	modes := 0
	for _, on := range []bool{o.Demo, o.Reports != nil, o.Org != nil, o.Bundle != ""} {
		if on {
			modes++
		}
	}
	switch {
	case modes > 1:
		return fmt.Errorf("%s, %s, %s and %s cannot be combined",
			or(l.Demo, "the demo"), or(l.Reports, "credential report files"), or(l.Org, "an organization"), or(l.Bundle, "an evidence bundle"))
	case o.Bundle != "" && len(o.CloudTrail) > 0:
		return fmt.Errorf("%s already holds the CloudTrail evidence its scan collected; %s cannot add to it", or(l.Bundle, "an evidence bundle"), or(l.CloudTrail, "more CloudTrail"))
	case o.Reports != nil && len(o.Reports.Paths) == 0:
		return errors.New("no credential report file given")
	case o.Reports != nil && o.Reports.Account != "" && len(o.Reports.Paths) > 1:
		return fmt.Errorf("%s names one account; it cannot go with several %s files", or(l.Account, "an expected account"), or(l.Reports, "credential report"))
	}
	if err := query.CheckPaths(o.CloudTrail); err != nil {
		return err
	}
	if o.Org != nil {
		if o.Org.RoleARNTemplate != "" {
			if err := org.ValidateTemplate(o.Org.RoleARNTemplate); err != nil {
				if l.RoleARNTemplate != "" {
					return fmt.Errorf("%s: %w", l.RoleARNTemplate, err)
				}
				return err
			}
		}
		for _, list := range [][]string{o.Org.Include, o.Org.Exclude} {
			for _, a := range list {
				if !evidence.ValidAccountID(a) {
					return fmt.Errorf("%q is not a 12-digit account ID", a)
				}
			}
		}
	}
	return nil
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now().UTC().Truncate(time.Second)
	}
	return o.Now().UTC().Truncate(time.Second)
}

func (o *Options) notice(format string, args ...any) {
	if o.Notice != nil {
		o.Notice(fmt.Sprintf(format, args...))
	}
}

func (o *Options) awsConfig(ctx context.Context) (aws.Config, error) {
	return awsx.Load(ctx, o.AWS, o.Profile, o.Region)
}

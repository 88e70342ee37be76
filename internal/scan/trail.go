package scan

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
)

// s3Workers is how many S3 objects are fetched and decoded at once: fetching
// waits on the network, so more than one per core.
const s3Workers = 16

// TrailOptions say which CloudTrail sources to read for a root timeline.
type TrailOptions struct {
	// Paths are files, directories and s3://bucket/prefix URIs.
	Paths []string
	// Lookup also asks LookupEvents about the credentials' account.
	Lookup bool
	// Since and Until bound the events kept (zero: unbounded); Accounts
	// keeps only these accounts' events (none: every account).
	Since, Until time.Time
	Accounts     []string
	// Workers decode files at once (default one per core; 16 for S3).
	Workers int
	// Now is the end of a LookupEvents query without Filter.Until.
	Now time.Time
	// Notice receives lines a person should read (e.g. that --since was
	// beyond what LookupEvents keeps).
	Notice  func(string)
	AWS     awsx.Loader
	Profile string
	Region  string
	// AthenaOutput is where athena:// queries write their results (empty:
	// the workgroup's location); QueryTimeout bounds each Athena or Lake
	// query (zero: cloudtrail.DefaultQueryTimeout).
	AthenaOutput string
	QueryTimeout time.Duration
}

// Validate checks the account IDs and the paths.
func (o *TrailOptions) Validate() error {
	for _, a := range o.Accounts {
		if !evidence.ValidAccountID(a) {
			return fmt.Errorf("%q is not a 12-digit account ID", a)
		}
	}
	return checkPaths(o.Paths)
}

// checkPaths refuses, before anything is read, a local path that does not
// exist and an s3:// URI without a bucket: a mistyped argument must not
// look like a source that held nothing.
func checkPaths(paths []string) error {
	for _, p := range paths {
		switch {
		case cloudtrail.IsAthena(p):
			if _, err := cloudtrail.ParseAthena(p); err != nil {
				return err
			}
			continue
		case cloudtrail.IsLake(p):
			if _, err := cloudtrail.ParseLake(p); err != nil {
				return err
			}
			continue
		}
		if cloudtrail.IsS3(p) {
			if _, _, err := cloudtrail.ParseS3(p); err != nil {
				return err
			}
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("CloudTrail path %w", err)
		}
	}
	return nil
}

func (o *TrailOptions) filter() cloudtrail.Filter {
	return cloudtrail.Filter{Since: o.Since, Until: o.Until, Accounts: set(o.Accounts)}
}

// Trail reads every source and returns the root events, newest first, with
// every source's statistics.
func Trail(ctx context.Context, o TrailOptions) (cloudtrail.Result, error) {
	if err := o.Validate(); err != nil {
		return cloudtrail.Result{}, err
	}
	so := &Options{AWS: o.AWS, Profile: o.Profile, Region: o.Region, AthenaOutput: o.AthenaOutput, QueryTimeout: o.QueryTimeout}
	res, err := readCloudTrail(ctx, so, o.Paths, o.filter(), o.Workers, o.Now)
	if err != nil {
		return cloudtrail.Result{}, err
	}
	if o.Lookup {
		lk, err := lookupCloudTrail(ctx, so, o.filter(), o.Now)
		if start, _, capped := cloudtrail.LookupWindow(o.Since, o.Until, o.Now); capped && o.Notice != nil {
			o.Notice(fmt.Sprintf("LookupEvents keeps %d days of events: it was read from %s, not from %s as asked; older events need the trail's log files",
				int(cloudtrail.MaxLookback.Hours()/24), start.Format(time.RFC3339), o.Since.Format(time.RFC3339)))
		}
		if err != nil {
			return cloudtrail.Result{}, err
		}
		res.Sources = append(res.Sources, lk.Sources...)
		// The same record in a file and in LookupEvents, or two copies of
		// one cross-account call, is one root action.
		var dups, copies int
		res.Events, dups, copies = cloudtrail.Merge(append(res.Events, lk.Events...))
		res.Duplicates, res.SharedCopies = res.Duplicates+dups, res.SharedCopies+copies
		cloudtrail.LinkRootSessions(res.Events)
		evidence.SortNewestFirst(res.Events)
	}
	return res, nil
}

// readCloudTrail reads local paths, s3:// URIs and athena:// and lake://
// queries with one filter; now ends a query without Filter.Until.
func readCloudTrail(ctx context.Context, o *Options, paths []string, f cloudtrail.Filter, workers int, now time.Time) (cloudtrail.Result, error) {
	var files, uris, queries []string
	for _, p := range paths {
		switch {
		case cloudtrail.IsS3(p):
			uris = append(uris, p)
		case cloudtrail.IsAthena(p), cloudtrail.IsLake(p):
			queries = append(queries, p)
		default:
			files = append(files, p)
		}
	}
	jobs, bad := cloudtrail.FileJobs(files)
	var cfg aws.Config
	if len(queries)+len(uris) > 0 {
		var err error
		if cfg, err = o.awsConfig(ctx); err != nil {
			return cloudtrail.Result{}, err
		}
	}
	if len(queries) > 0 {
		q, err := queryJobs(cfg, o, queries, f, now)
		if err != nil {
			return cloudtrail.Result{}, err
		}
		jobs = append(q, jobs...)
	}
	if len(uris) > 0 {
		c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
		for _, u := range uris {
			j, b := cloudtrail.S3Jobs(ctx, c, u, f)
			jobs, bad = append(jobs, j...), append(bad, b...)
		}
		if workers <= 0 {
			workers = max(s3Workers, runtime.GOMAXPROCS(0))
		}
	}
	res := cloudtrail.Run(ctx, jobs, workers, f)
	res.Sources = append(bad, res.Sources...)
	return res, nil
}

// queryJobs turns athena:// and lake:// URIs into jobs that run their
// queries for f's window and accounts.
func queryJobs(cfg aws.Config, o *Options, uris []string, f cloudtrail.Filter, now time.Time) ([]cloudtrail.Job, error) {
	w := cloudtrail.QueryWindow{Since: f.Since, Until: f.Until, Timeout: o.QueryTimeout, Now: now}
	for a := range f.Accounts {
		w.Accounts = append(w.Accounts, a)
	}
	slices.Sort(w.Accounts)
	var jobs []cloudtrail.Job
	for _, u := range uris {
		if cloudtrail.IsAthena(u) {
			t, err := cloudtrail.ParseAthena(u)
			if err != nil {
				return nil, err
			}
			ac, gc := athena.NewFromConfig(cfg), glue.NewFromConfig(cfg)
			q := cloudtrail.AthenaQuery{Table: t, Output: o.AthenaOutput, Window: w}
			jobs = append(jobs, cloudtrail.Job{Name: u, Read: func(ctx context.Context) ([]evidence.Event, evidence.SourceStats) {
				return cloudtrail.Athena(ctx, ac, gc, q)
			}})
			continue
		}
		s, err := cloudtrail.ParseLake(u)
		if err != nil {
			return nil, err
		}
		lc := ctapi.NewFromConfig(cfg, func(co *ctapi.Options) {
			if s.Region != "" {
				co.Region = s.Region
			}
		})
		q := cloudtrail.LakeQuery{Store: s, Window: w}
		jobs = append(jobs, cloudtrail.Job{Name: u, Read: func(ctx context.Context) ([]evidence.Event, evidence.SourceStats) {
			return cloudtrail.Lake(ctx, lc, q)
		}})
	}
	return jobs, nil
}

// lookupCloudTrail reads the caller's account root events with LookupEvents.
func lookupCloudTrail(ctx context.Context, o *Options, f cloudtrail.Filter, now time.Time) (cloudtrail.Result, error) {
	cfg, err := o.awsConfig(ctx)
	if err != nil {
		return cloudtrail.Result{}, err
	}
	start, end, _ := cloudtrail.LookupWindow(f.Since, f.Until, now)
	evs, st := cloudtrail.Lookup(ctx, cloudtrail.NewLookupClient(cfg), cloudtrail.LookupQuery{Start: start, End: end,
		Source: fmt.Sprintf("LookupEvents %s %s..%s", cloudtrail.LookupRegion, start.Format(time.RFC3339), end.Format(time.RFC3339))})
	var res cloudtrail.Result
	res.Sources = []evidence.SourceStats{st}
	for _, e := range evs {
		if f.Keep(&e) {
			res.Events = append(res.Events, e)
		}
	}
	evidence.SortNewestFirst(res.Events)
	return res, nil
}

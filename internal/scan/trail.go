package scan

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail/query"
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
	// query (zero: query.DefaultTimeout).
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
	return query.CheckPaths(o.Paths)
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
		case query.IsAthena(p), query.IsLake(p):
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
		q, err := query.Jobs(cfg, queries, o.AthenaOutput, query.WindowOf(f, o.QueryTimeout, now))
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

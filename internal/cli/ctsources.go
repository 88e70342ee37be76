package cli

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
	"github.com/rootwatch/rootwatch/internal/source/live"
)

// s3Workers is how many S3 objects are fetched and decoded at once: fetching
// waits on the network, so more than one per core.
const s3Workers = 16

// readCloudTrail reads local paths and s3:// URIs with one filter.
func readCloudTrail(ctx context.Context, app *App, paths []string, f cloudtrail.Filter, profile, region string, workers int) (cloudtrail.Result, error) {
	var files, uris []string
	for _, p := range paths {
		if cloudtrail.IsS3(p) {
			uris = append(uris, p)
		} else {
			files = append(files, p)
		}
	}
	jobs, bad := cloudtrail.FileJobs(files)
	if len(uris) > 0 {
		cfg, err := awsConfigFor(ctx, app, profile, region)
		if err != nil {
			return cloudtrail.Result{}, err
		}
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
func lookupCloudTrail(ctx context.Context, app *App, f cloudtrail.Filter, profile, region string, now time.Time) (cloudtrail.Result, error) {
	cfg, err := awsConfigFor(ctx, app, profile, region)
	if err != nil {
		return cloudtrail.Result{}, err
	}
	start := f.Since
	if start.IsZero() || now.Sub(start) > cloudtrail.MaxLookback {
		start = now.Add(-cloudtrail.MaxLookback)
	}
	end := f.Until
	if end.IsZero() {
		end = now
	}
	c := ctapi.NewFromConfig(cfg, func(o *ctapi.Options) { o.Region = live.LookupRegion })
	evs, st := cloudtrail.Lookup(ctx, c, cloudtrail.LookupQuery{Start: start, End: end,
		Source: fmt.Sprintf("LookupEvents %s %s..%s", live.LookupRegion, start.Format(time.RFC3339), end.Format(time.RFC3339))})
	var res cloudtrail.Result
	res.Sources = []cloudtrail.SourceStats{st}
	for _, e := range evs {
		if f.Accounts == nil || f.Accounts[e.AccountID] {
			res.Events = append(res.Events, e)
		}
	}
	evidence.SortNewestFirst(res.Events)
	return res, nil
}

// awsConfigFor loads the SDK configuration and checks there are credentials.
func awsConfigFor(ctx context.Context, app *App, profile, region string) (aws.Config, error) {
	cfg, err := app.AWSConfig(ctx, profile, region)
	if err != nil {
		return aws.Config{}, &ExitError{Code: ExitUsage, Err: fmt.Errorf("load AWS configuration: %w", err)}
	}
	if cfg.Credentials == nil {
		return aws.Config{}, &ExitError{Code: ExitUsage, Err: fmt.Errorf("no AWS credentials found; %s", credentialsHelp)}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, &ExitError{Code: ExitUsage, Err: fmt.Errorf("no usable AWS credentials (%v);\n%s", err, credentialsHelp)}
	}
	return cfg, nil
}

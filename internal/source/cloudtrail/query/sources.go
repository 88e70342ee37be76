package query

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
)

// CheckPaths refuses, before anything is read, a local path that does not
// exist and an s3://, athena:// or lake:// URI that does not parse: a
// mistyped argument must not look like a source that held nothing.
func CheckPaths(paths []string) error {
	for _, p := range paths {
		var err error
		switch {
		case IsAthena(p):
			_, err = ParseAthena(p)
		case IsLake(p):
			_, err = ParseLake(p)
		default:
			err = cloudtrail.CheckPath(p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// WindowOf is the window of a query that reads what f keeps: its bounds
// and its accounts, in order.
func WindowOf(f cloudtrail.Filter, timeout time.Duration, now time.Time) Window {
	return Window{Since: f.Since, Until: f.Until, Accounts: slices.Sorted(maps.Keys(f.Accounts)), Timeout: timeout, Now: now}
}

// Jobs turns athena:// and lake:// URIs into jobs that run their queries
// over w, with clients of cfg (a Lake store's own region when its URI
// names one); output is where Athena writes results ("": the workgroup's
// location).
func Jobs(cfg aws.Config, uris []string, output string, w Window) ([]cloudtrail.Job, error) {
	var jobs []cloudtrail.Job
	for _, u := range uris {
		if IsAthena(u) {
			t, err := ParseAthena(u)
			if err != nil {
				return nil, err
			}
			ac, gc := athena.NewFromConfig(cfg), glue.NewFromConfig(cfg)
			q := AthenaQuery{Table: t, Output: output, Window: w}
			jobs = append(jobs, cloudtrail.Job{Name: u, Read: func(ctx context.Context) ([]evidence.Event, evidence.SourceStats) {
				return Athena(ctx, ac, gc, q)
			}})
			continue
		}
		s, err := ParseLake(u)
		if err != nil {
			return nil, err
		}
		lc := ctapi.NewFromConfig(cfg, func(co *ctapi.Options) {
			if s.Region != "" {
				co.Region = s.Region
			}
		})
		q := LakeQuery{Store: s, Window: w}
		jobs = append(jobs, cloudtrail.Job{Name: u, Read: func(ctx context.Context) ([]evidence.Event, evidence.SourceStats) {
			return Lake(ctx, lc, q)
		}})
	}
	return jobs, nil
}

package cloudtrail

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
)

// S3API lists the S3 calls the reader makes.
type S3API interface {
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// IsS3 reports whether a path is an s3:// URI.
func IsS3(path string) bool { return strings.HasPrefix(path, "s3://") }

// ParseS3 splits s3://bucket/prefix.
func ParseS3(uri string) (bucket, prefix string, err error) {
	rest := strings.TrimPrefix(uri, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q: want s3://bucket[/prefix]", uri)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix, nil
}

var (
	accountDir = regexp.MustCompile(`^\d{12}$`)
	orgDir     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
)

// s3Lister walks a trail bucket's layout with delimited listings, so that
// date pruning lists only the days asked for.
type s3Lister struct {
	c        S3API
	bucket   string
	since    time.Time
	until    time.Time
	accounts map[string]bool
	jobs     []Job
	bad      []evidence.SourceStats
	listings int
}

// S3Jobs expands s3://bucket/prefix into one job per log object.
//
// For the CloudTrail layout, [prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
// (and, for organization trails, AWSLogs/<o-id>/<account>/…), accounts are
// narrowed by the filter and days by since/until, so that only the needed
// days are listed. CloudTrail-Digest folders are never read. A prefix
// without the layout is listed in full.
func S3Jobs(ctx context.Context, c S3API, uri string, f Filter) ([]Job, []evidence.SourceStats) {
	bucket, prefix, err := ParseS3(uri)
	if err != nil {
		return nil, []evidence.SourceStats{{Path: uri, Error: err.Error()}}
	}
	l := &s3Lister{c: c, bucket: bucket, since: f.Since, until: f.Until, accounts: f.Accounts}
	switch {
	case strings.HasSuffix(prefix, "AWSLogs/") || strings.Contains(prefix, "/AWSLogs/") || strings.HasPrefix(prefix, "AWSLogs/"):
		l.walk(ctx, prefix)
	default:
		dirs, err := l.dirs(ctx, prefix)
		if err != nil {
			return nil, []evidence.SourceStats{{Path: uri, Error: err.Error()}}
		}
		if slices.Contains(dirs, prefix+"AWSLogs/") {
			l.walk(ctx, prefix+"AWSLogs/")
		} else {
			l.all(ctx, prefix)
		}
	}
	slices.SortFunc(l.jobs, func(a, b Job) int { return strings.Compare(a.Name, b.Name) })
	return l.jobs, l.bad
}

// walk descends the layout from a prefix at or inside AWSLogs/.
func (l *s3Lister) walk(ctx context.Context, prefix string) {
	parts := strings.Split(strings.TrimSuffix(prefix, "/"), "/")
	last := parts[len(parts)-1]
	switch {
	case last == "AWSLogs" || orgDir.MatchString(last):
		dirs, err := l.dirs(ctx, prefix)
		if err != nil {
			l.bad = append(l.bad, evidence.SourceStats{Path: l.uri(prefix), Error: err.Error()})
			return
		}
		for _, d := range dirs {
			name := strings.TrimSuffix(strings.TrimPrefix(d, prefix), "/")
			switch {
			case orgDir.MatchString(name) && last == "AWSLogs":
				l.walk(ctx, d)
			case accountDir.MatchString(name):
				if len(l.accounts) == 0 || l.accounts[name] {
					l.walk(ctx, d+"CloudTrail/")
				}
			}
		}
	case last == "CloudTrail":
		regions, err := l.dirs(ctx, prefix)
		if err != nil {
			l.bad = append(l.bad, evidence.SourceStats{Path: l.uri(prefix), Error: err.Error()})
			return
		}
		for _, r := range regions {
			l.days(ctx, r)
		}
	case accountDir.MatchString(last):
		l.walk(ctx, prefix+"CloudTrail/")
	default:
		l.all(ctx, prefix)
	}
}

// days lists a region folder, one day prefix at a time when the filter
// bounds the period, or all of it when it does not.
func (l *s3Lister) days(ctx context.Context, region string) {
	if l.since.IsZero() {
		l.all(ctx, region)
		return
	}
	until := l.until
	if until.IsZero() {
		until = time.Now().UTC()
	}
	// Files are named by delivery time, up to about 15 minutes after the
	// events they hold: list one day past the end.
	for d := l.since.UTC().Truncate(24 * time.Hour); !d.After(until.Add(24 * time.Hour)); d = d.Add(24 * time.Hour) {
		l.all(ctx, region+d.Format("2006/01/02/"))
	}
}

func (l *s3Lister) uri(prefix string) string { return "s3://" + l.bucket + "/" + prefix }

// dirs lists the common prefixes one level below prefix.
func (l *s3Lister) dirs(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(l.c, &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		l.listings++
		if err != nil {
			return nil, fmt.Errorf("list %s: %s", l.uri(prefix), awsx.Message(err))
		}
		for _, cp := range page.CommonPrefixes {
			out = append(out, aws.ToString(cp.Prefix))
		}
	}
	return out, nil
}

// all adds every object below prefix, skipping digest folders.
func (l *s3Lister) all(ctx context.Context, prefix string) {
	p := s3.NewListObjectsV2Paginator(l.c, &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		l.listings++
		if err != nil {
			l.bad = append(l.bad, evidence.SourceStats{Path: l.uri(prefix), Error: fmt.Sprintf("list: %s", awsx.Message(err))})
			return
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.Contains(key, "/CloudTrail-Digest/") || strings.HasSuffix(key, "/") {
				continue
			}
			l.jobs = append(l.jobs, l.job(key))
		}
	}
}

func (l *s3Lister) job(key string) Job {
	bucket := l.bucket
	return Job{Name: "s3://" + bucket + "/" + key, Open: func(ctx context.Context) (readCloser, error) {
		out, err := l.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return nil, errors.New(awsx.Message(err))
		}
		return out.Body, nil
	}}
}

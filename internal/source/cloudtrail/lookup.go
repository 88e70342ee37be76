package cloudtrail

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
)

// LookupAPI is the CloudTrail call rootwatch makes.
type LookupAPI interface {
	LookupEvents(context.Context, *ctapi.LookupEventsInput, ...func(*ctapi.Options)) (*ctapi.LookupEventsOutput, error)
}

// MaxLookback is how far back LookupEvents can see.
const MaxLookback = 90 * 24 * time.Hour

const lookbackSlack = time.Minute

// LookupRegion is where LookupEvents is asked about root activity: root
// sign-ins and global-service events are recorded in us-east-1 (and, since
// November 2021, only its LookupEvents shows them).
const LookupRegion = "us-east-1"

// NewLookupClient builds the LookupEvents client for LookupRegion.
func NewLookupClient(cfg aws.Config) LookupAPI {
	return ctapi.NewFromConfig(cfg, func(o *ctapi.Options) { o.Region = LookupRegion })
}

// LookupWindow clamps a query to what LookupEvents can answer: it ends at
// until (now when zero) and starts at since, or MaxLookback before now when
// since is zero or further back. Capped says since was moved. A since less
// than lookbackSlack beyond the limit is kept: the as-of time a scan
// measures back from is fixed moments before its queries, and CloudTrail's
// retention is not precise to the second.
func LookupWindow(since, until, now time.Time) (start, end time.Time, capped bool) {
	end = until
	if end.IsZero() {
		end = now
	}
	start = since
	if start.IsZero() || now.Sub(start) > MaxLookback+lookbackSlack {
		capped = !start.IsZero()
		start = now.Add(-MaxLookback)
	}
	return start, end, capped
}

// LookupQuery is one LookupEvents query.
type LookupQuery struct {
	Start, End time.Time
	// Username is the one lookup attribute the API allows; root events are
	// recorded with Username "root". EventName or EventSource, when set,
	// is the attribute instead (the management account's AssumeRoot calls
	// and primary e-mail changes are no root's).
	Username, EventName, EventSource string
	// Last, when set, is shared by consecutive queries of one account: the
	// time its last call ended, so that Interval spaces them all.
	Last *time.Time
	// Interval spaces calls: LookupEvents allows two per second per account
	// and region. It is counted from the end of one call to the start of the
	// next, so that however long a request takes to arrive, AWS never sees
	// two calls closer together than Interval.
	Interval time.Duration
	// Source names the query in the output (e.g. "LookupEvents us-east-1").
	Source string
}

// Lookup reads every page of a LookupEvents query, newest first, at most one
// call per Interval. The SDK retries ThrottlingException; an error that
// outlasts its retries ends the query and is recorded in the statistics,
// with the events read so far kept.
func Lookup(ctx context.Context, c LookupAPI, q LookupQuery) ([]evidence.Event, evidence.SourceStats) {
	if q.Interval <= 0 {
		q.Interval = 500 * time.Millisecond
	}
	attr := cttypes.LookupAttribute{AttributeKey: cttypes.LookupAttributeKeyUsername, AttributeValue: aws.String(cmp.Or(q.Username, "root"))}
	switch {
	case q.EventName != "":
		attr = cttypes.LookupAttribute{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(q.EventName)}
	case q.EventSource != "":
		attr = cttypes.LookupAttribute{AttributeKey: cttypes.LookupAttributeKeyEventSource, AttributeValue: aws.String(q.EventSource)}
	}
	d := &decoder{source: q.Source, stats: evidence.SourceStats{Path: q.Source}}
	in := &ctapi.LookupEventsInput{
		StartTime: aws.Time(q.Start), EndTime: aws.Time(q.End), MaxResults: aws.Int32(50),
		LookupAttributes: []cttypes.LookupAttribute{attr},
	}
	p := ctapi.NewLookupEventsPaginator(c, in)
	var last time.Time
	if q.Last != nil {
		last = *q.Last
		defer func() { *q.Last = last }()
	}
	pages := 0
	for p.HasMorePages() {
		if wait := q.Interval - time.Since(last); !last.IsZero() && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				d.stats.Error = fmt.Sprintf("interrupted after %d pages: %v", pages, ctx.Err())
				d.finishCoverage()
				return d.events, d.stats
			case <-t.C:
			}
		}
		out, err := p.NextPage(ctx)
		last = time.Now()
		if err != nil {
			d.stats.Error = fmt.Sprintf("LookupEvents page %d: %s", pages+1, awsx.Message(err))
			d.finishCoverage()
			return d.events, d.stats
		}
		pages++
		for _, e := range out.Events {
			d.lookupEvent(aws.ToString(e.EventId), aws.ToString(e.Username), aws.ToString(e.CloudTrailEvent))
		}
	}
	d.finishCoverage()
	d.stats.Period = &evidence.Span{From: q.Start.UTC(), To: q.End.UTC()}
	return d.events, d.stats
}

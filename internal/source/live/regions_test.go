package live

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// cancellingAlarms cancels the scan at its first call; like the SDK, it
// refuses a call whose context has ended.
type cancellingAlarms struct{ cancel context.CancelFunc }

func (c cancellingAlarms) DescribeAlarms(ctx context.Context, _ *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	c.cancel()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &cloudwatch.DescribeAlarmsOutput{}, nil
}

// TestCancelledRegionalReadsReportEveryRegion: regions whose calls never
// started when the scan was cancelled are reported failed, each under its
// own name, like those in flight.
func TestCancelledRegionalReadsReportEveryRegion(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var regions []string
	for i := range 3 * regionConcurrency {
		regions = append(regions, fmt.Sprintf("xx-test-%d", i))
	}
	out, st := readAlarms(ctx, cancellingAlarms{cancel}, regions)
	if len(out) != len(regions) {
		t.Fatalf("%d regions for %d", len(out), len(regions))
	}
	for i, ar := range out {
		if ar.Region != regions[i] || !strings.Contains(ar.Error, "interrupted") {
			t.Errorf("region %d: %+v", i, ar)
		}
	}
	if st.State != evidence.StateError || !strings.HasPrefix(st.Detail, fmt.Sprintf("%d of %d regions not read", len(regions), len(regions))) {
		t.Errorf("status %+v", st)
	}
}

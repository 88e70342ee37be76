package live

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
)

func trailWorld(lookup, events string) string {
	return `
accounts:
  - id: "123456789012"
    access_keys: [AKIATEST000000000001]
    lookup: ` + lookup + `
    trail:
` + events
}

func TestLookupPagesNewestFirst(t *testing.T) {
	var evs strings.Builder
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&evs, "      - {time: -%dh, mfa: \"No\"}\n", i)
	}
	evs.WriteString("      - {time: -30d}\n") // outside the lookback
	evs.WriteString("      - {time: -2h, identity: IAMUser, user: bob}\n")
	srv, c := serve(t, trailWorld("{page_size: 3, max_per_second: -1}", evs.String()), func() time.Time { return clockStart })
	events, st := cloudtrail.Lookup(context.Background(), c.CloudTrail, cloudtrail.LookupQuery{
		Start: clockStart.Add(-15 * 24 * time.Hour), End: clockStart, Interval: time.Millisecond, Source: "lookup"})
	if st.Error != "" || len(events) != 7 || st.Events != 7 {
		t.Fatalf("events %d stats %+v", len(events), st)
	}
	if n := srv.Calls(acct, "LookupEvents"); n != 3 {
		t.Errorf("pages = %d, want 3 (7 events, 3 a page)", n)
	}
	for i := 1; i < len(events); i++ {
		if events[i].Time.After(events[i-1].Time) {
			t.Errorf("not newest first at %d", i)
		}
	}
}

func TestLookupRespectsTheRateAndRetriesThrottling(t *testing.T) {
	var evs strings.Builder
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&evs, "      - {time: -%dh}\n", i)
	}
	// AWS's limit: two calls a second. At the default interval the
	// collector never trips it.
	srv, c := serve(t, trailWorld("{page_size: 2}", evs.String()), func() time.Time { return clockStart })
	start := time.Now()
	events, st := cloudtrail.Lookup(context.Background(), c.CloudTrail, cloudtrail.LookupQuery{
		Start: clockStart.Add(-24 * time.Hour), End: clockStart, Source: "lookup"})
	if st.Error != "" || len(events) != 6 {
		t.Fatalf("events %d stats %+v", len(events), st)
	}
	if n := srv.Calls(acct, "LookupEvents"); n != 3 {
		t.Errorf("calls = %d, want 3 with no throttling", n)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("three pages in %s: faster than two calls a second", elapsed)
	}

	// A burst of throttling is retried by the SDK and nothing is lost.
	w := trailWorld("{page_size: 2, max_per_second: -1}", evs.String()) + "    faults: [{op: LookupEvents, code: ThrottlingException, message: Rate exceeded, times: 2}]\n"
	srv2, c2 := serve(t, w, func() time.Time { return clockStart })
	events, st = cloudtrail.Lookup(context.Background(), c2.CloudTrail, cloudtrail.LookupQuery{
		Start: clockStart.Add(-24 * time.Hour), End: clockStart, Interval: time.Millisecond, Source: "lookup"})
	if st.Error != "" || len(events) != 6 {
		t.Errorf("after a throttling burst: events %d stats %+v", len(events), st)
	}
	if n := srv2.Calls(acct, "LookupEvents"); n != 5 {
		t.Errorf("calls = %d, want 3 pages + 2 retried", n)
	}

	// Throttling that outlasts the retries is reported, with what was read.
	w = trailWorld("{page_size: 2, max_per_second: -1}", evs.String()) + "    faults: [{op: LookupEvents, code: ThrottlingException, message: Rate exceeded}]\n"
	_, c3 := serve(t, w, func() time.Time { return clockStart })
	_, st = cloudtrail.Lookup(context.Background(), c3.CloudTrail, cloudtrail.LookupQuery{
		Start: clockStart.Add(-24 * time.Hour), End: clockStart, Interval: time.Millisecond, Source: "lookup"})
	if !strings.Contains(st.Error, "ThrottlingException") {
		t.Errorf("error %q should name the throttling", st.Error)
	}
}

func TestLookupMalformedEventString(t *testing.T) {
	events := "      - {time: -1h, result: Failure, mfa: \"No\"}\n      - {time: -2h, raw: '{\"userIdentity\":{\"type\":\"Root\"'}\n"
	_, c := serve(t, trailWorld("{max_per_second: -1}", events), func() time.Time { return clockStart })
	ct, st := rootActivity(context.Background(), c.CloudTrail, fastOpts(func() time.Time { return clockStart }).withDefaults(), acct, nil)
	if st.State != evidence.StateOK || ct == nil {
		t.Fatalf("state %+v", st)
	}
	if len(ct.Events) != 1 || len(ct.Problems) != 1 || !strings.Contains(ct.Problems[0], "not valid JSON") {
		t.Errorf("events %d problems %v", len(ct.Events), ct.Problems)
	}
	if !ct.From.Equal(clockStart.Add(-cloudtrail.MaxLookback)) || !ct.To.Equal(clockStart) {
		t.Errorf("coverage %v – %v", ct.From, ct.To)
	}
}

func TestLookupDenied(t *testing.T) {
	w := trailWorld("{}", "      - {time: -1h}\n") + "    faults: [{op: LookupEvents, code: AccessDeniedException, status: 400}]\n"
	_, c := serve(t, w, func() time.Time { return clockStart })
	_, st := rootActivity(context.Background(), c.CloudTrail, fastOpts(func() time.Time { return clockStart }).withDefaults(), acct, nil)
	if st.State != evidence.StateDenied {
		t.Errorf("state %+v", st)
	}
}

package live

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/credreport"
)

// clockedOpts polls on clock with the default backoff (1 s doubling to 5 s)
// and no jitter, with a two-minute report timeout.
func clockedOpts(clock *fakeClock) Options {
	return Options{MaxReportAge: 4 * time.Hour, ReportTimeout: 2 * time.Minute, Now: clock.Now, PollClock: clock, Jitter: noJitter}
}

func seconds(ds ...float64) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = time.Duration(d * float64(time.Second))
	}
	return out
}

// TestReportReadyAfterItsDelay: IAM takes three seconds on the fake's clock;
// the poller waits 1 s, then 2 s, and finds it ready at the third poll.
func TestReportReadyAfterItsDelay(t *testing.T) {
	clock := newFakeClock(clockStart)
	srv, c := serve(t, world("{delay: 3s}", "[]"), clock.Now)
	rep, st := CredentialReport(context.Background(), c.IAM, clockedOpts(clock))
	if st.State != evidence.StateOK || rep == nil {
		t.Fatalf("state %+v", st)
	}
	if got, want := clock.Waits(), seconds(1, 2); !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	if g, r := srv.Calls(acct, "GenerateCredentialReport"), srv.Calls(acct, "GetCredentialReport"); g != 3 || r != 2 {
		t.Errorf("Generate %d and Get %d calls, want 3 (STARTED, INPROGRESS, COMPLETE) and 2 (absent, then the report)", g, r)
	}
	if !rep.GeneratedTime.Equal(clockStart.Add(3*time.Second)) || !strings.Contains(st.Detail, "generated a new report (3 polls)") {
		t.Errorf("generated %v, detail %q", rep.GeneratedTime, st.Detail)
	}
}

// TestNeverReadyReportOverTwoMinutes: a report that never becomes ready
// costs 27 report calls over the default two minutes (the first Get, then
// Generate at 0, 1, 3, 7, 12, 17 … 117 s), where polling every half second
// made 240; the last wait is cut to the timeout and no poll starts after it.
func TestNeverReadyReportOverTwoMinutes(t *testing.T) {
	clock := newFakeClock(clockStart)
	srv, c := serve(t, world("{delay: never}", "[]"), clock.Now)
	rep, st := CredentialReport(context.Background(), c.IAM, clockedOpts(clock))
	if rep != nil || st.State != evidence.StateMissing {
		t.Fatalf("state %+v", st)
	}
	want := seconds(1, 2, 4)
	for range 22 {
		want = append(want, 5*time.Second)
	}
	want = append(want, 3*time.Second)
	if got := clock.Waits(); !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	if got := clock.Now().Sub(clockStart); got != 2*time.Minute {
		t.Errorf("gave up after %s on the clock, want the 2m timeout", got)
	}
	g, r := srv.Calls(acct, "GenerateCredentialReport"), srv.Calls(acct, "GetCredentialReport")
	if g != 26 || r != 1 {
		t.Errorf("Generate %d and Get %d calls, want 26 and 1 (27 report calls in 2 minutes)", g, r)
	}
	if !strings.Contains(st.Detail, "not ready within 2m0s (26 polls; last: GenerateCredentialReport INPROGRESS)") {
		t.Errorf("detail %q should give the timeout, the polls and the last state", st.Detail)
	}
}

// TestThrottledPollsWaitLonger: LimitExceeded (409, not retried by the SDK)
// and Throttling (after the SDK's own retries) double the wait instead of
// following the ordinary schedule, past its 5 s ceiling while they last.
func TestThrottledPollsWaitLonger(t *testing.T) {
	cases := []struct {
		name, faults string
		waits        []time.Duration
		generates    int
	}{
		{"not throttled", "[]", seconds(1), 2},
		{"LimitExceeded twice", "[{op: GenerateCredentialReport, code: LimitExceeded, status: 409, times: 2}]", seconds(2, 4, 4), 4},
		// The SDK makes three attempts of a throttled call before the poller sees it.
		{"Throttling through the SDK's retries", "[{op: GenerateCredentialReport, code: Throttling, status: 400, message: Rate exceeded, times: 3}]", seconds(2, 2), 5},
		// The first Get's three attempts are throttled (generation goes on),
		// then the three of the Get after COMPLETE: that poll waits 4 s, not 2.
		{"Throttling on the Get", "[{op: GetCredentialReport, code: Throttling, status: 400, message: Rate exceeded, times: 6}]", seconds(1, 4), 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock(clockStart)
			srv, c := serve(t, world("{delay: 0s}", tc.faults), clock.Now)
			rep, st := CredentialReport(context.Background(), c.IAM, clockedOpts(clock))
			if st.State != evidence.StateOK || rep == nil {
				t.Fatalf("state %+v", st)
			}
			if got := clock.Waits(); !slices.Equal(got, tc.waits) {
				t.Errorf("waits %v, want %v", got, tc.waits)
			}
			if g := srv.Calls(acct, "GenerateCredentialReport"); g != tc.generates {
				t.Errorf("Generate called %d times, want %d", g, tc.generates)
			}
		})
	}
	t.Run("throttled for the whole timeout", func(t *testing.T) {
		clock := newFakeClock(clockStart)
		_, c := serve(t, world("{delay: 0s}", "[{op: GenerateCredentialReport, code: LimitExceeded, status: 409}]"), clock.Now)
		_, st := CredentialReport(context.Background(), c.IAM, clockedOpts(clock))
		if st.State != evidence.StateMissing || !strings.Contains(st.Detail, "LimitExceeded") {
			t.Fatalf("state %+v", st)
		}
		// 2, 4, 8, 16, then the 30 s throttled ceiling, the last cut to the timeout.
		if got, want := clock.Waits(), seconds(2, 4, 8, 16, 30, 30, 30); !slices.Equal(got, want) {
			t.Errorf("waits %v, want %v", got, want)
		}
	})
}

// TestReportBackoffJitter: each wait moves at most 20% either way, and a
// random source spreads them.
func TestReportBackoffJitter(t *testing.T) {
	opts := Options{Jitter: func() float64 { return 0 }}.withDefaults()
	low := newReportBackoff(opts)
	opts.Jitter = func() float64 { return 1 }
	high := newReportBackoff(opts)
	for i, base := range seconds(1, 2, 4, 5, 5) {
		lo, hi := low.next(false), high.next(false)
		if lo != base*8/10 || hi != base*12/10 {
			t.Errorf("wait %d: %v and %v, want %v ± 20%%", i, lo, hi, base)
		}
	}
	opts.Jitter = rand.New(rand.NewPCG(1, 2)).Float64
	b := newReportBackoff(opts)
	for range 3 {
		b.next(false) // 1, 2 and 4 s, up to the ceiling
	}
	seen := map[time.Duration]bool{}
	for range 20 {
		d := b.next(false)
		if d < 4*time.Second || d > 6*time.Second {
			t.Errorf("wait %v outside 5 s ± 20%%", d)
		}
		seen[d] = true
	}
	if len(seen) < 15 {
		t.Errorf("only %d distinct waits of 20: the jitter does not spread them", len(seen))
	}
}

// TestReportPollingInterrupted: cancelling the scan during a wait stops the
// polling at once and says so.
func TestReportPollingInterrupted(t *testing.T) {
	clock := newFakeClock(clockStart)
	srv, c := serve(t, world("{delay: never}", "[]"), clock.Now)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock.beforeSleep = func(n int) {
		if n == 2 {
			cancel()
		}
	}
	rep, st := CredentialReport(ctx, c.IAM, clockedOpts(clock))
	if rep != nil || st.State != evidence.StateError || !strings.Contains(st.Detail, "interrupted after 3 polls") {
		t.Fatalf("state %+v", st)
	}
	if g := srv.Calls(acct, "GenerateCredentialReport"); g != 3 {
		t.Errorf("Generate called %d times after the interruption, want 3", g)
	}
}

// TestReportNeverCompletesOnTheRealClock: by default the timeout runs in
// real time, so a frozen Now (the demo's, the CLI tests') cannot stop it.
func TestReportNeverCompletesOnTheRealClock(t *testing.T) {
	_, c := serve(t, world("{delay: never}", "[]"), func() time.Time { return clockStart })
	opts := fastOpts(func() time.Time { return clockStart })
	opts.ReportTimeout = 300 * time.Millisecond
	rep, st := CredentialReport(context.Background(), c.IAM, opts)
	if rep != nil || st.State != evidence.StateMissing {
		t.Fatalf("state %+v", st)
	}
	if !strings.Contains(st.Detail, "not ready within 300ms") || !strings.Contains(st.Detail, "INPROGRESS") {
		t.Errorf("detail %q should give the timeout and the last state", st.Detail)
	}
}

// TestOversizedReportRefused: a GetCredentialReport answer over the
// parser's bound is an error that says so, not "not a credential report".
func TestOversizedReportRefused(t *testing.T) {
	content := append([]byte("user,arn,password_last_used,mfa_active\n"), bytes.Repeat([]byte("x"), credreport.MaxReportBytes)...)
	rep, st := parseLive(&iam.GetCredentialReportOutput{Content: content, ReportFormat: "text/csv"}, "generated a new report")
	if rep != nil || st.State != evidence.StateError || !strings.HasPrefix(st.Detail, "GetCredentialReport: the credential report is 16,777,") {
		t.Errorf("state %+v", st)
	}
}

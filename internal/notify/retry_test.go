package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// scripted answers each attempt from a script and counts them.
type scripted struct {
	answers []func(ctx context.Context) (bool, error)
	calls   int
}

func (s *scripted) Notify(ctx context.Context, _ Content) (bool, error) {
	a := s.answers[min(s.calls, len(s.answers)-1)]
	s.calls++
	return a(ctx)
}

func answer(retry bool, err error) func(context.Context) (bool, error) {
	return func(context.Context) (bool, error) { return retry, err }
}

// TestRetryIsOneStageAroundAnyNotifier drives the stage with a notifier
// that is no channel at all: the notifier says whether a failure may pass,
// the stage decides when (backoff, Retry-After cut at MaxWait, attempts,
// the bound of each attempt).
func TestRetryIsOneStageAroundAnyNotifier(t *testing.T) {
	boom := errors.New("boom")
	hang := func(ctx context.Context) (bool, error) { <-ctx.Done(); return true, ctx.Err() }
	cases := []struct {
		name     string
		answers  []func(context.Context) (bool, error)
		attempts int
		err      string
		waits    []time.Duration
	}{
		{"delivered at once", []func(context.Context) (bool, error){answer(false, nil)}, 1, "", nil},
		{"a failure that will not pass is not retried", []func(context.Context) (bool, error){answer(false, boom)}, 1, "boom", nil},
		{"failures that may pass, backoff doubling", []func(context.Context) (bool, error){answer(true, boom), answer(true, boom), answer(false, nil)}, 3, "",
			[]time.Duration{10 * time.Millisecond, 20 * time.Millisecond}},
		{"Retry-After is honoured, and cut at MaxWait", []func(context.Context) (bool, error){
			answer(true, &retryLater{after: 2 * time.Second, err: boom}), answer(true, &retryLater{after: time.Hour, err: boom}), answer(false, nil)}, 3, "",
			[]time.Duration{2 * time.Second, time.Minute}},
		{"attempts run out", []func(context.Context) (bool, error){answer(true, boom)}, 4, "boom",
			[]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}},
		{"no answer within the timeout may pass", []func(context.Context) (bool, error){hang, answer(false, nil)}, 2, "", []time.Duration{10 * time.Millisecond}},
		{"no answer, whatever the notifier said", []func(context.Context) (bool, error){
			func(ctx context.Context) (bool, error) { <-ctx.Done(); return false, ctx.Err() }}, 4, "no answer within 20ms",
			[]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var waits []time.Duration
			o := Options{Backoff: 10 * time.Millisecond, Timeout: 20 * time.Millisecond, Sleep: func(_ context.Context, d time.Duration) { waits = append(waits, d) }}.withDefaults()
			n := &scripted{answers: tc.answers}
			r := o.retry(context.Background(), "test #1 (example)", n, Alert{})
			if r.Attempts != tc.attempts || n.calls != tc.attempts || fmt.Sprint(r.Err) != map[bool]string{true: "<nil>", false: tc.err}[tc.err == ""] ||
				fmt.Sprint(waits) != fmt.Sprint(tc.waits) {
				t.Errorf("attempts %d (calls %d), err %v, waits %v; want %d, %q, %v", r.Attempts, n.calls, r.Err, waits, tc.attempts, tc.err, tc.waits)
			}
			if tc.err == "no answer within 20ms" && !errors.Is(r.Err, ErrNoAnswer) {
				t.Errorf("%v is not ErrNoAnswer", r.Err)
			}
		})
	}
	// A cancelled run stops retrying.
	ctx, cancel := context.WithCancel(context.Background())
	n := &scripted{answers: []func(context.Context) (bool, error){func(context.Context) (bool, error) { cancel(); return true, boom }}}
	if r := (Options{Sleep: func(context.Context, time.Duration) {}}).withDefaults().retry(ctx, "x", n, Alert{}); r.Attempts != 1 || n.calls != 1 {
		t.Errorf("cancelled: %+v", r)
	}
}

// TestDeliveryDefaults: the defaults are written once, in notify: a run's
// and the watch's (ForAlerts), which keeps what a caller set.
func TestDeliveryDefaults(t *testing.T) {
	run := Options{}.withDefaults()
	if run.Attempts != 4 || run.Backoff != time.Second || run.MaxWait != time.Minute || run.Timeout != DefaultTimeout || run.WaitingAfter != 5*time.Second {
		t.Errorf("run defaults %+v", run)
	}
	alert := Options{}.ForAlerts().withDefaults()
	if alert.Attempts != 3 || alert.Backoff != 500*time.Millisecond || alert.MaxWait != 10*time.Second || alert.Timeout != 15*time.Second || alert.WaitingAfter != 5*time.Second {
		t.Errorf("alert defaults %+v", alert)
	}
	if o := (Options{Attempts: 2, Timeout: 4 * time.Second}).ForAlerts().withDefaults(); o.Attempts != 2 || o.Timeout != 4*time.Second || o.MaxWait != 10*time.Second || o.WaitingAfter != 2*time.Second {
		t.Errorf("set fields are kept: %+v", o)
	}
}

type foreign struct{}

func (foreign) Headline() string { return "foreign" }

// TestEveryChannelIsOnePlace: each channel is listed once, named in the
// usage line, parses a target of its own, and refuses (for good) content
// it has no form for rather than sending something.
func TestEveryChannelIsOnePlace(t *testing.T) {
	examples := map[string]string{
		"slack": "https://hooks.slack.com/services/A/B/C", "webhook": "https://siem.example/hook",
		"email": "smtp://mail.example?from=a@example.com&to=b@example.com", "sns": "arn:aws:sns:eu-west-1:111111111111:t",
		"teams": "https://prod-00.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=S", "pagerduty": "env:PD_KEY",
	}
	seen := map[string]bool{}
	for _, ch := range channels() {
		if seen[ch.kind] || ch.syntax == "" || ch.check == nil || ch.notifier == nil {
			t.Errorf("channel %+v: listed twice or incomplete", ch)
		}
		seen[ch.kind] = true
		if !strings.Contains(usage(), ch.kind+"="+ch.syntax) || !strings.Contains(kinds(), ch.kind) {
			t.Errorf("%s is missing from %q or %q", ch.kind, usage(), kinds())
		}
		addr, ok := examples[ch.kind]
		if !ok {
			t.Errorf("no example target for %s", ch.kind)
			continue
		}
		tg, err := ParseTarget(ch.kind+"="+addr, 1, "", pdGetenv)
		if err != nil || tg.Kind != ch.kind || !strings.HasPrefix(tg.Name, ch.kind+" #1 (") {
			t.Errorf("%s: %+v %v", ch.kind, tg, err)
			continue
		}
		if retry, err := tg.notifier(Options{}).Notify(context.Background(), foreign{}); retry || err == nil || !strings.Contains(err.Error(), "cannot send") {
			t.Errorf("%s sent foreign content: %v %v", ch.kind, retry, err)
		}
	}
	if r := send(context.Background(), []Target{{Name: "made by hand"}}, Alert{}, Options{Attempts: 1}); r[0].Err == nil {
		t.Error("a Target not made by ParseTarget was sent to")
	}
}

package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

const takeoverID = "d0000003-0000-4000-8000-0000000000"

// takeover returns the step n of testdata/takeover/takeover-chain.records.json
// in the EventBridge envelope its account's bus delivers, renamed id (its
// own eventID), at time at when given.
func takeover(t testing.TB, n, id string, at time.Time) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "takeover", "takeover-chain.records.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Records []map[string]any }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Records {
		if r["eventID"] != takeoverID+n {
			continue
		}
		r["eventID"] = id
		if !at.IsZero() {
			r["eventTime"] = at.UTC().Format(time.RFC3339)
		}
		kind := "AWS API Call via CloudTrail"
		if r["eventType"] == "AwsConsoleSignIn" {
			kind = "AWS Console Sign In via CloudTrail"
		}
		env, _ := json.Marshal(map[string]any{"version": "0", "id": "eb-" + id, "detail-type": kind,
			"source": "aws." + strings.TrimSuffix(r["eventSource"].(string), ".amazonaws.com"), "account": r["recipientAccountId"],
			"time": r["eventTime"], "region": r["awsRegion"], "resources": []any{}, "detail": r})
		return string(env)
	}
	t.Fatalf("no takeover step %s", n)
	return ""
}

// delivered are the webhook bodies: kind, title and event ids of each.
type delivered struct {
	Kind   string `json:"kind"`
	Title  string `json:"title"`
	RuleID string `json:"rule_id"`
	Events []struct {
		EventID string `json:"event_id"`
	} `json:"events"`
}

func (h *hook) delivered(t *testing.T) []delivered {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []delivered
	for _, b := range h.bodies {
		var d delivered
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func (d delivered) ids() string {
	var ids []string
	for _, e := range d.Events {
		ids = append(ids, e.EventID)
	}
	return strings.Join(ids, "+")
}

func chains(ds []delivered) []delivered {
	return slices.DeleteFunc(slices.Clone(ds), func(d delivered) bool { return d.Kind != notify.KindTakeoverChain })
}

// TestWatchAlertsEachTakeoverStep: every step of a takeover is alerted at
// once, in words that say what it is (the management account's calls name
// the member and the caller); the read-only audit session is not; and the
// steps arriving together are alerted once more as one chain.
func TestWatchAlertsEachTakeoverStep(t *testing.T) {
	e := setup(t, &hook{})
	for _, n := range []string{"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13"} {
		e.send(t, takeover(t, n, "s"+n, time.Time{}))
	}
	var out lockedBuffer
	o := e.options(&out)
	o.AccountNames = map[string]string{"222222222222": "sandbox"}
	st, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]string{}
	var chained []delivered
	for _, d := range e.hook.delivered(t) {
		if d.Kind == notify.KindTakeoverChain {
			chained = append(chained, d)
			continue
		}
		if d.Kind != "root_activity" || len(d.Events) != 1 {
			t.Errorf("alert %+v", d)
		}
		titles[d.ids()] = d.Title
		if d.ids() != "s03" && d.ids() != "s06" && d.RuleID != "iam-root-recovery-activity" {
			t.Errorf("%s: rule %s", d.ids(), d.RuleID)
		}
	}
	for id, want := range map[string]string{
		"s01": "rootwatch: arn:aws:sts::111111111111:assumed-role/PowerUser/alice opened a root session in sandbox (222222222222) (AssumeRoot IAMCreateRootUserPassword) from 203.0.113.50",
		"s02": "rootwatch: a root password was created in sandbox (222222222222) (CreateLoginProfile, in a root session opened by arn:aws:sts::111111111111:assumed-role/PowerUser/alice) from 203.0.113.50",
		"s03": "rootwatch: root called iam CreateLoginProfile in sandbox (222222222222) from 203.0.113.51",
		"s04": "rootwatch: root PasswordRecoveryRequested in sandbox (222222222222) from 192.0.2.200",
		"s05": "rootwatch: root PasswordRecoveryCompleted in sandbox (222222222222) from 192.0.2.200",
		"s06": "rootwatch: root signed in to sandbox (222222222222) from 192.0.2.200 without MFA",
		"s07": "rootwatch: arn:aws:sts::111111111111:assumed-role/PowerUser/alice changed the root e-mail address of sandbox (222222222222) (StartPrimaryEmailUpdate) from 203.0.113.50",
		"s08": "rootwatch: arn:aws:sts::111111111111:assumed-role/PowerUser/alice changed the root e-mail address of sandbox (222222222222) (AcceptPrimaryEmailUpdate) from 203.0.113.50",
		"s09": "rootwatch: root EmailUpdated in sandbox (222222222222) from 192.0.2.200",
		"s11": "rootwatch: root PasswordUpdated in sandbox (222222222222) from 192.0.2.200",
		"s12": "rootwatch: root PasswordRecoveryRequested in sandbox (222222222222) from 198.51.100.99",
	} {
		if titles[id] != want {
			t.Errorf("%s: %q, want %q", id, titles[id], want)
		}
	}
	if _, ok := titles["s10"]; ok || len(titles) != 11 {
		t.Errorf("alerts %v: want every step but the audit session (s10)", titles)
	}
	if len(chained) != 1 || chained[0].ids() != "s01+s02+s04+s05+s06" || chained[0].RuleID != "iam-root-recovery-activity" ||
		chained[0].Title != "rootwatch: root takeover of sandbox (222222222222) within an hour: PowerUser/alice opened a root session to create a password; recovered by e-mail, root signed in from 192.0.2.200" {
		t.Errorf("chain alerts %+v", chained)
	}
	// stdout prints each step once; the chain repeats none.
	if got := printed(t, out.lines()); len(got) != 11 {
		t.Errorf("stdout %q", got)
	}
	if st.Deleted != 13 || e.srv.QueueDepth(acct, queueName) != 0 || strings.Contains(strings.Join(out.lines(), ""), "new-owner") {
		t.Errorf("stats %+v, depth %d", st, e.srv.QueueDepth(acct, queueName))
	}
}

// chainRun runs a watch on the fake clock; step sends takeover steps and
// waits until each was alerted.
func chainRun(t *testing.T, send func(Options) notify.Alert) (*env, *fakeClock, func(ns ...string), func() Stats) {
	t.Helper()
	e := setupFakeTime(t, &hook{})
	o, clock, logs := e.burstOptions(io.Discard, 24*time.Hour)
	var sent atomic.Int32
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	step := func(ns ...string) {
		t.Helper()
		for _, n := range ns {
			e.send(t, takeover(t, n, "s"+n, base.Add(time.Duration(sent.Add(1))*time.Minute)))
		}
		want := int(sent.Load())
		logs.waitFor(t, fmt.Sprintf("%d steps alerted", want), func(s *logSink) bool { return len(s.with("alert delivered")) >= want })
	}
	cancel, wait := runWatch(t, o)
	return e, clock, step, func() Stats { cancel(); return wait() }
}

// TestWatchChainWithinTheHour: a chain is alerted once when its steps
// arrive within an hour of each other (on the watch's clock); steps that
// arrived longer ago are forgotten; a chain without its sign-in is no
// chain until the sign-in comes.
func TestWatchChainWithinTheHour(t *testing.T) {
	t.Run("within the hour", func(t *testing.T) {
		e, clock, step, stop := chainRun(t, nil)
		step("01", "02")
		clock.Advance(59 * time.Minute)
		step("04", "05")
		if got := chains(e.hook.delivered(t)); len(got) != 0 {
			t.Fatalf("a chain without its sign-in: %+v", got)
		}
		step("06")
		stop()
		if got := chains(e.hook.delivered(t)); len(got) != 1 || got[0].ids() != "s01+s02+s04+s05+s06" {
			t.Errorf("chains %+v", got)
		}
	})
	t.Run("out of the hour", func(t *testing.T) {
		e, clock, step, stop := chainRun(t, nil)
		step("01", "02")
		clock.Advance(61 * time.Minute)
		step("04", "05", "06")
		stop()
		if got := chains(e.hook.delivered(t)); len(got) != 0 {
			t.Errorf("steps an hour apart alerted as a chain: %+v", got)
		}
	})
	t.Run("the session's call out of the hour", func(t *testing.T) {
		// The AssumeRoot call is forgotten; the rest is a chain whose
		// opener is named by the session it linked before.
		e, clock, step, stop := chainRun(t, nil)
		step("01")
		clock.Advance(61 * time.Minute)
		step("02", "04", "06")
		stop()
		got := chains(e.hook.delivered(t))
		if len(got) != 1 || got[0].ids() != "s02+s04+s06" || !strings.Contains(got[0].Title, "PowerUser/alice opened a root session that created a password") {
			t.Errorf("chains %+v", got)
		}
	})
	t.Run("without the AssumeRoot call", func(t *testing.T) {
		e, _, step, stop := chainRun(t, nil)
		step("02", "05", "06")
		stop()
		got := chains(e.hook.delivered(t))
		if len(got) != 1 || !strings.Contains(got[0].Title, "a root password was created (its AssumeRoot call was not received); recovered by e-mail, root signed in from 192.0.2.200") {
			t.Errorf("chains %+v", got)
		}
	})
	t.Run("no password created", func(t *testing.T) {
		e, _, step, stop := chainRun(t, nil)
		step("01", "04", "05", "06")
		stop()
		if got := chains(e.hook.delivered(t)); len(got) != 0 {
			t.Errorf("a recovery without a password created alerted as a chain: %+v", got)
		}
	})
	t.Run("failed steps take nobody further", func(t *testing.T) {
		e, _, step, stop := chainRun(t, nil)
		step("01", "02", "12", "06") // 12: a recovery request that failed
		stop()
		if got := chains(e.hook.delivered(t)); len(got) != 0 {
			t.Errorf("a failed recovery completed a chain: %+v", got)
		}
	})
	t.Run("once per password created", func(t *testing.T) {
		e, _, step, stop := chainRun(t, nil)
		step("01", "02", "04", "06")
		e.send(t, takeover(t, "06", "s06-again", time.Date(2026, 11, 30, 13, 0, 0, 0, time.UTC)))
		step("05")
		stop()
		if got := chains(e.hook.delivered(t)); len(got) != 1 {
			t.Errorf("chains %+v, want one", got)
		}
	})
}

// TestWatchChainRetriedWhenItsAlertFails: the chain's alert failing
// leaves the message that completed it to come back; then the chain is
// alerted, and the step's own alert, delivered before, is not repeated.
func TestWatchChainRetriedWhenItsAlertFails(t *testing.T) {
	e := setup(t, &hook{})
	var failed atomic.Bool
	o := e.options(io.Discard)
	send := o.Send
	o.Send = func(ctx context.Context, targets []notify.Target, a notify.Alert) []notify.Result {
		if a.Kind == notify.KindTakeoverChain && !failed.Swap(true) {
			return []notify.Result{{Target: targets[0].Name, Err: fmt.Errorf("the chat service is down"), Attempts: 1}}
		}
		return send(ctx, targets, a)
	}
	for _, n := range []string{"01", "02", "04", "06"} {
		e.send(t, takeover(t, n, "s"+n, time.Time{}))
	}
	st, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var own []string
	for _, d := range e.hook.delivered(t) {
		if d.Kind != notify.KindTakeoverChain {
			own = append(own, d.ids())
		}
	}
	if got := chains(e.hook.delivered(t)); !failed.Load() || len(got) != 1 {
		t.Errorf("chains %+v after a failed first delivery", got)
	}
	if slices.Sort(own); strings.Join(own, " ") != "s01 s02 s04 s06" {
		t.Errorf("the steps' own alerts %q, want each once", own)
	}
	if st.Released != 1 || st.Deleted != 4 || e.srv.QueueDepth(acct, queueName) != 0 {
		t.Errorf("stats %+v", st)
	}
}

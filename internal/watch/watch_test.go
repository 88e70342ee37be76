package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/pattern/reference"
	"github.com/rootwatch/rootwatch/internal/store"
)

const (
	acct      = "111122223333"
	queueName = "root-activity"
	world     = `
accounts:
  - id: "111122223333"
    access_keys: [AKIAWATCH00000000001]
    queues:
      - {name: root-activity, visibility_timeout: 1, dead_letter: root-activity-dlq, max_receive_count: 2}
      - {name: root-activity-dlq}
`
)

// hook is a loopback webhook that fails its first failFirst requests,
// optionally waits, and keeps the bodies it accepted.
type hook struct {
	mu        sync.Mutex
	bodies    [][]byte
	requests  atomic.Int32
	failFirst int32
	delay     time.Duration
	// arrived, when set, is closed at the first request.
	arrived     chan struct{}
	arrivedOnce sync.Once
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.requests.Add(1)
	if h.arrived != nil {
		h.arrivedOnce.Do(func() { close(h.arrived) })
	}
	b, _ := io.ReadAll(r.Body)
	if n <= h.failFirst {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	if h.delay > 0 {
		time.Sleep(h.delay)
	}
	h.mu.Lock()
	h.bodies = append(h.bodies, b)
	h.mu.Unlock()
}

// alerts are the accepted bodies: the alert kinds and event ids.
func (h *hook) alerts(t *testing.T) []string {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, b := range h.bodies {
		var a struct {
			Title  string           `json:"title"`
			Events []evidence.Event `json:"events"`
		}
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatalf("webhook body is not JSON: %v", err)
		}
		ids := make([]string, len(a.Events))
		for i, e := range a.Events {
			ids[i] = e.EventID
		}
		out = append(out, strings.Join(ids, "+"))
	}
	return out
}

type env struct {
	srv    *awsfake.Server
	sqs    *sqs.Client
	url    string
	hook   *hook
	target notify.Target
}

func setup(t testing.TB, h *hook) *env { return setupWorld(t, h, world) }

// setupFakeTime is setup for a watch on a fake clock (burstOptions): the
// watch's visibility heartbeat runs on that clock, so the queue's
// visibility timeout (the fake SQS's, in real time) outlasts the test.
func setupFakeTime(t testing.TB, h *hook) *env {
	return setupWorld(t, h, strings.Replace(world, "visibility_timeout: 1,", "visibility_timeout: 3600,", 1))
}

func setupWorld(t testing.TB, h *hook, world string) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, base, err := awsfake.Serve(ctx, []byte(world), t.Name(), awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := sqs.NewFromConfig(awsfake.ClientConfig(base, "AKIAWATCH00000000001"))
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	target, err := notify.ParseTarget("webhook="+hs.URL, 1, "", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	u, _ := strings.CutPrefix(base, "http://")
	return &env{srv: srv, sqs: c, url: "http://" + u + "/" + acct + "/" + queueName, hook: h, target: target}
}

// eventOf is a reference event in an EventBridge envelope, with its own id.
func eventOf(t testing.TB, file, id, ip string) string {
	t.Helper()
	for _, e := range reference.Events() {
		if e.File != file {
			continue
		}
		var env map[string]any
		if err := json.Unmarshal(e.EventBridge("eu-west-1"), &env); err != nil {
			t.Fatal(err)
		}
		d := env["detail"].(map[string]any)
		d["eventID"] = id
		if ip != "" {
			d["sourceIPAddress"] = ip
		}
		b, _ := json.Marshal(env)
		return string(b)
	}
	t.Fatalf("no reference event %s", file)
	return ""
}

func (e *env) send(t *testing.T, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := e.srv.SendToQueue(acct, queueName, b); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *env) options(out io.Writer) Options {
	// Bursts keep their defaults (30 s, 5 minutes): the idle exit sends them.
	return Options{QueueURL: e.url, SQS: e.sqs, Targets: []notify.Target{e.target}, IdleExit: 2 * time.Second,
		Out: out, Send: func(ctx context.Context, t []notify.Target, a notify.Alert) []notify.Result {
			return notify.SendAlert(ctx, t, a, notify.Options{Attempts: 2, Backoff: 10 * time.Millisecond, Timeout: 5 * time.Second})
		}}
}

func TestWatchAlertsOnRootActivityOnly(t *testing.T) {
	e := setup(t, &hook{})
	e.send(t,
		eventOf(t, "root-console-signin-success.json", "signin-1", ""),
		eventOf(t, "root-api-call-with-keys.json", "api-1", ""),
		eventOf(t, "root-console-signin-failure.json", "fail-1", "192.0.2.77"),
		eventOf(t, "root-console-signin-failure.json", "fail-2", "192.0.2.77"),
		eventOf(t, "root-console-signin-failure.json", "fail-3", "192.0.2.77"),
		eventOf(t, "root-console-signin-failure.json", "fail-4", "198.51.100.9"),
		eventOf(t, "iam-user-api-call.json", "iam-1", ""),
		eventOf(t, "iam-user-console-signin.json", "iam-2", ""),
		eventOf(t, "service-event-as-root.json", "service-1", ""),
		// At-least-once delivery: the same event twice.
		eventOf(t, "root-api-call-with-keys.json", "api-1", ""),
	)
	// An SNS-wrapped raw record, and a message that is not CloudTrail.
	var rec map[string]any
	json.Unmarshal([]byte(eventOf(t, "root-api-call-with-keys.json", "api-2", "")), &rec)
	raw, _ := json.Marshal(rec["detail"])
	wrapped, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "m", "Message": string(raw)})
	e.send(t, string(wrapped), `{"not": "cloudtrail"}`)

	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	var out bytes.Buffer
	o := e.options(&out)
	o.Metrics = m
	m.Received.Add(3) // counted before this run: not in its stats
	st, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// The stats are the metrics' counts, this run's alone.
	if r := testutil.ToFloat64(m.Received); st.Received < 12 || float64(st.Received) != r-3 {
		t.Errorf("received %d in the stats and %v in the metrics (3 before the run), want at least 12 and the same", st.Received, r)
	}
	if a := testutil.ToFloat64(m.Alerts.WithLabelValues(e.target.Name)); float64(st.Alerts) != a {
		t.Errorf("alerts %d in the stats and %v in the metrics", st.Alerts, a)
	}
	got := strings.Join(sorted(e.hook.alerts(t)), " ")
	want := "api-1 api-2 fail-1+fail-2+fail-3 fail-4 signin-1"
	if got != want {
		t.Errorf("alerts %q, want %q", got, want)
	}
	if st.Duplicates != 1 || st.Unparseable == 0 || st.RootEvents != 9 || st.Events != 11 {
		t.Errorf("stats %+v", st)
	}
	// Printed: one JSON line per root event alerted on, once.
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 7 {
		t.Errorf("stdout has %d lines, want 7:\n%s", len(lines), out.String())
	}
	// Every message but the unreadable one is deleted; that one went to the DLQ.
	if d := e.srv.QueueDepth(acct, queueName); d != 0 {
		t.Errorf("queue depth %d, want 0", d)
	}
	if d := e.srv.QueueDepth(acct, "root-activity-dlq"); d != 1 {
		t.Errorf("dead-letter queue depth %d, want 1 (the unreadable message)", d)
	}
	if v := testutil.ToFloat64(m.Events.WithLabelValues("not_root")); v != 2 {
		t.Errorf("not_root events metric %v, want 2", v)
	}
	if v := testutil.ToFloat64(m.Events.WithLabelValues(evidence.CategoryService)); v != 1 {
		t.Errorf("service events metric %v, want 1", v)
	}
	if v := testutil.ToFloat64(m.Alerts.WithLabelValues(e.target.Name)); v != 5 {
		t.Errorf("alerts metric %v, want 5", v)
	}
}

func TestFailingDeliveryIsRetriedByRedelivery(t *testing.T) {
	// Two attempts per delivery; the hook fails three times: the first
	// receive fails, the second delivers.
	e := setup(t, &hook{failFirst: 3})
	e.send(t, eventOf(t, "root-console-signin-success.json", "signin-1", ""))
	var out lockedBuffer
	st, err := Run(context.Background(), e.options(&out))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.hook.alerts(t); len(got) != 1 || got[0] != "signin-1" {
		t.Errorf("alerts %v, want exactly one", got)
	}
	// Printed once, when delivered: not on the failed first receive.
	if got := printed(t, out.lines()); strings.Join(got, " ") != "signin-1:delivered" {
		t.Errorf("stdout %q, want signin-1 once, delivered", got)
	}
	if n := e.hook.requests.Load(); n != 4 {
		t.Errorf("requests %d, want 4 (2 failed attempts, a redelivery, 1 failure and 1 success)", n)
	}
	if st.Released != 1 || st.Deleted != 1 || e.srv.QueueDepth(acct, queueName) != 0 {
		t.Errorf("stats %+v, depth %d", st, e.srv.QueueDepth(acct, queueName))
	}
}

func TestRestartWithStoreDoesNotRealert(t *testing.T) {
	e := setup(t, &hook{})
	s, err := store.OpenDeliveries(context.Background(), t.TempDir()+"/history.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := eventOf(t, "root-api-call-with-keys.json", "api-1", "")
	for run := range 2 {
		e.send(t, body) // EventBridge delivers the event again after the restart
		o := e.options(io.Discard)
		o.Store = s
		st, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if run == 1 && (st.Duplicates != 1 || st.Deleted != 1) {
			t.Errorf("second run: %+v", st)
		}
	}
	if got := e.hook.alerts(t); len(got) != 1 {
		t.Errorf("alerts %v, want one across the restart", got)
	}
}

func TestCancelMidDeliveryLosesNothing(t *testing.T) {
	e := setup(t, &hook{delay: 700 * time.Millisecond, arrived: make(chan struct{})})
	var ids []string
	for i := range 12 {
		id := fmt.Sprintf("api-%d", i)
		ids = append(ids, id)
		e.send(t, eventOf(t, "root-api-call-with-keys.json", id, ""))
	}
	ctx, cancel := context.WithCancel(context.Background())
	o := e.options(io.Discard)
	o.IdleExit = 0
	done := make(chan Stats)
	go func() {
		st, err := Run(ctx, o)
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	// Cancel (SIGTERM) while the first deliveries are in flight.
	<-e.hook.arrived
	cancel()
	st := <-done
	alerted := map[string]bool{}
	for _, a := range e.hook.alerts(t) {
		alerted[a] = true
	}
	// Every event is either alerted (and its message deleted) or still queued.
	left := e.srv.QueueDepth(acct, queueName)
	if len(alerted)+left != len(ids) || st.Deleted != len(alerted) {
		t.Errorf("alerted %d, deleted %d, left %d: want alerted = deleted and alerted + left = %d", len(alerted), st.Deleted, left, len(ids))
	}
	if len(alerted) == 0 {
		t.Error("nothing in flight was finished after the cancel")
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// preload fills the fake's queue with n EventBridge events, one in ten a
// root call (the others IAM users'), and returns the number of root events.
func preload(b *testing.B, e *env, n int) int {
	b.Helper()
	root := eventOf(b, "root-api-call-with-keys.json", "", "")
	user := eventOf(b, "iam-user-api-call.json", "", "")
	roots := 0
	for i := range n {
		body := strings.Replace(user, `"eventID":""`, fmt.Sprintf(`"eventID":"u-%d"`, i), 1)
		if i%10 == 0 {
			body = strings.Replace(root, `"eventID":""`, fmt.Sprintf(`"eventID":"r-%d"`, i), 1)
			roots++
		}
		if _, err := e.srv.SendToQueue(acct, queueName, body); err != nil {
			b.Fatal(err)
		}
	}
	return roots
}

const benchEvents = 20000

// BenchmarkWatch drains 20,000 events (2,000 root, each alerted to a no-op
// loopback webhook) with 8 receivers; BenchmarkReceiveDeleteFloor drains
// the same with a bare receive-and-batch-delete loop: SQS's cost alone.
func BenchmarkWatch(b *testing.B) {
	for range b.N {
		b.StopTimer()
		e := setup(b, &hook{})
		roots := preload(b, e, benchEvents)
		o := e.options(io.Discard)
		o.Receivers, o.IdleExit, o.WaitTime = 8, time.Second, time.Second
		b.StartTimer()
		start := time.Now()
		st, err := Run(context.Background(), o)
		elapsed := time.Since(start) - time.Second // the idle exit
		b.StopTimer()
		if err != nil || st.Deleted != benchEvents || st.Alerts != roots {
			b.Fatalf("%+v %v", st, err)
		}
		b.ReportMetric(benchEvents/elapsed.Seconds(), "events/s")
	}
}

func BenchmarkReceiveDeleteFloor(b *testing.B) {
	for range b.N {
		b.StopTimer()
		e := setup(b, &hook{})
		preload(b, e, benchEvents)
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		var deleted atomic.Int64
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					out, err := e.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &e.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
					if err != nil || len(out.Messages) == 0 {
						return
					}
					entries := make([]sqstypes.DeleteMessageBatchRequestEntry, len(out.Messages))
					for i, m := range out.Messages {
						entries[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle}
					}
					if _, err := e.sqs.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{QueueUrl: &e.url, Entries: entries}); err == nil {
						deleted.Add(int64(len(entries)))
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start) - time.Second // the last, empty, poll
		b.StopTimer()
		if deleted.Load() != benchEvents {
			b.Fatalf("deleted %d", deleted.Load())
		}
		b.ReportMetric(benchEvents/elapsed.Seconds(), "events/s")
	}
}

func TestSlowDeliveryKeepsItsMessageHidden(t *testing.T) {
	// The queue's visibility timeout is 1 s; the webhook takes 2.5 s.
	e := setup(t, &hook{delay: 2500 * time.Millisecond})
	e.send(t, eventOf(t, "root-api-call-with-keys.json", "slow-1", ""))
	st, err := Run(context.Background(), e.options(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if st.Received != 1 || st.Deleted != 1 || e.hook.requests.Load() != 1 {
		t.Errorf("stats %+v, webhook requests %d: the message must be received once, its visibility extended", st, e.hook.requests.Load())
	}
}

// memS3 serves log files from memory.
type memS3 map[string]string

func (m memS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	body, ok := m[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, fmt.Errorf("NoSuchKey: %s", aws.ToString(in.Key))
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(body))}, nil
}

func TestExtractReadsEveryShape(t *testing.T) {
	var env map[string]any
	json.Unmarshal([]byte(eventOf(t, "root-api-call-with-keys.json", "x-1", "")), &env)
	record, _ := json.Marshal(env["detail"])
	key := "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/30/111122223333_CloudTrail_eu-west-1_20261130T0905Z_abc.json"
	store := memS3{"trail-bucket/" + key: `{"Records":[` + string(record) + `]}`, "trail-bucket/other.json": `{"Records":[]}`}
	s3Event, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{"eventSource": "aws:s3",
		"s3": map[string]any{"bucket": map[string]any{"name": "trail-bucket"}, "object": map[string]any{"key": strings.ReplaceAll(key, "_", "%5F")}}}}})
	ctNotice := `{"s3Bucket":"trail-bucket","s3ObjectKey":["` + key + `","other.json"]}`
	sns := func(s string) string {
		b, _ := json.Marshal(map[string]any{"Type": "Notification", "Message": s})
		return string(b)
	}
	cases := map[string]struct {
		body        string
		root, total int
		err         string
	}{
		"EventBridge event":                 {eventOf(t, "root-api-call-with-keys.json", "x-1", ""), 1, 1, ""},
		"raw record":                        {string(record), 1, 1, ""},
		"Records":                           {`{"Records":[` + string(record) + `]}`, 1, 1, ""},
		"SNS-wrapped record":                {sns(string(record)), 1, 1, ""},
		"S3 event notification":             {string(s3Event), 1, 1, ""},
		"SNS-wrapped S3 event notification": {sns(string(s3Event)), 1, 1, ""},
		"CloudTrail's log notification":     {ctNotice, 1, 1, ""},
		"S3 test event":                     {`{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"trail-bucket"}`, 0, 0, ""},
		"a file that is gone":               {`{"s3Bucket":"trail-bucket","s3ObjectKey":["missing.json"]}`, 0, 0, "NoSuchKey"},
		"not CloudTrail":                    {`{"hello":"world"}`, 0, 0, "unparseable"},
		"not JSON":                          {`hello`, 0, 0, "unparseable"},
	}
	for name, c := range cases {
		got, err := extract(context.Background(), c.body, name, store)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", name, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case len(got.root) != c.root || got.total != c.total:
			t.Errorf("%s: %d root of %d events, want %d of %d", name, len(got.root), got.total, c.root, c.total)
		}
	}
	if _, err := extract(context.Background(), ctNotice, "no client", nil); err == nil || !errors.Is(err, errUnparseable) {
		t.Errorf("an S3 notification without an S3 client: %v", err)
	}
}

// printed reads stdout's JSON lines as EVENT_ID:ALERT.
func printed(t *testing.T, lines []string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		var e struct {
			EventID string `json:"event_id"`
			Alert   string `json:"alert"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("stdout line %q: %v", l, err)
		}
		out = append(out, e.EventID+":"+e.Alert)
	}
	return out
}

func TestWithoutTargetsEachEventIsPrintedOnceMarked(t *testing.T) {
	e := setup(t, &hook{})
	e.send(t,
		eventOf(t, "root-console-signin-success.json", "signin-1", ""),
		eventOf(t, "root-console-signin-success.json", "signin-1", ""),
		eventOf(t, "root-console-signin-failure.json", "fail-1", "192.0.2.77"),
	)
	var out lockedBuffer
	o := e.options(&out)
	o.Targets, o.BurstWindow = nil, 300*time.Millisecond
	st, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sorted(printed(t, out.lines())), " "); got != "fail-1:no_target signin-1:no_target" {
		t.Errorf("stdout %q, want each event once, marked no_target", got)
	}
	if st.Deleted != 3 || e.srv.QueueDepth(acct, queueName) != 0 {
		t.Errorf("stats %+v, depth %d", st, e.srv.QueueDepth(acct, queueName))
	}
}

// TestDeadLetterWarnings: the webhook is down; the queue moves a message to
// its dead-letter queue after 2 receives. The watch says so as it happens,
// in its log and metrics, and prints nothing (nothing was delivered).
func TestDeadLetterWarnings(t *testing.T) {
	e := setup(t, &hook{failFirst: 1 << 30})
	e.send(t, eventOf(t, "root-api-call-with-keys.json", "api-1", ""))
	logs := newLogSink()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	var out lockedBuffer
	o := e.options(&out)
	o.Log, o.Metrics = logs.logger(), m
	st, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if d, dlq := e.srv.QueueDepth(acct, queueName), e.srv.QueueDepth(acct, "root-activity-dlq"); d != 0 || dlq != 1 {
		t.Fatalf("queue %d, dead-letter queue %d: want the message moved", d, dlq)
	}
	if lines := out.lines(); len(lines) != 0 {
		t.Errorf("stdout %q: nothing was delivered, nothing may be printed", lines)
	}
	start := logs.with("watching")
	if len(start) != 1 || start[0].attrs["max_receive_count"] != "2" || !strings.HasSuffix(start[0].attrs["dead_letter_queue"], ":"+acct+":root-activity-dlq") {
		t.Errorf("start log %v: want the redrive policy\n%s", start, logs)
	}
	near, dead := logs.with("one receive left"), logs.with("dead-letter queue on its next receive")
	if len(near) != 1 || near[0].level != slog.LevelWarn || near[0].attrs["receive_count"] != "1" || near[0].attrs["message_id"] == "" {
		t.Errorf("near warnings %v, want one at receive 1 of 2\n%s", near, logs)
	}
	if len(dead) != 1 || dead[0].level != slog.LevelWarn || dead[0].attrs["receive_count"] != "2" || dead[0].attrs["message_id"] != near[0].attrs["message_id"] {
		t.Errorf("dead-letter warnings %v, want one at receive 2 of 2\n%s", dead, logs)
	}
	if v := testutil.ToFloat64(m.NearDeadLetter); v != 1 {
		t.Errorf("near-dead-letter metric %v, want 1", v)
	}
	if v := testutil.ToFloat64(m.DeadLettered); v != 1 {
		t.Errorf("dead-lettered metric %v, want 1", v)
	}
	// The log names messages, never their content.
	for _, secret := range []string{"AKIAIOSFODNN7EXAMPLE", "userIdentity", "rh-"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
	if st.Released != 2 || st.Deleted != 0 {
		t.Errorf("stats %+v", st)
	}
}

// receiveRecorder keeps the visibility timeout each ReceiveMessage asked for.
type receiveRecorder struct {
	SQSAPI
	mu           sync.Mutex
	visibilities []int32
}

func (r *receiveRecorder) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	r.mu.Lock()
	r.visibilities = append(r.visibilities, in.VisibilityTimeout)
	r.mu.Unlock()
	return r.SQSAPI.ReceiveMessage(ctx, in, opts...)
}

func TestQueueAttributesDeniedIsAWarning(t *testing.T) {
	e := setupWorld(t, &hook{}, world+`    faults: [{op: GetQueueAttributes, code: AccessDenied, status: 403, message: "not authorized to perform: sqs:GetQueueAttributes"}]
`)
	e.send(t, eventOf(t, "root-api-call-with-keys.json", "api-1", ""))
	logs := newLogSink()
	rec := &receiveRecorder{SQSAPI: e.sqs}
	o := e.options(io.Discard)
	o.Log, o.SQS = logs.logger(), rec
	st, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("a denied GetQueueAttributes must not stop the watch: %v", err)
	}
	if w := logs.with("sqs:GetQueueAttributes"); len(w) != 1 || w[0].level != slog.LevelWarn {
		t.Errorf("warnings %v\n%s", w, logs)
	}
	if st.Deleted != 1 || len(e.hook.alerts(t)) != 1 {
		t.Errorf("stats %+v, alerts %v", st, e.hook.alerts(t))
	}
	// The visibility timeout it cannot read, it sets on each receive.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, v := range rec.visibilities {
		if v != 30 {
			t.Fatalf("ReceiveMessage visibility timeouts %v, want 30 each", rec.visibilities)
		}
	}
}

// gathered holds once the watch has gathered n failed sign-ins into bursts.
func gathered(n int) func(*logSink) bool {
	return func(s *logSink) bool {
		sum := 0
		for _, r := range s.with("gathered into their bursts") {
			k, _ := strconv.Atoi(r.attrs["events"])
			sum += k
		}
		return sum >= n
	}
}

// runWatch runs the watch in the background; wait returns its stats.
func runWatch(t *testing.T, o Options) (cancel func(), wait func() Stats) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Stats, 1)
	go func() {
		st, err := Run(ctx, o)
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	var st *Stats
	wait = func() Stats {
		if st == nil {
			s := <-done
			st = &s
		}
		return *st
	}
	t.Cleanup(func() { cancel(); wait() })
	return cancel, wait
}

// burstOptions run the watch on a fake clock (bursts of 30 s and 5 minutes,
// the given idle exit) with one receiver, logging to a sink.
func (e *env) burstOptions(out io.Writer, idleExit time.Duration) (Options, *fakeClock, *logSink) {
	clock, logs := newFakeClock(), newLogSink()
	o := e.options(out)
	o.Clock, o.Log, o.Receivers, o.WaitTime = clock, logs.logger(), 1, time.Second
	o.Metrics = NewMetrics(prometheus.NewRegistry())
	o.BurstFirst, o.BurstWindow, o.IdleExit = 30*time.Second, 5*time.Minute, idleExit
	return o, clock, logs
}

// TestBurstFirstAlertsSoonLaterOnesGathered: the first failed sign-in of a
// burst is alerted after --burst-first, the ones that follow together a
// --burst-window later; a quiet window ends the burst.
func TestBurstFirstAlertsSoonLaterOnesGathered(t *testing.T) {
	e := setupFakeTime(t, &hook{})
	var out lockedBuffer
	o, clock, logs := e.burstOptions(&out, 24*time.Hour)
	const ip = "192.0.2.77"
	e.send(t, eventOf(t, "root-console-signin-failure.json", "fail-1", ip))
	cancel, wait := runWatch(t, o)

	logs.waitFor(t, "fail-1 gathered", gathered(1))
	clock.Advance(30 * time.Second)
	if got := e.hook.alerts(t); strings.Join(got, " ") != "fail-1" {
		t.Fatalf("alerts %v %s after --burst-first, want fail-1", got, "30s")
	}
	// The alert's lag is measured on the watch's clock, as all its time.
	var first struct {
		Detail struct {
			EventTime time.Time `json:"eventTime"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(eventOf(t, "root-console-signin-failure.json", "fail-1", ip)), &first); err != nil {
		t.Fatal(err)
	}
	var lag dto.Metric
	if err := o.Metrics.Lag.Write(&lag); err != nil {
		t.Fatal(err)
	}
	if want := clock.Now().Sub(first.Detail.EventTime).Seconds(); lag.GetHistogram().GetSampleCount() != 1 || lag.GetHistogram().GetSampleSum() != want {
		t.Errorf("lag %v, want one of %vs", lag.GetHistogram(), want)
	}
	if got := printed(t, out.lines()); strings.Join(got, " ") != "fail-1:delivered" {
		t.Errorf("stdout %q", got)
	}

	e.send(t, eventOf(t, "root-console-signin-failure.json", "fail-2", ip), eventOf(t, "root-console-signin-failure.json", "fail-3", ip))
	logs.waitFor(t, "fail-2 and fail-3 gathered", gathered(3))
	clock.Advance(4 * time.Minute)
	if got := e.hook.alerts(t); len(got) != 1 {
		t.Fatalf("alerts %v before the burst window ended, want only fail-1", got)
	}
	clock.Advance(time.Minute)
	if got := e.hook.alerts(t); strings.Join(got, " ") != "fail-1 fail-2+fail-3" {
		t.Fatalf("alerts %v a burst window after the first, want fail-2+fail-3 in one", got)
	}

	// A window without failures ends the burst: the next one is a first again.
	clock.Advance(5 * time.Minute)
	e.send(t, eventOf(t, "root-console-signin-failure.json", "fail-4", ip))
	logs.waitFor(t, "fail-4 gathered", gathered(4))
	clock.Advance(30 * time.Second)
	if got := e.hook.alerts(t); strings.Join(got, " ") != "fail-1 fail-2+fail-3 fail-4" {
		t.Fatalf("alerts %v, want fail-4 alone after --burst-first", got)
	}
	cancel()
	if st := wait(); st.Deleted != 4 || e.srv.QueueDepth(acct, queueName) != 0 {
		t.Errorf("stats %+v, depth %d", st, e.srv.QueueDepth(acct, queueName))
	}
	if got := printed(t, out.lines()); len(got) != 4 {
		t.Errorf("stdout %q, want each event once", got)
	}
}

// TestIdleExitFlushesGatheringBursts: the queue goes idle while bursts
// gather; the watch sends them, deletes their messages and exits.
func TestIdleExitFlushesGatheringBursts(t *testing.T) {
	e := setupFakeTime(t, &hook{})
	var out lockedBuffer
	o, clock, logs := e.burstOptions(&out, 8*time.Second)
	e.send(t,
		eventOf(t, "root-console-signin-failure.json", "fail-1", "192.0.2.77"),
		eventOf(t, "root-console-signin-failure.json", "fail-2", "192.0.2.77"),
		eventOf(t, "root-console-signin-failure.json", "fail-3", "192.0.2.77"),
		eventOf(t, "root-console-signin-failure.json", "fail-4", "198.51.100.9"),
	)
	cancel, wait := runWatch(t, o)
	logs.waitFor(t, "four failed sign-ins gathered", gathered(4))
	clock.Advance(8 * time.Second)
	exited := make(chan Stats, 1)
	go func() { exited <- wait() }()
	var st Stats
	select {
	case st = <-exited:
	case <-time.After(time.Minute): // a hang guard, not a timing
		cancel()
		<-exited
		t.Fatalf("the watch did not exit on --idle-exit while bursts gathered\n%s", logs)
	}
	if got := strings.Join(sorted(e.hook.alerts(t)), " "); got != "fail-1+fail-2+fail-3 fail-4" {
		t.Errorf("alerts %q, want both bursts sent at exit", got)
	}
	if st.Deleted != 4 || e.srv.QueueDepth(acct, queueName) != 0 || len(out.lines()) != 4 {
		t.Errorf("stats %+v, depth %d, stdout %q", st, e.srv.QueueDepth(acct, queueName), out.lines())
	}
}

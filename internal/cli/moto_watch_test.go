package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rootwatch/rootwatch/internal/deploy"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// alertHook is a loopback webhook: it fails its first failFirst requests,
// can hold each request, and keeps the alerts it accepted.
type alertHook struct {
	mu        sync.Mutex
	titles    []string
	requests  atomic.Int32
	failFirst int32
	delay     time.Duration
	first     chan struct{} // closed by the first request (arrived)
	once      sync.Once
}

// arrived is closed when the first request comes in.
func (h *alertHook) arrived() chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.first == nil {
		h.first = make(chan struct{})
	}
	return h.first
}

func (h *alertHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.requests.Add(1)
	first := h.arrived()
	h.once.Do(func() { close(first) })
	b, _ := io.ReadAll(r.Body)
	if n <= h.failFirst {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	time.Sleep(h.delay)
	var a struct {
		Title  string `json:"title"`
		Events []struct {
			EventID string `json:"event_id"`
			Source  string `json:"source"`
		} `json:"events"`
	}
	json.Unmarshal(b, &a)
	h.mu.Lock()
	h.titles = append(h.titles, fmt.Sprintf("%d:%s", len(a.Events), a.Title))
	h.mu.Unlock()
}

func (h *alertHook) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Sorted(slices.Values(h.titles))
}

// motoQueue is an SQS queue with a dead-letter queue (maxReceiveCount 2)
// and an EventBridge rule with rootwatch's root pattern targeting it.
type motoQueue struct {
	cfg      aws.Config
	url, dlq string
}

func newMotoQueue(t *testing.T, ctx context.Context, url string) motoQueue {
	t.Helper()
	resetMoto(t, url)
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	q := sqs.NewFromConfig(cfg)
	dlq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("root-activity-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	dlqARN := attrs.Attributes["QueueArn"]
	main, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("root-activity"), Attributes: map[string]string{
		"VisibilityTimeout": "2", "RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"2"}`}})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err = q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: main.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	eb := eventbridge.NewFromConfig(cfg)
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("root-activity"), EventPattern: aws.String(deploy.RootPattern), State: ebtypes.RuleStateEnabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("root-activity"), Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	return motoQueue{cfg: cfg, url: aws.ToString(main.QueueUrl), dlq: aws.ToString(dlq.QueueUrl)}
}

// putRecords sends CloudTrail records as EventBridge would carry them.
func (m motoQueue) putRecords(t *testing.T, ctx context.Context, records []json.RawMessage) {
	t.Helper()
	eb := eventbridge.NewFromConfig(m.cfg)
	for _, r := range records {
		var probe struct {
			EventSource, EventName string
		}
		json.Unmarshal(r, &probe)
		detailType := "AWS API Call via CloudTrail"
		if probe.EventSource == "signin.amazonaws.com" {
			detailType = "AWS Console Sign In via CloudTrail"
		}
		out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("rootwatch.test." + strings.TrimSuffix(probe.EventSource, ".amazonaws.com")), DetailType: aws.String(detailType), Detail: aws.String(string(r))}}})
		if err != nil || out.FailedEntryCount > 0 {
			t.Fatalf("PutEvents: %v %+v", err, out)
		}
	}
}

func (m motoQueue) depth(t *testing.T, ctx context.Context, url string) int {
	t.Helper()
	out, err := sqs.NewFromConfig(m.cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	var a, b int
	fmt.Sscan(out.Attributes["ApproximateNumberOfMessages"], &a)
	fmt.Sscan(out.Attributes["ApproximateNumberOfMessagesNotVisible"], &b)
	return a + b
}

// sharedRecords reads every CloudTrail record in ../shared/data/cloudtrail
// (not the bulk folder).
func sharedRecords(t *testing.T) []json.RawMessage {
	t.Helper()
	dir := filepath.Join(testutil.RepoRoot(), "..", "shared", "data", "cloudtrail")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("third-party data not found at %s: %v", dir, err)
	}
	var out []json.RawMessage
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var wrapped struct{ Records []json.RawMessage }
		var arr []json.RawMessage
		switch {
		case json.Unmarshal(b, &wrapped) == nil && len(wrapped.Records) > 0:
			out = append(out, wrapped.Records...)
		case json.Unmarshal(b, &arr) == nil:
			out = append(out, arr...)
		default:
			out = append(out, json.RawMessage(b))
		}
	}
	return out
}

// watchCmd runs the rootwatch binary's watch against moto.
func watchCmd(ctx context.Context, t *testing.T, bin, motoURL, queue, hook string, extra ...string) *exec.Cmd {
	args := append([]string{"watch", "--queue-url", queue, "--notify", "webhook=" + hook, "--burst-window", "1s", "--log-format", "json"}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = testutil.CleanAWSEnv(t.TempDir(), "AWS_ENDPOINT_URL="+motoURL, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1")
	return cmd
}

// TestMotoWatch sends the published CloudTrail examples through a real
// EventBridge rule (moto's) to an SQS queue and runs `rootwatch watch`:
// exactly the root activity is alerted; then a failing webhook, a poison
// message, a restart with a store and a SIGTERM mid-batch.
func TestMotoWatch(t *testing.T) {
	url := testutil.StartMoto(t)
	bin := testutil.BuildRootwatch(t)
	records := sharedRecords(t)

	t.Run("exactly the root activity is alerted", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		q := newMotoQueue(t, ctx, url)
		q.putRecords(t, ctx, records)
		h := &alertHook{}
		hs := httptest.NewServer(h)
		defer hs.Close()
		stdout, stderr, code := testutil.Run(t, watchCmd(ctx, t, bin, url, q.url, hs.URL, "--idle-exit", "3s"))
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		want := []string{
			// Two AWS documentation examples share an event id: different records, both alerted.
			"1:rootwatch: failed root sign-in to 111122223333 from 192.0.2.0",
			"1:rootwatch: root called iam EnableMFADevice in 111122223333 from 192.0.2.0",
			"1:rootwatch: root called s3 PutBucketVersioning in 123456789012 from 111.111.111.111",
			"1:rootwatch: root PasswordUpdated in 111122223333 from 192.0.2.0",
			"1:rootwatch: root signed in to 111122223333 from 192.0.2.0 with MFA",
			"1:rootwatch: root signed in to 111122223333 from 192.0.2.0 without MFA",
			"1:rootwatch: root signed in to 123456789012 from 111.111.111.111 without MFA",
		}
		want = slices.Sorted(slices.Values(want))
		if got := h.got(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("alerts:\n%s\nwant:\n%s\nstderr: %s", strings.Join(got, "\n"), strings.Join(want, "\n"), stderr)
		}
		if n := len(strings.Split(strings.TrimSpace(stdout), "\n")); n != 7 {
			t.Errorf("stdout has %d JSON lines, want 7:\n%s", n, stdout)
		}
		if d := q.depth(t, ctx, q.url); d != 0 {
			t.Errorf("%d messages left in the queue", d)
		}
	})

	t.Run("a failing webhook: redelivered, alerted once", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		q := newMotoQueue(t, ctx, url)
		q.putRecords(t, ctx, []json.RawMessage{rootCall("fails-then-works")})
		h := &alertHook{failFirst: 3} // watch tries 3 times: the first receive fails
		hs := httptest.NewServer(h)
		defer hs.Close()
		stdout, stderr, code := testutil.Run(t, watchCmd(ctx, t, bin, url, q.url, hs.URL, "--idle-exit", "8s"))
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		n := 0
		for _, a := range h.got() {
			if strings.Contains(a, "ListUsers") {
				n++
			}
		}
		if n != 1 || !strings.Contains(stderr, "alert not delivered") || q.depth(t, ctx, q.url) != 0 {
			t.Errorf("alerts %v (want ListUsers once), queue %d\nstderr: %s", h.got(), q.depth(t, ctx, q.url), stderr)
		}
		// Printed once, when delivered: not for the failed first receive.
		if lines := strings.Split(strings.TrimSpace(stdout), "\n"); len(lines) != 1 || !strings.Contains(lines[0], `"event_id":"fails-then-works"`) ||
			!strings.Contains(lines[0], `"alert":"delivered"`) {
			t.Errorf("stdout %q, want the event once, delivered", stdout)
		}
	})

	t.Run("a webhook that stays down: warned of before the dead-letter queue", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		q := newMotoQueue(t, ctx, url)
		q.putRecords(t, ctx, []json.RawMessage{rootCall("never-delivered")})
		h := &alertHook{failFirst: 1 << 30}
		hs := httptest.NewServer(h)
		defer hs.Close()
		stdout, stderr, code := testutil.Run(t, watchCmd(ctx, t, bin, url, q.url, hs.URL, "--idle-exit", "5s"))
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if stdout != "" {
			t.Errorf("stdout %q: nothing was delivered", stdout)
		}
		// moto's redrive policy, read at start; a warning at receive 1 of 2, and at 2 of 2.
		for _, want := range []string{`"max_receive_count":2`, `"dead_letter_queue":"arn:aws:sqs:us-east-1:123456789012:root-activity-dlq"`,
			`one receive left before the dead-letter queue","message_id":`, `"receive_count":1`,
			`dead-letter queue on its next receive","message_id":`, `"receive_count":2`} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %s:\n%s", want, stderr)
			}
		}
		if strings.Contains(stderr, "AKIAIOSFODNN7EXAMPLE") {
			t.Errorf("stderr holds the message's content:\n%s", stderr)
		}
		if d, dlq := q.depth(t, ctx, q.url), q.depth(t, ctx, q.dlq); d+dlq != 1 {
			t.Errorf("queue %d, dead-letter queue %d: the message is lost", d, dlq)
		}
	})

	t.Run("a poison message goes to the dead-letter queue", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		q := newMotoQueue(t, ctx, url)
		if _, err := sqs.NewFromConfig(q.cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(`{"not":"cloudtrail"}`)}); err != nil {
			t.Fatal(err)
		}
		h := &alertHook{}
		hs := httptest.NewServer(h)
		defer hs.Close()
		_, stderr, code := testutil.Run(t, watchCmd(ctx, t, bin, url, q.url, hs.URL, "--idle-exit", "3s"))
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if q.depth(t, ctx, q.url) != 0 || q.depth(t, ctx, q.dlq) != 1 || !strings.Contains(stderr, "left for the dead-letter queue") || !strings.Contains(stderr, `"message_id"`) {
			t.Errorf("queue %d, dlq %d\nstderr: %s", q.depth(t, ctx, q.url), q.depth(t, ctx, q.dlq), stderr)
		}
	})

	t.Run("a restart with --store does not alert again", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		q := newMotoQueue(t, ctx, url)
		h := &alertHook{}
		hs := httptest.NewServer(h)
		defer hs.Close()
		db := filepath.Join(t.TempDir(), "history.db")
		for range 2 {
			q.putRecords(t, ctx, []json.RawMessage{rootCall("once")}) // delivered again after the restart
			if _, stderr, code := testutil.Run(t, watchCmd(ctx, t, bin, url, q.url, hs.URL, "--idle-exit", "3s", "--store", db)); code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
		}
		if got := h.got(); len(got) != 1 || q.depth(t, ctx, q.url) != 0 {
			t.Errorf("alerts %v, want 1; queue %d", got, q.depth(t, ctx, q.url))
		}
	})

	t.Run("SIGTERM mid-batch loses nothing", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		q := newMotoQueue(t, ctx, url)
		var recs []json.RawMessage
		for i := range 8 {
			recs = append(recs, rootCall(fmt.Sprintf("term-%d", i)))
		}
		q.putRecords(t, ctx, recs)
		h := &alertHook{delay: 1500 * time.Millisecond}
		hs := httptest.NewServer(h)
		defer hs.Close()
		cmd := watchCmd(ctx, t, bin, url, q.url, hs.URL)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-h.arrived():
		case <-ctx.Done():
			t.Fatal("no delivery began before the test's deadline")
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("watch after SIGTERM: %v\n%s", err, stderr.String())
		}
		alerted, left := len(h.got()), q.depth(t, ctx, q.url)
		if alerted == 0 || alerted+left != len(recs) {
			t.Errorf("alerted %d, left in the queue %d: want every one of %d alerted or still queued\n%s", alerted, left, len(recs), stderr.String())
		}
	})
}

// rootCall is a root API call through the console, with its own id.
func rootCall(id string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE"},"eventTime":"%s","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.24","userAgent":"aws-cli/2.15.0","requestParameters":null,"responseElements":null,"eventID":"%s","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"}`,
		"2026-11-30T12:00:00Z", id))
}

func TestWatchBurstFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // in the error; "" for flags that pass
	}{
		{[]string{"--burst-first", "10m"}, "--burst-first 10m0s: want more than 0 and at most --burst-window (5m0s)"},
		{[]string{"--burst-first", "0s"}, "--burst-first 0s"},
		{[]string{"--burst-first", "2m", "--burst-window", "1m"}, "at most --burst-window (1m0s)"},
		// A short window alone shortens the first wait with it.
		{[]string{"--burst-window", "10s"}, ""},
	} {
		r := runCLI(t, nil, append([]string{"watch", "--queue-url", "https://sqs.eu-west-1.amazonaws.com/111122223333/q"}, c.args...)...)
		switch {
		case c.want != "" && (r.code != ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), c.want)):
			t.Errorf("%v: exit %d, %v; want usage error %q", c.args, r.code, r.err, c.want)
		case c.want == "" && (r.err == nil || strings.Contains(r.err.Error(), "burst")):
			// Past the flags, the watch fails on AWS, which this test cannot reach.
			t.Errorf("%v: %v; want the flags accepted", c.args, r.err)
		}
	}
}

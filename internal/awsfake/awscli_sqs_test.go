package awsfake

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

const sqsWorld = `
accounts:
  - id: "111111111111"
    access_keys: [AKIASQS0000000000001]
    queues:
      - {name: root-activity, visibility_timeout: 60, dead_letter: root-activity-dlq, max_receive_count: 2}
      - {name: root-activity-dlq}
`

// TestAWSCLISQSConformance drives the fake's SQS (AWS JSON 1.0) with the
// AWS CLI: long polls, visibility, batch deletes and the redrive to the
// dead-letter queue after maxReceiveCount.
func TestAWSCLISQSConformance(t *testing.T) {
	bin := testutil.RequireTool(t, "aws")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &testClock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	srv, url, err := Serve(ctx, []byte(sqsWorld), "sqs world", Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	c := awsCLI{t: t, bin: bin, url: url, home: t.TempDir()}
	const key = "AKIASQS0000000000001"
	var q struct{ QueueUrl string }
	c.json(key, &q, "sqs", "get-queue-url", "--queue-name", "root-activity")
	if !strings.HasSuffix(q.QueueUrl, "/111111111111/root-activity") {
		t.Fatalf("%+v", q)
	}
	c.fails(key, "AWS.SimpleQueueService.NonExistentQueue", "sqs", "get-queue-url", "--queue-name", "nope")
	var sent struct{ MessageId, MD5OfMessageBody string }
	c.json(key, &sent, "sqs", "send-message", "--queue-url", q.QueueUrl, "--message-body", `{"detail":{}}`)
	var attrs struct{ Attributes map[string]string }
	c.json(key, &attrs, "sqs", "get-queue-attributes", "--queue-url", q.QueueUrl, "--attribute-names", "All")
	if attrs.Attributes["ApproximateNumberOfMessages"] != "1" || !strings.Contains(attrs.Attributes["RedrivePolicy"], `"maxReceiveCount":2`) {
		t.Errorf("%+v", attrs)
	}
	// Only the attributes asked for; the redrive policy is a JSON string
	// whose maxReceiveCount is a number, as SQS returns it.
	var redrive struct{ Attributes map[string]string }
	c.json(key, &redrive, "sqs", "get-queue-attributes", "--queue-url", q.QueueUrl, "--attribute-names", "RedrivePolicy", "VisibilityTimeout")
	var policy struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     any    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(redrive.Attributes["RedrivePolicy"]), &policy); err != nil || len(redrive.Attributes) != 2 ||
		redrive.Attributes["VisibilityTimeout"] != "60" || policy.MaxReceiveCount != 2.0 ||
		!strings.HasSuffix(policy.DeadLetterTargetArn, ":sqs:us-east-1:111111111111:root-activity-dlq") {
		t.Errorf("asked for RedrivePolicy and VisibilityTimeout: %+v (%v)", redrive, err)
	}
	type received struct {
		Messages []struct {
			MessageId, ReceiptHandle, Body, MD5OfBody string
			Attributes                                map[string]string
		}
	}
	var r received
	c.json(key, &r, "sqs", "receive-message", "--queue-url", q.QueueUrl, "--wait-time-seconds", "1", "--max-number-of-messages", "10", "--attribute-names", "All")
	if len(r.Messages) != 1 || r.Messages[0].MessageId != sent.MessageId || r.Messages[0].Attributes["ApproximateReceiveCount"] != "1" || r.Messages[0].MD5OfBody != sent.MD5OfMessageBody {
		t.Fatalf("%+v", r)
	}
	if _, stderr, code := c.run(key, "sqs", "change-message-visibility", "--queue-url", q.QueueUrl, "--receipt-handle", r.Messages[0].ReceiptHandle, "--visibility-timeout", "0"); code != 0 {
		t.Fatalf("change-message-visibility: exit %d: %s", code, stderr)
	}
	var again received
	c.json(key, &again, "sqs", "receive-message", "--queue-url", q.QueueUrl, "--wait-time-seconds", "2", "--attribute-names", "All")
	if len(again.Messages) != 1 || again.Messages[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after visibility 0: %+v", again)
	}
	c.fails(key, "ReceiptHandleIsInvalid", "sqs", "delete-message", "--queue-url", q.QueueUrl, "--receipt-handle", r.Messages[0].ReceiptHandle)
	// Received twice already: once it is visible again, the next receive moves it to the DLQ.
	// Visibility runs on the fake's clock: a minute passes at once.
	clock.Set(clock.Now().Add(61 * time.Second))
	var none received
	c.json(key, &none, "sqs", "receive-message", "--queue-url", q.QueueUrl, "--wait-time-seconds", "0")
	if len(none.Messages) != 0 || srv.QueueDepth("111111111111", "root-activity") != 0 || srv.QueueDepth("111111111111", "root-activity-dlq") != 1 {
		t.Fatalf("redrive: %+v, depths %d %d", none, srv.QueueDepth("111111111111", "root-activity"), srv.QueueDepth("111111111111", "root-activity-dlq"))
	}
	var dlq struct{ QueueUrl string }
	c.json(key, &dlq, "sqs", "get-queue-url", "--queue-name", "root-activity-dlq")
	var dead received
	c.json(key, &dead, "sqs", "receive-message", "--queue-url", dlq.QueueUrl)
	// Asked for no attributes, the message comes without.
	if len(dead.Messages) != 1 || dead.Messages[0].Body != `{"detail":{}}` || dead.Messages[0].Attributes != nil {
		t.Fatalf("dlq: %+v", dead)
	}
	var del struct {
		Successful []struct{ Id string }
		Failed     []struct{ Id, Code string }
	}
	c.json(key, &del, "sqs", "delete-message-batch", "--queue-url", dlq.QueueUrl, "--entries",
		`[{"Id":"a","ReceiptHandle":"`+dead.Messages[0].ReceiptHandle+`"},{"Id":"b","ReceiptHandle":"bogus"}]`)
	if len(del.Successful) != 1 || len(del.Failed) != 1 || del.Failed[0].Code != "ReceiptHandleIsInvalid" {
		t.Errorf("%+v", del)
	}
}

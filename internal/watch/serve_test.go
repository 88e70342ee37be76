package watch

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/awsfake"
)

// TestWatchServesMetricsAndHealth runs the watch front end against the
// fake's SQS with --metrics-addr on a free port, and reads /healthz and
// /metrics while it runs.
func TestWatchServesMetricsAndHealth(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, base, err := awsfake.Serve(ctx, []byte(`
accounts:
  - id: "111122223333"
    access_keys: [AKIAWATCH00000000001]
    queues: [{name: q, visibility_timeout: 5}]
`), "watch world", awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2026-11-30T12:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.24","eventID":"e-1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	if _, err := srv.SendToQueue("111122223333", "q", body); err != nil {
		t.Fatal(err)
	}
	// The metrics are read once the message was deleted, while the watch
	// runs; then the watch is stopped as by SIGTERM.
	logs := newLogSink()
	listening := make(chan string, 1)
	o := ServeOptions{
		QueueURL: base + "/111122223333/q", MetricsAddr: "127.0.0.1:0", Out: io.Discard, Log: logs.logger(),
		AWS: func(context.Context, string, string) (aws.Config, error) {
			return awsfake.ClientConfig(base, "AKIAWATCH00000000001"), nil
		},
		Listening: func(a string) { listening <- a },
	}
	type result struct {
		st  Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := Serve(ctx, o)
		done <- result{st, err}
	}()
	var addr string
	select {
	case addr = <-listening:
	case r := <-done:
		t.Fatalf("the watch ended before serving metrics: %v", r.err)
	}
	logs.waitFor(t, "the message deleted", func(s *logSink) bool { return len(s.with("messages deleted")) > 0 })
	health, metrics := httpGet(t, "http://"+addr+"/healthz"), httpGet(t, "http://"+addr+"/metrics")
	cancel()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	st := r.st
	if addr == "" || strings.TrimSpace(health) != "ok" {
		t.Errorf("healthz at %q: %q", addr, health)
	}
	for _, want := range []string{"rootwatch_watch_messages_received_total 1", `rootwatch_watch_events_total{category="api_call"} 1`, "rootwatch_watch_messages_deleted_total 1", "go_goroutines"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
	if st.RootEvents != 1 || st.Deleted != 1 {
		t.Errorf("stats %+v", st)
	}
}

func httpGet(t *testing.T, url string) string {
	resp, err := http.Get(url)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestWatchRefusesABadQueueURL(t *testing.T) {
	for _, u := range []string{"", "sqs-queue", "https://sqs.eu-west-1.amazonaws.com/only-one-part"} {
		if _, err := Serve(context.Background(), ServeOptions{QueueURL: u}); err == nil || !strings.Contains(err.Error(), "queue URL") {
			t.Errorf("%q: %v", u, err)
		}
	}
}

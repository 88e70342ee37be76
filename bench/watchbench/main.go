// Command watchbench measures `rootwatch watch` on the fake AWS's SQS.
//
//	-mode rootwatch  preload N EventBridge CloudTrail events (one in ten a
//	                 root call, the rest IAM users'), run the rootwatch binary
//	                 with a no-op webhook target until the queue is drained
//	                 (--idle-exit 1s), and print events/s classified and
//	                 acknowledged;
//	-mode floor      the same preload drained by a bare receive-and-delete
//	                 loop with the same receivers and the same idle exit: the
//	                 cost of SQS alone, rootwatch's floor;
//	-mode latency    run rootwatch, send root events one by one at -rate per
//	                 second, and print the time from SendMessage to the
//	                 webhook's POST (p50, p99, max).
//
// Usage: go run ./bench/watchbench -bin bench/out/rootwatch -mode rootwatch -n 20000
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rootwatch/rootwatch/internal/awsfake"
)

// idleExit ends both contenders once the queue has been empty that long;
// it is longer than the queue's visibility timeout (2 s), so a message
// whose receive response was lost is received again before the end.
const idleExit = 3 * time.Second

const (
	account = "111122223333"
	key     = "AKIABENCH00000000001"
	world   = `
accounts:
  - id: "111122223333"
    access_keys: [AKIABENCH00000000001]
    queues: [{name: root-activity, visibility_timeout: 2}]
`
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "watchbench:", err)
		os.Exit(1)
	}
}

func run() error {
	mode := flag.String("mode", "rootwatch", "rootwatch, floor or latency")
	n := flag.Int("n", 20000, "events to preload (rootwatch, floor) or send (latency)")
	bin := flag.String("bin", "bench/out/rootwatch", "the rootwatch binary")
	receivers := flag.Int("receivers", 8, "long polls at once")
	rate := flag.Int("rate", 200, "events per second (latency)")
	endpoint := flag.String("endpoint", "", "(floor-client) the fake's URL")
	flag.Parse()
	if *mode == "floor-client" {
		return floor(context.Background(), *endpoint, *endpoint+"/"+account+"/root-activity", *receivers)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, base, err := awsfake.Serve(ctx, []byte(world), "watchbench", awsfake.Options{})
	if err != nil {
		return err
	}
	queueURL := base + "/" + account + "/root-activity"
	var posts atomic.Int64
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		var a struct {
			Events []struct {
				EventID string `json:"event_id"`
			} `json:"events"`
		}
		json.NewDecoder(r.Body).Decode(&a)
		mu.Lock()
		for _, e := range a.Events {
			arrived[e.EventID] = now
		}
		mu.Unlock()
		posts.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()

	switch *mode {
	case "rootwatch", "floor":
		roots := 0
		for i := range *n {
			root := i%10 == 0
			if root {
				roots++
			}
			if _, err := srv.SendToQueue(account, "root-activity", event(i, root)); err != nil {
				return err
			}
		}
		start := time.Now()
		var log []byte
		if *mode == "rootwatch" {
			cmd := watch(*bin, base, queueURL, hook.URL, *receivers, "--idle-exit", idleExit.String())
			if log, err = cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("rootwatch watch: %v\n%s", err, log)
			}
		} else {
			// The floor runs in its own process, as rootwatch does.
			self, _ := os.Executable()
			fc := exec.Command(self, "-mode", "floor-client", "-endpoint", base, "-receivers", fmt.Sprint(*receivers))
			if log, err = fc.CombinedOutput(); err != nil {
				return fmt.Errorf("floor: %v\n%s", err, log)
			}
		}
		elapsed := time.Since(start) - idleExit
		if d := srv.QueueDepth(account, "root-activity"); d != 0 {
			return fmt.Errorf("%d messages left in the queue\n%s", d, log)
		}
		if *mode == "rootwatch" && posts.Load() != int64(roots) {
			return fmt.Errorf("%d alerts, want %d", posts.Load(), roots)
		}
		fmt.Printf("%s: %d events (%d root) drained in %.2f s: %.0f events/s (%d responses the SDK failed to read, their messages received again)\n",
			*mode, *n, roots, elapsed.Seconds(), float64(*n)/elapsed.Seconds(), strings.Count(string(log), "use of closed network connection"))
	case "latency":
		cmd := watch(*bin, base, queueURL, hook.URL, *receivers)
		if err := cmd.Start(); err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond) // receivers polling
		sent := map[string]time.Time{}
		tick := time.NewTicker(time.Second / time.Duration(*rate))
		for i := range *n {
			<-tick.C
			id := fmt.Sprintf("bench-%d", i)
			sent[id] = time.Now()
			if _, err := srv.SendToQueue(account, "root-activity", event(i, true)); err != nil {
				return err
			}
		}
		tick.Stop()
		deadline := time.Now().Add(30 * time.Second)
		for posts.Load() < int64(*n) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		var lat []time.Duration
		mu.Lock()
		for id, at := range sent {
			if got, ok := arrived[id]; ok {
				lat = append(lat, got.Sub(at))
			}
		}
		mu.Unlock()
		if len(lat) != *n {
			return fmt.Errorf("%d of %d alerts arrived", len(lat), *n)
		}
		slices.Sort(lat)
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		fmt.Printf("latency: %d root events at %d/s, SendMessage to webhook POST: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			*n, *rate, ms(q(0.50)), ms(q(0.99)), ms(lat[len(lat)-1]))
	default:
		return fmt.Errorf("-mode %q: want rootwatch, floor or latency", *mode)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func watch(bin, base, queueURL, hook string, receivers int, extra ...string) *exec.Cmd {
	args := append([]string{"watch", "--queue-url", queueURL, "--receivers", fmt.Sprint(receivers), "--burst-window", "1s", "--notify", "webhook=" + hook}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=" + base,
		"AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=fake", "AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	return cmd
}

// floor drains the queue with receive and batch delete only.
func floor(ctx context.Context, base, queueURL string, receivers int) error {
	// The SDK's default configuration, as rootwatch loads it.
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"), awsconfig.WithBaseEndpoint(base),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(key, "fake", "")))
	if err != nil {
		return err
	}
	c := sqs.NewFromConfig(cfg)
	var wg sync.WaitGroup
	errs := make(chan error, receivers)
	for range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idleSince := time.Now()
			for {
				out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 3, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount, sqstypes.MessageSystemAttributeNameSentTimestamp}})
				if err != nil {
					errs <- err
					return
				}
				if len(out.Messages) == 0 {
					if time.Since(idleSince) >= idleExit {
						return
					}
					continue
				}
				idleSince = time.Now()
				entries := make([]sqstypes.DeleteMessageBatchRequestEntry, len(out.Messages))
				for i, m := range out.Messages {
					entries[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle}
				}
				if _, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// event is an EventBridge CloudTrail event: a root API call, or an IAM
// user's.
func event(i int, root bool) string {
	identity := `{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAI44QH8DHBEXAMPLE","userName":"alice"}`
	id := fmt.Sprintf("user-%d", i)
	if root {
		identity = `{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE"}`
		id = fmt.Sprintf("bench-%d", i)
	}
	t := time.Now().UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"version":"0","id":"%s","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"111122223333","time":"%s","region":"eu-west-1","resources":[],"detail":{"eventVersion":"1.08","userIdentity":%s,"eventTime":"%s","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.24","userAgent":"aws-cli/2.15.0","requestParameters":{"bucketName":"example-bucket"},"responseElements":null,"requestID":"R%d","eventID":"%s","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"}}`,
		id, t, identity, t, i, id)
}

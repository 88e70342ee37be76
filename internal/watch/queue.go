package watch

// The queue half of the watcher: its attributes, batched deletes and the
// visibility heartbeat.

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// queueAttributes reads the visibility timeout (to extend it in time) and
// warns when the queue has no dead-letter queue.
func (w *watcher) queueAttributes(ctx context.Context) error {
	out, err := w.o.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(w.o.QueueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameVisibilityTimeout, sqstypes.QueueAttributeNameRedrivePolicy}})
	if err != nil {
		return fmt.Errorf("watch: read the queue's attributes: %w", err)
	}
	vt, err := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)])
	if err != nil || vt <= 0 {
		vt = 30
	}
	w.visibility = time.Duration(vt) * time.Second
	if out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)] == "" {
		w.o.Log.Warn("the queue has no dead-letter queue (RedrivePolicy): a message rootwatch cannot read or deliver will be received again forever")
	}
	w.o.Log.Info("watching", "queue", w.o.QueueURL, "visibility_timeout", w.visibility.String(), "receivers", w.o.Receivers, "targets", len(w.o.Targets))
	return nil
}

// deleter deletes finished messages ten at a time.
func (w *watcher) deleter(ctx context.Context) {
	batch := make([]*message, 0, 10)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		entries := make([]sqstypes.DeleteMessageBatchRequestEntry, len(batch))
		for i, m := range batch {
			entries[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(m.receipt)}
		}
		out, err := w.o.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(w.o.QueueURL), Entries: entries})
		failed := map[string]string{}
		if err != nil {
			for i := range batch {
				failed[strconv.Itoa(i)] = err.Error()
			}
		} else {
			for _, f := range out.Failed {
				failed[aws.ToString(f.Id)] = aws.ToString(f.Code) + ": " + aws.ToString(f.Message)
			}
		}
		w.mu.Lock()
		for i, m := range batch {
			delete(w.inflight, m.receipt)
			if why, bad := failed[strconv.Itoa(i)]; bad {
				w.o.Log.Warn("delete failed: the message will be received again (its alerts are not repeated)", "message_id", m.id, "error", why)
				continue
			}
			w.stats.Deleted++
		}
		w.mu.Unlock()
		if w.o.Metrics != nil {
			w.o.Metrics.Deleted.Add(float64(len(batch) - len(failed)))
		}
		batch = batch[:0]
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case m, open := <-w.deletes:
			if !open {
				flush()
				return
			}
			batch = append(batch, m)
			if len(batch) == 10 {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// heartbeat extends the visibility of messages still in flight before it
// ends, so a slow delivery or a burst window does not hand them to another
// receiver.
func (w *watcher) heartbeat(ctx context.Context) {
	every := max(w.visibility/4, 100*time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		var due []*message
		w.mu.Lock()
		for _, m := range w.inflight {
			if m.deadline.Sub(now) < w.visibility/2 {
				due = append(due, m)
			}
		}
		w.mu.Unlock()
		for start := 0; start < len(due); start += 10 {
			part := due[start:min(start+10, len(due))]
			entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, len(part))
			for i, m := range part {
				entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(m.receipt),
					VisibilityTimeout: int32(w.visibility / time.Second)}
			}
			_, err := w.o.SQS.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(w.o.QueueURL), Entries: entries})
			if err != nil {
				w.o.Log.Warn("could not extend the visibility of messages in flight", "messages", len(part), "error", err.Error())
				continue
			}
			w.mu.Lock()
			for _, m := range part {
				m.deadline = now.Add(w.visibility)
			}
			w.mu.Unlock()
		}
	}
}

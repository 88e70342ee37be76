package watch

// The queue half of the watcher: its attributes and redrive policy,
// batched deletes and the visibility heartbeat.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rootwatch/rootwatch/internal/awsx"
)

// queueAttributes reads the visibility timeout (to extend it in time) and
// the redrive policy (to warn before messages reach the dead-letter queue).
// Without permission to read them the watch goes on: it sets the
// visibility timeout itself on each receive, and cannot warn.
func (w *watcher) queueAttributes(ctx context.Context) error {
	out, err := w.o.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(w.o.QueueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameVisibilityTimeout, sqstypes.QueueAttributeNameRedrivePolicy}})
	switch {
	case err != nil && awsx.IsDenied(err):
		w.visibility, w.setVisibility = defaultVisibility, true
		w.o.Log.Warn("cannot read the queue's attributes (sqs:GetQueueAttributes denied): each receive sets a visibility timeout of 30s, "+
			"and messages nearing the dead-letter queue are not warned of", "error", awsx.Describe("GetQueueAttributes", err))
	case err != nil:
		return fmt.Errorf("watch: read the queue's attributes: %w", err)
	default:
		vt, err := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)])
		if err != nil || vt <= 0 {
			w.visibility, w.setVisibility = defaultVisibility, true
		} else {
			w.visibility = time.Duration(vt) * time.Second
		}
		w.redrivePolicy(out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)])
	}
	w.o.Log.Info("watching", "queue", w.o.QueueURL, "visibility_timeout", w.visibility.String(), "receivers", w.o.Receivers, "targets", len(w.o.Targets),
		"dead_letter_queue", w.deadLetterQueue, "max_receive_count", w.maxReceives)
	return nil
}

// defaultVisibility is SQS's default visibility timeout, set on each
// receive when the queue's own cannot be read.
const defaultVisibility = 30 * time.Second

// redrivePolicy reads the queue's RedrivePolicy attribute: JSON whose
// maxReceiveCount SQS returns as a number (and accepts as a string).
func (w *watcher) redrivePolicy(attr string) {
	if attr == "" {
		w.o.Log.Warn("the queue has no dead-letter queue (RedrivePolicy): a message rootwatch cannot read or deliver will be received again forever")
		return
	}
	var p struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	err := json.Unmarshal([]byte(attr), &p)
	n := 0
	if err == nil {
		n, err = strconv.Atoi(strings.Trim(string(p.MaxReceiveCount), `"`))
	}
	if err != nil || n < 1 || p.DeadLetterTargetArn == "" {
		w.o.Log.Warn("cannot read the queue's RedrivePolicy: messages nearing the dead-letter queue are not warned of", "redrive_policy", attr)
		return
	}
	w.maxReceives, w.deadLetterQueue = n, p.DeadLetterTargetArn
}

// warnRedrive warns of a message left to be received again when its
// receive count nears or reaches the queue's maxReceiveCount; why says
// what was left undone. SQS moves a message to the dead-letter queue when
// a receive would exceed maxReceiveCount.
func (w *watcher) warnRedrive(m *message, why string) {
	if w.maxReceives == 0 || m.receives == 0 || m.receives < w.maxReceives-1 {
		return // no redrive policy, no receive count, or receives to spare
	}
	attrs := []any{"message_id", m.id, "receive_count", m.receives, "max_receive_count", w.maxReceives, "dead_letter_queue", w.deadLetterQueue, "why", why}
	switch {
	case m.receives < w.maxReceives:
		w.o.Metrics.NearDeadLetter.Inc()
		w.o.Log.Warn("message left to be received again with one receive left before the dead-letter queue", attrs...)
	case m.receives == w.maxReceives:
		w.o.Metrics.DeadLettered.Inc()
		w.o.Log.Warn("message left for the last time: SQS moves it to the dead-letter queue on its next receive", attrs...)
	default:
		w.o.Metrics.DeadLettered.Inc()
		w.o.Log.Warn("message received more often than maxReceiveCount and left again: SQS moves it to the dead-letter queue on its next receive, "+
			"if that queue is still there", attrs...)
	}
}

// deleter deletes finished messages, up to ten in a call.
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
		w.messages.forget(batch...)
		for i, m := range batch {
			if why, bad := failed[strconv.Itoa(i)]; bad {
				w.o.Log.Warn("delete failed: the message will be received again (its alerts are not repeated)", "message_id", m.id, "error", why)
				w.warnRedrive(m, "delete failed after its alerts were delivered")
			}
		}
		w.o.Metrics.Deleted.Add(float64(len(batch) - len(failed)))
		w.o.Log.Debug("messages deleted", "messages", len(batch)-len(failed))
		batch = batch[:0]
	}
	for {
		// An idle queue sleeps here; a busy one hands over up to ten
		// messages already waiting, deleted together.
		m, open := <-w.deletes
		if !open {
			return
		}
		batch = append(batch, m)
	more:
		for len(batch) < 10 {
			select {
			case m, open := <-w.deletes:
				if !open {
					flush()
					return
				}
				batch = append(batch, m)
			default:
				break more
			}
		}
		flush()
	}
}

// heartbeat extends the visibility of messages still in flight before it
// ends, so a slow delivery or a burst window does not hand them to another
// receiver.
func (w *watcher) heartbeat(ctx context.Context) {
	every := max(w.visibility/4, 100*time.Millisecond)
	for sleep(ctx, w.o.Clock, every) {
		now := w.o.Clock.Now()
		due := w.messages.due(now, w.visibility/2)
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
			w.messages.extend(part, now.Add(w.visibility))
		}
	}
}

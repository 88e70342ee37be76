package awsfake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// QueueSpec is an SQS queue of the world.
type QueueSpec struct {
	Name string `yaml:"name"`
	// VisibilityTimeout in seconds (default 30).
	VisibilityTimeout int `yaml:"visibility_timeout"`
	// DeadLetter names the queue that takes a message received more than
	// MaxReceiveCount times.
	DeadLetter      string `yaml:"dead_letter"`
	MaxReceiveCount int    `yaml:"max_receive_count"`
}

// queue is a queue's state. Its lock is the server's sqsMu.
type queue struct {
	spec     QueueSpec
	account  *Account
	messages []*sqsMessage
	seq      int
	// wake is closed (and replaced) when a message becomes available.
	wake chan struct{}
}

type sqsMessage struct {
	id, body      string
	sent          time.Time
	visibleAt     time.Time
	receives      int
	firstReceive  time.Time
	receipt       string // of the latest receive
	deadLetterFor string
}

// sqsState holds every queue; it has its own lock so that long polls do
// not hold the server's.
type sqsState struct {
	mu     sync.Mutex
	queues map[string]*queue // by account/name
}

// initQueues creates the world's queues.
func (st *sqsState) init(accounts []*Account) {
	st.queues = map[string]*queue{}
	for _, a := range accounts {
		for _, q := range a.Queues {
			if q.VisibilityTimeout <= 0 {
				q.VisibilityTimeout = 30
			}
			st.queues[a.ID+"/"+q.Name] = &queue{spec: q, account: a, wake: make(chan struct{})}
		}
	}
}

// SendToQueue puts a message on a queue of the world, as an EventBridge
// target or a producer would; it returns the message id.
func (s *Server) SendToQueue(account, name, body string) (string, error) {
	s.sqs.mu.Lock()
	defer s.sqs.mu.Unlock()
	q := s.sqs.queues[account+"/"+name]
	if q == nil {
		return "", fmt.Errorf("no queue %s in account %s", name, account)
	}
	return q.put(body, s.now()), nil
}

func (q *queue) put(body string, now time.Time) string {
	q.seq++
	id := fmt.Sprintf("%08x-0000-4000-8000-%012d", q.seq, q.seq)
	q.messages = append(q.messages, &sqsMessage{id: id, body: body, sent: now, visibleAt: now})
	close(q.wake)
	q.wake = make(chan struct{})
	return id
}

// QueueDepth returns how many messages a queue holds (visible or not).
func (s *Server) QueueDepth(account, name string) int {
	s.sqs.mu.Lock()
	defer s.sqs.mu.Unlock()
	if q := s.sqs.queues[account+"/"+name]; q != nil {
		return len(q.messages)
	}
	return -1
}

func (s *Server) queueURL(req request, q *queue) string {
	return fmt.Sprintf("http://%s/%s/%s", req.host, q.account.ID, q.spec.Name)
}

// findQueue resolves a QueueUrl (…/ACCOUNT/NAME) within the caller's account.
func (s *Server) findQueue(req request, url string) *queue {
	parts := strings.Split(strings.TrimSuffix(url, "/"), "/")
	if len(parts) < 2 {
		return nil
	}
	acct, name := parts[len(parts)-2], parts[len(parts)-1]
	if acct != req.acct.spec.ID {
		return nil
	}
	return s.sqs.queues[acct+"/"+name]
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (s *Server) serveSQS(w http.ResponseWriter, req request) {
	var in struct {
		QueueName, QueueUrl, ReceiptHandle, MessageBody string
		MaxNumberOfMessages, WaitTimeSeconds            int
		VisibilityTimeout                               *int
		AttributeNames, MessageSystemAttributeNames     []string
		Entries                                         []struct {
			Id, ReceiptHandle, MessageBody string
			VisibilityTimeout              int
		}
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		s.writeSQSError(w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
		return
	}
	if req.op == "GetQueueUrl" {
		s.sqs.mu.Lock()
		q := s.sqs.queues[req.acct.spec.ID+"/"+in.QueueName]
		s.sqs.mu.Unlock()
		if q == nil {
			s.writeSQSError(w, http.StatusBadRequest, "QueueDoesNotExist", "The specified queue does not exist.")
			return
		}
		s.writeJSON10(w, map[string]any{"QueueUrl": s.queueURL(req, q)})
		return
	}
	s.sqs.mu.Lock()
	q := s.findQueue(req, in.QueueUrl)
	if q == nil {
		s.sqs.mu.Unlock()
		s.writeSQSError(w, http.StatusBadRequest, "QueueDoesNotExist", "The specified queue does not exist.")
		return
	}
	// Visibility timeouts run on the fake's clock, so a test moves them
	// on; a long poll waits in real time (the client's request is open).
	now := s.now()
	switch req.op {
	case "GetQueueAttributes":
		visible, inflight := 0, 0
		for _, m := range q.messages {
			if m.visibleAt.After(now) {
				inflight++
			} else {
				visible++
			}
		}
		attrs := map[string]string{
			"QueueArn":                              fmt.Sprintf("arn:%s:sqs:%s:%s:%s", partition(q.account), req.region, q.account.ID, q.spec.Name),
			"VisibilityTimeout":                     strconv.Itoa(q.spec.VisibilityTimeout),
			"ApproximateNumberOfMessages":           strconv.Itoa(visible),
			"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inflight),
		}
		if q.spec.DeadLetter != "" {
			rp, _ := json.Marshal(map[string]any{"deadLetterTargetArn": fmt.Sprintf("arn:%s:sqs:%s:%s:%s", partition(q.account), req.region, q.account.ID, q.spec.DeadLetter), "maxReceiveCount": q.spec.MaxReceiveCount})
			attrs["RedrivePolicy"] = string(rp)
		}
		s.sqs.mu.Unlock()
		s.writeJSON10(w, map[string]any{"Attributes": only(attrs, in.AttributeNames)})
	case "SendMessage":
		id := q.put(in.MessageBody, now)
		s.sqs.mu.Unlock()
		s.writeJSON10(w, map[string]any{"MessageId": id, "MD5OfMessageBody": md5Hex(in.MessageBody)})
	case "SendMessageBatch":
		var ok []map[string]any
		for _, e := range in.Entries {
			ok = append(ok, map[string]any{"Id": e.Id, "MessageId": q.put(e.MessageBody, now), "MD5OfMessageBody": md5Hex(e.MessageBody)})
		}
		s.sqs.mu.Unlock()
		s.writeJSON10(w, map[string]any{"Successful": orEmpty(ok), "Failed": []any{}})
	case "ReceiveMessage":
		s.sqs.mu.Unlock()
		s.receive(w, req, q, in.MaxNumberOfMessages, in.WaitTimeSeconds, in.VisibilityTimeout, append(in.AttributeNames, in.MessageSystemAttributeNames...))
	case "DeleteMessage":
		found := q.remove(in.ReceiptHandle)
		s.sqs.mu.Unlock()
		if !found {
			s.writeSQSError(w, http.StatusBadRequest, "ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
			return
		}
		s.writeJSON10(w, map[string]any{})
	case "DeleteMessageBatch", "ChangeMessageVisibilityBatch":
		var ok, failed []map[string]any
		for _, e := range in.Entries {
			var found bool
			if req.op == "DeleteMessageBatch" {
				found = q.remove(e.ReceiptHandle)
			} else {
				found = q.setVisibility(e.ReceiptHandle, now, e.VisibilityTimeout)
			}
			if found {
				ok = append(ok, map[string]any{"Id": e.Id})
			} else {
				failed = append(failed, map[string]any{"Id": e.Id, "Code": "ReceiptHandleIsInvalid", "Message": "The input receipt handle is invalid.", "SenderFault": true})
			}
		}
		s.sqs.mu.Unlock()
		s.writeJSON10(w, map[string]any{"Successful": orEmpty(ok), "Failed": orEmpty(failed)})
	case "ChangeMessageVisibility":
		vt := 0
		if in.VisibilityTimeout != nil {
			vt = *in.VisibilityTimeout
		}
		found := q.setVisibility(in.ReceiptHandle, now, vt)
		s.sqs.mu.Unlock()
		if !found {
			s.writeSQSError(w, http.StatusBadRequest, "ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
			return
		}
		s.writeJSON10(w, map[string]any{})
	default:
		s.sqs.mu.Unlock()
		s.writeSQSError(w, http.StatusBadRequest, "UnsupportedOperation", "unknown operation "+req.op)
	}
}

// only keeps the attributes asked for by name, or all for "All", as SQS
// answers; nil when none was asked for (SQS then sends no Attributes).
func only(attrs map[string]string, names []string) map[string]string {
	if len(names) == 0 {
		return nil
	}
	if slices.Contains(names, "All") {
		return attrs
	}
	out := map[string]string{}
	for _, n := range names {
		if v, ok := attrs[n]; ok {
			out[n] = v
		}
	}
	return out
}

func (q *queue) remove(receipt string) bool {
	for i, m := range q.messages {
		if m.receipt == receipt && receipt != "" {
			q.messages = append(q.messages[:i], q.messages[i+1:]...)
			return true
		}
	}
	return false
}

func (q *queue) setVisibility(receipt string, now time.Time, seconds int) bool {
	for _, m := range q.messages {
		if m.receipt == receipt && receipt != "" {
			m.visibleAt = now.Add(time.Duration(seconds) * time.Second)
			if seconds == 0 {
				close(q.wake)
				q.wake = make(chan struct{})
			}
			return true
		}
	}
	return false
}

// receive long-polls: it answers as soon as a message is visible, or after
// wait seconds with none. A message received more than the redrive policy's
// maxReceiveCount moves to the dead-letter queue instead.
func (s *Server) receive(w http.ResponseWriter, req request, q *queue, max, wait int, vt *int, attrNames []string) {
	if max <= 0 {
		max = 1
	}
	if max > 10 || wait > 20 {
		s.writeSQSError(w, http.StatusBadRequest, "InvalidParameterValue", "MaxNumberOfMessages must be 1 to 10 and WaitTimeSeconds 0 to 20")
		return
	}
	deadline := time.Now().Add(time.Duration(wait) * time.Second)
	for {
		s.sqs.mu.Lock()
		now := s.now()
		visibility := q.spec.VisibilityTimeout
		if vt != nil {
			visibility = *vt
		}
		var out []map[string]any
		kept := q.messages[:0]
		var moved []*sqsMessage
		for _, m := range q.messages {
			if len(out) >= max || m.visibleAt.After(now) {
				kept = append(kept, m)
				continue
			}
			if q.spec.DeadLetter != "" && q.spec.MaxReceiveCount > 0 && m.receives >= q.spec.MaxReceiveCount {
				moved = append(moved, m)
				continue
			}
			m.receives++
			if m.firstReceive.IsZero() {
				m.firstReceive = now
			}
			m.receipt = fmt.Sprintf("rh-%s-%d-%d", m.id, m.receives, s.reqSeq.Add(1))
			m.visibleAt = now.Add(time.Duration(visibility) * time.Second)
			msg := map[string]any{"MessageId": m.id, "ReceiptHandle": m.receipt, "Body": m.body, "MD5OfBody": md5Hex(m.body)}
			if attrs := only(map[string]string{
				"ApproximateReceiveCount":          strconv.Itoa(m.receives),
				"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
				"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
			}, attrNames); attrs != nil {
				msg["Attributes"] = attrs
			}
			out = append(out, msg)
			kept = append(kept, m)
		}
		q.messages = kept
		if len(moved) > 0 {
			if dlq := s.sqs.queues[q.account.ID+"/"+q.spec.DeadLetter]; dlq != nil {
				for _, m := range moved {
					dlq.put(m.body, m.sent)
				}
			}
		}
		wake := q.wake
		s.sqs.mu.Unlock()
		if len(out) > 0 || !time.Now().Before(deadline) {
			s.writeJSON10(w, map[string]any{"Messages": orEmpty(out)})
			return
		}
		// Wait for a new message, for a hidden one to become visible
		// (polled every 50 ms: the clock may be a test's), or for the end
		// of the poll.
		t := time.NewTimer(min(50*time.Millisecond, time.Until(deadline)))
		select {
		case <-wake:
		case <-t.C:
		case <-req.ctx.Done():
			t.Stop()
			return
		}
		t.Stop()
	}
}

func (s *Server) writeSQSError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", s.requestID())
	// The query-compatible code, as SQS sends it for older clients.
	legacy := map[string]string{"QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue"}[code]
	if legacy == "" {
		legacy = code
	}
	w.Header().Set("x-amzn-query-error", legacy+";Sender")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + code, "message": msg})
}

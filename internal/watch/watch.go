// Package watch turns the stream of CloudTrail events that EventBridge
// routes to an SQS queue into real-time alerts on root activity. Each
// message is classified with the same classifier as `rootwatch trail`;
// root activity by a person is alerted through the notification targets,
// failed sign-ins gathered per account and address (the first of a burst
// soon, the rest together). A message is deleted only after every alert it
// needed was delivered; one that cannot be read, or whose delivery failed,
// is left to be received again and, after the queue's maxReceiveCount, to
// reach its dead-letter queue, with a warning as it nears it.
package watch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/rules"
)

// SQSAPI lists the SQS calls the watcher makes.
type SQSAPI interface {
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(context.Context, *sqs.ChangeMessageVisibilityBatchInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// Deliveries remembers delivered alerts across restarts (the history store).
type Deliveries interface {
	Delivered(ctx context.Context, eventID string, targets []string) (map[string]bool, error)
	MarkDelivered(ctx context.Context, eventID, target string, at time.Time) error
}

// Send delivers an alert to targets; the default is notify.SendAlert.
type Send func(ctx context.Context, targets []notify.Target, a notify.Alert) []notify.Result

// Guidance gives the knowledge-base summary and first suggested action of
// a rule, for alerts.
type Guidance func(ruleID string) (summary, action string)

// Options configure a watcher.
type Options struct {
	QueueURL string
	SQS      SQSAPI
	S3       S3API // for notifications of log files delivered to S3; may be nil
	Targets  []notify.Target
	Send     Send
	Guidance Guidance
	// Store, when set, keeps delivered alerts so a restart does not repeat them.
	Store Deliveries
	// Receivers long-poll at once (default 4).
	Receivers int
	// WaitTime of each long poll (default and most 20 s).
	WaitTime time.Duration
	// BurstFirst is how long the first failed root sign-in of a burst (per
	// account and source address) waits for others before it is alerted
	// (default 30 s, at most BurstWindow); the failed sign-ins that follow
	// are gathered over BurstWindow into one alert (default 5 minutes). A
	// burst ends after a window without failures.
	BurstFirst, BurstWindow time.Duration
	// IdleExit, when positive, ends the watch once the queue has been
	// empty and no alert but the gathering bursts was pending for that
	// long; the bursts are sent before it exits.
	IdleExit time.Duration
	// ShutdownTimeout bounds the work finished after ctx ends (default 30 s).
	ShutdownTimeout time.Duration
	// Out receives one JSON line per root event alerted on, once, when its
	// alert was delivered to every target (or at once when there is no
	// target): the trail event schema and "alert" (AlertDelivered or
	// AlertNoTarget).
	Out io.Writer
	Log *slog.Logger
	// Metrics count the watch's events, on a registry the caller owns
	// (default: one of its own); Run's Stats are read from them.
	Metrics *Metrics
	// AccountNames names accounts in alerts.
	AccountNames map[string]string
	// Clock times bursts and the idle exit (default: the real clock).
	Clock Clock
}

// Stats sum up a watch: its Metrics' counts, summed over their labels.
type Stats struct {
	Received, Deleted, Unparseable, Released int
	Events, RootEvents, Alerts, Duplicates   int
}

func (o *Options) defaults() error {
	if o.QueueURL == "" || o.SQS == nil {
		return errors.New("watch: a queue URL and an SQS client are needed")
	}
	if o.Receivers <= 0 {
		o.Receivers = 4
	}
	if o.WaitTime <= 0 || o.WaitTime > 20*time.Second {
		o.WaitTime = 20 * time.Second
	}
	if o.IdleExit > 0 && o.IdleExit < o.WaitTime {
		o.WaitTime = max(time.Second, o.IdleExit.Truncate(time.Second))
	}
	if o.BurstWindow <= 0 {
		o.BurstWindow = 5 * time.Minute
	}
	if o.BurstFirst <= 0 {
		o.BurstFirst = 30 * time.Second
	}
	o.BurstFirst = min(o.BurstFirst, o.BurstWindow)
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.Send == nil {
		o.Send = func(ctx context.Context, t []notify.Target, a notify.Alert) []notify.Result {
			return notify.SendAlert(ctx, t, a, notify.Options{}.ForAlerts())
		}
	}
	if o.Guidance == nil {
		o.Guidance = func(string) (string, string) { return "", "" }
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	return nil
}

type watcher struct {
	o          Options
	visibility time.Duration
	// setVisibility: the queue's visibility timeout is unknown, each
	// receive sets it.
	setVisibility bool
	// maxReceives and deadLetterQueue are the queue's redrive policy (0
	// and "" without one).
	maxReceives     int
	deadLetterQueue string

	// Each part of the state has its own lock (state.go).
	messages *messages
	dedup    *dedup
	sessions *sessions
	chains   *takeovers
	bursts   *bursts
	outMu    sync.Mutex // stdout's lines whole

	deletes chan *message
	alerts  sync.WaitGroup
	rules   []rules.Rule // the catalog's, naming each alert's rule
	// idle is set when the queue has been idle for IdleExit: receivers
	// finish the poll they are in (whatever it returns is handled) and stop.
	idle atomic.Bool
}

// Run watches the queue until ctx ends (SIGINT, SIGTERM) or, with
// IdleExit, the queue stays empty; it then finishes the work in flight
// (alerts, bursts, deletions) within ShutdownTimeout.
func Run(ctx context.Context, o Options) (Stats, error) {
	if err := o.defaults(); err != nil {
		return Stats{}, err
	}
	w := &watcher{o: o, messages: newMessages(o.Clock.Now()), dedup: newDedup(o.Targets, o.Store, o.Log), sessions: newSessions(),
		chains: &takeovers{byMember: map[string]*chain{}}, bursts: &bursts{byKey: map[string]*burst{}}, deletes: make(chan *message, 1024), rules: alertRules()}
	if err := w.queueAttributes(ctx); err != nil {
		return Stats{}, err
	}
	// Stats are what this run added to the metrics (a caller may pass
	// metrics that counted before).
	base := o.Metrics.stats()

	// Receiving stops when ctx ends or the queue has been idle; the work
	// already received goes on under its own deadline.
	recvCtx, stopReceiving := context.WithCancel(ctx)
	defer stopReceiving()
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	deleterDone := make(chan struct{})
	go func() { defer close(deleterDone); w.deleter(workCtx) }()
	heartbeatDone := make(chan struct{})
	hbCtx, stopHeartbeat := context.WithCancel(workCtx)
	go func() { defer close(heartbeatDone); w.heartbeat(hbCtx) }()

	var receivers sync.WaitGroup
	for i := range o.Receivers {
		receivers.Add(1)
		go func() {
			defer receivers.Done()
			w.receive(recvCtx, workCtx, i)
		}()
	}
	receivers.Wait()
	o.Log.Info("receiving stopped; finishing the work in flight", "deadline", o.ShutdownTimeout.String())

	// Send what bursts hold now, then wait for every alert, under the deadline.
	timer := o.Clock.AfterFunc(o.ShutdownTimeout, cancelWork)
	defer timer.Stop()
	w.flushBursts(workCtx)
	w.alerts.Wait()
	close(w.deletes)
	<-deleterDone
	stopHeartbeat()
	<-heartbeatDone

	st := o.Metrics.stats().minus(base)
	if left := w.messages.left(); len(left) > 0 {
		o.Log.Warn("messages left in flight at exit: they will be received again", "messages", len(left))
		for _, m := range left {
			w.warnRedrive(m, "left in flight at exit")
		}
	}
	o.Log.Info("watch ended", "received", st.Received, "deleted", st.Deleted, "alerts", st.Alerts, "root_events", st.RootEvents,
		"events", st.Events, "duplicates", st.Duplicates, "unparseable", st.Unparseable, "released", st.Released)
	return st, nil
}

// receive long-polls until recvCtx ends (a signal: the poll in progress is
// cut, and what it had taken reappears after the visibility timeout) or,
// with IdleExit, until nothing arrived and nothing was pending for that
// long (every receiver ends its poll first, so nothing is left hidden).
func (w *watcher) receive(recvCtx, workCtx context.Context, n int) {
	backoff := time.Second
	for recvCtx.Err() == nil && !w.idle.Load() {
		in := &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(w.o.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: int32(w.o.WaitTime / time.Second),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount, sqstypes.MessageSystemAttributeNameSentTimestamp},
		}
		if w.setVisibility {
			in.VisibilityTimeout = int32(w.visibility / time.Second)
		}
		out, err := w.o.SQS.ReceiveMessage(recvCtx, in)
		if err != nil {
			if recvCtx.Err() != nil {
				return
			}
			w.o.Metrics.ReceiveErrs.Inc()
			w.o.Log.Error("ReceiveMessage failed", "receiver", n, "error", err.Error(), "retry_in", backoff.String())
			if !sleep(recvCtx, w.o.Clock, backoff) {
				return
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		if len(out.Messages) == 0 {
			if w.o.IdleExit > 0 && w.messages.idleFor(w.o.Clock.Now()) >= w.o.IdleExit && !w.idle.Swap(true) {
				w.o.Log.Info("the queue has been idle", "for", w.o.IdleExit.String())
			}
			continue
		}
		w.process(workCtx, out.Messages)
	}
}

// process classifies a batch, sends its alerts and queues the deletions.
func (w *watcher) process(ctx context.Context, batch []sqstypes.Message) {
	now := w.o.Clock.Now()
	msgs := make([]*message, 0, len(batch))
	for _, sm := range batch {
		m := &message{id: aws.ToString(sm.MessageId), receipt: aws.ToString(sm.ReceiptHandle), deadline: now.Add(w.visibility)}
		m.receives, _ = strconv.Atoi(sm.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
		msgs = append(msgs, m)
	}
	w.messages.add(w.o.Clock.Now(), msgs)
	w.o.Metrics.Received.Add(float64(len(batch)))
	for i, sm := range batch {
		m := msgs[i]
		c, err := extract(ctx, aws.ToString(sm.Body), "sqs:"+m.id, w.o.S3)
		if err != nil {
			w.leave(m, err)
			continue
		}
		gathered := w.handle(ctx, m, c)
		w.done(m, true, false) // the message's own part: read and classified
		if gathered > 0 {
			w.o.Log.Debug("failed root sign-ins gathered into their bursts", "message_id", m.id, "events", gathered)
		}
	}
}

// leave logs a message that cannot be read (or whose log files cannot be
// fetched) and leaves it to be received again, and to the dead-letter
// queue after maxReceiveCount. It is never deleted.
func (w *watcher) leave(m *message, err error) {
	w.messages.forget(m)
	if errors.Is(err, errUnparseable) {
		w.o.Metrics.Unparseable.Inc()
		w.o.Log.Error("message holds no CloudTrail event rootwatch can read; left for the dead-letter queue", "message_id", m.id, "receive_count", m.receives, "error", err.Error())
		w.warnRedrive(m, "unreadable")
		return
	}
	w.o.Metrics.Released.Inc()
	w.o.Log.Warn("message left to be received again", "message_id", m.id, "receive_count", m.receives, "error", err.Error())
	w.warnRedrive(m, "its log files could not be read")
}

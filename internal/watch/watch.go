// Package watch turns the stream of CloudTrail events that EventBridge
// routes to an SQS queue into real-time alerts on root activity. Each
// message is classified with the same classifier as `rootwatch trail`;
// root activity by a person is alerted through the notification targets,
// failed sign-ins aggregated per account and address. A message is deleted
// only after every alert it needed was delivered; one that cannot be read,
// or whose delivery failed, is left to be received again and, after the
// queue's maxReceiveCount, to reach its dead-letter queue.
package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
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
	// BurstWindow aggregates failed root sign-ins per account and source
	// address into one alert (default 5 minutes).
	BurstWindow time.Duration
	// IdleExit, when positive, ends the watch once the queue has been
	// empty and nothing was pending for that long.
	IdleExit time.Duration
	// ShutdownTimeout bounds the work finished after ctx ends (default 30 s).
	ShutdownTimeout time.Duration
	// Out receives one JSON line per root event (the trail event schema).
	Out io.Writer
	Log *slog.Logger
	// Metrics, when set, are updated.
	Metrics *Metrics
	// AccountNames names accounts in alerts.
	AccountNames map[string]string
}

// Stats sum up a watch.
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
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.Send == nil {
		o.Send = func(ctx context.Context, t []notify.Target, a notify.Alert) []notify.Result {
			return notify.SendAlert(ctx, t, a, notify.Options{Attempts: 3, Backoff: 500 * time.Millisecond, MaxWait: 10 * time.Second, Timeout: 15 * time.Second})
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
	return nil
}

// message is one received SQS message until it is deleted or released.
type message struct {
	id, receipt string
	deadline    time.Time // when its visibility ends
	pending     int       // alerts it still waits for
	failed      bool
}

type watcher struct {
	o          Options
	visibility time.Duration

	mu       sync.Mutex
	inflight map[string]*message // by receipt handle
	seen     map[string]map[string]bool
	sessions map[string][]evidence.Event // AssumeRoot calls by session key
	bursts   map[string]*burst
	sending  map[string]bool // events whose alert is being delivered
	stats    Stats
	lastBusy time.Time
	outMu    sync.Mutex

	deletes chan *message
	alerts  sync.WaitGroup
	// idle is set when the queue has been idle for IdleExit: receivers
	// finish the poll they are in (whatever it returns is handled) and stop.
	idle atomic.Bool
}

// burst gathers failed root sign-ins from one address to one account.
type burst struct {
	events []evidence.Event
	msgs   []*message
	timer  *time.Timer
}

// Run watches the queue until ctx ends (SIGINT, SIGTERM) or, with
// IdleExit, the queue stays empty; it then finishes the work in flight
// (alerts, bursts, deletions) within ShutdownTimeout.
func Run(ctx context.Context, o Options) (Stats, error) {
	if err := o.defaults(); err != nil {
		return Stats{}, err
	}
	w := &watcher{o: o, inflight: map[string]*message{}, seen: map[string]map[string]bool{}, sessions: map[string][]evidence.Event{},
		bursts: map[string]*burst{}, sending: map[string]bool{}, lastBusy: time.Now(), deletes: make(chan *message, 1024)}
	if err := w.queueAttributes(ctx); err != nil {
		return Stats{}, err
	}

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
	timer := time.AfterFunc(o.ShutdownTimeout, cancelWork)
	defer timer.Stop()
	w.flushBursts(workCtx)
	w.alerts.Wait()
	close(w.deletes)
	<-deleterDone
	stopHeartbeat()
	<-heartbeatDone

	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stats
	if n := len(w.inflight); n > 0 {
		o.Log.Warn("messages left in flight at exit: they will be received again", "messages", n)
	}
	o.Log.Info("watch ended", "received", st.Received, "deleted", st.Deleted, "alerts", st.Alerts, "root_events", st.RootEvents,
		"events", st.Events, "duplicates", st.Duplicates, "unparseable", st.Unparseable, "released", st.Released)
	return st, nil
}

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

// receive long-polls until recvCtx ends (a signal: the poll in progress is
// cut, and what it had taken reappears after the visibility timeout) or,
// with IdleExit, until nothing arrived and nothing was pending for that
// long (every receiver ends its poll first, so nothing is left hidden).
func (w *watcher) receive(recvCtx, workCtx context.Context, n int) {
	backoff := time.Second
	for recvCtx.Err() == nil && !w.idle.Load() {
		out, err := w.o.SQS.ReceiveMessage(recvCtx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(w.o.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: int32(w.o.WaitTime / time.Second),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount, sqstypes.MessageSystemAttributeNameSentTimestamp},
		})
		if err != nil {
			if recvCtx.Err() != nil {
				return
			}
			if w.o.Metrics != nil {
				w.o.Metrics.ReceiveErrs.Inc()
			}
			w.o.Log.Error("ReceiveMessage failed", "receiver", n, "error", err.Error(), "retry_in", backoff.String())
			select {
			case <-time.After(backoff):
			case <-recvCtx.Done():
				return
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		if len(out.Messages) == 0 {
			if w.o.IdleExit > 0 && w.idleFor() >= w.o.IdleExit && !w.idle.Swap(true) {
				w.o.Log.Info("the queue has been idle", "for", w.o.IdleExit.String())
			}
			continue
		}
		w.process(workCtx, out.Messages)
	}
}

func (w *watcher) idleFor() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.inflight) > 0 || len(w.bursts) > 0 {
		w.lastBusy = time.Now()
		return 0
	}
	return time.Since(w.lastBusy)
}

// eventKey identifies an event for de-duplication: its id and the digest
// of its record. Published examples (and some tools) reuse event ids for
// different records; a redelivered copy of one event has both the same.
func eventKey(e evidence.Event) string {
	if e.Digest == "" {
		return e.EventID
	}
	return e.EventID + "/" + e.Digest
}

// alertable are the categories a person did: they are alerted on.
func alertable(e evidence.Event) bool {
	switch e.Category {
	case evidence.CategoryConsoleLogin, evidence.CategorySignin, evidence.CategoryAPICall:
		return true
	}
	return false
}

// process classifies a batch, sends its alerts and queues the deletions.
func (w *watcher) process(ctx context.Context, batch []sqstypes.Message) {
	now := time.Now()
	msgs := make([]*message, 0, len(batch))
	w.mu.Lock()
	w.lastBusy = now
	for _, sm := range batch {
		m := &message{id: aws.ToString(sm.MessageId), receipt: aws.ToString(sm.ReceiptHandle), deadline: now.Add(w.visibility), pending: 1}
		w.inflight[m.receipt] = m
		msgs = append(msgs, m)
		w.stats.Received++
	}
	w.mu.Unlock()
	if w.o.Metrics != nil {
		w.o.Metrics.Received.Add(float64(len(batch)))
	}
	for i, sm := range batch {
		m := msgs[i]
		c, err := extract(ctx, aws.ToString(sm.Body), "sqs:"+m.id, w.o.S3)
		if err != nil {
			w.leave(m, sm, err)
			continue
		}
		w.handle(ctx, m, c)
		w.done(m, true) // the message's own part: read and classified
	}
}

// leave logs a message that cannot be read (or whose log files cannot be
// fetched) and leaves it to be received again, and to the dead-letter
// queue after maxReceiveCount. It is never deleted.
func (w *watcher) leave(m *message, sm sqstypes.Message, err error) {
	receives := sm.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]
	w.mu.Lock()
	delete(w.inflight, m.receipt)
	if errors.Is(err, errUnparseable) {
		w.stats.Unparseable++
	} else {
		w.stats.Released++
	}
	w.mu.Unlock()
	if errors.Is(err, errUnparseable) {
		if w.o.Metrics != nil {
			w.o.Metrics.Unparseable.Inc()
		}
		w.o.Log.Error("message holds no CloudTrail event rootwatch can read; left for the dead-letter queue", "message_id", m.id, "receive_count", receives, "error", err.Error())
		return
	}
	if w.o.Metrics != nil {
		w.o.Metrics.Released.Inc()
	}
	w.o.Log.Warn("message left to be received again", "message_id", m.id, "receive_count", receives, "error", err.Error())
}

// handle counts a message's events and starts the alerts its root
// activity needs; the message waits for each.
func (w *watcher) handle(ctx context.Context, m *message, c classified) {
	w.mu.Lock()
	w.stats.Events += c.total
	w.mu.Unlock()
	if w.o.Metrics != nil {
		w.o.Metrics.Events.WithLabelValues("not_root").Add(float64(c.total - len(c.root)))
	}
	for _, e := range c.root {
		e = w.linkSession(e)
		if w.o.Metrics != nil {
			w.o.Metrics.Events.WithLabelValues(e.Category).Inc()
		}
		w.mu.Lock()
		w.stats.RootEvents++
		w.mu.Unlock()
		if !alertable(e) {
			continue
		}
		targets, dup := w.undelivered(ctx, eventKey(e))
		if dup {
			w.mu.Lock()
			w.stats.Duplicates++
			w.mu.Unlock()
			if w.o.Metrics != nil {
				w.o.Metrics.Duplicates.Inc()
			}
			continue
		}
		w.print(e)
		if e.Category == evidence.CategoryConsoleLogin && e.Result == "failure" {
			// The burst holds each event once, however many copies arrive.
			w.addToBurst(ctx, e, m)
			continue
		}
		w.mu.Lock()
		w.sending[eventKey(e)] = true
		w.mu.Unlock()
		w.startAlert(ctx, []evidence.Event{e}, []*message{m}, targets)
	}
}

// linkSession remembers AssumeRoot calls and classifies a member's root
// event signed with a session key as the privileged task it is.
func (w *watcher) linkSession(e evidence.Event) evidence.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e.Category == evidence.CategoryAssumeRoot && e.SessionKeyID != "" {
		w.sessions[e.SessionKeyID] = append(w.sessions[e.SessionKeyID], e)
		// Sessions last at most 900 s: forget calls well past that.
		for k, calls := range w.sessions {
			if last := calls[len(calls)-1]; !last.Time.IsZero() && time.Since(last.Time) > cloudtrail.MaxRootSession+time.Hour {
				delete(w.sessions, k)
			}
		}
		return e
	}
	calls := w.sessions[e.AccessKeyID]
	if len(calls) == 0 {
		if strings.HasPrefix(e.AccessKeyID, "ASIA") {
			evs := []evidence.Event{e}
			cloudtrail.LinkRootSessions(evs)
			return evs[0]
		}
		return e
	}
	evs := append(append([]evidence.Event{}, calls...), e)
	cloudtrail.LinkRootSessions(evs)
	return evs[len(evs)-1]
}

// undelivered lists the targets that have not had an alert for the event;
// dup is true when every one has.
func (w *watcher) undelivered(ctx context.Context, id string) ([]notify.Target, bool) {
	names := make([]string, len(w.o.Targets))
	for i, t := range w.o.Targets {
		names[i] = t.Name
	}
	w.mu.Lock()
	seen, sending := w.seen[id], w.sending[id] && id != ""
	w.mu.Unlock()
	if sending {
		// Another copy of the event is being alerted on; if that fails,
		// its message is received again.
		return nil, true
	}
	stored := map[string]bool{}
	if w.o.Store != nil && id != "" {
		got, err := w.o.Store.Delivered(ctx, id, names)
		if err != nil {
			w.o.Log.Error("cannot read delivered alerts from the store; alerting again rather than not at all", "event_id", id, "error", err.Error())
		} else {
			stored = got
		}
	}
	var out []notify.Target
	for _, t := range w.o.Targets {
		if !seen[t.Name] && !stored[t.Name] {
			out = append(out, t)
		}
	}
	if id == "" {
		return w.o.Targets, false
	}
	if len(w.o.Targets) == 0 {
		// Nothing to deliver to: an event is a duplicate once printed.
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.seen[id] != nil {
			return nil, true
		}
		w.seen[id] = map[string]bool{}
		return nil, false
	}
	return out, len(out) == 0
}

func (w *watcher) print(e evidence.Event) {
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	w.outMu.Lock()
	defer w.outMu.Unlock()
	w.o.Out.Write(append(b, '\n'))
}

// startAlert delivers an alert in the background; its messages wait.
func (w *watcher) startAlert(ctx context.Context, events []evidence.Event, msgs []*message, targets []notify.Target) {
	w.mu.Lock()
	for _, m := range msgs {
		m.pending++
	}
	w.mu.Unlock()
	w.alerts.Add(1)
	go func() {
		defer w.alerts.Done()
		ok := w.deliver(ctx, events, targets)
		for _, m := range msgs {
			w.done(m, ok)
		}
	}()
}

func (w *watcher) deliver(ctx context.Context, events []evidence.Event, targets []notify.Target) bool {
	if len(targets) == 0 {
		w.mu.Lock()
		for _, e := range events {
			delete(w.sending, eventKey(e))
		}
		w.mu.Unlock()
		return true
	}
	a := notify.Alert{Events: events, AccountName: w.o.AccountNames[events[0].AccountID]}
	a.RuleID = ruleFor(events[0])
	a.Summary, a.Action = w.o.Guidance(a.RuleID)
	results := w.o.Send(ctx, targets, a)
	defer func() {
		w.mu.Lock()
		for _, e := range events {
			delete(w.sending, eventKey(e))
		}
		w.mu.Unlock()
	}()
	ok := true
	now := time.Now()
	for _, r := range results {
		if r.Err != nil {
			ok = false
			if w.o.Metrics != nil {
				w.o.Metrics.Failures.WithLabelValues(r.Target).Inc()
			}
			w.o.Log.Error("alert not delivered; its messages will be received again", "target", r.Target, "attempts", r.Attempts, "error", r.Err.Error(), "event_id", events[0].EventID)
			continue
		}
		if w.o.Metrics != nil {
			w.o.Metrics.Alerts.WithLabelValues(r.Target).Inc()
			for _, e := range events {
				if !e.Time.IsZero() {
					w.o.Metrics.Lag.Observe(now.Sub(e.Time).Seconds())
				}
			}
		}
		w.mu.Lock()
		w.stats.Alerts++
		for _, e := range events {
			k := eventKey(e)
			if w.seen[k] == nil {
				w.seen[k] = map[string]bool{}
			}
			w.seen[k][r.Target] = true
		}
		w.mu.Unlock()
		if w.o.Store != nil {
			for _, e := range events {
				if err := w.o.Store.MarkDelivered(ctx, eventKey(e), r.Target, now); err != nil {
					w.o.Log.Error("cannot record a delivered alert in the store; a restart may alert again", "event_id", e.EventID, "error", err.Error())
				}
			}
		}
		w.o.Log.Info("alert delivered", "target", r.Target, "event_id", events[0].EventID, "events", len(events), "account", events[0].AccountID)
	}
	return ok
}

// ruleFor is the rule an event touches, for the alert's guidance.
func ruleFor(e evidence.Event) string {
	switch {
	case e.Category == evidence.CategoryConsoleLogin && e.Result == "failure":
		return "iam-root-failed-logins"
	case e.Category == evidence.CategoryConsoleLogin && e.MFA != "yes":
		return "iam-root-login-without-mfa"
	case e.Category == evidence.CategoryConsoleLogin:
		return "iam-root-console-login"
	case e.Category == evidence.CategorySignin:
		return "iam-root-active-password"
	}
	return "iam-root-api-activity"
}

// done ends one part a message waits for; the last part deletes it, or
// releases it when any part failed.
func (w *watcher) done(m *message, ok bool) {
	w.mu.Lock()
	m.pending--
	m.failed = m.failed || !ok
	if m.pending > 0 {
		w.mu.Unlock()
		return
	}
	if m.failed {
		delete(w.inflight, m.receipt)
		w.stats.Released++
		w.mu.Unlock()
		if w.o.Metrics != nil {
			w.o.Metrics.Released.Inc()
		}
		return
	}
	w.mu.Unlock()
	w.deletes <- m
}

// addToBurst holds a failed sign-in (and its message) until the burst
// window of its account and address ends.
func (w *watcher) addToBurst(ctx context.Context, e evidence.Event, m *message) {
	key := e.AccountID + "|" + e.SourceIP
	w.mu.Lock()
	defer w.mu.Unlock()
	m.pending++
	b := w.bursts[key]
	if b == nil {
		b = &burst{}
		w.bursts[key] = b
		// The burst counts as an alert in flight from now: Run waits for it.
		w.alerts.Add(1)
		b.timer = time.AfterFunc(w.o.BurstWindow, func() { w.flushBurst(ctx, key, b) })
	}
	for _, x := range b.events {
		if eventKey(x) == eventKey(e) && e.EventID != "" {
			b.msgs = append(b.msgs, m)
			return
		}
	}
	b.events = append(b.events, e)
	b.msgs = append(b.msgs, m)
}

// flushBurst sends a burst's alert, once: from its timer, or at exit.
func (w *watcher) flushBurst(ctx context.Context, key string, b *burst) {
	defer w.alerts.Done()
	w.mu.Lock()
	if w.bursts[key] == b {
		delete(w.bursts, key)
	}
	w.mu.Unlock()
	// Oldest first, in arrival order at equal times.
	slices.SortStableFunc(b.events, func(x, y evidence.Event) int { return x.Time.Compare(y.Time) })
	targets, _ := w.undelivered(ctx, eventKey(b.events[0]))
	ok := w.deliver(ctx, b.events, targets)
	for _, m := range b.msgs {
		w.done(m, ok)
	}
}

// flushBursts sends every pending burst now (at exit).
func (w *watcher) flushBursts(ctx context.Context) {
	w.mu.Lock()
	stopped := map[string]*burst{}
	for k, b := range w.bursts {
		if b.timer.Stop() {
			stopped[k] = b
		}
	}
	w.mu.Unlock()
	for k, b := range stopped {
		w.flushBurst(ctx, k, b)
	}
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

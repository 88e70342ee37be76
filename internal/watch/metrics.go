package watch

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metrics are the watcher's Prometheus metrics, registered on a registry
// the caller owns (no global state). They are the watch's only count:
// Run's Stats are read from them.
type Metrics struct {
	Received    prometheus.Counter
	Deleted     prometheus.Counter
	Unparseable prometheus.Counter
	Released    prometheus.Counter
	// NearDeadLetter and DeadLettered count messages released with one
	// receive left before the dead-letter queue, and with none.
	NearDeadLetter prometheus.Counter
	DeadLettered   prometheus.Counter
	Events         *prometheus.CounterVec
	Duplicates     prometheus.Counter
	Alerts         *prometheus.CounterVec
	Failures       *prometheus.CounterVec
	ReceiveErrs    prometheus.Counter
	Lag            prometheus.Histogram
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Received:    prometheus.NewCounter(prometheus.CounterOpts{Name: "rootwatch_watch_messages_received_total", Help: "SQS messages received."}),
		Deleted:     prometheus.NewCounter(prometheus.CounterOpts{Name: "rootwatch_watch_messages_deleted_total", Help: "SQS messages deleted after every alert they needed was delivered."}),
		Unparseable: prometheus.NewCounter(prometheus.CounterOpts{Name: "rootwatch_watch_messages_unparseable_total", Help: "SQS messages that hold no CloudTrail event rootwatch can read (left for the dead-letter queue)."}),
		Released:    prometheus.NewCounter(prometheus.CounterOpts{Name: "rootwatch_watch_messages_released_total", Help: "SQS messages left to be received again because a delivery failed."}),
		NearDeadLetter: prometheus.NewCounter(prometheus.CounterOpts{Name: "rootwatch_watch_messages_near_dead_letter_total",
			Help: "SQS messages left to be received again with one receive left before the queue's maxReceiveCount sends them to its dead-letter queue."}),
		DeadLettered: prometheus.NewCounter(prometheus.CounterOpts{Name: "rootwatch_watch_messages_dead_lettered_total",
			Help: "SQS messages left to be received again at the queue's maxReceiveCount: SQS moves them to its dead-letter queue on their next receive."}),
		Events:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rootwatch_watch_events_total", Help: "CloudTrail events classified, by category (not_root for everyone else)."}, []string{"category"}),
		Duplicates:  prometheus.NewCounter(prometheus.CounterOpts{Name: "rootwatch_watch_duplicate_events_total", Help: "Root events already alerted on (EventBridge and SQS deliver at least once)."}),
		Alerts:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rootwatch_watch_alerts_sent_total", Help: "Alerts delivered, by target."}, []string{"target"}),
		Failures:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rootwatch_watch_delivery_failures_total", Help: "Alert deliveries that failed after their retries, by target."}, []string{"target"}),
		ReceiveErrs: prometheus.NewCounter(prometheus.CounterOpts{Name: "rootwatch_watch_receive_errors_total", Help: "ReceiveMessage calls that failed."}),
		Lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rootwatch_watch_alert_lag_seconds", Help: "From the event's time to its alert's delivery.",
			Buckets: []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800}}),
	}
	reg.MustRegister(m.Received, m.Deleted, m.Unparseable, m.Released, m.NearDeadLetter, m.DeadLettered, m.Events, m.Duplicates, m.Alerts, m.Failures, m.ReceiveErrs, m.Lag)
	return m
}

// stats reads the counters: each event is counted once, in the metrics,
// and the stats are their sums.
func (m *Metrics) stats() Stats {
	return Stats{
		Received: count(m.Received, ""), Deleted: count(m.Deleted, ""), Unparseable: count(m.Unparseable, ""), Released: count(m.Released, ""),
		Events: count(m.Events, ""), RootEvents: count(m.Events, "not_root"), Alerts: count(m.Alerts, ""), Duplicates: count(m.Duplicates, ""),
	}
}

// count sums a counter's series, leaving out those with a label of the
// value skip ("" skips none).
func count(c prometheus.Collector, skip string) int {
	ch := make(chan prometheus.Metric)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	sum := 0.0
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) != nil || d.GetCounter() == nil {
			continue
		}
		skipped := false
		for _, l := range d.GetLabel() {
			skipped = skipped || (skip != "" && l.GetValue() == skip)
		}
		if !skipped {
			sum += d.GetCounter().GetValue()
		}
	}
	return int(sum)
}

// minus is what s counted since base.
func (s Stats) minus(base Stats) Stats {
	return Stats{
		Received: s.Received - base.Received, Deleted: s.Deleted - base.Deleted, Unparseable: s.Unparseable - base.Unparseable, Released: s.Released - base.Released,
		Events: s.Events - base.Events, RootEvents: s.RootEvents - base.RootEvents, Alerts: s.Alerts - base.Alerts, Duplicates: s.Duplicates - base.Duplicates,
	}
}

package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/store"
)

// ServeOptions are what `rootwatch watch` needs: the watch with its
// clients, targets, store and metrics server built from settings.
type ServeOptions struct {
	QueueURL string
	// Targets and Secret as for scan notifications (KIND=TARGET).
	Targets []string
	Secret  string
	Getenv  func(string) string
	// Store keeps delivered alerts across restarts ("" none).
	Store string
	// MetricsAddr serves /metrics and /healthz ("" none).
	MetricsAddr string
	// Listening, when set, is told the metrics address actually bound.
	Listening func(addr string)

	Receivers       int
	BurstFirst      time.Duration
	BurstWindow     time.Duration
	IdleExit        time.Duration
	ShutdownTimeout time.Duration
	Out             io.Writer
	Log             *slog.Logger

	AWS     awsx.Loader
	Profile string
	Region  string
	// Delivery tunes alert retries (default: notify's ForAlerts).
	Delivery notify.Options
}

// queueRegion is the region of an SQS queue URL
// (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), or "".
var queueRegion = regexp.MustCompile(`^https://sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/`)

// Serve builds the watch from its settings and runs it until ctx ends or
// the queue is idle.
func Serve(ctx context.Context, o ServeOptions) (Stats, error) {
	u, err := url.Parse(o.QueueURL)
	if err != nil || u.Host == "" || len(strings.Split(strings.Trim(u.Path, "/"), "/")) != 2 {
		return Stats{}, fmt.Errorf("queue URL %q: want https://sqs.REGION.amazonaws.com/ACCOUNT/NAME", o.QueueURL)
	}
	region := o.Region
	if m := queueRegion.FindStringSubmatch(o.QueueURL); m != nil && region == "" {
		region = m[1]
	}
	plan, err := notify.Notifying{Targets: o.Targets, Secret: o.Secret, Getenv: o.Getenv, On: string(notify.OnAlways)}.Plan(false)
	if err != nil {
		return Stats{}, err
	}
	cfg, err := awsx.Load(ctx, o.AWS, o.Profile, region)
	if err != nil {
		return Stats{}, err
	}
	delivery := o.Delivery.ForAlerts()
	if delivery.SNS == nil {
		delivery.SNS = notify.SNSClients(o.AWS, o.Profile)
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wo := Options{
		QueueURL: o.QueueURL, SQS: sqs.NewFromConfig(cfg), S3: s3.NewFromConfig(cfg), Targets: plan.Targets,
		Send: func(ctx context.Context, t []notify.Target, a notify.Alert) []notify.Result {
			return notify.SendAlert(ctx, t, a, delivery)
		},
		Guidance: guidance, Receivers: o.Receivers, BurstFirst: o.BurstFirst, BurstWindow: o.BurstWindow, IdleExit: o.IdleExit,
		ShutdownTimeout: o.ShutdownTimeout, Out: o.Out, Log: log,
	}
	if o.Store != "" {
		s, err := store.OpenDeliveries(ctx, o.Store, store.Options{Getenv: o.Getenv})
		if err != nil {
			return Stats{}, err
		}
		defer s.Close()
		wo.Store = s
	}
	if o.MetricsAddr != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		wo.Metrics = NewMetrics(reg)
		stop, err := serveMetrics(o.MetricsAddr, reg, log, o.Listening)
		if err != nil {
			return Stats{}, err
		}
		defer stop()
	}
	return Run(ctx, wo)
}

// guidance is a rule's knowledge-base summary and first suggested action.
func guidance(id string) (string, string) {
	p, err := rules.LoadPage(id)
	if err != nil {
		return "", ""
	}
	action := strings.TrimSpace(p.Sections["Suggested Action"])
	action, _, _ = strings.Cut(action, "\n")
	return p.Summary, strings.TrimSpace(strings.TrimPrefix(action, "1. "))
}

// serveMetrics serves /metrics and /healthz until stop is called.
func serveMetrics(addr string, reg *prometheus.Registry, log *slog.Logger, listening func(string)) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "error", err.Error())
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	if listening != nil {
		listening(ln.Addr().String())
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

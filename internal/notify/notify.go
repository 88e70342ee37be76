// Package notify tells people what a run found: to Slack (Block Kit over
// an incoming webhook), to any HTTP endpoint (JSON, HMAC-signed), and by
// e-mail (SMTP with STARTTLS, the HTML report as the body). It decides
// what is worth a message (only new failures, by default), retries
// deliveries that fail for a reason that can pass, and never lets a
// target's URL, token or password reach a message, a log line or an error.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/secret"
)

// When says which runs send a message.
type When string

const (
	OnNew    When = "new"    // new failures since the previous run of the scope (the default)
	OnChange When = "change" // any change since the previous run
	OnAlways When = "always" // every run, with its failing findings
)

// ParseWhen reads --notify-on.
func ParseWhen(s string) (When, error) {
	switch w := When(strings.ToLower(s)); w {
	case OnNew, OnChange, OnAlways:
		return w, nil
	}
	return "", fmt.Errorf("%q: want new, change or always", s)
}

// NeedsHistory says whether the choice needs a store (a previous run).
func (w When) NeedsHistory() bool { return w != OnAlways }

// Target is where messages go. Its Kind is slack, webhook or email; the
// address is a secret and is never shown (Name is what messages say).
type Target struct {
	Kind string
	// Route, from KIND@ROUTE=TARGET, gives the target the accounts whose
	// routing tag has this value; a target without one takes the rest.
	Route string
	Name  string // e.g. "slack #1 (hooks.slack.com)"
	// Index is the target's place among those given (the n of
	// ParseTarget, from 1), so that a caller can name its specification.
	Index   int
	address string
	secret  []byte // webhook signing key
}

// ParseTarget reads KIND=TARGET. TARGET (and secret) may be env:VAR or
// file:PATH, read at once; errors name the kind and position, never the
// address.
func ParseTarget(spec string, n int, key string, getenv func(string) string) (Target, error) {
	kind, addr, ok := strings.Cut(spec, "=")
	kind = strings.ToLower(strings.TrimSpace(kind))
	if !ok || addr == "" {
		return Target{}, fmt.Errorf("notification %d: want KIND=TARGET (slack=URL, webhook=URL, email=smtp://…, sns=TOPIC-ARN)", n)
	}
	kind, route, _ := strings.Cut(kind, "@")
	t := Target{Kind: kind, Route: route, Index: n}
	src := secret.Source{Getenv: getenv}
	var err error
	if t.address, err = src.Resolve(addr); err != nil {
		return Target{}, fmt.Errorf("notification %d (%s): %w", n, kind, err)
	}
	if key != "" {
		s, err := src.Resolve(key)
		if err != nil {
			return Target{}, fmt.Errorf("notification secret: %w", err)
		}
		t.secret = []byte(s)
	}
	if kind == "sns" {
		// A topic ARN: arn:PARTITION:sns:REGION:ACCOUNT:NAME. Not a secret.
		p := strings.Split(t.address, ":")
		if len(p) != 6 || p[0] != "arn" || p[2] != "sns" || p[3] == "" || p[5] == "" {
			return Target{}, fmt.Errorf("notification %d (sns): want a topic ARN, arn:aws:sns:REGION:ACCOUNT:TOPIC", n)
		}
		t.Name = fmt.Sprintf("sns #%d (%s)", n, t.address) + routeSuffix(route)
		return t, nil
	}
	u, err := url.Parse(t.address)
	if err != nil || u.Host == "" {
		return Target{}, fmt.Errorf("notification %d (%s): the target is not a URL", n, kind)
	}
	switch kind {
	case "slack", "webhook":
		if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
			return Target{}, fmt.Errorf("notification %d (%s): want an https:// URL (http:// only to loopback)", n, kind)
		}
	case "email":
		if u.Scheme != "smtp" {
			return Target{}, fmt.Errorf("notification %d (email): want smtp://[user[:password]@]host[:port]?from=ADDRESS&to=ADDRESS[,ADDRESS]", n)
		}
		q := u.Query()
		if q.Get("from") == "" || q.Get("to") == "" {
			return Target{}, fmt.Errorf("notification %d (email): the smtp:// URL needs from= and to=", n)
		}
	default:
		return Target{}, fmt.Errorf("notification %d: unknown kind %q (want slack, webhook, email or sns)", n, kind)
	}
	t.Name = fmt.Sprintf("%s #%d (%s)", kind, n, u.Hostname()) + routeSuffix(route)
	return t, nil
}

func routeSuffix(route string) string {
	if route == "" {
		return ""
	}
	return " for " + route
}

// Route gives each target the items of its accounts: a routed target those
// whose account's tag is its route, the others the rest. tagOf says an
// account's routing tag ("" when it has none). A target left with nothing
// is left out, unless every run is told (always).
func Route(targets []Target, m Message, tagOf func(account string) string) []Routed {
	routes := map[string]bool{}
	for _, t := range targets {
		if t.Route != "" {
			routes[t.Route] = true
		}
	}
	var out []Routed
	for _, t := range targets {
		var items []finding.Change
		for _, c := range m.Items {
			tag := tagOf(c.AccountID)
			if (t.Route != "" && tag == t.Route) || (t.Route == "" && !routes[tag]) {
				items = append(items, c)
			}
		}
		if len(items) == 0 && m.When != OnAlways {
			continue
		}
		mm := m
		mm.Items = items
		out = append(out, Routed{Target: t, Message: mm})
	}
	return out
}

// Routed is one target and what it is told.
type Routed struct {
	Target  Target
	Message Message
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1" || strings.HasPrefix(host, "127.")
}

// Message is what one run has to say.
type Message struct {
	Run     *finding.Run
	Catalog finding.Catalog
	// Items are the findings worth telling, worst first: new failures (or
	// every change, or every failure, as When says).
	Items []finding.Change
	When  When
	// Report is the HTML report, for e-mail.
	Report []byte
}

// Select picks what a run has to say, or ok false when nothing: with
// OnNew the new failures, with OnChange every change, with OnAlways every
// failing finding; severities below min are left out (changes without a
// severity, such as an account no longer assessed, never are).
func Select(run *finding.Run, when When, min finding.Severity) (items []finding.Change, ok bool) {
	keep := func(sev finding.Severity) bool { return sev == "" || min == "" || sev.Rank() >= min.Rank() }
	switch when {
	case OnAlways:
		for _, f := range run.Findings {
			if f.Status == finding.StatusFail && keep(f.Severity) {
				st := string(f.Status)
				items = append(items, finding.Change{Kind: "fail", Fingerprint: f.Fingerprint, RuleID: f.RuleID, AccountID: f.AccountID, Resource: f.Resource,
					Severity: f.Severity, Title: f.Title, Message: f.Message, ToStatus: &st, FirstSeen: f.FirstSeen})
			}
		}
		slices.SortStableFunc(items, func(a, b finding.Change) int { return b.Severity.Rank() - a.Severity.Rank() })
		return items, true
	}
	if run.History == nil {
		return nil, false
	}
	for _, c := range run.History.Changes {
		if (when == OnChange || c.Kind == finding.ChangeNewFailure) && keep(c.Severity) {
			items = append(items, c)
		}
	}
	return items, len(items) > 0
}

// Result is one target's delivery.
type Result struct {
	Target   string
	Attempts int
	Err      error
}

// DefaultTimeout bounds one delivery attempt.
const DefaultTimeout = 30 * time.Second

// Options tune delivery.
type Options struct {
	// Attempts per target (default 4) and the first backoff (default 1 s,
	// doubling); a Retry-After longer than MaxWait (default 60 s) is cut.
	Attempts int
	Backoff  time.Duration
	MaxWait  time.Duration
	// Timeout bounds one attempt (default 30 s); an attempt that gets no
	// answer in time fails with ErrNoAnswer, and is retried.
	Timeout time.Duration
	// Waiting, when set, hears that an attempt has waited WaitingAfter
	// (default half the Timeout, at most 5 s) without an answer: a line
	// naming the target (never its address).
	Waiting      func(string)
	WaitingAfter time.Duration
	// Sleep waits between attempts (default: a timer that ends early when
	// ctx does); tests record the waits instead.
	Sleep func(ctx context.Context, d time.Duration)
	// SNS publishes to a topic in a region, for sns targets.
	SNS func(ctx context.Context, region string) (SNSAPI, error)
}

func (o Options) withDefaults() Options {
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxWait <= 0 {
		o.MaxWait = time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.WaitingAfter <= 0 {
		o.WaitingAfter = min(o.Timeout/2, 5*time.Second)
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
	return o
}

// Send delivers m to every target and reports each; it never returns a
// target's address. A delivery that fails for a reason that may pass (a
// timeout, HTTP 429 or 5xx, a temporary SMTP reply) is retried with
// backoff, honouring Retry-After.
func Send(ctx context.Context, targets []Target, m Message, o Options) []Result {
	return send(ctx, targets, m, o)
}

// content is what a target can be sent: a run's message or an alert.
type content interface {
	slack() ([]byte, error)
	webhook() ([]byte, error)
	// mail is the plain-text part, the HTML part (or nil) and the subject.
	mail() (plain string, html []byte, subject string)
	snsSubject() string
	snsBody() string
}

func (m Message) slack() ([]byte, error)   { return slackPayload(m) }
func (m Message) webhook() ([]byte, error) { return webhookPayload(m) }
func (m Message) snsSubject() string       { return snsSubject(headline(m)) }
func (m Message) snsBody() string          { return snsBody(m) }

func send(ctx context.Context, targets []Target, m content, o Options) []Result {
	o = o.withDefaults()
	var out []Result
	for _, t := range targets {
		r := Result{Target: t.Name}
		wait := o.Backoff
		for r.Attempts = 1; ; r.Attempts++ {
			actx, cancel := context.WithTimeout(ctx, o.Timeout)
			stop := o.watch(fmt.Sprintf("waiting for %s to answer (attempt %d of %d; each gives up after %s)", t.Name, r.Attempts, o.Attempts, o.Timeout))
			after, err := deliver(actx, t, m, o)
			stop()
			if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
				err = fmt.Errorf("%w within %s", ErrNoAnswer, o.Timeout)
			}
			cancel()
			r.Err = err
			var perm *permanent
			if err == nil || errors.As(err, &perm) || r.Attempts == o.Attempts || ctx.Err() != nil {
				break
			}
			d := wait
			if after > 0 {
				d = min(after, o.MaxWait)
			}
			o.Sleep(ctx, d)
			wait *= 2
		}
		out = append(out, r)
	}
	return out
}

// ErrNoAnswer says an attempt got no answer within the Timeout.
var ErrNoAnswer = errors.New("no answer")

// watch says line to Waiting once an attempt has waited WaitingAfter. stop
// ends the watch and returns only when nothing more will be said.
func (o Options) watch(line string) (stop func()) {
	if o.Waiting == nil {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTimer(o.WaitingAfter)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			o.Waiting(line)
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// permanent marks a failure that retrying cannot mend (a 4xx other than
// 429, an SMTP 5xx).
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

func deliver(ctx context.Context, t Target, m content, o Options) (retryAfter time.Duration, err error) {
	switch t.Kind {
	case "slack":
		body, err := m.slack()
		if err != nil {
			return 0, &permanent{err}
		}
		return post(ctx, t, body, nil)
	case "webhook":
		body, err := m.webhook()
		if err != nil {
			return 0, &permanent{err}
		}
		return post(ctx, t, body, t.secret)
	case "email":
		return 0, sendMail(ctx, t, m)
	case "sns":
		return 0, publish(ctx, t, m, o.SNS)
	}
	return 0, &permanent{fmt.Errorf("unknown kind %q", t.Kind)}
}

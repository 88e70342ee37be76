// Package notify tells people what a run found, and what root did as the
// watch sees it. Each channel is a Notifier in its own file: Slack
// (slack.go: Block Kit over an incoming webhook), any HTTP endpoint
// (webhook.go: JSON, HMAC-signed), e-mail (email.go: SMTP with STARTTLS,
// the HTML report as the body), Amazon SNS (sns.go: a topic, published to
// in its own region), Microsoft Teams (teams.go: an Adaptive Card through
// a Workflows or incoming webhook) and PagerDuty (pagerduty.go: Events API
// v2 alerts, triggered and resolved per finding). Retrying is written once, as a
// stage around any notifier (retry.go: attempts, backoff, Retry-After,
// each attempt bounded and its wait said). Targets are parsed in
// target.go; plan.go reads the settings once and sends a run's message.
// The package decides what a run has to say (only new failures, by
// default), and never lets a target's URL, token, key or password reach a
// message, a log line or an error.
package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rootwatch/rootwatch/internal/finding"
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

// Content is what a notifier sends: a run's Message or the watch's Alert.
// Each channel renders both, in its own file.
type Content interface {
	// Headline is the one-line summary (a subject, a title).
	Headline() string
}

// cannotSend is the error of a channel given content it has no form for.
func cannotSend(kind string, c Content) error {
	return fmt.Errorf("%s cannot send %T", kind, c)
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
	Target string
	// Index is the target's place among those given (Target.Index).
	Index    int
	Attempts int
	Err      error
}

// Send delivers m to every target and reports each; it never returns a
// target's address. A delivery that fails for a reason that may pass (a
// timeout, HTTP 429 or 5xx, a temporary SMTP reply) is retried with
// backoff, honouring Retry-After.
func Send(ctx context.Context, targets []Target, m Message, o Options) []Result {
	return send(ctx, targets, m, o)
}

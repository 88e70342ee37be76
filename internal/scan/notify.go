package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/notify"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/rules"
)

// Notifying says where and when to tell people about a run.
type Notifying struct {
	// Targets are KIND=TARGET (slack=URL, webhook=URL, email=smtp://…);
	// TARGET and Secret may be env:VAR or file:PATH.
	Targets []string
	Secret  string // signs webhook bodies
	// RouteTag is the account tag whose value picks KIND@VALUE targets
	// (default owner).
	RouteTag    string
	On          string // new (default), change, always
	MinSeverity string
	Getenv      func(string) string
	// AWS and Profile give sns targets their credentials (the topic's
	// region comes from its ARN).
	AWS     awsx.Loader
	Profile string
	// Delivery tunes retries (tests shorten them).
	Delivery notify.Options
}

// Delivery is one target's outcome, without its address.
type Delivery struct {
	Target string
	// Index is the target's place in Notifying.Targets, from 1.
	Index    int
	Attempts int
	Err      error
}

// Routes says whether a target is routed by an account tag (so the scan
// must read tags).
func (n Notifying) Routes() bool {
	for _, t := range n.Targets {
		kind, _, _ := strings.Cut(t, "=")
		if strings.Contains(kind, "@") {
			return true
		}
	}
	return false
}

// Plan parses the targets and settings, so that a bad target is refused
// before a scan starts; stored says whether the run will be in a store
// (new and change need the previous run).
func (n Notifying) Plan(stored bool) ([]notify.Target, notify.When, finding.Severity, error) {
	if len(n.Targets) == 0 {
		return nil, "", "", nil
	}
	when := notify.OnNew
	if n.On != "" {
		var err error
		if when, err = notify.ParseWhen(n.On); err != nil {
			return nil, "", "", err
		}
	}
	if when.NeedsHistory() && !stored {
		return nil, "", "", fmt.Errorf("notifying on %q compares with the previous run, which needs a store; give one, or notify on always", when)
	}
	var min finding.Severity
	if n.MinSeverity != "" {
		var err error
		if min, err = finding.ParseSeverity(n.MinSeverity); err != nil {
			return nil, "", "", err
		}
	}
	var targets []notify.Target
	for i, spec := range n.Targets {
		t, err := notify.ParseTarget(spec, i+1, n.Secret, n.Getenv)
		if err != nil {
			return nil, "", "", err
		}
		targets = append(targets, t)
	}
	return targets, when, min, nil
}

// Notify tells the targets what the run has to say, if anything. It
// returns nothing sent (and no error) when the run has nothing worth a
// message; an error only when the notification could not be prepared.
func Notify(ctx context.Context, n Notifying, run *finding.Run) ([]Delivery, error) {
	targets, when, min, err := n.Plan(run.History != nil)
	if err != nil || len(targets) == 0 {
		return nil, err
	}
	items, ok := notify.Select(run, when, min)
	if !ok {
		return nil, nil
	}
	catalog, err := rules.Info()
	if err != nil {
		return nil, err
	}
	m := notify.Message{Run: run, Catalog: catalog, Items: items, When: when}
	var html bytes.Buffer
	if err := (report.HTML{Meta: catalog}).Write(&html, run); err != nil {
		return nil, fmt.Errorf("notification report: %w", err)
	}
	m.Report = html.Bytes()
	if n.Delivery.SNS == nil {
		n.Delivery.SNS = notify.SNSClients(n.AWS, n.Profile)
	}
	tagKey := n.RouteTag
	if tagKey == "" {
		tagKey = "owner"
	}
	tags := map[string]string{}
	for _, a := range run.Accounts {
		tags[a.AccountID] = a.Tags[tagKey]
	}
	var out []Delivery
	for _, rt := range notify.Route(targets, m, func(account string) string { return tags[account] }) {
		for _, r := range notify.Send(ctx, []notify.Target{rt.Target}, rt.Message, n.Delivery) {
			out = append(out, Delivery{Target: r.Target, Index: rt.Target.Index, Attempts: r.Attempts, Err: r.Err})
		}
	}
	return out, nil
}

// ErrNotified says a notification could not be delivered.
var ErrNotified = errors.New("a notification was not delivered")

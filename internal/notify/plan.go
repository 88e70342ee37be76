package notify

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/secret"
)

// Notifying says where and when to tell people about a run, as the flags
// and the config file's notifications: section give it.
type Notifying struct {
	// Targets are KIND=TARGET (slack=URL, webhook=URL, email=smtp://…,
	// sns=TOPIC-ARN, teams=URL, pagerduty=env:VAR); TARGET and Secret may
	// be env:VAR or file:PATH.
	Targets []string
	Secret  string // signs webhook bodies
	// RouteTag is the account tag whose value picks KIND@VALUE targets
	// (default owner).
	RouteTag    string
	On          string // new (default), change, always
	MinSeverity string
	// Getenv and ReadFile read env: and file: references (nil: the
	// process's own).
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
	// AWS and Profile give sns targets their credentials (the topic's
	// region comes from its ARN).
	AWS     awsx.Loader
	Profile string
	// Delivery tunes retries (tests shorten them).
	Delivery Options
}

// Routes says whether a target is routed by an account tag (so the scan
// must read tags). It reads no reference.
func (n Notifying) Routes() bool {
	for _, t := range n.Targets {
		kind, _, _ := strings.Cut(t, "=")
		if strings.Contains(kind, "@") {
			return true
		}
	}
	return false
}

// Plan is Notifying read once, before a scan starts: the targets parsed
// (each env: and file: reference read once, the signing key once for
// all), when to tell and from which severity.
type Plan struct {
	Targets  []Target
	When     When
	Min      finding.Severity
	routeTag string
	delivery Options
}

// Plan parses the targets and settings, so that a bad target is refused
// before a scan starts; stored says whether the run will be in a store
// (new and change need the previous run). Without targets it is an empty
// plan that sends nothing.
func (n Notifying) Plan(stored bool) (*Plan, error) {
	if len(n.Targets) == 0 {
		return &Plan{}, nil
	}
	p := &Plan{When: OnNew, routeTag: n.RouteTag, delivery: n.Delivery}
	if n.On != "" {
		var err error
		if p.When, err = ParseWhen(n.On); err != nil {
			return nil, err
		}
	}
	if p.When.NeedsHistory() && !stored {
		return nil, fmt.Errorf("notifying on %q compares with the previous run, which needs a store; give one, or notify on always", p.When)
	}
	if n.MinSeverity != "" {
		var err error
		if p.Min, err = finding.ParseSeverity(n.MinSeverity); err != nil {
			return nil, err
		}
	}
	src := secret.Source{Getenv: n.Getenv, ReadFile: readOnce(n.ReadFile)}
	key := keyOnce(n.Secret, src)
	for i, spec := range n.Targets {
		t, err := parseTarget(spec, i+1, key, src)
		if err != nil {
			return nil, err
		}
		p.Targets = append(p.Targets, t)
	}
	if p.routeTag == "" {
		p.routeTag = "owner"
	}
	if p.delivery.SNS == nil {
		p.delivery.SNS = SNSClients(n.AWS, n.Profile)
	}
	return p, nil
}

// readOnce reads each file once, however many targets name it: a plan
// holds one version of each.
func readOnce(read func(string) ([]byte, error)) func(string) ([]byte, error) {
	if read == nil {
		read = os.ReadFile
	}
	type file struct {
		b   []byte
		err error
	}
	seen := map[string]file{}
	return func(path string) ([]byte, error) {
		f, ok := seen[path]
		if !ok {
			f.b, f.err = read(path)
			seen[path] = f
		}
		return f.b, f.err
	}
}

// Notify tells the targets what the run has to say, if anything, each
// target the items of its accounts (Route). It returns nothing sent (and
// no error) when the run has nothing worth a message; an error only when
// the message could not be prepared.
func (p *Plan) Notify(ctx context.Context, run *finding.Run) ([]Result, error) {
	if len(p.Targets) == 0 {
		return nil, nil
	}
	items, ok := Select(run, p.When, p.Min)
	if !ok {
		return nil, nil
	}
	catalog, err := rules.Info()
	if err != nil {
		return nil, err
	}
	m := Message{Run: run, Catalog: catalog, Items: items, When: p.When}
	var html bytes.Buffer
	if err := (report.HTML{Meta: catalog}).Write(&html, run); err != nil {
		return nil, fmt.Errorf("notification report: %w", err)
	}
	m.Report = html.Bytes()
	tags := map[string]string{}
	for _, a := range run.Accounts {
		tags[a.AccountID] = a.Tags[p.routeTag]
	}
	var out []Result
	for _, rt := range Route(p.Targets, m, func(account string) string { return tags[account] }) {
		out = append(out, send(ctx, []Target{rt.Target}, rt.Message, p.delivery)...)
	}
	return out, nil
}

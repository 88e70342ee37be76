package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/secret"
)

// Target is where messages go. Its Kind is a channel's (slack, webhook,
// email, sns, teams, pagerduty); the address is a secret and is never
// shown (Name is what messages say).
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
	key     []byte // --notify-secret: the webhook signing key
	ch      channel
}

func (t Target) notifier(o Options) Notifier {
	if t.ch.notifier == nil {
		return unparsed{}
	}
	return t.ch.notifier(t, o)
}

// unparsed is a Target made without ParseTarget: it has no channel.
type unparsed struct{}

func (unparsed) Notify(context.Context, Content) (bool, error) {
	return false, errors.New("the target was not made by ParseTarget")
}

// channel is one kind of target: how its address is checked and named,
// and its notifier. Each lives in its own file; adding one is that file
// and its line in channels.
type channel struct {
	kind   string
	syntax string // what TARGET is, for the usage line: URL, TOPIC-ARN
	// check takes the resolved address and returns what the target's
	// name shows of it (a host, a topic ARN: never a secret). Its errors
	// follow "notification N (KIND): " and never hold the address.
	check func(addr string) (shown string, err error)
	// notifier sends to one target, with what o gives it (an SNS client).
	notifier func(t Target, o Options) Notifier
	// refOnly: TARGET is a key, taken only as env:VAR or file:PATH.
	refOnly bool
}

// channels are the kinds of target, in the order usage lists them.
func channels() []channel {
	return []channel{slackChannel(), webhookChannel(), emailChannel(), snsChannel(), teamsChannel(), pagerdutyChannel()}
}

func channelOf(kind string) (channel, bool) {
	for _, c := range channels() {
		if c.kind == kind {
			return c, true
		}
	}
	return channel{}, false
}

// usage lists KIND=TARGET for each channel: "slack=URL, webhook=URL, …".
func usage() string {
	var forms []string
	for _, c := range channels() {
		forms = append(forms, c.kind+"="+c.syntax)
	}
	return strings.Join(forms, ", ")
}

// kinds lists the channels' kinds: "slack, webhook, email or sns".
func kinds() string {
	var ks []string
	for _, c := range channels() {
		ks = append(ks, c.kind)
	}
	return strings.Join(ks[:len(ks)-1], ", ") + " or " + ks[len(ks)-1]
}

// ParseTarget reads KIND=TARGET. TARGET (and key, the webhook signing
// key) may be env:VAR or file:PATH, read at once; errors name the kind
// and position, never the address.
func ParseTarget(spec string, n int, key string, getenv func(string) string) (Target, error) {
	src := secret.Source{Getenv: getenv}
	return parseTarget(spec, n, keyOnce(key, src), src)
}

// keyOnce reads the signing key at most once, however many targets ask.
func keyOnce(key string, src secret.Source) func() ([]byte, error) {
	return sync.OnceValues(func() ([]byte, error) {
		if key == "" {
			return nil, nil
		}
		s, err := src.Resolve(key)
		if err != nil {
			return nil, fmt.Errorf("notification secret: %w", err)
		}
		return []byte(s), nil
	})
}

func parseTarget(spec string, n int, key func() ([]byte, error), src secret.Source) (Target, error) {
	kind, addr, ok := strings.Cut(spec, "=")
	kind = strings.ToLower(strings.TrimSpace(kind))
	if !ok || addr == "" {
		return Target{}, fmt.Errorf("notification %d: want KIND=TARGET (%s)", n, usage())
	}
	kind, route, _ := strings.Cut(kind, "@")
	ch, ok := channelOf(kind)
	if !ok {
		return Target{}, fmt.Errorf("notification %d: unknown kind %q (want %s)", n, kind, kinds())
	}
	if ch.refOnly && !secret.IsRef(addr) {
		return Target{}, fmt.Errorf("notification %d (%s): give the key as env:VAR or file:PATH, not the key itself (a command line or a config file is read by others)", n, kind)
	}
	t := Target{Kind: kind, Route: route, Index: n, ch: ch}
	var err error
	if t.address, err = src.Resolve(addr); err != nil {
		return Target{}, fmt.Errorf("notification %d (%s): %w", n, kind, err)
	}
	if t.key, err = key(); err != nil {
		return Target{}, err
	}
	shown, err := ch.check(t.address)
	if err != nil {
		return Target{}, fmt.Errorf("notification %d (%s): %w", n, kind, err)
	}
	t.Name = fmt.Sprintf("%s #%d (%s)", kind, n, shown) + routeSuffix(route)
	return t, nil
}

// httpsHost checks a URL target (https, or http to loopback) and returns
// its host.
func httpsHost(addr string) (string, error) {
	u, err := parseURL(addr)
	if err != nil {
		return "", err
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return "", fmt.Errorf("want an https:// URL (http:// only to loopback)")
	}
	return u.Hostname(), nil
}

// parseURL parses a URL target; its error never repeats it.
func parseURL(addr string) (*url.URL, error) {
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("the target is not a URL")
	}
	return u, nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1" || strings.HasPrefix(host, "127.")
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

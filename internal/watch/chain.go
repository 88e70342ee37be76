package watch

// Takeover chains: the steps of a member root's takeover arriving within
// an hour are alerted once more, together, naming who opened the session,
// which member, and what followed.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// ChainWindow is how close together the steps of a takeover must arrive
// to be alerted as one chain (on the watch's Clock).
const ChainWindow = time.Hour

// chainStep kinds, in the chain's order.
const (
	stepSession  = iota // AssumeRoot with IAMCreateRootUserPassword, by the management account
	stepPassword        // CreateLoginProfile by root in the member
	stepRecovery        // PasswordRecoveryRequested or PasswordRecoveryCompleted
	stepLogin           // a successful root console sign-in
)

// stepOf says whether an event is a step of a takeover chain, which, and
// the member it concerns. Only steps that succeeded count: a failed one
// took nobody further.
func stepOf(e evidence.Event) (kind int, member string, ok bool) {
	if e.Result != "success" || e.Unverified {
		return 0, "", false
	}
	switch {
	case e.Category == evidence.CategoryAssumeRoot && e.EventName == "AssumeRoot" && evidence.TaskName(e.TaskPolicy) == evidence.TaskCreateRootUserPassword:
		return stepSession, e.TargetAccount(), e.TargetAccount() != ""
	case e.Category == evidence.CategoryLoginProfile:
		return stepPassword, e.AccountID, true
	case e.Category == evidence.CategoryPasswordRecovery && (e.EventName == "PasswordRecoveryRequested" || e.EventName == "PasswordRecoveryCompleted"):
		return stepRecovery, e.AccountID, true
	case e.Category == evidence.CategoryConsoleLogin:
		return stepLogin, e.AccountID, true
	}
	return 0, "", false
}

// chain is what arrived of one member's takeover within the last hour.
type chain struct {
	steps []chainPiece
}

type chainPiece struct {
	kind int
	e    evidence.Event
	at   time.Time // arrival, on the Clock
}

// chainStep adds an event that is a step of a takeover to its member's
// chain, forgetting steps that arrived more than ChainWindow ago; when the
// chain holds a root password created, its recovery and a root sign-in
// (with the AssumeRoot call that opened the session, when it arrived),
// and its alert was not delivered, it is alerted with the message that
// completed it.
func (w *watcher) chainStep(ctx context.Context, m *message, e evidence.Event) {
	kind, member, ok := stepOf(e)
	if !ok {
		return
	}
	label := member
	if name := w.o.AccountNames[member]; name != "" {
		label = name + " (" + member + ")"
	}
	p, complete := w.chains.add(kind, member, label, e, w.o.Clock.Now())
	if !complete {
		return
	}
	key := p.keys[0]
	if !w.dedup.claimFree(key) {
		return
	}
	targets := w.dedup.remaining(ctx, key)
	if len(targets) == 0 {
		w.dedup.unclaim(key)
		return
	}
	w.o.Log.Warn("root takeover chain", "account", member, "steps", len(p.events))
	w.startAlert(ctx, p, []*message{m}, targets)
}

// takeovers are the takeover steps of the last ChainWindow, by member account.
type takeovers struct {
	mu       sync.Mutex
	byMember map[string]*chain
}

// add adds a step to its member's chain, forgetting steps that arrived
// more than ChainWindow before now, and returns the chain's alert when it
// is complete.
func (cs *takeovers) add(kind int, member, label string, e evidence.Event, now time.Time) (pending, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for id, c := range cs.byMember {
		c.steps = slices.DeleteFunc(c.steps, func(p chainPiece) bool { return now.Sub(p.at) > ChainWindow })
		if len(c.steps) == 0 {
			delete(cs.byMember, id)
		}
	}
	c := cs.byMember[member]
	if c == nil {
		c = &chain{}
		cs.byMember[member] = c
	}
	if !slices.ContainsFunc(c.steps, func(p chainPiece) bool { return eventKey(p.e) == eventKey(e) }) {
		c.steps = append(c.steps, chainPiece{kind, e, now})
	}
	return c.alert(member, label)
}

// alert builds the chain's alert when it is complete. Its key is the root
// password's creation: one chain per password created, however many
// sign-ins follow. Its takeovers lock is held.
func (c *chain) alert(member, label string) (pending, bool) {
	first := map[int]*chainPiece{}
	var recoveries []evidence.Event
	for i := range c.steps {
		p := &c.steps[i]
		if first[p.kind] == nil {
			first[p.kind] = p
		}
		if p.kind == stepRecovery {
			recoveries = append(recoveries, p.e)
		}
	}
	if first[stepPassword] == nil || first[stepRecovery] == nil || first[stepLogin] == nil {
		return pending{}, false
	}
	password, login := first[stepPassword].e, first[stepLogin].e
	var events []evidence.Event
	opened := "a root password was created (its AssumeRoot call was not received)"
	if s := first[stepSession]; s != nil {
		events = append(events, s.e)
		opened = shortPrincipal(s.e.Caller) + " opened a root session to create a password"
	} else if password.Caller != "" {
		opened = shortPrincipal(password.Caller) + " opened a root session that created a password"
	}
	events = append(events, password)
	events = append(events, recoveries...)
	events = append(events, login)
	slices.SortStableFunc(events, func(a, b evidence.Event) int { return a.Time.Compare(b.Time) })
	from := ""
	if login.SourceIP != "" {
		from = " from " + login.SourceIP
	}
	// The headline stays short (a chat header, a mail subject): each
	// step's line in the alert names its whole caller, time and place.
	title := fmt.Sprintf("rootwatch: root takeover of %s within an hour: %s; recovered by e-mail, root signed in%s", label, opened, from)
	return pending{events: events, keys: []string{"chain:" + member + ":" + eventKey(password)}, title: title, ruleEvent: password}, true
}

// shortPrincipal names a caller briefly: an assumed role's role and
// session (PowerUser/alice), a user's name; another ARN or text as is.
func shortPrincipal(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return arn
	}
	for _, prefix := range []string{"assumed-role/", "user/"} {
		if rest, ok := strings.CutPrefix(parts[5], prefix); ok {
			return rest
		}
	}
	return arn
}

// Package query reads CloudTrail with AWS's own engines (Athena over the
// trail bucket, CloudTrail Lake): asked only for root events and for what
// they saw of each account, and judged exactly as log files are: each
// answer row is rebuilt into the record the cloudtrail package's
// classifier reads.
package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
)

// Columns of a query's answer. Every engine's SQL names its columns so.
const (
	colKind        = "row_kind" // "event" or "coverage"
	colTime        = "event_time"
	colSource      = "event_source"
	colName        = "event_name"
	colRegion      = "aws_region"
	colIP          = "source_ip"
	colAgent       = "user_agent"
	colErrCode     = "error_code"
	colErrMessage  = "error_message"
	colRequest     = "request_parameters"
	colResponse    = "response_elements"
	colAdditional  = "additional_event_data"
	colEventID     = "event_id"
	colEventType   = "event_type"
	colRecipient   = "recipient_account_id"
	colShared      = "shared_event_id"
	colType        = "identity_type"
	colPrincipal   = "identity_principal_id"
	colARN         = "identity_arn"
	colAccount     = "identity_account_id"
	colInvokedBy   = "identity_invoked_by"
	colAccessKey   = "identity_access_key_id"
	colUserName    = "identity_user_name"
	colIssuerARN   = "identity_session_issuer_arn"
	colSourceIdent = "identity_source_identity"
	colAssumedRoot = "identity_assumed_root"
	colEvents      = "events"
	colFirst       = "first_event_time"
	colLast        = "last_event_time"
)

// eventColumns are the event row's columns in the order the SQL selects
// them; coverageColumns end every row (null in event rows).
var (
	eventColumns = []string{colTime, colSource, colName, colRegion, colIP, colAgent, colErrCode, colErrMessage,
		colRequest, colResponse, colAdditional, colEventID, colEventType, colRecipient, colShared,
		colType, colPrincipal, colARN, colAccount, colInvokedBy, colAccessKey, colUserName, colIssuerARN, colSourceIdent, colAssumedRoot}
	coverageColumns = []string{colEvents, colFirst, colLast}
)

// Window is what a query source is asked about.
type Window struct {
	// Since and Until bound the events (Until zero: now).
	Since, Until time.Time
	// Accounts narrows root events and coverage to these accounts (none:
	// every account). AssumeRoot calls are asked for in every account: the
	// call that opened a member's session is in the management account.
	Accounts []string
	// Timeout bounds the whole query (zero: DefaultTimeout).
	Timeout time.Duration
	// Now is the end of the window when Until is zero.
	Now time.Time
}

// DefaultTimeout is how long a query may run before it is stopped.
const DefaultTimeout = 10 * time.Minute

func (w Window) end() time.Time {
	if !w.Until.IsZero() {
		return w.Until.UTC()
	}
	if !w.Now.IsZero() {
		return w.Now.UTC()
	}
	return time.Now().UTC()
}

// coverageSince is where the coverage part of a query starts: a day
// before the window, so that the window's start can be shown covered.
func (w Window) coverageSince() time.Time {
	if w.Since.IsZero() {
		return w.Since
	}
	return w.Since.Add(-24 * time.Hour)
}

func (w Window) timeout() time.Duration {
	if w.Timeout > 0 {
		return w.Timeout
	}
	return DefaultTimeout
}

// row is one answer row by column name; a null column is absent.
type row map[string]string

// answer reads an answer's rows into a source's events and statistics.
type answer struct {
	source string
	stats  evidence.SourceStats
	events []evidence.Event
	// covered counts the events the coverage rows report.
	covered int
	spans   map[string]evidence.Span
}

func newAnswer(source string) *answer {
	return &answer{source: source, stats: evidence.SourceStats{Path: source}}
}

func (a *answer) problem(format string, args ...any) {
	if len(a.stats.Problems) < cloudtrail.MaxProblems {
		a.stats.Problems = append(a.stats.Problems, fmt.Sprintf(format, args...))
	}
}

// add takes one row.
func (a *answer) add(r row) {
	switch r[colKind] {
	case "event":
		a.event(r)
	case "coverage":
		a.coverage(r)
	default:
		a.stats.Skipped++
		a.problem("an answer row of kind %q: neither an event nor coverage", evidence.Bound(r[colKind]))
	}
}

// event rebuilds the record of a root event row and classifies it.
func (a *answer) event(r row) {
	var rec cloudtrail.Record
	rec.EventSource, rec.EventName, rec.AWSRegion = r[colSource], r[colName], r[colRegion]
	rec.SourceIPAddress, rec.UserAgent = r[colIP], r[colAgent]
	rec.ErrorCode, rec.ErrorMessage = r[colErrCode], r[colErrMessage]
	rec.EventID, rec.EventType, rec.RecipientAccountID, rec.SharedEventID = r[colEventID], r[colEventType], r[colRecipient], r[colShared]
	u := &rec.UserIdentity
	u.Type, u.PrincipalID, u.ARN, u.AccountID = r[colType], r[colPrincipal], r[colARN], r[colAccount]
	u.InvokedBy, u.AccessKeyID, u.UserName = r[colInvokedBy], r[colAccessKey], r[colUserName]
	if r[colIssuerARN] != "" || r[colSourceIdent] != "" || r[colAssumedRoot] != "" {
		u.SessionContext = &cloudtrail.SessionContext{SourceIdentity: r[colSourceIdent]}
		u.SessionContext.SessionIssuer.ARN = r[colIssuerARN]
		if v, ok := r[colAssumedRoot]; ok {
			u.SessionContext.AssumedRoot, _ = json.Marshal(v)
		}
	}
	if t, ok := r[colTime]; ok {
		rec.EventTime, _ = json.Marshal(t)
	}
	var bad []string
	for _, f := range []struct {
		col string
		dst *json.RawMessage
	}{{colRequest, &rec.RequestParameters}, {colResponse, &rec.ResponseElements}, {colAdditional, &rec.AdditionalEventData}} {
		v, ok := r[f.col]
		if !ok || v == "" {
			continue
		}
		if !json.Valid([]byte(v)) {
			bad = append(bad, f.col)
			continue
		}
		*f.dst = json.RawMessage(v)
	}
	if len(bad) > 0 {
		a.stats.Undecodable++
		a.problem("event %s: %s not JSON", evidence.Bound(rec.EventID), strings.Join(bad, ", "))
	}
	if !rec.LooksLikeEvent() {
		a.stats.Skipped++
		a.problem("an event row without event source and name")
		return
	}
	ev, ok := cloudtrail.Classify(&rec, a.source)
	if !ok {
		return // e.g. an AssumeRoot call that failed to parse as one: counted in coverage
	}
	a.stats.RootEvents++
	a.events = append(a.events, ev)
}

// coverage takes one account's count and first and last event times.
func (a *answer) coverage(r row) {
	account := r[colRecipient]
	if account == "" {
		account = cloudtrail.UnknownAccount
	}
	n, err := strconv.Atoi(r[colEvents])
	if err != nil || n < 0 {
		a.stats.Undecodable++
		a.problem("coverage of account %s: event count %q is not a number", evidence.Bound(account), evidence.Bound(r[colEvents]))
		return
	}
	if a.stats.Accounts == nil {
		a.stats.Accounts = map[string]int{}
	}
	a.stats.Accounts[account] += n
	a.covered += n
	from, err1 := parseQueryTime(r[colFirst])
	to, err2 := parseQueryTime(r[colLast])
	if err1 != nil || err2 != nil {
		a.problem("coverage of account %s: first or last event time unreadable (%q, %q): the period it shows is unknown",
			evidence.Bound(account), evidence.Bound(r[colFirst]), evidence.Bound(r[colLast]))
		return
	}
	if a.spans == nil {
		a.spans = map[string]evidence.Span{}
	}
	s := a.spans[account]
	s.Merge(evidence.Span{From: from, To: to})
	a.spans[account] = s
}

// parseQueryTime reads an event time as the engines return it: CloudTrail's
// text (Athena's string column) or a timestamp (Lake: 2026-03-01 12:00:00.000).
func parseQueryTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999 MST"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}

// finish returns the events and statistics; err, when set, is why the
// answer is incomplete.
func (a *answer) finish(w Window, err error) ([]evidence.Event, evidence.SourceStats) {
	a.stats.Events = max(a.covered, a.stats.RootEvents)
	if len(a.spans) > 0 {
		a.stats.Coverage = a.spans
	}
	if err != nil {
		a.stats.Error = err.Error()
		return a.events, a.stats
	}
	a.stats.Period = &evidence.Span{From: w.Since.UTC(), To: w.end()}
	return a.events, a.stats
}

// pollDelay is the wait before the n-th status check of a running query:
// quick at first (most root queries are short), then backing off to at
// most five seconds.
func pollDelay(n int) time.Duration {
	d := 200 * time.Millisecond
	for range n {
		d = d * 3 / 2
		if d >= 5*time.Second {
			return 5 * time.Second
		}
	}
	return d
}

// stopLeftRunning stops a query left running (timed out, interrupted, or
// no longer answering: cause) with stop, on a context of its own since the
// query's may be over, and says why the query was left and whether
// stopping it worked. what names the query ("athena query ID"); stopping
// and stopped are the engine's words for it.
func stopLeftRunning(what, stopping, stopped string, timeout time.Duration, cause error, stop func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopErr := stop(ctx)
	var why string
	switch {
	case errors.Is(cause, context.DeadlineExceeded):
		why = fmt.Sprintf("did not finish within %s (--query-timeout)", timeout)
	case errors.Is(cause, context.Canceled):
		why = "was interrupted"
	default:
		why = "could not be followed: " + awsx.Message(cause)
	}
	if stopErr != nil {
		return fmt.Errorf("%s %s; %s it failed too: %s", what, why, stopping, awsx.Message(stopErr))
	}
	return fmt.Errorf("%s %s; it was %s", what, why, stopped)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

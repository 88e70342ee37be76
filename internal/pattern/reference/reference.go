// Package reference holds the CloudTrail events that monitoring patterns
// are judged against: what a root alarm must catch (root console sign-ins,
// successful and failed, and root API calls with access keys), what it may
// catch (root calls through the console, AWS-service events on root's
// behalf, calls an AWS service made as root) and what it must not catch
// (IAM users' calls and sign-ins). The records are written for this project
// from the documented CloudTrail format; a test checks each against the
// real published examples it stands for.
package reference

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed events/*.json
var files embed.FS

// Kind says what a monitoring pattern should do with an event.
type Kind string

const (
	// MustMatch: human root activity every root alarm must raise on.
	MustMatch Kind = "must-match"
	// MayMatch: root activity a CIS filter leaves out on purpose (the
	// sign-in that opened a console session is caught instead).
	MayMatch Kind = "may-match"
	// Noise: events on root's behalf that no person did; matching them is
	// noisy, not wrong.
	Noise Kind = "noise"
	// MustNotMatch: IAM users; a pattern matching them is not a root alarm.
	MustNotMatch Kind = "must-not-match"
)

// Event is one reference event.
type Event struct {
	Name string // "root console sign-in (success)"
	File string // its file under events/
	Kind Kind
	// SignIn events arrive on EventBridge as "AWS Console Sign In via
	// CloudTrail" in us-east-1 only; the others wherever the call is made.
	SignIn bool
	record []byte
}

var catalog = []struct {
	file, name string
	kind       Kind
	signIn     bool
}{
	{"root-console-signin-success.json", "root console sign-in (success)", MustMatch, true},
	{"root-console-signin-failure.json", "root console sign-in (failure)", MustMatch, true},
	{"root-api-call-with-keys.json", "root API call with access keys", MustMatch, false},
	{"root-api-call-via-console.json", "root API call through the console (invokedBy signin.amazonaws.com)", MayMatch, false},
	{"service-event-as-root.json", "AWS-service event on root's behalf (eventType AwsServiceEvent)", Noise, false},
	{"root-invoked-by-service.json", "call an AWS service made as root (invokedBy a service)", Noise, false},
	{"iam-user-api-call.json", "IAM user API call", MustNotMatch, false},
	{"iam-user-console-signin.json", "IAM user console sign-in", MustNotMatch, true},
}

// Events returns every reference event, in a fixed order.
func Events() []Event {
	out := make([]Event, 0, len(catalog))
	for _, c := range catalog {
		b, err := files.ReadFile("events/" + c.file)
		if err != nil {
			// The files are embedded at build time; a missing one is a
			// build defect the package test catches.
			panic(fmt.Sprintf("reference event %s: %v", c.file, err))
		}
		out = append(out, Event{Name: c.name, File: c.file, Kind: c.kind, SignIn: c.signIn, record: b})
	}
	return out
}

// Of returns the events of one kind.
func Of(k Kind) []Event {
	var out []Event
	for _, e := range Events() {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// Record returns the CloudTrail record as it reaches a CloudWatch Logs log
// group, in region (a sign-in stays in us-east-1, where it is recorded).
func (e Event) Record(region string) []byte {
	if e.SignIn || region == "" {
		return bytes.Clone(e.record)
	}
	var m map[string]any
	if err := json.Unmarshal(e.record, &m); err != nil {
		panic(fmt.Sprintf("reference event %s: %v", e.File, err))
	}
	m["awsRegion"] = region
	b, _ := json.Marshal(m)
	return b
}

// Region is where the event is delivered to EventBridge when made in region.
func (e Event) Region(region string) string {
	if e.SignIn {
		return "us-east-1"
	}
	return region
}

// EventBridge returns the event as the default bus of region receives it:
// the envelope with the record under detail.
func (e Event) EventBridge(region string) []byte {
	var rec map[string]any
	if err := json.Unmarshal(e.Record(region), &rec); err != nil {
		panic(fmt.Sprintf("reference event %s: %v", e.File, err))
	}
	detailType, source := "AWS API Call via CloudTrail", "aws."+strings.TrimSuffix(fmt.Sprint(rec["eventSource"]), ".amazonaws.com")
	if e.SignIn {
		detailType, source = "AWS Console Sign In via CloudTrail", "aws.signin"
	}
	account := ""
	if ui, ok := rec["userIdentity"].(map[string]any); ok {
		account, _ = ui["accountId"].(string)
	}
	env := map[string]any{
		"version": "0", "id": "reference-" + e.File, "detail-type": detailType, "source": source,
		"account": account, "time": rec["eventTime"], "region": e.Region(region), "resources": []any{}, "detail": rec,
	}
	b, _ := json.Marshal(env)
	return b
}

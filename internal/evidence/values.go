package evidence

import (
	"strings"
	"time"
)

// Kind tells what a credential-report cell holds. The special values are kept
// distinct because they mean different things: N/A (no such credential),
// no_information (never used, or not since tracking began), not_supported
// (the field does not exist for this user, e.g. root password rotation).
type Kind uint8

const (
	KindMissing       Kind = iota // the column is absent from the report
	KindTime                      // a parsed timestamp
	KindBool                      // a parsed boolean
	KindNotApplicable             // N/A
	KindNoInformation             // no_information
	KindNotSupported              // not_supported
	KindInvalid                   // anything else; Raw holds the text
)

func (k Kind) String() string {
	switch k {
	case KindMissing:
		return "missing"
	case KindTime:
		return "time"
	case KindBool:
		return "bool"
	case KindNotApplicable:
		return "N/A"
	case KindNoInformation:
		return "no_information"
	case KindNotSupported:
		return "not_supported"
	case KindInvalid:
		return "invalid"
	}
	return "unknown"
}

// TimeValue is a time column's cell.
type TimeValue struct {
	Kind Kind
	Time time.Time
	Raw  string
}

// BoolValue is a boolean column's cell.
type BoolValue struct {
	Kind  Kind
	Value bool
	Raw   string
}

// IsTrue reports whether the cell holds a parsed true.
func (b BoolValue) IsTrue() bool { return b.Kind == KindBool && b.Value }

// IsFalse reports whether the cell holds a parsed false.
func (b BoolValue) IsFalse() bool { return b.Kind == KindBool && !b.Value }

func special(raw string) (Kind, bool) {
	switch raw {
	case "N/A":
		return KindNotApplicable, true
	case "no_information":
		return KindNoInformation, true
	case "not_supported":
		return KindNotSupported, true
	}
	return 0, false
}

// AWSEpoch is when AWS began (S3, March 2006): no credential report can
// hold an earlier time, so one is invalid, not very old.
var AWSEpoch = time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseTime reads a credential-report time cell: an RFC 3339 time (AWS
// writes +00:00; Z is accepted too) or one of the special values.
func ParseTime(raw string) TimeValue {
	s := strings.TrimSpace(raw)
	if k, ok := special(s); ok {
		return TimeValue{Kind: k, Raw: raw}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Before(AWSEpoch) {
		return TimeValue{Kind: KindInvalid, Raw: raw}
	}
	return TimeValue{Kind: KindTime, Time: t.UTC(), Raw: raw}
}

// ParseBool reads a credential-report boolean cell in any case.
func ParseBool(raw string) BoolValue {
	s := strings.TrimSpace(raw)
	if k, ok := special(s); ok {
		return BoolValue{Kind: k, Raw: raw}
	}
	switch strings.ToLower(s) {
	case "true":
		return BoolValue{Kind: KindBool, Value: true, Raw: raw}
	case "false":
		return BoolValue{Kind: KindBool, Value: false, Raw: raw}
	}
	return BoolValue{Kind: KindInvalid, Raw: raw}
}

package evidence

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Categories of root activity (docs/DESIGN.md, "Root activity in CloudTrail").
const (
	CategoryConsoleLogin = "console_login" // a root console sign-in, with result and MFA
	CategorySignin       = "signin"        // another root sign-in event: password change, recovery…
	CategoryAPICall      = "api_call"      // a root API call made by a person (console included)
	CategoryService      = "service"       // made by an AWS service on root's behalf: listed, not counted
	CategoryAssumeRoot   = "assume_root"   // a centralized-root-access privileged task, by a named caller
	// The steps of a root takeover (could anyone become root, and did
	// they?): each is a category of its own, never plain root activity.
	CategoryLoginProfile     = "login_profile"     // iam:CreateLoginProfile made by root: a root password created (an AssumeRoot session's)
	CategoryPasswordRecovery = "password_recovery" // signin PasswordRecoveryRequested, PasswordRecoveryCompleted, PasswordUpdated
	CategoryEmailChange      = "email_change"      // the root e-mail changed: account Start/AcceptPrimaryEmailUpdate, signin EmailUpdated
)

// Categories lists every category of root activity.
func Categories() []string {
	return []string{CategoryConsoleLogin, CategorySignin, CategoryAPICall, CategoryService, CategoryAssumeRoot,
		CategoryLoginProfile, CategoryPasswordRecovery, CategoryEmailChange}
}

// Task policy names of sts:AssumeRoot (arn:PARTITION:iam::aws:policy/root-task/NAME).
const (
	TaskAuditRootUserCredentials  = "IAMAuditRootUserCredentials"
	TaskCreateRootUserPassword    = "IAMCreateRootUserPassword"
	TaskDeleteRootUserCredentials = "IAMDeleteRootUserCredentials"
	TaskS3UnlockBucketPolicy      = "S3UnlockBucketPolicy"
	TaskSQSUnlockQueuePolicy      = "SQSUnlockQueuePolicy"
)

// TaskName is the name of a task policy ARN (its last path element), or
// the text as given when it is not an ARN.
func TaskName(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}

// Event is one classified root event, as the CloudTrail readers produce it
// and the rules judge it.
type Event struct {
	EventID   string `json:"event_id"`
	EventTime string `json:"event_time"`
	// AccountID is whose root acted: userIdentity.accountId, or the
	// account of the root ARN (arn:PARTITION:iam::ACCOUNT:root) when the
	// record has no accountId. For an event that is not root's (an
	// sts:AssumeRoot call) it is the account whose trail logged it.
	AccountID string `json:"account_id"`
	// Recipient is recipientAccountId: the account whose trail logged the
	// event. It differs from AccountID when a root acted on a resource of
	// another account (that account's trail logs a copy too).
	Recipient string `json:"recipient_account_id,omitempty"`
	// SharedEventID is CloudTrail's sharedEventID: the copies of one call
	// delivered to several accounts (the caller's and the resource
	// owner's) share it, each with its own eventID and recipient.
	SharedEventID string `json:"shared_event_id,omitempty"`
	// LoggedIn lists, when the same call was read from several accounts'
	// trails (copies with one sharedEventID), every recipient account: the
	// copies are one root action, kept once.
	LoggedIn []string `json:"logged_in,omitempty"`
	// OtherAccount is a second account the record names as the root's (the
	// root ARN's, when it disagrees with userIdentity.accountId): such an
	// event is unverified, and concerns both accounts.
	OtherAccount string `json:"other_account_id,omitempty"`
	// Attribution says why AccountID is not simply userIdentity.accountId
	// (read from the ARN, the two disagree, neither is there).
	Attribution string `json:"attribution,omitempty"`
	Region      string `json:"region"`
	EventSource string `json:"event_source"`
	EventName   string `json:"event_name"`
	Category    string `json:"category"`
	Result      string `json:"result"` // success, failure, or "" when the event has none
	MFA         string `json:"mfa"`    // yes, no, unknown; "" outside console sign-ins
	SourceIP    string `json:"source_ip"`
	UserAgent   string `json:"user_agent"`
	Source      string `json:"source"`

	// TimeProblem is "missing" or "invalid" when EventTime cannot be placed
	// on the timeline; the raw text is kept in EventTime.
	TimeProblem  string `json:"time_problem,omitempty"`
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	InvokedBy    string `json:"invoked_by,omitempty"`
	// Caller, Target and TaskPolicy describe AssumeRoot sessions.
	Caller     string `json:"caller,omitempty"`
	Target     string `json:"target,omitempty"`
	TaskPolicy string `json:"task_policy,omitempty"`
	// AccessKeyID is the key the request was signed with
	// (userIdentity.accessKeyId): ASIA… for temporary credentials. On an
	// AssumeRoot call, SessionKeyID is the key of the session it opened
	// (responseElements.credentials.accessKeyId): the member account logs
	// the session's actions as Root with that key.
	AccessKeyID  string `json:"access_key_id,omitempty"`
	SessionKeyID string `json:"session_key_id,omitempty"`
	// Note qualifies the classification, e.g. a root event signed with
	// temporary credentials whose AssumeRoot call is not in the evidence.
	Note string `json:"note,omitempty"`
	// Unverified marks a record whose userIdentity.type is "root" in
	// another casing than AWS writes ("Root"): listed, but not taken as
	// root's nor as not root's.
	Unverified bool `json:"unverified,omitempty"`

	Time time.Time `json:"-"`
	// Digest identifies the record the event was classified from: a hash
	// of its JSON in canonical form (keys sorted, spacing dropped). Two
	// events are one only when their digests agree.
	Digest string `json:"-"`
}

// Concerns reports whether the event may be account's root activity: its
// AccountID, or the other account an unverified record names; or whether
// it acts on account's root from elsewhere (TargetAccount: an AssumeRoot
// call or a primary e-mail change made in the management account).
func (e *Event) Concerns(account string) bool {
	return e.AccountID == account || (e.OtherAccount != "" && e.OtherAccount == account) ||
		(account != "" && e.TargetAccount() == account)
}

// TargetAccount is the account whose root an event made elsewhere acts
// on: the member an sts:AssumeRoot call opened a session in
// (targetPrincipal, an account ID or a root ARN), or whose primary e-mail
// an account:Start/AcceptPrimaryEmailUpdate call changes (accountId). It
// is "" for every other event, and for a target that names no account.
func (e *Event) TargetAccount() string {
	if e.Target == "" || e.Target == e.AccountID {
		return ""
	}
	if ValidAccountID(e.Target) {
		return e.Target
	}
	if m := rootARNRE.FindStringSubmatch(e.Target); m != nil {
		return m[1]
	}
	return ""
}

var rootARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):root$`)

// Privileged reports whether the event is an sts:AssumeRoot call whose
// task can change the member (every task but the read-only
// IAMAuditRootUserCredentials, which rootwatch's own organization scans
// open in every member). A call whose task is not known counts as
// privileged.
func (e *Event) Privileged() bool {
	return e.Category == CategoryAssumeRoot && e.EventName == "AssumeRoot" && TaskName(e.TaskPolicy) != TaskAuditRootUserCredentials
}

// OnResourceOf is the account on whose resource the root acted, when it
// is not the root's own: the recipient of a copy logged in another
// account's trail ("" otherwise).
func (e *Event) OnResourceOf() string {
	if e.Recipient != "" && e.Recipient != e.AccountID {
		return e.Recipient
	}
	for _, r := range e.LoggedIn {
		if r != e.AccountID {
			return r
		}
	}
	return ""
}

// Place says where a root's cross-account call was logged, for people:
// "on a resource of 222233334444 (logged in 222233334444's trail)", or
// with both trails when copies were read from each; "" for a call logged
// only in the root's own account.
func (e *Event) Place() string {
	owner := e.OnResourceOf()
	if owner == "" {
		return ""
	}
	trails := e.LoggedIn
	if len(trails) == 0 {
		trails = []string{e.Recipient}
	}
	if len(trails) == 1 {
		return fmt.Sprintf("on a resource of %s (logged in %s's trail)", owner, trails[0])
	}
	return fmt.Sprintf("on a resource of %s (logged in the trails of %s)", owner, strings.Join(trails, " and "))
}

// HasTime reports whether the event can be placed on the timeline.
func (e *Event) HasTime() bool { return e.TimeProblem == "" }

// RestoreTime sets Time from EventTime for an event read back from JSON
// (Time itself is not serialized). An event with a TimeProblem keeps a zero
// Time; an event without one must carry an RFC 3339 EventTime.
func (e *Event) RestoreTime() error {
	e.Time = time.Time{}
	if e.TimeProblem != "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, e.EventTime)
	if err != nil {
		return fmt.Errorf("event %s: event_time %q is not an RFC 3339 time", e.EventID, e.EventTime)
	}
	e.Time = t.UTC()
	return nil
}

// SortNewestFirst orders a timeline: newest first, events without a usable
// time last, ties broken by event ID and source for stable output.
func SortNewestFirst(evs []Event) {
	slices.SortStableFunc(evs, func(a, b Event) int {
		if a.HasTime() != b.HasTime() {
			if a.HasTime() {
				return -1
			}
			return 1
		}
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.EventID, b.EventID), cmp.Compare(a.Source, b.Source))
	})
}

// SourceStats is what one source (a file, an S3 object, a LookupEvents
// query) yielded. Nothing read is dropped without being counted here.
type SourceStats struct {
	Path       string `json:"path"`
	Events     int    `json:"events"`
	RootEvents int    `json:"root_events"`
	// Skipped counts JSON values that are not CloudTrail events.
	Skipped int `json:"skipped,omitempty"`
	// NotRead says why a path was passed over without being read (a
	// symbolic link loop, a second link to a directory being read, not a
	// regular file).
	NotRead string `json:"not_read,omitempty"`
	// Undecodable counts values that may be root activity but could not be
	// decoded (a malformed record, a CloudTrailEvent string that is not JSON).
	Undecodable int    `json:"undecodable,omitempty"`
	Error       string `json:"error"`
	// Accounts counts the events read per recipient account, so that a
	// scan can tell "no root activity" from "no evidence about this account".
	Accounts map[string]int `json:"accounts,omitempty"`
	// Problems details Skipped and Undecodable (the first few).
	Problems []string `json:"problems,omitempty"`
	// Coverage is, per recipient account, the earliest and latest event
	// time of every record read (root's or not): what the source shows of
	// the account's timeline.
	Coverage map[string]Span `json:"coverage,omitempty"`
	// Period is the span a query covered (LookupEvents), known whether or
	// not it returned events: an empty answer to a query says something;
	// an empty file says nothing.
	Period *Span `json:"period,omitempty"`
	// Query is the query an engine ran for this source (Athena, CloudTrail
	// Lake): what it asked and what it cost.
	Query *QueryInfo `json:"query,omitempty"`
}

// QueryInfo is one query run by Athena or CloudTrail Lake.
type QueryInfo struct {
	Engine string `json:"engine"`
	// ID is the engine's query (execution) ID, to find it in its console.
	ID           string   `json:"id,omitempty"`
	Statement    string   `json:"statement"`
	Parameters   []string `json:"parameters,omitempty"`
	BytesScanned int64    `json:"bytes_scanned"`
	// Notes say what the query could not narrow (e.g. a table without a
	// date partition is read in full).
	Notes []string `json:"notes,omitempty"`
}

// Span is a period [From, To].
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Add widens the span to hold t.
func (s *Span) Add(t time.Time) {
	if s.From.IsZero() || t.Before(s.From) {
		s.From = t
	}
	if s.To.IsZero() || t.After(s.To) {
		s.To = t
	}
}

// Merge widens the span to hold o.
func (s *Span) Merge(o Span) {
	if !o.From.IsZero() {
		s.Add(o.From)
	}
	if !o.To.IsZero() {
		s.Add(o.To)
	}
}

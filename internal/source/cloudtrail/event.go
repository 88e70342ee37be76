// Package cloudtrail reads CloudTrail data in every shape it comes in (log
// files, S3, LookupEvents) and classifies root activity. Reading is
// streaming and parallel; a cheap pre-filter keeps records that cannot be
// root's from being fully decoded.
package cloudtrail

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// Record is the part of a CloudTrail record the classifier reads (query
// engines rebuild it from their answers' columns).
type Record struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
		ARN         string `json:"arn"`
		AccountID   string `json:"accountId"`
		InvokedBy   string `json:"invokedBy"`
		UserName    string `json:"userName"`
		AccessKeyID string `json:"accessKeyId"`

		SessionContext *SessionContext `json:"sessionContext"`
	} `json:"userIdentity"`
	EventTime           json.RawMessage `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode"`
	ErrorMessage        string          `json:"errorMessage"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	EventID             string          `json:"eventID"`
	EventType           string          `json:"eventType"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	SharedEventID       string          `json:"sharedEventID"`
}

// SessionContext is the part of userIdentity.sessionContext the
// classifier reads.
type SessionContext struct {
	SourceIdentity string          `json:"sourceIdentity"`
	AssumedRoot    json.RawMessage `json:"assumedRoot"`
	SessionIssuer  struct {
		ARN string `json:"arn"`
	} `json:"sessionIssuer"`
}

// LooksLikeEvent says whether a decoded record is a CloudTrail event at all.
func (r *Record) LooksLikeEvent() bool { return r.EventSource != "" && r.EventName != "" }

func stringField(raw json.RawMessage, key string) string {
	if len(raw) == 0 || raw[0] != '{' {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			var s string
			if json.Unmarshal(v, &s) == nil {
				return s
			}
			return strings.Trim(string(v), `"`)
		}
	}
	return ""
}

func truthy(raw json.RawMessage) bool {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	return strings.EqualFold(s, "true")
}

const signinSource = "signin.amazonaws.com"

// Sign-in events of a root password's recovery or change (CloudTrail User
// Guide, "AWS Management Console sign-in events"): the "Forgot password?"
// flow, which only the root user has, and a signed-in password change.
var recoveryEvents = map[string]bool{"PasswordRecoveryRequested": true, "PasswordRecoveryCompleted": true, "PasswordUpdated": true}

// emailChange reports whether an event changes a root user's e-mail
// address: account:StartPrimaryEmailUpdate and AcceptPrimaryEmailUpdate
// (made in the management or delegated administrator account, naming the
// member in requestParameters.accountId), or signin EmailUpdated (the root
// user changing its own address in the console).
func emailChange(src, name string) bool {
	return src == "account.amazonaws.com" && (name == "StartPrimaryEmailUpdate" || name == "AcceptPrimaryEmailUpdate") ||
		src == signinSource && name == "EmailUpdated"
}

// classify turns a record into a root event, or reports that it is not
// root activity. The rules are docs/DESIGN.md's ("Root activity in CloudTrail"):
//   - root sessions opened by sts:AssumeRoot, and the AssumeRoot call itself,
//     are privileged tasks by a named caller (assume_root), never sign-ins;
//   - a primary e-mail change is email_change, whoever made it (the
//     management account's principals change members' addresses);
//   - root's iam:CreateLoginProfile for itself (no userName) creates a root
//     password: login_profile, whether or not its session is known;
//   - root events from signin.amazonaws.com are console_login (ConsoleLogin),
//     password_recovery (PasswordRecoveryRequested, PasswordRecoveryCompleted,
//     PasswordUpdated), email_change (EmailUpdated) or signin (everything else);
//   - root events made by an AWS service (eventType AwsServiceEvent, or
//     invokedBy another AWS service) are service;
//   - every other root event is an api_call, including console calls
//     (invokedBy signin.amazonaws.com).
func classify(r *Record, source string) (evidence.Event, bool) {
	ev := evidence.Event{
		EventID: r.EventID, AccountID: r.RecipientAccountID, Recipient: r.RecipientAccountID, SharedEventID: r.SharedEventID,
		Region: r.AWSRegion, EventSource: r.EventSource, EventName: r.EventName, SourceIP: r.SourceIPAddress,
		UserAgent: r.UserAgent, Source: source, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
		InvokedBy: r.UserIdentity.InvokedBy, AccessKeyID: r.UserIdentity.AccessKeyID,
	}
	if ev.AccountID == "" {
		ev.AccountID = r.UserIdentity.AccountID
	}
	// AWS writes "Root". Another casing is no record AWS wrote as it
	// documents: it is listed as unverified, so that it can neither count
	// as root activity nor hide some.
	isRoot := strings.EqualFold(r.UserIdentity.Type, "Root")
	if isRoot && r.UserIdentity.Type != "Root" {
		ev.Unverified = true
		ev.Note = fmt.Sprintf("userIdentity.type is %q, not \"Root\" as AWS writes it: not verified as root activity", evidence.Bound(r.UserIdentity.Type))
	}
	if isRoot {
		attribute(&ev, r)
	}
	for _, s := range []*string{&ev.EventID, &ev.AccountID, &ev.Recipient, &ev.SharedEventID, &ev.OtherAccount, &ev.Region, &ev.EventSource,
		&ev.EventName, &ev.SourceIP, &ev.UserAgent, &ev.ErrorCode, &ev.ErrorMessage, &ev.InvokedBy, &ev.AccessKeyID} {
		*s = evidence.Bound(*s)
	}
	setTime(&ev, r.EventTime)
	src := strings.ToLower(r.EventSource)
	session := r.UserIdentity.SessionContext != nil && truthy(r.UserIdentity.SessionContext.AssumedRoot)
	switch {
	case !isRoot && r.EventName == "AssumeRoot" && strings.HasPrefix(src, "sts."):
		ev.Category = evidence.CategoryAssumeRoot
		ev.Caller = evidence.Bound(r.UserIdentity.ARN)
		ev.Target = evidence.Bound(stringField(r.RequestParameters, "targetPrincipal"))
		var tp struct {
			TaskPolicyArn struct {
				Arn string `json:"arn"`
			} `json:"taskPolicyArn"`
		}
		if json.Unmarshal(r.RequestParameters, &tp) == nil {
			ev.TaskPolicy = evidence.Bound(tp.TaskPolicyArn.Arn)
		}
		var out struct {
			Credentials struct {
				AccessKeyID string `json:"accessKeyId"`
			} `json:"credentials"`
		}
		if json.Unmarshal(r.ResponseElements, &out) == nil {
			ev.SessionKeyID = evidence.Bound(out.Credentials.AccessKeyID)
		}
		ev.Result = resultOf(r, "")
		return ev, true
	case emailChange(src, r.EventName):
		ev.Category = evidence.CategoryEmailChange
		ev.Caller = evidence.Bound(r.UserIdentity.ARN)
		if src == signinSource {
			// The root user changing its own address.
			ev.Result = resultOf(r, r.EventName)
			return ev, true
		}
		ev.Target = evidence.Bound(stringField(r.RequestParameters, "accountId"))
		ev.Result = resultOf(r, "")
		return ev, true
	case !isRoot:
		return evidence.Event{}, false
	case src == "iam.amazonaws.com" && r.EventName == "CreateLoginProfile" && stringField(r.RequestParameters, "userName") == "":
		ev.Category = evidence.CategoryLoginProfile
		if session {
			ev.Caller = sessionCaller(r)
		}
		ev.Result = resultOf(r, "")
		return ev, true
	case session:
		ev.Category = evidence.CategoryAssumeRoot
		ev.Caller = sessionCaller(r)
		ev.Result = resultOf(r, "")
		return ev, true
	case src == signinSource && r.EventName == "ConsoleLogin":
		ev.Category = evidence.CategoryConsoleLogin
		ev.Result = resultOf(r, "ConsoleLogin")
		switch strings.ToLower(strings.TrimSpace(stringField(r.AdditionalEventData, "MFAUsed"))) {
		case "yes":
			ev.MFA = "yes"
		case "no":
			ev.MFA = "no"
		default:
			ev.MFA = "unknown"
		}
		return ev, true
	case src == signinSource && recoveryEvents[r.EventName]:
		ev.Category = evidence.CategoryPasswordRecovery
		ev.Result = resultOf(r, r.EventName)
		return ev, true
	case src == signinSource:
		ev.Category = evidence.CategorySignin
		ev.Result = resultOf(r, r.EventName)
		return ev, true
	case strings.EqualFold(r.EventType, "AwsServiceEvent"):
		ev.Category = evidence.CategoryService
	case ev.InvokedBy != "" && !strings.EqualFold(ev.InvokedBy, signinSource):
		ev.Category = evidence.CategoryService
	default:
		ev.Category = evidence.CategoryAPICall
	}
	ev.Result = resultOf(r, "")
	return ev, true
}

// Classify judges a record rebuilt from a query's answer exactly as one
// read from a log file: the root event it is, with the digest of its
// canonical JSON, or false.
func Classify(r *Record, source string) (evidence.Event, bool) {
	ev, ok := classify(r, source)
	if !ok {
		return ev, false
	}
	canonical, _ := json.Marshal(r)
	ev.Digest = recordDigest(canonical)
	return ev, true
}

// sessionCaller names who opened a root session whose records carry
// sessionContext.assumedRoot: its source identity, else its issuer.
func sessionCaller(r *Record) string {
	if c := evidence.Bound(r.UserIdentity.SessionContext.SourceIdentity); c != "" {
		return c
	}
	return evidence.Bound(r.UserIdentity.SessionContext.SessionIssuer.ARN)
}

// rootARN is the ARN of an account's root user in any partition.
var rootARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):root$`)

// attribute files a root event under the account whose root acted: its
// userIdentity.accountId, or the account of its root ARN when the record
// has no accountId. The recipient (whose trail logged it) may be another
// account: a root acting on a resource of that account. A record whose
// accountId and ARN name different accounts, or that names none, is no
// record AWS writes: it is listed as unverified (neither counted nor
// ruled out) under the accountId, with the ARN's account as a second
// account it concerns, or under the recipient when it names none.
func attribute(ev *evidence.Event, r *Record) {
	id := r.UserIdentity.AccountID
	fromARN := ""
	if m := rootARN.FindStringSubmatch(r.UserIdentity.ARN); m != nil {
		fromARN = m[1]
	}
	unverified := func(why string) { ev.Unverified, ev.Attribution = true, why }
	switch {
	case id != "" && fromARN != "" && id != fromARN:
		ev.AccountID, ev.OtherAccount = id, fromARN
		unverified(fmt.Sprintf("userIdentity.accountId %s and the root ARN's account %s disagree: not verified as either account's root activity",
			evidence.Bound(id), fromARN))
	case id != "":
		ev.AccountID = id
	case fromARN != "":
		ev.AccountID = fromARN
		ev.Attribution = "no userIdentity.accountId: the root's account is read from its ARN"
	default:
		ev.AccountID = r.RecipientAccountID
		unverified("neither userIdentity.accountId nor a root ARN names the root's account: listed under the account whose trail logged it, not verified as its root activity")
	}
}

// resultOf reads success or failure: from responseElements[key] when the
// event has such an element (ConsoleLogin, PasswordUpdated…), else from the
// presence of an error code or message.
func resultOf(r *Record, key string) string {
	if key != "" {
		switch strings.ToLower(stringField(r.ResponseElements, key)) {
		case "success":
			return "success"
		case "failure":
			return "failure"
		}
	}
	if r.ErrorCode != "" || r.ErrorMessage != "" {
		return "failure"
	}
	if key != "" {
		return "" // a sign-in event that says neither
	}
	return "success"
}

func setTime(ev *evidence.Event, raw json.RawMessage) {
	if len(raw) == 0 || string(raw) == "null" {
		ev.TimeProblem = "missing"
		return
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		ev.EventTime = evidence.Bound(string(raw))
		ev.TimeProblem = "invalid"
		return
	}
	ev.EventTime = evidence.Bound(s)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		ev.TimeProblem = "invalid"
		return
	}
	ev.Time = t.UTC()
}

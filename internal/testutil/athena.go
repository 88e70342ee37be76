package testutil

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// CloudTrailTableColumns are the columns of the CloudTrail table the
// Athena User Guide documents ("Create the table for CloudTrail logs in
// Athena using partition projection"), as Glue stores them: name and
// type, lower case, no spaces.
var CloudTrailTableColumns = [][2]string{
	{"eventversion", "string"},
	{"useridentity", "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,username:string," +
		"onbehalfof:struct<userid:string,identitystorearn:string>," +
		"sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>," +
		"sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>," +
		"ec2roledelivery:string,webidfederationdata:struct<federatedprovider:string,attributes:map<string,string>>>>"},
	{"eventtime", "string"}, {"eventsource", "string"}, {"eventname", "string"}, {"awsregion", "string"},
	{"sourceipaddress", "string"}, {"useragent", "string"}, {"errorcode", "string"}, {"errormessage", "string"},
	{"requestparameters", "string"}, {"responseelements", "string"}, {"additionaleventdata", "string"},
	{"requestid", "string"}, {"eventid", "string"}, {"readonly", "string"},
	{"resources", "array<struct<arn:string,accountid:string,type:string>>"},
	{"eventtype", "string"}, {"apiversion", "string"}, {"recipientaccountid", "string"},
	{"serviceeventdetails", "string"}, {"sharedeventid", "string"}, {"vpcendpointid", "string"}, {"eventcategory", "string"},
	{"tlsdetails", "struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>"},
}

// AnswerPaths says, for each column of rootwatch's CloudTrail queries, the
// field of a CloudTrail record it holds. It is written from the record
// format, not from rootwatch's SQL, so that a test comparing the two finds
// a column that reads the wrong field.
var AnswerPaths = map[string]string{
	"event_time": "eventTime", "event_source": "eventSource", "event_name": "eventName", "aws_region": "awsRegion",
	"source_ip": "sourceIPAddress", "user_agent": "userAgent", "error_code": "errorCode", "error_message": "errorMessage",
	"request_parameters": "requestParameters", "response_elements": "responseElements", "additional_event_data": "additionalEventData",
	"event_id": "eventID", "event_type": "eventType", "recipient_account_id": "recipientAccountId",
	"shared_event_id": "sharedEventID",
	"identity_type":   "userIdentity.type", "identity_principal_id": "userIdentity.principalId", "identity_arn": "userIdentity.arn",
	"identity_account_id": "userIdentity.accountId", "identity_invoked_by": "userIdentity.invokedBy",
	"identity_access_key_id": "userIdentity.accessKeyId", "identity_user_name": "userIdentity.userName",
	"identity_session_issuer_arn": "userIdentity.sessionContext.sessionIssuer.arn",
	"identity_source_identity":    "userIdentity.sessionContext.sourceIdentity",
	"identity_assumed_root":       "userIdentity.sessionContext.assumedRoot",
}

// RecordField reads a dotted path of a CloudTrail record as an engine
// returns it: text for strings, numbers and booleans, JSON text for
// objects (Athena's string columns of nested JSON), absent for nulls and
// missing fields.
func RecordField(rec map[string]any, path string) (string, bool) {
	var v any = rec
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[p]; !ok {
			return "", false
		}
	}
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b), true
	default:
		b, _ := json.Marshal(x)
		return string(b), true
	}
}

// LoadRecords reads the records of a CloudTrail example in any of the
// shapes the examples come in.
func LoadRecords(t testing.TB, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]any
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = append(out, e.(map[string]any))
		}
	case map[string]any:
		if recs, ok := x["Records"].([]any); ok {
			for _, e := range recs {
				out = append(out, e.(map[string]any))
			}
		} else {
			out = append(out, x)
		}
	}
	return out
}

// AnswerRows is what an engine would answer rootwatch's query over recs
// for every account: AnswerRowsFor with no accounts.
func AnswerRows(recs []map[string]any, names []string) [][]*string {
	return AnswerRowsFor(recs, names, nil)
}

// AnswerRowsFor is what an engine would answer rootwatch's query over recs
// asked about accounts (none: every account): rows for the root events of
// those accounts' roots (userIdentity.accountId, or no accountId at all)
// and of any root logged in their trails (recipientAccountId), rows for
// every AssumeRoot call and every primary e-mail change (account
// StartPrimaryEmailUpdate, AcceptPrimaryEmailUpdate: the management
// account's principals change members' root addresses), and one coverage
// row per recipient account among
// them, in the columns of names. It is written from the query's meaning,
// not from its text.
func AnswerRowsFor(recs []map[string]any, names []string, accounts []string) [][]*string {
	asked := func(a string) bool { return len(accounts) == 0 || slices.Contains(accounts, a) }
	var rows [][]*string
	type cov struct {
		n           int
		first, last string
	}
	covs := map[string]*cov{}
	var order []string
	for _, r := range recs {
		typ, _ := RecordField(r, "userIdentity.type")
		name, _ := RecordField(r, "eventName")
		src, _ := RecordField(r, "eventSource")
		acct, _ := RecordField(r, "recipientAccountId")
		when, _ := RecordField(r, "eventTime")
		actor, _ := RecordField(r, "userIdentity.accountId")
		if asked(acct) {
			c := covs[acct]
			if c == nil {
				c = &cov{first: when, last: when}
				covs[acct] = c
				order = append(order, acct)
			}
			c.n++
			c.first, c.last = min(c.first, when), max(c.last, when)
		}
		root := strings.EqualFold(typ, "root") && (asked(acct) || asked(actor) || actor == "")
		email := src == "account.amazonaws.com" && (name == "StartPrimaryEmailUpdate" || name == "AcceptPrimaryEmailUpdate")
		if !root && !email && !(name == "AssumeRoot" && strings.HasPrefix(strings.ToLower(src), "sts.")) {
			continue
		}
		var row []*string
		for _, n := range names {
			switch n {
			case "row_kind":
				row = append(row, aws.String("event"))
			case "events", "first_event_time", "last_event_time":
				row = append(row, nil)
			default:
				if v, ok := RecordField(r, AnswerPaths[n]); ok {
					row = append(row, aws.String(v))
				} else {
					row = append(row, nil)
				}
			}
		}
		rows = append(rows, row)
	}
	for _, acct := range order {
		c := covs[acct]
		var row []*string
		for _, n := range names {
			switch n {
			case "row_kind":
				row = append(row, aws.String("coverage"))
			case "recipient_account_id":
				row = append(row, aws.String(acct))
			case "events":
				row = append(row, aws.String(strconv.Itoa(c.n)))
			case "first_event_time":
				row = append(row, aws.String(c.first))
			case "last_event_time":
				row = append(row, aws.String(c.last))
			default:
				row = append(row, nil)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// AnswerNames are the answer's columns in a shuffled order: readers must
// find them by name.
var AnswerNames = []string{"event_name", "row_kind", "event_time", "event_source", "aws_region", "source_ip", "user_agent", "error_code", "error_message",
	"request_parameters", "response_elements", "additional_event_data", "event_id", "event_type", "recipient_account_id", "shared_event_id",
	"identity_type", "identity_principal_id", "identity_arn", "identity_account_id", "identity_invoked_by", "identity_access_key_id",
	"identity_user_name", "identity_session_issuer_arn", "identity_source_identity", "identity_assumed_root", "events", "first_event_time", "last_event_time"}

package testutil

import (
	"encoding/json"
	"strings"
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
	"identity_type": "userIdentity.type", "identity_principal_id": "userIdentity.principalId", "identity_arn": "userIdentity.arn",
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

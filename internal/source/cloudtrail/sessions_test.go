package cloudtrail

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// The AssumeRoot call as the IAM User Guide publishes it ("Track privileged
// tasks in CloudTrail"), logged in the management account 111111111111.
const guideAssumeRoot = `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AIDACKCEVSQ6C2EXAMPLE:JohnRole1",
"arn":"arn:aws:sts::111111111111:assumed-role/John/JohnRole1","accountId":"111111111111","accessKeyId":"ASIAIOSFODNN7EXAMPLE",
"sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111111111111:role/John","accountId":"111111111111","userName":"Admin2"},
"webIdFederationData":{},"attributes":{"creationDate":"2024-10-25T20:45:28Z","mfaAuthenticated":"false"},"assumedRoot":"true"}},
"eventTime":"2024-10-25T20:52:11Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRoot","awsRegion":"us-west-2","sourceIPAddress":"192.0.2.1",
"requestParameters":{"targetPrincipal":"222222222222","taskPolicyArn":{"arn":"arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"}},
"responseElements":{"credentials":{"accessKeyId":"ASIAJIOSFODNN7EXAMPLE","sessionToken":"<session-token>","expiration":"Oct 25, 2024, 9:07:11 PM"}},
"requestID":"b8ab1d36-EXAMPLE","eventID":"f2a4c5b7-EXAMPLE","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111111111111"}`

// memberAction is what the member account 222222222222 logs for an action
// of a session: type Root, the root ARN, the session's key, no assumedRoot.
func memberAction(id, at, key string) string {
	return `{"eventVersion":"1.09","userIdentity":{"type":"Root","principalId":"222222222222","arn":"arn:aws:iam::222222222222:root","accountId":"222222222222","accessKeyId":"` + key + `"},
"eventTime":"` + at + `","eventSource":"s3.amazonaws.com","eventName":"DeleteBucketPolicy","awsRegion":"us-west-2","sourceIPAddress":"192.0.2.1",
"requestParameters":{"bucketName":"amzn-s3-demo-bucket","policy":""},"eventID":"` + id + `","eventType":"AwsApiCall","recipientAccountId":"222222222222"}`
}

func TestLinkRootSessions(t *testing.T) {
	records := `{"Records":[` + strings.Join([]string{
		guideAssumeRoot,
		memberAction("in-session", "2024-10-25T20:53:00Z", "ASIAJIOSFODNN7EXAMPLE"),
		memberAction("after-expiry", "2024-10-25T21:10:00Z", "ASIAJIOSFODNN7EXAMPLE"),
		memberAction("no-call", "2024-10-25T20:54:00Z", "ASIAOTHERSESSION0001"),
		memberAction("long-term-key", "2024-10-25T20:55:00Z", "AKIAIOSFODNN7EXAMPLE"),
		strings.Replace(memberAction("console", "2024-10-25T20:56:00Z", "ASIACONSOLESESSION01"), `"accessKeyId"`, `"invokedBy":"signin.amazonaws.com","accessKeyId"`, 1),
	}, ",") + `]}`
	evs, _ := Decode(bytes.NewReader([]byte(records)), "guide")
	LinkRootSessions(evs)
	got := byID(evs)
	call := got["f2a4c5b7-EXAMPLE"]
	if call.Category != evidence.CategoryAssumeRoot || call.SessionKeyID != "ASIAJIOSFODNN7EXAMPLE" || call.Target != "222222222222" {
		t.Errorf("the AssumeRoot call: %+v", call)
	}
	in := got["in-session"]
	if in.Category != evidence.CategoryAssumeRoot || in.Caller != "arn:aws:sts::111111111111:assumed-role/John/JohnRole1" ||
		in.TaskPolicy != "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy" || in.Note != "" {
		t.Errorf("an action inside the session: %+v", in)
	}
	for _, id := range []string{"after-expiry", "no-call"} {
		if e := got[id]; e.Category != evidence.CategoryAPICall || e.Note != UnmatchedSessionNote {
			t.Errorf("%s: category %s, note %q: want root activity with the note", id, e.Category, e.Note)
		}
	}
	for _, id := range []string{"long-term-key", "console"} {
		if e := got[id]; e.Category != evidence.CategoryAPICall || e.Note != "" {
			t.Errorf("%s: %+v, want root activity without a note", id, e)
		}
	}

	// Run links across sources, before an account filter; the filter
	// keeps the member's action and the management account's call about
	// the member, and drops the call about another member.
	dir := t.TempDir()
	writeFile(t, dir, "mgmt.json", `{"Records":[`+guideAssumeRoot+`,`+strings.NewReplacer(`"targetPrincipal":"222222222222"`, `"targetPrincipal":"333333333333"`,
		"f2a4c5b7-EXAMPLE", "other-member", "ASIAJIOSFODNN7EXAMPLE", "ASIAOTHERMEMBER00001").Replace(guideAssumeRoot)+`]}`)
	writeFile(t, dir, "member.json", `{"Records":[`+memberAction("in-session", "2024-10-25T20:53:00Z", "ASIAJIOSFODNN7EXAMPLE")+`]}`)
	jobs, _ := FileJobs([]string{dir})
	res := Run(t.Context(), jobs, 1, Filter{Accounts: map[string]bool{"222222222222": true}})
	got = byID(res.Events)
	call = got["f2a4c5b7-EXAMPLE"]
	if len(res.Events) != 2 || got["in-session"].Category != evidence.CategoryAssumeRoot || call.TargetAccount() != "222222222222" {
		t.Errorf("across sources with an account filter: %+v", res.Events)
	}
}

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

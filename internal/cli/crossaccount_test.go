package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/finding"
)

const (
	actorAccount = "111122223333" // whose root acts
	ownerAccount = liveAccount    // on whose resource, in whose trail
)

// TestTrailShowsTheRecipient: `trail` files a root's call on another
// account's resource under the root's account, and says where it was
// logged, in the table and the JSON.
func TestTrailShowsTheRecipient(t *testing.T) {
	rec := `{"eventVersion":"1.09","userIdentity":{"type":"Root","principalId":"` + actorAccount + `","arn":"arn:aws:iam::` + actorAccount + `:root","accountId":"` + actorAccount +
		`"},"eventTime":"2026-02-27T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.9",` +
		`"userAgent":"aws-cli/2.15.0","eventID":"e-owner","eventType":"AwsApiCall","recipientAccountId":"` + ownerAccount + `"}`
	path := filepath.Join(t.TempDir(), "owner-trail.json")
	if err := os.WriteFile(path, []byte(`{"Records":[`+rec+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	table := runCLI(t, nil, "trail", path)
	line := ""
	for _, l := range strings.Split(table.stdout, "\n") {
		if strings.Contains(l, "PutBucketPolicy") {
			line = l
		}
	}
	if !strings.Contains(line, " "+actorAccount+" ") || !strings.Contains(line, "on a resource of "+ownerAccount+" (logged in "+ownerAccount+"'s trail)") {
		t.Errorf("table row %q does not name the root's account and where it acted:\n%s", line, table.stdout)
	}
	r := runCLI(t, nil, "trail", path, "-f", "json", "--account", ownerAccount)
	_, tl := timelineFacts(t, r.stdout)
	if len(tl.Events) != 1 || tl.Events[0].AccountID != actorAccount || tl.Events[0].Recipient != ownerAccount {
		t.Errorf("--account %s (whose trail logged it): %+v", ownerAccount, tl.Events)
	}
	var raw struct{ Events []map[string]any }
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil || len(raw.Events) != 1 || raw.Events[0]["recipient_account_id"] != ownerAccount {
		t.Errorf("JSON does not carry recipient_account_id: %v\n%s", err, r.stdout)
	}
}

// TestLakeFindsRootActingElsewhere: CloudTrail Lake through the fake
// (which answers the statement rootwatch writes): asked about account A,
// the query returns A's root acting in B's trail, filed under A with B as
// the recipient; a scan of B does not charge it to B.
func TestLakeFindsRootActingElsewhere(t *testing.T) {
	world := `
accounts:
  - id: "` + ownerAccount + `"
    access_keys: [AKIALIVE000000000001]
    root: {password_last_used: -40d, mfa: hardware}
    monitoring: {preset: alarm}
    report: {existing: 1h}
    lake: {}
    trail:
      - {time: -366h, name: ListBuckets, source: s3.amazonaws.com, identity: IAMUser, user: bob}
      - {time: -2d, name: PutBucketPolicy, source: s3.amazonaws.com, actor: "` + actorAccount + `", shared_event_id: 5a3c8f2e-0000-4000-8000-00000000c0de}
      - {time: -10m, name: GetObject, source: s3.amazonaws.com, identity: IAMUser, user: alice}
`
	const store = "lake://fake-eds-" + ownerAccount
	r := runLive(t, world, "trail", store, "--since", "30d", "--account", actorAccount, "-f", "json")
	_, tl := timelineFacts(t, r.stdout)
	if len(tl.Events) != 1 || tl.Events[0].AccountID != actorAccount || tl.Events[0].Recipient != ownerAccount || tl.Events[0].EventName != "PutBucketPolicy" {
		t.Fatalf("exit %d: events %+v\n%s", r.code, tl.Events, r.stderr)
	}
	if st := tl.Sources[0]; st.Accounts[actorAccount] != 0 || !strings.Contains(st.Query.Statement, "userIdentity.accountId IN ('"+actorAccount+"')") {
		t.Errorf("source %+v", st)
	}

	scan := runLive(t, world, "scan", "-f", "json", "--cloudtrail", store)
	run := decodeRun(t, scan.stdout)
	if f := findingsByRule(run)["iam-root-api-activity"]; f.AccountID != ownerAccount || f.Status != finding.StatusPass {
		t.Errorf("the owner's api activity: %s %s (%s)", f.AccountID, f.Status, f.Message)
	}
}

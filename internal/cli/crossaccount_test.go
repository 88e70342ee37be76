package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

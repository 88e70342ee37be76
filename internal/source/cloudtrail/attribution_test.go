package cloudtrail

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

const (
	acctA = "111122223333" // whose root acts
	acctB = "444455556666" // whose bucket it acts on
)

// crossRecord is a record of account actor's root calling S3 PutBucketPolicy
// on a bucket of account owner, as CloudTrail delivers it to recipient
// (the caller's copy has recipient actor, the owner's copy owner; both
// share sharedEventID and have their own eventID). Fields of identity
// override the root's userIdentity ("" removes one).
func crossRecord(eventID, recipient, shared string, identity map[string]string) map[string]any {
	ui := map[string]any{"type": "Root", "principalId": acctA, "arn": "arn:aws:iam::" + acctA + ":root", "accountId": acctA, "accessKeyId": "AKIAROOTEXAMPLE00001"}
	for k, v := range identity {
		if v == "" {
			delete(ui, k)
		} else {
			ui[k] = v
		}
	}
	rec := map[string]any{
		"eventVersion": "1.09", "userIdentity": ui, "eventTime": "2026-02-27T10:00:00Z", "eventSource": "s3.amazonaws.com",
		"eventName": "PutBucketPolicy", "awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.9", "userAgent": "aws-cli/2.15.0",
		"requestParameters": map[string]any{"bucketName": "b-owned-bucket"}, "responseElements": nil,
		"eventID": eventID, "eventType": "AwsApiCall", "recipientAccountId": recipient, "managementEvent": true,
	}
	if shared != "" {
		rec["sharedEventID"] = shared
	}
	return rec
}

func recordsJSON(t *testing.T, recs ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRootActivityBelongsToTheRootsAccount: a root event is filed under
// the account whose root acted (userIdentity.accountId, or its root ARN's
// account), not the account whose trail logged it; the recipient is kept
// and said. A record whose accountId and ARN disagree, or that names no
// account, is unverified and never silently dropped.
func TestRootActivityBelongsToTheRootsAccount(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		identity                  map[string]string
		account, other, recipient string
		unverified                bool
		attribution, place        string
	}{
		{name: "accountId", account: acctA, recipient: acctB, place: "on a resource of " + acctB + " (logged in " + acctB + "'s trail)"},
		{name: "ARN only", identity: map[string]string{"accountId": ""}, account: acctA, recipient: acctB, attribution: "read from its ARN"},
		{name: "ARN in another partition", identity: map[string]string{"accountId": "", "arn": "arn:aws-cn:iam::" + acctA + ":root"}, account: acctA, recipient: acctB,
			attribution: "read from its ARN"},
		{name: "disagree", identity: map[string]string{"arn": "arn:aws:iam::777788889999:root"}, account: acctA, other: "777788889999", recipient: acctB,
			unverified: true, attribution: "disagree"},
		{name: "neither", identity: map[string]string{"accountId": "", "arn": ""}, account: acctB, recipient: acctB, unverified: true, attribution: "neither"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, st := decodeBytes(t, recordsJSON(t, crossRecord("e-1", acctB, "", tc.identity)))
			if st.Error != "" || len(evs) != 1 {
				t.Fatalf("%d events, stats %+v", len(evs), st)
			}
			e := evs[0]
			if e.AccountID != tc.account || e.Recipient != tc.recipient || e.OtherAccount != tc.other || e.Unverified != tc.unverified {
				t.Errorf("account %q recipient %q other %q unverified %v; want %q %q %q %v", e.AccountID, e.Recipient, e.OtherAccount, e.Unverified,
					tc.account, tc.recipient, tc.other, tc.unverified)
			}
			if !strings.Contains(e.Attribution, tc.attribution) || (tc.attribution == "") != (e.Attribution == "") {
				t.Errorf("attribution %q, want %q", e.Attribution, tc.attribution)
			}
			if tc.place != "" && e.Place() != tc.place {
				t.Errorf("place %q, want %q", e.Place(), tc.place)
			}
			// Coverage stays with the trail's own account.
			if st.Accounts[acctB] != 1 || st.Accounts[acctA] != 0 {
				t.Errorf("coverage counts %v, want the recipient's", st.Accounts)
			}
		})
	}
}

// TestCrossAccountCopiesAreOneAction: an organization trail (or A's and B's
// trails read together) holds both copies CloudTrail delivers of one
// cross-account call: one root action of A, logged in both trails, kept
// once; not two of A, and not one of B. Copies that disagree in what
// happened are both kept: two actions counted rather than one hidden.
func TestCrossAccountCopiesAreOneAction(t *testing.T) {
	const shared = "5a3c8f2e-0000-4000-8000-00000000c0de"
	dir := t.TempDir()
	// The organization trail files each account's records under its own
	// folder; the owner's copy is read first here, then the caller's.
	write := func(name string, recs ...map[string]any) {
		if err := os.WriteFile(filepath.Join(dir, name), recordsJSON(t, recs...), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a-caller.json", crossRecord("e-caller", acctA, shared, nil))
	write("b-owner.json", crossRecord("e-owner", acctB, shared, nil))
	odd := crossRecord("e-odd", acctB, "9d9d9d9d-0000-4000-8000-00000000dead", nil)
	odd["eventName"] = "DeleteBucketPolicy"
	oddCaller := crossRecord("e-odd-caller", acctA, "9d9d9d9d-0000-4000-8000-00000000dead", nil)
	write("c-odd.json", odd, oddCaller)
	jobs, bad := FileJobs([]string{dir})
	if len(bad) != 0 {
		t.Fatal(bad)
	}
	res := Run(context.Background(), jobs, 2, Filter{})
	if res.SharedCopies != 1 || res.Duplicates != 0 || len(res.Events) != 3 {
		t.Fatalf("%d events, %d copies folded, %d duplicates: %+v", len(res.Events), res.SharedCopies, res.Duplicates, res.Events)
	}
	var put []evidence.Event
	for _, e := range res.Events {
		if e.AccountID != acctA {
			t.Errorf("event %s filed under %s, want the root's account %s", e.EventID, e.AccountID, acctA)
		}
		if e.SharedEventID == shared {
			put = append(put, e)
		}
	}
	if len(put) != 1 {
		t.Fatalf("the call is %d events, want 1", len(put))
	}
	p := put[0]
	if p.EventID != "e-owner" || p.Recipient != acctB || !slices.Equal(p.LoggedIn, []string{acctA, acctB}) || p.OnResourceOf() != acctB {
		t.Errorf("kept %+v", p)
	}
	if want := "on a resource of " + acctB + " (logged in the trails of " + acctA + " and " + acctB + ")"; p.Place() != want {
		t.Errorf("place %q, want %q", p.Place(), want)
	}

	// --account B keeps what B's trail logged; another account keeps nothing.
	if got := Run(context.Background(), jobs, 2, Filter{Accounts: map[string]bool{acctB: true}}); len(got.Events) != 2 {
		t.Errorf("--account %s: %d events, want the 2 its trail logged", acctB, len(got.Events))
	}
	if got := Run(context.Background(), jobs, 2, Filter{Accounts: map[string]bool{"999999999999": true}}); len(got.Events) != 0 {
		t.Errorf("another account: %+v", got.Events)
	}
}

// TestFileJobsNamesLinkLoops: a link back to a directory being read is a
// symbolic link loop and says so (its files are read once), a second link
// to a directory already read says that, and links that point at each
// other are a loop of links, not a file that "is not CloudTrail".
func TestFileJobsNamesLinkLoops(t *testing.T) {
	root := t.TempDir()
	logs := filepath.Join(root, "logs")
	other := filepath.Join(root, "other")
	for _, d := range []string{logs, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(logs, "events.json"), []byte(`{"Records":[`+oneRoot+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		filepath.Join(logs, "loop"):  logs,
		filepath.Join(logs, "again"): other,
		filepath.Join(logs, "x"):     filepath.Join(logs, "y"),
		filepath.Join(logs, "y"):     filepath.Join(logs, "x"),
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	jobs, listed := FileJobs([]string{other, logs})
	if len(jobs) != 1 {
		t.Fatalf("%d files to read, want 1", len(jobs))
	}
	want := map[string]func(evidence.SourceStats) bool{
		"loop": func(s evidence.SourceStats) bool {
			return strings.HasPrefix(s.NotRead, "symbolic link loop") && s.Error == ""
		},
		"again": func(s evidence.SourceStats) bool { return strings.Contains(s.NotRead, "already read") },
		"x":     func(s evidence.SourceStats) bool { return strings.HasPrefix(s.Error, "symbolic link loop") },
		"y":     func(s evidence.SourceStats) bool { return strings.HasPrefix(s.Error, "symbolic link loop") },
	}
	for _, s := range listed {
		ok := want[filepath.Base(s.Path)]
		if ok == nil || !ok(s) {
			t.Errorf("%s listed as %+v", s.Path, s)
		}
		delete(want, filepath.Base(s.Path))
		if s.Skipped != 0 || strings.Contains(strings.Join(s.Problems, ""), "CloudTrail") {
			t.Errorf("%s is called a value that is not CloudTrail: %+v", s.Path, s)
		}
	}
	if len(want) > 0 {
		t.Errorf("not listed: %v", want)
	}
}

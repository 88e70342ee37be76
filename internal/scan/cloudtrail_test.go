package scan

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

const (
	rootA = "111122223333" // whose root acts
	rootB = "444455556666" // on whose bucket
)

// reportsFor writes a credential report per account (the project's
// fixture with its account replaced).
func reportsFor(t *testing.T, accounts ...string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "credential-reports", "prod-root-recent.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, a := range accounts {
		p := filepath.Join(t.TempDir(), a+".csv")
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "123456789012", a)), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// trailRecord is one record: a root's call when root is set (the root of
// account actor), an IAM user's otherwise; logged in recipient's trail.
func trailRecord(id, at, actor, recipient, shared string, root bool) map[string]any {
	ui := map[string]any{"type": "IAMUser", "accountId": recipient, "arn": "arn:aws:iam::" + recipient + ":user/bob", "userName": "bob"}
	name := "ListBuckets"
	if root {
		ui = map[string]any{"type": "Root", "principalId": actor, "accountId": actor, "arn": "arn:aws:iam::" + actor + ":root", "accessKeyId": "AKIAROOTEXAMPLE00001"}
		name = "PutBucketPolicy"
	}
	rec := map[string]any{"eventVersion": "1.09", "userIdentity": ui, "eventTime": at, "eventSource": "s3.amazonaws.com", "eventName": name,
		"awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.9", "userAgent": "aws-cli/2.15.0", "eventID": id, "eventType": "AwsApiCall",
		"recipientAccountId": recipient}
	if shared != "" {
		rec["sharedEventID"] = shared
	}
	return rec
}

func writeTrail(t *testing.T, recs ...map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"Records": recs})
	p := filepath.Join(t.TempDir(), "trail.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func statusOf(t *testing.T, run finding.Run, account, rule string) finding.Finding {
	t.Helper()
	for _, f := range run.Findings {
		if f.AccountID == account && f.RuleID == rule {
			return f
		}
	}
	t.Fatalf("no %s finding for %s", rule, account)
	return finding.Finding{}
}

// TestRootActivityIsTheRootsAccounts: A's root calling an API on B's
// resource fails iam-root-api-activity for A, not for B: in B's trail
// alone (positive evidence for A, though B's trail shows nothing else of
// A), and in an organization trail holding both copies (one action of A,
// not two). B's own coverage lets B pass.
func TestRootActivityIsTheRootsAccounts(t *testing.T) {
	at := func(d time.Duration) string { return asOf.Add(d).UTC().Format(time.RFC3339) }
	const shared = "5a3c8f2e-0000-4000-8000-00000000c0de"
	coverage := func(account string) []map[string]any {
		return []map[string]any{trailRecord(account+"-old", at(-20*24*time.Hour), "", account, "", false), trailRecord(account+"-new", at(-10*time.Minute), "", account, "", false)}
	}
	bTrail := append(coverage(rootB), trailRecord("e-owner", at(-2*time.Hour), rootA, rootB, shared, true))
	orgTrail := append(append(coverage(rootA), bTrail...), trailRecord("e-caller", at(-2*time.Hour), rootA, rootA, shared, true))
	for _, tc := range []struct {
		name        string
		trail       []map[string]any
		wantA       finding.Status
		wantMatched int
	}{
		{"B's trail", bTrail, finding.StatusFail, 1},
		{"organization trail", orgTrail, finding.StatusFail, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, err := Run(context.Background(), Options{Reports: &Reports{Paths: reportsFor(t, rootA, rootB)}, CloudTrail: []string{writeTrail(t, tc.trail...)},
				AsOf: asOf, Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			a := statusOf(t, *run, rootA, "iam-root-api-activity")
			if a.Status != tc.wantA || a.Evidence["matching_events"] != tc.wantMatched {
				t.Errorf("A: %s, %v matching (%s)", a.Status, a.Evidence["matching_events"], a.Message)
			}
			if !strings.Contains(a.Message, "on a resource of "+rootB) {
				t.Errorf("A's finding does not say where its root acted: %s", a.Message)
			}
			if b := statusOf(t, *run, rootB, "iam-root-api-activity"); b.Status != finding.StatusPass {
				t.Errorf("B: %s (%s): A's root acting on B's resource is not B's root activity", b.Status, b.Message)
			}
			var detail string
			for _, acct := range run.Accounts {
				for _, s := range acct.Sources {
					if acct.AccountID == rootB && s.Name == "cloudtrail" {
						detail = s.Detail
					}
				}
			}
			if !strings.Contains(detail, "1 root event by the root of account "+rootA+" on this account's resources") {
				t.Errorf("B's CloudTrail detail does not count A's root event in its trail: %q", detail)
			}
		})
	}
}

// TestPartialCloudTrail: a CloudTrail source read with problems is
// partial, not ok; its root events still fail a rule, and a rule it shows
// nothing for is unknown, never passed.
func TestPartialCloudTrail(t *testing.T) {
	at := func(d time.Duration) string { return asOf.Add(d).UTC().Format(time.RFC3339) }
	good := writeTrail(t, trailRecord("old", at(-20*24*time.Hour), "", rootA, "", false), trailRecord("new", at(-10*time.Minute), "", rootA, "", false),
		trailRecord("root", at(-2*time.Hour), rootA, rootA, "", true))
	damaged := filepath.Join(t.TempDir(), "damaged.json")
	if err := os.WriteFile(damaged, []byte(`{"Records":[{"eventSource":"s3.amazonaws.com","eventName":"Get`), 0o600); err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(t.TempDir(), "evidence.json")
	run, err := Run(context.Background(), Options{Reports: &Reports{Paths: reportsFor(t, rootA)}, CloudTrail: []string{good, damaged}, AsOf: asOf, Now: clock,
		SaveEvidence: saved})
	if err != nil {
		t.Fatal(err)
	}
	// The bundle keeps the partial source, and judging it again agrees.
	again, err := Run(context.Background(), Options{Bundle: saved, Now: clock})
	if err != nil {
		t.Fatalf("a bundle with a partial CloudTrail source: %v", err)
	}
	if f := statusOf(t, *again, rootA, "iam-root-api-activity"); f.Status != finding.StatusFail {
		t.Errorf("from the bundle: %s (%s)", f.Status, f.Message)
	}
	for _, s := range run.Accounts[0].Sources {
		if s.Name == "cloudtrail" && (s.State != "partial" || !strings.Contains(s.Detail, "1 source with problems")) {
			t.Errorf("cloudtrail source %+v, want partial with 1 source with problems", s)
		}
	}
	if run.Accounts[0].Status != finding.AccountPartial {
		t.Errorf("account status %s", run.Accounts[0].Status)
	}
	if f := statusOf(t, *run, rootA, "iam-root-api-activity"); f.Status != finding.StatusFail {
		t.Errorf("api activity on a partial source with a root call: %s (%s)", f.Status, f.Message)
	}
	for _, rule := range []string{"iam-root-console-login", "iam-root-failed-logins", "iam-root-login-without-mfa"} {
		if f := statusOf(t, *run, rootA, rule); f.Status != finding.StatusUnknown {
			t.Errorf("%s on a partial source: %s (%s), want unknown", rule, f.Status, f.Message)
		}
	}
}

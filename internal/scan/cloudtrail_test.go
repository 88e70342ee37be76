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
	"github.com/rootwatch/rootwatch/internal/window"
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

// cloudTrailRules are the rules judged on CloudTrail events.
var cloudTrailRules = []string{"iam-root-console-login", "iam-root-login-without-mfa", "iam-root-failed-logins", "iam-root-api-activity"}

// TestCloudTrailFilesJudged: the report says root last signed in in
// November; the files show a sign-in without MFA on 27 February, a failure,
// and a console API call. Below the failure threshold is no pass while the
// files end two days before the as-of time; over a window they cover, the
// same files support one.
func TestCloudTrailFilesJudged(t *testing.T) {
	o := Options{Reports: &Reports{Paths: []string{fixture("quiet-report-busy-trail.csv")}}, CloudTrail: []string{repoPath("testdata", "cloudtrail")}, AsOf: asOf, Now: clock}
	r := run(t, o)
	for rule, st := range map[string]finding.Status{
		"iam-root-active-password":   finding.StatusFail,
		"iam-root-console-login":     finding.StatusFail,
		"iam-root-login-without-mfa": finding.StatusFail,
		"iam-root-failed-logins":     finding.StatusUnknown,
		"iam-root-api-activity":      finding.StatusFail,
	} {
		if f := statusOf(t, *r, rootA, rule); f.Status != st {
			t.Errorf("%s = %s, want %s: %s", rule, f.Status, st, f.Message)
		}
	}
	if f := statusOf(t, *r, rootA, "iam-root-active-password"); !strings.Contains(f.Message, "The credential report alone: The root user's password was last used 2025-11-30") {
		t.Errorf("central finding does not explain itself: %s", f.Message)
	}
	o.AsOf, o.Window = time.Date(2026, 2, 27, 10, 0, 0, 0, time.UTC), window.Window(9*24*time.Hour)
	if f := statusOf(t, *run(t, o), rootA, "iam-root-failed-logins"); f.Status != finding.StatusPass {
		t.Errorf("covered window: iam-root-failed-logins = %s, want pass: %s", f.Status, f.Message)
	}
}

// TestOldCloudTrailFilesDoNotPass: files holding only 2019-2022 events say
// nothing about the last 15 days before the as-of time.
func TestOldCloudTrailFilesDoNotPass(t *testing.T) {
	var recs []map[string]any
	for _, at := range []string{"2019-03-04T05:06:07Z", "2020-07-01T00:00:00Z", "2022-12-30T23:00:00Z"} {
		rec := trailRecord(at, at, "", rootA, "", false)
		rec["eventSource"], rec["eventName"] = "ec2.amazonaws.com", "DescribeInstances"
		recs = append(recs, rec)
	}
	r := run(t, Options{Reports: &Reports{Paths: []string{fixture("quiet-report-busy-trail.csv")}, GeneratedAt: time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)},
		CloudTrail: []string{writeTrail(t, recs...)}, AsOf: asOf, Now: clock})
	for _, rule := range cloudTrailRules {
		f := statusOf(t, *r, rootA, rule)
		if f.Status != finding.StatusUnknown || !strings.Contains(f.Message, "covers 2019-03-04T05:06:07Z to 2022-12-30T23:00:00Z, which ends before the as-of time") {
			t.Errorf("%s = %s: %s", rule, f.Status, f.Message)
		}
	}
}

// TestSharedCloudTrail classifies the third-party records in
// ../shared/data as its README lists them.
func TestSharedCloudTrail(t *testing.T) {
	dir := repoPath("..", "shared", "data", "cloudtrail")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("third-party data not found at %s: %v", dir, err)
	}
	res, err := Trail(context.Background(), TrailOptions{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	cats := map[string]int{}
	for _, e := range res.Events {
		cats[e.Category+"/"+e.Result+"/"+e.MFA]++
	}
	want := map[string]int{"console_login/success/no": 2, "console_login/success/yes": 1, "console_login/failure/no": 1, "api_call/success/": 2, "password_recovery/success/": 1}
	for k, n := range want {
		if cats[k] != n {
			t.Errorf("%s: %d, want %d (all: %v)", k, cats[k], n, cats)
		}
	}
}

// TestLookupSaysItWasCapped: a Since beyond LookupEvents' 90 days is read
// from 90 days back, and Notice says so.
func TestLookupSaysItWasCapped(t *testing.T) {
	var notices []string
	o := fakeLive(t, liveWorld(t, "{existing: 1h}", "[]"))
	res, err := Trail(context.Background(), TrailOptions{Lookup: true, Since: clock().Add(-120 * 24 * time.Hour), Now: clock(), AWS: o.AWS,
		Notice: func(s string) { notices = append(notices, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || !strings.HasPrefix(notices[0], "LookupEvents keeps 90 days of events: it was read from "+clock().Add(-90*24*time.Hour).Format(time.RFC3339)) {
		t.Errorf("notices %q", notices)
	}
	if len(res.Sources) != 1 || res.Sources[0].Error != "" {
		t.Errorf("sources %+v", res.Sources)
	}
}

// TestLakeFindsRootActingElsewhere: CloudTrail Lake through the fake
// (which answers the statement rootwatch writes): asked about account A,
// the query returns A's root acting in B's trail, filed under A with B as
// the recipient; a scan of B does not charge it to B.
func TestLakeFindsRootActingElsewhere(t *testing.T) {
	const owner = liveAccount // on whose resource, in whose trail
	w := `
accounts:
  - id: "` + owner + `"
    access_keys: [AKIALIVE000000000001]
    root: {password_last_used: -40d, mfa: hardware}
    monitoring: {preset: alarm}
    report: {existing: 1h}
    lake: {}
    trail:
      - {time: -366h, name: ListBuckets, source: s3.amazonaws.com, identity: IAMUser, user: bob}
      - {time: -2d, name: PutBucketPolicy, source: s3.amazonaws.com, actor: "` + rootA + `", shared_event_id: 5a3c8f2e-0000-4000-8000-00000000c0de}
      - {time: -10m, name: GetObject, source: s3.amazonaws.com, identity: IAMUser, user: alice}
`
	const store = "lake://fake-eds-" + owner
	o := fakeLive(t, w)
	res, err := Trail(context.Background(), TrailOptions{Paths: []string{store}, Since: clock().Add(-30 * 24 * time.Hour), Accounts: []string{rootA}, Now: clock(), AWS: o.AWS})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || res.Events[0].AccountID != rootA || res.Events[0].Recipient != owner || res.Events[0].EventName != "PutBucketPolicy" {
		t.Fatalf("events %+v", res.Events)
	}
	if st := res.Sources[0]; st.Accounts[rootA] != 0 || st.Query == nil || !strings.Contains(st.Query.Statement, "userIdentity.accountId IN ('"+rootA+"')") {
		t.Errorf("source %+v", st)
	}
	o.CloudTrail = []string{store}
	if f := statusOf(t, *run(t, o), owner, "iam-root-api-activity"); f.Status != finding.StatusPass {
		t.Errorf("the owner's api activity: %s (%s)", f.Status, f.Message)
	}
}

package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	shapi "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// TestSecurityHubImportAgainstMoto imports a run into moto's Security Hub
// and reads it back: GetFindings must return exactly what was sent. The
// run is of moto's own account (123456789012): Security Hub takes an
// account's findings only from that account, and a run of other accounts
// (the demo organization) sends none and says so.
func TestSecurityHubImportAgainstMoto(t *testing.T) {
	url := testutil.StartMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	loader := func(context.Context, string, string) (aws.Config, error) { return cfg, nil }
	args := []string{"scan", "--credential-report", fixture("prod-root-recent.csv"), "--as-of", "2026-03-01T00:00:00Z", "-f", "json", "--securityhub"}

	r := runWith(t, loader, args...)
	if r.code == ExitUsage {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	run := decodeRun(t, r.stdout)
	var sent []string
	for _, f := range run.Findings {
		if f.Status != "not_applicable" {
			sent = append(sent, "rootwatch/"+f.AccountID+"/"+f.RuleID+"/"+f.Fingerprint+" "+f.Title)
		}
	}
	if want := fmt.Sprintf("imported %d of %d findings in 1 batches", len(sent), len(sent)); len(sent) == 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("stderr: %s", r.stderr)
	}

	c := shapi.NewFromConfig(cfg)
	held := func() []string {
		var got []string
		p := shapi.NewGetFindingsPaginator(c, &shapi.GetFindingsInput{MaxResults: aws.Int32(100)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range page.Findings {
				got = append(got, aws.ToString(f.Id)+" "+aws.ToString(f.Title))
				if !strings.HasPrefix(aws.ToString(f.ProductArn), "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default") {
					t.Errorf("product ARN %s", aws.ToString(f.ProductArn))
				}
			}
		}
		sort.Strings(got)
		return got
	}
	sort.Strings(sent)
	if got := held(); strings.Join(got, "\n") != strings.Join(sent, "\n") {
		t.Errorf("Security Hub holds %d findings, %d were sent\n got: %v\nsent: %v", len(got), len(sent), got, sent)
	}
	// Importing again updates the same findings (deterministic ids).
	runWith(t, loader, args...)
	if got := held(); len(got) != len(sent) {
		t.Errorf("after a second import: %d findings, want %d", len(got), len(sent))
	}
	// The demo's accounts are not moto's: nothing of theirs is sent.
	demo := runWith(t, loader, "scan", "--demo", "--as-of", "2026-03-01T00:00:00Z", "-o", os.DevNull, "--securityhub")
	if !strings.Contains(demo.stderr, "imported 0 of 0 findings") || !strings.Contains(demo.stderr, "of 5 other accounts not imported (111111111111, 222222222222, 333333333333, 444444444444, 555555555555)") {
		t.Errorf("demo import stderr: %s", demo.stderr)
	}
	if got := held(); len(got) != len(sent) {
		t.Errorf("after the demo's import: %d findings, want %d", len(got), len(sent))
	}
}

// shWorld is an organization whose member 900000000002 has a root password
// and no MFA; shWorldFixed is the same after the member's root credentials
// were removed under centralized root access (root MFA no longer applies).
const shWorld = `
accounts:
  - id: "900000000000"
    name: management
    access_keys: [AKIALIVE000000000001]
    root: {password_last_used: no_information, mfa: hardware}
    report: {existing: 1h}
    organization: {id: o-orgtest0001, management_account: "900000000000", features: [RootCredentialsManagement, RootSessions]}
  - id: "900000000002"
    name: member
    access_keys: [AKIAMEMBER0000000002]
    root: {password_last_used: -40d, mfa: none}
    report: {existing: 1h}
    organization: {id: o-orgtest0001, management_account: "900000000000"}
`

var shWorldFixed = strings.Replace(shWorld, "root: {password_last_used: -40d, mfa: none}", `root: {no_password: true, password_last_used: N/A, password_enabled: "false"}`, 1)

// TestSecurityHubClosesResolvedFindings imports two stored runs of an
// organization into the fake's Security Hub as the member account: a
// finding that failed in the first and no longer applies in the second is
// closed (Compliance PASSED, RecordState ARCHIVED), one that passes now is
// PASSED and stays ACTIVE, and the other account's findings are not sent
// (Security Hub takes them only from their own account). Without a store,
// stderr says resolved findings cannot be closed.
func TestSecurityHubClosesResolvedFindings(t *testing.T) {
	dir := t.TempDir()
	before, after := filepath.Join(dir, "before.json"), filepath.Join(dir, "after.json")
	for path, world := range map[string]string{before: shWorld, after: shWorldFixed} {
		if r := runLive(t, world, "scan", "--org", "--save-evidence", path, "-o", os.DevNull); r.code == ExitUsage {
			t.Fatalf("scan: %v\n%s", r.err, r.stderr)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hub, url, err := awsfake.Serve(ctx, []byte(shWorld), t.Name(), awsfake.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	asMember := func(context.Context, string, string) (aws.Config, error) {
		return awsfake.ClientConfig(url, "AKIAMEMBER0000000002"), nil
	}
	db := filepath.Join(dir, "rootwatch.db")
	// The second run is judged an hour later: Security Hub ignores an
	// update that is not newer than what it holds.
	first := runWith(t, asMember, "scan", "--evidence", before, "--store", db, "--securityhub", "-f", "json")
	second := runWith(t, asMember, "scan", "--evidence", after, "--as-of", "2026-03-01T13:00:00Z", "--store", db, "--securityhub", "-f", "json")
	for _, r := range []result{first, second} {
		if r.code == ExitUsage {
			t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
		}
	}
	run1, run2 := decodeRun(t, first.stdout), decodeRun(t, second.stdout)
	status := func(run finding.Run, rule string) finding.Finding {
		for _, f := range run.Findings {
			if f.AccountID == "900000000002" && f.RuleID == rule {
				return f
			}
		}
		t.Fatalf("no %s finding for the member", rule)
		return finding.Finding{}
	}
	noMFA := status(run1, "iam-root-no-mfa")
	if noMFA.Status != finding.StatusFail || status(run2, "iam-root-no-mfa").Status != finding.StatusNotApplicable {
		t.Fatalf("the worlds do not give fail then not_applicable: %s, %s", noMFA.Status, status(run2, "iam-root-no-mfa").Status)
	}
	stored := map[string]map[string]any{}
	for _, doc := range hub.SecurityHubFindings("900000000002", "us-east-1") {
		stored[doc["Id"].(string)] = doc
	}
	state := func(doc map[string]any) string {
		return fmt.Sprintf("%v %v %v %v", doc["Compliance"].(map[string]any)["Status"], doc["RecordState"], doc["Workflow"].(map[string]any)["Status"], doc["UpdatedAt"])
	}
	if doc := stored[report.ASFFID(noMFA)]; doc == nil || state(doc) != "PASSED ARCHIVED NEW 2026-03-01T13:00:00Z" ||
		!strings.HasPrefix(doc["Description"].(string), "Resolved as of 2026-03-01T13:00:00Z, now not_applicable: ") {
		t.Errorf("the resolved finding in Security Hub: %v", doc)
	}
	archived := 0
	for _, doc := range stored {
		if doc["RecordState"] == "ARCHIVED" {
			archived++
		}
	}
	if archived != 2 { // iam-root-no-mfa and iam-root-no-hardware-mfa
		t.Errorf("%d findings archived, want 2", archived)
	}
	for _, f := range run2.Findings {
		doc := stored[report.ASFFID(f)]
		switch {
		case f.AccountID != "900000000002":
			if doc != nil {
				t.Errorf("another account's finding was imported: %s", doc["Id"])
			}
		case f.Status == finding.StatusPass && (doc == nil || !strings.HasPrefix(state(doc), "PASSED ACTIVE")):
			t.Errorf("%s passes now: %v", f.RuleID, doc)
		}
	}
	for _, want := range []string{"2 resolved findings since run 1 closed (Compliance PASSED, RecordState ARCHIVED)", "of 1 other account not imported (900000000000)"} {
		if !strings.Contains(second.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, second.stderr)
		}
	}
	if !strings.Contains(first.stderr, "stored as run 1") || strings.Contains(first.stderr, "resolved finding") {
		t.Errorf("first run stderr:\n%s", first.stderr)
	}
	without := runWith(t, asMember, "scan", "--evidence", after, "--as-of", "2026-03-01T14:00:00Z", "--securityhub", "-o", os.DevNull)
	if !strings.Contains(without.stderr, "findings resolved since an earlier run cannot be closed without history") {
		t.Errorf("no word that resolved findings cannot be closed without --store:\n%s", without.stderr)
	}
}

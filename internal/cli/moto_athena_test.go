package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// motoAthena builds, in moto, the CloudTrail table Athena documents (in
// Glue, with partition projection on the delivery day) and a workgroup
// whose results go to a bucket.
func motoAthena(t *testing.T, ctx context.Context, cfg aws.Config) {
	t.Helper()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("athena-results")}))
	gc := glue.NewFromConfig(cfg)
	must(gc.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String("security")}}))
	var cols []gluetypes.Column
	for _, c := range testutil.CloudTrailTableColumns {
		cols = append(cols, gluetypes.Column{Name: aws.String(c[0]), Type: aws.String(c[1])})
	}
	must(gc.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("security"), TableInput: &gluetypes.TableInput{
		Name:              aws.String("cloudtrail_logs_pp"),
		StorageDescriptor: &gluetypes.StorageDescriptor{Columns: cols, Location: aws.String("s3://org-trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1")},
		PartitionKeys:     []gluetypes.Column{{Name: aws.String("timestamp"), Type: aws.String("string")}},
		Parameters: map[string]string{"projection.enabled": "true", "projection.timestamp.type": "date", "projection.timestamp.format": "yyyy/MM/dd",
			"projection.timestamp.range": "2015/01/01,NOW", "projection.timestamp.interval": "1", "projection.timestamp.interval.unit": "DAYS"},
	}}))
	must(athena.NewFromConfig(cfg).CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("rootwatch"),
		Configuration: &athenatypes.WorkGroupConfiguration{ResultConfiguration: &athenatypes.ResultConfiguration{OutputLocation: aws.String("s3://athena-results/rootwatch/")}}}))
}

// seedAthena queues answers in moto: each query execution takes the next.
// Each answer starts with the header row Athena writes.
func seedAthena(t *testing.T, url string, answers ...[][]*string) {
	t.Helper()
	type datum struct {
		VarCharValue *string `json:"VarCharValue,omitempty"`
	}
	type rowT struct {
		Data []datum `json:"Data"`
	}
	var info []map[string]any
	var header rowT
	for _, n := range testutil.AnswerNames {
		info = append(info, map[string]any{"Name": n, "Label": n, "Type": "varchar", "Nullable": "UNKNOWN", "CaseSensitive": true})
		header.Data = append(header.Data, datum{aws.String(n)})
	}
	var results []map[string]any
	for _, a := range answers {
		rows := []rowT{header}
		for _, r := range a {
			var d rowT
			for _, v := range r {
				d.Data = append(d.Data, datum{v})
			}
			rows = append(rows, d)
		}
		results = append(results, map[string]any{"rows": rows, "column_info": info})
	}
	body, _ := json.Marshal(map[string]any{"account_id": "123456789012", "region": "us-east-1", "results": results})
	resp, err := http.Post(url+"/moto-api/static/athena/query-results", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("seeding moto's Athena results: %s", resp.Status)
	}
}

// TestMotoAthena reads CloudTrail through Athena as moto serves it (Glue
// table, workgroup, StartQueryExecution / GetQueryExecution /
// GetQueryResults over the wire): the real CloudTrail examples as answer
// rows give the timeline their files give; a scan judges the sign-in
// rules on an Athena answer; an answer that shows nothing of the account
// leaves those rules unknown; a table missing columns is an error.
func TestMotoAthena(t *testing.T) {
	url := testutil.StartMoto(t)
	bin := testutil.BuildRootwatch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	motoAthena(t, ctx, cfg)

	shared := filepath.Join(testutil.RepoRoot(), "..", "shared", "data", "cloudtrail")
	files, _ := filepath.Glob(filepath.Join(shared, "*.json"))
	if len(files) == 0 {
		t.Skip("no CloudTrail examples in ../shared/data/cloudtrail")
	}
	files = append(files, filepath.Join(testutil.RepoRoot(), "testdata", "cloudtrail", "root-events.records.json"))
	var recs []map[string]any
	for _, f := range files {
		recs = append(recs, testutil.LoadRecords(t, f)...)
	}
	now := time.Now().UTC()
	recent := func(id, name string, mfa string) map[string]any {
		return map[string]any{"eventVersion": "1.08", "eventID": id, "eventTime": now.Add(-48 * time.Hour).Format(time.RFC3339),
			"eventSource": "signin.amazonaws.com", "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.10",
			"userIdentity":     map[string]any{"type": "Root", "principalId": "123456789012", "arn": "arn:aws:iam::123456789012:root", "accountId": "123456789012"},
			"responseElements": map[string]any{"ConsoleLogin": "Success"}, "additionalEventData": map[string]any{"MFAUsed": mfa},
			"eventType": "AwsConsoleSignIn", "recipientAccountId": "123456789012"}
	}
	signin := []map[string]any{recent("f0000000-0000-4000-8000-000000000001", "ConsoleLogin", "No"),
		{"eventVersion": "1.08", "eventID": "f0000000-0000-4000-8000-000000000002", "eventTime": now.Add(-20 * 24 * time.Hour).Format(time.RFC3339),
			"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
			"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice", "accountId": "123456789012"}},
		{"eventVersion": "1.08", "eventID": "f0000000-0000-4000-8000-000000000003", "eventTime": now.Add(-10 * time.Minute).Format(time.RFC3339),
			"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
			"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice", "accountId": "123456789012"}}}
	seedAthena(t, url,
		testutil.AnswerRows(recs, testutil.AnswerNames),
		testutil.AnswerRows(signin, testutil.AnswerNames),
		nil)

	// 1. The examples through Athena, and from their files.
	const source = "athena://rootwatch/security.cloudtrail_logs_pp"
	out, stderr, code := testutil.RunAgainst(t, ctx, bin, url, "trail", source, "--since", "3650d", "--format", "json")
	if code != 0 {
		t.Fatalf("trail %s: exit %d\n%s\n%s", source, code, stderr, out)
	}
	fromFiles, stderr, code := testutil.RunAgainst(t, ctx, bin, url, append([]string{"trail", "--since", "3650d", "--format", "json"}, files...)...)
	if code != 0 {
		t.Fatalf("trail FILES: exit %d\n%s", code, stderr)
	}
	var viaAthena, viaFiles report.Timeline
	if err := json.Unmarshal([]byte(out), &viaAthena); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(fromFiles), &viaFiles); err != nil {
		t.Fatal(err)
	}
	facts := func(tl report.Timeline) []string {
		var f []string
		for _, e := range tl.Events {
			f = append(f, strings.Join([]string{e.EventID, e.AccountID, e.EventName, string(e.Category), e.Result, e.MFA, e.EventTime}, " | "))
		}
		slices.Sort(f)
		return f
	}
	if got, want := facts(viaAthena), facts(viaFiles); !slices.Equal(got, want) || len(got) < 10 {
		t.Fatalf("timeline through Athena:\n%s\nfrom the files:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(viaAthena.Sources) != 1 {
		t.Fatalf("sources %+v", viaAthena.Sources)
	}
	src := viaAthena.Sources[0]
	if src.Path != source || src.Error != "" || src.Query == nil || src.Query.ID == "" || src.Period == nil || len(src.Coverage) == 0 {
		t.Fatalf("source %+v", src)
	}
	// What moto was asked: the statement with its partition predicates,
	// the values as execution parameters.
	qe, err := athena.NewFromConfig(cfg).GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(src.Query.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if q := aws.ToString(qe.QueryExecution.Query); !strings.Contains(q, `"timestamp" >= ?`) || !strings.Contains(q, `FROM "security"."cloudtrail_logs_pp"`) ||
		len(qe.QueryExecution.ExecutionParameters) != 4 || aws.ToString(qe.QueryExecution.WorkGroup) != "rootwatch" {
		t.Fatalf("moto was asked %q with %q in %q", q, qe.QueryExecution.ExecutionParameters, aws.ToString(qe.QueryExecution.WorkGroup))
	}

	// 2. A scan of moto's account with CloudTrail from Athena: a root
	// console sign-in two days ago without MFA fails the sign-in rules.
	scanWith := func() map[string]finding.Finding {
		t.Helper()
		stdout, stderr, _ := testutil.RunAgainst(t, ctx, bin, url, "scan", "--format", "json", "--report-timeout", "30s", "--cloudtrail", source)
		run := decodeRun(t, stdout)
		if len(run.Accounts) != 1 {
			t.Fatalf("accounts %+v\n%s", run.Accounts, stderr)
		}
		byRule := map[string]finding.Finding{}
		for _, f := range run.Findings {
			byRule[f.RuleID] = f
		}
		return byRule
	}
	got := scanWith()
	for rule, want := range map[string]finding.Status{"iam-root-console-login": finding.StatusFail, "iam-root-login-without-mfa": finding.StatusFail,
		"iam-root-failed-logins": finding.StatusPass, "iam-root-api-activity": finding.StatusPass} {
		if got[rule].Status != want {
			t.Errorf("with the Athena answer, %s is %s (%s), want %s", rule, got[rule].Status, got[rule].Message, want)
		}
	}

	// 3. An answer that shows nothing of the account: no pass.
	got = scanWith()
	for _, rule := range []string{"iam-root-console-login", "iam-root-login-without-mfa", "iam-root-failed-logins", "iam-root-api-activity"} {
		if s := got[rule].Status; s == finding.StatusPass || s == finding.StatusFail {
			t.Errorf("with an empty answer, %s is %s (%s)", rule, s, got[rule].Message)
		}
	}

	// The table lists the query with its ID and what it scanned.
	out, _, code = testutil.RunAgainst(t, ctx, bin, url, "trail", source, "--since", "30d")
	if code != 0 || !strings.Contains(out, "query "+source+": athena ") || !strings.Contains(out, "0 B scanned") {
		t.Fatalf("table: exit %d\n%s", code, out)
	}

	// 4. A table that lacks columns: the source's error, exit 3.
	gc := glue.NewFromConfig(cfg)
	if _, err := gc.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("security"), TableInput: &gluetypes.TableInput{
		Name: aws.String("thin"), StorageDescriptor: &gluetypes.StorageDescriptor{Columns: []gluetypes.Column{{Name: aws.String("eventtime"), Type: aws.String("string")}}},
	}}); err != nil {
		t.Fatal(err)
	}
	out, _, code = testutil.RunAgainst(t, ctx, bin, url, "trail", "athena://rootwatch/security.thin", "--format", "json")
	if code != ExitUnknown || !strings.Contains(out, "lacks columns the root-activity rules need") {
		t.Fatalf("thin table: exit %d\n%s", code, out)
	}
}

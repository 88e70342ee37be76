package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, s)
	w.Close()
	return b.Bytes()
}

func rootRecord(account, when, source, name, extra string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::` + account + `:root","accountId":"` + account + `"},"eventTime":"` + when +
		`","eventSource":"` + source + `","eventName":"` + name + `","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0",` + extra +
		`"eventID":"` + account + when + `","recipientAccountId":"` + account + `"}`
}

func userRecord(account, when string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::` + account + `:user/bob","accountId":"` + account + `"},"eventTime":"` + when +
		`","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","eventID":"u` + when + `","recipientAccountId":"` + account + `"}`
}

// TestS3TrailAgainstMoto reads CloudTrail from moto's S3: account and
// organization layouts, date pruning, a corrupt object reported and
// skipped, and digest folders never read.
func TestS3TrailAgainstMoto(t *testing.T) {
	url := testutil.StartMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail-bucket")}); err != nil {
		t.Fatal(err)
	}
	login := `"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},`
	objects := map[string][]byte{
		// Account trail, inside the period.
		"logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/02/27/111122223333_CloudTrail_us-east-1_20260227T0920Z_aaaaaaaaaaaaaaaa.json.gz": gzipped(
			`{"Records":[` + userRecord("111122223333", "2026-02-27T09:14:00Z") + `,` + rootRecord("111122223333", "2026-02-27T09:15:00Z", "signin.amazonaws.com", "ConsoleLogin", login) + `]}`),
		// Account trail, before --since: must be neither listed nor fetched.
		"logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/02/10/111122223333_CloudTrail_us-east-1_20260210T0920Z_bbbbbbbbbbbbbbbb.json.gz": gzipped(
			`{"Records":[` + rootRecord("111122223333", "2026-02-10T09:15:00Z", "signin.amazonaws.com", "ConsoleLogin", login) + `]}`),
		// A corrupt object: reported, the others still read.
		"logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/02/28/111122223333_CloudTrail_us-east-1_20260228T0000Z_cccccccccccccccc.json.gz": append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}, bytes.Repeat([]byte{0xff}, 64)...),
		// A digest: never read, even when it would hold a root event.
		"logs/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/02/27/digest.json.gz": gzipped(rootRecord("111122223333", "2026-02-27T10:00:00Z", "iam.amazonaws.com", "CreateUser", "")),
		// Organization trail.
		"logs/AWSLogs/o-abcdefghij/222233334444/CloudTrail/eu-west-1/2026/02/28/222233334444_CloudTrail_eu-west-1_20260228T1200Z_dddddddddddddddd.json.gz": gzipped(
			`{"Records":[` + rootRecord("222233334444", "2026-02-28T11:58:00Z", "s3.amazonaws.com", "PutBucketPolicy", "") + `]}`),
		"logs/AWSLogs/o-abcdefghij/222233334444/CloudTrail/eu-west-1/2026/01/02/222233334444_CloudTrail_eu-west-1_20260102T1200Z_eeeeeeeeeeeeeeee.json.gz": gzipped(
			`{"Records":[` + rootRecord("222233334444", "2026-01-02T11:58:00Z", "s3.amazonaws.com", "PutBucketPolicy", "") + `]}`),
	}
	for key, body := range objects {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail-bucket"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	loader := func(context.Context, string, string) (aws.Config, error) { return cfg, nil }

	r := runWith(t, loader, "trail", "s3://trail-bucket/logs", "--as-of", "2026-03-01T00:00:00Z", "--since", "9d", "-f", "json")
	if r.code != ExitUnknown {
		t.Fatalf("exit %d (%v), want 3 for the corrupt object", r.code, r.err)
	}
	var tl report.Timeline
	if err := json.Unmarshal([]byte(r.stdout), &tl); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tl.Events {
		got = append(got, e.AccountID+" "+e.EventTime+" "+e.Category)
	}
	want := []string{"222233334444 2026-02-28T11:58:00Z api_call", "111122223333 2026-02-27T09:15:00Z console_login"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("events %v, want %v", got, want)
	}
	var paths []string
	corrupt := false
	for _, s := range tl.Sources {
		paths = append(paths, s.Path)
		if strings.Contains(s.Path, "cccccccccccccccc") {
			corrupt = s.Error != ""
		}
		if strings.Contains(s.Path, "/2026/02/10/") || strings.Contains(s.Path, "/2026/01/02/") || strings.Contains(s.Path, "Digest") {
			t.Errorf("pruned or digest object was read: %s", s.Path)
		}
	}
	if !corrupt || len(tl.Sources) != 3 {
		t.Errorf("sources %v (corrupt reported: %v)", paths, corrupt)
	}

	// The organization prefix and an account filter narrow the listing.
	r = runWith(t, loader, "trail", "s3://trail-bucket/logs/AWSLogs/o-abcdefghij/", "--account", "222233334444", "-f", "json")
	json.Unmarshal([]byte(r.stdout), &tl)
	if len(tl.Events) != 2 || len(tl.Sources) != 2 || r.code != ExitOK {
		t.Errorf("org prefix without --since: exit %d, %d events from %d sources", r.code, len(tl.Events), len(tl.Sources))
	}

	// A mistyped prefix lists nothing: that is no evidence, not an all-clear.
	r = runWith(t, loader, "trail", "s3://trail-bucket/lgos/", "-f", "json")
	if r.code != ExitUnknown || !strings.Contains(r.stderr, "nothing was read") {
		t.Errorf("mistyped prefix: exit %d, stderr %q", r.code, r.stderr)
	}
	if r = runWith(t, loader, "trail", "s3://trail-bucket/lgos/"); !strings.Contains(r.stdout, "No root activity can be shown: nothing was read") || strings.Contains(r.stdout, "No root activity found") {
		t.Errorf("mistyped prefix, table: %s", r.stdout)
	}

	// scan --cloudtrail s3://… feeds the rules.
	r = runWith(t, loader, "scan", "--credential-report", fixture("quiet-report-busy-trail.csv"), "--cloudtrail", "s3://trail-bucket/logs/AWSLogs/111122223333/",
		"--as-of", "2026-03-01T00:00:00Z", "-f", "json")
	run := decodeRun(t, r.stdout)
	if got := statusOf(run, "111122223333", "iam-root-login-without-mfa"); got != finding.StatusFail {
		t.Errorf("login without MFA from S3: %s", got)
	}
	if got := statusOf(run, "111122223333", "iam-root-api-activity"); got != finding.StatusUnknown {
		t.Errorf("api activity with a corrupt object in the period: %s, want unknown", got)
	}
}

// TestOutputToS3AgainstMoto writes a report to moto's S3 with server-side
// encryption asked for and no ACL.
func TestOutputToS3AgainstMoto(t *testing.T) {
	url := testutil.StartMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("reports")}); err != nil {
		t.Fatal(err)
	}
	loader := func(context.Context, string, string) (aws.Config, error) { return cfg, nil }
	r := runWith(t, loader, "scan", "--credential-report", fixture("prod-root-recent.csv"), "--as-of", "2026-03-01T00:00:00Z",
		"-f", "json", "-o", "s3://reports/rootwatch/2026-03-01.json", "-f", "html", "-o", "s3://reports/rootwatch/2026-03-01.html")
	if r.code == ExitUsage {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("reports"), Key: aws.String("rootwatch/2026-03-01.json")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	var run finding.Run
	if err := json.Unmarshal(body, &run); err != nil || len(run.Findings) == 0 {
		t.Errorf("the uploaded JSON: %v (%d bytes)", err, len(body))
	}
	if obj.ServerSideEncryption != "AES256" || aws.ToString(obj.ContentType) != "application/json" {
		t.Errorf("encryption %q, content type %q", obj.ServerSideEncryption, aws.ToString(obj.ContentType))
	}
	acl, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("reports"), Key: aws.String("rootwatch/2026-03-01.html")})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range acl.Grants {
		if g.Grantee != nil && g.Grantee.URI != nil && strings.Contains(*g.Grantee.URI, "AllUsers") {
			t.Errorf("the report is public: %+v", g)
		}
	}
	if r := runWith(t, loader, "scan", "--demo", "-f", "json", "-o", "s3://reports/"); r.code != ExitUsage {
		t.Errorf("an s3:// output without a key: exit %d", r.code)
	}
}

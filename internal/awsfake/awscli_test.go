package awsfake

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

const cliWorld = `
accounts:
  - id: "111111111111"
    access_keys: [AKIACLI0000000000001]
    root: {password_last_used: -3d, mfa: virtual, mfa_serial: "arn:aws:iam::111111111111:mfa/ops-phone", access_keys: [{active: true, last_rotated: -90d, last_used: -2d, service: s3, region: us-east-1}]}
    users:
      - {name: a, mfa: virtual}
      - {name: b, mfa: virtual}
      - {name: c, mfa: virtual}
      - {name: d, mfa: hardware}
    report: {delay: 30s}
    organization: {id: o-abcdefghij, management_account: "111111111111", features: [RootCredentialsManagement, RootSessions]}
    faults:
      - {op: GetCallerIdentity, code: Throttling, status: 400, message: Rate exceeded, times: 1}
    lookup: {page_size: 2, max_per_second: -1}
    trail:
      - {time: -1h, mfa: "YES", ip: 198.51.100.7}
      - {time: -2h, result: Failure, mfa: "No"}
      - {time: -3h, name: CreateAccessKey, source: iam.amazonaws.com, invoked_by: signin.amazonaws.com}
      - {time: -4h, identity: IAMUser, user: bob}
      - {time: -5h, raw: "{not json"}
  - id: "222222222222"
    access_keys: [AKIACLI0000000000002]
    organization: {id: o-abcdefghij, management_account: "111111111111"}
    faults:
      - {op: GetAccountSummary, code: AccessDenied, status: 403, message: "not authorized to perform iam:GetAccountSummary"}
  - id: "333333333333"
    access_keys: [AKIACLI0000000000003]
    report: {existing: 1h, expired: true}
`

type awsCLI struct {
	t    *testing.T
	bin  string
	url  string
	home string
}

// run invokes the AWS CLI as account key and returns stdout, stderr and the exit code.
func (c awsCLI) run(key string, args ...string) (string, string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append([]string{"--endpoint-url", c.url, "--output", "json", "--region", "us-east-1"}, args...)...)
	cmd.Env = testutil.CleanAWSEnv(c.home, "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY=fake-secret", "AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS=3")
	return testutil.Run(c.t, cmd)
}

func (c awsCLI) json(key string, v any, args ...string) {
	c.t.Helper()
	out, stderr, code := c.run(key, args...)
	if code != 0 {
		c.t.Fatalf("aws %v: exit %d: %s", args, code, stderr)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("aws %v: output is not JSON: %v\n%s", args, err, out)
	}
}

func (c awsCLI) fails(key, code string, args ...string) {
	c.t.Helper()
	_, stderr, exit := c.run(key, args...)
	if exit == 0 || !strings.Contains(stderr, "("+code+")") {
		c.t.Errorf("aws %v: exit %d, stderr %q; want the error code %s", args, exit, stderr, code)
	}
}

// TestAWSCLIConformance drives every call the fake serves with the AWS CLI,
// whose botocore parsers are the reference for the wire format.
func TestAWSCLIConformance(t *testing.T) {
	bin := testutil.RequireTool(t, "aws")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &testClock{t: now}
	srv, url, err := Serve(ctx, []byte(cliWorld), "cli world", Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	c := awsCLI{t: t, bin: bin, url: url, home: t.TempDir()}
	const mgmt, member, other = "AKIACLI0000000000001", "AKIACLI0000000000002", "AKIACLI0000000000003"

	t.Run("sts get-caller-identity, after a throttle", func(t *testing.T) {
		var id struct{ Account, Arn, UserId string }
		c.json(mgmt, &id, "sts", "get-caller-identity")
		if id.Account != "111111111111" || id.Arn != "arn:aws:iam::111111111111:user/scanner" {
			t.Errorf("%+v", id)
		}
		if n := srv.Calls("111111111111", "GetCallerIdentity"); n < 2 {
			t.Errorf("calls = %d, want at least 2 (the throttled one retried by botocore)", n)
		}
	})

	t.Run("credential report lifecycle", func(t *testing.T) {
		c.fails(mgmt, "ReportNotPresent", "iam", "get-credential-report")
		var gen struct{ State, Description string }
		c.json(mgmt, &gen, "iam", "generate-credential-report")
		if gen.State != "STARTED" || !strings.Contains(gen.Description, "Starting a new report") {
			t.Errorf("generate: %+v", gen)
		}
		// Generation takes its 30 s on the fake's clock, however often it is polled.
		for range 3 {
			c.fails(mgmt, "ReportInProgress", "iam", "get-credential-report")
			c.json(mgmt, &gen, "iam", "generate-credential-report")
			if gen.State != "INPROGRESS" {
				t.Errorf("generate while in progress: %+v", gen)
			}
		}
		clock.Set(now.Add(29 * time.Second))
		c.fails(mgmt, "ReportInProgress", "iam", "get-credential-report")
		clock.Set(now.Add(30 * time.Second))
		defer clock.Set(now) // the subtests below read times relative to now
		c.json(mgmt, &gen, "iam", "generate-credential-report")
		if gen.State != "COMPLETE" {
			t.Errorf("generate after the delay: %+v", gen)
		}
		var rep struct{ Content, ReportFormat, GeneratedTime string }
		c.json(mgmt, &rep, "iam", "get-credential-report")
		csv, err := base64.StdEncoding.DecodeString(rep.Content)
		if err != nil {
			t.Fatalf("Content is not base64: %v", err)
		}
		if rep.ReportFormat != "text/csv" || !strings.HasPrefix(rep.GeneratedTime, "2026-03-01T12:00:30") {
			t.Errorf("report metadata %q %q", rep.ReportFormat, rep.GeneratedTime)
		}
		lines := strings.Split(string(csv), "\n")
		if !strings.HasPrefix(lines[0], "user,arn,user_creation_time,password_enabled,password_last_used") ||
			!strings.HasPrefix(lines[1], "<root_account>,arn:aws:iam::111111111111:root,") || len(lines) != 6 {
			t.Errorf("report CSV:\n%s", csv)
		}
		if !strings.Contains(lines[1], ",2026-02-26T12:00:30+00:00,") {
			t.Errorf("root password_last_used not 3 days before generation: %s", lines[1])
		}
		c.fails(other, "ReportExpired", "iam", "get-credential-report")
	})

	t.Run("iam get-account-summary", func(t *testing.T) {
		var s struct{ SummaryMap map[string]int }
		c.json(mgmt, &s, "iam", "get-account-summary")
		if s.SummaryMap["AccountMFAEnabled"] != 1 || s.SummaryMap["AccountAccessKeysPresent"] != 1 || s.SummaryMap["AccountSigningCertificatesPresent"] != 0 {
			t.Errorf("%v", s.SummaryMap)
		}
		c.fails(member, "AccessDenied", "iam", "get-account-summary")
	})

	t.Run("iam list-virtual-mfa-devices, paginated", func(t *testing.T) {
		var l struct {
			VirtualMFADevices []struct {
				SerialNumber string
				User         struct{ Arn, UserName, UserId string }
			}
		}
		// --page-size 2 makes the CLI follow Marker across three pages.
		c.json(mgmt, &l, "iam", "list-virtual-mfa-devices", "--assignment-status", "Assigned", "--page-size", "2")
		if len(l.VirtualMFADevices) != 4 {
			t.Fatalf("devices = %d, want 4 (root and a, b, c)", len(l.VirtualMFADevices))
		}
		root := l.VirtualMFADevices[0]
		if root.SerialNumber != "arn:aws:iam::111111111111:mfa/ops-phone" || root.User.Arn != "arn:aws:iam::111111111111:root" || root.User.UserName != "" || root.User.UserId != "111111111111" {
			t.Errorf("root device %+v", root)
		}
		if n := srv.Calls("111111111111", "ListVirtualMFADevices"); n < 2 {
			t.Errorf("requests = %d, want at least 2 pages", n)
		}
	})

	t.Run("iam list-organizations-features", func(t *testing.T) {
		var f struct {
			OrganizationId  string
			EnabledFeatures []string
		}
		c.json(mgmt, &f, "iam", "list-organizations-features")
		if f.OrganizationId != "o-abcdefghij" || strings.Join(f.EnabledFeatures, ",") != "RootCredentialsManagement,RootSessions" {
			t.Errorf("%+v", f)
		}
		c.fails(member, "AccountNotManagementOrDelegatedAdministratorException", "iam", "list-organizations-features")
		c.fails(other, "OrganizationNotFoundException", "iam", "list-organizations-features")
	})

	t.Run("organizations describe-organization", func(t *testing.T) {
		var o struct {
			Organization struct{ Id, MasterAccountId, FeatureSet string }
		}
		c.json(member, &o, "organizations", "describe-organization")
		if o.Organization.Id != "o-abcdefghij" || o.Organization.MasterAccountId != "111111111111" || o.Organization.FeatureSet != "ALL" {
			t.Errorf("%+v", o)
		}
		c.fails(other, "AWSOrganizationsNotInUseException", "organizations", "describe-organization")
	})

	t.Run("cloudtrail lookup-events, paginated", func(t *testing.T) {
		var l struct {
			Events []struct {
				EventId, EventName, Username, CloudTrailEvent string
				EventTime                                     float64
			}
		}
		// The CLI follows NextToken across the fake's two-event pages.
		c.json(mgmt, &l, "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=Username,AttributeValue=root")
		if len(l.Events) != 4 {
			t.Fatalf("events = %d, want the 4 root ones", len(l.Events))
		}
		var rec struct {
			UserIdentity struct{ Type string } `json:"userIdentity"`
			EventTime    string                `json:"eventTime"`
		}
		if err := json.Unmarshal([]byte(l.Events[0].CloudTrailEvent), &rec); err != nil || rec.UserIdentity.Type != "Root" {
			t.Errorf("CloudTrailEvent is not a root record: %v %q", err, l.Events[0].CloudTrailEvent)
		}
		if rec.EventTime != "2026-03-01T11:00:00Z" || int64(l.Events[0].EventTime) != now.Add(-time.Hour).Unix() {
			t.Errorf("times: %q %v", rec.EventTime, l.Events[0].EventTime)
		}
		if l.Events[3].CloudTrailEvent != "{not json" {
			t.Errorf("a malformed CloudTrailEvent must be served verbatim: %q", l.Events[3].CloudTrailEvent)
		}
		if n := srv.Calls("111111111111", "LookupEvents"); n < 2 {
			t.Errorf("LookupEvents requests = %d, want pages", n)
		}
		c.fails(mgmt, "InvalidLookupAttributesException", "cloudtrail", "lookup-events", "--lookup-attributes",
			"AttributeKey=Username,AttributeValue=root", "AttributeKey=EventName,AttributeValue=ConsoleLogin")
	})

	t.Run("unknown access key", func(t *testing.T) {
		c.fails("AKIANOBODY0000000000", "InvalidClientTokenId", "sts", "get-caller-identity")
	})
}

// ok runs a call that must succeed (its output may be empty).
func (c awsCLI) ok(key string, args ...string) {
	c.t.Helper()
	if _, stderr, code := c.run(key, args...); code != 0 {
		c.t.Errorf("aws %v: exit %d: %s", args, code, stderr)
	}
}

// testClock is a fake clock the test sets.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

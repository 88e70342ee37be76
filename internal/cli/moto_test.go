package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// TestMotoLiveScan runs the rootwatch binary against moto, an AWS emulator
// nobody here wrote, reaching it through AWS_ENDPOINT_URL and the SDK's
// default credential chain. moto's credential report has no root row, so the
// rules that need it must be unknown with that reason, while the rules that
// the account summary settles are still judged.
func TestMotoLiveScan(t *testing.T) {
	url := testutil.StartMoto(t)
	bin := testutil.BuildRootwatch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	c := iam.NewFromConfig(cfg)
	for _, name := range []string{"alice", "bob"} {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(name), Password: aws.String("Corr3ct-Horse-Battery")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	dev, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice-phone")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: dev.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := testutil.RunAgainst(t, ctx, bin, url, "scan", "--format", "json", "--report-timeout", "30s")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1 (moto's account has no root MFA)\nstderr: %s\nstdout: %s", code, stderr, stdout)
	}
	run := decodeRun(t, stdout)
	if len(run.Accounts) != 1 || run.Accounts[0].AccountID != "123456789012" {
		t.Fatalf("accounts %+v", run.Accounts)
	}
	want := map[string]struct {
		status finding.Status
		msg    string
	}{
		"iam-root-active-password":        {finding.StatusUnknown, "has no root row"},
		"iam-root-access-key-used":        {finding.StatusUnknown, "has no root row"},
		"iam-root-no-mfa":                 {finding.StatusFail, "AccountMFAEnabled = 0"},
		"iam-root-no-hardware-mfa":        {finding.StatusFail, "no MFA at all"},
		"iam-root-access-key-active":      {finding.StatusPass, "AccountAccessKeysPresent = 0"},
		"iam-root-signing-cert-active":    {finding.StatusPass, "AccountSigningCertificatesPresent = 0"},
		"org-root-access-not-centralized": {finding.StatusNotApplicable, "not in an AWS Organization"},
		"iam-root-credentials-present":    {finding.StatusNotApplicable, "not in an AWS Organization"},
		"org-root-session-holders":        {finding.StatusNotApplicable, "not in an AWS Organization"},
		"org-root-actions-not-denied":     {finding.StatusNotApplicable, "not in an AWS Organization"},
		// moto does not implement LookupEvents: the CloudTrail rules are
		// errors that say so, never passes.
		"iam-root-console-login":     {finding.StatusError, "LookupEvents"},
		"iam-root-login-without-mfa": {finding.StatusError, "LookupEvents"},
		"iam-root-failed-logins":     {finding.StatusError, "LookupEvents"},
		"iam-root-api-activity":      {finding.StatusError, "LookupEvents"},
		"iam-root-recovery-activity": {finding.StatusError, "LookupEvents"},
		// Only an organization scan knows the root e-mail address.
		"org-root-email-outside-domains": {finding.StatusNotApplicable, "known only to an organization scan"},
		// moto's account has no trail and no EventBridge rule (its regions
		// come from ec2:DescribeRegions: moto has no account:ListRegions).
		"cloudwatch-root-usage-no-alarm":  {finding.StatusFail, "No multi-region CloudTrail trail"},
		"account-root-activity-unalerted": {finding.StatusFail, "EventBridge: no enabled rule with a target catches"},
	}
	for _, f := range run.Findings {
		w, ok := want[f.RuleID]
		if !ok {
			t.Errorf("unexpected rule %s", f.RuleID)
			continue
		}
		if f.Status != w.status || !strings.Contains(f.Message, w.msg) {
			t.Errorf("%s: %s %q, want %s containing %q", f.RuleID, f.Status, f.Message, w.status, w.msg)
		}
		delete(want, f.RuleID)
	}
	for rule := range want {
		t.Errorf("no finding for %s", rule)
	}
	var report finding.Source
	for _, s := range run.Accounts[0].Sources {
		if s.Name == "credential_report" {
			report = s
		}
	}
	if report.State != "ok" || !strings.Contains(report.Detail, "2 rows") {
		t.Errorf("credential report source %+v: want the two users moto knows", report)
	}
}

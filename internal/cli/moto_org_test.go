package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// TestMotoOrgScan builds an organization in moto (a management account and
// three member accounts created with CreateAccount), puts IAM users with
// passwords and keys in the members through the assumed role, and runs
// `rootwatch scan --org` against it. Every member must appear with its own
// evidence; with no root row in moto's reports, the root rules are unknown.
func TestMotoOrgScan(t *testing.T) {
	url := testutil.StartMoto(t)
	bin := testutil.BuildRootwatch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	orgc := organizations.NewFromConfig(base)
	if _, err := orgc.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	var members []string
	for i := 0; i < 3; i++ {
		out, err := orgc.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(fmt.Sprintf("member-%d", i)), Email: aws.String(fmt.Sprintf("m%d@example.com", i))})
		if err != nil {
			t.Fatal(err)
		}
		st, err := orgc.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
		if err != nil || st.CreateAccountStatus.AccountId == nil {
			t.Fatalf("account creation: %v %+v", err, st)
		}
		members = append(members, *st.CreateAccountStatus.AccountId)
	}
	stsc := sts.NewFromConfig(base)
	for i, m := range members {
		role, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + m + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("setup")})
		if err != nil {
			t.Fatal(err)
		}
		cfg := base.Copy()
		cfg.Credentials = credentials.NewStaticCredentialsProvider(*role.Credentials.AccessKeyId, *role.Credentials.SecretAccessKey, *role.Credentials.SessionToken)
		c := iam.NewFromConfig(cfg)
		for u := 0; u <= i; u++ { // member i gets i+1 users, so each report is its own
			name := fmt.Sprintf("user-%d", u)
			if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
			c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(name), Password: aws.String("Corr3ct-Horse-Battery")})
			c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		}
	}

	stdout, stderr, _ := testutil.RunAgainst(t, ctx, bin, url, "scan", "--org", "--format", "json", "--report-timeout", "30s")
	run := decodeRun(t, stdout)
	if len(run.Accounts) != 4 {
		t.Fatalf("accounts %d, want the management account and 3 members; stderr %s", len(run.Accounts), stderr)
	}
	for i, m := range members {
		var acct *finding.Account
		for k := range run.Accounts {
			if run.Accounts[k].AccountID == m {
				acct = &run.Accounts[k]
			}
		}
		if acct == nil {
			t.Errorf("member %s missing", m)
			continue
		}
		if acct.Status == finding.AccountFailed || acct.Status == finding.AccountSkipped {
			t.Errorf("member %s: %s %s", m, acct.Status, acct.Error)
		}
		for _, s := range acct.Sources {
			if s.Name == "credential_report" && (s.State != "ok" || !strings.Contains(s.Detail, "; "+evidence.Count(i+1, "row"))) {
				t.Errorf("member %s report %+v: want its own %d users", m, s, i+1)
			}
		}
		for _, rule := range []string{"iam-root-active-password", "iam-root-access-key-used"} {
			if got := statusOf(run, m, rule); got != finding.StatusUnknown {
				t.Errorf("member %s %s = %s, want unknown (moto has no root row)", m, rule, got)
			}
		}
	}
	for _, f := range run.Findings {
		if f.RuleID == "iam-root-active-password" && f.Status == finding.StatusPass {
			t.Errorf("%s: the root password rule passed on moto, which has no root row", f.AccountID)
		}
	}
}

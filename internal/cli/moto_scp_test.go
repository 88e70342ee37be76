package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// TestMotoSCPGuardrail builds an organization in moto with a three-level OU
// tree and SCPs (CreateOrganization, EnablePolicyType, CreateOrganizationalUnit,
// CreatePolicy, AttachPolicy, MoveAccount) and runs `rootwatch scan --org`:
// a member under the deny-root guardrail passes, one whose OU has AWS's
// NotAction sample fails with that hole, one the guardrail's exemption list
// names fails as exempted, and the management account is not applicable.
func TestMotoSCPGuardrail(t *testing.T) {
	url := testutil.StartMoto(t)
	bin := testutil.BuildRootwatch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	orgc := organizations.NewFromConfig(base)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	org, err := orgc.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
	must(err)
	mgmt := aws.ToString(org.Organization.MasterAccountId)
	roots, err := orgc.ListRoots(ctx, &organizations.ListRootsInput{})
	must(err)
	root := aws.ToString(roots.Roots[0].Id)
	// moto lists no policy type on the root until it is enabled (AWS-could-anyone.md §6).
	_, err = orgc.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(root), PolicyType: orgtypes.PolicyTypeServiceControlPolicy})
	must(err)

	ou := func(name, parent string) string {
		out, err := orgc.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{Name: aws.String(name), ParentId: aws.String(parent)})
		must(err)
		return aws.ToString(out.OrganizationalUnit.Id)
	}
	workloads := ou("Workloads", root)
	prod := ou("Prod", workloads)
	eu := ou("Prod-EU", prod)
	sandbox := ou("Sandbox", root)

	member := func(name, parent string) string {
		out, err := orgc.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		must(err)
		st, err := orgc.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
		if err != nil || st.CreateAccountStatus.AccountId == nil {
			t.Fatalf("account creation: %v %+v", err, st)
		}
		id := aws.ToString(st.CreateAccountStatus.AccountId)
		_, err = orgc.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String(parent)})
		must(err)
		return id
	}
	covered := member("covered", eu)
	exempted := member("exempted", eu)
	hole := member("hole", sandbox)

	attach := func(name, content, target string) {
		p, err := orgc.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(name), Description: aws.String(name),
			Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(content)})
		must(err)
		_, err = orgc.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: p.Policy.PolicySummary.Id, TargetId: aws.String(target)})
		must(err)
	}
	// Control Tower's guardrail with ExemptedPrincipalArns, on the first-level OU.
	attach("RestrictRootUser", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":["arn:*:iam::*:root"]},"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::%s:root"]}}}]}`, exempted), workloads)
	attach("DenyRootExceptBucketPolicies", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:GetBucketPolicy","s3:PutBucketPolicy","s3:DeleteBucketPolicy"],"Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`, sandbox)

	stdout, stderr, _ := testutil.RunAgainst(t, ctx, bin, url, "scan", "--org", "--format", "json", "--report-timeout", "30s")
	run := decodeRun(t, stdout)
	if len(run.Accounts) != 4 {
		t.Fatalf("accounts %d, want the management account and 3 members; stderr %s", len(run.Accounts), stderr)
	}
	for _, c := range []struct {
		account string
		want    finding.Status
		says    string // in the message
		path    int    // targets on the path walked
	}{
		{covered, finding.StatusPass, "attached to OU " + workloads + " denies every action", 5},
		{hole, finding.StatusFail, "NotAction leaves out s3:GetBucketPolicy, s3:PutBucketPolicy, s3:DeleteBucketPolicy", 3},
		{exempted, finding.StatusFail, `exempts this root user: ArnNotLike {"aws:PrincipalArn": ["arn:aws:iam::` + exempted + `:root"]}`, 5},
		{mgmt, finding.StatusNotApplicable, "SCPs never apply to the management account", 0},
	} {
		var f *finding.Finding
		for i := range run.Findings {
			if run.Findings[i].AccountID == c.account && run.Findings[i].RuleID == "org-root-actions-not-denied" {
				f = &run.Findings[i]
			}
		}
		if f == nil {
			t.Errorf("%s: no org-root-actions-not-denied finding", c.account)
			continue
		}
		if f.Status != c.want || !strings.Contains(f.Message, c.says) {
			t.Errorf("%s: %s %q, want %s saying %q", c.account, f.Status, f.Message, c.want, c.says)
		}
		if path, _ := f.Evidence["path"].([]any); len(path) != c.path {
			t.Errorf("%s: path %v, want %d targets", c.account, f.Evidence["path"], c.path)
		}
	}
}

package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// TestMotoRootSessionHolders builds IAM principals in moto's management
// account — an administrator, a PowerUserAccess copy whose older version
// allowed everything, a task-scoped grant, a group's grant, a denied
// administrator, a break-glass role limited by its boundary, a reader —
// and runs `rootwatch scan --org` on it: each holder is a finding with its
// task policies, the expected role passes, the others are not reported.
// moto refuses Resource arn:aws:iam::<account>:root, so grants use "*";
// it answers neither ListOrganizationsFeatures nor SimulatePrincipalPolicy
// and knows no delegated administrator for IAM, which the findings say.
func TestMotoRootSessionHolders(t *testing.T) {
	url := testutil.StartMoto(t)
	bin := testutil.BuildRootwatch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	base := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	orgc := organizations.NewFromConfig(base)
	org, err := orgc.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
	if err != nil {
		t.Fatal(err)
	}
	mgmt := aws.ToString(org.Organization.MasterAccountId)
	if _, err := orgc.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("member"), Email: aws.String("m@example.com")}); err != nil {
		t.Fatal(err)
	}

	c := iam.NewFromConfig(base)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const task = "arn:aws:iam::aws:policy/root-task/"
	arn := func(kind, name string) string { return "arn:aws:iam::" + mgmt + ":" + kind + "/" + name }
	user := func(name string, inline ...string) {
		must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))
		for i, doc := range inline {
			must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p" + string(rune('0'+i))), PolicyDocument: aws.String(doc)}))
		}
	}
	user("admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	user("scoped", `{"Version":"2012-10-17","Statement":[{"Sid":"AuditOnly","Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*","Condition":{"StringEquals":{"sts:TaskPolicyArn":"`+task+`IAMAuditRootUserCredentials"}}}]}`)
	user("denied", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"sts:AssumeRoot","Resource":"*"}]}`)
	user("reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`)
	user("power")
	user("grouped")

	// PowerUserAccess as a customer managed policy (moto loads AWS managed
	// ones only when asked, slowly): v1 denied sts:*, v2 is the current
	// PowerUserAccess and the default, the only version IAM evaluates.
	pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("PowerUserCopy"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	must(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: pol.Policy.Arn, SetAsDefault: true,
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:ListRoles","organizations:DescribeOrganization"],"Resource":"*"}]}`)}))
	must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("power"), PolicyArn: pol.Policy.Arn}))

	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("unlockers")}))
	must(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("unlockers"), PolicyName: aws.String("unlock"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:Assume*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"sts:TaskPolicyArn":["*S3Unlock*","*SQSUnlock*"]}}}]}`)}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("unlockers"), UserName: aws.String("grouped")}))

	boundary, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("AuditBoundary"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*","Condition":{"StringEquals":{"sts:TaskPolicyArn":["` + task + `IAMAuditRootUserCredentials","` + task + `IAMDeleteRootUserCredentials"]}}}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("BreakGlass"), PermissionsBoundary: boundary.Policy.Arn,
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + mgmt + `:root"},"Action":"sts:AssumeRole"}]}`)}))
	must(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("BreakGlass"), PolicyName: aws.String("admin"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}))

	cfg := filepath.Join(t.TempDir(), "rw.yaml")
	if err := os.WriteFile(cfg, []byte("rules:\n  org-root-session-holders:\n    allowed_principals: [\"arn:aws:iam::*:role/BreakGlass\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, _ := testutil.RunAgainst(t, ctx, bin, url, "scan", "--org", "--format", "json", "--report-timeout", "30s", "--config", cfg)
	run := decodeRun(t, stdout)

	got := map[string]finding.Finding{}
	for _, f := range run.Findings {
		if f.RuleID == "org-root-session-holders" && f.AccountID == mgmt {
			got[f.Resource] = f
		}
	}
	const all = "IAMAuditRootUserCredentials,IAMCreateRootUserPassword,IAMDeleteRootUserCredentials,S3UnlockBucketPolicy,SQSUnlockQueuePolicy"
	want := map[string]struct {
		status finding.Status
		tasks  string
	}{
		arn("user", "admin"):      {finding.StatusFail, all},
		arn("user", "power"):      {finding.StatusFail, all},
		arn("user", "scoped"):     {finding.StatusFail, "IAMAuditRootUserCredentials"},
		arn("user", "grouped"):    {finding.StatusFail, "S3UnlockBucketPolicy,SQSUnlockQueuePolicy"},
		arn("role", "BreakGlass"): {finding.StatusPass, "IAMAuditRootUserCredentials,IAMDeleteRootUserCredentials"},
	}
	if len(got) != len(want) {
		var names []string
		for r := range got {
			names = append(names, r)
		}
		slices.Sort(names)
		t.Errorf("holders %v, want %d of them; stderr %s", names, len(want), stderr)
	}
	for resource, w := range want {
		f, ok := got[resource]
		if !ok {
			t.Errorf("%s: no finding", resource)
			continue
		}
		var tasks []string
		for _, x := range f.Evidence["tasks"].([]any) {
			tasks = append(tasks, x.(string))
		}
		if f.Status != w.status || strings.Join(tasks, ",") != w.tasks {
			t.Errorf("%s: %s %v, want %s %s (%s)", resource, f.Status, tasks, w.status, w.tasks, f.Message)
		}
		if s, _ := f.Evidence["root_sessions"].(string); !strings.HasPrefix(s, "unknown") {
			t.Errorf("%s: root_sessions %q, want unknown (moto has no ListOrganizationsFeatures)", resource, s)
		}
		if sim, _ := f.Evidence["simulation"].(map[string]any); sim == nil || sim["not_compared"] == nil {
			t.Errorf("%s: simulation %v, want it said not to be compared (moto has no SimulatePrincipalPolicy)", resource, sim)
		}
	}
	if f := got[arn("user", "power")]; !strings.Contains(strings.Join(anyStrings(f.Evidence["via"]), "\n"), "policy/PowerUserCopy Statement[0]") {
		t.Errorf("power: via %v, want the default version's NotAction statement", f.Evidence["via"])
	}
	for _, f := range run.Findings {
		if f.RuleID == "org-root-session-holders" && f.AccountID != mgmt && f.Status != finding.StatusUnknown {
			t.Errorf("member %s: %s (%s), want unknown: moto knows no delegated administrator for IAM", f.AccountID, f.Status, f.Message)
		}
	}
}

func anyStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

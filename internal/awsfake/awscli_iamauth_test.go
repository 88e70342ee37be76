package awsfake

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

const cliIAMWorld = `
accounts:
  - id: "710000000000"
    access_keys: [AKIACLIIAM0000000001]
    users: [{name: alice}, {name: bob}]
    organization:
      id: o-cliiam00001
      management_account: "710000000000"
      features: [RootCredentialsManagement, RootSessions]
      delegated_admins: {iam.amazonaws.com: ["710000000001"], guardduty.amazonaws.com: ["710000000002"]}
    iam:
      page_size: 2
      users:
        - {name: alice, managed: [PowerUserAccess], groups: [ops], tags: {team: security}}
        - name: bob
          inline: {scoped: '{"Version":"2012-10-17","Statement":{"Sid":"Audit only","Effect":"Allow","Action":"sts:AssumeRoot","Resource":"arn:aws:iam::*:root","Condition":{"StringEquals":{"sts:TaskPolicyArn":"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}'}
          boundary: Boundary
      groups:
        - {name: ops, inline: {deny-s3: '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}'}}
      roles:
        - {name: BreakGlass, managed: [AdministratorAccess]}
      policies:
        - name: Boundary
          document: '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:*","Resource":"*"}}'
          older: ['{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}']
      simulate:
        - {principal: BreakGlass, task: SQSUnlockQueuePolicy, decision: implicitDeny}
  - id: "710000000001"
    access_keys: [AKIACLIIAM0000000002]
    organization: {id: o-cliiam00001, management_account: "710000000000"}
  - id: "710000000002"
    access_keys: [AKIACLIIAM0000000003]
    organization: {id: o-cliiam00001, management_account: "710000000000"}
`

// TestAWSCLIIAMAuthorization checks the calls org-root-session-holders
// makes with the AWS CLI: GetAccountAuthorizationDetails across pages with
// its URL-encoded documents (botocore decodes them), SimulatePrincipalPolicy,
// ListDelegatedAdministrators, and ListOrganizationsFeatures answered for
// IAM's delegated administrator.
func TestAWSCLIIAMAuthorization(t *testing.T) {
	bin := testutil.RequireTool(t, "aws")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, url, err := Serve(ctx, []byte(cliIAMWorld), "cli iam world", Options{Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	c := awsCLI{t: t, bin: bin, url: url, home: t.TempDir()}
	const mgmt, admin, other = "AKIACLIIAM0000000001", "AKIACLIIAM0000000002", "AKIACLIIAM0000000003"

	t.Run("get-account-authorization-details, every page", func(t *testing.T) {
		var d struct {
			UserDetailList []struct {
				UserName, Arn  string
				GroupList      []string
				UserPolicyList []struct {
					PolicyName     string
					PolicyDocument map[string]any
				}
				AttachedManagedPolicies []struct{ PolicyName, PolicyArn string }
				PermissionsBoundary     *struct{ PermissionsBoundaryArn string }
				Tags                    []struct{ Key, Value string }
			}
			GroupDetailList []struct {
				GroupName       string
				GroupPolicyList []struct{ PolicyDocument map[string]any }
			}
			RoleDetailList []struct {
				RoleName                 string
				AssumeRolePolicyDocument map[string]any
			}
			Policies []struct {
				PolicyName, Arn, DefaultVersionId              string
				AttachmentCount, PermissionsBoundaryUsageCount int
				PolicyVersionList                              []struct {
					VersionId        string
					IsDefaultVersion bool
					Document         map[string]any
				}
			}
			IsTruncated bool
		}
		before := srv.Calls("710000000000", "GetAccountAuthorizationDetails")
		c.json(mgmt, &d, "iam", "get-account-authorization-details")
		if n := srv.Calls("710000000000", "GetAccountAuthorizationDetails") - before; n != 4 {
			t.Errorf("%d calls, want 4 pages of 2 items (2 users, 1 group, 1 role, 3 policies)", n)
		}
		if len(d.UserDetailList) != 2 || len(d.GroupDetailList) != 1 || len(d.RoleDetailList) != 1 || len(d.Policies) != 3 || d.IsTruncated {
			t.Fatalf("merged pages: %+v", d)
		}
		bob := d.UserDetailList[1]
		st := bob.UserPolicyList[0].PolicyDocument["Statement"].(map[string]any)
		if bob.UserName != "bob" || st["Sid"] != "Audit only" || st["Action"] != "sts:AssumeRoot" || bob.PermissionsBoundary == nil ||
			bob.PermissionsBoundary.PermissionsBoundaryArn != "arn:aws:iam::710000000000:policy/Boundary" {
			t.Errorf("bob: %+v", bob)
		}
		alice := d.UserDetailList[0]
		if alice.GroupList[0] != "ops" || alice.AttachedManagedPolicies[0].PolicyArn != "arn:aws:iam::aws:policy/PowerUserAccess" || alice.Tags[0].Value != "security" {
			t.Errorf("alice: %+v", alice)
		}
		if tr := d.RoleDetailList[0].AssumeRolePolicyDocument["Statement"].([]any)[0].(map[string]any); tr["Action"] != "sts:AssumeRole" {
			t.Errorf("trust policy: %v", tr)
		}
		byName := map[string]int{}
		for i, p := range d.Policies {
			byName[p.PolicyName] = i
		}
		pu := d.Policies[byName["PowerUserAccess"]]
		last := pu.PolicyVersionList[len(pu.PolicyVersionList)-1]
		na, _ := json.Marshal(last.Document["Statement"].([]any)[0].(map[string]any)["NotAction"])
		if pu.DefaultVersionId != "v12" || last.VersionId != "v12" || !last.IsDefaultVersion || string(na) != `["iam:*","organizations:*","account:*"]` || pu.AttachmentCount != 1 {
			t.Errorf("PowerUserAccess: %s %+v %s", pu.DefaultVersionId, last, na)
		}
		b := d.Policies[byName["Boundary"]]
		if len(b.PolicyVersionList) != 2 || b.PolicyVersionList[0].IsDefaultVersion || b.PermissionsBoundaryUsageCount != 1 || b.AttachmentCount != 0 {
			t.Errorf("Boundary: %+v", b)
		}
		var roles struct {
			UserDetailList []any
			RoleDetailList []struct{ RoleName string }
			Policies       []any
		}
		c.json(mgmt, &roles, "iam", "get-account-authorization-details", "--filter", "Role")
		if len(roles.UserDetailList) != 0 || len(roles.RoleDetailList) != 1 || len(roles.Policies) != 0 {
			t.Errorf("--filter Role: %+v", roles)
		}
		c.fails(mgmt, "ValidationError", "iam", "get-account-authorization-details", "--filter", "Users")
	})

	t.Run("simulate-principal-policy", func(t *testing.T) {
		type result struct {
			EvaluationResults []struct {
				EvalActionName, EvalDecision string
				ResourceSpecificResults      []struct {
					EvalResourceName, EvalResourceDecision string
					MissingContextValues                   []string
					PermissionsBoundaryDecisionDetail      *struct{ AllowedByPermissionsBoundary bool }
				}
				OrganizationsDecisionDetail *struct{ AllowedByOrganizations bool }
			}
		}
		sim := func(principal, task string, extra ...string) result {
			var r result
			args := append([]string{"iam", "simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::710000000000:" + principal,
				"--action-names", "sts:AssumeRoot", "--resource-arns", "arn:aws:iam::710000000001:root", "arn:aws:iam::710000000002:root",
				"--context-entries", "ContextKeyName=sts:TaskPolicyArn,ContextKeyValues=arn:aws:iam::aws:policy/root-task/" + task + ",ContextKeyType=string"}, extra...)
			c.json(mgmt, &r, args...)
			return r
		}
		r := sim("user/bob", "IAMAuditRootUserCredentials")
		er := r.EvaluationResults[0]
		if len(r.EvaluationResults) != 1 || er.EvalActionName != "sts:AssumeRoot" || len(er.ResourceSpecificResults) != 2 || er.OrganizationsDecisionDetail == nil {
			t.Fatalf("%+v", r)
		}
		rr := er.ResourceSpecificResults[0]
		if rr.EvalResourceName != "arn:aws:iam::710000000001:root" || rr.EvalResourceDecision != "implicitDeny" || strings.Join(rr.MissingContextValues, ",") != "aws:MultiFactorAuthPresent" ||
			rr.PermissionsBoundaryDecisionDetail == nil || !rr.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary {
			t.Errorf("bob without MFA: %+v", rr)
		}
		r = sim("user/bob", "IAMAuditRootUserCredentials", "ContextKeyName=aws:MultiFactorAuthPresent,ContextKeyValues=true,ContextKeyType=boolean")
		if d := r.EvaluationResults[0].ResourceSpecificResults[1].EvalResourceDecision; d != "allowed" || r.EvaluationResults[0].EvalDecision != "allowed" {
			t.Errorf("bob with MFA: %s", d)
		}
		if d := sim("user/alice", "IAMCreateRootUserPassword").EvaluationResults[0].EvalDecision; d != "allowed" {
			t.Errorf("alice (PowerUserAccess): %s", d)
		}
		if d := sim("role/BreakGlass", "SQSUnlockQueuePolicy").EvaluationResults[0].EvalDecision; d != "implicitDeny" {
			t.Errorf("the forced answer: %s", d)
		}
		c.fails(mgmt, "NoSuchEntity", "iam", "simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::710000000000:user/nobody", "--action-names", "sts:AssumeRoot")
	})

	t.Run("list-delegated-administrators", func(t *testing.T) {
		var l struct {
			DelegatedAdministrators []struct{ Id, Name, State string }
		}
		c.json(mgmt, &l, "organizations", "list-delegated-administrators", "--service-principal", "iam.amazonaws.com")
		if len(l.DelegatedAdministrators) != 1 || l.DelegatedAdministrators[0].Id != "710000000001" || l.DelegatedAdministrators[0].State != "ACTIVE" {
			t.Errorf("%+v", l)
		}
		c.json(mgmt, &l, "organizations", "list-delegated-administrators", "--page-size", "1")
		if len(l.DelegatedAdministrators) != 2 {
			t.Errorf("every service, across pages: %+v", l)
		}
		c.fails(mgmt, "InvalidInputException", "organizations", "list-delegated-administrators", "--service-principal", "nothing.amazonaws.com")
		c.fails(admin, "AccessDeniedException", "organizations", "list-delegated-administrators")
	})

	t.Run("list-organizations-features in the delegated administrator", func(t *testing.T) {
		var f struct {
			OrganizationId  string
			EnabledFeatures []string
		}
		c.json(admin, &f, "iam", "list-organizations-features")
		if f.OrganizationId != "o-cliiam00001" || len(f.EnabledFeatures) != 2 {
			t.Errorf("%+v", f)
		}
		c.fails(other, "AccountNotManagementOrDelegatedAdministratorException", "iam", "list-organizations-features")
	})
}

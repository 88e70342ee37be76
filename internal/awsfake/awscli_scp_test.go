package awsfake

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

const cliSCPWorld = `
accounts:
  - id: "710000000000"
    access_keys: [AKIACLISCP0000000001]
    organization: {id: o-cliscp00001, management_account: "710000000000"}
  - id: "710000000001"
    access_keys: [AKIACLISCP0000000002]
    organization: {id: o-cliscp00001, management_account: "710000000000"}
  - id: "710000000002"
    organization: {id: o-cliscp00001, management_account: "710000000000"}
organizations:
  - id: o-cliscp00001
    root_id: r-scp1
    page_size: 1
    root_scps: [p-FullAWSAccess, p-denyroot01]
    ous:
      - {id: ou-scp1-aaaaaaaa, name: Workloads}
      - {id: ou-scp1-bbbbbbbb, name: Prod, parent: ou-scp1-aaaaaaaa, scps: [p-FullAWSAccess, p-secret0001], accounts: ["710000000001"]}
    account_scps: {"710000000002": [p-FullAWSAccess, p-denyroot01]}
    policies:
      - id: p-denyroot01
        name: DenyRoot
        description: deny every action to member root users
        content: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"}}}]}'
      - {id: p-secret0001, name: Secret, content: '{}', describe_denied: true}
`

// TestAWSCLISCPCalls checks the organization-structure calls of the SCP
// source with the AWS CLI: ListRoots, ListParents up to the root,
// DescribeOrganizationalUnit,
// ListPoliciesForTarget across pages and DescribePolicy, with their errors.
func TestAWSCLISCPCalls(t *testing.T) {
	bin := testutil.RequireTool(t, "aws")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, url, err := Serve(ctx, []byte(cliSCPWorld), "cli scp world", Options{Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	c := awsCLI{t: t, bin: bin, url: url, home: t.TempDir()}
	const mgmt, member = "AKIACLISCP0000000001", "AKIACLISCP0000000002"

	var roots struct {
		Roots []struct {
			Id, Arn, Name string
			PolicyTypes   []struct{ Type, Status string }
		}
	}
	c.json(mgmt, &roots, "organizations", "list-roots")
	if len(roots.Roots) != 1 || roots.Roots[0].Id != "r-scp1" || roots.Roots[0].Arn != "arn:aws:organizations::710000000000:root/o-cliscp00001/r-scp1" ||
		len(roots.Roots[0].PolicyTypes) != 1 || roots.Roots[0].PolicyTypes[0].Type != "SERVICE_CONTROL_POLICY" || roots.Roots[0].PolicyTypes[0].Status != "ENABLED" {
		t.Errorf("list-roots: %+v", roots)
	}
	c.fails(member, "AccessDeniedException", "organizations", "list-roots")

	var parents struct {
		Parents []struct{ Id, Type string }
	}
	for _, step := range [][3]string{
		{"710000000001", "ou-scp1-bbbbbbbb", "ORGANIZATIONAL_UNIT"},
		{"ou-scp1-bbbbbbbb", "ou-scp1-aaaaaaaa", "ORGANIZATIONAL_UNIT"},
		{"ou-scp1-aaaaaaaa", "r-scp1", "ROOT"},
		{"710000000002", "r-scp1", "ROOT"},
	} {
		c.json(mgmt, &parents, "organizations", "list-parents", "--child-id", step[0])
		if len(parents.Parents) != 1 || parents.Parents[0].Id != step[1] || parents.Parents[0].Type != step[2] {
			t.Errorf("list-parents %s: %+v, want %s %s", step[0], parents, step[1], step[2])
		}
	}
	c.fails(mgmt, "ChildNotFoundException", "organizations", "list-parents", "--child-id", "719999999999")

	var ou struct {
		OrganizationalUnit struct{ Id, Arn, Name string }
	}
	c.json(mgmt, &ou, "organizations", "describe-organizational-unit", "--organizational-unit-id", "ou-scp1-bbbbbbbb")
	if o := ou.OrganizationalUnit; o.Id != "ou-scp1-bbbbbbbb" || o.Name != "Prod" || o.Arn != "arn:aws:organizations::710000000000:ou/o-cliscp00001/ou-scp1-bbbbbbbb" {
		t.Errorf("describe-organizational-unit: %+v", ou)
	}
	c.fails(mgmt, "OrganizationalUnitNotFoundException", "organizations", "describe-organizational-unit", "--organizational-unit-id", "ou-scp1-cccccccc")
	c.fails(mgmt, "InvalidInputException", "organizations", "describe-organizational-unit", "--organizational-unit-id", "ou-1")
	c.fails(member, "AccessDeniedException", "organizations", "describe-organizational-unit", "--organizational-unit-id", "ou-scp1-bbbbbbbb")

	type summary struct {
		Id, Arn, Name, Description, Type string
		AwsManaged                       bool
	}
	var pols struct {
		Policies  []summary
		NextToken string
	}
	// The CLI follows the one-policy pages.
	c.json(mgmt, &pols, "organizations", "list-policies-for-target", "--target-id", "r-scp1", "--filter", "SERVICE_CONTROL_POLICY")
	if len(pols.Policies) != 2 || pols.Policies[0] != (summary{"p-FullAWSAccess", "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess", "FullAWSAccess", "Allows access to every operation", "SERVICE_CONTROL_POLICY", true}) ||
		pols.Policies[1] != (summary{"p-denyroot01", "arn:aws:organizations::710000000000:policy/o-cliscp00001/service_control_policy/p-denyroot01", "DenyRoot", "deny every action to member root users", "SERVICE_CONTROL_POLICY", false}) {
		t.Errorf("list-policies-for-target across pages: %+v", pols)
	}
	pols.Policies, pols.NextToken = nil, ""
	c.json(mgmt, &pols, "organizations", "list-policies-for-target", "--target-id", "ou-scp1-bbbbbbbb", "--filter", "SERVICE_CONTROL_POLICY", "--no-paginate")
	if len(pols.Policies) != 1 || pols.NextToken == "" {
		t.Errorf("one page: %+v", pols)
	}
	c.json(mgmt, &pols, "organizations", "list-policies-for-target", "--target-id", "ou-scp1-aaaaaaaa", "--filter", "SERVICE_CONTROL_POLICY")
	if len(pols.Policies) != 1 || pols.Policies[0].Id != "p-FullAWSAccess" {
		t.Errorf("an OU with nothing said gets FullAWSAccess: %+v", pols)
	}
	c.json(mgmt, &pols, "organizations", "list-policies-for-target", "--target-id", "710000000001", "--filter", "TAG_POLICY")
	if len(pols.Policies) != 0 {
		t.Errorf("tag policies: %+v", pols)
	}
	c.fails(mgmt, "TargetNotFoundException", "organizations", "list-policies-for-target", "--target-id", "ou-scp1-cccccccc", "--filter", "SERVICE_CONTROL_POLICY")

	var desc struct {
		Policy struct {
			PolicySummary summary
			Content       string
		}
	}
	c.json(mgmt, &desc, "organizations", "describe-policy", "--policy-id", "p-denyroot01")
	if desc.Policy.PolicySummary.Name != "DenyRoot" || !strings.Contains(desc.Policy.Content, `"arn:*:iam::*:root"`) {
		t.Errorf("describe-policy: %+v", desc)
	}
	c.json(mgmt, &desc, "organizations", "describe-policy", "--policy-id", "p-FullAWSAccess")
	if !desc.Policy.PolicySummary.AwsManaged || !strings.Contains(desc.Policy.Content, `"Effect": "Allow"`) {
		t.Errorf("describe-policy FullAWSAccess: %+v", desc)
	}
	c.fails(mgmt, "AccessDeniedException", "organizations", "describe-policy", "--policy-id", "p-secret0001")
	c.fails(mgmt, "PolicyNotFoundException", "organizations", "describe-policy", "--policy-id", "p-nothere0001")
}

package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

const (
	scpMember = "222222222222"
	fullAWS   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

// denyRoot is a one-statement SCP denying "*" on "*" under a Condition
// block (JSON object members, without braces).
func denyRoot(cond string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRoot","Effect":"Deny","Action":"*","Resource":"*","Condition":{` + cond + `}}]}`
}

func scpPolicy(id, content string) evidence.SCPPolicy {
	return evidence.SCPPolicy{ID: id, Name: "name-" + id, Content: content}
}

func full() evidence.SCPPolicy {
	return evidence.SCPPolicy{ID: "p-FullAWSAccess", Name: "FullAWSAccess", AWSManaged: true, Content: fullAWS}
}

// scpPathOf builds the path root → ou-1 → ou-2 → ou-3 → the account, each
// level with FullAWSAccess and whatever at[level] adds (0 root … 4 account).
func scpPathOf(at map[int][]evidence.SCPPolicy) []evidence.SCPTarget {
	ids := []string{"r-ab12", "ou-ab12-11111111", "ou-ab12-22222222", "ou-ab12-33333333", scpMember}
	types := []string{evidence.TargetRoot, evidence.TargetOU, evidence.TargetOU, evidence.TargetOU, evidence.TargetAccount}
	var out []evidence.SCPTarget
	for i := range ids {
		out = append(out, evidence.SCPTarget{ID: ids[i], Type: types[i], Policies: append([]evidence.SCPPolicy{full()}, at[i]...)})
	}
	return out
}

// scpAcct is a member with SCPs enabled and the given path.
func scpAcct(partition string, edit func(*evidence.SCPs), at map[int][]evidence.SCPPolicy) func(*testing.T) *evidence.Account {
	return func(*testing.T) *evidence.Account {
		s := &evidence.SCPs{OrganizationID: "o-ab12cd34ef", ManagementAccountID: "111111111111", RootID: "r-ab12",
			PolicyTypeStatus: evidence.SCPTypeEnabled, Path: scpPathOf(at), Problems: []string{}}
		if edit != nil {
			edit(s)
		}
		a := &evidence.Account{ID: scpMember, Partition: partition, SCPs: s,
			Organization: &evidence.Organization{Role: evidence.OrgRoleMember, ID: "o-ab12cd34ef", ManagementAccountID: "111111111111"}}
		a.SetSource(evidence.SourceOrganization, evidence.SourceStatus{State: evidence.StateOK})
		a.SetSource(evidence.SourceSCPs, evidence.SourceStatus{State: evidence.StateOK})
		return a
	}
}

// atRoot attaches one extra SCP to the organization root.
func atRoot(content string) func(*testing.T) *evidence.Account {
	return scpAcct("aws", nil, map[int][]evidence.SCPPolicy{0: {scpPolicy("p-guard", content)}})
}

const principalRoot = `"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"}`

func TestOrgRootActionsNotDenied(t *testing.T) {
	var cases []ruleCase
	add := func(name string, acct func(*testing.T) *evidence.Account, status finding.Status, msg string) {
		cases = append(cases, ruleCase{name, acct, nil, status, msg, nil})
	}
	pass, fail := finding.StatusPass, finding.StatusFail

	// Each spelling of the root principal, under each operator.
	add("Control Tower arn:*", atRoot(denyRoot(principalRoot)), pass, "SCP p-guard (name-p-guard) attached to the organization root r-ab12 denies every action")
	add("aws partition wildcard", atRoot(denyRoot(`"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}`)), pass, "")
	add("StringLike", atRoot(denyRoot(`"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}`)), pass, "")
	add("exact ARN StringEquals", atRoot(denyRoot(`"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::222222222222:root"}`)), pass, "")
	add("exact ARN ArnEquals", atRoot(denyRoot(`"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::222222222222:root"}`)), pass, "")
	add("ArnEquals with wildcards", atRoot(denyRoot(`"ArnEquals":{"aws:PrincipalArn":"arn:*:iam::*:root"}`)), pass, "")
	add("StringEquals takes * literally", atRoot(denyRoot(`"StringEquals":{"aws:PrincipalArn":"arn:*:iam::*:root"}`)), fail, "does not apply to this root user")
	add("another account's root", atRoot(denyRoot(`"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::999999999999:root"}`)), fail, "does not apply")
	add("question mark", atRoot(denyRoot(`"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:ro?t"}`)), pass, "")
	add("key casing", atRoot(denyRoot(`"arnlike":{"AWS:PRINCIPALARN":"arn:*:iam::*:root"}`)), pass, "")
	add("list of principals", atRoot(denyRoot(`"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/Legacy","arn:aws:iam::*:root"]}`)), pass, "")
	add("GovCloud spelling in the commercial partition", atRoot(denyRoot(`"ArnLike":{"aws:PrincipalArn":"arn:aws-us-gov:iam::*:root"}`)), fail, "does not apply")
	add("GovCloud spelling in GovCloud", scpAcct("aws-us-gov", nil, map[int][]evidence.SCPPolicy{0: {scpPolicy("p-guard", denyRoot(`"ArnLike":{"aws:PrincipalArn":"arn:aws-us-gov:iam::*:root"}`))}}), pass, "")
	add("commercial spelling in China", scpAcct("aws-cn", nil, map[int][]evidence.SCPPolicy{0: {scpPolicy("p-guard", denyRoot(`"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}`))}}), fail, "does not apply")
	add("every partition in China", scpAcct("aws-cn", nil, map[int][]evidence.SCPPolicy{0: {scpPolicy("p-guard", denyRoot(principalRoot))}}), pass, "")
	add("no condition at all", atRoot(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`), pass, "")

	// The conditions that leave no hole.
	add("centralized-root exemption", atRoot(denyRoot(principalRoot+`,"Null":{"aws:AssumedRoot":"true"}`)), pass, "")
	add("not via a service", atRoot(denyRoot(principalRoot+`,"Bool":{"aws:ViaAWSService":"false"}`)), pass, "")
	add("exemption list naming others", atRoot(denyRoot(principalRoot+`,"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::333333333333:root","arn:aws:iam::*:role/BreakGlass"]}`)), pass, "")
	add("StringNotLike exemption of others", atRoot(denyRoot(principalRoot+`,"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::3333*"}`)), pass, "")
	add("another account excluded", atRoot(denyRoot(principalRoot+`,"StringNotEquals":{"aws:PrincipalAccount":"999999999999"}`)), pass, "")

	// Holes.
	add("NotAction", atRoot(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:GetBucketPolicy","s3:PutBucketPolicy","s3:DeleteBucketPolicy"],"Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`),
		fail, "p-guard (name-p-guard) Statement[0] on the organization root r-ab12: NotAction leaves out s3:GetBucketPolicy, s3:PutBucketPolicy, s3:DeleteBucketPolicy")
	add("region", atRoot(denyRoot(principalRoot+`,"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}`)), fail, `condition not always met: StringNotEquals {"aws:RequestedRegion": ["eu-west-1"]}`)
	add("tag", atRoot(denyRoot(principalRoot+`,"StringEquals":{"aws:ResourceTag/protected":"true"}`)), fail, "condition not always met")
	add("MFA", atRoot(denyRoot(principalRoot+`,"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}`)), fail, "condition not always met: BoolIfExists")
	add("source IP", atRoot(denyRoot(principalRoot+`,"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24"]}`)), fail, "condition not always met: NotIpAddress")
	add("organization id is not assumed", atRoot(denyRoot(principalRoot+`,"StringEquals":{"aws:PrincipalOrgID":"o-ab12cd34ef"}`)), fail, "condition not always met")
	add("exempted by ArnNotLike", atRoot(denyRoot(principalRoot+`,"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::222222222222:root"]}`)),
		fail, `exempts this root user: ArnNotLike {"aws:PrincipalArn": ["arn:aws:iam::222222222222:root"]}`)
	add("exempted by a wildcard", atRoot(denyRoot(principalRoot+`,"ArnNotLikeIfExists":{"aws:PrincipalArn":"arn:aws:iam::2222*:root"}`)), fail, "exempts this root user")
	add("exempted by StringNotLike", atRoot(denyRoot(`"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"StringNotLike":{"aws:PrincipalArn":"*:222222222222:*"}`)), fail, "exempts this root user")
	add("exempted by account", atRoot(denyRoot(principalRoot+`,"StringNotEquals":{"aws:PrincipalAccount":["222222222222"]}`)), fail, `exempts this root user: StringNotEquals {"aws:PrincipalAccount": ["222222222222"]}`)
	add("only AssumeRoot sessions", atRoot(denyRoot(principalRoot+`,"Null":{"aws:AssumedRoot":"false"}`)), fail, "does not apply to this root user")
	add("only via services", atRoot(denyRoot(principalRoot+`,"Bool":{"aws:ViaAWSService":"true"}`)), fail, "does not apply")
	add("root access keys only (AWS-GR_RESTRICT_ROOT_USER_ACCESS_KEYS)", atRoot(`{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSERACCESSKEYS","Effect":"Deny","Action":"iam:CreateAccessKey","Resource":["*"],"Condition":{"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}}]}`),
		fail, "Action covers only iam:CreateAccessKey")
	add("some resources", atRoot(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"arn:aws:s3:::*","Condition":{`+principalRoot+`}}]}`), fail, "Resource covers only arn:aws:s3:::*")
	add("nothing denied", scpAcct("aws", nil, nil), fail, "No SCP on the path of 222222222222 (r-ab12 → ou-ab12-11111111 → ou-ab12-22222222 → ou-ab12-33333333 → 222222222222) denies its root user anything")
	add("unrelated denies", atRoot(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"},{"Effect":"Deny","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/x":"y"}}}]}`),
		fail, "Action covers only organizations:LeaveOrganization")

	// Partial denies that add up, and ones that do not.
	add("a region and its complement", scpAcct("aws", nil, map[int][]evidence.SCPPolicy{
		1: {scpPolicy("p-in", denyRoot(principalRoot+`,"StringEquals":{"aws:RequestedRegion":"eu-west-1"}`))},
		3: {scpPolicy("p-out", denyRoot(principalRoot+`,"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}`))}}),
		pass, "2 SCP statements together deny every action")
	add("a region and most of its complement", scpAcct("aws", nil, map[int][]evidence.SCPPolicy{
		1: {scpPolicy("p-in", denyRoot(principalRoot+`,"StringEquals":{"aws:RequestedRegion":"eu-west-1"}`))},
		3: {scpPolicy("p-out", denyRoot(principalRoot+`,"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}`))}}),
		fail, "condition not always met")
	add("NotAction and the actions it leaves", scpAcct("aws", nil, map[int][]evidence.SCPPolicy{
		0: {scpPolicy("p-sample", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:GetBucketPolicy","s3:PutBucketPolicy","s3:DeleteBucketPolicy"],"Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`)},
		2: {scpPolicy("p-s3", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`)}}),
		pass, "2 SCP statements together")

	// Inheritance: the guardrail at each level of the path.
	for level, name := range []string{"root", "first-level OU", "second-level OU", "third-level OU", "account"} {
		add("guardrail on the "+name, scpAcct("aws", nil, map[int][]evidence.SCPPolicy{level: {scpPolicy("p-guard", denyRoot(principalRoot))}}), pass, "denies every action")
	}

	// SCPs off, the management account, scans that read no SCP.
	add("SCPs not enabled", scpAcct("aws", func(s *evidence.SCPs) { s.PolicyTypeStatus = ""; s.Path = nil }, nil), fail, "SCPs are not enabled in organization o-ab12cd34ef")
	add("SCPs pending enable", scpAcct("aws", func(s *evidence.SCPs) { s.PolicyTypeStatus = "PENDING_ENABLE" }, map[int][]evidence.SCPPolicy{0: {scpPolicy("p-guard", denyRoot(principalRoot))}}), fail, "PENDING_ENABLE")
	add("SCPs pending disable", scpAcct("aws", func(s *evidence.SCPs) { s.PolicyTypeStatus = "PENDING_DISABLE" }, map[int][]evidence.SCPPolicy{0: {scpPolicy("p-guard", denyRoot(principalRoot))}}), fail, "PENDING_DISABLE")
	add("management account", func(*testing.T) *evidence.Account {
		a := &evidence.Account{ID: "111111111111", Partition: "aws", SCPs: &evidence.SCPs{ManagementAccount: true, ManagementAccountID: "111111111111"}}
		a.SetSource(evidence.SourceSCPs, evidence.SourceStatus{State: evidence.StateOK})
		return a
	}, finding.StatusNotApplicable, "SCPs never apply to the management account")
	add("management account scanned alone", func(*testing.T) *evidence.Account {
		return &evidence.Account{ID: "111111111111", Organization: &evidence.Organization{Role: evidence.OrgRoleManagement, ManagementAccountID: "111111111111"}}
	}, finding.StatusNotApplicable, "SCPs never apply to the management account")
	add("standalone account", func(*testing.T) *evidence.Account {
		return &evidence.Account{ID: "333333333333", Organization: &evidence.Organization{Role: evidence.OrgRoleStandalone}}
	}, finding.StatusNotApplicable, "not in an AWS Organization")
	add("member scanned alone", func(*testing.T) *evidence.Account {
		return &evidence.Account{ID: scpMember, Organization: &evidence.Organization{Role: evidence.OrgRoleMember, ManagementAccountID: "111111111111"}}
	}, finding.StatusNotApplicable, "only an organization scan reads them (rootwatch scan --org")

	// What could not be read.
	add("source denied without data", func(*testing.T) *evidence.Account {
		a := &evidence.Account{ID: scpMember}
		a.SetSource(evidence.SourceSCPs, evidence.SourceStatus{State: evidence.StateDenied, Detail: "ListRoots: AccessDenied"})
		return a
	}, finding.StatusUnknown, "ListRoots: AccessDenied")
	refused := func(s *evidence.SCPs) {
		s.Path[1].Policies[1] = evidence.SCPPolicy{ID: "p-secret", Error: "DescribePolicy p-secret: AccessDeniedException: denied"}
		s.Problems = []string{"DescribePolicy p-secret: AccessDeniedException: denied"}
	}
	add("DescribePolicy refused", scpAcct("aws", refused, map[int][]evidence.SCPPolicy{1: {{}}}), finding.StatusUnknown, "DescribePolicy p-secret: AccessDeniedException")
	add("DescribePolicy refused beside a guardrail", scpAcct("aws", refused, map[int][]evidence.SCPPolicy{1: {{}}, 2: {scpPolicy("p-guard", denyRoot(principalRoot))}}),
		pass, "Not everything on the path could be read (DescribePolicy p-secret")
	add("ListPoliciesForTarget refused", scpAcct("aws", func(s *evidence.SCPs) {
		s.Path[2].Policies, s.Path[2].Error = nil, "ListPoliciesForTarget ou-ab12-22222222: AccessDeniedException: denied"
		s.Problems = []string{s.Path[2].Error}
	}, nil), finding.StatusUnknown, "ListPoliciesForTarget ou-ab12-22222222")
	add("ListParents refused", scpAcct("aws", func(s *evidence.SCPs) {
		s.Path = []evidence.SCPTarget{s.Path[0], s.Path[4]}
		s.Problems = []string{"ListParents 222222222222: AccessDeniedException: denied"}
	}, nil), finding.StatusUnknown, "ListParents 222222222222")
	add("ListRoots refused", scpAcct("aws", func(s *evidence.SCPs) {
		s.RootID, s.PolicyTypeStatus, s.Path = "", "", nil
		s.Problems = []string{"ListRoots: AccessDeniedException: denied"}
	}, nil), finding.StatusUnknown, "whether SCPs are enabled is unknown (ListRoots: AccessDeniedException")
	add("policy does not parse", atRoot(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*"`), finding.StatusUnknown, "SCP p-guard (name-p-guard) attached to r-ab12 does not parse")

	runCases(t, orgRootActionsNotDenied(), cases)
}

// TestOrgRootActionsNotDeniedControlTower: every published version of
// AWS-GR_RESTRICT_ROOT_USER covers a member's root user unless its
// ExemptedPrincipalArns name it; ExemptAssumeRoot leaves no hole.
func TestOrgRootActionsNotDeniedControlTower(t *testing.T) {
	versions := map[string]func(exempt, assumeRoot string) string{
		// The guardrail's first artifacts (IAM users, then IAM Identity Center wording).
		"StringLike arn:aws": func(string, string) string {
			return `{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":["*"],"Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}}]}`
		},
		"ArnLike arn:aws": func(string, string) string {
			return `{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":["*"],"Condition":{"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}}]}`
		},
		// With ExemptedPrincipalArns.
		"StringLike arn:* with exemptions": func(exempt, _ string) string {
			return `{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":["arn:*:iam::*:root"]}` + exempt + `}}]}`
		},
		// With ExemptedPrincipalArns and ExemptAssumeRoot.
		"ArnLike arn:* with exemptions and AssumeRoot": func(exempt, assumeRoot string) string {
			return `{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":["arn:*:iam::*:root"]}` + exempt + assumeRoot + `}}]}`
		},
	}
	const assumeRoot = `,"Null":{"aws:AssumedRoot":"true"}`
	ran := 0
	for name, v := range versions {
		for _, c := range []struct {
			how, exempt, assumeRoot string
			want                    finding.Status
		}{
			{"plain", "", "", finding.StatusPass},
			{"others exempted", `,"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/AWSControlTowerExecution","arn:aws:iam::333333333333:root"]}`, "", finding.StatusPass},
			{"others exempted, IfExists", `,"ArnNotLikeIfExists":{"aws:PrincipalArn":["arn:aws:iam::*:role/AWSControlTowerExecution"]}`, "", finding.StatusPass},
			{"AssumeRoot exempted", "", assumeRoot, finding.StatusPass},
			{"this root exempted", `,"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::222222222222:root"]}`, "", finding.StatusFail},
			{"this root and AssumeRoot exempted", `,"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::222222222222:root"]}`, assumeRoot, finding.StatusFail},
		} {
			doc := v(c.exempt, c.assumeRoot)
			if (c.exempt != "" && !strings.Contains(doc, c.exempt)) || (c.assumeRoot != "" && !strings.Contains(doc, c.assumeRoot)) {
				continue // this version has no such parameter
			}
			ran++
			for level := range 4 { // Control Tower attaches it to OUs
				res := orgRootActionsNotDenied().Eval(Input{Account: scpAcct("aws", nil, map[int][]evidence.SCPPolicy{level: {scpPolicy("p-ct", doc)}})(t), AsOf: asOf, Settings: defaults})
				if res[0].Status != c.want {
					t.Errorf("%s, %s, level %d: %s (%s)", name, c.how, level, res[0].Status, res[0].Message)
				}
			}
		}
	}
	if ran != 1+1+4+6 {
		t.Errorf("%d version and parameter combinations judged, want 12", ran)
	}
}

// TestOrgRootActionsNotDeniedEvidence: what a pass and a fail show.
func TestOrgRootActionsNotDeniedEvidence(t *testing.T) {
	in := func(a *evidence.Account) Result {
		return orgRootActionsNotDenied().Eval(Input{Account: a, AsOf: asOf, Settings: defaults})[0]
	}
	guard := denyRoot(principalRoot)
	res := in(scpAcct("aws", nil, map[int][]evidence.SCPPolicy{2: {scpPolicy("p-guard", guard)}})(t))
	by := res.Evidence["denied_by"].([]map[string]any)
	if len(by) != 1 || by[0]["policy_id"] != "p-guard" || by[0]["policy_name"] != "name-p-guard" || by[0]["target"] != "ou-ab12-22222222" ||
		by[0]["target_type"] != evidence.TargetOU || by[0]["statement"] != `{"Sid":"DenyRoot","Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"}}}` {
		t.Errorf("denied_by = %v", by)
	}
	path := res.Evidence["path"].([]map[string]any)
	if len(path) != 5 || path[0]["id"] != "r-ab12" || path[0]["type"] != evidence.TargetRoot || fmt.Sprint(path[2]["policies"]) != "[p-FullAWSAccess (FullAWSAccess) p-guard (name-p-guard)]" || path[4]["id"] != scpMember {
		t.Errorf("path = %v", path)
	}
	if res.Evidence["root_arn"] != "arn:aws:iam::222222222222:root" || res.Evidence["scp_status"] != "ENABLED" || len(res.Evidence["gaps"].([]string)) != 0 {
		t.Errorf("evidence = %v", res.Evidence)
	}

	res = in(scpAcct("aws", nil, map[int][]evidence.SCPPolicy{
		1: {scpPolicy("p-sample", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"s3:PutBucketPolicy","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`)},
		3: {scpPolicy("p-guard", denyRoot(principalRoot+`,"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:root"}`))}})(t))
	gaps := res.Evidence["gaps"].([]string)
	want := []string{
		"p-sample (name-p-sample) Statement[0] on OU ou-ab12-11111111: NotAction leaves out s3:PutBucketPolicy",
		`p-guard (name-p-guard) Statement[0] (Sid "DenyRoot") on OU ou-ab12-33333333: exempts this root user: ArnNotLike {"aws:PrincipalArn": "arn:aws:iam::222222222222:root"}`,
	}
	if res.Status != finding.StatusFail || fmt.Sprint(gaps) != fmt.Sprint(want) {
		t.Errorf("%s gaps = %q, want %q", res.Status, gaps, want)
	}
	partial := res.Evidence["partial_denies"].([]map[string]any)
	if len(partial) != 2 || partial[1]["policy_id"] != "p-guard" || fmt.Sprint(partial[1]["gaps"]) != "[exempts this root user: ArnNotLike {\"aws:PrincipalArn\": \"arn:aws:iam::222222222222:root\"}]" {
		t.Errorf("partial_denies = %v", partial)
	}
	if _, ok := res.Evidence["denied_by"]; ok {
		t.Error("a failing finding names a deny")
	}
}

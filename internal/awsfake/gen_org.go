package awsfake

import (
	"fmt"
	"slices"
	"strings"
)

// Generated organizations get an OU tree three levels deep and a dozen
// SCPs of the kinds people attach: Control Tower's deny-root guardrail in
// its spellings, and beside it the holes the org-root-actions-not-denied
// rule must find (AWS's NotAction sample, a region condition, an MFA
// condition, an exemption list naming some accounts, a deny of root access
// keys only), and guardrails that are not about root at all. Every member
// ends in one of the places listed in GenPlacements, round robin.

// GenRootID is the root of a generated organization.
const GenRootID = "r-gen0"

// The OUs of a generated organization (parents first).
var genOUs = []OUSpec{
	{ID: "ou-gen0-00000001", Name: "Security", SCPs: []string{FullAWSAccessID, "p-gen0ctroot"}},
	{ID: "ou-gen0-00000002", Name: "Infrastructure", SCPs: []string{FullAWSAccessID, "p-gen0rootregion"}},
	{ID: "ou-gen0-00000003", Name: "Workloads", SCPs: []string{FullAWSAccessID, "p-gen0regions"}},
	{ID: "ou-gen0-00000004", Name: "Sandbox", SCPs: []string{FullAWSAccessID, "p-gen0notaction"}},
	{ID: "ou-gen0-00000005", Name: "Suspended", SCPs: []string{FullAWSAccessID, "p-gen0denyall"}},
	{ID: "ou-gen0-00000006", Name: "Shared", Parent: "ou-gen0-00000002", SCPs: []string{FullAWSAccessID, "p-gen0exempt"}},
	{ID: "ou-gen0-00000007", Name: "Network", Parent: "ou-gen0-00000002"},
	{ID: "ou-gen0-00000008", Name: "Prod", Parent: "ou-gen0-00000003"},
	{ID: "ou-gen0-00000009", Name: "NonProd", Parent: "ou-gen0-00000003", SCPs: []string{FullAWSAccessID, "p-gen0rootkeys"}},
	{ID: "ou-gen0-00000010", Name: "Prod-EU", Parent: "ou-gen0-00000008", SCPs: []string{FullAWSAccessID, "p-gen0ctroot"}},
	{ID: "ou-gen0-00000011", Name: "Prod-US", Parent: "ou-gen0-00000008", SCPs: []string{FullAWSAccessID, "p-gen0ctassumeroot"}},
	{ID: "ou-gen0-00000012", Name: "Dev", Parent: "ou-gen0-00000009"},
	{ID: "ou-gen0-00000013", Name: "Test", Parent: "ou-gen0-00000009", SCPs: []string{FullAWSAccessID, "p-gen0ctlegacy"}},
	{ID: "ou-gen0-00000014", Name: "Teams", Parent: "ou-gen0-00000004", SCPs: []string{FullAWSAccessID, "p-gen0rootmfa"}},
	{ID: "ou-gen0-00000015", Name: "Team-A", Parent: "ou-gen0-00000014"},
	{ID: "ou-gen0-00000016", Name: "Team-B", Parent: "ou-gen0-00000014", SCPs: []string{FullAWSAccessID, "p-gen0ctroot"}},
}

// GenPlacements are where generated members go, round robin, with what
// org-root-actions-not-denied says of each: "pass", "fail" or, for
// Shared, "pass" unless the account is one the exemption list names.
var GenPlacements = []struct{ Parent, Verdict string }{
	{"", "fail"}, // the root: nothing denies root there
	{"ou-gen0-00000001", "pass"},
	{"ou-gen0-00000006", "pass"},
	{"ou-gen0-00000007", "fail"},
	{"ou-gen0-00000010", "pass"},
	{"ou-gen0-00000011", "pass"},
	{"ou-gen0-00000012", "fail"},
	{"ou-gen0-00000013", "pass"},
	{"ou-gen0-00000004", "fail"},
	{"ou-gen0-00000015", "fail"},
	{"ou-gen0-00000016", "pass"},
	{"ou-gen0-00000005", "pass"},
}

const genCTRoot = `{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":["arn:*:iam::*:root"]}%s}}]}`

func genPolicies(exempt []string) []PolicySpec {
	quoted := make([]string, len(exempt))
	for i, id := range exempt {
		quoted[i] = `"arn:aws:iam::` + id + `:root"`
	}
	return []PolicySpec{
		{ID: "p-gen0denyleave", Name: "DenyLeaveOrganization", Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`},
		{ID: "p-gen0protecttrail", Name: "ProtectCloudTrail", Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["cloudtrail:StopLogging","cloudtrail:DeleteTrail","cloudtrail:UpdateTrail"],"Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/AWSControlTowerExecution"}}}]}`},
		{ID: "p-gen0ctroot", Name: "aws-guardrails-RestrictRootUser", Content: fmt.Sprintf(genCTRoot, "")},
		{ID: "p-gen0ctassumeroot", Name: "aws-guardrails-RestrictRootUser-AssumeRoot", Content: fmt.Sprintf(genCTRoot, `,"Null":{"aws:AssumedRoot":"true"}`)},
		{ID: "p-gen0ctlegacy", Name: "RestrictRootUserLegacy", Content: `{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":["*"],"Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}}]}`},
		{ID: "p-gen0exempt", Name: "RestrictRootUserWithExemptions", Content: fmt.Sprintf(genCTRoot, `,"ArnNotLike":{"aws:PrincipalArn":[`+strings.Join(quoted, ",")+`]}`)},
		{ID: "p-gen0notaction", Name: "DenyRootExceptBucketPolicies", Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:GetBucketPolicy","s3:PutBucketPolicy","s3:DeleteBucketPolicy"],"Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`},
		{ID: "p-gen0rootregion", Name: "DenyRootOutsideHomeRegions", Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}]}`},
		{ID: "p-gen0rootmfa", Name: "DenyRootWithoutMFA", Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`},
		{ID: "p-gen0rootkeys", Name: "aws-guardrails-RestrictRootUserAccessKeys", Content: `{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSERACCESSKEYS","Effect":"Deny","Action":"iam:CreateAccessKey","Resource":["*"],"Condition":{"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}}]}`},
		{ID: "p-gen0regions", Name: "DenyOutsideHomeRegions", Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:*","organizations:*","sts:*","support:*","budgets:*","cloudfront:*","route53:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}]}`},
		{ID: "p-gen0denyall", Name: "DenyAll", Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`},
	}
}

// genOrganization gives a generated world its organization structure:
// members placed round robin (GenPlacements), the first two members placed
// in Shared named by its exemption list, every 40th member with the legacy
// guardrail attached to the account itself. Clean: the guardrail is on the
// root too, so every member is covered. SCPFaults: DescribePolicy of
// p-gen0rootmfa is denied and so is ListPoliciesForTarget on Team-B.
func genOrganization(w *World, o GenOptions) {
	faults := o.SCPFaults
	spec := OrgSpec{ID: GenOrganizationID, RootID: GenRootID, RootSCPs: []string{FullAWSAccessID, "p-gen0denyleave", "p-gen0protecttrail"},
		AccountSCPs: map[string][]string{}}
	if o.Clean {
		// A well-run organization denies root everything from the root down.
		spec.RootSCPs = append(spec.RootSCPs, "p-gen0ctroot")
	}
	ous := map[string][]string{}
	var exempt []string
	for i, a := range w.Accounts {
		if i == 0 || a.Organization == nil || a.Organization.ID != GenOrganizationID {
			continue
		}
		place := GenPlacements[(i-1)%len(GenPlacements)].Parent
		if place != "" {
			ous[place] = append(ous[place], a.ID)
		}
		if place == "ou-gen0-00000006" && len(exempt) < 2 {
			exempt = append(exempt, a.ID)
		}
		if i%40 == 0 {
			spec.AccountSCPs[a.ID] = []string{FullAWSAccessID, "p-gen0ctlegacy"}
		}
	}
	for _, ou := range genOUs {
		ou.Accounts = ous[ou.ID]
		if faults && ou.Name == "Team-B" {
			ou.ListDenied = true
		}
		spec.OUs = append(spec.OUs, ou)
	}
	spec.Policies = genPolicies(exempt)
	if faults {
		for i := range spec.Policies {
			if spec.Policies[i].ID == "p-gen0rootmfa" {
				spec.Policies[i].DescribeDenied = true
			}
		}
	}
	w.Organizations = []OrgSpec{spec}
}

// GenExpectedSCPVerdict is what org-root-actions-not-denied says of the
// generated member w.Accounts[i] (i ≥ 1) when there are no faults.
func GenExpectedSCPVerdict(w *World, i int) string {
	id := w.Accounts[i].ID
	if i%40 == 0 || slices.Contains(w.Organizations[0].RootSCPs, "p-gen0ctroot") {
		return "pass" // the legacy guardrail on the account itself, or the guardrail on the root
	}
	p := GenPlacements[(i-1)%len(GenPlacements)]
	if p.Parent == "ou-gen0-00000006" {
		for _, o := range w.Organizations {
			for _, pol := range o.Policies {
				if pol.ID == "p-gen0exempt" && strings.Contains(pol.Content, ":"+id+":root") {
					return "fail"
				}
			}
		}
	}
	return p.Verdict
}

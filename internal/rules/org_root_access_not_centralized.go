package rules

import (
	"fmt"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func orgRootAccessNotCentralized() Rule {
	return Rule{
		ID:       "org-root-access-not-centralized",
		Title:    "Organization has not centralized root access",
		Severity: finding.SeverityMedium,
		Category: "organization",
		Sources:  []string{evidence.SourceOrganization},
		Eval:     evalOrgRootAccess,
	}
}

func evalOrgRootAccess(in Input) []Result {
	a := in.Account
	if r := sourceProblem(a, evidence.SourceOrganization, "centralized root access"); r != nil {
		return one(*r)
	}
	org := a.Organization
	if org == nil {
		return one(Result{Status: finding.StatusError, Message: "Internal inconsistency: the organization source is ok but holds nothing.", Evidence: map[string]any{}})
	}
	ev := map[string]any{"source": evidence.SourceOrganization, "org_role": org.Role}
	if org.ID != "" {
		ev["organization_id"] = org.ID
	}
	switch org.Role {
	case evidence.OrgRoleStandalone:
		return one(Result{Status: finding.StatusNotApplicable, Evidence: ev,
			Message: "The account is not in an AWS Organization; centralized root access does not apply."})
	case evidence.OrgRoleMember:
		ev["management_account_id"] = org.ManagementAccountID
		return one(Result{Status: finding.StatusNotApplicable, Evidence: ev,
			Message: fmt.Sprintf("The account is a member of %s; centralized root access is judged on its management account %s.", org.ID, org.ManagementAccountID)})
	case evidence.OrgRoleManagement:
	default:
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("Cannot judge centralized root access: unknown organization role %q.", org.Role)})
	}
	ev["enabled_features"] = append([]string{}, org.EnabledFeatures...)
	resource := ""
	if org.ID != "" && org.ManagementAccountID != "" {
		resource = fmt.Sprintf("arn:%s:organizations::%s:organization/%s", partitionOf(a), org.ManagementAccountID, org.ID)
	}
	if org.HasFeature(evidence.FeatureRootCredentialsManagement) {
		return one(Result{Status: finding.StatusPass, Evidence: ev, Resource: resource,
			Message: fmt.Sprintf("Organization %s has centralized root credentials management enabled.", org.ID)})
	}
	return one(Result{Status: finding.StatusFail, Evidence: ev, Resource: resource,
		Message: fmt.Sprintf("Organization %s has not enabled centralized root credentials management (RootCredentialsManagement), so every member account keeps root credentials of its own.", org.ID)})
}

func partitionOf(a *evidence.Account) string {
	if a.Partition == "" {
		return "aws"
	}
	return a.Partition
}

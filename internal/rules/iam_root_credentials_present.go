package rules

import (
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func rootCredentialsPresent() Rule {
	return Rule{
		ID:       "iam-root-credentials-present",
		Title:    "Member root user still has credentials under centralized root access",
		Severity: finding.SeverityHigh,
		Category: "organization",
		Sources:  []string{evidence.SourceOrganization, evidence.SourceRootCredentials},
		Eval:     evalRootCredentialsPresent,
	}
}

// auditedRoot returns the root credentials read in an AssumeRoot audit
// session, when there are any to trust.
func auditedRoot(a *evidence.Account) *evidence.RootCredentials {
	if a.Source(evidence.SourceRootCredentials).State == evidence.StateOK {
		return a.RootCredentials
	}
	return nil
}

func rootCredsEvidence(rc *evidence.RootCredentials) map[string]any {
	list := func(cs []evidence.RootCredential) []map[string]any {
		out := []map[string]any{}
		for _, c := range cs {
			m := map[string]any{"id": c.ID}
			if c.Status != "" {
				m["status"] = c.Status
			}
			if !c.Created.IsZero() {
				m["created"] = fmtTime(c.Created)
			}
			out = append(out, m)
		}
		return out
	}
	ev := map[string]any{
		"source": evidence.SourceRootCredentials, "task_policy": "IAMAuditRootUserCredentials",
		"password": rc.Password, "access_keys": list(rc.AccessKeys), "mfa_devices": deviceEvidence(rc.MFADevices), "signing_certificates": list(rc.Certificates),
	}
	if rc.Password && !rc.PasswordCreated.IsZero() {
		ev["password_created"] = fmtTime(rc.PasswordCreated)
	}
	return ev
}

func evalRootCredentialsPresent(in Input) []Result {
	a := in.Account
	if r := sourceProblem(a, evidence.SourceOrganization, "whether member root credentials remain"); r != nil {
		return one(*r)
	}
	org := a.Organization
	if org == nil {
		return one(Result{Status: finding.StatusError, Message: "Internal inconsistency: the organization source is ok but holds nothing.", Evidence: map[string]any{}})
	}
	ev := map[string]any{"source": evidence.SourceOrganization, "org_role": org.Role}
	switch org.Role {
	case evidence.OrgRoleStandalone:
		return one(Result{Status: finding.StatusNotApplicable, Evidence: ev, Message: "The account is not in an AWS Organization; centralized root access does not apply."})
	case evidence.OrgRoleManagement:
		return one(Result{Status: finding.StatusNotApplicable, Evidence: ev,
			Message: "AssumeRoot audits member accounts; the management account's own root user is judged by the other root rules."})
	}
	if !org.FeaturesKnown() {
		if org.FeaturesUnknown != "" {
			ev["features_unknown"] = org.FeaturesUnknown
			return one(Result{Status: finding.StatusUnknown, Evidence: ev,
				Message: "Cannot judge: the organization's features could not be read: " + org.FeaturesUnknown + "."})
		}
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: "Cannot judge: a member account cannot read its organization's features; scan the organization from its management account or the IAM delegated administrator."})
	}
	ev["enabled_features"] = append([]string{}, org.EnabledFeatures...)
	if !org.HasFeature(evidence.FeatureRootCredentialsManagement) {
		return one(Result{Status: finding.StatusNotApplicable, Evidence: ev,
			Message: fmt.Sprintf("Organization %s has not enabled centralized root credentials management (see org-root-access-not-centralized), so its member root users are judged by the other root rules.", org.ID)})
	}
	if r := sourceProblem(a, evidence.SourceRootCredentials, "whether the member root user still has credentials"); r != nil {
		return one(*r)
	}
	rc := a.RootCredentials
	if rc == nil {
		return one(Result{Status: finding.StatusError, Message: "Internal inconsistency: the root_credentials source is ok but holds nothing.", Evidence: map[string]any{}})
	}
	ev = rootCredsEvidence(rc)
	// One definition of a credential, shared with remediate plan.
	if held := rc.Held(); len(held) > 0 {
		return one(Result{Status: finding.StatusFail, Evidence: ev,
			Message: "Under centralized root access, the member root user still has " + strings.Join(held, ", ") + "."})
	}
	msg := "The member root user has no password, access keys or signing certificates (AssumeRoot audit)."
	if len(rc.MFADevices) > 0 {
		msg += " Still registered: " + rc.MFADeviceCount() + "; an MFA device alone lets no one sign in, so it is not counted as a credential (remediate plan leaves it alone too)."
	}
	return one(Result{Status: finding.StatusPass, Evidence: ev, Message: msg})
}

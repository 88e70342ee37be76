package rules

import (
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/policy/analysis"
	"github.com/rootwatch/rootwatch/internal/policy/eval"
)

func orgRootActionsNotDenied() Rule {
	return Rule{
		ID:       "org-root-actions-not-denied",
		Title:    "No SCP denies every action to the member account's root user",
		Severity: finding.SeverityHigh,
		Category: "organization",
		Sources:  []string{evidence.SourceSCPs, evidence.SourceOrganization},
		Eval:     evalOrgRootActionsNotDenied,
	}
}

func evalOrgRootActionsNotDenied(in Input) []Result {
	a := in.Account
	s := a.SCPs
	org := a.Organization
	ev := map[string]any{"source": evidence.SourceSCPs}
	if (s != nil && s.ManagementAccount) || (org != nil && org.ManagementAccountID != "" && org.ManagementAccountID == a.ID) {
		return one(Result{Status: finding.StatusNotApplicable, Evidence: ev,
			Message: fmt.Sprintf("Account %s is the organization's management account: SCPs never apply to the management account, so its root user can only be guarded by its own credentials.", a.ID)})
	}
	if s == nil {
		st := a.Source(evidence.SourceSCPs)
		if st.State != evidence.StateMissing {
			return one(*sourceProblem(a, evidence.SourceSCPs, "whether SCPs deny root actions"))
		}
		if org != nil && org.Role == evidence.OrgRoleStandalone {
			return one(Result{Status: finding.StatusNotApplicable, Evidence: ev,
				Message: fmt.Sprintf("Account %s is not in an AWS Organization; no SCP can deny its root user anything.", a.ID)})
		}
		return one(Result{Status: finding.StatusNotApplicable, Evidence: ev,
			Message: fmt.Sprintf("SCPs were not read for account %s: only an organization scan reads them (rootwatch scan --org, from the management account or a delegated administrator).", a.ID)})
	}
	ev["organization_id"] = s.OrganizationID
	ev["scp_status"] = s.PolicyTypeStatus
	ev["path"] = scpPath(s)
	problems := append([]string{}, s.Problems...)
	targets, parseProblems := parseSCPs(s)
	problems = append(problems, parseProblems...)
	if len(problems) > 0 {
		ev["problems"] = problems
	}
	unknown := func(why string) []Result {
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("Cannot tell whether SCPs deny every action to the root user of %s: %s.", a.ID, why)})
	}
	switch {
	case s.PolicyTypeStatus == evidence.SCPTypeEnabled:
	case s.RootID == "" && len(s.Problems) > 0:
		return unknown("whether SCPs are enabled is unknown (" + strings.Join(s.Problems, "; ") + ")")
	case s.PolicyTypeStatus == "":
		return one(Result{Status: finding.StatusFail, Evidence: ev,
			Message: fmt.Sprintf("SCPs are not enabled in organization %s (the root %s lists no SERVICE_CONTROL_POLICY policy type), so nothing denies actions to the root user of %s.", s.OrganizationID, s.RootID, a.ID)})
	default:
		return one(Result{Status: finding.StatusFail, Evidence: ev,
			Message: fmt.Sprintf("SCPs are %s in organization %s, not ENABLED, so no SCP can be relied on to deny actions to the root user of %s.", s.PolicyTypeStatus, s.OrganizationID, a.ID)})
	}
	rootARN := a.RootARN()
	sc, err := analysis.RootScenario(rootARN)
	if err != nil {
		return one(Result{Status: finding.StatusError, Evidence: ev, Message: fmt.Sprintf("Cannot describe the root user of %s: %v.", a.ID, err)})
	}
	ev["root_arn"] = rootARN
	covs := analysis.DenyCoverages(targets, sc)
	for _, c := range covs {
		if c.Complete() {
			ev["denied_by"] = []map[string]any{denyEvidence(s, c)}
			ev["gaps"] = []string{}
			return one(Result{Status: finding.StatusPass, Evidence: ev,
				Message: fmt.Sprintf("SCP %s attached to %s denies every action to the root user of %s (%s).", policyLabel(s, c.Policy), targetLabel(s, c.Target), a.ID, c.Statement.Label()) + unreadNote(problems)})
		}
	}
	if ok, by := analysis.DenyUnion(targets, sc); ok {
		list := make([]map[string]any, len(by))
		names := make([]string, len(by))
		for i, c := range by {
			list[i] = denyEvidence(s, c)
			names[i] = fmt.Sprintf("%s %s on %s", policyLabel(s, c.Policy), c.Statement.Label(), targetLabel(s, c.Target))
		}
		ev["denied_by"] = list
		ev["gaps"] = []string{}
		return one(Result{Status: finding.StatusPass, Evidence: ev,
			Message: fmt.Sprintf("%d SCP statements together deny every action to the root user of %s, leaving no action and no request out: %s.", len(by), a.ID, strings.Join(names, "; ")) + unreadNote(problems)})
	}
	gaps, partial := scpGaps(s, covs)
	ev["gaps"] = gaps
	ev["partial_denies"] = partial
	if len(problems) > 0 {
		what := "of what could be read, no SCP denies its root user anything"
		if len(gaps) > 0 {
			what = "what could be read leaves holes: " + summarizeGaps(gaps)
		}
		return unknown(strings.Join(problems, "; ") + "; " + what)
	}
	if len(gaps) == 0 {
		return one(Result{Status: finding.StatusFail, Evidence: ev,
			Message: fmt.Sprintf("No SCP on the path of %s (%s) denies its root user anything.", a.ID, pathLabel(s))})
	}
	return one(Result{Status: finding.StatusFail, Evidence: ev,
		Message: fmt.Sprintf("No SCP in force for %s denies every action to its root user: %s.", a.ID, summarizeGaps(gaps))})
}

// parseSCPs reads every policy on the path; a policy that could not be read
// or parsed is left out and named.
func parseSCPs(s *evidence.SCPs) ([]eval.SCPTarget, []string) {
	var targets []eval.SCPTarget
	var problems []string
	for _, t := range s.Path {
		pt := eval.SCPTarget{Target: t.ID}
		for _, p := range t.Policies {
			if p.Error != "" {
				continue // already among s.Problems
			}
			doc, err := eval.Parse([]byte(p.Content))
			if err != nil {
				problems = append(problems, fmt.Sprintf("SCP %s attached to %s does not parse: %v", scpName(p), t.ID, err))
				continue
			}
			pt.Policies = append(pt.Policies, eval.Named{Name: p.ID, Policy: doc})
		}
		targets = append(targets, pt)
	}
	return targets, problems
}

// scpGaps says, one line each, what keeps each Deny from covering this
// root: the holes of those that reach it, and the broad ones whose
// conditions leave it out (an exemption list naming it).
func scpGaps(s *evidence.SCPs, covs []analysis.TargetCoverage) ([]string, []map[string]any) {
	gaps := []string{}
	partial := []map[string]any{}
	for _, c := range covs {
		var these []string
		if c.Applies == eval.No {
			if !c.AllActions && len(c.NotActions) == 0 {
				continue // a deny of some actions that does not reach root
			}
			for _, o := range c.Conditions {
				if o.Holds != eval.No {
					continue
				}
				if principalKey(o.Condition.Key) && strings.Contains(strings.ToLower(o.Condition.Operator), "not") {
					these = append(these, "exempts this root user: "+o.Condition.String())
				} else {
					these = append(these, "does not apply to this root user: "+o.Condition.String())
				}
			}
		} else {
			these = c.Gaps()
		}
		where := fmt.Sprintf("%s %s on %s", policyLabel(s, c.Policy), c.Statement.Label(), targetLabel(s, c.Target))
		for _, g := range these {
			gaps = append(gaps, where+": "+g)
		}
		m := denyEvidence(s, c)
		m["gaps"] = these
		partial = append(partial, m)
	}
	return gaps, partial
}

// principalKey reports whether a condition key names the principal, so
// that a negated test on it failing for this root is an exemption.
func principalKey(key string) bool {
	for _, k := range []string{"aws:PrincipalArn", "aws:PrincipalAccount", "aws:userid"} {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	return false
}

func summarizeGaps(gaps []string) string {
	const shown = 3
	if len(gaps) <= shown {
		return strings.Join(gaps, "; ")
	}
	return strings.Join(gaps[:shown], "; ") + fmt.Sprintf("; and %d more (evidence.gaps)", len(gaps)-shown)
}

func unreadNote(problems []string) string {
	if len(problems) == 0 {
		return ""
	}
	return fmt.Sprintf(" Not everything on the path could be read (%s), but an SCP can only deny more.", strings.Join(problems, "; "))
}

func denyEvidence(s *evidence.SCPs, c analysis.TargetCoverage) map[string]any {
	m := map[string]any{"target": c.Target, "target_type": targetType(s, c.Target), "policy_id": c.Policy, "statement": c.Statement.JSON()}
	if p := findSCP(s, c.Policy); p != nil {
		m["policy_name"] = p.Name
	}
	return m
}

// scpPath is the path walked, root first, with each level's policies.
func scpPath(s *evidence.SCPs) []map[string]any {
	out := []map[string]any{}
	for _, t := range s.Path {
		pols := []string{}
		for _, p := range t.Policies {
			pols = append(pols, scpName(p))
		}
		m := map[string]any{"id": t.ID, "type": t.Type, "policies": pols}
		if t.Error != "" {
			m["error"] = t.Error
		}
		out = append(out, m)
	}
	return out
}

func pathLabel(s *evidence.SCPs) string {
	ids := make([]string, len(s.Path))
	for i, t := range s.Path {
		ids[i] = t.ID
	}
	return strings.Join(ids, " → ")
}

func scpName(p evidence.SCPPolicy) string {
	if p.Name == "" {
		return p.ID
	}
	return p.ID + " (" + p.Name + ")"
}

func findSCP(s *evidence.SCPs, id string) *evidence.SCPPolicy {
	for _, t := range s.Path {
		for i := range t.Policies {
			if t.Policies[i].ID == id {
				return &t.Policies[i]
			}
		}
	}
	return nil
}

func policyLabel(s *evidence.SCPs, id string) string {
	if p := findSCP(s, id); p != nil {
		return scpName(*p)
	}
	return id
}

func targetType(s *evidence.SCPs, id string) string {
	for _, t := range s.Path {
		if t.ID == id {
			return t.Type
		}
	}
	return ""
}

func targetLabel(s *evidence.SCPs, id string) string {
	switch targetType(s, id) {
	case evidence.TargetRoot:
		return "the organization root " + id
	case evidence.TargetOU:
		return "OU " + id
	case evidence.TargetAccount:
		return "the account itself"
	}
	return id
}

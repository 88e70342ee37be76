package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/policy/eval"
	"github.com/rootwatch/rootwatch/internal/rootsession"
)

// ParamAllowedPrincipals names the principals expected to hold
// sts:AssumeRoot.
const ParamAllowedPrincipals = "allowed_principals"

func orgRootSessionHolders() Rule {
	return Rule{
		ID:       "org-root-session-holders",
		Title:    "Principals that can open root sessions in member accounts",
		Severity: finding.SeverityHigh,
		Category: "organization",
		Sources:  []string{evidence.SourceOrganization, evidence.SourceIAMAuthorization, evidence.SourcePolicySimulation, evidence.SourceSCPs},
		Params: []Param{{Name: ParamAllowedPrincipals, Kind: KindList, Check: CheckPattern,
			Doc: "ARN patterns (* and ? wildcards) of the users and roles expected to open root sessions; a holder matching one passes"}},
		Eval: evalRootSessionHolders,
	}
}

func evalRootSessionHolders(in Input) []Result {
	a := in.Account
	if _, read := a.Sources[evidence.SourceIAMAuthorization]; !read {
		return one(rootSessionApplicability(a))
	}
	if r := sourceProblem(a, evidence.SourceIAMAuthorization, "who can open root sessions in member accounts"); r != nil {
		return one(*r)
	}
	auth := a.IAMAuthorization
	if auth == nil {
		return one(Result{Status: finding.StatusError, Message: "Internal inconsistency: the iam_authorization source is ok but holds nothing.", Evidence: map[string]any{}})
	}
	m := rootsession.Build(auth, a.ID, partitionOf(a))
	common := map[string]any{"authority": auth.Authority, "root_sessions": rootSessionsState(a)}
	scpsApplied := false
	if auth.Authority == evidence.AuthorityManagement {
		common["scps"] = "SCPs never apply to the management account"
	} else {
		scps, note := delegatedAdminSCPs(a)
		common["scps"] = note
		scpsApplied = len(scps) > 0
		for _, p := range m.Principals {
			p.Policies.SCPs = scps
		}
	}
	sims := simulationsOf(a)
	allowed := in.Settings.List(ParamAllowedPrincipals)

	var out []Result
	for _, p := range m.Principals {
		h := m.Evaluate(p)
		check := sims.check(m, p)
		switch {
		case h.Holder():
			out = append(out, holderResult(m, h, check, allowed, common, a.ID))
		case check.simulatorAllows != nil:
			out = append(out, simulatorOnlyResult(p, check, allowed, common))
		case len(p.Unread) > 0:
			ev := principalEvidence(p, common)
			ev["unread"] = p.Unread
			out = append(out, Result{Status: finding.StatusUnknown, Resource: p.ARN, Evidence: ev,
				Message: fmt.Sprintf("Cannot tell whether %s %s can open root sessions in member accounts: %s, and any of them may allow sts:AssumeRoot.", p.Kind, p.ARN, strings.Join(p.Unread, "; "))})
		}
	}
	if len(out) == 0 {
		ev := map[string]any{"users": len(auth.Users), "roles": len(auth.Roles), "targets": targetNames(m)}
		for k, v := range common {
			ev[k] = v
		}
		ev["simulation"] = sims.summary()
		msg := fmt.Sprintf("No user or role of %s %s can open a root session in a member account (%s and %s evaluated for sts:AssumeRoot with each task policy).",
			auth.Authority, a.ID, evidence.Count(len(auth.Users), "user"), evidence.Count(len(auth.Roles), "role"))
		if scpsApplied {
			msg += " The SCPs in force for it were applied (evidence.scps)."
		}
		return one(Result{Status: finding.StatusPass, Evidence: ev, Message: msg})
	}
	return out
}

// rootSessionApplicability judges an account whose IAM principals were not
// read: only the management account and IAM's delegated administrator
// have principals that can call sts:AssumeRoot.
func rootSessionApplicability(a *evidence.Account) Result {
	if r := sourceProblem(a, evidence.SourceOrganization, "whether this account's principals can open root sessions"); r != nil {
		return *r
	}
	org := a.Organization
	if org == nil {
		return Result{Status: finding.StatusError, Message: "Internal inconsistency: the organization source is ok but holds nothing.", Evidence: map[string]any{}}
	}
	ev := map[string]any{"org_role": org.Role}
	switch org.Role {
	case evidence.OrgRoleStandalone:
		return Result{Status: finding.StatusNotApplicable, Evidence: ev,
			Message: "The account is not in an AWS Organization: no one can open root sessions in it or from it."}
	case evidence.OrgRoleMember:
		d := org.IAMDelegatedAdmins
		switch {
		case d == nil:
			return Result{Status: finding.StatusNotApplicable, Evidence: ev,
				Message: "The account is a member that is not IAM's delegated administrator (its ListOrganizationsFeatures was refused), so its principals cannot call sts:AssumeRoot."}
		case d.Error != "":
			ev["delegated_admin_error"] = d.Error
			return Result{Status: finding.StatusUnknown, Evidence: ev,
				Message: "Cannot tell whether this member is IAM's delegated administrator, whose principals can open root sessions in every member: " + d.Error + "."}
		case slices.Contains(d.Accounts, a.ID):
			return Result{Status: finding.StatusUnknown, Evidence: ev,
				Message: "The account is IAM's delegated administrator, whose principals can open root sessions in every member, but its IAM principals were not read."}
		}
		ev["iam_delegated_administrators"] = slices.Clone(d.Accounts)
		return Result{Status: finding.StatusNotApplicable, Evidence: ev,
			Message: fmt.Sprintf("The account is a member and not IAM's delegated administrator, so its principals cannot call sts:AssumeRoot; root sessions are judged on the management account %s.", org.ManagementAccountID)}
	}
	return Result{Status: finding.StatusUnknown, Evidence: ev,
		Message: "The account is the management account or IAM's delegated administrator, but its IAM principals (GetAccountAuthorizationDetails) were not read."}
}

// delegatedAdminSCPs is the SCPs in force for IAM's delegated
// administrator (every level of its path: root, OUs, account), which
// limit its principals as they limit everyone in a member account; the
// note says what was applied, for evidence.scps.
//
// What could not be read is treated as allowing everything, which can only
// list more holders than there are: a level whose attachments were not
// listed, or a policy that was not described or does not parse, stands as
// an Allow of everything beside the Denies read at that level (an unread
// SCP could add an Allow the level's union needs; its own Denies, if any,
// are not known). No SCP evidence, SCPs not enabled, or not known to be:
// nothing is applied. A level missing from a path not walked to its end
// could only deny more, so leaving it out lists more holders too.
func delegatedAdminSCPs(a *evidence.Account) ([]eval.SCPTarget, string) {
	const loose = ": treated as allowing everything, so an SCP may stop a holder listed here"
	s := a.SCPs
	if s == nil {
		st := a.Source(evidence.SourceSCPs)
		if st.State == evidence.StateMissing {
			return nil, "SCPs apply to the IAM delegated administrator but were not read for it (only an organization scan reads them)" + loose
		}
		return nil, fmt.Sprintf("SCPs apply to the IAM delegated administrator but could not be read (%s: %s)", st.State, st.Detail) + loose
	}
	switch {
	case s.PolicyTypeStatus == evidence.SCPTypeEnabled:
	case s.RootID == "":
		return nil, "SCPs apply to the IAM delegated administrator but whether they are enabled is unknown (" + strings.Join(s.Problems, "; ") + ")" + loose
	case s.PolicyTypeStatus == "":
		return nil, fmt.Sprintf("SCPs are not enabled in organization %s, so none limits the IAM delegated administrator", s.OrganizationID)
	default:
		return nil, fmt.Sprintf("SCPs are %s in organization %s, not ENABLED, so none is relied on to limit the IAM delegated administrator", s.PolicyTypeStatus, s.OrganizationID)
	}
	var targets []eval.SCPTarget
	var unread []string
	standIn := func(t *eval.SCPTarget, what string) {
		unread = append(unread, what)
		t.Policies = append(t.Policies, eval.Named{Name: "(unread: " + what + ")", Policy: eval.AllowAll()})
	}
	n := 0
	for _, t := range s.Path {
		pt := eval.SCPTarget{Target: t.ID}
		if t.Error != "" {
			standIn(&pt, "the SCPs attached to "+t.ID+": "+t.Error)
		}
		for _, p := range t.Policies {
			if p.Error != "" {
				standIn(&pt, "SCP "+scpName(p)+" on "+t.ID+": "+p.Error)
				continue
			}
			doc, err := eval.Parse([]byte(p.Content))
			if err != nil {
				standIn(&pt, fmt.Sprintf("SCP %s on %s does not parse: %v", scpName(p), t.ID, err))
				continue
			}
			pt.Policies = append(pt.Policies, eval.Named{Name: p.ID, Policy: doc})
			n++
		}
		targets = append(targets, pt)
	}
	note := fmt.Sprintf("the SCPs in force for the IAM delegated administrator are applied: %s along %s", evidence.Count(n, "SCP"), pathLabel(s))
	for _, p := range s.Problems {
		if strings.HasPrefix(p, "ListParents") {
			note += "; the path was not walked to its end (" + p + "): the OUs not reached are left out, as if they allowed everything"
		}
	}
	if len(unread) > 0 {
		note += "; not read, so evaluated as allowing everything: " + strings.Join(unread, "; ")
	}
	return targets, note
}

// rootSessionsState says whether root sessions are enabled, as evidence.
func rootSessionsState(a *evidence.Account) string {
	org := a.Organization
	switch {
	case org == nil || !org.FeaturesKnown():
		why := "the organization's features were not read"
		if org != nil && org.FeaturesUnknown != "" {
			why = org.FeaturesUnknown
		} else if st := a.Source(evidence.SourceOrganization); st.State != evidence.StateOK {
			why = fmt.Sprintf("the organization source is %s (%s)", st.State, st.Detail)
		}
		return "unknown: " + why
	case org.HasFeature(evidence.FeatureRootSessions):
		return "enabled"
	}
	return "not enabled (ListOrganizationsFeatures lacks RootSessions)"
}

func principalEvidence(p *rootsession.Principal, common map[string]any) map[string]any {
	ev := map[string]any{"principal": p.ARN, "principal_type": p.Kind}
	for k, v := range common {
		ev[k] = v
	}
	if b := p.Policies.Boundary; b != nil {
		ev["boundary"] = b.Name
	}
	if p.BoundaryUnread != "" {
		ev["boundary_unread"] = p.BoundaryUnread + " (evaluated as allowing everything)"
	}
	return ev
}

func holderResult(m *rootsession.Model, h rootsession.Holding, check simCheck, allowed []string, common map[string]any, account string) Result {
	p := h.Principal
	ev := principalEvidence(p, common)
	ev["tasks"] = h.Tasks
	var allows, denies []eval.Match
	var conditions []string
	var targets []map[string]any
	reach := map[string][]string{}
	for _, ans := range h.Answers {
		if ans.Usable() {
			reach[ans.Target.Describe()] = append(reach[ans.Target.Describe()], ans.Task)
			allows = append(allows, ans.Result.Allows...)
		}
		denies = append(denies, ans.Result.Denies...)
		if ans.Result.Decision == eval.Conditional {
			for _, x := range append(slices.Clone(ans.Result.Allows), ans.Result.Denies...) {
				if len(x.Pending) > 0 {
					conditions = append(conditions, x.String())
				}
			}
		}
	}
	for _, t := range m.Targets {
		targets = append(targets, map[string]any{"member": t.Describe(), "tasks": append([]string{}, reach[t.Describe()]...)})
	}
	ev["targets"] = targets
	ev["via"] = rootsession.Statements(allows)
	if d := rootsession.Statements(denies); len(d) > 0 {
		ev["denies"] = d
	}
	conditions = dedupeStrings(conditions)
	if len(conditions) > 0 {
		ev["conditions"] = conditions
	}
	if len(p.Unread) > 0 {
		ev["unread"] = p.Unread
	}
	if p.Kind == "role" {
		hops := []map[string]any{}
		for _, hop := range m.OneHop(p) {
			e := map[string]any{"principal": hop.Principal, "how": hop.How}
			if len(hop.Conditions) > 0 {
				e["conditions"] = hop.Conditions
			}
			hops = append(hops, e)
		}
		ev["one_hop"] = hops
		if out := m.TrustedOutside(p); len(out) > 0 {
			ev["trusted_outside_account"] = out
		}
		if p.TrustUnread != "" {
			ev["trust_unread"] = p.TrustUnread
		}
	}
	ev["simulation"] = check.evidence()

	// Where: any member (but those named and refused), or the members
	// named.
	var where, except []string
	for _, t := range m.Targets {
		if len(reach[t.Describe()]) > 0 {
			where = append(where, t.Describe())
		} else if !t.Generic {
			except = append(except, t.Describe())
		}
	}
	if len(where) > 0 && where[0] == "any member" {
		where = where[:1]
		if len(except) > 0 {
			where[0] += " except " + strings.Join(except, ", ")
		}
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "%s %s can open root sessions in %s with %s", kindName(p), p.ARN, strings.Join(where, ", "), strings.Join(h.Tasks, ", "))
	if len(conditions) > 0 {
		msg.WriteString(" when conditions allow (" + evidence.Count(len(conditions), "condition") + " in the evidence)")
	}
	msg.WriteString(".")
	if slices.Contains(h.Tasks, "IAMCreateRootUserPassword") {
		msg.WriteString(" With IAMCreateRootUserPassword it can give a member's root user a password and then recover it through the root e-mail address.")
	}
	switch s, _ := common["root_sessions"].(string); {
	case strings.HasPrefix(s, "unknown: "):
		msg.WriteString(" Whether root sessions are enabled is unknown (" + strings.TrimPrefix(s, "unknown: ") + "); the grant takes effect whenever they are.")
	case s != "enabled":
		msg.WriteString(" Root sessions are " + s + "; the grant takes effect as soon as they are enabled.")
	}
	if check.disagrees() {
		msg.WriteString(" IAM's policy simulator disagrees on " + evidence.Count(len(check.disagreements), "answer") + " (see evidence.simulation).")
	}
	if pat, ok := matchAllowed(p.ARN, allowed); ok {
		ev["allowed_by"] = pat
		return Result{Status: finding.StatusPass, Resource: p.ARN, Evidence: ev,
			Message: msg.String() + fmt.Sprintf(" It is expected: it matches %s %q.", ParamAllowedPrincipals, pat)}
	}
	return Result{Status: finding.StatusFail, Resource: p.ARN, Evidence: ev, Message: msg.String()}
}

// simulatorOnlyResult reports a principal that rootwatch's evaluation
// finds no holder but the simulator says may call sts:AssumeRoot: the two
// disagree, and the one that says "can" is not overruled.
func simulatorOnlyResult(p *rootsession.Principal, check simCheck, allowed []string, common map[string]any) Result {
	ev := principalEvidence(p, common)
	ev["tasks"] = check.simulatorAllows
	ev["simulation"] = check.evidence()
	if len(p.Unread) > 0 {
		ev["unread"] = p.Unread
	}
	msg := fmt.Sprintf("IAM's policy simulator says %s %s can open root sessions with %s, where rootwatch's own evaluation of its policies finds it cannot; the two disagree, so it is reported as a holder (see evidence.simulation).",
		p.Kind, p.ARN, strings.Join(check.simulatorAllows, ", "))
	if pat, ok := matchAllowed(p.ARN, allowed); ok {
		ev["allowed_by"] = pat
		return Result{Status: finding.StatusPass, Resource: p.ARN, Evidence: ev, Message: msg + fmt.Sprintf(" It is expected: it matches %s %q.", ParamAllowedPrincipals, pat)}
	}
	return Result{Status: finding.StatusFail, Resource: p.ARN, Evidence: ev, Message: msg}
}

// kindName is "User" or "Role", to begin a sentence.
func kindName(p *rootsession.Principal) string {
	return strings.ToUpper(p.Kind[:1]) + p.Kind[1:]
}

func matchAllowed(arn string, patterns []string) (string, bool) {
	for _, pat := range patterns {
		if rootsession.Glob(pat, arn) {
			return pat, true
		}
	}
	return "", false
}

func targetNames(m *rootsession.Model) []string {
	var out []string
	for _, t := range m.Targets {
		out = append(out, t.Describe())
	}
	return out
}

func dedupeStrings(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// simulations is the simulator's evidence of an account, by principal.
type simulations struct {
	state    evidence.SourceStatus
	recorded bool
	by       map[string][]evidence.PolicySimulation
	left     map[string]string
}

func simulationsOf(a *evidence.Account) simulations {
	s := simulations{by: map[string][]evidence.PolicySimulation{}, left: map[string]string{}}
	s.state, s.recorded = a.Sources[evidence.SourcePolicySimulation]
	if ps := a.PolicySimulations; ps != nil && s.state.State == evidence.StateOK {
		for _, r := range ps.Results {
			s.by[r.Principal] = append(s.by[r.Principal], r)
		}
		for _, l := range ps.Left {
			s.left[l] = ps.LeftReason
		}
	}
	return s
}

func (s simulations) summary() string {
	switch {
	case !s.recorded:
		return "not run"
	case s.state.State != evidence.StateOK:
		return fmt.Sprintf("not run: %s (%s)", s.state.State, s.state.Detail)
	}
	return s.state.Detail
}

// simCheck compares rootwatch's answers for one principal with the
// simulator's.
type simCheck struct {
	// note says why there was nothing to compare, when there was not.
	note            string
	agreements      int
	disagreements   []string
	undecided       []string
	simulatorAllows []string // task names, when rootwatch finds none usable
}

func (c simCheck) disagrees() bool { return len(c.disagreements) > 0 }

func (c simCheck) evidence() map[string]any {
	ev := map[string]any{"agreements": c.agreements}
	if c.note != "" {
		ev["not_compared"] = c.note
	}
	if len(c.disagreements) > 0 {
		ev["disagreements"] = c.disagreements
	}
	if len(c.undecided) > 0 {
		ev["conditional"] = c.undecided
	}
	return ev
}

// check compares each simulated answer with rootwatch's own for the same
// principal, member root and task. A conditional answer of rootwatch's
// cannot disagree: the simulator treats the keys it was not given as
// absent, which is one way the conditions can go.
func (s simulations) check(m *rootsession.Model, p *rootsession.Principal) simCheck {
	var c simCheck
	switch {
	case !s.recorded:
		c.note = "the policy simulator was not run"
		return c
	case s.state.State != evidence.StateOK:
		c.note = fmt.Sprintf("the policy simulator source is %s (%s)", s.state.State, s.state.Detail)
		return c
	}
	if why, ok := s.left[p.ARN]; ok {
		c.note = "not simulated: " + why
		return c
	}
	rs := s.by[p.ARN]
	if len(rs) == 0 {
		c.note = "not among the principals simulated (collection asks about those with an identity statement that may allow sts:AssumeRoot, and a sample of the rest)"
		return c
	}
	allows := map[string]bool{}
	for _, r := range rs {
		task := rootsession.TaskName(r.TaskPolicyARN)
		if task == "" {
			c.disagreements = append(c.disagreements, fmt.Sprintf("the simulator was asked about %q, which is not a root task policy", r.TaskPolicyARN))
			continue
		}
		ours := m.Decide(p, r.Resource, task)
		simAllowed := r.Decision == "allowed"
		what := fmt.Sprintf("%s on %s", task, r.Resource)
		switch {
		case ours.Decision == eval.Conditional:
			c.undecided = append(c.undecided, fmt.Sprintf("%s: rootwatch: conditional; simulator: %s%s", what, r.Decision, missing(r.MissingContext)))
		case (ours.Decision == eval.Allowed) == simAllowed:
			c.agreements++
		default:
			why := ""
			if len(ours.Missing) > 0 {
				why = " (no Allow in " + strings.Join(ours.Missing, ", ") + ")"
			}
			c.disagreements = append(c.disagreements, fmt.Sprintf("%s: rootwatch: %s%s; simulator: %s%s%s", what, ours.Decision, why, r.Decision, details(r), missing(r.MissingContext)))
			if simAllowed {
				allows[task] = true
			}
		}
	}
	if len(allows) > 0 {
		for _, t := range rootsession.Tasks {
			if allows[t] {
				c.simulatorAllows = append(c.simulatorAllows, t)
			}
		}
	}
	return c
}

func missing(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return " (it lacked " + strings.Join(keys, ", ") + ")"
}

func details(r evidence.PolicySimulation) string {
	var parts []string
	if r.AllowedByOrganizations != nil && !*r.AllowedByOrganizations {
		parts = append(parts, "not allowed by Organizations (SCPs)")
	}
	if r.AllowedByBoundary != nil && !*r.AllowedByBoundary {
		parts = append(parts, "not allowed by the permissions boundary")
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}

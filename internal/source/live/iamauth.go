package live

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/parallel"
	"github.com/rootwatch/rootwatch/internal/rootsession"
)

// IAMAuthorizationAPI lists the calls that read who may open root
// sessions: both read-only.
type IAMAuthorizationAPI interface {
	GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
	SimulatePrincipalPolicy(context.Context, *iam.SimulatePrincipalPolicyInput, ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
}

// Limits of the cross-check with the policy simulator: each principal
// costs one SimulatePrincipalPolicy call per task policy, in the account's
// IAM quota.
const (
	// MaxSimulatedPrincipals bounds the principals simulated; those left
	// out are named in the evidence.
	MaxSimulatedPrincipals = 100
	// simulatedSample is how many principals with no identity statement
	// for sts:AssumeRoot are simulated too, to catch what rootwatch's own
	// evaluation might miss.
	simulatedSample = 5
	// simulationConcurrency is how many calls are in flight at once.
	simulationConcurrency = 8
)

// RootSessionScope says that an account's principals may call
// sts:AssumeRoot on the members of its organization, and why.
type RootSessionScope struct {
	// Authority is evidence.AuthorityManagement or AuthorityDelegatedAdmin.
	Authority           string
	ManagementAccountID string
	OrganizationID      string
}

// rootSessionScope says whether the account's principals may call
// sts:AssumeRoot: the organization scan says so (Options.RootSessions),
// or, scanning one account, ListOrganizationsFeatures answered it, which
// only the management account and IAM's delegated administrator can.
func rootSessionScope(opts Options, a *evidence.Account) *RootSessionScope {
	if opts.RootSessions != nil {
		return opts.RootSessions
	}
	org := a.Organization
	if opts.Organization != nil || org == nil || org.Role != evidence.OrgRoleManagement {
		// An organization scan decides itself: the evidence it gives its
		// accounts calls only the management account "management".
		return nil
	}
	s := &RootSessionScope{Authority: evidence.AuthorityDelegatedAdmin, ManagementAccountID: org.ManagementAccountID, OrganizationID: org.ID}
	if org.ManagementAccountID == a.ID {
		s.Authority = evidence.AuthorityManagement
	}
	return s
}

// IAMAuthorization reads every page of GetAccountAuthorizationDetails and
// keeps what deciding sts:AssumeRoot needs: the users, groups and roles,
// and the default version of each managed policy one of them uses.
func IAMAuthorization(ctx context.Context, c IAMAuthorizationAPI, scope RootSessionScope) (*evidence.IAMAuthorization, evidence.SourceStatus) {
	authority := scope.Authority
	auth := &evidence.IAMAuthorization{Authority: authority, ManagementAccountID: scope.ManagementAccountID, OrganizationID: scope.OrganizationID,
		Users: []evidence.IAMUser{}, Groups: []evidence.IAMGroup{}, Roles: []evidence.IAMRole{}, Policies: []evidence.IAMPolicy{}}
	used := map[string]bool{}
	var policies []iamtypes.ManagedPolicyDetail
	seen := map[string]bool{}
	var marker *string
	for {
		out, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Marker: marker})
		if err != nil {
			return nil, awsx.Failed("GetAccountAuthorizationDetails", err)
		}
		auth.Pages++
		for _, u := range out.UserDetailList {
			eu := evidence.IAMUser{Name: aws.ToString(u.UserName), ARN: aws.ToString(u.Arn), ID: aws.ToString(u.UserId), Groups: u.GroupList,
				Inline: inlinePolicies(u.UserPolicyList), Attached: attached(u.AttachedManagedPolicies, used), Boundary: boundaryOf(u.PermissionsBoundary, used)}
			if len(u.Tags) > 0 {
				eu.Tags = map[string]string{}
				for _, t := range u.Tags {
					eu.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
			auth.Users = append(auth.Users, eu)
		}
		for _, g := range out.GroupDetailList {
			auth.Groups = append(auth.Groups, evidence.IAMGroup{Name: aws.ToString(g.GroupName), ARN: aws.ToString(g.Arn),
				Inline: inlinePolicies(g.GroupPolicyList), Attached: attached(g.AttachedManagedPolicies, used)})
		}
		for _, r := range out.RoleDetailList {
			auth.Roles = append(auth.Roles, evidence.IAMRole{Name: aws.ToString(r.RoleName), ARN: aws.ToString(r.Arn), ID: aws.ToString(r.RoleId),
				Trust: decodeDocument(aws.ToString(r.AssumeRolePolicyDocument)), Inline: inlinePolicies(r.RolePolicyList),
				Attached: attached(r.AttachedManagedPolicies, used), Boundary: boundaryOf(r.PermissionsBoundary, used)})
		}
		policies = append(policies, out.Policies...)
		if !out.IsTruncated || aws.ToString(out.Marker) == "" {
			break
		}
		if seen[*out.Marker] {
			return nil, evidence.SourceStatus{State: evidence.StateError, Detail: fmt.Sprintf("GetAccountAuthorizationDetails returned the same Marker twice (%q) after %s", *out.Marker, evidence.Count(auth.Pages, "page"))}
		}
		seen[*out.Marker] = true
		marker = out.Marker
	}
	for _, p := range policies {
		arn := aws.ToString(p.Arn)
		if !used[arn] {
			continue // a policy nobody uses grants nothing
		}
		ep := evidence.IAMPolicy{ARN: arn, Name: aws.ToString(p.PolicyName), Version: aws.ToString(p.DefaultVersionId)}
		for _, v := range p.PolicyVersionList {
			if v.IsDefaultVersion || (ep.Version != "" && aws.ToString(v.VersionId) == ep.Version) {
				ep.Version, ep.Document = aws.ToString(v.VersionId), decodeDocument(aws.ToString(v.Document))
				break
			}
		}
		auth.Policies = append(auth.Policies, ep)
	}
	slices.SortFunc(auth.Policies, func(a, b evidence.IAMPolicy) int { return strings.Compare(a.ARN, b.ARN) })
	return auth, evidence.SourceStatus{State: evidence.StateOK, Detail: fmt.Sprintf("GetAccountAuthorizationDetails (%s): %s, %s, %s, %s in use, in %s",
		authority, evidence.Count(len(auth.Users), "user"), evidence.Count(len(auth.Groups), "group"), evidence.Count(len(auth.Roles), "role"),
		countPolicies(len(auth.Policies)), evidence.Count(auth.Pages, "page"))}
}

func countPolicies(n int) string {
	if n == 1 {
		return "1 managed policy"
	}
	return fmt.Sprintf("%d managed policies", n)
}

// decodeDocument turns a policy document as IAM returns it (URL-encoded
// JSON, RFC 3986) into its JSON text. A document that already is JSON is
// kept; one that does not decode is kept as it came, for the rule to name
// as unreadable.
func decodeDocument(s string) string {
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") {
		return s
	}
	// PathUnescape, not QueryUnescape: a "+" in the text is a plus sign.
	d, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return d
}

func inlinePolicies(ps []iamtypes.PolicyDetail) []evidence.InlinePolicy {
	var out []evidence.InlinePolicy
	for _, p := range ps {
		out = append(out, evidence.InlinePolicy{Name: aws.ToString(p.PolicyName), Document: decodeDocument(aws.ToString(p.PolicyDocument))})
	}
	return out
}

func attached(ps []iamtypes.AttachedPolicy, used map[string]bool) []string {
	var out []string
	for _, p := range ps {
		arn := aws.ToString(p.PolicyArn)
		used[arn] = true
		out = append(out, arn)
	}
	return out
}

func boundaryOf(b *iamtypes.AttachedPermissionsBoundary, used map[string]bool) string {
	if b == nil {
		return ""
	}
	arn := aws.ToString(b.PermissionsBoundaryArn)
	used[arn] = true
	return arn
}

// PolicySimulations asks IAM's policy simulator about sts:AssumeRoot for
// the principals worth cross-checking: every one whose identity policies
// rootwatch finds may allow it (holders, and those a Deny or a boundary
// stops) and a few others as a sample, for every task policy on every
// member root the evaluation considers. Collection judges nothing here:
// the model only chooses what to ask; the rule compares the answers.
func PolicySimulations(ctx context.Context, c IAMAuthorizationAPI, account, partition string, auth *evidence.IAMAuthorization) (*evidence.PolicySimulations, evidence.SourceStatus) {
	m := rootsession.Build(auth, account, partition)
	var chosen, rest []*rootsession.Principal
	for _, p := range m.Principals {
		if h := m.Evaluate(p); h.Holder() || h.IdentityAllows {
			chosen = append(chosen, p)
		} else {
			rest = append(rest, p)
		}
	}
	// A sample of the others, spread over the sorted list.
	for i := range min(simulatedSample, len(rest)) {
		chosen = append(chosen, rest[i*len(rest)/min(simulatedSample, len(rest))])
	}
	sims := &evidence.PolicySimulations{Results: []evidence.PolicySimulation{}}
	if len(chosen) > MaxSimulatedPrincipals {
		for _, p := range chosen[MaxSimulatedPrincipals:] {
			sims.Left = append(sims.Left, p.ARN)
		}
		sims.LeftReason = fmt.Sprintf("more than %d principals to simulate", MaxSimulatedPrincipals)
		chosen = chosen[:MaxSimulatedPrincipals]
	}
	var resources []string
	for _, t := range m.Targets {
		resources = append(resources, t.ARN)
	}

	// One item per principal and task; the first error stops the rest
	// (those not yet started are not run), as a denial there means the
	// others would be denied too.
	tasks := rootsession.Tasks
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var firstErr error
	answers, notRun := parallel.Map(sctx, len(chosen)*len(tasks), parallel.Options{Limit: simulationConcurrency}, func(ctx context.Context, i int) []evidence.PolicySimulation {
		res, err := simulate(ctx, c, chosen[i/len(tasks)], m.Partition, m.Account, auth.OrganizationID, tasks[i%len(tasks)], resources)
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
			cancel()
		}
		return res
	})
	if firstErr == nil && len(notRun) > 0 {
		firstErr = fmt.Errorf("%d of %d simulations not run: %w", len(notRun), len(answers), context.Cause(sctx))
	}
	if firstErr != nil {
		return nil, awsx.Failed("SimulatePrincipalPolicy", firstErr)
	}
	for _, res := range answers {
		sims.Results = append(sims.Results, res...)
	}
	sims.Principals = len(chosen)
	slices.SortFunc(sims.Results, func(x, y evidence.PolicySimulation) int {
		return strings.Compare(x.Principal+" "+x.Resource+" "+x.TaskPolicyARN, y.Principal+" "+y.Resource+" "+y.TaskPolicyARN)
	})
	detail := fmt.Sprintf("SimulatePrincipalPolicy sts:AssumeRoot: %s, each with the %d task policies on %s", evidence.Count(len(chosen), "principal"), len(rootsession.Tasks), evidence.Count(len(resources), "member root"))
	if len(sims.Left) > 0 {
		detail += fmt.Sprintf("; %d left out (%s)", len(sims.Left), sims.LeftReason)
	}
	return sims, evidence.SourceStatus{State: evidence.StateOK, Detail: detail}
}

// simulate asks about one principal and task on every resource, every
// page, with the context rootwatch's evaluation assumes.
func simulate(ctx context.Context, c IAMAuthorizationAPI, p *rootsession.Principal, partition, account, orgID, task string, resources []string) ([]evidence.PolicySimulation, error) {
	taskARN := rootsession.TaskARN(partition, task)
	entry := func(k, v string) iamtypes.ContextEntry {
		return iamtypes.ContextEntry{ContextKeyName: aws.String(k), ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: []string{v}}
	}
	entries := []iamtypes.ContextEntry{entry("sts:TaskPolicyArn", taskARN), entry("aws:PrincipalArn", p.ARN), entry("aws:PrincipalAccount", account)}
	if orgID != "" {
		entries = append(entries, entry("aws:PrincipalOrgID", orgID))
	}
	if p.Kind == "user" {
		entries = append(entries, entry("aws:username", p.Name))
	}
	in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(p.ARN), ActionNames: []string{"sts:AssumeRoot"}, ResourceArns: resources, ContextEntries: entries}
	var out []evidence.PolicySimulation
	seen := map[string]bool{}
	for {
		page, err := c.SimulatePrincipalPolicy(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, r := range page.EvaluationResults {
			base := evidence.PolicySimulation{Principal: p.ARN, TaskPolicyARN: taskARN}
			if d := r.OrganizationsDecisionDetail; d != nil {
				base.AllowedByOrganizations = aws.Bool(d.AllowedByOrganizations)
			}
			if len(r.ResourceSpecificResults) == 0 {
				s := base
				s.Resource, s.Decision, s.MissingContext = aws.ToString(r.EvalResourceName), string(r.EvalDecision), r.MissingContextValues
				if d := r.PermissionsBoundaryDecisionDetail; d != nil {
					s.AllowedByBoundary = aws.Bool(d.AllowedByPermissionsBoundary)
				}
				out = append(out, s)
				continue
			}
			for _, rr := range r.ResourceSpecificResults {
				s := base
				s.Resource, s.Decision, s.MissingContext = aws.ToString(rr.EvalResourceName), string(rr.EvalResourceDecision), rr.MissingContextValues
				if d := rr.PermissionsBoundaryDecisionDetail; d != nil {
					s.AllowedByBoundary = aws.Bool(d.AllowedByPermissionsBoundary)
				}
				out = append(out, s)
			}
		}
		if !page.IsTruncated || aws.ToString(page.Marker) == "" {
			return out, nil
		}
		if seen[*page.Marker] {
			return nil, fmt.Errorf("the same Marker twice (%q)", *page.Marker)
		}
		seen[*page.Marker] = true
		in.Marker = page.Marker
	}
}

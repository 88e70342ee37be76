package evidence

// Sources read for org-root-session-holders, in the management account
// and the IAM delegated administrator: the accounts whose principals may
// call sts:AssumeRoot on every member.
const (
	// SourceIAMAuthorization is GetAccountAuthorizationDetails (every page).
	SourceIAMAuthorization = "iam_authorization"
	// SourcePolicySimulation is SimulatePrincipalPolicy for sts:AssumeRoot,
	// the cross-check of the rule's own evaluation.
	SourcePolicySimulation = "policy_simulation"
	// SourceIAMDelegatedAdmin is ListDelegatedAdministrators for
	// iam.amazonaws.com, read once by an organization scan.
	SourceIAMDelegatedAdmin = "iam_delegated_admin"
)

// Why an account's IAM principals were read (IAMAuthorization.Authority):
// the two kinds of account whose principals may open root sessions.
const (
	AuthorityManagement     = "management account"
	AuthorityDelegatedAdmin = "IAM delegated administrator"
)

// IAMAuthorization is what GetAccountAuthorizationDetails returned, kept
// to what deciding who may call sts:AssumeRoot needs: every user, group
// and role with its inline policies, attached managed policies and
// permissions boundary, and the default version of each managed policy
// any of them uses. Policy documents are the decoded JSON text.
type IAMAuthorization struct {
	// Authority is why this account's principals were read: the
	// management account or the IAM delegated administrator.
	Authority string `json:"authority"`
	// ManagementAccountID is the organization's management account, whose
	// root user is no member and cannot be the target of AssumeRoot.
	ManagementAccountID string `json:"management_account_id,omitempty"`
	// OrganizationID is aws:PrincipalOrgID of every principal here.
	OrganizationID string      `json:"organization_id,omitempty"`
	Users          []IAMUser   `json:"users"`
	Groups         []IAMGroup  `json:"groups"`
	Roles          []IAMRole   `json:"roles"`
	Policies       []IAMPolicy `json:"policies"`
	Pages          int         `json:"pages"`
}

// IAMUser is one IAM user.
type IAMUser struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
	ID   string `json:"id,omitempty"`
	// Groups are the names of the groups the user belongs to.
	Groups   []string          `json:"groups,omitempty"`
	Inline   []InlinePolicy    `json:"inline,omitempty"`
	Attached []string          `json:"attached,omitempty"` // managed policy ARNs
	Boundary string            `json:"boundary,omitempty"` // managed policy ARN
	Tags     map[string]string `json:"tags,omitempty"`
}

// IAMGroup is one IAM group.
type IAMGroup struct {
	Name     string         `json:"name"`
	ARN      string         `json:"arn"`
	Inline   []InlinePolicy `json:"inline,omitempty"`
	Attached []string       `json:"attached,omitempty"`
}

// IAMRole is one IAM role, with its trust policy.
type IAMRole struct {
	Name     string         `json:"name"`
	ARN      string         `json:"arn"`
	ID       string         `json:"id,omitempty"`
	Trust    string         `json:"trust"`
	Inline   []InlinePolicy `json:"inline,omitempty"`
	Attached []string       `json:"attached,omitempty"`
	Boundary string         `json:"boundary,omitempty"`
}

// InlinePolicy is an inline policy of a user, group or role.
type InlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

// IAMPolicy is a managed policy (AWS or customer managed) with its default
// version's document: the version IAM evaluates.
type IAMPolicy struct {
	ARN      string `json:"arn"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Document string `json:"document"`
}

// Policy finds a managed policy by ARN.
func (a *IAMAuthorization) Policy(arn string) (IAMPolicy, bool) {
	for _, p := range a.Policies {
		if p.ARN == arn {
			return p, true
		}
	}
	return IAMPolicy{}, false
}

// PolicySimulations are the SimulatePrincipalPolicy answers for
// sts:AssumeRoot: one per principal, member root ARN and task policy.
type PolicySimulations struct {
	Results []PolicySimulation `json:"results"`
	// Principals is how many principals were simulated; Left names those
	// left out and why (a limit on calls), so that nobody reads "not
	// simulated" as "agrees".
	Principals int      `json:"principals"`
	Left       []string `json:"left,omitempty"`
	LeftReason string   `json:"left_reason,omitempty"`
}

// PolicySimulation is one SimulatePrincipalPolicy evaluation result.
type PolicySimulation struct {
	Principal string `json:"principal"`
	Resource  string `json:"resource"`
	// TaskPolicyARN is the sts:TaskPolicyArn given as context.
	TaskPolicyARN string `json:"task_policy_arn"`
	// Decision is allowed, implicitDeny or explicitDeny.
	Decision string `json:"decision"`
	// MissingContext lists the condition keys the simulator needed and was
	// not given.
	MissingContext []string `json:"missing_context,omitempty"`
	// AllowedByOrganizations and AllowedByBoundary are the simulator's
	// decision details, when it gave them.
	AllowedByOrganizations *bool `json:"allowed_by_organizations,omitempty"`
	AllowedByBoundary      *bool `json:"allowed_by_boundary,omitempty"`
}

// DelegatedAdministrators is what ListDelegatedAdministrators said of a
// service: the member accounts registered for it, or why it is unknown.
type DelegatedAdministrators struct {
	Accounts []string `json:"accounts"`
	// Error says why the list could not be read; Accounts is then empty
	// and any member may be the delegated administrator.
	Error string `json:"error,omitempty"`
}

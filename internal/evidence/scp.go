package evidence

// SourceSCPs is the service control policies in force for an account, read
// by an organization scan from the management account (or a delegated
// administrator): ListRoots, ListParents, ListPoliciesForTarget,
// DescribePolicy.
const SourceSCPs = "scps"

// Target types of Organizations (ListParents, ListPoliciesForTarget).
const (
	TargetRoot    = "ROOT"
	TargetOU      = "ORGANIZATIONAL_UNIT"
	TargetAccount = "ACCOUNT"
)

// SCPTypeEnabled is the status of the SERVICE_CONTROL_POLICY policy type
// on the organization root when SCPs are in force; PENDING_ENABLE and
// PENDING_DISABLE are the others AWS reports.
const SCPTypeEnabled = "ENABLED"

// SCPs is what an organization scan read of the SCPs that apply to one
// account. Every read that failed is in Problems (and in the target or
// policy it concerns), so a rule can tell "none attached" from "could not
// read".
type SCPs struct {
	OrganizationID      string `json:"organization_id"`
	ManagementAccountID string `json:"management_account_id"`
	// ManagementAccount says the account is the management account: SCPs
	// never apply to it, and nothing else was read.
	ManagementAccount bool `json:"management_account,omitempty"`
	// RootID is the organization root's ID; PolicyTypeStatus the status of
	// SERVICE_CONTROL_POLICY on it (ENABLED, PENDING_ENABLE,
	// PENDING_DISABLE), "" when the root lists no such policy type. Both are
	// empty when ListRoots failed.
	RootID           string `json:"root_id"`
	PolicyTypeStatus string `json:"policy_type_status"`
	// Path is every target whose SCPs apply to the account: the root first,
	// then each OU down to the account itself. When ListParents failed it
	// holds what was learned (at least the account) and Problems says so.
	Path []SCPTarget `json:"path"`
	// Problems lists each read that failed, as "Call target: error".
	Problems []string `json:"problems"`
	// OUPath is the account's place in the organization: the root's name,
	// then each OU's from the top down, joined by "/" (e.g.
	// "Root/Workloads/Prod"), an ID standing for a name that could not be
	// read. Empty when the path was not walked (the management account,
	// SCPs not enabled) or not to its end.
	OUPath string `json:"ou_path,omitempty"`
}

// SCPTarget is one target of an account's path and the SCPs attached to it.
type SCPTarget struct {
	ID   string `json:"id"`
	Type string `json:"type"` // ROOT, ORGANIZATIONAL_UNIT or ACCOUNT
	// Name is the root's name (ListRoots) or the OU's
	// (DescribeOrganizationalUnit); empty for the account, or when it
	// could not be read: NameError says why, which fails nothing.
	Name      string `json:"name,omitempty"`
	NameError string `json:"name_error,omitempty"`
	// Policies are the SCPs attached (ListPoliciesForTarget); nil when they
	// could not be listed (Error says why) or were not read because SCPs
	// are not enabled.
	Policies []SCPPolicy `json:"policies"`
	Error    string      `json:"error,omitempty"`
}

// SCPPolicy is one SCP as DescribePolicy returned it.
type SCPPolicy struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	ARN        string `json:"arn,omitempty"`
	AWSManaged bool   `json:"aws_managed"`
	// Content is the policy document exactly as AWS returned it; empty when
	// DescribePolicy failed (Error says why).
	Content string `json:"content"`
	Error   string `json:"error,omitempty"`
}

package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// OrgSpec is the structure of one organization: its root, OUs, service
// control policies and where they are attached. An organization the world
// does not describe has what a new one has: a root with SCPs enabled and
// FullAWSAccess attached to the root and to every account.
type OrgSpec struct {
	ID string `yaml:"id"`
	// RootID defaults to r- and the last four characters of the ID.
	RootID string `yaml:"root_id"`
	// SCPStatus is the status of SERVICE_CONTROL_POLICY on the root:
	// ENABLED (default), PENDING_ENABLE, PENDING_DISABLE or DISABLED (then
	// ListRoots lists no such type and nothing is attached, as AWS
	// detaches every SCP when the type is disabled).
	SCPStatus string `yaml:"scp_status"`
	// RootSCPs are the policy IDs attached to the root (default
	// FullAWSAccess).
	RootSCPs []string `yaml:"root_scps"`
	OUs      []OUSpec `yaml:"ous"`
	// AccountSCPs are the policy IDs attached to accounts (default
	// FullAWSAccess for each account).
	AccountSCPs map[string][]string `yaml:"account_scps"`
	// Policies are the SCPs; p-FullAWSAccess exists without being listed.
	Policies []PolicySpec `yaml:"policies"`
	// PageSize caps ListParents and ListPoliciesForTarget pages below
	// MaxResults (default 20).
	PageSize int `yaml:"page_size"`
}

// OUSpec is one organizational unit.
type OUSpec struct {
	ID string `yaml:"id"`
	// Name is what DescribeOrganizationalUnit returns (default: the ID;
	// Organizations requires a name, which worlds may leave out).
	Name string `yaml:"name"`
	// Parent is the parent OU's ID, or "" for the root.
	Parent string `yaml:"parent"`
	// SCPs are the policy IDs attached to the OU (default FullAWSAccess).
	SCPs []string `yaml:"scps"`
	// Accounts are the IDs of the accounts directly in the OU; accounts in
	// no OU are in the root.
	Accounts []string `yaml:"accounts"`
	// ListDenied makes ListPoliciesForTarget on this OU answer
	// AccessDeniedException.
	ListDenied bool `yaml:"list_denied"`
}

// PolicySpec is one SCP.
type PolicySpec struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	AWSManaged  bool   `yaml:"aws_managed"`
	// Content is the policy document, served as written (it may be
	// anything, to test what does not parse).
	Content string `yaml:"content"`
	// DescribeDenied makes DescribePolicy of this policy answer
	// AccessDeniedException.
	DescribeDenied bool `yaml:"describe_denied"`
}

// FullAWSAccess is the SCP AWS attaches to every root, OU and account.
const (
	FullAWSAccessID      = "p-FullAWSAccess"
	fullAWSAccessContent = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}`
)

var (
	ouIDRE     = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$`)
	rootIDRE   = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	policyIDRE = regexp.MustCompile(`^p-[0-9a-zA-Z_]{8,128}$`)
)

// orgTree is an organization's structure, indexed.
type orgTree struct {
	spec     OrgSpec
	mgmt     string
	parent   map[string]string   // child (account or OU) → parent
	kind     map[string]string   // target → ROOT, ORGANIZATIONAL_UNIT, ACCOUNT
	attached map[string][]string // target → policy IDs
	denied   map[string]bool     // targets whose attachments cannot be listed
	policies map[string]PolicySpec
	ouName   map[string]string
}

// buildTrees indexes every organization of the world, described or not.
func buildTrees(w *World) (map[string]*orgTree, error) {
	specs := map[string]OrgSpec{}
	for _, o := range w.Organizations {
		if _, dup := specs[o.ID]; dup {
			return nil, fmt.Errorf("organizations: %s appears twice", o.ID)
		}
		specs[o.ID] = o
	}
	members := map[string][]string{}
	mgmt := map[string]string{}
	for _, a := range w.Accounts {
		if o := a.Organization; o != nil {
			members[o.ID] = append(members[o.ID], a.ID)
			mgmt[o.ID] = o.ManagementAccount
			if _, ok := specs[o.ID]; !ok {
				specs[o.ID] = OrgSpec{ID: o.ID}
			}
		}
	}
	trees := map[string]*orgTree{}
	for id, spec := range specs {
		if _, ok := members[id]; !ok {
			return nil, fmt.Errorf("organizations: %s has no account in the world", id)
		}
		t, err := newTree(spec, mgmt[id], members[id])
		if err != nil {
			return nil, fmt.Errorf("organization %s: %w", id, err)
		}
		trees[id] = t
	}
	return trees, nil
}

func newTree(spec OrgSpec, mgmt string, members []string) (*orgTree, error) {
	if spec.RootID == "" {
		spec.RootID = "r-" + strings.ToLower(spec.ID[max(0, len(spec.ID)-4):])
	}
	switch spec.SCPStatus {
	case "":
		spec.SCPStatus = "ENABLED"
	case "ENABLED", "PENDING_ENABLE", "PENDING_DISABLE", "DISABLED":
	default:
		return nil, fmt.Errorf("scp_status %q (want ENABLED, PENDING_ENABLE, PENDING_DISABLE or DISABLED)", spec.SCPStatus)
	}
	if !rootIDRE.MatchString(spec.RootID) {
		return nil, fmt.Errorf("root_id %q is not r- and 4 to 32 lowercase letters or digits", spec.RootID)
	}
	t := &orgTree{spec: spec, mgmt: mgmt, parent: map[string]string{}, kind: map[string]string{spec.RootID: "ROOT"},
		attached: map[string][]string{}, denied: map[string]bool{}, ouName: map[string]string{}, policies: map[string]PolicySpec{
			FullAWSAccessID: {ID: FullAWSAccessID, Name: "FullAWSAccess", Description: "Allows access to every operation", AWSManaged: true, Content: fullAWSAccessContent}}}
	for _, p := range spec.Policies {
		if p.ID != FullAWSAccessID && !policyIDRE.MatchString(p.ID) {
			return nil, fmt.Errorf("policy id %q is not p- and 8 to 128 letters, digits or _", p.ID)
		}
		if _, dup := t.policies[p.ID]; dup && p.ID != FullAWSAccessID {
			return nil, fmt.Errorf("policy %s appears twice", p.ID)
		}
		t.policies[p.ID] = p
	}
	attach := func(target string, ids []string) error {
		if len(ids) == 0 {
			ids = []string{FullAWSAccessID}
		}
		for _, p := range ids {
			if _, ok := t.policies[p]; !ok {
				return fmt.Errorf("%s: policy %s is not among the policies", target, p)
			}
		}
		t.attached[target] = ids
		return nil
	}
	if err := attach(spec.RootID, spec.RootSCPs); err != nil {
		return nil, err
	}
	for _, a := range members {
		t.kind[a], t.parent[a] = "ACCOUNT", spec.RootID
		if err := attach(a, spec.AccountSCPs[a]); err != nil {
			return nil, err
		}
	}
	for a := range spec.AccountSCPs {
		if t.kind[a] != "ACCOUNT" {
			return nil, fmt.Errorf("account_scps: %s is not an account of the organization", a)
		}
	}
	for _, ou := range spec.OUs {
		if !ouIDRE.MatchString(ou.ID) {
			return nil, fmt.Errorf("OU id %q is not ou-, 4 to 32 lowercase letters or digits, -, and 8 to 32 more", ou.ID)
		}
		if t.kind[ou.ID] != "" {
			return nil, fmt.Errorf("OU %s appears twice", ou.ID)
		}
		t.kind[ou.ID] = "ORGANIZATIONAL_UNIT"
		t.ouName[ou.ID] = cmpOr(ou.Name, ou.ID)
	}
	inOU := map[string]string{}
	for _, ou := range spec.OUs {
		parent := cmpOr(ou.Parent, spec.RootID)
		if k := t.kind[parent]; k != "ROOT" && k != "ORGANIZATIONAL_UNIT" {
			return nil, fmt.Errorf("OU %s: parent %s is neither the root nor an OU", ou.ID, parent)
		}
		t.parent[ou.ID] = parent
		if err := attach(ou.ID, ou.SCPs); err != nil {
			return nil, err
		}
		t.denied[ou.ID] = ou.ListDenied
		for _, a := range ou.Accounts {
			if t.kind[a] != "ACCOUNT" {
				return nil, fmt.Errorf("OU %s: %s is not an account of the organization", ou.ID, a)
			}
			if other, dup := inOU[a]; dup {
				return nil, fmt.Errorf("account %s is in OU %s and in OU %s", a, other, ou.ID)
			}
			inOU[a] = ou.ID
			t.parent[a] = ou.ID
		}
	}
	// Organizations nests OUs at most five deep, and never in a loop.
	for _, ou := range spec.OUs {
		depth := 0
		for n := ou.ID; n != spec.RootID; n = t.parent[n] {
			if depth++; depth > 5 {
				return nil, fmt.Errorf("OU %s is more than five OUs deep (or its parents loop)", ou.ID)
			}
		}
	}
	return t, nil
}

func cmpOr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// serveSCPs answers the organization-structure calls: ListRoots,
// ListParents, DescribeOrganizationalUnit, ListPoliciesForTarget and
// DescribePolicy, for the
// management account's users, as ListAccounts does.
func (s *Server) serveSCPs(w http.ResponseWriter, req request) {
	if !s.managementCaller(w, req) {
		return
	}
	a := req.acct.spec
	t := s.trees[a.Organization.ID]
	var in struct {
		ChildID    string  `json:"ChildId"`
		OUID       *string `json:"OrganizationalUnitId"`
		TargetID   string  `json:"TargetId"`
		PolicyID   string  `json:"PolicyId"`
		Filter     string  `json:"Filter"`
		MaxResults *int    `json:"MaxResults"`
		NextToken  *string `json:"NextToken"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", err.Error())
		return
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 20) {
		s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "MaxResults must be between 1 and 20.")
		return
	}
	arn := func(rest string) string {
		return fmt.Sprintf("arn:%s:organizations::%s:%s", partition(a), t.mgmt, rest)
	}
	switch req.op {
	case "ListRoots":
		types := []map[string]string{}
		if t.spec.SCPStatus != "DISABLED" {
			types = append(types, map[string]string{"Type": "SERVICE_CONTROL_POLICY", "Status": t.spec.SCPStatus})
		}
		s.writeJSON(w, map[string]any{"Roots": []map[string]any{{
			"Id": t.spec.RootID, "Arn": arn("root/" + t.spec.ID + "/" + t.spec.RootID), "Name": "Root", "PolicyTypes": types}}})
	case "ListParents":
		parent, ok := t.parent[in.ChildID]
		if !ok {
			s.writeJSONError(w, http.StatusBadRequest, "ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
			return
		}
		s.writePage(w, t, in.MaxResults, in.NextToken, "Parents", []map[string]any{{"Id": parent, "Type": t.kind[parent]}})
	case "ListPoliciesForTarget":
		if _, ok := t.kind[in.TargetID]; !ok {
			s.writeJSONError(w, http.StatusBadRequest, "TargetNotFoundException", "We can't find a root, OU, account, or email with the TargetId that you specified.")
			return
		}
		if in.Filter == "" {
			s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "You provided a value that does not match the required pattern.")
			return
		}
		if t.denied[in.TargetID] {
			s.writeJSONError(w, http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
			return
		}
		items := []map[string]any{}
		if in.Filter == "SERVICE_CONTROL_POLICY" && t.spec.SCPStatus != "DISABLED" {
			for _, id := range t.attached[in.TargetID] {
				items = append(items, t.summary(id, arn))
			}
		}
		s.writePage(w, t, in.MaxResults, in.NextToken, "Policies", items)
	case "DescribeOrganizationalUnit":
		id := derefOr(in.OUID)
		switch {
		case in.OUID == nil:
			s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "You provided a value that does not match the required pattern.")
		case !ouIDRE.MatchString(id):
			s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "You specified an invalid value.")
		case t.kind[id] != "ORGANIZATIONAL_UNIT":
			s.writeJSONError(w, http.StatusBadRequest, "OrganizationalUnitNotFoundException", "We can't find an organizational unit (OU) with the OrganizationalUnitId that you specified.")
		default:
			s.writeJSON(w, map[string]any{"OrganizationalUnit": map[string]any{"Id": id, "Arn": arn("ou/" + t.spec.ID + "/" + id), "Name": t.ouName[id]}})
		}
	case "DescribePolicy":
		p, ok := t.policies[in.PolicyID]
		if !ok {
			s.writeJSONError(w, http.StatusBadRequest, "PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
			return
		}
		if p.DescribeDenied {
			s.writeJSONError(w, http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
			return
		}
		s.writeJSON(w, map[string]any{"Policy": map[string]any{"PolicySummary": t.summary(p.ID, arn), "Content": p.Content}})
	}
}

// managementCaller answers for a caller that is not a user of an
// organization's management account, and reports whether it may go on.
func (s *Server) managementCaller(w http.ResponseWriter, req request) bool {
	a := req.acct.spec
	switch {
	case a.Organization == nil:
		s.writeJSONError(w, http.StatusBadRequest, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
		return false
	case a.Organization.ManagementAccount != a.ID || req.session.kind != "user":
		s.writeJSONError(w, http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
		return false
	}
	return true
}

func (t *orgTree) summary(id string, arn func(string) string) map[string]any {
	p := t.policies[id]
	a := arn("policy/" + t.spec.ID + "/service_control_policy/" + id)
	if p.AWSManaged {
		a = strings.Replace(arn("policy/service_control_policy/"+id), "::"+t.mgmt+":", "::aws:", 1)
	}
	return map[string]any{"Id": id, "Arn": a, "Name": p.Name, "Description": p.Description, "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": p.AWSManaged}
}

// writePage serves one page of items with a NextToken while more remain.
func (s *Server) writePage(w http.ResponseWriter, t *orgTree, maxResults *int, token *string, key string, items []map[string]any) {
	size := 20
	if t.spec.PageSize > 0 {
		size = t.spec.PageSize
	}
	if maxResults != nil {
		size = min(size, *maxResults)
	}
	from := 0
	if tok := derefOr(token); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page:"))
		if err != nil || !strings.HasPrefix(tok, "page:") || n < 0 || n > len(items) {
			s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "The NextToken is not valid.")
			return
		}
		from = n
	}
	to := min(from+size, len(items))
	res := map[string]any{key: slices.Clip(items[from:to])}
	if to < len(items) {
		res["NextToken"] = "page:" + strconv.Itoa(to)
	}
	s.writeJSON(w, res)
}

func derefOr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

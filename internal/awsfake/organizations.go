package awsfake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) serveOrganizations(w http.ResponseWriter, req request) {
	a := req.acct.spec
	switch req.op {
	case "DescribeOrganization":
		if a.Organization == nil {
			s.writeJSONError(w, http.StatusBadRequest, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
			return
		}
		o := a.Organization
		p := partition(a)
		org := map[string]any{
			"Id":               o.ID,
			"Arn":              fmt.Sprintf("arn:%s:organizations::%s:organization/%s", p, o.ManagementAccount, o.ID),
			"FeatureSet":       "ALL",
			"MasterAccountArn": fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", p, o.ManagementAccount, o.ID, o.ManagementAccount),
			"MasterAccountId":  o.ManagementAccount,
			"AvailablePolicyTypes": []map[string]string{
				{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"},
			},
		}
		if e := s.rootEmail(o.ManagementAccount); e != "" {
			org["MasterAccountEmail"] = e
		}
		s.writeJSON(w, map[string]any{"Organization": org})
	case "ListAccounts":
		s.listAccounts(w, req)
	case "ListTagsForResource":
		s.listTags(w, req)
	case "ListDelegatedAdministrators":
		s.listDelegatedAdmins(w, req)
	case "ListRoots", "ListParents", "DescribeOrganizationalUnit", "ListPoliciesForTarget", "DescribePolicy":
		s.serveSCPs(w, req)
	case "ListAWSServiceAccessForOrganization":
		if a.Organization == nil || a.Organization.ManagementAccount != a.ID || req.session.kind != "user" {
			s.writeJSONError(w, http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
			return
		}
		enabled := []map[string]any{}
		s.mu.Lock()
		// Either IAM feature implies trusted access: IAM refuses them without it.
		if a.Organization.TrustedIAM || len(a.Organization.Features) > 0 || s.trustedIAM[a.Organization.ID] {
			enabled = append(enabled, map[string]any{"ServicePrincipal": "iam.amazonaws.com", "DateEnabled": 946684800})
		}
		s.mu.Unlock()
		s.writeJSON(w, map[string]any{"EnabledServicePrincipals": enabled})
	case "EnableAWSServiceAccess":
		var in struct {
			ServicePrincipal string `json:"ServicePrincipal"`
		}
		json.Unmarshal(req.body, &in)
		if a.Organization == nil || a.Organization.ManagementAccount != a.ID || req.session.kind != "user" {
			s.writeJSONError(w, http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
			return
		}
		if in.ServicePrincipal == "iam.amazonaws.com" {
			s.mu.Lock()
			s.trustedIAM[a.Organization.ID] = true
			s.mu.Unlock()
		}
		s.writeJSON(w, map[string]any{})
	default:
		s.writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation "+req.op)
	}
}

// rootEmail is an account's root e-mail address in the world ("" when it
// is left out).
func (s *Server) rootEmail(id string) string {
	for _, b := range s.world.Accounts {
		if b.ID == id {
			switch b.Email {
			case "none":
				return ""
			case "":
				return "aws+" + id + "@example.com"
			}
			return b.Email
		}
	}
	return "aws+" + id + "@example.com"
}

// listTags answers ListTagsForResource for an account of the caller's
// organization (the management account only), in one page.
func (s *Server) listTags(w http.ResponseWriter, req request) {
	a := req.acct.spec
	if a.Organization == nil || a.Organization.ManagementAccount != a.ID || req.session.kind != "user" {
		s.writeJSONError(w, http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
		return
	}
	var in struct {
		ResourceId string `json:"ResourceId"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil || in.ResourceId == "" {
		s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "ResourceId is required")
		return
	}
	for _, b := range s.world.Accounts {
		if b.ID != in.ResourceId || b.Organization == nil || b.Organization.ID != a.Organization.ID {
			continue
		}
		tags := []map[string]string{}
		for _, k := range slices.Sorted(maps.Keys(b.Tags)) {
			tags = append(tags, map[string]string{"Key": k, "Value": b.Tags[k]})
		}
		s.writeJSON(w, map[string]any{"Tags": tags})
		return
	}
	s.writeJSONError(w, http.StatusBadRequest, "TargetNotFoundException", "You specified a target that doesn't exist.")
}

func (s *Server) listAccounts(w http.ResponseWriter, req request) {
	if !s.managementCaller(w, req) {
		return
	}
	a := req.acct.spec
	var in struct {
		MaxResults *int    `json:"MaxResults"`
		NextToken  *string `json:"NextToken"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", err.Error())
		return
	}
	size := 20
	if s.world.ListAccountsPageSize > 0 {
		size = s.world.ListAccountsPageSize
	}
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 20 {
			s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "MaxResults must be between 1 and 20.")
			return
		}
		size = min(size, *in.MaxResults)
	}
	var members []*Account
	for _, b := range s.world.Accounts {
		if b.Organization != nil && b.Organization.ID == a.Organization.ID {
			members = append(members, b)
		}
	}
	slices.SortFunc(members, func(a, b *Account) int { return strings.Compare(a.ID, b.ID) })
	from := 0
	token := ""
	if in.NextToken != nil {
		token = *in.NextToken
	}
	switch {
	case token == "" && s.world.ListAccountsEmptyFirst:
		s.writeJSON(w, map[string]any{"Accounts": []any{}, "NextToken": "page:0"})
		return
	case token != "":
		n, err := strconv.Atoi(strings.TrimPrefix(token, "page:"))
		if err != nil || !strings.HasPrefix(token, "page:") || n < 0 || n > len(members) {
			s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "The NextToken is not valid.")
			return
		}
		from = n
	}
	to := min(from+size, len(members))
	var out []map[string]any
	p := partition(a)
	for _, m := range members[from:to] {
		state := orDefault(m.State, "ACTIVE")
		status := state
		if state == "CLOSED" || state == "PENDING_ACTIVATION" {
			status = "SUSPENDED"
		}
		entry := map[string]any{
			"Id": m.ID, "Arn": fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", p, a.ID, a.Organization.ID, m.ID),
			"Name": orDefault(m.Name, "account-"+m.ID), "State": state, "Status": status,
			"JoinedMethod": "CREATED", "JoinedTimestamp": 946684800,
		}
		if e := s.rootEmail(m.ID); e != "" {
			entry["Email"] = e
		}
		out = append(out, entry)
	}
	res := map[string]any{"Accounts": out}
	if res["Accounts"] == nil {
		res["Accounts"] = []any{}
	}
	if to < len(members) {
		res["NextToken"] = "page:" + strconv.Itoa(to)
	}
	s.writeJSON(w, res)
}

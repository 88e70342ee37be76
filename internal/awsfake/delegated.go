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

// knownServicePrincipals are the services a delegated administrator may
// be registered for in this fake (Organizations refuses unknown ones).
var knownServicePrincipals = []string{"access-analyzer.amazonaws.com", "config.amazonaws.com", "guardduty.amazonaws.com", "iam.amazonaws.com", "securityhub.amazonaws.com", "sso.amazonaws.com"}

// managementOf returns the organization spec held by the management
// account of a's organization.
func (s *Server) managementOf(a *Account) *Organization {
	if a.Organization == nil {
		return nil
	}
	for _, b := range s.world.Accounts {
		if b.ID == a.Organization.ManagementAccount && b.Organization != nil {
			return b.Organization
		}
	}
	return nil
}

// iamDelegatedAdmin reports whether a is IAM's delegated administrator in
// its organization, and returns the organization's spec (with its
// features) when it is.
func (s *Server) iamDelegatedAdmin(a *Account) (*Organization, bool) {
	o := s.managementOf(a)
	if o == nil || a.Organization.ManagementAccount == a.ID {
		return nil, false
	}
	return o, slices.Contains(o.DelegatedAdmins["iam.amazonaws.com"], a.ID)
}

// listDelegatedAdmins answers ListDelegatedAdministrators (management
// account only), optionally for one service principal, paged.
func (s *Server) listDelegatedAdmins(w http.ResponseWriter, req request) {
	a := req.acct.spec
	if a.Organization == nil {
		s.writeJSONError(w, http.StatusBadRequest, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
		return
	}
	if a.Organization.ManagementAccount != a.ID || req.session.kind != "user" {
		s.writeJSONError(w, http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
		return
	}
	var in struct {
		ServicePrincipal *string `json:"ServicePrincipal"`
		MaxResults       *int    `json:"MaxResults"`
		NextToken        *string `json:"NextToken"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", err.Error())
		return
	}
	var ids []string
	delegated := map[string][]string{} // account → services
	for svc, accts := range a.Organization.DelegatedAdmins {
		for _, id := range accts {
			delegated[id] = append(delegated[id], svc)
		}
	}
	if in.ServicePrincipal != nil {
		if !slices.Contains(knownServicePrincipals, *in.ServicePrincipal) {
			s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "You specified an unrecognized service principal.")
			return
		}
		ids = slices.Clone(a.Organization.DelegatedAdmins[*in.ServicePrincipal])
	} else {
		ids = slices.Collect(maps.Keys(delegated))
	}
	slices.Sort(ids)
	size := 20
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 20 {
			s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "MaxResults must be between 1 and 20.")
			return
		}
		size = *in.MaxResults
	}
	from := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(*in.NextToken, "admins:"))
		if err != nil || !strings.HasPrefix(*in.NextToken, "admins:") || n < 0 || n > len(ids) {
			s.writeJSONError(w, http.StatusBadRequest, "InvalidInputException", "The NextToken is not valid.")
			return
		}
		from = n
	}
	to := min(from+size, len(ids))
	out := []map[string]any{}
	for _, id := range ids[from:to] {
		name := "account-" + id
		for _, b := range s.world.Accounts {
			if b.ID == id && b.Name != "" {
				name = b.Name
			}
		}
		out = append(out, map[string]any{
			"Id": id, "Arn": fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", partition(a), a.ID, a.Organization.ID, id),
			"Email": "aws+" + id + "@example.com", "Name": name, "State": "ACTIVE", "Status": "ACTIVE",
			"JoinedMethod": "CREATED", "JoinedTimestamp": 946684800, "DelegationEnabledDate": 946684800,
		})
	}
	res := map[string]any{"DelegatedAdministrators": out}
	if to < len(ids) {
		res["NextToken"] = "admins:" + strconv.Itoa(to)
	}
	s.writeJSON(w, res)
}

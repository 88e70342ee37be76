package awsfake

import (
	"fmt"
	"net/http"
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
		s.writeJSON(w, map[string]any{"Organization": map[string]any{
			"Id":                 o.ID,
			"Arn":                fmt.Sprintf("arn:%s:organizations::%s:organization/%s", p, o.ManagementAccount, o.ID),
			"FeatureSet":         "ALL",
			"MasterAccountArn":   fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", p, o.ManagementAccount, o.ID, o.ManagementAccount),
			"MasterAccountId":    o.ManagementAccount,
			"MasterAccountEmail": "aws-management@example.com",
			"AvailablePolicyTypes": []map[string]string{
				{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"},
			},
		}})
	default:
		s.writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation "+req.op)
	}
}

package awsfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
)

type callerIdentityResult struct {
	XMLName xml.Name
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

func (s *Server) serveSTS(w http.ResponseWriter, req request) {
	a := req.acct.spec
	switch req.op {
	case "GetCallerIdentity":
		arn := a.CallerARN
		if arn == "" {
			arn = fmt.Sprintf("arn:%s:iam::%s:user/scanner", partition(a), a.ID)
		}
		s.writeQueryResult(w, stsNS, req.op, &callerIdentityResult{Arn: arn, UserID: "AIDAFAKESCANNER" + a.ID[:5], Account: a.ID})
	default:
		s.writeQueryError(w, stsNS, http.StatusBadRequest, "InvalidAction", "The action "+req.op+" is not valid for this endpoint.")
	}
}

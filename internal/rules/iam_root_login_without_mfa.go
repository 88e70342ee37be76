package rules

import (
	"fmt"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func loginWithoutMFA() Rule {
	return Rule{
		ID: "iam-root-login-without-mfa", Title: "Root user signed in without MFA", Severity: finding.SeverityCritical,
		Category: "activity", Sources: []string{evidence.SourceCloudTrail}, Params: []Param{windowParam("a root sign-in without MFA")},
		Eval: func(in Input) []Result {
			res := judgeEvents(in, "root sign-ins without MFA", "successful root console sign-ins without MFA", 1, true, func(e *evidence.Event) bool {
				return isSuccessfulLogin(e) && e.MFA == "no"
			})
			if res[0].Status != finding.StatusPass {
				return res
			}
			// A sign-in whose MFA use is not recorded cannot be shown to have used MFA.
			ct := in.Account.CloudTrail
			unclear, _ := windowed(ct, in, func(e *evidence.Event) bool { return isSuccessfulLogin(e) && e.MFA == "unknown" })
			if len(unclear) > 0 {
				res[0].Status = finding.StatusUnknown
				res[0].Evidence["mfa_unknown_events"] = summaries(unclear, 20)
				res[0].Message = fmt.Sprintf("CloudTrail shows %d successful root console sign-ins within the window whose MFA use is not recorded (no additionalEventData.MFAUsed).", len(unclear))
			}
			return res
		},
		// A sign-in not shown to have used MFA.
		Alerts: func(e evidence.Event) bool {
			return e.Category == evidence.CategoryConsoleLogin && e.Result != "failure" && e.MFA != "yes"
		},
	}
}

package rules

import (
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func consoleLogin() Rule {
	return Rule{
		ID: "iam-root-console-login", Title: "Root user signed in to the console", Severity: finding.SeverityHigh,
		Category: "activity", Sources: []string{evidence.SourceCloudTrail}, Params: []Param{windowParam("a root console sign-in")},
		Eval: func(in Input) []Result {
			return judgeEvents(in, "root console sign-ins", "successful root console sign-ins", 1, true, isSuccessfulLogin)
		},
		Alerts: func(e evidence.Event) bool {
			return e.Category == evidence.CategoryConsoleLogin && e.Result != "failure" && e.MFA == "yes"
		},
	}
}

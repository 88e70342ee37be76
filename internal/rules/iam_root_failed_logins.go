package rules

import (
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func failedLogins() Rule {
	return Rule{
		ID: "iam-root-failed-logins", Title: "Failed root sign-in attempts", Severity: finding.SeverityHigh,
		Category: "activity", Sources: []string{evidence.SourceCloudTrail}, Params: []Param{windowParam("a failed root sign-in"),
			{Name: ParamThreshold, Kind: KindCount, Default: 3, Doc: "how many failed sign-ins within the window make the rule fail"}},
		Eval: func(in Input) []Result {
			return judgeEvents(in, "failed root sign-ins", "failed root console sign-ins", in.Settings.Count(ParamThreshold), true, func(e *evidence.Event) bool {
				return e.Category == evidence.CategoryConsoleLogin && e.Result == "failure" && !e.Unverified
			})
		},
		Alerts: func(e evidence.Event) bool {
			return e.Category == evidence.CategoryConsoleLogin && e.Result == "failure"
		},
	}
}

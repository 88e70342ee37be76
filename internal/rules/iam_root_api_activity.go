package rules

import (
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func apiActivity() Rule {
	return Rule{
		ID: "iam-root-api-activity", Title: "Root user made API calls", Severity: finding.SeverityHigh,
		Category: "activity", Sources: []string{evidence.SourceCloudTrail}, Params: []Param{windowParam("a root API call")},
		Eval: func(in Input) []Result {
			return judgeEvents(in, "root API activity", "root API calls made by a person", 1, false, func(e *evidence.Event) bool {
				return e.Category == evidence.CategoryAPICall && !e.Unverified
			})
		},
		Alerts: func(e evidence.Event) bool { return e.Category == evidence.CategoryAPICall },
	}
}

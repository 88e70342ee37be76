package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// SARIF writes SARIF 2.1.0 for GitHub code scanning: the catalog as the
// driver's rules and one result per failing finding (suppressed ones are
// included, marked with their suppression). A rule the configuration
// disabled stays among the rules and is turned off in the invocation.
type SARIF struct{ Meta finding.Catalog }

// SecurityScore maps a severity to GitHub's security-severity (0–10).
func SecurityScore(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "9.5"
	case finding.SeverityHigh:
		return "8.0"
	case finding.SeverityMedium:
		return "5.5"
	case finding.SeverityLow:
		return "3.0"
	}
	return "1.0"
}

func sarifLevel(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical, finding.SeverityHigh:
		return "error"
	case finding.SeverityMedium:
		return "warning"
	}
	return "note"
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri"`
	DefaultConfiguration map[string]any `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

// camel turns a rule id into the PascalCase name SARIF rules carry.
func camel(id string) string {
	var b strings.Builder
	for _, p := range strings.Split(id, "-") {
		if p == "" {
			continue
		}
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

func (s SARIF) Write(w io.Writer, run *finding.Run) error {
	run = clean(run)
	var rules []sarifRule
	for _, r := range s.Meta.Rules {
		tags := append([]string{"security"}, r.Tags...)
		for _, f := range r.Frameworks {
			tags = append(tags, fmt.Sprintf("%s %s %s", f.Framework, f.Version, f.Control))
		}
		rules = append(rules, sarifRule{
			ID: r.ID, Name: camel(r.ID),
			ShortDescription:     sarifText{Text: r.Title},
			FullDescription:      sarifText{Text: r.Summary},
			Help:                 sarifText{Text: r.Details + "\n\nSuggested action:\n" + r.Action, Markdown: "## Details\n\n" + r.Details + "\n\n## Suggested Action\n\n" + r.Action + "\n\n## References\n\n" + r.References},
			HelpURI:              RulePageURL(r.ID),
			DefaultConfiguration: map[string]any{"level": sarifLevel(r.Severity)},
			Properties:           map[string]any{"security-severity": SecurityScore(r.Severity), "tags": tags, "precision": "high", "problem.severity": sarifLevel(r.Severity)},
		})
	}
	results := []map[string]any{}
	for _, f := range run.Findings {
		if f.Status != finding.StatusFail && f.Status != finding.StatusSuppressed {
			continue
		}
		res := map[string]any{
			"ruleId":  f.RuleID,
			"level":   sarifLevel(f.Severity),
			"message": map[string]any{"text": fmt.Sprintf("%s (account %s): %s", f.Title, f.AccountID, f.Message)},
			"locations": []any{map[string]any{
				// GitHub code scanning needs a file location; an account has
				// none, so each gets a stable pseudo-path.
				"physicalLocation": map[string]any{
					"artifactLocation": map[string]any{"uri": "aws/accounts/" + f.AccountID, "uriBaseId": "ROOTWATCH"},
					"region":           map[string]any{"startLine": 1},
				},
				"logicalLocations": []any{map[string]any{"name": f.Resource, "fullyQualifiedName": f.Resource, "kind": "resource"}},
			}},
			"partialFingerprints": map[string]any{"rootwatchFingerprint/v1": f.Fingerprint},
			"properties":          map[string]any{"account_id": f.AccountID, "resource": f.Resource, "severity": string(f.Severity), "status": string(f.Status), "evidence": f.Evidence},
		}
		if i := s.Meta.Index(f.RuleID); i >= 0 {
			res["ruleIndex"] = i
		}
		if f.Status == finding.StatusSuppressed {
			reason := ""
			if f.Suppression != nil {
				reason = f.Suppression.Reason
			}
			res["suppressions"] = []any{map[string]any{"kind": "external", "justification": reason, "status": "accepted"}}
		}
		results = append(results, res)
	}
	invocation := map[string]any{"executionSuccessful": true, "endTimeUtc": run.GeneratedAt.UTC().Format("2006-01-02T15:04:05.000Z")}
	if len(run.DisabledRules) > 0 {
		// SARIF's own way to say a rule was turned off for this run (§3.20.5
		// ruleConfigurationOverrides), and a note people see (§3.20.21).
		var overrides, notes []any
		for _, r := range run.DisabledRules {
			ref := map[string]any{"id": r.RuleID}
			if i := s.Meta.Index(r.RuleID); i >= 0 {
				ref["index"] = i
			}
			overrides = append(overrides, map[string]any{"descriptor": ref, "configuration": map[string]any{"enabled": false}})
			notes = append(notes, map[string]any{"level": "note", "associatedRule": ref,
				"message": map[string]any{"text": fmt.Sprintf("Rule %s (%s) is disabled by the configuration: judged for no account.", r.RuleID, r.Title)}})
		}
		invocation["ruleConfigurationOverrides"] = overrides
		invocation["toolConfigurationNotifications"] = notes
	}
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool": map[string]any{"driver": map[string]any{
				"name": "rootwatch", "version": run.Tool.Version, "semanticVersion": semver(run.Tool.Version),
				"informationUri": "https://github.com/rootwatch/rootwatch", "rules": rules,
			}},
			"originalUriBaseIds": map[string]any{"ROOTWATCH": map[string]any{"uri": "file:///rootwatch/", "description": map[string]any{"text": "Pseudo-paths for AWS accounts."}}},
			"automationDetails":  map[string]any{"id": "rootwatch/" + run.AsOf.UTC().Format("2006-01-02T15:04:05Z")},
			"invocations":        []any{invocation},
			"results":            results,
			"columnKind":         "utf16CodeUnits",
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}

// semver returns a version SARIF's semanticVersion accepts, or "0.0.0".
func semver(v string) string {
	v = strings.TrimPrefix(v, "v")
	if len(strings.Split(v, ".")) >= 3 {
		return v
	}
	return "0.0.0"
}

package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// ASFF writes findings in the AWS Security Finding Format for Security
// Hub: every field within Security Hub's limits (truncated, never failing),
// ids deterministic from rule, account and resource, so that re-imports
// update findings instead of duplicating them.
type ASFF struct {
	Meta finding.Catalog
	// Region and ProductAccount name the product ARN; ProductAccount is the
	// account that imports (default: each finding's own).
	Region, ProductAccount string
}

// ASFF field limits (Security Hub BatchImportFindings).
const (
	asffTitleMax        = 256
	asffDescriptionMax  = 1024
	asffRecommendMax    = 512
	asffProductFieldMax = 2048
	asffProductFieldsN  = 50
)

// Truncate shortens s to at most n characters, marking the cut with "…".
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func asffSeverity(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "CRITICAL"
	case finding.SeverityHigh:
		return "HIGH"
	case finding.SeverityMedium:
		return "MEDIUM"
	case finding.SeverityLow:
		return "LOW"
	}
	return "INFORMATIONAL"
}

// ASFFID is the deterministic finding id.
func ASFFID(f finding.Finding) string {
	return "rootwatch/" + f.AccountID + "/" + f.RuleID + "/" + f.Fingerprint
}

// Findings converts a run: not_applicable findings are left out (nothing to
// record); pass, fail, suppressed, unknown and error map to compliance
// PASSED (workflow RESOLVED), FAILED, FAILED (workflow SUPPRESSED),
// NOT_AVAILABLE, all with RecordState ACTIVE.
func (a ASFF) Findings(run *finding.Run) []map[string]any {
	var out []map[string]any
	a.each(run, func(rec map[string]any) error {
		out = append(out, rec)
		return nil
	})
	return out
}

// each gives fn the run's findings one at a time, stopping at its error.
func (a ASFF) each(run *finding.Run, fn func(map[string]any) error) error {
	stamp := run.AsOf.UTC().Format(time.RFC3339)
	for _, f := range run.Findings {
		compliance, workflow, ok := asffStatus(f.Status)
		if !ok {
			continue
		}
		if err := fn(a.record(f, stamp, compliance, workflow, "ACTIVE", f.Message)); err != nil {
			return err
		}
	}
	return nil
}

// asffStatus maps a status to Compliance.Status and Workflow.Status; ok is
// false for not_applicable, which is not sent.
func asffStatus(st finding.Status) (compliance, workflow string, ok bool) {
	switch st {
	case finding.StatusPass:
		return "PASSED", "RESOLVED", true
	case finding.StatusFail:
		return "FAILED", "NEW", true
	case finding.StatusSuppressed:
		return "FAILED", "SUPPRESSED", true
	case finding.StatusUnknown, finding.StatusError:
		return "NOT_AVAILABLE", "NEW", true
	}
	return "", "", false
}

// record is one finding in ASFF, updated at stamp.
func (a ASFF) record(f finding.Finding, stamp, compliance, workflow, recordState, description string) map[string]any {
	region := a.Region
	if region == "" {
		region = "us-east-1"
	}
	product := a.ProductAccount
	if product == "" {
		product = f.AccountID
	}
	partition := arnPartition(f.Resource)
	if partition == "" {
		partition = "aws"
	}
	rec := map[string]any{
		"SchemaVersion": "2018-10-08",
		"Id":            ASFFID(f),
		"ProductArn":    fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partition, region, product, product),
		"GeneratorId":   "rootwatch/" + f.RuleID,
		"AwsAccountId":  f.AccountID,
		"Types":         []string{"Software and Configuration Checks/AWS Security Best Practices"},
		"CreatedAt":     stamp,
		"UpdatedAt":     stamp,
		"Severity":      map[string]any{"Label": asffSeverity(f.Severity), "Original": string(f.Severity)},
		"Title":         Truncate(f.Title, asffTitleMax),
		"Description":   Truncate(description, asffDescriptionMax),
		"Resources":     []any{map[string]any{"Type": "AwsAccount", "Id": f.Resource, "Partition": partition, "Region": region}},
		"Compliance":    map[string]any{"Status": compliance},
		"Workflow":      map[string]any{"Status": workflow},
		"RecordState":   recordState,
		"ProductFields": a.productFields(f),
	}
	if m, ok := a.Meta.Rule(f.RuleID); ok {
		rec["Remediation"] = map[string]any{"Recommendation": map[string]any{"Text": Truncate(m.Summary, asffRecommendMax), "Url": RulePageURL(f.RuleID)}}
	}
	return rec
}

// Resolved closes in Security Hub what an earlier run (prev) imported as
// failing and this run no longer sends: a finding that is not_applicable
// now (e.g. after a member's root credentials were removed) or is gone
// (its resource changed), in an account this run assessed. Each is sent
// again, updated as of this run, with Compliance.Status PASSED and
// RecordState ARCHIVED, so that it leaves the active findings instead of
// staying failed until Security Hub deletes it for want of updates.
// (Workflow.Status RESOLVED takes effect only on a finding Security Hub
// does not hold yet: an update cannot change the customer's workflow.)
// A finding the run judges again is sent as the run says (a pass is
// PASSED and stays ACTIVE, since every run updates it); an account the run
// could not assess keeps its findings as they were.
func (a ASFF) Resolved(prev, run *finding.Run) []map[string]any {
	if prev == nil {
		return nil
	}
	now := map[string]finding.Finding{}
	for _, f := range run.Findings {
		now[f.Fingerprint] = f
	}
	assessed := map[string]bool{}
	for _, acc := range run.Accounts {
		assessed[acc.AccountID] = acc.Status == finding.AccountAssessed || acc.Status == finding.AccountPartial
	}
	stamp := run.AsOf.UTC().Format(time.RFC3339)
	var out []map[string]any
	for _, old := range prev.Findings {
		if compliance, _, _ := asffStatus(old.Status); compliance != "FAILED" || !assessed[old.AccountID] {
			continue
		}
		why := "no longer found: this run judged no such resource"
		if cur, ok := now[old.Fingerprint]; ok {
			if _, _, sent := asffStatus(cur.Status); sent {
				continue // sent as this run judges it
			}
			why = "now " + string(cur.Status) + ": " + cur.Message
		}
		rec := a.record(old, stamp, "PASSED", "RESOLVED", "ARCHIVED",
			fmt.Sprintf("Resolved as of %s, %s (was %s: %s)", stamp, why, old.Status, old.Message))
		rec["ProductFields"].(map[string]string)["rootwatch/Status"] = "resolved"
		out = append(out, rec)
	}
	return out
}

// productFields flattens the evidence into at most 50 string fields.
func (a ASFF) productFields(f finding.Finding) map[string]string {
	pf := map[string]string{"rootwatch/RuleId": f.RuleID, "rootwatch/Status": string(f.Status), "rootwatch/Fingerprint": f.Fingerprint}
	for _, k := range sortedEvidenceKeys(f.Evidence) {
		if len(pf) >= asffProductFieldsN {
			break
		}
		v := f.Evidence[k]
		s, ok := v.(string)
		if !ok {
			b, _ := json.Marshal(v)
			s = string(b)
		}
		pf["rootwatch/evidence/"+Truncate(k, 100)] = Truncate(s, asffProductFieldMax)
	}
	return pf
}

// Write streams {"Findings": [...]} a finding at a time, as a json.Encoder
// with a two-space indent would write it whole.
func (a ASFF) Write(w io.Writer, run *finding.Run) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	jw := &jsonStream{w: bw}
	jw.raw("{\n  \"Findings\": ")
	n := 0
	err := a.each(run, func(rec map[string]any) error {
		if n++; n == 1 {
			jw.raw("[\n    ")
		} else {
			jw.raw(",\n    ")
		}
		jw.value(rec, "    ")
		return jw.err
	})
	if n == 0 {
		jw.raw("null")
	} else {
		jw.raw("\n  ]")
	}
	jw.raw("\n}\n")
	if err == nil && jw.err == nil {
		jw.err = bw.Flush()
	}
	if err == nil {
		err = jw.err
	}
	if err != nil {
		return fmt.Errorf("write asff: %w", err)
	}
	return nil
}

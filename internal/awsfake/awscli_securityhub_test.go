package awsfake

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

const securityHubWorld = `
accounts:
  - id: "111111111111"
    access_keys: [AKIASH00000000000001]
  - id: "222222222222"
    access_keys: [AKIASH00000000000002]
    securityhub: {disabled: true}
`

// shDoc is an ASFF finding of account 111111111111's default product.
func shDoc(id, updated, compliance, record, workflow string) map[string]any {
	d := map[string]any{
		"SchemaVersion": "2018-10-08", "Id": id,
		"ProductArn":   "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default",
		"GeneratorId":  "rootwatch/iam-root-no-mfa",
		"AwsAccountId": "111111111111",
		"Types":        []string{"Software and Configuration Checks/AWS Security Best Practices"},
		"CreatedAt":    "2026-03-01T00:00:00Z", "UpdatedAt": updated,
		"Severity":    map[string]any{"Label": "CRITICAL"},
		"Title":       "Root user has no MFA",
		"Description": "The root user has no MFA device.",
		"Resources":   []map[string]any{{"Type": "AwsAccount", "Id": "arn:aws:iam::111111111111:root"}},
		"Compliance":  map[string]any{"Status": compliance},
		"RecordState": record,
	}
	if workflow != "" {
		d["Workflow"] = map[string]any{"Status": workflow}
	}
	return d
}

// TestAWSCLISecurityHubConformance imports findings with the AWS CLI and
// reads them back: botocore's REST-JSON parsers are the reference for the
// wire format, and the documented import rules (newer UpdatedAt only, the
// workflow kept by the customer, the reset to NEW on reopening, the
// caller's own account and product, 100 a call) are what the fake keeps.
func TestAWSCLISecurityHubConformance(t *testing.T) {
	bin := testutil.RequireTool(t, "aws")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, url, err := Serve(ctx, []byte(securityHubWorld), "security hub world", Options{Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	c := awsCLI{t: t, bin: bin, url: url, home: t.TempDir()}
	const owner, disabled = "AKIASH00000000000001", "AKIASH00000000000002"
	file := func(docs ...map[string]any) string {
		b, _ := json.Marshal(docs)
		p := filepath.Join(t.TempDir(), "findings.json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	type result struct {
		SuccessCount, FailedCount int
		FailedFindings            []struct{ Id, ErrorCode, ErrorMessage string }
	}
	importAs := func(key string, docs ...map[string]any) result {
		var r result
		c.json(key, &r, "securityhub", "batch-import-findings", "--findings", file(docs...))
		return r
	}
	type stored struct {
		Id, RecordState, Region, ProcessedAt, UpdatedAt string
		Compliance, Workflow                            struct{ Status string }
	}
	get := func(id string) stored {
		var out struct{ Findings []stored }
		c.json(owner, &out, "securityhub", "get-findings", "--filters", fmt.Sprintf(`{"Id":[{"Value":%q,"Comparison":"EQUALS"}]}`, id))
		if len(out.Findings) != 1 {
			t.Fatalf("get-findings %s: %d findings", id, len(out.Findings))
		}
		return out.Findings[0]
	}

	t.Run("create, read back", func(t *testing.T) {
		if r := importAs(owner, shDoc("f1", "2026-03-01T00:00:00Z", "FAILED", "ACTIVE", "NEW")); r.SuccessCount != 1 || r.FailedCount != 0 {
			t.Fatalf("%+v", r)
		}
		if f := get("f1"); f.Compliance.Status != "FAILED" || f.RecordState != "ACTIVE" || f.Workflow.Status != "NEW" || f.Region != "us-east-1" || f.ProcessedAt == "" {
			t.Errorf("%+v", f)
		}
	})
	t.Run("an update not newer is ignored", func(t *testing.T) {
		if r := importAs(owner, shDoc("f1", "2026-03-01T00:00:00Z", "PASSED", "ARCHIVED", "")); r.SuccessCount != 1 {
			t.Fatalf("%+v", r)
		}
		if f := get("f1"); f.Compliance.Status != "FAILED" || f.RecordState != "ACTIVE" {
			t.Errorf("an update with the same UpdatedAt was applied: %+v", f)
		}
	})
	t.Run("archived as resolved; the workflow stays the customer's", func(t *testing.T) {
		importAs(owner, shDoc("f1", "2026-03-02T00:00:00Z", "PASSED", "ARCHIVED", "RESOLVED"))
		if f := get("f1"); f.Compliance.Status != "PASSED" || f.RecordState != "ARCHIVED" || f.Workflow.Status != "NEW" || f.UpdatedAt != "2026-03-02T00:00:00Z" {
			t.Errorf("%+v", f)
		}
	})
	t.Run("reopening resets a resolved workflow to NEW", func(t *testing.T) {
		importAs(owner, shDoc("f2", "2026-03-01T00:00:00Z", "PASSED", "ACTIVE", "RESOLVED"))
		if f := get("f2"); f.Workflow.Status != "RESOLVED" {
			t.Fatalf("created with %+v", f)
		}
		importAs(owner, shDoc("f2", "2026-03-03T00:00:00Z", "FAILED", "ACTIVE", "RESOLVED"))
		if f := get("f2"); f.Compliance.Status != "FAILED" || f.Workflow.Status != "NEW" {
			t.Errorf("%+v", f)
		}
	})
	t.Run("invalid findings are refused one by one", func(t *testing.T) {
		// (botocore itself refuses a finding without a required field.)
		longTitle := shDoc("f3", "2026-03-01T00:00:00Z", "FAILED", "ACTIVE", "")
		longTitle["Title"] = strings.Repeat("t", 257)
		badState := shDoc("f4", "2026-03-01T00:00:00Z", "FAILED", "GONE", "")
		r := importAs(owner, longTitle, badState, shDoc("f5", "2026-03-01T00:00:00Z", "FAILED", "ACTIVE", ""))
		if r.SuccessCount != 1 || r.FailedCount != 2 || r.FailedFindings[0].Id != "f3" || r.FailedFindings[0].ErrorCode != "InvalidInput" || r.FailedFindings[1].Id != "f4" {
			t.Errorf("%+v", r)
		}
	})
	t.Run("another account's finding refuses the call", func(t *testing.T) {
		other := shDoc("f6", "2026-03-01T00:00:00Z", "FAILED", "ACTIVE", "")
		other["AwsAccountId"] = "333333333333"
		c.fails(owner, "AccessDeniedException", "securityhub", "batch-import-findings", "--findings", file(other))
	})
	t.Run("at most 100 a call", func(t *testing.T) {
		var docs []map[string]any
		for i := range 101 {
			docs = append(docs, shDoc(fmt.Sprintf("g%d", i), "2026-03-01T00:00:00Z", "FAILED", "ACTIVE", ""))
		}
		c.fails(owner, "InvalidInputException", "securityhub", "batch-import-findings", "--findings", file(docs...))
	})
	t.Run("Security Hub disabled", func(t *testing.T) {
		d := shDoc("h1", "2026-03-01T00:00:00Z", "FAILED", "ACTIVE", "")
		d["AwsAccountId"], d["ProductArn"] = "222222222222", "arn:aws:securityhub:us-east-1:222222222222:product/222222222222/default"
		if r := importAs(disabled, d); r.SuccessCount != 0 || r.FailedCount != 1 || r.FailedFindings[0].ErrorCode != "InvalidAccess" {
			t.Errorf("%+v", r)
		}
	})
	t.Run("get-findings filters and pages", func(t *testing.T) {
		var out struct{ Findings []stored }
		c.json(owner, &out, "securityhub", "get-findings", "--filters", `{"RecordState":[{"Value":"ACTIVE","Comparison":"EQUALS"}]}`, "--page-size", "1")
		if len(out.Findings) != 2 || out.Findings[0].Id != "f2" || out.Findings[1].Id != "f5" {
			t.Errorf("%+v", out.Findings)
		}
		c.fails(owner, "InvalidInputException", "securityhub", "get-findings", "--filters", `{"Title":[{"Value":"x","Comparison":"PREFIX"}]}`)
	})
}

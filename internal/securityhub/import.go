// Package securityhub imports ASFF findings into AWS Security Hub with
// BatchImportFindings: batches of at most 100 (the API's limit), throttling
// retried by the SDK, and every finding the API refuses reported by id.
// ImportRun chooses what a judged run sends: the calling account's findings,
// and those an earlier run imported as failing that are resolved now.
package securityhub

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// BatchSize is BatchImportFindings' maximum.
const BatchSize = 100

// API is the Security Hub call rootwatch makes.
type API interface {
	BatchImportFindings(context.Context, *securityhub.BatchImportFindingsInput, ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
}

// Refusal is a finding Security Hub did not accept.
type Refusal struct {
	ID, Code, Message string
}

// Result counts an import.
type Result struct {
	Imported int
	Batches  int
	Refused  []Refusal
}

// Convert turns ASFF records (as the report writer builds them) into the
// SDK's type; the field names are ASFF's own.
func Convert(records []map[string]any) ([]types.AwsSecurityFinding, error) {
	b, err := json.Marshal(records)
	if err != nil {
		return nil, err
	}
	var out []types.AwsSecurityFinding
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("convert ASFF: %w", err)
	}
	return out, nil
}

// Import sends findings in batches. A batch the API rejects outright ends
// the import with an error that says how far it got.
func Import(ctx context.Context, c API, findings []types.AwsSecurityFinding) (Result, error) {
	var res Result
	for start := 0; start < len(findings); start += BatchSize {
		batch := findings[start:min(start+BatchSize, len(findings))]
		out, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: batch})
		if err != nil {
			return res, fmt.Errorf("BatchImportFindings (batch %d, findings %d–%d of %d): %w", res.Batches+1, start+1, start+len(batch), len(findings), err)
		}
		res.Batches++
		res.Imported += int(aws.ToInt32(out.SuccessCount))
		for _, f := range out.FailedFindings {
			res.Refused = append(res.Refused, Refusal{ID: aws.ToString(f.Id), Code: aws.ToString(f.ErrorCode), Message: aws.ToString(f.ErrorMessage)})
		}
	}
	return res, nil
}

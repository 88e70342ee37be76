package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	shapi "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

// TestSecurityHubImportAgainstMoto imports a run into moto's Security Hub
// and reads it back: GetFindings must return exactly what was sent.
func TestSecurityHubImportAgainstMoto(t *testing.T) {
	url := testutil.StartMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	loader := func(context.Context, string, string) (aws.Config, error) { return cfg, nil }

	r := runWith(t, loader, "scan", "--demo", "--as-of", "2026-03-01T00:00:00Z", "-f", "json", "--securityhub")
	if r.code == ExitUsage {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	run := decodeRun(t, r.stdout)
	var sent []string
	for _, f := range run.Findings {
		if f.Status != "not_applicable" {
			sent = append(sent, "rootwatch/"+f.AccountID+"/"+f.RuleID+"/"+f.Fingerprint+" "+f.Title)
		}
	}
	if want := fmt.Sprintf("imported %d of %d findings in 1 batches", len(sent), len(sent)); !strings.Contains(r.stderr, want) {
		t.Errorf("stderr: %s", r.stderr)
	}

	c := shapi.NewFromConfig(cfg)
	var got []string
	p := shapi.NewGetFindingsPaginator(c, &shapi.GetFindingsInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Findings {
			got = append(got, aws.ToString(f.Id)+" "+aws.ToString(f.Title))
			if !strings.HasPrefix(aws.ToString(f.ProductArn), "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default") {
				t.Errorf("product ARN %s", aws.ToString(f.ProductArn))
			}
		}
	}
	sort.Strings(sent)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(sent, "\n") {
		t.Errorf("Security Hub holds %d findings, %d were sent\n got: %v\nsent: %v", len(got), len(sent), got, sent)
	}
	// Importing again updates the same findings (deterministic ids).
	runWith(t, loader, "scan", "--demo", "--as-of", "2026-03-01T00:00:00Z", "-f", "json", "--securityhub")
	again, err := c.GetFindings(ctx, &shapi.GetFindingsInput{MaxResults: aws.Int32(100)})
	if err != nil || len(again.Findings) != len(sent) {
		t.Errorf("after a second import: %d findings (%v), want %d", len(again.Findings), err, len(sent))
	}
}

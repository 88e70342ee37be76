package awsfake

import (
	"context"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

const lakeWorld = `
accounts:
  - id: "111111111111"
    access_keys: [AKIALAKE000000000001]
    lake: {polls: 1, page_size: 1, bytes_scanned: 4096}
    trail:
      - {time: -2d, mfa: "No"}
      - {time: -1d, name: ListBuckets, source: s3.amazonaws.com, identity: IAMUser, user: alice}
      - {time: -3h, name: GetCallerIdentity, source: sts.amazonaws.com}
`

// TestAWSCLILakeConformance drives the fake's CloudTrail Lake with the AWS
// CLI: a query runs, finishes and pages; Lake's rows are lists of
// one-column maps; a finished query cannot be cancelled; an unknown store
// is refused.
func TestAWSCLILakeConformance(t *testing.T) {
	bin := testutil.RequireTool(t, "aws")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, url, err := Serve(ctx, []byte(lakeWorld), "lake world", Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := awsCLI{t: t, bin: bin, url: url, home: t.TempDir()}
	const key = "AKIALAKE000000000001"
	stmt := "SELECT 'event' AS row_kind,\n       eventName AS event_name,\n       userIdentity.type AS identity_type,\n       json_format(CAST(responseElements AS JSON)) AS response_elements,\n       CAST(NULL AS varchar) AS events\n" +
		"FROM fake-eds-111111111111\nWHERE eventTime >= '2000-01-01 00:00:00'\n  AND ((lower(userIdentity.type) = 'root')\n       OR (eventName = 'AssumeRoot' AND lower(eventSource) LIKE 'sts.%'))\n" +
		"UNION ALL\nSELECT 'coverage', CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(count(*) AS varchar)\nFROM fake-eds-111111111111\nWHERE eventTime >= '2000-01-01 00:00:00'\nGROUP BY recipientAccountId"
	var started struct{ QueryId string }
	c.json(key, &started, "cloudtrail", "start-query", "--query-statement", stmt)
	if started.QueryId == "" {
		t.Fatal("no query ID")
	}
	type results struct {
		QueryStatus     string
		QueryResultRows [][]map[string]string
		QueryStatistics struct {
			ResultsCount, TotalResultsCount int
			BytesScanned                    int64
		}
		NextToken string
	}
	var r results
	c.json(key, &r, "cloudtrail", "get-query-results", "--query-id", started.QueryId)
	if r.QueryStatus != "RUNNING" || len(r.QueryResultRows) != 0 {
		t.Fatalf("first poll %+v", r)
	}
	var rows [][]map[string]string
	token := ""
	for range 5 {
		args := []string{"cloudtrail", "get-query-results", "--query-id", started.QueryId}
		if token != "" {
			args = append(args, "--next-token", token)
		}
		r = results{}
		c.json(key, &r, args...)
		if r.QueryStatus != "FINISHED" || r.QueryStatistics.BytesScanned != 4096 {
			t.Fatalf("%+v", r)
		}
		rows = append(rows, r.QueryResultRows...)
		if token = r.NextToken; token == "" {
			break
		}
	}
	// Two root events (the sign-in, GetCallerIdentity) and one coverage row.
	if len(rows) != 3 || r.QueryStatistics.TotalResultsCount != 3 {
		t.Fatalf("rows %v", rows)
	}
	if rows[0][0]["row_kind"] != "event" || rows[0][1]["event_name"] != "ConsoleLogin" || rows[0][2]["identity_type"] != "Root" ||
		!strings.Contains(rows[0][3]["response_elements"], `"ConsoleLogin":"Success"`) || len(rows[0]) != 4 {
		t.Errorf("event row %v", rows[0])
	}
	if rows[2][0]["row_kind"] != "coverage" || rows[2][1]["events"] != "3" {
		t.Errorf("coverage row %v", rows[2])
	}
	c.fails(key, "InactiveQueryException", "cloudtrail", "cancel-query", "--query-id", started.QueryId)
	c.fails(key, "EventDataStoreNotFoundException", "cloudtrail", "start-query", "--query-statement", strings.ReplaceAll(stmt, "fake-eds-111111111111", "other-store"))
}

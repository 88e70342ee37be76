package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
)

func lakeWorld(lake string) string {
	return `
accounts:
  - id: "210987654321"
    access_keys: [AKIALIVE000000000001]
    root: {password_last_used: -2d, mfa: hardware}
    monitoring: {preset: alarm}
    report: {existing: 1h}
    lake: ` + lake + `
    trail:
      - {time: -45d, name: ListBuckets, identity: IAMUser, user: bob}
      - {time: -366h, name: ListBuckets, source: s3.amazonaws.com, identity: IAMUser, user: alice}
      - {time: -3d, result: Failure}
      - {time: -2d, mfa: "No"}
      - {time: -2d, name: PutBucketVersioning, source: s3.amazonaws.com}
      - {time: -1d, name: RotateKey, source: kms.amazonaws.com, event_type: AwsServiceEvent, invoked_by: kms.amazonaws.com}
      - {time: -10m, name: GetObject, source: s3.amazonaws.com, identity: IAMUser, user: alice}
`
}

func timelineFacts(t *testing.T, out string) ([]string, report.Timeline) {
	t.Helper()
	var tl report.Timeline
	if err := json.Unmarshal([]byte(out), &tl); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var f []string
	for _, e := range tl.Events {
		f = append(f, strings.Join([]string{e.AccountID, e.EventName, string(e.Category), e.Result, e.MFA, e.EventTime, e.SourceIP}, " | "))
	}
	slices.Sort(f)
	return f, tl
}

// TestLake reads CloudTrail Lake through the fake (moto has none): the
// same root events as LookupEvents over the same trail, paged after the
// query ran; a scan judges the sign-in rules on it; a failed, refused or
// timed-out query is the source's error and no rule passes on it.
func TestLake(t *testing.T) {
	const store = "lake://fake-eds-210987654321"
	r := runLive(t, lakeWorld("{polls: 2, page_size: 2, bytes_scanned: 1610612736}"), "trail", store, "--since", "30d", "-f", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d (%v)\n%s%s", r.code, r.err, r.stdout, r.stderr)
	}
	got, tl := timelineFacts(t, r.stdout)
	lk := runLive(t, lakeWorld("{}"), "trail", "--lookup", "--since", "30d", "-f", "json")
	want, _ := timelineFacts(t, lk.stdout)
	if !slices.Equal(got, want) || len(got) != 4 {
		t.Fatalf("lake:\n%s\nLookupEvents:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	src := tl.Sources[0]
	if src.Query == nil || src.Query.Engine != "cloudtrail-lake" || src.Query.BytesScanned != 1610612736 || src.Accounts[liveAccount] != 6 || src.Period == nil {
		t.Fatalf("source %+v query %+v", src, src.Query)
	}
	if !strings.Contains(src.Query.Statement, "FROM fake-eds-210987654321") || !strings.Contains(src.Query.Statement, "eventTime >= '") {
		t.Errorf("statement %s", src.Query.Statement)
	}
	table := runLive(t, lakeWorld("{bytes_scanned: 1610612736}"), "trail", store, "--since", "30d")
	if !strings.Contains(table.stdout, "query "+store+": cloudtrail-lake fa4ec0de-") || !strings.Contains(table.stdout, "1.5 GiB scanned, 6 events in 1 account") {
		t.Errorf("table:\n%s", table.stdout)
	}

	scan := runLive(t, lakeWorld("{}"), "scan", "-f", "json", "--cloudtrail", store)
	run := decodeRun(t, scan.stdout)
	byRule := findingsByRule(run)
	detail := ""
	for _, s := range run.Accounts[0].Sources {
		if s.Name == "cloudtrail" {
			detail = s.Detail
		}
	}
	if !strings.Contains(detail, "cloudtrail-lake query fa4ec0de-") || !strings.Contains(detail, "scanned") {
		t.Errorf("the scan's CloudTrail source does not name its query: %q", detail)
	}
	for rule, want := range map[string]finding.Status{"iam-root-console-login": finding.StatusFail, "iam-root-login-without-mfa": finding.StatusFail,
		"iam-root-failed-logins": finding.StatusPass, "iam-root-api-activity": finding.StatusFail} {
		if byRule[rule].Status != want {
			t.Errorf("%s: %s (%s), want %s", rule, byRule[rule].Status, byRule[rule].Message, want)
		}
	}

	for _, tc := range []struct {
		name, lake, store string
		args              []string
		want              string
	}{
		{"failed", "{fail: 'Query failed: COLUMN_NOT_FOUND'}", store, nil, "failed: Query failed: COLUMN_NOT_FOUND"},
		{"timeout", "{hang: true}", store, []string{"--query-timeout", "1s"}, "did not finish within 1s (--query-timeout); it was cancelled"},
		{"unknown store", "{}", "lake://other-store", nil, "EventDataStoreNotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runLive(t, lakeWorld(tc.lake), append([]string{"trail", tc.store, "-f", "json"}, tc.args...)...)
			_, tl := timelineFacts(t, r.stdout)
			if r.code != ExitUnknown || len(tl.Sources) != 1 || !strings.Contains(tl.Sources[0].Error, tc.want) {
				t.Fatalf("exit %d, sources %+v", r.code, tl.Sources)
			}
			s := runLive(t, lakeWorld(tc.lake), append([]string{"scan", "-f", "json", "--cloudtrail", tc.store}, tc.args...)...)
			for _, f := range decodeRun(t, s.stdout).Findings {
				if strings.HasPrefix(f.RuleID, "iam-root-") && strings.Contains(f.Message, "CloudTrail") && f.Status == finding.StatusPass {
					t.Errorf("%s passes on a failed query: %s", f.RuleID, f.Message)
				}
			}
			if byRule := findingsByRule(decodeRun(t, s.stdout)); byRule["iam-root-console-login"].Status == finding.StatusPass {
				t.Errorf("console-login: %+v", byRule["iam-root-console-login"])
			}
		})
	}
}

func findingsByRule(run finding.Run) map[string]finding.Finding {
	m := map[string]finding.Finding{}
	for _, f := range run.Findings {
		m[f.RuleID] = f
	}
	return m
}

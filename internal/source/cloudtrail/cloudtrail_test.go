package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "cloudtrail", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeBytes(t *testing.T, b []byte) ([]evidence.Event, evidence.SourceStats) {
	t.Helper()
	return Decode(bytes.NewReader(b), "test")
}

func byID(evs []evidence.Event) map[string]evidence.Event {
	m := map[string]evidence.Event{}
	for _, e := range evs {
		m[e.EventID] = e
	}
	return m
}

func TestClassifierCategories(t *testing.T) {
	evs, st := decodeBytes(t, fixture(t, "root-events.records.json"))
	if st.Error != "" || st.Events != 11 || st.RootEvents != 10 {
		t.Fatalf("stats %+v", st)
	}
	id := func(n string) string { return "c0000001-0000-4000-8000-0000000000" + n }
	want := []struct {
		id, category, result, mfa string
	}{
		{id("01"), evidence.CategoryConsoleLogin, "success", "no"},
		{id("02"), evidence.CategoryConsoleLogin, "failure", "no"},
		{id("03"), evidence.CategoryConsoleLogin, "success", "yes"},     // MFAUsed "YES"
		{id("04"), evidence.CategoryConsoleLogin, "success", "unknown"}, // no additionalEventData
		{id("05"), evidence.CategoryPasswordRecovery, "success", ""},    // password recovery
		{id("06"), evidence.CategoryAPICall, "success", ""},             // console call: invokedBy signin
		{id("07"), evidence.CategoryService, "success", ""},             // invokedBy another AWS service
		{id("08"), evidence.CategoryService, "success", ""},             // AwsServiceEvent
		{id("09"), evidence.CategoryAssumeRoot, "success", ""},          // the AssumeRoot call
		{id("10"), evidence.CategoryAssumeRoot, "success", ""},          // a call made in the root session
	}
	got := byID(evs)
	for _, w := range want {
		e, ok := got[w.id]
		if !ok {
			t.Errorf("%s not classified as root activity", w.id)
			continue
		}
		if e.Category != w.category || e.Result != w.result || e.MFA != w.mfa {
			t.Errorf("%s: %s/%s/%s, want %s/%s/%s", w.id, e.Category, e.Result, e.MFA, w.category, w.result, w.mfa)
		}
	}
	if _, ok := got[id("11")]; ok {
		t.Error("an IAM user's sign-in (eventType AwsConsoleSignin) was taken for root activity")
	}
	call := got[id("09")]
	if call.Caller != "arn:aws:sts::999988887777:assumed-role/SecOps/alice" || call.Target != "111122223333" ||
		call.TaskPolicy != "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials" {
		t.Errorf("AssumeRoot call: %+v", call)
	}
	if s := got[id("10")]; s.Caller != "alice" || s.AccountID != "111122223333" {
		t.Errorf("root session event: %+v", s)
	}
	first := got[id("01")]
	if first.SourceIP != "198.51.100.7" || first.Region != "us-east-1" || first.UserAgent == "" || !first.Time.Equal(time.Date(2026, 2, 27, 9, 15, 0, 0, time.UTC)) {
		t.Errorf("fields: %+v", first)
	}
}

func TestOddTimes(t *testing.T) {
	evs, st := decodeBytes(t, fixture(t, "root-odd-times.json"))
	if st.Error != "" || st.RootEvents != 3 {
		t.Fatalf("stats %+v", st)
	}
	got := byID(evs)
	if e := got["c0000002-0000-4000-8000-000000000001"]; e.TimeProblem != "missing" || e.EventTime != "" {
		t.Errorf("no eventTime: %+v", e)
	}
	if e := got["c0000002-0000-4000-8000-000000000002"]; e.TimeProblem != "invalid" || e.EventTime != "REDACTED" || e.MFA != "yes" {
		t.Errorf("redacted time kept and marked: %+v", e)
	}
	if e := got["c0000002-0000-4000-8000-000000000003"]; e.TimeProblem != "invalid" || e.EventTime != "2026/02/27 10:00:00" {
		t.Errorf("non-RFC 3339 time kept and marked: %+v", e)
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// oneRoot is a single root console login event.
const oneRoot = `{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2026-02-27T09:15:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"e1","recipientAccountId":"111122223333"}`
const oneUser = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accountId":"111122223333","userName":"bob"},"eventTime":"2026-02-27T09:16:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","eventID":"e2","recipientAccountId":"111122223333"}`

func TestShapes(t *testing.T) {
	lookup := func(ev string) string {
		s, _ := json.Marshal(ev)
		return `{"EventId":"x","EventName":"ConsoleLogin","Username":"root","EventTime":1772183700,"CloudTrailEvent":` + string(s) + `}`
	}
	shapes := map[string]string{
		"single event":        oneRoot,
		"S3 log file":         `{"Records":[` + oneRoot + `,` + oneUser + `]}`,
		"S3 log file, spaced": "{ \"Records\" : [\n " + oneRoot + " ,\n" + oneUser + "\n ] }\n",
		"Records not first":   `{"Other":1,"Records":[` + oneRoot + `,` + oneUser + `]}`,
		"JSON array":          "[" + oneUser + "," + oneRoot + "]",
		"JSON Lines":          oneUser + "\n" + oneRoot + "\n",
		"EventBridge":         `{"version":"0","id":"1","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","detail":` + oneRoot + `}`,
		"EventBridge lines":   `{"detail-type":"AWS API Call via CloudTrail","detail":` + oneUser + "}\n" + `{"detail-type":"AWS Console Sign In via CloudTrail","detail":` + oneRoot + "}",
		"LookupEvents":        `{"Events":[` + lookup(oneRoot) + `,` + lookup(oneUser) + `],"NextToken":"abc"}`,
	}
	for name, body := range shapes {
		for _, compress := range []bool{false, true} {
			b := []byte(body)
			if compress {
				b = gz(b)
			}
			evs, st := decodeBytes(t, b)
			if st.Error != "" || st.RootEvents != 1 || len(evs) != 1 || evs[0].Category != evidence.CategoryConsoleLogin || evs[0].MFA != "no" {
				t.Errorf("%s (gzip %v): stats %+v events %+v", name, compress, st, evs)
			}
			wantEvents := strings.Count(body, `"eventSource"`)
			if name == "LookupEvents" {
				wantEvents = 2
			}
			if st.Events != wantEvents {
				t.Errorf("%s (gzip %v): events = %d, want %d", name, compress, st.Events, wantEvents)
			}
		}
	}
}

func TestBadSources(t *testing.T) {
	trunc := gz([]byte(`{"Records":[` + oneRoot + `,` + oneUser + `]}`))
	cases := map[string]struct {
		body []byte
		err  string
	}{
		"empty":            {[]byte("  \n"), "empty"},
		"CSV":              {[]byte("user,arn\n"), "not JSON"},
		"not CloudTrail":   {[]byte(`{"name":"rootwatch","version":"1"}`), "not CloudTrail"},
		"truncated JSON":   {[]byte(`{"Records":[` + oneRoot + `,{"eventSource":"x"`), "truncated"},
		"truncated gzip":   {trunc[:len(trunc)-12], "truncated"},
		"garbage in gzip":  {append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte{7}, 40)...), "gzip"},
		"bad separator":    {[]byte(`[` + oneUser + ` ` + oneRoot + `]`), "expected ','"},
		"array of numbers": {[]byte(`[1,2,3]`), "not CloudTrail"},
	}
	for name, tc := range cases {
		_, st := decodeBytes(t, tc.body)
		if !strings.Contains(st.Error, tc.err) {
			t.Errorf("%s: error %q, want %q", name, st.Error, tc.err)
		}
	}
	// Events read before the damage are kept: a damaged file cannot hide root activity.
	evs, st := decodeBytes(t, []byte(`{"Records":[`+oneRoot+`,{"eventSource":"x"`))
	if len(evs) != 1 || st.RootEvents != 1 {
		t.Errorf("events before the truncation lost: %+v", st)
	}
}

func TestMalformedLookupEventString(t *testing.T) {
	body := `{"Events":[{"EventId":"bad1","Username":"root","CloudTrailEvent":"{\"userIdentity\":{\"type\":\"Root\""},` +
		`{"EventId":"ok","Username":"bob","CloudTrailEvent":"{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"X\"}"}]}`
	evs, st := decodeBytes(t, []byte(body))
	if st.Undecodable != 1 || st.Events != 2 || len(evs) != 0 || len(st.Problems) != 1 || !strings.Contains(st.Problems[0], "bad1") {
		t.Errorf("stats %+v", st)
	}
}

func TestFileJobsSkipsDigests(t *testing.T) {
	dir := t.TempDir()
	logDir := filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", "2026", "02", "27")
	digestDir := filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail-Digest", "us-east-1", "2026", "02", "27")
	for _, d := range []string{logDir, digestDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(logDir, "111122223333_CloudTrail_us-east-1_20260227T0915Z_abcdefghijklmnop.json.gz"), gz([]byte(`{"Records":[`+oneRoot+`]}`)), 0o644)
	os.WriteFile(filepath.Join(digestDir, "digest.json.gz"), gz([]byte(`{"awsAccountId":"111122223333"}`)), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644)
	jobs, bad := FileJobs([]string{dir, filepath.Join(dir, "missing.json")})
	if len(jobs) != 2 || len(bad) != 1 {
		t.Fatalf("jobs %d bad %+v", len(jobs), bad)
	}
	res := Run(context.Background(), jobs, 2, Filter{})
	if len(res.Events) != 1 || len(res.Sources) != 2 {
		t.Fatalf("result %+v", res)
	}
	var notes evidence.SourceStats
	for _, s := range res.Sources {
		if strings.HasSuffix(s.Path, "notes.txt") {
			notes = s
		}
	}
	if !strings.Contains(notes.Error, "not JSON") {
		t.Errorf("a non-JSON file must be listed with its error: %+v", notes)
	}
}

func TestRunFilterSortAndDedupe(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.json")
	b := filepath.Join(dir, "b.json")
	os.WriteFile(a, fixture(t, "root-events.records.json"), 0o644)
	os.WriteFile(b, fixture(t, "root-events.records.json"), 0o644) // the same events again
	jobs, _ := FileJobs([]string{a, b})
	res := Run(context.Background(), jobs, 0, Filter{})
	if res.Duplicates != 10 || len(res.Events) != 10 {
		t.Fatalf("duplicates %d events %d", res.Duplicates, len(res.Events))
	}
	for i := 1; i < len(res.Events); i++ {
		if res.Events[i].Time.After(res.Events[i-1].Time) {
			t.Errorf("not newest first at %d", i)
		}
	}
	since := time.Date(2026, 2, 26, 0, 0, 0, 0, time.UTC)
	res = Run(context.Background(), jobs, 0, Filter{Since: since, Accounts: map[string]bool{"111122223333": true}})
	for _, e := range res.Events {
		if e.Time.Before(since) || e.AccountID != "111122223333" {
			t.Errorf("filter let through %+v", e)
		}
	}
	if len(res.Events) != 5 {
		t.Errorf("filtered events = %d, want 5", len(res.Events))
	}
}

// TestSharedCloudTrail checks the classifications that ../shared/data's
// README lists, on data nobody here wrote.
func TestSharedCloudTrail(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(), "..", "shared", "data", "cloudtrail")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("third-party data not found at %s: %v", dir, err)
	}
	type want struct{ category, result, mfa string }
	expect := map[string]*want{
		"awsdocs-root-consolelogin-success-no-mfa.json":            {evidence.CategoryConsoleLogin, "success", "no"},
		"awsdocs-root-consolelogin-success-mfa-uppercase-YES.json": {evidence.CategoryConsoleLogin, "success", "yes"},
		"awsdocs-root-consolelogin-failure-no-mfa.json":            {evidence.CategoryConsoleLogin, "failure", "no"},
		"awsdocs-root-enablemfadevice.json":                        {evidence.CategoryAPICall, "success", ""},
		// A root sign-in event that is not a console login, in the
		// category of its own of a root password's recovery or change.
		"awsdocs-root-passwordupdated.json":             {evidence.CategoryPasswordRecovery, "success", ""},
		"panther-root-consolelogin-success-no-mfa.json": {evidence.CategoryConsoleLogin, "success", "no"},
		"panther-root-api-putbucketversioning.json":     {evidence.CategoryAPICall, "success", ""},
	}
	jobs, bad := FileJobs([]string{dir})
	if len(bad) > 0 {
		t.Fatalf("unreadable: %+v", bad)
	}
	res := Run(context.Background(), jobs, 0, Filter{})
	bulkEvents, bulkRoot := 0, 0
	for _, s := range res.Sources {
		name := filepath.Base(s.Path)
		if s.Error != "" {
			t.Errorf("%s: %s", name, s.Error)
		}
		if strings.Contains(s.Path, "bulk-stratus-red-team-detonation-logs") {
			bulkEvents += s.Events
			bulkRoot += s.RootEvents
			continue
		}
		w := expect[name]
		if w == nil {
			if s.RootEvents != 0 {
				t.Errorf("%s: %d root events, want none (not root)", name, s.RootEvents)
			}
			continue
		}
		if s.RootEvents != 1 {
			t.Errorf("%s: %d root events, want 1", name, s.RootEvents)
		}
	}
	if bulkEvents != 310 || bulkRoot != 0 {
		t.Errorf("bulk folder: %d events, %d root; want 310 and 0", bulkEvents, bulkRoot)
	}
	for _, e := range res.Events {
		w := expect[filepath.Base(e.Source)]
		if w == nil {
			t.Errorf("unexpected root event from %s", e.Source)
			continue
		}
		if e.Category != w.category || e.Result != w.result || e.MFA != w.mfa {
			t.Errorf("%s: %s/%s/%s, want %s/%s/%s", filepath.Base(e.Source), e.Category, e.Result, e.MFA, w.category, w.result, w.mfa)
		}
	}
	if len(res.Events) != len(expect) {
		t.Errorf("root events = %d, want %d", len(res.Events), len(expect))
	}
}

// TestCoverage: every record's eventTime (root's or not, on the fast path
// or decoded) widens its account's span; texts that are not CloudTrail's
// UTC times say nothing.
func TestCoverage(t *testing.T) {
	user := func(id, at, account string) string {
		return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::` + account + `:user/bob"},"eventTime":"` + at +
			`","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","eventID":"` + id + `","recipientAccountId":"` + account + `"}`
	}
	records := `{"Records":[` + strings.Join([]string{
		user("a", "2026-02-20T10:00:00Z", "111122223333"),
		oneRoot, // 2026-02-27T09:15:00Z, decoded
		user("b", "2026-01-05T23:59:59Z", "111122223333"),
		user("c", "2026-13-01T00:00:00Z", "111122223333"), // month 13 is no time
		user("d", "yesterday", "111122223333"),
		user("e", "2026-02-01T00:00:00.123Z", "444455556666"),
		`{"eventTime":null,"eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"444455556666"}`,
	}, ",") + `]}`
	for name, data := range map[string]string{"Records": records, "JSON Lines": user("x", "2026-02-20T10:00:00Z", "111122223333") + "\n" + oneRoot + "\n"} {
		_, st := decodeBytes(t, []byte(data))
		got := st.Coverage["111122223333"]
		wantFrom := "2026-01-05T23:59:59Z"
		if name == "JSON Lines" {
			wantFrom = "2026-02-20T10:00:00Z"
		}
		if got.From.Format(time.RFC3339) != wantFrom || got.To.Format(time.RFC3339) != "2026-02-27T09:15:00Z" {
			t.Errorf("%s: coverage of 111122223333 = %s..%s, want %s..2026-02-27T09:15:00Z", name, got.From, got.To, wantFrom)
		}
	}
	_, st := decodeBytes(t, []byte(records))
	if got := st.Coverage["444455556666"]; !got.From.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || !got.To.Equal(got.From) {
		t.Errorf("coverage of 444455556666 = %+v", got)
	}
	if st.Accounts["444455556666"] != 2 {
		t.Errorf("a record without a time is still counted: %v", st.Accounts)
	}
}

// TestDedupeByRecord: records are the same event only when their JSON is
// identical after canonicalisation. A shared eventID with another
// principal or other request parameters keeps both; the same record with
// its keys reordered and respaced, or read back from LookupEvents, is one.
func TestDedupeByRecord(t *testing.T) {
	rec := func(principal, params string) string {
		return `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"` + principal + `","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},` +
			`"eventTime":"2026-02-27T09:15:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","requestParameters":` + params +
			`,"eventID":"same-id","recipientAccountId":"111122223333"}`
	}
	base := rec("111122223333", `{"userName":"a"}`)
	var reordered map[string]any
	if err := json.Unmarshal([]byte(base), &reordered); err != nil {
		t.Fatal(err)
	}
	spaced, _ := json.MarshalIndent(reordered, "", "   ") // keys sorted, spacing changed
	lookup, _ := json.Marshal(map[string]any{"Events": []any{map[string]any{"EventId": "same-id", "Username": "root", "CloudTrailEvent": base}}})
	dir := t.TempDir()
	files := map[string]string{
		"1.json": `{"Records":[` + base + `,` + rec("AIDAOTHERPRINCIPAL", `{"userName":"a"}`) + `,` + rec("111122223333", `{"userName":"b"}`) + `]}`,
		"2.json": string(spaced),
		"3.json": string(lookup),
	}
	var paths []string
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		paths = append(paths, p)
	}
	jobs, _ := FileJobs(paths)
	res := Run(context.Background(), jobs, 1, Filter{})
	if len(res.Events) != 3 || res.Duplicates != 2 {
		t.Errorf("%d events, %d duplicates; want 3 distinct records and 2 duplicates", len(res.Events), res.Duplicates)
	}
}

// TestRootCasingIsUnverified: "ROOT" is not how AWS writes the type.
func TestRootCasingIsUnverified(t *testing.T) {
	evs, st := decodeBytes(t, []byte(strings.Replace(oneRoot, `"type":"Root"`, `"type":"ROOT"`, 1)+"\n"+oneRoot))
	if len(evs) != 2 || st.RootEvents != 2 {
		t.Fatalf("%d events", len(evs))
	}
	odd := 0
	for _, e := range evs {
		if e.Unverified {
			odd++
			if !strings.Contains(e.Note, `"ROOT"`) {
				t.Errorf("note %q", e.Note)
			}
		}
	}
	if odd != 1 {
		t.Errorf("%d unverified events, want 1", odd)
	}
}

// TestJSONLinesSurvivesABadLine: one bad line is counted and listed; the
// lines after it are read. A cut last line is truncation.
func TestJSONLinesSurvivesABadLine(t *testing.T) {
	second := strings.Replace(oneRoot, `"eventID":"e1"`, `"eventID":"e3"`, 1)
	evs, st := decodeBytes(t, []byte(oneRoot+"\n"+`{"eventVersion": "1.08", "userIdentity": {"type": "Root", "arn": tru`+"\nnot json at all\n\n"+oneUser+"\n"+second+"\n"))
	if len(evs) != 2 || st.Events != 3 || st.Undecodable != 2 || st.Error != "" {
		t.Errorf("%d root events, stats %+v", len(evs), st)
	}
	if !strings.Contains(strings.Join(st.Problems, ";"), "line 2 is not valid JSON") {
		t.Errorf("problems %v", st.Problems)
	}
	_, st = decodeBytes(t, []byte(oneRoot+"\n"+oneUser[:40]))
	if !strings.Contains(st.Error, "truncated") || st.Events != 1 {
		t.Errorf("cut last line: %+v", st)
	}
	// Pretty-printed objects (jq's output) are still one value each.
	var pretty bytes.Buffer
	for _, r := range []string{oneRoot, second} {
		json.Indent(&pretty, []byte(r), "", "  ")
		pretty.WriteString("\n")
	}
	if evs, st := decodeBytes(t, pretty.Bytes()); len(evs) != 2 || st.Error != "" {
		t.Errorf("pretty-printed objects: %d events, %+v", len(evs), st)
	}
}

// TestCloudTrailTime: only UTC times as CloudTrail writes them say
// anything about coverage; a wrong byte anywhere makes the text none.
func TestCloudTrailTime(t *testing.T) {
	for _, ok := range []string{"2026-03-01T12:00:00Z", "2026-12-31T23:59:59.123Z", "0000-01-01T00:00:00Z"} {
		if !cloudTrailTime([]byte(ok)) {
			t.Errorf("%s: not taken", ok)
		}
	}
	for _, bad := range []string{"", "2026-03-01T12:00:00", "2026-03-01 12:00:00Z", "2026-13-01T12:00:00Z",
		"2026-00-01T12:00:00Z", "2026-03-00T12:00:00Z", "2026-03-32T12:00:00Z", "2026-03-01T24:00:00Z",
		"2026-03-01T12:60:00Z", "2026-03-01T12:00:60Z", "2026-03-01T12:00:00+01:00", "2026/03/01T12:00:00Z"} {
		if cloudTrailTime([]byte(bad)) {
			t.Errorf("%q: taken", bad)
		}
	}
	// A byte that is not a digit, in every digit's place.
	good := []byte("2026-03-01T12:00:00Z")
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		for _, c := range []byte{'/', ':', 'a', ' ', 0xff} {
			b := append([]byte(nil), good...)
			b[i] = c
			if cloudTrailTime(b) {
				t.Errorf("%q: taken", b)
			}
		}
	}
}

package notify

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden payloads under testdata")

var asOf = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// storedRun is a run as scan --store leaves it: one new failure, one
// resolved finding, an account no longer assessed.
func storedRun() *finding.Run {
	st := func(s string) *string { return &s }
	first := asOf
	run := &finding.Run{SchemaVersion: "1", Tool: finding.Tool{Name: "rootwatch", Version: "test"}, AsOf: asOf, GeneratedAt: asOf.Add(time.Minute),
		Accounts: []finding.Account{{AccountID: "111111111111", Status: finding.AccountAssessed}, {AccountID: "222222222222", Status: finding.AccountFailed, Error: "role not assumable"}}}
	run.Findings = []finding.Finding{
		{RuleID: "iam-root-active-password", Title: "Root user has active password", Status: finding.StatusFail, Severity: finding.SeverityCritical, AccountID: "111111111111",
			Resource: "arn:aws:iam::111111111111:root", Message: "The root user's password was last used 1.0 days ago <script>", Fingerprint: "fp1", FirstSeen: &first, Change: finding.ChangeNewFailure},
		{RuleID: "iam-root-no-mfa", Title: "Root user has no MFA", Status: finding.StatusPass, Severity: finding.SeverityCritical, AccountID: "111111111111",
			Resource: "arn:aws:iam::111111111111:root", Message: "MFA", Fingerprint: "fp2", Change: finding.ChangeResolved},
	}
	run.Summary = finding.Summarize(run.Findings)
	run.History = &finding.History{RunID: 7, PreviousRunID: 6, Changes: []finding.Change{
		{Kind: finding.ChangeNewFailure, Fingerprint: "fp1", RuleID: "iam-root-active-password", AccountID: "111111111111", Severity: finding.SeverityCritical,
			Title: "Root user has active password", Message: "The root user's password was last used 1.0 days ago <script>", FromStatus: st("pass"), ToStatus: st("fail"), FirstSeen: &first},
		{Kind: finding.ChangeNotAssessed, AccountID: "222222222222", FromStatus: st("assessed"), ToStatus: st("failed"), Message: "role not assumable"},
		{Kind: finding.ChangeResolved, Fingerprint: "fp2", RuleID: "iam-root-no-mfa", AccountID: "111111111111", Severity: finding.SeverityCritical,
			Title: "Root user has no MFA", Message: "MFA", FromStatus: st("fail"), ToStatus: st("pass")},
	}}
	return run
}

func catalog() finding.Catalog {
	return finding.NewCatalog([]finding.RuleInfo{{ID: "iam-root-active-password", Title: "Root user has active password",
		Action: "1. Stop using root for daily work.\n2. Rotate the password."}})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var pretty any
	if err := json.Unmarshal(got, &pretty); err != nil {
		t.Fatalf("%s is not JSON: %v", name, err)
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(pretty)
	out := []byte(strings.TrimSuffix(buf.String(), "\n"))
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(path, append(out, '\n'), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/notify -update)", err)
	}
	if string(want) != string(out)+"\n" {
		t.Errorf("%s differs from %s (review, then regenerate with -update):\n%s", name, path, out)
	}
}

// goldenText compares a plain-text payload (an e-mail's text part, an SNS
// message) with testdata/NAME.
func goldenText(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/notify -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from %s (review, then regenerate with -update):\n%s", name, path, got)
	}
}

func TestSelect(t *testing.T) {
	run := storedRun()
	items, ok := Select(run, OnNew, "")
	if !ok || len(items) != 1 || items[0].Kind != finding.ChangeNewFailure {
		t.Errorf("new: %v %+v", ok, items)
	}
	if items, ok := Select(run, OnChange, ""); !ok || len(items) != 3 {
		t.Errorf("change: %v %d", ok, len(items))
	}
	if items, _ := Select(run, OnChange, finding.SeverityHigh); len(items) != 3 {
		t.Errorf("an account no longer assessed has no severity and is always told: %d", len(items))
	}
	if _, ok := Select(run, OnNew, "info"); !ok {
		t.Error("info keeps everything")
	}
	quiet := storedRun()
	quiet.History.Changes = quiet.History.Changes[1:2]
	if _, ok := Select(quiet, OnNew, ""); ok {
		t.Error("no new failure, but a message")
	}
	noStore := storedRun()
	noStore.History = nil
	if _, ok := Select(noStore, OnNew, ""); ok {
		t.Error("new without a store")
	}
	if items, ok := Select(noStore, OnAlways, ""); !ok || len(items) != 1 || items[0].Kind != "fail" {
		t.Errorf("always: %v %+v", ok, items)
	}
}

func TestPayloads(t *testing.T) {
	m := Message{Run: storedRun(), Catalog: catalog(), When: OnChange}
	m.Items, _ = Select(m.Run, OnChange, "")
	slack, err := slackPayload(m)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "slack.json", slack)
	if strings.Contains(string(slack), "<script>") {
		t.Error("Slack markup from AWS data is not escaped")
	}
	hook, err := webhookPayload(m)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "webhook.json", hook)
	plain, _, subject, _ := mailText(m)
	goldenText(t, "email.txt", "Subject: "+subject+"\r\n\r\n"+plain)
	body, _ := snsText(m)
	goldenText(t, "sns.txt", "Subject: "+snsSubject(m.Headline())+"\n\n"+body)

	many := Message{Run: storedRun(), When: OnNew}
	for i := range 45 {
		many.Items = append(many.Items, finding.Change{Kind: finding.ChangeNewFailure, RuleID: "r", AccountID: fmt.Sprint(i), Severity: "high"})
	}
	long, _ := slackPayload(many)
	var doc struct{ Blocks []any }
	json.Unmarshal(long, &doc)
	if len(doc.Blocks) > 50 || !strings.Contains(string(long), "…and 25 more") {
		t.Errorf("45 items: %d blocks", len(doc.Blocks))
	}
}

// server records requests and answers from a script of statuses.
type server struct {
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
	script []func(w http.ResponseWriter)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies, s.sigs = append(s.bodies, b), append(s.sigs, r.Header.Get(SignatureHeader))
	s.mu.Unlock()
	if n < len(s.script) {
		s.script[n](w)
	}
}

func status(code int, retryAfter string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
	}
}

func TestDeliveryRetriesAndSigns(t *testing.T) {
	m := Message{Run: storedRun(), Catalog: catalog(), When: OnNew}
	m.Items, _ = Select(m.Run, OnNew, "")
	var waits []time.Duration
	opts := Options{Backoff: 10 * time.Millisecond, Timeout: 300 * time.Millisecond, Sleep: func(_ context.Context, d time.Duration) { waits = append(waits, d) }}
	cases := []struct {
		name     string
		script   []func(http.ResponseWriter)
		attempts int
		ok       bool
		waits    []time.Duration
	}{
		{"429 with Retry-After, then ok", []func(http.ResponseWriter){status(429, "2"), status(200, "")}, 2, true, []time.Duration{2 * time.Second}},
		{"two 5xx, then ok", []func(http.ResponseWriter){status(500, ""), status(503, ""), status(204, "")}, 3, true, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}},
		{"a timeout, then ok", []func(http.ResponseWriter){func(http.ResponseWriter) { time.Sleep(time.Second) }, status(200, "")}, 2, true, []time.Duration{10 * time.Millisecond}},
		{"400 is not retried", []func(http.ResponseWriter){status(400, "")}, 1, false, nil},
		{"always 500: four attempts", []func(http.ResponseWriter){status(500, ""), status(500, ""), status(500, ""), status(500, "")}, 4, false,
			[]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			waits = nil
			srv := &server{script: tc.script}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			target, err := ParseTarget("webhook="+hs.URL+"/hooks/T0KEN-SECRET-PATH", 1, "env:HOOK_KEY", func(string) string { return "k3y" })
			if err != nil {
				t.Fatal(err)
			}
			res := Send(context.Background(), []Target{target}, m, opts)[0]
			if res.Attempts != tc.attempts || (res.Err == nil) != tc.ok || fmt.Sprint(waits) != fmt.Sprint(tc.waits) {
				t.Errorf("attempts %d, err %v, waits %v; want %d, ok %v, waits %v", res.Attempts, res.Err, waits, tc.attempts, tc.ok, tc.waits)
			}
			if res.Err != nil && strings.Contains(res.Err.Error(), "T0KEN") || strings.Contains(res.Target, "T0KEN") {
				t.Errorf("the URL leaks: %q %v", res.Target, res.Err)
			}
			mac := hmac.New(sha256.New, []byte("k3y"))
			mac.Write(srv.bodies[0])
			if srv.sigs[0] != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
				t.Errorf("signature %q does not verify", srv.sigs[0])
			}
		})
	}
	// A target that cannot be reached: the error names no URL.
	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL + "/services/T0KEN"
	hs.Close()
	target, _ := ParseTarget("slack="+url, 2, "", nil)
	res := Send(context.Background(), []Target{target}, m, Options{Attempts: 1})[0]
	if res.Err == nil || strings.Contains(res.Err.Error(), "T0KEN") || strings.Contains(res.Err.Error(), url) {
		t.Errorf("unreachable: %v", res.Err)
	}
}

func TestParseTarget(t *testing.T) {
	for _, bad := range []string{"slack", "slack=", "pager=https://x.example/", "slack=http://hooks.example/x", "email=smtp://mail.example", "webhook=not a url"} {
		if _, err := ParseTarget(bad, 1, "", nil); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "hooks.example/x") {
			t.Errorf("%q: the error repeats the address: %v", bad, err)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "url"), []byte("https://hooks.slack.com/services/A/B/C\n"), 0o600)
	tg, err := ParseTarget("slack=file:"+filepath.Join(dir, "url"), 3, "", nil)
	if err != nil || tg.Name != "slack #3 (hooks.slack.com)" || tg.address != "https://hooks.slack.com/services/A/B/C" {
		t.Errorf("file: target: %+v %v", tg, err)
	}
	if _, err := ParseTarget("slack=env:NOPE", 1, "", func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("unset env: %v", err)
	}
	// A signing key that cannot be read is refused whatever the target.
	for _, spec := range []string{"slack=https://hooks.slack.com/services/A/B/C", "sns=arn:aws:sns:eu-west-1:111111111111:t"} {
		if _, err := ParseTarget(spec, 1, "env:NOKEY", func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "NOKEY") {
			t.Errorf("%s with an unset key: %v", spec, err)
		}
	}
}

// TestEmailThroughARealSMTPServer sends through CPython's SMTP server
// (smtpd, in the standard library up to 3.11) on loopback.
func TestEmailThroughARealSMTPServer(t *testing.T) {
	py := testutil.RequireTool(t, "python3")
	if err := exec.Command(py, "-W", "ignore", "-c", "import smtpd").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 has no smtpd module (Python up to 3.11 has it)")
		}
		t.Skip("python3 has no smtpd module")
	}
	port := testutil.FreePort(t)
	cmd := exec.Command(py, "-W", "ignore", "-u", "-m", "smtpd", "-n", "-c", "DebuggingServer", fmt.Sprintf("127.0.0.1:%d", port))
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	m := Message{Run: storedRun(), Catalog: catalog(), When: OnNew, Report: []byte("<!DOCTYPE html><html><body><h1>rootwatch report</h1></body></html>")}
	m.Items, _ = Select(m.Run, OnNew, "")
	target, err := ParseTarget(fmt.Sprintf("email=smtp://127.0.0.1:%d?from=rootwatch@example.com&to=secops@example.com,owner@example.com", port), 1, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	for range 50 { // the server takes a moment to listen
		if res = Send(context.Background(), []Target{target}, m, Options{Attempts: 1})[0]; res.Err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var got strings.Builder
	timeout := time.After(10 * time.Second)
	for !strings.Contains(got.String(), "END MESSAGE") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the server ended:\n%s", got.String())
			}
			got.WriteString(l + "\n")
		case <-timeout:
			t.Fatalf("no message:\n%s", got.String())
		}
	}
	msg := got.String()
	for _, want := range []string{"Subject: rootwatch: 1 new root-user failure in 1 account", "To: secops@example.com, owner@example.com",
		"Content-Type: text/html; charset=utf-8", "<h1>rootwatch report</h1>", "- CRITICAL Root user has active password, account 111111111111"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message lacks %q:\n%s", want, msg)
		}
	}
}

// TestSNSThroughMoto publishes to a topic on moto and reads the message
// back from moto's own record of what was sent.
func TestSNSThroughMoto(t *testing.T) {
	url := testutil.StartMoto(t)
	ctx := context.Background()
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	c := sns.NewFromConfig(cfg)
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("root-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	m := Message{Run: storedRun(), Catalog: catalog(), When: OnChange}
	m.Items, _ = Select(m.Run, OnChange, "")
	target, err := ParseTarget("sns="+aws.ToString(topic.TopicArn), 1, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var region string
	res := Send(ctx, []Target{target}, m, Options{Attempts: 1, SNS: func(_ context.Context, r string) (SNSAPI, error) { region = r; return c, nil }})[0]
	if res.Err != nil || region != "eu-west-1" {
		t.Fatalf("publish: %v (region %q)", res.Err, region)
	}
	resp, err := http.Get(url + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var data struct {
		SNS struct {
			Topic []struct {
				ARN  string  `json:"arn"`
				Sent [][]any `json:"sent_notifications"`
			}
		} `json:"sns"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		t.Fatal(err)
	}
	var sent [][]any
	for _, tp := range data.SNS.Topic {
		if tp.ARN == aws.ToString(topic.TopicArn) {
			sent = tp.Sent
		}
	}
	if len(sent) != 1 || sent[0][2] != "rootwatch: 3 root-user changes in 2 accounts" || !strings.Contains(sent[0][1].(string), "- account 222222222222 is no longer assessed (assessed -> failed): role not assumable") {
		t.Errorf("moto recorded %v", sent)
	}
	if got := snsSubject(strings.Repeat("é", 10) + strings.Repeat("x", 200) + "\n"); len(got) != 100 || strings.ContainsAny(got, "é\n") {
		t.Errorf("subject %q", got)
	}
}

func TestAlertPayloads(t *testing.T) {
	e := evidence.Event{EventID: "ev-1", EventTime: "2026-11-30T08:15:02Z", AccountID: "111111111111", Region: "us-east-1", EventSource: "signin.amazonaws.com",
		EventName: "ConsoleLogin", Category: evidence.CategoryConsoleLogin, Result: "success", MFA: "no", SourceIP: "203.0.113.24",
		UserAgent: "Mozilla <script>\u202e\x1b[2J"}
	a := Alert{Events: []evidence.Event{e}, AccountName: "payments-prod", RuleID: "iam-root-login-without-mfa",
		Summary: "Root signed in without MFA.", Action: "Enable a hardware MFA on the root user."}
	if h := a.Headline(); h != "rootwatch: root signed in to payments-prod (111111111111) from 203.0.113.24 without MFA" {
		t.Errorf("headline %q", h)
	}
	slack, err := slackPayload(a)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "slack-alert.json", slack)
	for _, want := range []string{"without MFA", "*Suggested:* Enable a hardware MFA", "iam-root-login-without-mfa", `Mozilla \u0026lt;script\u0026gt;`} {
		if !strings.Contains(string(slack), want) {
			t.Errorf("slack payload lacks %q: %s", want, slack)
		}
	}
	if strings.Contains(string(slack), "\u202e") || strings.Contains(string(slack), `\u001b`) {
		t.Errorf("slack payload carries a control or bidi character: %s", slack)
	}
	hook, err := webhookPayload(a)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "webhook-alert.json", hook)
	plain, _, subject, _ := mailText(a)
	goldenText(t, "email-alert.txt", "Subject: "+subject+"\r\n\r\n"+plain)
	text, _ := snsText(a)
	goldenText(t, "sns-alert.txt", "Subject: "+snsSubject(a.Headline())+"\n\n"+text)
	var body struct {
		Schema string           `json:"schema_version"`
		Kind   string           `json:"kind"`
		Events []evidence.Event `json:"events"`
	}
	if err := json.Unmarshal(hook, &body); err != nil || body.Schema != AlertSchema || body.Kind != "root_activity" || len(body.Events) != 1 || body.Events[0].EventID != "ev-1" {
		t.Errorf("webhook body %s (%v)", hook, err)
	}
	burst := Alert{Events: []evidence.Event{e, e, e}}
	burst.Events[0].Result, burst.Events[1].Result, burst.Events[2].Result = "failure", "failure", "failure"
	if h := burst.Headline(); h != "rootwatch: 3 failed root sign-ins to 111111111111 from 203.0.113.24" {
		t.Errorf("burst headline %q", h)
	}
	if s := snsSubject(a.Headline()); len(s) > 100 || strings.ContainsAny(s, "\r\n") {
		t.Errorf("SNS subject %q", s)
	}
}

// TestHungTargetIsBoundedAndSaid: a webhook that accepts the connection and
// never answers fails each attempt after the timeout with ErrNoAnswer, and
// the wait is said (naming the target, never its URL) while it lasts.
func TestHungTargetIsBoundedAndSaid(t *testing.T) {
	release := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hs.Close()
	defer close(release)
	m := Message{Run: storedRun(), Catalog: catalog(), When: OnNew}
	m.Items, _ = Select(m.Run, OnNew, "")
	target, err := ParseTarget("webhook="+hs.URL+"/hooks/T0KEN-SECRET-PATH", 3, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var said []string
	var slept []time.Duration
	res := Send(context.Background(), []Target{target}, m, Options{Attempts: 2, Timeout: 80 * time.Millisecond, WaitingAfter: time.Nanosecond,
		Waiting: func(s string) { said = append(said, s) },
		Sleep:   func(_ context.Context, d time.Duration) { slept = append(slept, d) }})[0]
	if !errors.Is(res.Err, ErrNoAnswer) || res.Err.Error() != "no answer within 80ms" || res.Attempts != 2 || len(slept) != 1 {
		t.Errorf("result %+v, slept %v", res, slept)
	}
	want := []string{
		"waiting for webhook #3 (127.0.0.1) to answer (attempt 1 of 2; each gives up after 80ms)",
		"waiting for webhook #3 (127.0.0.1) to answer (attempt 2 of 2; each gives up after 80ms)",
	}
	if fmt.Sprint(said) != fmt.Sprint(want) {
		t.Errorf("said %q, want %q", said, want)
	}
	for _, s := range append(said, res.Err.Error(), res.Target) {
		if strings.Contains(s, "T0KEN") || strings.Contains(s, hs.URL) {
			t.Errorf("the URL leaks: %q", s)
		}
	}
	if target.Index != 3 {
		t.Errorf("index %d", target.Index)
	}
}

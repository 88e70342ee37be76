package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestServeRefusesWhatItShouldNot(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rw.db")
	if r := runCLI(t, nil, "scan", "--demo", "--as-of", "2026-03-01T00:00:00Z", "--store", db, "-f", "json"); r.code != ExitFindings {
		t.Fatalf("scan: %d %v", r.code, r.err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("short\n"), 0o600)
	env := map[string]string{"TOK": "0123456789abcdef0123456789abcdef"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "0.0.0.0:8080"}, "--addr 0.0.0.0:8080 is not a loopback address, and the panel shows who can become root in your accounts: give --auth-token env:VAR or file:PATH"},
		{[]string{"--addr", ":8080"}, "is not a loopback address"},
		{[]string{"--addr", "panel.example:8080"}, "is not a loopback address"},
		{[]string{"--addr", "8080"}, "want HOST:PORT"},
		{[]string{"--addr", "0.0.0.0:8080", "--auth-token", "0123456789abcdef0123456789abcdef"}, "give env:VAR or file:PATH, so that the token is not in the process list"},
		{[]string{"--auth-token", "file:" + tokenFile}, "the token is 5 characters long; use at least 16"},
		{[]string{"--auth-token", "env:NOPE"}, "environment variable NOPE is empty or not set"},
		{[]string{"--auth-token", "env:TOK", "--tls-cert", "x.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-cert", "no.pem", "--tls-key", "no.key"}, "--tls-cert/--tls-key: open no.pem"},
		{[]string{"--log-format", "xml"}, `--log-format "xml"`},
	}
	for _, c := range cases {
		r := runCLI(t, env, append([]string{"serve", "--store", db}, c.args...)...)
		if r.code != ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), c.want) || strings.Contains(r.err.Error(), "0123456789abcdef") {
			t.Errorf("serve %v: exit %d, %v; want exit 2 saying %q", c.args, r.code, r.err, c.want)
		}
	}
	if r := runCLI(t, nil, "serve", "--store", filepath.Join(t.TempDir(), "typo.db")); r.code != ExitUsage || !strings.Contains(r.err.Error(), "no store at") {
		t.Errorf("a missing store: %d %v", r.code, r.err)
	}
	help := runCLI(t, nil, "serve", "--help").stdout
	for _, want := range []string{"/matrix", "/accounts/ID", "/suppressions", "--auth-token env:VAR or file:PATH", "Authorization: Bearer TOKEN", "read-only", "openssl rand -hex 32"} {
		if !strings.Contains(help, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}

// listening hears the URL serve logs once it listens.
type listening struct {
	mu  sync.Mutex
	buf bytes.Buffer
	url chan string
}

func (l *listening) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if m := regexp.MustCompile(`"url":"([^"]+)"`).FindSubmatch(l.buf.Bytes()); m != nil && l.url != nil {
		l.url <- string(m[1])
		l.url = nil
	}
	return len(p), nil
}

func (l *listening) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestServeTheHistory: the README's history, served. Every view answers,
// the diff is the one 'rootwatch diff' prints, a run stored while serving
// shows, the store is not written, and SIGINT (the context) ends it with
// exit 0.
func TestServeTheHistory(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rootwatch.db")
	for _, day := range []string{"2026-03-01", "2026-03-02"} {
		if r := runCLI(t, nil, "scan", "--demo", "--as-of", day+"T00:00:00Z", "--store", db, "-f", "json"); r.code != ExitFindings {
			t.Fatalf("scan: %d %v", r.code, r.err)
		}
	}
	before := sum(t, db)
	heard := make(chan string, 1)
	stderr := &listening{url: heard}
	app := &App{Stdout: io.Discard, Stderr: stderr, Getenv: func(string) string { return "" }, Now: func() time.Time { return testNow }, Version: "test",
		IsTerminal: func(io.Writer) bool { return false },
		AWSConfig:  func(context.Context, string, string) (aws.Config, error) { return aws.Config{}, errors.New("no AWS") }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Execute(ctx, app, []string{"serve", "--store", db, "--addr", "127.0.0.1:0", "--log-format", "json"})
	}()
	var base string
	select {
	case base = <-heard:
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, stderr.String())
	}
	fetch := func(path string) string {
		t.Helper()
		resp, err := http.Get(base + strings.TrimPrefix(path, "/"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
		return string(b)
	}
	for _, p := range []string{"/", "/matrix", "/matrix?status=fail", "/accounts/111111111111", "/accounts/333333333333", "/rules/iam-root-active-password",
		"/runs", "/suppressions", "/matrix.csv?status=fail", "/matrix.json", "/healthz", "/static/panel.css"} {
		fetch(p)
	}
	if acct := fetch("/accounts/111111111111"); !strings.Contains(acct, "account-111111111111") || !strings.Contains(acct, "203.0.113.24") {
		t.Error("the account page lacks the account's name or its sign-in's source IP")
	}
	if sup := fetch("/suppressions"); !strings.Contains(sup, "break-glass key for the legacy billing export") {
		t.Error("the demo's suppression is not listed")
	}
	// The diff is 'rootwatch diff's.
	var d Diff
	if err := json.Unmarshal([]byte(runCLI(t, nil, "diff", "--store", db, "--from", "1", "--to", "2", "-f", "json").stdout), &d); err != nil {
		t.Fatal(err)
	}
	page := fetch("/diff?from=1&to=2")
	if !strings.Contains(page, `data-from="1" data-to="2" data-changes="`+strconv.Itoa(len(d.Changes))+`"`) {
		t.Errorf("the diff page does not show the %d changes of rootwatch diff", len(d.Changes))
	}
	if sum(t, db) != before {
		t.Error("serving changed the store's file")
	}
	// A run stored while the panel serves shows without a restart.
	if r := runCLI(t, nil, "scan", "--demo", "--as-of", "2026-03-03T00:00:00Z", "--store", db, "-f", "json"); r.code != ExitFindings {
		t.Fatalf("scan while serving: %d %v", r.code, r.err)
	}
	if runs := fetch("/runs"); !strings.Contains(runs, `<tr data-run="3">`) {
		t.Error("the run stored while serving is not listed")
	}
	if !strings.Contains(fetch("/"), `data-run="3"`) {
		t.Error("the overview does not show the new run")
	}
	cancel()
	if err := <-done; err != nil || ExitCode(err) != ExitOK {
		t.Errorf("serve after SIGINT: %v (exit %d)", err, ExitCode(err))
	}
	logs := stderr.String()
	for _, want := range []string{`"msg":"request","method":"GET","path":"/matrix","status":200`, `"msg":"read the stored runs","runs":`, `"msg":"shutting down"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "status=fail") {
		t.Error("an access log line carries a query")
	}
}

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

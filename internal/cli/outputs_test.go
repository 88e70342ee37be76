package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

var hostileWorld = world("hostile.yaml")

// TestHTMLReportInChromium loads a report built from hostile input in a
// real browser and checks, from the DOM Chromium built, that nothing was
// injected and that the counts shown are the JSON's.
func TestHTMLReportInChromium(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	dir := t.TempDir()
	htmlPath, jsonPath := filepath.Join(dir, "report.html"), filepath.Join(dir, "run.json")
	r := runLive(t, hostileWorld, "scan", "-f", "html", "-o", htmlPath, "-f", "json", "-o", jsonPath)
	if r.code == ExitUsage {
		t.Fatalf("scan: %v", r.err)
	}
	data, _ := os.ReadFile(jsonPath)
	run := decodeRun(t, string(data))

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	browser := func(args ...string) string {
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir(), "--window-size=1400,2400"}
		out, err := exec.CommandContext(ctx, chromium, append(base, args...)...).Output()
		if err != nil {
			t.Fatalf("chromium %v: %v", args, err)
		}
		return string(out)
	}
	dom := browser("--dump-dom", "file://"+htmlPath)
	for _, bad := range []string{"<script", "<img", "<svg", "pwned</title>"} {
		if strings.Contains(dom, bad) {
			t.Errorf("the DOM contains %q: injected markup was interpreted", bad)
		}
	}
	if !strings.Contains(dom, "&lt;script&gt;document.title='pwned'&lt;/script&gt;") {
		t.Error("the hostile user agent should be shown as text")
	}
	count := func(id string) int {
		m := regexp.MustCompile(`id="` + id + `" data-count="(\d+)"`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("no %s in the DOM", id)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	for _, st := range finding.Statuses() {
		if got := count("count-" + string(st)); got != run.Summary.Count(st) {
			t.Errorf("%s shown %d, JSON says %d", st, got, run.Summary.Count(st))
		}
	}
	if rows := strings.Count(dom, " finding\" data-status="); rows != len(run.Findings) {
		t.Errorf("%d finding rows shown, JSON has %d", rows, len(run.Findings))
	}
	shot := filepath.Join(os.TempDir(), "rootwatch-report-hostile.png")
	browser("--screenshot="+shot, "file://"+htmlPath)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)

	html := string(mustRead(t, htmlPath))
	if !strings.Contains(dom, `http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-`) {
		t.Error("no strict Content-Security-Policy")
	}
	for _, ext := range []string{"<link", "<script", "src=\"http", "@import", "url("} {
		if strings.Contains(html, ext) {
			t.Errorf("the report is not self-contained: it has %q", ext)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSARIFValidatesWithMultitool: a scan's SARIF, from hostile input,
// passes `sarif-multitool validate` (internal/report validates its golden,
// with a disabled rule, the same way).
func TestSARIFValidatesWithMultitool(t *testing.T) {
	sarif := filepath.Join(t.TempDir(), "rootwatch.sarif")
	if r := runLive(t, hostileWorld, "scan", "-f", "sarif", "-o", sarif); r.code == ExitUsage {
		t.Fatal(r.err)
	}
	testutil.ValidateSARIF(t, sarif)
}

// controlWorld puts terminal controls, C1 codes and bidirectional overrides
// in every place AWS text reaches, and a 2 MB user agent.
var controlWorld = `
accounts:
  - id: "210987654321"
    access_keys: [AKIALIVE000000000001]
    root: {password_last_used: -2d, mfa: virtual}
    users: [{name: "eve\u001b]0;owned\u0007\u202etxt.exe", password_last_used: -1d}]
    report: {existing: 1h}
    trail:
      - {time: -2d, mfa: "No", ip: "198.51.100.7\u001b[2J", user_agent: "ua\u009b31m\u2066bidi\u2069\u001b[31mred"}
      - {time: -3d, result: Failure, mfa: "No", user_agent: "` + strings.Repeat("A", 2<<20) + `"}
`

// TestNoControlsReachPeople: no raw ESC, BEL, other C0/C1 control or
// bidirectional override from AWS data reaches CSV, HTML, SARIF, Markdown,
// JUnit, the table or stderr; a 2 MB value is cut with its length noted.
func TestNoControlsReachPeople(t *testing.T) {
	dir := t.TempDir()
	formats := []string{"csv", "html", "sarif", "markdown", "junit", "table"}
	args := []string{"scan"}
	for _, f := range formats {
		args = append(args, "-f", f)
	}
	r := runLive(t, controlWorld, append(args, "--output-dir", dir)...)
	if r.code == ExitUsage {
		t.Fatalf("scan: %v", r.err)
	}
	unsafe := func(s string) (rune, bool) {
		for _, c := range s {
			if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f || (c >= 0x80 && c < 0xa0) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) {
				return c, true
			}
		}
		return 0, false
	}
	for _, f := range formats {
		data := string(mustRead(t, filepath.Join(dir, "rootwatch."+report.Extension(f))))
		if c, bad := unsafe(data); bad {
			t.Errorf("%s holds a raw U+%04X", f, c)
		}
		if !strings.Contains(data, `\x1b`) && !strings.Contains(data, `\\x1b`) {
			t.Errorf("%s: the escape was dropped rather than shown escaped", f)
		}
		if len(data) > 1<<20 {
			t.Errorf("%s is %d bytes: the 2 MB user agent was not cut", f, len(data))
		}
	}
	if c, bad := unsafe(r.stderr); bad {
		t.Errorf("stderr holds a raw U+%04X", c)
	}
	js := runLive(t, controlWorld, "scan", "-f", "json")
	if !strings.Contains(js.stdout, "bytes in all, sha256 ") {
		t.Error("the evidence does not say the long value was cut, with its length and hash")
	}
}

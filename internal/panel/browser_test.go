package panel

import (
	"context"
	"encoding/csv"
	"fmt"
	"github.com/rootwatch/rootwatch/internal/panel/query"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

// watchCSP records, in every page, each Content-Security-Policy violation
// the page reports. The browser runs it from the protocol, so the page's
// own policy (no script at all) does not stop it.
const watchCSP = `window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`

// browser is a headless Debian Chromium on the panel, with what it
// reported: console messages, exceptions, log entries, and every URL a
// page asked for.
type browser struct {
	t        *testing.T
	ctx      context.Context
	base     string
	shots    string
	mu       sync.Mutex
	problems []string
	requests []string
}

func newBrowser(t *testing.T, base string) *browser {
	chromium := testutil.RequireTool(t, "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	// The flags /work/.library/env/machines/go.md names: a closed network
	// refuses Chromium's own background connections, many at a time.
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-extensions", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	t.Cleanup(acancel)
	b := &browser{t: t, base: base, shots: artifacts(t)}
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(b.listen))
	t.Cleanup(bcancel)
	b.ctx = bctx
	if _, err := chromedp.Call(bctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: watchCSP}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func (b *browser) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		b.problems = append(b.problems, "exception: "+e.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning || e.Entry.Source == log.EntrySourceSecurity {
			b.problems = append(b.problems, fmt.Sprintf("log %s/%s: %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, e.Request.URL)
	}
}

// artifacts is where screenshots go: ROOTWATCH_ARTIFACTS (.ci/run keeps
// them), else a directory left for a person to look at.
func artifacts(t *testing.T) string {
	dir := os.Getenv("ROOTWATCH_ARTIFACTS")
	if dir != "" {
		dir = filepath.Join(dir, "panel")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		var err error
		if dir, err = os.MkdirTemp("", "rootwatch-panel-screenshots-"); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots of each view: %s", dir)
	return dir
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("chromium: %v", err)
	}
}

func run[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("chromium: %v", err)
	}
	return v
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	return run(b, chromedp.Evaluate[string](js))
}

// open loads a page of the panel and waits for its main content.
func (b *browser) open(path, wait string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS(wait)))
}

// shot saves a screenshot of the whole page.
func (b *browser) shot(name string) {
	b.t.Helper()
	png := run(b, chromedp.FullScreenshot(100))
	if len(png) < 10_000 {
		b.t.Errorf("screenshot %s: %d bytes", name, len(png))
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// clean fails the test for what the browser reported on this page: console
// errors and warnings, exceptions, log entries, CSP violations.
func (b *browser) clean(what string) {
	b.t.Helper()
	if v := b.eval(`(window.__csp || ['the CSP watcher did not run']).join('; ')`); v != "" {
		b.t.Errorf("%s: Content-Security-Policy violations: %s", what, v)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("%s: %s", what, p)
	}
	b.problems = nil
}

// TestPanelInChromium drives Debian's Chromium through the panel over a
// store: sign in, the overview, a filtered matrix and its CSV export, an
// account with hostile text, a diff of two runs; the keyboard reaches the
// controls with a visible focus; nothing is fetched from elsewhere, and
// no page reports an error or a CSP violation.
func TestPanelInChromium(t *testing.T) {
	h := newHistory(t, 12, 30)
	src := query.NewStoreSource(readOnly(t, h.path))
	token := "browser-test-token-0123456789abcdef"
	srv := httptest.NewServer(handler(t, Options{Source: src, Token: []byte(token), Loopback: true, Version: "e2e", Store: "rootwatch.db"}))
	defer srv.Close()
	b := newBrowser(t, srv.URL)

	// The detectors detect: an image from elsewhere, added through the
	// protocol, breaks the policy and is reported, and its request seen.
	b.open("/login", "#token")
	b.eval(`(() => { const i = document.createElement('img'); i.src = 'https://example.invalid/x.png'; document.body.appendChild(i); return ''; })()`)
	b.do(chromedp.Sleep(200 * time.Millisecond)) // the violation event is asynchronous
	if v := b.eval(`window.__csp.join('; ')`); !strings.Contains(v, "img-src") {
		t.Fatalf("the CSP watcher did not see a violation it should have: %q", v)
	}
	b.mu.Lock()
	if len(b.problems) == 0 {
		t.Error("the console listener did not report the control's violation")
	}
	t.Logf("the control's violation, as reported: %q", b.problems)
	if !slices.Contains(b.requests, "https://example.invalid/x.png") {
		t.Errorf("the request listener did not see the control's request: %v", b.requests)
	}
	b.problems, b.requests = nil, nil
	b.mu.Unlock()

	// Sign in with the keyboard: the token field has the focus.
	b.open("/login?next=/", "#token")
	if id := b.eval(`document.activeElement.id`); id != "token" {
		t.Errorf("the sign-in form opens with the focus on %q", id)
	}
	b.do(chromedp.KeyEvent(token), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#counts")))
	b.clean("sign-in")
	cookie := run(b, chromedp.Evaluate[string](`document.cookie`))
	if strings.Contains(cookie, "rootwatch_session") {
		t.Error("the session cookie is readable from the page: it is not HttpOnly")
	}

	// Overview.
	if n := b.eval(`String(document.querySelectorAll('svg.chart polyline').length)`); n != "2" {
		t.Errorf("the trend chart has %s lines", n)
	}
	b.shot("overview")
	b.clean("overview")
	// Keyboard: Tab first reaches the skip link, then the views' links,
	// each with a visible focus ring.
	var reached []string
	for range 8 {
		b.do(chromedp.KeyEvent(kb.Tab))
		got := b.eval(`(() => { const e = document.activeElement, s = getComputedStyle(e);
			return e.textContent.trim() + '|' + (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2); })()`)
		text, visible, _ := strings.Cut(got, "|")
		reached = append(reached, text)
		if visible != "true" {
			t.Errorf("the focus on %q is not visible", text)
		}
	}
	for _, want := range []string{"Skip to content", "Overview", "Accounts × rules", "Runs and diffs", "Suppressions", "Sign out"} {
		if !slices.Contains(reached, want) {
			t.Errorf("Tab never reached %q (reached %q)", want, reached)
		}
	}

	// The matrix, filtered with the keyboard: Tab to the "fail" box,
	// Space ticks it; the severity box the same; Enter in the account field
	// submits.
	b.open("/matrix", "#apply")
	tabTo := func(selector string) {
		t.Helper()
		for range 40 {
			if b.eval(`String(document.activeElement.matches(`+jsString(selector)+`))`) == "true" {
				return
			}
			b.do(chromedp.KeyEvent(kb.Tab))
		}
		t.Fatalf("Tab never reached %s", selector)
	}
	tabTo(`input[name=status][value=fail]`)
	b.do(chromedp.KeyEvent(" "))
	tabTo(`input[name=severity][value=critical]`)
	b.do(chromedp.KeyEvent(" "))
	tabTo(`#f-q`)
	// The unfiltered page has a #result too: wait for the page the form
	// loaded, whose search field the server filled in (typing sets the
	// field's value, never its attribute).
	b.do(chromedp.KeyEvent("acct-9"), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`#f-q[value="acct-9"]`)), chromedp.WaitVisible(chromedp.CSS("#result")))
	loc := run(b, chromedp.Location())
	if !strings.Contains(loc, "status=fail") || !strings.Contains(loc, "severity=critical") || !strings.Contains(loc, "q=acct-9") {
		t.Errorf("the filter did not reach the address: %s", loc)
	}
	shown := strings.Fields(b.eval(`Array.from(document.querySelectorAll('tr.row')).map(r => r.dataset.account).join(' ')`))
	total := b.eval(`document.getElementById('result').dataset.total`)
	if len(shown) == 0 || fmt.Sprint(len(shown)) != total {
		t.Fatalf("the filtered matrix shows %d rows of %s", len(shown), total)
	}
	for _, id := range shown {
		if !strings.HasPrefix(id, "9") {
			t.Errorf("row %s does not match the account filter", id)
		}
	}
	tabTo(`#export-csv`)
	b.shot("matrix")
	b.clean("matrix")

	// Export: the CSV the page links to holds exactly the rows shown.
	href := b.eval(`document.getElementById('export-csv').href`)
	req, _ := http.NewRequest("GET", href, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("export: %d %v", resp.StatusCode, err)
	}
	var exported []string
	for _, r := range rows[1:] {
		exported = append(exported, r[0])
	}
	if !slices.Equal(exported, shown) {
		t.Errorf("the CSV export has %v, the filtered view shows %v", exported, shown)
	}

	// An account: its link from the matrix, with the keyboard.
	tabTo(`tr.row th a`)
	first := b.eval(`document.activeElement.closest('tr').dataset.account`)
	b.do(chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#findings-h")))
	if got := b.eval(`document.getElementById('account-id').textContent`); got != first {
		t.Errorf("Enter on the link of %s opened %s", first, got)
	}
	b.clean("account " + first)

	// Hostile text from AWS is shown, not obeyed: no element was made of
	// it, the override and the escape are visible as text.
	b.open("/accounts/"+acctHostile, "#findings-h")
	if n := b.eval(`String(document.querySelectorAll('script, img, iframe').length)`); n != "0" {
		t.Errorf("the hostile account's page holds %s script, img or iframe elements", n)
	}
	name := b.eval(`document.getElementById('account-name').textContent`)
	if name != `evil\u202egpj.exe\x1b[31m<script>alert('name')</script>` {
		t.Errorf("the hostile name reads %q", name)
	}
	if body := b.eval(`document.body.innerText`); strings.ContainsAny(body, "\u202e\x1b\x07") || !strings.Contains(body, `<script>alert('agent')</script>\u202e\x1b]0;pwned\x07`) {
		t.Error("the event's hostile user agent is not shown as inert text")
	}
	if title := run(b, chromedp.Title()); !strings.Contains(title, `\u202e`) {
		t.Errorf("the title does not show the override as text: %q", title)
	}
	b.shot("account")
	b.clean("hostile account")

	// Runs and a diff of two, chosen in the form.
	b.open("/runs", "#runs")
	b.shot("runs")
	b.do(chromedp.SetValue(chromedp.ID("d-from"), "1"), chromedp.SetValue(chromedp.ID("d-to"), "12"), chromedp.Click(chromedp.ID("compare")),
		chromedp.WaitVisible(chromedp.CSS("#diff-head")))
	d, err := src.Diff(context.Background(), 1, 12)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.eval(`document.getElementById('diff-head').dataset.changes + ' ' + document.querySelectorAll('tr.change').length`); got != fmt.Sprintf("%d %d", len(d.Changes), len(d.Changes)) {
		t.Errorf("the diff of runs 1 and 12 shows %s changes, rootwatch diff has %d", got, len(d.Changes))
	}
	b.shot("diff")
	b.clean("diff")

	for _, v := range []struct{ path, wait, name string }{
		{"/rules/iam-root-console-login", "#failing-h", "rule"},
		{"/suppressions", "#suppressions", "suppressions"},
	} {
		b.open(v.path, v.wait)
		b.shot(v.name)
		b.clean(v.name)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range b.requests {
		if !strings.HasPrefix(u, srv.URL+"/") {
			t.Errorf("a page asked for %s: nothing may come from elsewhere", u)
		}
	}
	if len(b.requests) < 10 {
		t.Errorf("only %d requests seen: the network listener is not working", len(b.requests))
	}
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

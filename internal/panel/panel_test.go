package panel

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"github.com/rootwatch/rootwatch/internal/panel/query"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/store"
	"github.com/rootwatch/rootwatch/internal/store/history"
)

func catalog(t testing.TB) finding.Catalog {
	t.Helper()
	c, err := rules.Info()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixture is a stored history written through history.Record, and the same runs in
// memory.
type fixture struct {
	runs []*finding.Run
	path string
	mem  *query.Memory
}

func newHistory(t testing.TB, n, extra int) fixture {
	runs := testRuns(n, extra)
	path := recorded(t, runs) // marks the runs as the store has them
	return fixture{runs: runs, path: path, mem: query.NewMemory(runs...)}
}

func handler(t testing.TB, o Options) http.Handler {
	t.Helper()
	if o.Catalog.Rules == nil {
		o.Catalog = catalog(t)
	}
	if o.Version == "" {
		o.Version = "test"
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get asks h for path; header pairs follow.
func get(t testing.TB, h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, h, http.MethodGet, path, nil, header...)
}

func do(t testing.TB, h http.Handler, method, path string, body []byte, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, bytes.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// rowsOf lists the accounts of a matrix page, in order.
func rowsOf(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr class="row" data-account="(\d+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestTrendKeepsTheLastKnownState(t *testing.T) {
	h := newHistory(t, 6, 0)
	o, err := h.mem.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// 444444444444 left the scope after run 2 still failing; 333333333333
	// was not assessed by runs 5 and 6: both keep their last known state.
	type point struct{ findings, accounts, carried int }
	want := []point{{2, 2, 0}, {2, 2, 0}, {4, 4, 1}, {4, 4, 1}, {4, 4, 2}, {4, 4, 2}}
	var got []point
	for _, p := range o.Trend {
		got = append(got, point{p.FailingFindings, p.FailingAccounts, p.Carried})
	}
	if !slices.Equal(got, want) {
		t.Errorf("trend = %v, want %v", got, want)
	}
	if o.Latest == nil || o.Latest.ID != 6 || o.NotAssessed != 1 || o.Accounts != 5 || o.Counts[finding.StatusFail][finding.SeverityCritical] != 2 {
		t.Errorf("overview: latest %+v, not assessed %d, accounts %d, counts %v", o.Latest, o.NotAssessed, o.Accounts, o.Counts)
	}
	body := get(t, handler(t, Options{Source: h.mem}), "/").Body.String()
	mustContain(t, "overview", body, `id="latest-run" data-run="6"`, `<svg class="chart" role="img"`, "<polyline", `<td class="num total" data-count="3"><a href="/matrix?status=fail">3</a>`,
		"1 of them not assessed", "<desc id=\"chart-desc\">Over 6 runs, from run 1 to run 6: failing findings from 2 to 4")
}

func TestEmptyStore(t *testing.T) {
	h := handler(t, Options{Source: query.NewMemory()})
	for _, p := range []string{"/", "/matrix", "/runs", "/suppressions", "/matrix.csv"} {
		if rec := get(t, h, p); rec.Code != http.StatusOK {
			t.Errorf("%s on an empty store: %d", p, rec.Code)
		}
	}
	mustContain(t, "overview", get(t, h, "/").Body.String(), "The store holds no run yet")
	if rec := get(t, h, "/diff"); rec.Code != http.StatusNotFound {
		t.Errorf("diff on an empty store: %d", rec.Code)
	}
}

func TestMatrixFilters(t *testing.T) {
	h := newHistory(t, 6, 0)
	srv := handler(t, Options{Source: h.mem})
	cases := map[string][]string{
		"":                                 {acctPayments, acctHostile, acctStale, acctDropped, acctExpired},
		"status=fail":                      {acctPayments, acctHostile, acctDropped, acctExpired},
		"status=fail&rule=iam-root-no-mfa": {acctDropped},
		"status=unknown&status=error":      {acctPayments, acctStale},
		"severity=high&status=fail":        {acctHostile},
		"severity=medium":                  {acctPayments, acctHostile, acctStale, acctDropped, acctExpired},
		"rule=iam-root-active-password&status=pass": {acctHostile, acctStale, acctDropped, acctExpired},
		"q=payments":                {acctPayments},
		"q=OWNER%3Dpayments":        {acctPayments},
		"q=2222":                    {acctHostile},
		"stale=1":                   {acctStale, acctDropped},
		"since=5":                   nil,
		"since=2":                   {acctPayments, acctExpired},
		"since=1":                   {acctPayments, acctStale, acctExpired},
		"status=fail&since=2&q=555": {acctExpired},
		"sort=failing&status=fail&severity=critical": {acctPayments, acctDropped, acctExpired},
	}
	for q, want := range cases {
		rec := get(t, srv, "/matrix?"+q)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d %s", q, rec.Code, rec.Body)
			continue
		}
		if got := rowsOf(rec.Body.String()); !slices.Equal(got, want) {
			t.Errorf("matrix?%s: rows %v, want %v", q, got, want)
		}
	}
	// The state column says what the latest run did not assess.
	body := get(t, srv, "/matrix?stale=1").Body.String()
	mustContain(t, "stale rows", body, "run 4, 2 days older", "AccessDenied: role OrganizationAccountAccessRole not assumable", "run 2, 4 days older")
	for q, code := range map[string]int{"status=broken": 400, "severity=urgent": 400, "per=7": 400, "page=0": 400, "sort=name": 400,
		"since=99": 404, "since=x": 400, "q=" + strings.Repeat("a", 300): 400} {
		if rec := get(t, srv, "/matrix?"+q); rec.Code != code {
			t.Errorf("matrix?%.40s: %d, want %d", q, rec.Code, code)
		}
	}
}

func TestMatrixPagesAndOU(t *testing.T) {
	h := newHistory(t, 3, 60)
	srv := handler(t, Options{Source: h.mem})
	first := get(t, srv, "/matrix?per=25").Body.String()
	second := get(t, srv, "/matrix?per=25&page=2").Body.String()
	all := rowsOf(get(t, srv, "/matrix?per=100").Body.String())
	if a, b := rowsOf(first), rowsOf(second); len(a) != 25 || len(b) != 25 || !slices.Equal(append(a, b...), all[:50]) {
		t.Errorf("pages of 25: %d and %d rows, not the first 50 of %d", len(a), len(b), len(all))
	}
	mustContain(t, "page 1", first, "65 accounts match; showing 1–25.", `href="/matrix?page=2&amp;per=25"`)
	mustContain(t, "page 2", second, `href="/matrix?per=25"`, `href="/matrix?page=3&amp;per=25"`, "showing 26–50")
	if !strings.Contains(first, "carry no OU path, so there is no OU filter") || strings.Contains(first, `name="ou"`) {
		t.Error("without OU paths the page offers an OU filter")
	}
	// Runs that carry OU paths get the filter.
	run := testRuns(1, 0)[0]
	for i := range run.Accounts {
		run.Accounts[i].OUPath = map[bool]string{true: "Root/Workloads/Prod", false: "Root/Sandbox"}[i%2 == 0]
	}
	ou := handler(t, Options{Source: query.NewMemory(run)})
	body := get(t, ou, "/matrix?ou=root%2Fworkloads").Body.String()
	if got := rowsOf(body); !slices.Equal(got, []string{acctPayments, acctStale, acctDropped}) || !strings.Contains(body, `name="ou"`) {
		t.Errorf("OU filter: %v", got)
	}
}

func TestExportIsTheFilteredView(t *testing.T) {
	h := newHistory(t, 6, 40)
	srv := handler(t, Options{Source: h.mem})
	for _, q := range []string{"", "status=fail", "status=fail&severity=critical&per=25", "stale=1", "since=3&sort=failing"} {
		// Every page of the view, in order.
		var shown []string
		var pageURL = "/matrix?" + q
		for pageURL != "" {
			body := get(t, srv, pageURL).Body.String()
			shown = append(shown, rowsOf(body)...)
			m := regexp.MustCompile(`id="next" href="([^"]+)"|href="([^"]+)" rel="next"`).FindStringSubmatch(body)
			pageURL = ""
			if m != nil {
				pageURL = strings.ReplaceAll(m[2], "&amp;", "&")
			}
		}
		page := get(t, srv, "/matrix?"+q).Body.String()
		link := regexp.MustCompile(`href="([^"]+)" id="export-csv"`).FindStringSubmatch(page)
		if link == nil {
			t.Fatalf("no CSV link for %q", q)
		}
		rec := get(t, srv, strings.ReplaceAll(link[1], "&amp;", "&"))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
			t.Fatalf("csv %q: %d %v", q, rec.Code, rec.Header())
		}
		rows, err := csv.NewReader(rec.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got := rows[0][:len(ExportHeader)]; !slices.Equal(got, ExportHeader) || rows[0][len(ExportHeader)] != "iam-root-active-password" {
			t.Errorf("csv header %v", rows[0])
		}
		var ids []string
		for _, r := range rows[1:] {
			ids = append(ids, r[0])
		}
		if !slices.Equal(ids, shown) {
			t.Errorf("export of %q: %d rows %v, the view shows %d %v", q, len(ids), ids, len(shown), shown)
		}
		var j MatrixExport
		jrec := get(t, srv, "/matrix.json?"+q)
		if err := json.Unmarshal(jrec.Body.Bytes(), &j); err != nil {
			t.Fatal(err)
		}
		var jids []string
		for _, r := range j.Rows {
			jids = append(jids, r.Account.ID)
		}
		if !slices.Equal(jids, shown) || j.SchemaVersion != "1" || j.LatestRunID != 6 {
			t.Errorf("json export of %q: %v", q, jids)
		}
	}
	// Cells are neutralised and sanitised as the CSV report's are.
	rec := get(t, srv, "/matrix.csv?q=2222")
	rows, _ := csv.NewReader(rec.Body).ReadAll()
	if rows[1][1] != `evil\u202egpj.exe\x1b[31m<script>alert('name')</script>` || rows[1][3] != `'@SUM(1+1)=x;owner==HYPERLINK("http://evil.example")` {
		t.Errorf("hostile row: %q", rows[1])
	}
}

func TestAccountPage(t *testing.T) {
	h := newHistory(t, 6, 0)
	srv := handler(t, Options{Source: h.mem})
	stale := get(t, srv, "/accounts/"+acctStale).Body.String()
	mustContain(t, "stale account", stale, "the latest run (run 6) did not assess this account", "(failed: AccessDenied: role OrganizationAccountAccessRole not assumable)",
		"from run 4 as of 2026-03-04 06:00 UTC, 2 days older than the latest run", `data-rule="iam-root-no-mfa" data-status="unknown"`,
		`<td class="c st-not_assessed">not assessed</td>`)
	dropped := get(t, srv, "/accounts/"+acctDropped).Body.String()
	mustContain(t, "dropped account", dropped, "it is not among that run's accounts; the last run that held it, run 2, found it assessed")
	// Evidence: CloudTrail events as a table with the columns people read,
	// and a rule this rootwatch does not know laid out all the same.
	hostile := get(t, srv, "/accounts/"+acctHostile).Body.String()
	mustContain(t, "events", hostile, `<th scope="col">time</th><th scope="col">event</th><th scope="col">result</th><th scope="col">source IP</th><th scope="col">MFA used</th><th scope="col">AssumeRoot caller</th>`,
		"<td>203.0.113.24</td>", "<td>arn:aws:iam::111111111111:role/Admin</td>")
	payments := get(t, srv, "/accounts/"+acctPayments).Body.String()
	mustContain(t, "unknown rule's evidence", payments, `<dt title="holders">holders</dt>`, `<th scope="col">principal</th>`, `<th scope="col">task policy</th>`,
		`<td>arn:aws:iam::111111111111:role/Break\u202eGlass</td>`, `<dt title="scp_path">scp path</dt>`, "<li>ou-abcd-1111</li>", `<dt title="NotAction">NotAction</dt>`,
		"<dd>no</dd>", "<dd>3</dd>", "suppression owner", "payments-platform@example.com")
	// Worst first: the failure before the error before the passes.
	fail, errAt, pass := strings.Index(payments, `data-status="fail"`), strings.Index(payments, `data-status="error"`), strings.Index(payments, `data-status="pass"`)
	if !(fail >= 0 && fail < errAt && errAt < pass) {
		t.Errorf("findings not worst first: fail %d error %d pass %d", fail, errAt, pass)
	}
	if rec := get(t, srv, "/accounts/999999999999"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown account: %d", rec.Code)
	}
	v, err := h.mem.Account(context.Background(), acctStale)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Timeline.Runs) != 6 || v.Timeline.Rules[2].RuleID != "iam-root-no-mfa" ||
		!slices.Equal(v.Timeline.Rules[2].Statuses, []finding.Status{"pass", "unknown", "unknown", "unknown", query.StatusNotAssessed, query.StatusNotAssessed}) {
		t.Errorf("timeline: %+v", v.Timeline)
	}
}

func TestRulePage(t *testing.T) {
	h := newHistory(t, 6, 40)
	srv := handler(t, Options{Source: h.mem})
	body := get(t, srv, "/rules/iam-root-no-mfa").Body.String()
	p, _ := rules.LoadPage("iam-root-no-mfa")
	mustContain(t, "rule page", body, `<h2 id="details-h">Details</h2>`, "<h2 id=\"refs-h\">References</h2>", `<a href="https://docs.aws.amazon.com/`,
		`rel="noopener noreferrer"`, "<ol>", p.Summary)
	// Newest failure first.
	v, _ := h.mem.Rule(context.Background(), "iam-root-no-mfa")
	if len(v.Failing) < 3 || !slices.IsSortedFunc(v.Failing, func(a, b query.Failure) int { return b.Since.Compare(a.Since) }) || v.Failing[len(v.Failing)-1].Account.ID != acctDropped {
		t.Errorf("failing accounts not newest first: %+v", v.Failing)
	}
	var order []string
	for _, m := range regexp.MustCompile(`<tr data-account="(\d+)"><th scope="row">`).FindAllStringSubmatch(body, -1) {
		order = append(order, m[1])
	}
	if len(order) != len(v.Failing) || order[len(order)-1] != acctDropped {
		t.Errorf("the page lists %v", order)
	}
	unknown := get(t, srv, "/rules/future-root-rule")
	mustContain(t, "a rule not in the catalog", unknown.Body.String(), "not in this rootwatch's catalog")
	if rec := get(t, srv, "/rules/no-such-rule"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown rule: %d", rec.Code)
	}
}

func TestRunsAndDiff(t *testing.T) {
	h := newHistory(t, 6, 0)
	srv := handler(t, Options{Source: h.mem})
	runs := get(t, srv, "/runs").Body.String()
	if got := regexp.MustCompile(`<tr data-run="(\d+)">`).FindAllStringSubmatch(runs, -1); len(got) != 6 || got[0][1] != "6" {
		t.Errorf("runs listed: %v", got)
	}
	d, err := h.mem.Diff(context.Background(), 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string][]string{}
	for _, c := range d.Changes {
		kinds[c.Kind] = append(kinds[c.Kind], c.AccountID+"/"+c.RuleID)
	}
	if !slices.Equal(kinds[finding.ChangeNewFailure], []string{acctPayments + "/iam-root-active-password", acctExpired + "/iam-root-access-key-active"}) ||
		!slices.Equal(kinds[finding.ChangeNotAssessed], []string{acctStale + "/", acctDropped + "/"}) || len(kinds[finding.ChangeRemoved]) != 10 {
		t.Errorf("diff 1→6: %v", kinds)
	}
	body := get(t, srv, "/diff?from=1&to=6").Body.String()
	mustContain(t, "diff page", body, `data-from="1" data-to="6" data-changes="`+strconv.Itoa(len(d.Changes))+`"`, `<span data-kind="new_failure">2</span>`,
		`<tr class="change" data-kind="new_failure">`, "rootwatch diff --from 1 --to 6")
	// Without runs named: the newest run against the one of its scope
	// before it, as rootwatch diff.
	mustContain(t, "default diff", get(t, srv, "/diff").Body.String(), `data-from="5" data-to="6" data-changes="0"`, "No change.")
	for q, code := range map[string]int{"to=1": 400, "from=99": 404, "to=x": 400, "from=-1": 400} {
		if rec := get(t, srv, "/diff?"+q); rec.Code != code {
			t.Errorf("diff?%s: %d, want %d", q, rec.Code, code)
		}
	}
}

func TestSuppressions(t *testing.T) {
	h := newHistory(t, 6, 0)
	// Read on 2026-05-01: the payments key's suppression expired on
	// 2026-04-15, after its run.
	srv := handler(t, Options{Source: h.mem, Now: func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }})
	body := get(t, srv, "/suppressions").Body.String()
	rows := regexp.MustCompile(`<tr class="suppression( expired)?" data-account="(\d+)"`).FindAllStringSubmatch(body, -1)
	if len(rows) != 2 || rows[0][2] != acctExpired || rows[1][2] != acctPayments || rows[0][1] == "" || rows[1][1] == "" {
		t.Fatalf("suppressions: %v", rows)
	}
	mustContain(t, "suppressions", body, "EXPIRED</strong> at the run's time", "EXPIRED</strong> since the run", "payments-platform@example.com",
		`<span class="muted">none named</span>`, "1 name no owner", "2026-04-15", "break-glass key for the billing export")
	before := handler(t, Options{Source: h.mem, Now: func() time.Time { return time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC) }})
	mustContain(t, "suppressions before the expiry", get(t, before, "/suppressions").Body.String(), `<span class="flag flag-active">in force</span>`)
}

// pages are every view, for the checks that hold on all of them.
var pages = []string{"/", "/matrix", "/matrix?status=fail&q=2222", "/accounts/" + acctHostile, "/accounts/" + acctPayments, "/accounts/" + acctStale,
	"/rules/iam-root-console-login", "/rules/future-root-rule", "/runs", "/diff?from=1&to=6", "/suppressions", "/matrix.csv", "/matrix.json"}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := newHistory(t, 6, 0)
	tok := "0123456789abcdef0123456789abcdef"
	for _, withToken := range []bool{false, true} {
		o := Options{Source: h.mem, TLS: withToken}
		var auth []string
		if withToken {
			o.Token, auth = []byte(tok), []string{"Authorization", "Bearer " + tok}
		}
		srv := handler(t, o)
		reqs := [][2]string{{"PUT", "/"}, {"POST", "/matrix"}, {"DELETE", "/runs"}, {"GET", "/nowhere"}, {"GET", "/static/panel.css"}, {"GET", "/static/nope.js"},
			{"GET", "/healthz"}, {"GET", "/favicon.ico"}, {"HEAD", "/"}, {"GET", "/accounts/000000000000"}}
		for _, p := range pages {
			reqs = append(reqs, [2]string{"GET", p})
		}
		if withToken {
			reqs = append(reqs, [2]string{"GET", "/login"}, [2]string{"POST", "/login"})
		}
		for _, rq := range reqs {
			for _, hdr := range [][]string{auth, nil} {
				rec := do(t, srv, rq[0], rq[1], nil, hdr...)
				want := map[string]string{"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
				if withToken {
					want["Strict-Transport-Security"] = "max-age=31536000"
				}
				for k, v := range want {
					if got := rec.Header().Get(k); got != v {
						t.Errorf("%s %s (token %v, auth %v) %d: %s = %q, want %q", rq[0], rq[1], withToken, hdr != nil, rec.Code, k, got, v)
					}
				}
			}
		}
	}
	if !strings.Contains(CSP, "default-src 'none'") || !strings.Contains(CSP, "frame-ancestors 'none'") || strings.Contains(CSP, "unsafe") || strings.Contains(CSP, "script-src") {
		t.Errorf("CSP is not strict: %s", CSP)
	}
	srv := handler(t, Options{Source: h.mem})
	if rec := do(t, srv, "PUT", "/matrix", nil); rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Header().Get("Allow"), "GET") {
		t.Errorf("PUT: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	if rec := do(t, srv, "POST", "/login", nil); rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNotFound {
		t.Errorf("a login form without a token: %d", rec.Code)
	}
	// No inline style or script in any page: the stylesheet is the only
	// style, and there is no script at all.
	for _, p := range pages[:11] {
		body := get(t, srv, p).Body.String()
		for _, bad := range []string{"<script", "style=", "<style", " on", "javascript:"} {
			if strings.Contains(strings.ReplaceAll(body, "&lt;script", ""), bad) && bad != " on" {
				t.Errorf("%s has %q", p, bad)
			}
		}
		if regexp.MustCompile(`<[^>]+\son[a-z]+=`).MatchString(body) {
			t.Errorf("%s has an event handler attribute", p)
		}
	}
}

func TestHostileTextIsInert(t *testing.T) {
	h := newHistory(t, 6, 0)
	srv := handler(t, Options{Source: h.mem})
	for _, p := range pages {
		rec := get(t, srv, p)
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d", p, rec.Code)
		}
		for _, r := range []string{"\u202e", "\x1b", "\x07"} {
			if strings.Contains(body, r) {
				t.Errorf("%s carries %q raw: it would be obeyed, not shown", p, r)
			}
		}
		if strings.Contains(body, "<script>alert") && !strings.HasPrefix(p, "/matrix.") {
			t.Errorf("%s carries markup from AWS unescaped", p)
		}
	}
	account := get(t, srv, "/accounts/"+acctHostile).Body.String()
	mustContain(t, "hostile account", account, `evil\u202egpj.exe\x1b[31m&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;`,
		`&lt;script&gt;alert(&#39;agent&#39;)&lt;/script&gt;\u202e\x1b]0;pwned\x07`)
	js := get(t, srv, "/matrix.json?q=2222").Body.String()
	if !strings.Contains(js, `"name": "evil\u202egpj.exe\u001b[31m\u003cscript\u003ealert('name')\u003c/script\u003e"`) || !strings.Contains(js, `"@SUM(1+1)": "x"`) {
		t.Errorf("the JSON export does not keep the name verbatim (escaped by the encoder):\n%s", js)
	}
}

func TestStoreSourceSeesNewRunsAndETags(t *testing.T) {
	h := newHistory(t, 6, 0)
	src := query.NewStoreSource(readOnly(t, h.path))
	srv := handler(t, Options{Source: src})
	first := get(t, srv, "/")
	tag := first.Header().Get("ETag")
	if first.Code != 200 || tag == "" || !strings.Contains(first.Body.String(), `data-run="6"`) {
		t.Fatalf("overview: %d %q", first.Code, tag)
	}
	if rec := get(t, srv, "/", "If-None-Match", tag); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != tag {
		t.Errorf("unchanged overview: %d", rec.Code)
	}
	if rec := get(t, srv, "/matrix?status=fail", "If-None-Match", tag); rec.Code != http.StatusOK {
		t.Errorf("another page under the same tag: %d", rec.Code)
	}
	// scan --store writes a run while the panel serves.
	w, err := store.Open(context.Background(), h.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	next := testRuns(7, 0)[6]
	next.Accounts[2].Status, next.Accounts[2].Error = finding.AccountAssessed, "" // 333333333333 is back
	if _, err := history.Record(context.Background(), w, next); err != nil {
		t.Fatal(err)
	}
	again := get(t, srv, "/", "If-None-Match", tag)
	if again.Code != http.StatusOK || again.Header().Get("ETag") == tag || !strings.Contains(again.Body.String(), `data-run="7"`) {
		t.Errorf("after a new run: %d %q", again.Code, again.Header().Get("ETag"))
	}
	runs := get(t, srv, "/runs").Body.String()
	if !strings.Contains(runs, `<tr data-run="7">`) {
		t.Error("the runs page does not list the new run")
	}
	if rec := get(t, srv, "/", "If-None-Match", again.Header().Get("ETag")); rec.Code != http.StatusNotModified {
		t.Errorf("the new overview revalidated: %d", rec.Code)
	}
	// That the store-backed source answers as the memory one, a new run
	// included, is query's TestStoreSourceAnswersAsMemory.
}

func TestAuthentication(t *testing.T) {
	h := newHistory(t, 2, 0)
	tok := "s3cret-token-0123456789abcdef"
	var logs bytes.Buffer
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	srv := handler(t, Options{Source: h.mem, Token: []byte(tok), Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	rec := get(t, srv, "/matrix?status=fail")
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `name="next" value="/matrix?status=fail"`) || rec.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d %s", rec.Code, rec.Body)
	}
	if rec := get(t, srv, "/", "Authorization", "Bearer wrong-token-0123456789"); rec.Code != http.StatusUnauthorized {
		t.Errorf("a wrong bearer token: %d", rec.Code)
	}
	if rec := get(t, srv, "/", "Authorization", "Bearer "+tok); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Sign out") {
		t.Errorf("the bearer token: %d", rec.Code)
	}
	for _, p := range []string{"/healthz", "/static/panel.css", "/login"} {
		if rec := get(t, srv, p); rec.Code != http.StatusOK {
			t.Errorf("%s without a token: %d", p, rec.Code)
		}
	}
	post := func(form url.Values, header ...string) *httptest.ResponseRecorder {
		return do(t, srv, "POST", "/login", []byte(form.Encode()), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
	}
	if rec := post(url.Values{"token": {"nope"}, "next": {"/runs"}}); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "not the panel") {
		t.Errorf("a wrong token in the form: %d", rec.Code)
	}
	rec = post(url.Values{"token": {tok}, "next": {"/runs?x=1"}}, "Origin", "http://127.0.0.1:8080")
	cookie := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/runs?x=1" || len(cookie) != 1 {
		t.Fatalf("sign-in: %d %v", rec.Code, rec.Header())
	}
	c := cookie[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || strings.Contains(c.Value, tok) {
		t.Errorf("session cookie %+v", c)
	}
	if rec := get(t, srv, "/", "Cookie", c.Name+"="+c.Value); rec.Code != http.StatusOK {
		t.Errorf("with the session cookie: %d", rec.Code)
	}
	tampered := c.Value[:len(c.Value)-1] + map[bool]string{true: "0", false: "1"}[strings.HasSuffix(c.Value, "1")]
	if rec := get(t, srv, "/", "Cookie", c.Name+"="+tampered); rec.Code != http.StatusUnauthorized {
		t.Errorf("a tampered cookie: %d", rec.Code)
	}
	now = now.Add(sessionTTL + time.Second)
	if rec := get(t, srv, "/", "Cookie", c.Name+"="+c.Value); rec.Code != http.StatusUnauthorized {
		t.Errorf("an expired session: %d", rec.Code)
	}
	for next, want := range map[string]string{"//evil.example/x": "/", "https://evil.example/": "/", "/\\evil.example": "/", "/accounts/1": "/accounts/1"} {
		if rec := post(url.Values{"token": {tok}, "next": {next}}); rec.Header().Get("Location") != want {
			t.Errorf("next %q: to %q", next, rec.Header().Get("Location"))
		}
	}
	for _, from := range [][]string{{"Origin", "https://evil.example"}, {"Origin", "null"}, {"Sec-Fetch-Site", "cross-site", "Origin", "http://127.0.0.1:8080"}, {"Sec-Fetch-Site", "same-site"}} {
		if rec := post(url.Values{"token": {tok}}, from...); rec.Code != http.StatusForbidden {
			t.Errorf("a sign-in from another site (%v): %d", from, rec.Code)
		}
	}
	// A browser's own form under Referrer-Policy no-referrer.
	if rec := post(url.Values{"token": {tok}}, "Sec-Fetch-Site", "same-origin", "Origin", "null"); rec.Code != http.StatusSeeOther {
		t.Errorf("a sign-in from the panel's own form: %d", rec.Code)
	}
	if rec := post(url.Values{"token": {strings.Repeat("x", maxLoginBytes)}}); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("an oversized form: %d", rec.Code)
	}
	if rec := do(t, srv, "POST", "/logout", nil); rec.Code != http.StatusSeeOther || rec.Result().Cookies()[0].MaxAge >= 0 {
		t.Errorf("sign-out: %d %v", rec.Code, rec.Result().Cookies())
	}
	// TLS: the cookie is Secure.
	tlsSrv := handler(t, Options{Source: h.mem, Token: []byte(tok), TLS: true})
	rec = do(t, tlsSrv, "POST", "/login", []byte(url.Values{"token": {tok}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	if cs := rec.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("cookie over TLS: %+v", cs)
	}
	if strings.Contains(logs.String(), tok) || !strings.Contains(logs.String(), "sign-in refused") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestAccessLogsAndHostCheck(t *testing.T) {
	h := newHistory(t, 2, 0)
	var logs bytes.Buffer
	srv := handler(t, Options{Source: h.mem, Loopback: true, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	get(t, srv, "/matrix?q=who-i-searched-for")
	var entry map[string]any
	if err := json.Unmarshal(bytes.Split(logs.Bytes(), []byte("\n"))[0], &entry); err != nil {
		t.Fatal(err)
	}
	if entry["method"] != "GET" || entry["path"] != "/matrix" || entry["status"] != float64(200) || entry["duration_ms"] == nil || strings.Contains(logs.String(), "who-i-searched-for") {
		t.Errorf("access log: %s", logs.String())
	}
	for host, code := range map[string]int{"evil.example": 421, "evil.example:8080": 421, "localhost:8080": 200, "127.0.0.1:8080": 200, "[::1]:8080": 200, "127.0.0.2": 200} {
		if rec := get(t, srv, "/", "Host", host); rec.Code != code {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, code)
		}
	}
}

func TestLoadTokenAndLoopback(t *testing.T) {
	env := map[string]string{"TOK": " 0123456789abcdef0123 \n", "SHORT": "abc"}
	getenv := func(k string) string { return env[k] }
	if tok, err := LoadToken("env:TOK", getenv); err != nil || string(tok) != "0123456789abcdef0123" {
		t.Errorf("env token: %q %v", tok, err)
	}
	for spec, want := range map[string]string{"env:SHORT": "3 characters long", "env:NONE": "NONE is empty or not set", "0123456789abcdef0123": "give env:VAR or file:PATH",
		"file:/no/such/file": "read /no/such/file"} {
		if _, err := LoadToken(spec, getenv); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "0123456789abcdef") {
			t.Errorf("%s: %v", spec, err)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "localhost:80": true, "[::1]:8080": true, "127.1.2.3:1": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:8080": false, "192.0.2.1:8080": false, "panel.example:8080": false} {
		if got, err := IsLoopback(addr); err != nil || got != want {
			t.Errorf("IsLoopback(%s) = %v %v", addr, got, err)
		}
	}
	if _, err := IsLoopback("8080"); err == nil {
		t.Error("an address without a port")
	}
}

// TestDisabledRulesStayVisible: a rule the configuration turned off in the
// latest run has no findings there, and still has its column, shown
// "off", not left out.
func TestDisabledRulesStayVisible(t *testing.T) {
	runs := testRuns(2, 0)
	last := runs[1]
	last.Findings = slices.DeleteFunc(last.Findings, func(f finding.Finding) bool { return f.RuleID == "iam-root-console-login" })
	last.DisabledRules = []finding.DisabledRule{{RuleID: "iam-root-console-login", Title: "Root console sign-in", Severity: finding.SeverityHigh}}
	last.Summary = finding.Summarize(last.Findings)
	mem := query.NewMemory(runs...)
	m, err := mem.Matrix(context.Background(), query.Filter{}, query.Page{})
	if err != nil {
		t.Fatal(err)
	}
	col := slices.IndexFunc(m.Rules, func(c query.Column) bool { return c.RuleID == "iam-root-console-login" })
	if col < 0 {
		t.Fatalf("the disabled rule has no column: %v", m.Rules)
	}
	for _, r := range m.Rows {
		if r.Current && r.Cells[col].Status != query.StatusDisabled {
			t.Errorf("%s: the disabled rule's cell is %q", r.Account.ID, r.Cells[col].Status)
		}
	}
	srv := handler(t, Options{Source: mem})
	mustContain(t, "matrix", get(t, srv, "/matrix").Body.String(), `<td class="c st-disabled">off</td>`)
	// The hostile account failed it in run 1: its state changed since.
	if got := rowsOf(get(t, srv, "/matrix?since=1&q="+acctHostile).Body.String()); !slices.Equal(got, []string{acctHostile}) {
		t.Errorf("changed since run 1: %v", got)
	}
	// A disabled rule matches no status or severity filter.
	if got := rowsOf(get(t, srv, "/matrix?severity=high").Body.String()); len(got) != 0 {
		t.Errorf("severity high matched %v through a disabled rule", got)
	}
	v, _ := mem.Account(context.Background(), acctHostile)
	for _, r := range v.Timeline.Rules {
		if r.RuleID == "iam-root-console-login" && !slices.Equal(r.Statuses, []finding.Status{finding.StatusFail, query.StatusDisabled}) {
			t.Errorf("timeline of the disabled rule: %v", r.Statuses)
		}
	}
	rows, _ := csv.NewReader(get(t, srv, "/matrix.csv").Body).ReadAll()
	if rows[1][len(ExportHeader)+col] != "disabled" {
		t.Errorf("CSV cell of a disabled rule: %q", rows[1])
	}
}

// stalledSource is a store that never answers: each question waits for
// its request's context to end.
type stalledSource struct{ query.Source }

func (stalledSource) Generation(ctx context.Context) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

func (stalledSource) Overview(ctx context.Context) (query.Overview, error) {
	<-ctx.Done()
	return query.Overview{}, ctx.Err()
}

// TestRequestTimeLimit: a page whose store does not answer is given up
// after RequestTimeout with 503 and a sentence, instead of holding the
// connection for as long as the store takes.
func TestRequestTimeLimit(t *testing.T) {
	srv := handler(t, Options{Source: stalledSource{}, Loopback: true, RequestTimeout: 50 * time.Millisecond})
	rec := get(t, srv, "/")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "did not answer in time") {
		t.Errorf("a stalled store: %d %q", rec.Code, rec.Body.String())
	}
}

package panel

import (
	"fmt"
	"github.com/rootwatch/rootwatch/internal/panel/query"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/store"
)

// page is what every template receives; Data is the view's own.
type page struct {
	Title   string
	Nav     string
	Version string
	Store   string
	SignOut bool
	Data    any
}

type pageTemplate struct{ t *template.Template }

func (p *pageTemplate) execute(w io.Writer, data *page) error {
	return p.t.ExecuteTemplate(w, "layout", data)
}

var pageNames = []string{"overview", "matrix", "account", "rule", "runs", "diff", "suppressions", "login", "error"}

func parsePages() (map[string]*pageTemplate, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("panel templates: %w", err)
	}
	out := map[string]*pageTemplate{}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(assets, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("panel template %s: %w", name, err)
		}
		out[name] = &pageTemplate{t}
	}
	return out, nil
}

// shortStatus is the text a matrix or timeline cell shows: short, and
// never the colour alone.
var shortStatus = map[finding.Status]string{
	finding.StatusFail: "FAIL", finding.StatusPass: "pass", finding.StatusUnknown: "UNKN", finding.StatusError: "ERR",
	finding.StatusNotApplicable: "n/a", finding.StatusSuppressed: "supp", query.StatusNotAssessed: "not assessed", query.StatusDisabled: "off",
}

var funcs = template.FuncMap{
	// s shows untrusted text: control characters and bidirectional
	// overrides escaped (html/template escapes the markup).
	"s": report.Sanitize,
	"short": func(st finding.Status) string {
		if t, ok := shortStatus[st]; ok {
			return t
		}
		if st == "" {
			return "—"
		}
		return report.Sanitize(string(st))
	},
	"stclass": func(st finding.Status) string {
		if _, ok := shortStatus[st]; ok {
			return "st-" + string(st)
		}
		if st == "" {
			return "st-none"
		}
		return "st-other"
	},
	"sevclass": func(s finding.Severity) string {
		if s.Rank() < 0 {
			return "sev-other"
		}
		return "sev-" + string(s)
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"day": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02")
	},
	"age":      age,
	"markdown": Markdown,
	"deref": func(s *string) string {
		if s == nil {
			return "(absent)"
		}
		return *s
	},
	"pathEscape": url.PathEscape,
}

// age says how much older a state is than the latest run.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < 2*time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

type errorData struct {
	Code    int
	Message string
}

type loginData struct {
	Next   string
	Failed bool
}

// severities in the order pages list them.
var severities = []finding.Severity{finding.SeverityCritical, finding.SeverityHigh, finding.SeverityMedium, finding.SeverityLow, finding.SeverityInfo}

type countRow struct {
	Status finding.Status
	Counts []int
	Total  int
}

type overviewData struct {
	O          query.Overview
	Severities []finding.Severity
	Rows       []countRow
	Chart      Chart
	Total      int
}

func (s *server) overview(r *http.Request) (*page, error) {
	o, err := s.Source.Overview(r.Context())
	if err != nil {
		return nil, err
	}
	d := overviewData{O: o, Severities: severities, Chart: trendChart(o.Trend)}
	for _, st := range finding.Statuses() {
		row := countRow{Status: st}
		for _, sev := range severities {
			n := o.Counts[st][sev]
			row.Counts = append(row.Counts, n)
			row.Total += n
		}
		d.Total += row.Total
		d.Rows = append(d.Rows, row)
	}
	return &page{Title: "Overview", Nav: "overview", Data: d}, nil
}

// pageSizes are the matrix's page sizes; the first is the default.
var pageSizes = []int{50, 25, 100, 200}

// maxFilterText bounds what a text filter may hold.
const maxFilterText = 256

// parseFilter reads the matrix's filter from a query; the page number and
// size too, for the page itself.
func parseFilter(q url.Values) (query.Filter, int, int, error) {
	var f query.Filter
	for _, v := range q["status"] {
		st := finding.Status(v)
		if !slices.Contains(finding.Statuses(), st) {
			return query.Filter{}, 0, 0, badf("status %q is not a status (want %s)", report.Clean(v), statusList())
		}
		f.Statuses = append(f.Statuses, st)
	}
	for _, v := range q["severity"] {
		sev, err := finding.ParseSeverity(v)
		if err != nil {
			return query.Filter{}, 0, 0, badf("%s", report.Clean(err.Error()))
		}
		f.Severities = append(f.Severities, sev)
	}
	f.Rule, f.Account, f.OU = q.Get("rule"), strings.TrimSpace(q.Get("q")), strings.TrimSpace(q.Get("ou"))
	for name, v := range map[string]string{"rule": f.Rule, "q": f.Account, "ou": f.OU} {
		if len(v) > maxFilterText {
			return query.Filter{}, 0, 0, badf("%s is longer than %d characters", name, maxFilterText)
		}
	}
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return query.Filter{}, 0, 0, badf("since %q is not a run number", report.Clean(v))
		}
		f.ChangedSince = n
	}
	f.Stale = q.Get("stale") != ""
	switch f.Sort = q.Get("sort"); f.Sort {
	case "", "account", "failing":
	default:
		return query.Filter{}, 0, 0, badf("sort %q: want account or failing", report.Clean(f.Sort))
	}
	pageNo, per := 1, pageSizes[0]
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return query.Filter{}, 0, 0, badf("page %q is not a page number", report.Clean(v))
		}
		pageNo = n
	}
	if v := q.Get("per"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(pageSizes, n) {
			return query.Filter{}, 0, 0, badf("per %q: want one of %v", report.Clean(v), pageSizes)
		}
		per = n
	}
	return f, pageNo, per, nil
}

func statusList() string {
	var s []string
	for _, st := range finding.Statuses() {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}

// filterQuery writes a filter back as a query, for links that keep it.
func filterQuery(f query.Filter, per int) url.Values {
	q := url.Values{}
	for _, st := range f.Statuses {
		q.Add("status", string(st))
	}
	for _, sev := range f.Severities {
		q.Add("severity", string(sev))
	}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("rule", f.Rule)
	set("q", f.Account)
	set("ou", f.OU)
	if f.ChangedSince != 0 {
		q.Set("since", strconv.FormatInt(f.ChangedSince, 10))
	}
	if f.Stale {
		q.Set("stale", "1")
	}
	set("sort", f.Sort)
	if per != 0 && per != pageSizes[0] {
		q.Set("per", strconv.Itoa(per))
	}
	return q
}

type option struct {
	Value, Label string
	Selected     bool
}

type matrixData struct {
	M          query.Matrix
	F          query.Filter
	Statuses   []option
	Severities []option
	Rules      []option
	Runs       []option
	Sorts      []option
	Pers       []option
	From, To   int
	Prev, Next string
	CSV, JSON  string
	Filtered   bool
}

func (s *server) matrix(r *http.Request) (*page, error) {
	f, pageNo, per, err := parseFilter(r.URL.Query())
	if err != nil {
		return nil, err
	}
	m, err := s.Source.Matrix(r.Context(), f, query.Page{Offset: (pageNo - 1) * per, Limit: per})
	if err != nil {
		return nil, err
	}
	runs, err := s.Source.Runs(r.Context())
	if err != nil {
		return nil, err
	}
	d := matrixData{M: m, F: f}
	for _, st := range finding.Statuses() {
		d.Statuses = append(d.Statuses, option{string(st), string(st), slices.Contains(f.Statuses, st)})
	}
	for _, sev := range severities {
		d.Severities = append(d.Severities, option{string(sev), string(sev), slices.Contains(f.Severities, sev)})
	}
	for _, c := range m.Rules {
		d.Rules = append(d.Rules, option{c.RuleID, c.RuleID, c.RuleID == f.Rule})
	}
	for _, run := range runs {
		id := strconv.FormatInt(run.ID, 10)
		d.Runs = append(d.Runs, option{id, "run " + id + " (" + run.AsOf.UTC().Format("2006-01-02 15:04") + ")", run.ID == f.ChangedSince})
	}
	for _, so := range []option{{"account", "account ID", false}, {"failing", "most failing first", false}} {
		so.Selected = so.Value == f.Sort || (f.Sort == "" && so.Value == "account")
		d.Sorts = append(d.Sorts, so)
	}
	for _, n := range pageSizes {
		d.Pers = append(d.Pers, option{strconv.Itoa(n), strconv.Itoa(n), n == per})
	}
	q := filterQuery(f, per)
	d.Filtered = len(filterQuery(f, 0)) > 0
	link := func(p int) string {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		if p > 1 {
			qq.Set("page", strconv.Itoa(p))
		}
		return "/matrix?" + qq.Encode()
	}
	start := (pageNo - 1) * per
	if len(m.Rows) > 0 {
		d.From, d.To = start+1, start+len(m.Rows)
	}
	if pageNo > 1 {
		d.Prev = link(pageNo - 1)
	}
	if start+len(m.Rows) < m.Total {
		d.Next = link(pageNo + 1)
	}
	exp := filterQuery(f, 0)
	exp.Del("per")
	d.CSV, d.JSON = "/matrix.csv?"+exp.Encode(), "/matrix.json?"+exp.Encode()
	return &page{Title: "Accounts × rules", Nav: "matrix", Data: d}, nil
}

type findingView struct {
	finding.Finding
	Evidence Evidence
	// Since says since when the finding has had its status ("" in a run
	// stored without history).
	Since string
}

type accountData struct {
	V        query.AccountView
	Findings []findingView
}

func (s *server) account(r *http.Request) (*page, error) {
	id := r.PathValue("id")
	if len(id) > 64 {
		return nil, badf("an account ID is 12 digits")
	}
	v, err := s.Source.Account(r.Context(), id)
	if err != nil {
		return nil, err
	}
	d := accountData{V: v}
	for _, f := range v.Findings {
		fv := findingView{Finding: f, Evidence: NewEvidence(f.Evidence)}
		if f.FirstSeen != nil {
			fv.Since = "has been " + string(f.Status) + " since " + f.FirstSeen.UTC().Format("2006-01-02")
		}
		d.Findings = append(d.Findings, fv)
	}
	title := "Account " + report.Sanitize(v.Account.ID)
	if v.Account.Name != "" {
		title = report.Sanitize(v.Account.Name) + " (" + report.Sanitize(v.Account.ID) + ")"
	}
	return &page{Title: title, Nav: "matrix", Data: d}, nil
}

type param struct{ Name, Kind, Default, Doc string }

type ruleData struct {
	ID      string
	Known   bool
	Info    finding.RuleInfo
	Params  []param
	V       query.RuleView
	Counted []countRow
}

func (s *server) rule(r *http.Request) (*page, error) {
	id := r.PathValue("id")
	if len(id) > maxFilterText {
		return nil, badf("a rule ID is shorter")
	}
	info, known := s.Catalog.Rule(id)
	v, err := s.Source.Rule(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !known && len(v.Counts) == 0 {
		return nil, fmt.Errorf("rule %s: %w ('rootwatch rules' lists the rules)", report.Clean(id), query.ErrNotFound)
	}
	d := ruleData{ID: id, Known: known, Info: info, V: v}
	if rule, ok := rules.ByID(id); ok {
		for _, p := range rule.Params {
			d.Params = append(d.Params, param{p.Name, string(p.Kind), p.DefaultText(), p.Doc})
		}
	}
	for _, st := range finding.Statuses() {
		d.Counted = append(d.Counted, countRow{Status: st, Total: v.Counts[st]})
	}
	title := report.Sanitize(id)
	if known {
		title = info.Title
	}
	return &page{Title: title, Nav: "matrix", Data: d}, nil
}

type runsData struct {
	Runs []store.RunInfo
	Opts []option
}

func (s *server) runs(r *http.Request) (*page, error) {
	runs, err := s.Source.Runs(r.Context())
	if err != nil {
		return nil, err
	}
	return &page{Title: "Runs", Nav: "runs", Data: runsData{Runs: runs, Opts: runOptions(runs, 0)}}, nil
}

func runOptions(runs []store.RunInfo, selected int64) []option {
	var out []option
	for _, run := range runs {
		id := strconv.FormatInt(run.ID, 10)
		out = append(out, option{id, "run " + id + " · " + run.AsOf.UTC().Format("2006-01-02 15:04") + " · " + plural(run.Accounts, "account"), run.ID == selected})
	}
	return out
}

type kindCount struct {
	Kind  string
	Count int
}

type diffData struct {
	D        query.Diff
	Kinds    []kindCount
	From, To []option
}

func (s *server) diff(r *http.Request) (*page, error) {
	q := r.URL.Query()
	id := func(name string) (int64, error) {
		v := q.Get(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, badf("%s %q is not a run number", name, report.Clean(v))
		}
		return n, nil
	}
	from, err := id("from")
	if err != nil {
		return nil, err
	}
	to, err := id("to")
	if err != nil {
		return nil, err
	}
	diff, err := s.Source.Diff(r.Context(), from, to)
	if err != nil {
		return nil, err
	}
	runs, err := s.Source.Runs(r.Context())
	if err != nil {
		return nil, err
	}
	d := diffData{D: diff, From: runOptions(runs, diff.From.ID), To: runOptions(runs, diff.To.ID)}
	counts := map[string]int{}
	for _, c := range diff.Changes {
		counts[c.Kind]++
	}
	for _, k := range []string{finding.ChangeNewFailure, finding.ChangeNotAssessed, finding.ChangeResolved, finding.ChangeChanged, finding.ChangeAdded, finding.ChangeRemoved} {
		d.Kinds = append(d.Kinds, kindCount{k, counts[k]})
	}
	return &page{Title: fmt.Sprintf("Run %d → run %d", diff.From.ID, diff.To.ID), Nav: "runs", Data: d}, nil
}

type suppressionView struct {
	query.Suppression
	// ExpiredSince says it was in force at its run but has expired since:
	// the next scan will not apply it.
	ExpiredSince bool
}

type suppressionsData struct {
	Items   []suppressionView
	NoOwner int
}

func (s *server) suppressions(r *http.Request) (*page, error) {
	list, err := s.Source.Suppressions(r.Context())
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var d suppressionsData
	for _, x := range list {
		v := suppressionView{Suppression: x, ExpiredSince: !x.Expired && !x.Expires.IsZero() && !now.Before(x.Expires)}
		if x.Owner == "" {
			d.NoOwner++
		}
		d.Items = append(d.Items, v)
	}
	return &page{Title: "Suppressions", Nav: "suppressions", Data: d}, nil
}

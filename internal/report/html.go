package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/rootwatch/rootwatch/internal/exposure"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// HTML writes one self-contained report: no scripts, no external styles or
// fonts, and a Content-Security-Policy that forbids everything but its own
// inline style (allowed by hash). Filtering by severity and account is done
// in CSS with radio buttons. All AWS-derived text goes through
// html/template's contextual escaping.
type HTML struct{ Meta finding.Catalog }

type htmlCount struct {
	Name  string
	Count int
}

type htmlFinding struct {
	finding.Finding
	Class    string
	Evidence string
	Seen     string // first seen and change, from a store ("" without one)
}

type htmlCard struct {
	Rule     finding.RuleInfo
	Status   finding.Status
	Findings []htmlFinding
}

type htmlData struct {
	Run        *finding.Run
	Statuses   []htmlCount
	Severities []htmlCount
	AccountIDs []htmlAccount
	Cards      []htmlCard
	Findings   []htmlFinding
	Could      []couldView
	Style      template.CSS
	CSP        string
	// Since is set when the run was stored after an earlier one of its
	// scope: what failed anew and what was resolved.
	Since *htmlSince
}

type htmlSince struct {
	RunID       int64
	AsOf        string
	NewFailures []finding.Change
	Resolved    []finding.Change
}

type htmlAccount struct {
	finding.Account
	Key    string // safe for ids and classes
	Reason string
}

var keyRE = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// couldView is an account's "could anyone become root?" answer with the
// key its filter's CSS selects it by.
type couldView struct {
	exposure.Account
	Key string
}

func classKey(s string) string { return keyRE.ReplaceAllString(s, "_") }

const baseStyle = `
body>input[type=radio]{position:absolute;opacity:0;pointer-events:none}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}header p{margin:0;color:#c9d1dc}
.filters{padding:12px 28px;background:#fff;border-bottom:1px solid #dde2e8}.filters span{margin-right:8px;font-weight:600}
.filters input{position:absolute;opacity:0}.filters label{display:inline-block;padding:3px 10px;margin:2px;border:1px solid #c5ccd6;border-radius:12px;cursor:pointer}
main{padding:16px 28px}section{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:14px 18px;margin-bottom:16px}
h2{font-size:17px;margin:0 0 10px}h2.sub{margin-top:14px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef1f4;vertical-align:top}
th{background:#f0f2f5;font-weight:600}.num{font-weight:700;font-size:18px}
.st{font-weight:700;text-transform:uppercase;font-size:12px}.st-fail{color:#b42318}.st-unknown{color:#b54708}.st-error{color:#6941c6}.st-pass{color:#067647}.st-not_applicable,.st-suppressed{color:#667085}
.card{border-left:4px solid #b42318}.card .sum{color:#344054}.card .act{white-space:pre-wrap;background:#f9fafb;padding:8px;border-radius:4px}
pre{white-space:pre-wrap;word-break:break-word;background:#f9fafb;padding:6px;border-radius:4px;font-size:12px;margin:4px 0 0}
details summary{cursor:pointer;color:#475467}
.could{border-top:1px solid #eef1f4;padding-top:6px}.could h3{font-size:15px;margin:8px 0 6px}.could ul{margin:4px 0 0;padding-left:18px}.verdict{font-weight:600}
@media print{.filters{display:none}.f{display:revert!important}body{background:#fff}section{break-inside:avoid}header{background:#fff;color:#000}header p{color:#333}}
`

func (h HTML) Write(w io.Writer, run *finding.Run) error {
	run = clean(run)
	d := htmlData{Run: run}
	for _, st := range finding.Statuses() {
		d.Statuses = append(d.Statuses, htmlCount{string(st), run.Summary.Count(st)})
	}
	sevFail := map[finding.Severity]int{}
	for _, f := range run.Findings {
		if f.Status == finding.StatusFail {
			sevFail[f.Severity]++
		}
	}
	sevs := []finding.Severity{finding.SeverityCritical, finding.SeverityHigh, finding.SeverityMedium, finding.SeverityLow, finding.SeverityInfo}
	for _, s := range sevs {
		d.Severities = append(d.Severities, htmlCount{string(s), sevFail[s]})
	}
	var css strings.Builder
	css.WriteString(baseStyle)
	for _, s := range sevs {
		fmt.Fprintf(&css, "#sev-%s:checked~main .f:not(.sev-%s){display:none}#sev-%s:checked~.filters label[for=sev-%s]{background:#1d2430;color:#fff}\n", s, s, s, s)
	}
	css.WriteString("#sev-all:checked~.filters label[for=sev-all],#acct-all:checked~.filters label[for=acct-all]{background:#1d2430;color:#fff}\n")
	for _, a := range run.Accounts {
		k := classKey(a.AccountID)
		d.AccountIDs = append(d.AccountIDs, htmlAccount{Account: a, Key: k, Reason: a.Reason()})
		fmt.Fprintf(&css, "#acct-%s:checked~main .f:not(.acct-%s){display:none}#acct-%s:checked~.filters label[for=acct-%s]{background:#1d2430;color:#fff}\n", k, k, k, k)
		fmt.Fprintf(&css, "#acct-%s:checked~main .could:not(.acct-%s){display:none}\n", k, k)
	}
	for _, c := range exposure.Answer(run) {
		d.Could = append(d.Could, couldView{Account: c, Key: classKey(c.AccountID)})
	}
	byCard := map[string]int{}
	for _, f := range run.Findings {
		// Evidence is shown as people would read it: html/template escapes
		// it for the page, so JSON's own \u003c escaping is not wanted.
		var ev strings.Builder
		enc := json.NewEncoder(&ev)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(f.Evidence); err != nil {
			return fmt.Errorf("write html: evidence of %s/%s: %w", f.AccountID, f.RuleID, err)
		}
		hf := htmlFinding{Finding: f, Evidence: strings.TrimSpace(ev.String()), Class: fmt.Sprintf("f sev-%s acct-%s", f.Severity, classKey(f.AccountID)),
			Seen: strings.TrimSpace(seenNote(f))}
		d.Findings = append(d.Findings, hf)
		// Failures, and findings nobody could judge: both need someone.
		if cardRank(f.Status) < 0 {
			continue
		}
		key := f.RuleID + "/" + string(f.Status)
		i, ok := byCard[key]
		if !ok {
			meta, found := h.Meta.Rule(f.RuleID)
			if !found {
				meta = finding.RuleInfo{ID: f.RuleID, Title: f.Title, Severity: f.Severity}
			}
			meta.Severity = f.Severity // an override in the config applies
			i = len(d.Cards)
			byCard[key] = i
			d.Cards = append(d.Cards, htmlCard{Rule: meta, Status: f.Status})
		}
		d.Cards[i].Findings = append(d.Cards[i].Findings, hf)
	}
	// Worst first: by severity, then fail before error before unknown,
	// then in catalog order.
	slices.SortStableFunc(d.Cards, func(a, b htmlCard) int {
		return cmp.Or(cmp.Compare(b.Rule.Severity.Rank(), a.Rule.Severity.Rank()), cmp.Compare(cardRank(a.Status), cardRank(b.Status)),
			cmp.Compare(h.Meta.Index(a.Rule.ID), h.Meta.Index(b.Rule.ID)))
	})
	if h := run.History; h != nil && h.PreviousRunID != 0 {
		d.Since = &htmlSince{RunID: h.PreviousRunID, AsOf: h.PreviousAsOf.Format("2006-01-02 15:04 MST")}
		for _, c := range h.Changes {
			switch c.Kind {
			case finding.ChangeNewFailure:
				d.Since.NewFailures = append(d.Since.NewFailures, c)
			case finding.ChangeResolved:
				d.Since.Resolved = append(d.Since.Resolved, c)
			}
		}
	}
	style := css.String()
	sum := sha256.Sum256([]byte(style))
	d.Style = template.CSS(style)
	d.CSP = "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	if err := htmlTemplate.Execute(w, d); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>rootwatch report — {{len .Run.Accounts}} accounts</title>
<style>{{.Style}}</style>
</head>
<body>
<header>
<h1>rootwatch: is anyone using our AWS root users?</h1>
<p>As of {{.Run.AsOf.Format "2006-01-02 15:04:05 MST"}} · window {{index .Run.Settings "window"}} · rootwatch {{.Run.Tool.Version}} · generated {{.Run.GeneratedAt.Format "2006-01-02 15:04:05 MST"}}</p>
</header>
<input type="radio" name="sev" id="sev-all" checked>{{range .Severities}}<input type="radio" name="sev" id="sev-{{.Name}}">{{end}}
<input type="radio" name="acct" id="acct-all" checked>{{range .AccountIDs}}<input type="radio" name="acct" id="acct-{{.Key}}">{{end}}
<nav class="filters" aria-label="filters">
<div><span>Severity</span><label for="sev-all">all</label>{{range .Severities}}<label for="sev-{{.Name}}">{{.Name}}</label>{{end}}</div>
<div><span>Account</span><label for="acct-all">all</label>{{range .AccountIDs}}<label for="acct-{{.Key}}">{{.AccountID}}</label>{{end}}</div>
</nav>
<main>
{{with .Since}}<section id="since">
<h2>Since run {{.RunID}} ({{.AsOf}})</h2>
<p><strong id="new-failures" data-count="{{len .NewFailures}}">{{len .NewFailures}} new failures</strong>, <span id="resolved" data-count="{{len .Resolved}}">{{len .Resolved}} resolved</span>.</p>
{{if .NewFailures}}<table><tr><th>new failure</th><th>severity</th><th>account</th><th>message</th></tr>
{{range .NewFailures}}<tr class="new-failure"><td>{{.Title}} ({{.RuleID}})</td><td>{{.Severity}}</td><td>{{.AccountID}}</td><td>{{.Message}}</td></tr>
{{end}}</table>{{end}}
{{if .Resolved}}<table><tr><th>resolved</th><th>account</th><th>now</th></tr>
{{range .Resolved}}<tr class="resolved"><td>{{.Title}} ({{.RuleID}})</td><td>{{.AccountID}}</td><td>{{if .ToStatus}}{{.ToStatus}}{{end}}</td></tr>
{{end}}</table>{{end}}
</section>
{{end}}<section id="summary">
<h2>Summary</h2>
<table><tr>{{range .Statuses}}<th>{{.Name}}</th>{{end}}</tr>
<tr>{{range .Statuses}}<td class="num st-{{.Name}}" id="count-{{.Name}}" data-count="{{.Count}}">{{.Count}}</td>{{end}}</tr></table>
{{with .Run.DisabledRules}}<p id="disabled-rules" data-count="{{len .}}">Disabled by the configuration, judged for no account: {{range $i, $r := .}}{{if $i}}, {{end}}<span class="disabled-rule" title="{{$r.Title}}">{{$r.RuleID}}</span>{{end}}.</p>
{{end}}<h2 class="sub">Failing findings by severity</h2>
<table><tr>{{range .Severities}}<th>{{.Name}}</th>{{end}}</tr>
<tr>{{range .Severities}}<td class="num" id="fail-{{.Name}}" data-count="{{.Count}}">{{.Count}}</td>{{end}}</tr></table>
</section>
<section id="accounts">
<h2>Accounts</h2>
<table><tr><th>account</th><th>partition</th><th>status</th><th>sources</th><th>reason</th></tr>
{{range .AccountIDs}}<tr class="account" data-account="{{.AccountID}}"><td>{{.AccountID}}</td><td>{{.Partition}}</td><td class="st st-{{.Status}}">{{.Status}}</td>
<td>{{range .Sources}}<div>{{.Name}}: {{.State}}{{if .Detail}} — {{.Detail}}{{end}}</div>{{end}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>
</section>
<section id="could-anyone">
<h2>Could anyone become root?</h2>
<p class="sum">Per account, from the rules that answer it: whether an SCP denies its root user every action, who can open a root session in it, whether its root e-mail address lets someone else recover the password, and which credentials its root user holds.</p>
{{range .Could}}<div class="could acct-{{.Key}}" data-account="{{.AccountID}}" data-verdict="{{.Verdict}}">
<h3>{{.AccountID}}{{with .Name}} · {{.}}{{end}}{{with .OUPath}} · <small>{{.}}</small>{{end}}: <span class="verdict st-{{.Verdict}}">{{.Answer}}</span></h3>
{{if .Rows}}<table><tr><th>question</th><th>status</th><th>answer</th></tr>
{{range .Rows}}<tr><td>{{.Question}}</td><td class="st st-{{.Status}}">{{.Status}}</td><td>{{.Answer}}{{if .Details}}<ul>{{range .Details}}<li>{{.}}</li>{{end}}</ul>{{end}}</td></tr>
{{end}}</table>{{end}}
</div>
{{end}}</section>
{{range .Cards}}<section class="card" id="rule-{{.Rule.ID}}-{{.Status}}">
<h2><span class="st st-{{.Status}}">{{.Status}}</span> {{.Rule.Title}} <small>({{.Rule.ID}}, {{.Rule.Severity}})</small></h2>
<p class="sum">{{.Rule.Summary}}</p>
<details><summary>Suggested action</summary><div class="act">{{.Rule.Action}}</div></details>
<table><tr><th>account</th><th>resource</th><th>message</th><th>evidence</th></tr>
{{range .Findings}}<tr class="{{.Class}}"><td>{{.AccountID}}</td><td>{{.Resource}}</td><td>{{.Message}}</td><td><details><summary>evidence</summary><pre>{{.Evidence}}</pre></details></td></tr>
{{end}}</table>
</section>
{{end}}<section id="findings">
<h2>All findings</h2>
<table><tr><th>status</th><th>severity</th><th>account</th><th>rule</th><th>message</th><th>evidence</th></tr>
{{range .Findings}}<tr class="{{.Class}} finding" data-status="{{.Status}}"><td class="st st-{{.Status}}">{{.Status}}</td><td>{{.Severity}}</td><td>{{.AccountID}}</td><td>{{.RuleID}}</td><td>{{.Message}}{{with .Seen}} <small class="seen">{{.}}</small>{{end}}</td><td><details><summary>evidence</summary><pre>{{.Evidence}}</pre></details></td></tr>
{{end}}</table>
</section>
</main>
</body>
</html>
`))

package rules

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/pattern/eventpattern"
	"github.com/rootwatch/rootwatch/internal/pattern/logfilter"
	"github.com/rootwatch/rootwatch/internal/pattern/reference"
)

// CISRootFilter is the metric filter CIS prescribes for root usage (v1.4
// and later print it; v4+ print the values unquoted, which means the same).
const CISRootFilter = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`

// Links of the alarm chain, in order: the first one missing is named.
const (
	linkTrail        = "trail"
	linkLogging      = "logging"
	linkSelectors    = "selectors"
	linkLogGroup     = "log_group"
	linkMetricFilter = "metric_filter"
	linkAlarm        = "alarm"
	linkAlarmActions = "alarm_actions"
	linkTopicAction  = "topic_action"
	linkSubscriber   = "subscriber"
	linkComplete     = "complete"
)

var linkOrder = []string{linkTrail, linkLogging, linkSelectors, linkLogGroup, linkMetricFilter, linkAlarm, linkAlarmActions, linkTopicAction, linkSubscriber, linkComplete}

// chain is the outcome of following one path from root activity to a
// person: pass, fail at a link, or unknown at a link that could not be read.
type chain struct {
	status  finding.Status
	link    string
	message string
	ev      map[string]any
}

func (c chain) depth() int { return slices.Index(linkOrder, c.link) }

// better picks the chain to report: a pass, else an unknown (it might
// pass), else the failure that got furthest.
func better(a, b chain) chain {
	rank := func(c chain) int {
		switch c.status {
		case finding.StatusPass:
			return 3
		case finding.StatusUnknown, finding.StatusError:
			return 2
		}
		return 1
	}
	if rank(a) != rank(b) {
		if rank(a) > rank(b) {
			return a
		}
		return b
	}
	if b.depth() > a.depth() || b.depth() == a.depth() && a.message == "" {
		return b
	}
	return a
}

// monitoringProblem turns a monitoring source that is not ok into a chain.
func monitoringProblem(a *evidence.Account, source, needFor string) *chain {
	if r := sourceProblem(a, source, needFor); r != nil {
		return &chain{status: r.Status, link: source, message: r.Message, ev: r.Evidence}
	}
	if a.Monitoring == nil {
		return &chain{status: finding.StatusError, link: source, message: "Internal inconsistency: the " + source + " source is ok but no monitoring evidence is held.", ev: map[string]any{"source": source}}
	}
	return nil
}

// alarmChain follows CIS's audit: a multi-region trail that is logging,
// with management events selected, delivering to a log group whose metric
// filter catches human root activity, an alarm on that metric with actions
// enabled, an SNS topic with a confirmed subscriber.
func alarmChain(in Input) chain {
	a := in.Account
	if c := monitoringProblem(a, evidence.SourceTrails, "whether root activity reaches an alarm"); c != nil {
		return *c
	}
	m := a.Monitoring
	var multi []evidence.Trail
	var single []string
	for _, t := range m.Trails {
		if t.MultiRegion {
			multi = append(multi, t)
		} else {
			single = append(single, t.Name)
		}
	}
	if len(multi) == 0 {
		msg := "No multi-region CloudTrail trail applies to the account, so no metric filter sees root activity in every region."
		if len(single) > 0 {
			msg += fmt.Sprintf(" Single-region trails: %s.", strings.Join(single, ", "))
		}
		return chain{status: finding.StatusFail, link: linkTrail, message: msg, ev: map[string]any{"trails": len(m.Trails)}}
	}
	best := chain{status: finding.StatusFail, link: linkTrail}
	for _, t := range multi {
		best = better(best, trailChain(in, t))
	}
	return best
}

// trailOwner is the account in a trail's ARN.
func trailOwner(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

func trailChain(in Input, t evidence.Trail) chain {
	a := in.Account
	m := a.Monitoring
	ev := map[string]any{"trail": t.ARN, "trail_home_region": t.HomeRegion, "organization_trail": t.Organization}
	owner := trailOwner(t.ARN)
	if owner != "" && owner != a.ID {
		ev["coverage_account"] = owner
		p := in.peer(owner)
		if p == nil || p.Monitoring == nil {
			return chain{status: finding.StatusUnknown, link: linkLogGroup, ev: ev,
				message: fmt.Sprintf("Trail %s belongs to account %s (an organization trail); its log group, metric filters and alarms are in that account, which this run did not read: scan it together with this account.", t.Name, owner)}
		}
		if c := monitoringProblem(p, evidence.SourceTrails, "the organization trail of account "+owner); c != nil {
			c.ev = merge(ev, c.ev)
			return *c
		}
		for _, pt := range p.Monitoring.Trails {
			if pt.ARN == t.ARN {
				t = pt
				break
			}
		}
		a, m = p, p.Monitoring
	}
	fail := func(link, format string, args ...any) chain {
		return chain{status: finding.StatusFail, link: link, ev: ev, message: fmt.Sprintf(format, args...)}
	}
	unknown := func(link, format string, args ...any) chain {
		return chain{status: finding.StatusUnknown, link: link, ev: ev, message: fmt.Sprintf(format, args...)}
	}
	switch {
	case t.IsLogging == nil:
		return unknown(linkLogging, "Cannot tell whether trail %s is logging: %s", t.Name, orUnread(t.StatusError))
	case !*t.IsLogging:
		return fail(linkLogging, "Trail %s is not logging: nothing it would deliver reaches a metric filter.", t.Name)
	case t.Selectors == nil:
		return unknown(linkSelectors, "Cannot read the event selectors of trail %s: %s", t.Name, orUnread(t.SelectorsError))
	}
	if ok, why := selectsManagement(t.Selectors); !ok {
		return fail(linkSelectors, "Trail %s does not record every management event (%s), so root calls can go unlogged.", t.Name, why)
	} else if why != "" {
		ev["selector_note"] = why
	}
	if t.LogGroupARN == "" {
		return fail(linkLogGroup, "Trail %s does not deliver to CloudWatch Logs, so no metric filter sees its events.", t.Name)
	}
	ev["log_group"] = t.LogGroupARN
	if c := monitoringProblem(a, evidence.SourceMetricFilters, "the metric filters of "+t.LogGroupARN); c != nil {
		c.ev = merge(ev, c.ev)
		return *c
	}
	lg := findLogGroup(m, t.LogGroupARN)
	switch {
	case lg == nil:
		return unknown(linkMetricFilter, "The metric filters of log group %s were not read.", t.LogGroupARN)
	case lg.Error != "":
		return unknown(linkMetricFilter, "Cannot read the metric filters of log group %s: %s", lg.Name, lg.Error)
	}
	good, c := rootFilters(lg, ev)
	if len(good) == 0 {
		return c
	}
	best := chain{status: finding.StatusFail, link: linkAlarm}
	for _, f := range good {
		fev := merge(ev, map[string]any{"metric_filter": f.Name, "filter_pattern": f.Pattern, "cis_exact": cisExact(f.Pattern)})
		if over := overMatches(f.Pattern); len(over) > 0 {
			fev["over_matches"] = over
		}
		for _, metric := range f.Metrics {
			best = better(best, alarmsFor(in, a, lg.Region, f, metric, fev))
		}
		if len(f.Metrics) == 0 {
			best = better(best, chain{status: finding.StatusFail, link: linkAlarm, ev: fev, message: fmt.Sprintf("Metric filter %s publishes no metric, so no alarm can watch it.", f.Name)})
		}
	}
	return best
}

func orUnread(s string) string {
	if s == "" {
		return "not read"
	}
	return s
}

func merge(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// selectsManagement: some selector records read and write management
// events. The second value notes a partial exclusion, or says what is
// missing.
func selectsManagement(s *evidence.EventSelectors) (bool, string) {
	if len(s.Classic) == 0 && len(s.Advanced) == 0 {
		return false, "the trail has no event selectors"
	}
	var notes []string
	for _, c := range s.Classic {
		if !c.IncludeManagementEvents {
			notes = append(notes, "a classic selector excludes management events")
			continue
		}
		if c.ReadWriteType != "All" {
			notes = append(notes, fmt.Sprintf("a classic selector records %s management events only", c.ReadWriteType))
			continue
		}
		if len(c.ExcludeManagementEventSources) > 0 {
			return true, "management events from " + strings.Join(c.ExcludeManagementEventSources, ", ") + " are excluded"
		}
		return true, ""
	}
	for _, adv := range s.Advanced {
		management, readOnly := false, false
		var excluded []string
		for _, f := range adv.Fields {
			switch f.Field {
			case "eventCategory":
				management = slices.Contains(f.Equals, "Management")
			case "readOnly":
				readOnly = true
			case "eventSource":
				excluded = append(excluded, f.NotEquals...)
			}
		}
		switch {
		case !management:
		case readOnly:
			notes = append(notes, fmt.Sprintf("advanced selector %q records only read-only or only write management events", adv.Name))
		case len(excluded) > 0:
			return true, "management events from " + strings.Join(excluded, ", ") + " are excluded"
		default:
			return true, ""
		}
	}
	if len(notes) == 0 {
		notes = append(notes, "no selector records management events")
	}
	return false, strings.Join(notes, "; ")
}

// findLogGroup matches a trail's log group ARN (which AWS writes with a
// trailing :*) to the log group read.
func findLogGroup(m *evidence.Monitoring, arn string) *evidence.LogGroup {
	norm := strings.TrimSuffix(arn, ":*")
	for i := range m.LogGroups {
		if strings.TrimSuffix(m.LogGroups[i].ARN, ":*") == norm {
			return &m.LogGroups[i]
		}
	}
	return nil
}

// filterVerdict is what one pattern does with the reference events.
type filterVerdict struct {
	missed, iamUsers, noise []string
}

func judgeFilter(p *logfilter.Pattern) filterVerdict {
	var v filterVerdict
	for _, e := range reference.Events() {
		hit := p.Match(e.Record(""))
		switch {
		case e.Kind == reference.MustMatch && !hit:
			v.missed = append(v.missed, e.Name)
		case e.Kind == reference.MustNotMatch && hit:
			v.iamUsers = append(v.iamUsers, e.Name)
		case e.Kind == reference.Noise && hit:
			v.noise = append(v.noise, e.Name)
		}
	}
	return v
}

// rootFilters returns the log group's filters that catch every human root
// event and no IAM user's; when there is none, the chain says why, naming
// the filter nearest in meaning: one that a single slip (casing, one
// operator) keeps from being a root filter, else one about root that
// catches too little, before one about other events (sign-ins of anyone).
func rootFilters(lg *evidence.LogGroup, ev map[string]any) ([]evidence.MetricFilter, chain) {
	var good []evidence.MetricFilter
	var unreadable, overall []string
	type candidate struct {
		name, pattern string
		v             filterVerdict
	}
	var near []candidate
	for _, f := range lg.Filters {
		p, err := logfilter.Parse(f.Pattern)
		if err != nil {
			unreadable = append(unreadable, fmt.Sprintf("%s (%v)", f.Name, err))
			continue
		}
		v := judgeFilter(p)
		switch {
		case len(v.missed) == 0 && len(v.iamUsers) == 0:
			good = append(good, f)
		case len(v.missed) == 0:
			overall = append(overall, f.Name)
			near = append(near, candidate{f.Name, f.Pattern, v})
		default:
			near = append(near, candidate{f.Name, f.Pattern, v})
		}
	}
	if len(good) > 0 {
		return good, chain{}
	}
	ev = merge(ev, map[string]any{"metric_filters": len(lg.Filters)})
	if len(unreadable) > 0 {
		ev["unreadable_filters"] = unreadable
		return nil, chain{status: finding.StatusUnknown, link: linkMetricFilter, ev: ev,
			message: fmt.Sprintf("No metric filter of log group %s is known to catch root activity, and %s cannot be evaluated: %s.", lg.Name, evidence.Count(len(unreadable), "filter"), strings.Join(unreadable, "; "))}
	}
	if len(lg.Filters) == 0 {
		return nil, chain{status: finding.StatusFail, link: linkMetricFilter, ev: ev, message: fmt.Sprintf("Log group %s has no metric filter, so no alarm counts root activity.", lg.Name)}
	}
	for _, c := range near {
		fix := nearMiss(c.pattern)
		if fix == "" {
			continue
		}
		ev["closest_filter"], ev["near_miss"] = c.name, fix
		wrong := "misses: " + strings.Join(c.v.missed, "; ")
		if len(c.v.missed) == 0 {
			wrong = "also fires for IAM users' events: " + strings.Join(c.v.iamUsers, "; ")
		} else {
			ev["missed_reference_events"] = c.v.missed
		}
		return nil, chain{status: finding.StatusFail, link: linkMetricFilter, ev: ev,
			message: fmt.Sprintf("No metric filter of log group %s is a root filter; the closest, %s, would be if %s. As written it %s.", lg.Name, c.name, fix, wrong)}
	}
	if len(overall) > 0 {
		ev["matches_iam_users"] = overall
		return nil, chain{status: finding.StatusFail, link: linkMetricFilter, ev: ev,
			message: fmt.Sprintf("Metric filter %s of log group %s also fires for IAM users' events, so it is not a root alarm.", overall[0], lg.Name)}
	}
	// A filter about root that catches too little is nearer than one that
	// fires for IAM users too (another family: everyone's sign-ins); then
	// the fewer missed events, the nearer.
	best := slices.MinFunc(near, func(a, b candidate) int {
		if ai, bi := len(a.v.iamUsers) > 0, len(b.v.iamUsers) > 0; ai != bi {
			if ai {
				return 1
			}
			return -1
		}
		return len(a.v.missed) - len(b.v.missed)
	})
	ev["missed_reference_events"] = best.v.missed
	return nil, chain{status: finding.StatusFail, link: linkMetricFilter, ev: ev,
		message: fmt.Sprintf("No metric filter of log group %s catches every human root event; the closest, %s, misses: %s.", lg.Name, best.name, strings.Join(best.v.missed, "; "))}
}

// nearMiss looks for one slip that keeps a filter from being a root
// filter: the casing of its field names or values (CloudTrail writes
// "Root", and filters compare exactly), or one operator (= for !=, && for
// ||). It says what would have to change for the
// filter to catch every human root event and no IAM user's, or "" when no
// single slip explains it: the filter is about something else.
func nearMiss(pattern string) string {
	toks := filterTokens(pattern)
	works := func(src string) bool {
		p, err := logfilter.Parse(src)
		if err != nil {
			return false
		}
		v := judgeFilter(p)
		return len(v.missed) == 0 && len(v.iamUsers) == 0
	}
	// Casing: every word CloudTrail spells otherwise, at once (one habit,
	// often repeated).
	spelling := referenceSpellings()
	var edits []tokenEdit
	var said []string
	for _, t := range toks {
		if t.kind != tokenWord {
			continue
		}
		want, ok := spelling[strings.ToLower(t.text)]
		if ok && !slices.Contains(want, t.text) {
			edits = append(edits, tokenEdit{t, want[0]})
			said = append(said, fmt.Sprintf("%q were %q", t.text, want[0]))
		}
	}
	if len(edits) > 0 && works(applyEdits(pattern, edits)) {
		return strings.Join(said, " and ") + " (values and field names are compared with their case)"
	}
	// One operator, where a root filter's meaning lives: = for != (or the
	// reverse) on a field the CIS filter tests, or || where && was meant.
	// Turning && into || is not tried: it widens a filter until it matches
	// anything, which proves nothing about what its author meant.
	for _, t := range toks {
		var repl string
		switch {
		case t.kind != tokenOperator:
			continue
		case t.text == "||":
			repl = "&&"
		case t.text == "&&":
			continue
		case !cisField(pattern[:t.start]):
			continue
		case t.text == "=":
			repl = "!="
		case t.text == "!=":
			repl = "="
		}
		if works(applyEdits(pattern, []tokenEdit{{t, repl}})) {
			return fmt.Sprintf("its %s in `%s` were %s", t.text, around(pattern, t), repl)
		}
	}
	return ""
}

// cisField reports whether the text before a comparison ends with a field
// CIS's root filter tests (userIdentity.type, userIdentity.invokedBy,
// eventType).
func cisField(before string) bool {
	before = strings.TrimSpace(before)
	for _, f := range cisSelector.FindAllString(CISRootFilter, -1) {
		if strings.HasSuffix(before, f) {
			return true
		}
	}
	return false
}

var cisSelector = regexp.MustCompile(`\$\.[A-Za-z.]+`)

// around is the text of a pattern near a token, whole words, to point at it.
func around(src string, t filterToken) string {
	from, to := max(0, t.start-20), min(len(src), t.end+20)
	if from > 0 {
		from = strings.LastIndexByte(src[:from], ' ') + 1
	}
	if i := strings.IndexByte(src[to:], ' '); i >= 0 {
		to += i
	} else {
		to = len(src)
	}
	out := strings.TrimSpace(src[from:to])
	if from > 0 {
		out = "…" + out
	}
	if to < len(src) {
		out += "…"
	}
	return out
}

// filterToken is a word (a field name, a keyword, a value, or the text of
// a quoted value without escapes) or an operator of a filter pattern.
type filterToken struct {
	start, end int
	text       string
	kind       int
}

const (
	tokenWord = iota
	tokenOperator
)

type tokenEdit struct {
	t    filterToken
	with string
}

// filterTokens splits a pattern enough to repair it: quoted values and
// regular expressions are single tokens (a quoted value with an escape,
// and a regular expression, are never edited).
func filterTokens(src string) []filterToken {
	var out []filterToken
	word := func(c byte) bool {
		return c == '_' || c == '-' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '"':
			j := i + 1
			escaped := false
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					escaped = true
					j++
				}
				j++
			}
			if !escaped && j < len(src) {
				out = append(out, filterToken{i + 1, j, src[i+1 : j], tokenWord})
			}
			i = j + 1
		case c == '%':
			j := strings.IndexByte(src[i+1:], '%')
			if j < 0 {
				return out
			}
			i += j + 2
		case strings.HasPrefix(src[i:], "!=") || strings.HasPrefix(src[i:], "&&") || strings.HasPrefix(src[i:], "||"):
			out = append(out, filterToken{i, i + 2, src[i : i+2], tokenOperator})
			i += 2
		case c == '=':
			out = append(out, filterToken{i, i + 1, "=", tokenOperator})
			i++
		case word(c):
			j := i
			for j < len(src) && word(src[j]) {
				j++
			}
			out = append(out, filterToken{i, j, src[i:j], tokenWord})
			i = j
		default:
			i++
		}
	}
	return out
}

func applyEdits(src string, edits []tokenEdit) string {
	var b strings.Builder
	at := 0
	for _, e := range edits { // in source order
		b.WriteString(src[at:e.t.start])
		b.WriteString(e.with)
		at = e.t.end
	}
	b.WriteString(src[at:])
	return b.String()
}

// referenceSpellings maps each field name and string value of the
// reference events, lower-cased, to how CloudTrail spells it (the most
// used spelling first).
func referenceSpellings() map[string][]string {
	count := map[string]int{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, inner := range x {
				count[k]++
				walk(inner)
			}
		case []any:
			for _, inner := range x {
				walk(inner)
			}
		case string:
			count[x]++
		}
	}
	for _, e := range reference.Events() {
		var v any
		if json.Unmarshal(e.Record(""), &v) == nil {
			walk(v)
		}
	}
	out := map[string][]string{}
	for w := range count {
		out[strings.ToLower(w)] = append(out[strings.ToLower(w)], w)
	}
	for _, ws := range out {
		slices.SortFunc(ws, func(a, b string) int {
			if count[a] != count[b] {
				return count[b] - count[a]
			}
			return strings.Compare(a, b)
		})
	}
	return out
}

func cisExact(pattern string) bool {
	p, err := logfilter.Parse(pattern)
	if err != nil {
		return false
	}
	cis, _ := logfilter.Parse(CISRootFilter)
	return p.Canonical() == cis.Canonical()
}

func overMatches(pattern string) []string {
	p, err := logfilter.Parse(pattern)
	if err != nil {
		return nil
	}
	return judgeFilter(p).noise
}

// alarmsFor follows a filter's metric to alarms, actions and subscribers.
func alarmsFor(in Input, a *evidence.Account, region string, f evidence.MetricFilter, metric evidence.Metric, ev map[string]any) chain {
	ev = merge(ev, map[string]any{"metric": metric.Namespace + "/" + metric.Name})
	fail := func(link, format string, args ...any) chain {
		return chain{status: finding.StatusFail, link: link, ev: ev, message: fmt.Sprintf(format, args...)}
	}
	if c := monitoringProblem(a, evidence.SourceAlarms, "the alarms on metric "+metric.Name); c != nil {
		c.ev = merge(ev, c.ev)
		return *c
	}
	var ar *evidence.AlarmRegion
	for i := range a.Monitoring.Alarms {
		if a.Monitoring.Alarms[i].Region == region {
			ar = &a.Monitoring.Alarms[i]
		}
	}
	switch {
	case ar == nil:
		return chain{status: finding.StatusUnknown, link: linkAlarm, ev: ev, message: fmt.Sprintf("The alarms of region %s (where metric %s is published) were not read.", region, metric.Name)}
	case ar.Error != "":
		return chain{status: finding.StatusUnknown, link: linkAlarm, ev: ev, message: fmt.Sprintf("Cannot read the alarms of region %s: %s", region, ar.Error)}
	}
	var watching []evidence.Alarm
	var nameOnly []string
	for _, al := range ar.Alarms {
		for _, am := range al.Metrics {
			if am.Name == metric.Name && am.Namespace == metric.Namespace {
				watching = append(watching, al)
				break
			}
			if am.Name == metric.Name {
				nameOnly = append(nameOnly, fmt.Sprintf("%s watches %s in namespace %q", al.Name, am.Name, am.Namespace))
			}
		}
	}
	if len(watching) == 0 {
		msg := fmt.Sprintf("Metric filter %s counts root activity into %s/%s, but no alarm in %s watches that metric.", f.Name, metric.Namespace, metric.Name, region)
		if len(nameOnly) > 0 {
			msg += " Same name, other namespace: " + strings.Join(nameOnly, "; ") + "."
		}
		return fail(linkAlarm, "%s", msg)
	}
	best := fail(linkAlarmActions, "Alarm %s on %s/%s has its actions disabled: it changes state and tells no one.", watching[0].Name, metric.Namespace, metric.Name)
	for _, al := range watching {
		if !al.ActionsEnabled {
			continue
		}
		aev := merge(ev, map[string]any{"alarm": al.Name})
		var topics []string
		for _, act := range al.AlarmActions {
			if strings.Contains(act, ":sns:") {
				topics = append(topics, act)
			}
		}
		if len(topics) == 0 {
			best = better(best, chain{status: finding.StatusFail, link: linkTopicAction, ev: aev, message: fmt.Sprintf("Alarm %s has no SNS topic among its alarm actions, so no one is notified.", al.Name)})
			continue
		}
		for _, topic := range topics {
			best = better(best, topicChain(a, topic, al, aev))
		}
	}
	return best
}

func topicChain(a *evidence.Account, arn string, al evidence.Alarm, ev map[string]any) chain {
	ev = merge(ev, map[string]any{"topic": arn})
	if c := monitoringProblem(a, evidence.SourceSubscriptions, "the subscribers of "+arn); c != nil {
		c.ev = merge(ev, c.ev)
		return *c
	}
	for _, t := range a.Monitoring.Topics {
		if t.ARN != arn {
			continue
		}
		switch {
		case t.Error != "":
			return chain{status: finding.StatusUnknown, link: linkSubscriber, ev: ev, message: fmt.Sprintf("Cannot read the subscriptions of topic %s: %s", arn, t.Error)}
		case t.Confirmed == 0:
			ev["pending_subscriptions"] = t.Pending
			return chain{status: finding.StatusFail, link: linkSubscriber, ev: ev, message: fmt.Sprintf("Alarm %s notifies topic %s, which has no confirmed subscription (%d pending confirmation): the alert reaches no one.", al.Name, arn, t.Pending)}
		}
		ev["confirmed_subscriptions"] = t.Confirmed
		if len(t.Protocols) > 0 {
			ev["subscription_protocols"] = t.Protocols
		}
		return chain{status: finding.StatusPass, link: linkComplete, ev: ev, message: fmt.Sprintf("Alarm %s notifies topic %s with %s.", al.Name, arn, evidence.Count(t.Confirmed, "confirmed subscription"))}
	}
	return chain{status: finding.StatusUnknown, link: linkSubscriber, ev: ev, message: fmt.Sprintf("The subscriptions of topic %s were not read.", arn)}
}

// pairState is whether one reference event in one region reaches a rule.
type pairState struct {
	event, region string
	status        finding.Status
	by            string // the covering rule
	allEvents     bool   // the covering rule sees read-only calls too
	signIn        bool
	why           string
}

// eventBridgeCoverage checks that an enabled rule with a target matches the
// root sign-ins in us-east-1 and the root calls in every enabled region.
func eventBridgeCoverage(a *evidence.Account) (finding.Status, []pairState, string) {
	if c := monitoringProblem(a, evidence.SourceRegions, "which regions EventBridge rules must cover"); c != nil {
		return finding.StatusUnknown, nil, c.message
	}
	m := a.Monitoring
	if m.Regions == nil {
		return finding.StatusUnknown, nil, "the account's enabled regions are unknown"
	}
	var pairs []pairState
	for _, e := range reference.Of(reference.MustMatch) {
		regions := m.Regions
		if e.SignIn {
			regions = []string{"us-east-1"}
		}
		for _, r := range regions {
			pairs = append(pairs, coverPair(m, e, r))
		}
	}
	status := finding.StatusPass
	for _, p := range pairs {
		switch {
		case p.status == finding.StatusFail:
			status = finding.StatusFail
		case p.status == finding.StatusUnknown && status == finding.StatusPass:
			status = finding.StatusUnknown
		}
	}
	return status, pairs, ""
}

func coverPair(m *evidence.Monitoring, e reference.Event, region string) pairState {
	ps := pairState{event: e.Name, region: region, status: finding.StatusFail, signIn: e.SignIn}
	if !slices.Contains(m.Scanned, region) {
		ps.status, ps.why = finding.StatusUnknown, "region not scanned"
		return ps
	}
	var bus *evidence.EventBus
	for i := range m.EventBuses {
		if m.EventBuses[i].Region == region {
			bus = &m.EventBuses[i]
		}
	}
	switch {
	case bus == nil:
		ps.status, ps.why = finding.StatusUnknown, "rules not read"
		return ps
	case bus.Error != "":
		ps.status, ps.why = finding.StatusUnknown, bus.Error
		return ps
	}
	event := e.EventBridge(region)
	var notes []string
	for _, r := range bus.Rules {
		if r.Pattern == "" {
			continue // a scheduled rule
		}
		p, err := eventpattern.Parse(r.Pattern)
		if err != nil {
			notes = append(notes, fmt.Sprintf("rule %s has a pattern rootwatch cannot evaluate (%v)", r.Name, err))
			ps.status = finding.StatusUnknown
			continue
		}
		hit, _ := p.Match(event)
		if !hit {
			continue
		}
		if iam := matchesIAMUsers(p, region); iam != "" {
			notes = append(notes, fmt.Sprintf("rule %s also matches the %s, so it is not a root alert", r.Name, iam))
			continue
		}
		switch {
		case r.State == evidence.RuleDisabled || (r.State != evidence.RuleEnabled && r.State != evidence.RuleEnabledAllManagement):
			notes = append(notes, fmt.Sprintf("rule %s matches but is %s", r.Name, r.State))
		case r.TargetsError != "":
			notes = append(notes, fmt.Sprintf("the targets of rule %s cannot be read: %s", r.Name, r.TargetsError))
			ps.status = finding.StatusUnknown
		case len(r.Targets) == 0:
			notes = append(notes, fmt.Sprintf("rule %s matches but has no target", r.Name))
		default:
			if ps.by == "" || r.State == evidence.RuleEnabledAllManagement && !ps.allEvents {
				ps.by, ps.allEvents = r.Name, r.State == evidence.RuleEnabledAllManagement
			}
		}
	}
	if ps.by != "" {
		ps.status = finding.StatusPass
	}
	ps.why = strings.Join(notes, "; ")
	return ps
}

func matchesIAMUsers(p *eventpattern.Pattern, region string) string {
	for _, e := range reference.Of(reference.MustNotMatch) {
		if hit, _ := p.Match(e.EventBridge(region)); hit {
			return e.Name
		}
	}
	return ""
}

// guardDutyNote says where GuardDuty watches; a detector alone notifies no one.
func guardDutyNote(m *evidence.Monitoring) string {
	var on []string
	for _, g := range m.GuardDuty {
		for _, d := range g.Detectors {
			if d.Status == "ENABLED" {
				on = append(on, g.Region)
				break
			}
		}
	}
	if len(on) == 0 {
		return ""
	}
	return fmt.Sprintf("GuardDuty is enabled in %s (finding Policy:IAMUser/RootCredentialUsage), but a detector notifies no one unless its findings are routed", strings.Join(on, ", "))
}

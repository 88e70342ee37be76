package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/store"
)

func evidenceOf(ev map[string]any) func(string) any {
	return func(k string) any { return ev[k] }
}

// suppressionOf reads the suppression_* evidence keys the engine writes.
func suppressionOf(ev func(string) any, status finding.Status) *suppressed {
	reason, ok := ev("suppression_reason").(string)
	if !ok {
		return nil
	}
	s := &suppressed{Reason: reason, Status: status}
	s.Owner, _ = ev("suppression_owner").(string)
	if exp, ok := ev("suppression_expired").(string); ok {
		s.Expired = true
		s.Expires, _ = time.Parse(time.RFC3339, exp)
	} else if exp, ok := ev("suppression_expires").(string); ok {
		s.Expires, _ = time.Parse(time.RFC3339, exp)
	}
	if st, ok := ev("suppressed_status").(string); ok && !s.Expired {
		s.Status = finding.Status(st)
	}
	return s
}

// assessed says whether a run judged the account's evidence.
func assessed(a *finding.Account) bool {
	return a.Status == finding.AccountAssessed || a.Status == finding.AccountPartial
}

// index answers the Source questions from digests; Memory builds one
// once, StoreSource whenever the stored runs change.
type index struct {
	runs    []*digest // judged order: as-of, then id
	pos     map[int64]int
	stored  []store.RunInfo // newest stored first
	accts   []*accountRuns  // by ID
	byID    map[string]*accountRuns
	columns []Column
	// now are the accounts' matrix rows at their current state, as accts.
	now   []current
	trend []TrendPoint
	hasOU bool
}

// current is an account's matrix row and what its filters read.
type current struct {
	row Row // Cells as columns
	// rules says which cells the current run has (a finding, or the rule
	// turned off).
	rules   []bool
	failing int
}

// accountRuns are the positions (in index.runs) of the runs that held an
// account, and of those that assessed it.
type accountRuns struct {
	id             string
	info           AccountInfo
	held, assessed []int
}

func newIndex(ds []*digest) *index {
	x := &index{runs: slices.Clone(ds), pos: map[int64]int{}, byID: map[string]*accountRuns{}}
	slices.SortFunc(x.runs, func(a, b *digest) int {
		return cmp.Or(a.info.AsOf.Compare(b.info.AsOf), cmp.Compare(a.info.ID, b.info.ID))
	})
	for i, d := range x.runs {
		x.pos[d.info.ID] = i
		x.stored = append(x.stored, d.info)
		for _, id := range d.order {
			a := x.byID[id]
			if a == nil {
				a = &accountRuns{id: id}
				x.byID[id] = a
				x.accts = append(x.accts, a)
			}
			a.held = append(a.held, i)
			if assessed(d.account(id)) {
				a.assessed = append(a.assessed, i)
			}
			// The newest run that says something of the account names it:
			// a run that did not read names (one account) keeps the last.
			acc := d.account(id)
			a.info.ID = id
			if acc.Name != "" {
				a.info.Name = acc.Name
			}
			if acc.OUPath != "" {
				a.info.OUPath = acc.OUPath
				x.hasOU = true
			}
			if acc.Tags != nil {
				a.info.Tags = acc.Tags
			}
		}
	}
	slices.SortFunc(x.stored, func(a, b store.RunInfo) int { return cmp.Compare(b.ID, a.ID) })
	slices.SortFunc(x.accts, func(a, b *accountRuns) int { return strings.Compare(a.id, b.id) })
	x.columns = x.columnsOf()
	x.trend = x.buildTrend()
	x.now = make([]current, len(x.accts))
	for i, a := range x.accts {
		cs := cells(x.currentRun(a), a.id)
		c := current{row: x.row(a), rules: make([]bool, len(x.columns))}
		c.row.Cells = make([]Cell, len(x.columns))
		for k, col := range x.columns {
			cell, ok := cs[col.RuleID]
			c.row.Cells[k], c.rules[k] = cell, ok
			if cell.Status == finding.StatusFail {
				c.failing++
			}
		}
		x.now[i] = c
	}
	return x
}

// columnsOf lists the rules of the accounts' current findings, in catalog
// order, then rules no longer in the catalog by id.
func (x *index) columnsOf() []Column {
	seen := map[string]Column{}
	for _, a := range x.accts {
		d := x.currentRun(a)
		if d == nil {
			continue
		}
		for _, b := range d.findingsOf(a.id) {
			if _, ok := seen[b.RuleID]; !ok {
				seen[b.RuleID] = Column{RuleID: b.RuleID, Title: b.Title, Severity: b.Severity}
			}
		}
		for _, r := range d.disabled {
			if _, ok := seen[r.RuleID]; !ok {
				seen[r.RuleID] = Column{RuleID: r.RuleID, Title: r.Title, Severity: r.Severity}
			}
		}
	}
	return orderColumns(seen)
}

func orderColumns(seen map[string]Column) []Column {
	var out []Column
	for _, r := range rules.Catalog() {
		if c, ok := seen[r.ID]; ok {
			c.Title, c.Severity = r.Title, r.Severity
			out = append(out, c)
			delete(seen, r.ID)
		}
	}
	var rest []Column
	for _, c := range seen {
		rest = append(rest, c)
	}
	slices.SortFunc(rest, func(a, b Column) int { return strings.Compare(a.RuleID, b.RuleID) })
	return append(out, rest...)
}

// currentRun is the last run that assessed an account (nil: none did).
func (x *index) currentRun(a *accountRuns) *digest {
	if len(a.assessed) == 0 {
		return nil
	}
	return x.runs[a.assessed[len(a.assessed)-1]]
}

// current is an account's findings in the last run that assessed it.
func (x *index) current(a *accountRuns) []*brief {
	if d := x.currentRun(a); d != nil {
		return d.findingsOf(a.id)
	}
	return nil
}

// runAt is the last run at or before position p that assessed an account
// (nil: none did).
func (x *index) runAt(a *accountRuns, p int) *digest {
	i, found := slices.BinarySearch(a.assessed, p)
	if !found {
		i--
	}
	if i < 0 {
		return nil
	}
	return x.runs[a.assessed[i]]
}

func (x *index) latest() *digest {
	if len(x.runs) == 0 {
		return nil
	}
	return x.runs[len(x.runs)-1]
}

// worstRank orders the statuses a cell shows, worst first.
func worstRank(s finding.Status) int {
	switch s {
	case finding.StatusFail:
		return 0
	case finding.StatusError:
		return 1
	case finding.StatusUnknown:
		return 2
	case finding.StatusSuppressed:
		return 3
	case finding.StatusPass:
		return 4
	case finding.StatusNotApplicable:
		return 5
	}
	return 6
}

// cells folds an account's findings in a run into one cell per rule (the
// worst finding's), and marks the rules the run's configuration turned
// off. A nil run has no cells.
func cells(d *digest, account string) map[string]Cell {
	if d == nil {
		return map[string]Cell{}
	}
	bs := d.findingsOf(account)
	out := make(map[string]Cell, len(bs)+len(d.disabled))
	for _, b := range bs {
		c, ok := out[b.RuleID]
		if !ok || worstRank(b.Status) < worstRank(c.Status) {
			c.Status, c.Severity, c.Message = b.Status, b.Severity, b.Message
		}
		c.Findings++
		out[b.RuleID] = c
	}
	for _, r := range d.disabled {
		if _, ok := out[r.RuleID]; !ok {
			out[r.RuleID] = Cell{Status: StatusDisabled, Severity: r.Severity}
		}
	}
	return out
}

func (x *index) buildTrend() []TrendPoint {
	failing := map[string]int{}
	var findings, accounts int
	out := make([]TrendPoint, 0, len(x.runs))
	for _, d := range x.runs {
		here := 0
		for _, id := range d.order {
			if !assessed(d.account(id)) {
				continue
			}
			here++
			n := 0
			for _, b := range d.findingsOf(id) {
				if b.Status == finding.StatusFail {
					n++
				}
			}
			old := failing[id]
			findings += n - old
			if old > 0 && n == 0 {
				accounts--
			} else if old == 0 && n > 0 {
				accounts++
			}
			failing[id] = n
		}
		out = append(out, TrendPoint{RunID: d.info.ID, AsOf: d.info.AsOf, FailingFindings: findings, FailingAccounts: accounts, Carried: len(failing) - here})
	}
	return out
}

func (x *index) overview() Overview {
	o := Overview{Accounts: len(x.accts), Trend: x.trend, Counts: map[finding.Status]map[finding.Severity]int{}}
	d := x.latest()
	if d == nil {
		return o
	}
	info := d.info
	o.Latest = &info
	for b := range d.all() {
		if o.Counts[b.Status] == nil {
			o.Counts[b.Status] = map[finding.Severity]int{}
		}
		o.Counts[b.Status][b.Severity]++
	}
	for _, a := range d.accounts {
		if !assessed(a) {
			o.NotAssessed++
		}
	}
	return o
}

// row is an account's matrix row without its cells.
func (x *index) row(a *accountRuns) Row {
	r := Row{Account: a.info}
	latest := x.latest()
	if n := len(a.assessed); n > 0 {
		d := x.runs[a.assessed[n-1]]
		r.RunID, r.AsOf, r.Age, r.Current = d.info.ID, d.info.AsOf, latest.info.AsOf.Sub(d.info.AsOf), a.assessed[n-1] == len(x.runs)-1
	}
	last := x.runs[a.held[len(a.held)-1]]
	out := last.account(a.id)
	r.Outcome, r.Reason, r.LastRunID = out.Status, accountReason(out), last.info.ID
	return r
}

// accountReason says why an account was not (fully) assessed.
func accountReason(a *finding.Account) string {
	if a.Error != "" || a.Status != finding.AccountPartial {
		return a.Error
	}
	return "some evidence sources were not collected"
}

func (x *index) matrix(f Filter, p Page) (Matrix, error) {
	m := Matrix{Rules: x.columns, HasOU: x.hasOU, Rows: []Row{}}
	if d := x.latest(); d != nil {
		info := d.info
		m.Latest = &info
	}
	since := -1
	if f.ChangedSince != 0 {
		i, ok := x.pos[f.ChangedSince]
		if !ok {
			return Matrix{}, fmt.Errorf("run %d: %w", f.ChangedSince, ErrNotFound)
		}
		since = i
	}
	account, ou := strings.ToLower(f.Account), strings.ToLower(f.OU)
	cellFilter := len(f.Statuses) > 0 || len(f.Severities) > 0 || f.Rule != ""
	var rows []*current
	for i, a := range x.accts {
		if account != "" && !accountMatches(a.info, account) {
			continue
		}
		if ou != "" && !strings.HasPrefix(strings.ToLower(a.info.OUPath), ou) {
			continue
		}
		c := &x.now[i]
		if f.Stale && c.row.Current {
			continue
		}
		if cellFilter && !x.anyCell(c, f) {
			continue
		}
		if since >= 0 {
			now := cells(x.currentRun(a), a.id)
			before := x.runAt(a, since)
			if before != nil && sameStatuses(now, cells(before, a.id)) {
				continue
			}
			if before == nil && len(now) == 0 {
				continue
			}
		}
		rows = append(rows, c)
	}
	if f.Sort == "failing" {
		slices.SortStableFunc(rows, func(a, b *current) int { return cmp.Compare(b.failing, a.failing) })
	}
	m.Total = len(rows)
	start := min(max(p.Offset, 0), len(rows))
	end := len(rows)
	if p.Limit > 0 {
		end = min(start+p.Limit, len(rows))
	}
	for _, c := range rows[start:end] {
		r := c.row
		r.Cells = slices.Clone(r.Cells)
		m.Rows = append(m.Rows, r)
	}
	return m, nil
}

func accountMatches(a AccountInfo, q string) bool {
	if strings.Contains(a.ID, q) || strings.Contains(strings.ToLower(a.Name), q) {
		return true
	}
	for k, v := range a.Tags {
		if strings.Contains(strings.ToLower(k+"="+v), q) {
			return true
		}
	}
	return false
}

// anyCell says whether one of the cells the account's current run has
// meets the filter's cell conditions.
func (x *index) anyCell(c *current, f Filter) bool {
	for k, cell := range c.row.Cells {
		if c.rules[k] && cell.Status != StatusDisabled && (f.Rule == "" || f.Rule == x.columns[k].RuleID) && (len(f.Statuses) == 0 || slices.Contains(f.Statuses, cell.Status)) &&
			(len(f.Severities) == 0 || slices.Contains(f.Severities, cell.Severity)) {
			return true
		}
	}
	return false
}

func sameStatuses(a, b map[string]Cell) bool {
	if len(a) != len(b) {
		return false
	}
	for rule, c := range a {
		if d, ok := b[rule]; !ok || d.Status != c.Status {
			return false
		}
	}
	return true
}

// account builds the account page (findings worst first, then in catalog
// order); read reads whole the findings a stored run holds of an
// account.
func (x *index) account(ctx context.Context, id string, read func(ctx context.Context, run int64, account string) ([]finding.Finding, error)) (AccountView, error) {
	a := x.byID[id]
	if a == nil {
		return AccountView{}, fmt.Errorf("account %s: %w", id, ErrNotFound)
	}
	v := AccountView{Row: x.row(a), Latest: x.latest().info, Findings: []finding.Finding{}}
	if v.RunID != 0 {
		fs, err := read(ctx, v.RunID, id)
		if err != nil {
			return AccountView{}, err
		}
		v.Findings = append(v.Findings, fs...)
		order := map[string]int{}
		for i, r := range rules.Catalog() {
			order[r.ID] = i
		}
		slices.SortStableFunc(v.Findings, func(a, b finding.Finding) int {
			ia, oka := order[a.RuleID]
			ib, okb := order[b.RuleID]
			if !oka {
				ia = len(order)
			}
			if !okb {
				ib = len(order)
			}
			return cmp.Or(cmp.Compare(worstRank(a.Status), worstRank(b.Status)), cmp.Compare(ia, ib), strings.Compare(a.RuleID, b.RuleID), strings.Compare(a.Resource, b.Resource))
		})
	}
	seen := map[string]Column{}
	for _, p := range a.held {
		v.Timeline.Runs = append(v.Timeline.Runs, x.runs[p].info)
		for _, b := range x.runs[p].findingsOf(id) {
			seen[b.RuleID] = Column{RuleID: b.RuleID, Title: b.Title, Severity: b.Severity}
		}
		for _, r := range x.runs[p].disabled {
			if _, ok := seen[r.RuleID]; !ok {
				seen[r.RuleID] = Column{RuleID: r.RuleID, Title: r.Title, Severity: r.Severity}
			}
		}
	}
	for _, c := range orderColumns(seen) {
		row := TimelineRow{Column: c, Statuses: make([]finding.Status, len(a.held))}
		for i, p := range a.held {
			d := x.runs[p]
			if !assessed(d.account(id)) {
				row.Statuses[i] = StatusNotAssessed
				continue
			}
			row.Statuses[i] = cells(d, id)[c.RuleID].Status
		}
		v.Timeline.Rules = append(v.Timeline.Rules, row)
	}
	return v, nil
}

func (x *index) rule(id string) RuleView {
	v := RuleView{Counts: map[finding.Status]int{}, Failing: []Failure{}}
	for _, a := range x.accts {
		var worst *brief
		for _, b := range x.current(a) {
			if b.RuleID == id && (worst == nil || worstRank(b.Status) < worstRank(worst.Status)) {
				worst = b
			}
		}
		if worst == nil {
			continue
		}
		v.Counts[worst.Status]++
		if worst.Status == finding.StatusFail {
			v.Failing = append(v.Failing, Failure{Row: x.row(a), Since: worst.FirstSeen, Severity: worst.Severity, Message: worst.Message})
		}
	}
	slices.SortStableFunc(v.Failing, func(a, b Failure) int {
		return cmp.Or(b.Since.Compare(a.Since), strings.Compare(a.Account.ID, b.Account.ID))
	})
	return v
}

func (x *index) suppressions() []Suppression {
	out := []Suppression{}
	for _, a := range x.accts {
		if len(a.assessed) == 0 {
			continue
		}
		d := x.runs[a.assessed[len(a.assessed)-1]]
		for _, b := range d.findingsOf(a.id) {
			if b.Sup == nil {
				continue
			}
			out = append(out, Suppression{Account: a.info, RuleID: b.RuleID, Title: b.Title, Resource: b.Resource, Reason: b.Sup.Reason,
				Owner: b.Sup.Owner, Expires: b.Sup.Expires, Expired: b.Sup.Expired, Status: b.Sup.Status, RunID: d.info.ID, AsOf: d.info.AsOf})
		}
	}
	// Expired first, then the soonest to expire; those that never expire
	// last.
	slices.SortStableFunc(out, func(a, b Suppression) int {
		if a.Expired != b.Expired {
			if a.Expired {
				return -1
			}
			return 1
		}
		if a.Expires.IsZero() != b.Expires.IsZero() {
			if a.Expires.IsZero() {
				return 1
			}
			return -1
		}
		return cmp.Or(a.Expires.Compare(b.Expires), strings.Compare(a.Account.ID, b.Account.ID), strings.Compare(a.RuleID, b.RuleID))
	})
	return out
}

// info is a stored run's description; ok false when it is not stored.
func (x *index) info(id int64) (store.RunInfo, bool) {
	p, ok := x.pos[id]
	if !ok {
		return store.RunInfo{}, false
	}
	return x.runs[p].info, true
}

// diffRuns resolves Diff's defaults as 'rootwatch diff' does: to 0 is the
// newest stored run, from 0 the run of to's scope judged before it.
func (x *index) diffRuns(from, to int64) (store.RunInfo, store.RunInfo, error) {
	if to == 0 {
		if len(x.stored) == 0 {
			return store.RunInfo{}, store.RunInfo{}, fmt.Errorf("the store holds no run: %w", ErrNotFound)
		}
		to = x.stored[0].ID
	}
	toInfo, ok := x.info(to)
	if !ok {
		return store.RunInfo{}, store.RunInfo{}, fmt.Errorf("run %d: %w", to, ErrNotFound)
	}
	if from == 0 {
		for p := x.pos[to] - 1; p >= 0; p-- {
			if x.runs[p].info.Scope == toInfo.Scope {
				return x.runs[p].info, toInfo, nil
			}
		}
		return store.RunInfo{}, store.RunInfo{}, fmt.Errorf("run %d is the first of its scope (the same accounts and rules) in the store: %w; choose a run to compare it with", to, ErrNoEarlierRun)
	}
	fromInfo, ok := x.info(from)
	if !ok {
		return store.RunInfo{}, store.RunInfo{}, fmt.Errorf("run %d: %w", from, ErrNotFound)
	}
	return fromInfo, toInfo, nil
}

package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CloudTrail Lake (StartQuery, GetQueryResults, DescribeQuery,
// CancelQuery) over the account's trail: moto has no Lake. The fake is no
// SQL engine: it answers the query rootwatch writes (root events and
// AssumeRoot calls of the period, and per-account coverage), reading from
// the statement what that query varies: the event data store in FROM, the
// eventTime bounds, the account lists (in the root-events part:
// recipientAccountId, userIdentity.accountId and whether a root without
// accountId is asked for; in the coverage part: recipientAccountId),
// whether primary e-mail changes are asked for (by their predicate), and
// the columns of the first SELECT (paths into the record, map columns as
// JSON, literals and nulls). Anything else in the statement is not looked
// at.

// LakeSpec is the account's CloudTrail Lake event data store, holding the
// account's trail.
type LakeSpec struct {
	// Store is the event data store ID (default: fake-eds-ACCOUNT).
	Store string `yaml:"store"`
	// Polls is how many GetQueryResults calls see the query RUNNING.
	Polls int `yaml:"polls"`
	// Fail makes every query FAILED with this message.
	Fail string `yaml:"fail"`
	// Hang keeps every query RUNNING (to test timeouts).
	Hang bool `yaml:"hang"`
	// PageSize caps rows per page (default 1000).
	PageSize     int   `yaml:"page_size"`
	BytesScanned int64 `yaml:"bytes_scanned"`
}

type lakeQuery struct {
	statement string
	status    string
	polls     int
	rows      [][]map[string]string
	err       string
}

var (
	lakeFrom     = regexp.MustCompile(`(?i)\bFROM\s+([A-Za-z0-9-]+)`)
	lakeSince    = regexp.MustCompile(`eventTime >= '([^']+)'`)
	lakeUntil    = regexp.MustCompile(`eventTime <= '([^']+)'`)
	lakeAccounts = regexp.MustCompile(`recipientAccountId IN \(([^)]*)\)`)
	lakeActors   = regexp.MustCompile(`userIdentity\.accountId IN \(([^)]*)\)`)
	lakeColumn   = regexp.MustCompile(`^(.+) AS ([a-z_]+)$`)
	lakeJSON     = regexp.MustCompile(`^json_format\(CAST\((\w+) AS JSON\)\)$`)
	lakePath     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$`)
)

const lakeTime = "2006-01-02 15:04:05"

func (s *Server) lakeStore(a *Account) string {
	if a.Lake != nil && a.Lake.Store != "" {
		return a.Lake.Store
	}
	return "fake-eds-" + a.ID
}

func (s *Server) serveLake(w http.ResponseWriter, req request) {
	var in struct {
		QueryStatement string
		QueryId        string
		NextToken      string
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		s.writeJSONError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	a := req.acct.spec
	spec := LakeSpec{}
	if a.Lake != nil {
		spec = *a.Lake
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lake == nil {
		s.lake = map[string]*lakeQuery{}
	}
	switch req.op {
	case "StartQuery":
		m := lakeFrom.FindStringSubmatch(in.QueryStatement)
		if m == nil || m[1] != s.lakeStore(a) {
			s.writeJSONError(w, http.StatusBadRequest, "EventDataStoreNotFoundException", "The specified event data store was not found.")
			return
		}
		q := &lakeQuery{statement: in.QueryStatement, status: "RUNNING"}
		rows, err := s.lakeAnswer(a, in.QueryStatement)
		if err != nil {
			s.writeJSONError(w, http.StatusBadRequest, "InvalidQueryStatementException", err.Error())
			return
		}
		q.rows = rows
		id := fmt.Sprintf("fa4ec0de-%04d-4000-8000-%s", len(s.lake), a.ID)
		s.lake[id] = q
		s.writeJSON(w, map[string]any{"QueryId": id})
	case "GetQueryResults", "DescribeQuery":
		q := s.lake[in.QueryId]
		if q == nil {
			s.writeJSONError(w, http.StatusBadRequest, "QueryIdNotFoundException", "The query ID does not exist or does not map to a query.")
			return
		}
		if q.status == "RUNNING" && !spec.Hang {
			if q.polls >= spec.Polls {
				q.status = "FINISHED"
				if spec.Fail != "" {
					q.status, q.err = "FAILED", spec.Fail
				}
			}
			q.polls++
		}
		bytes := spec.BytesScanned
		if bytes == 0 {
			bytes = int64(len(q.statement)) * 1000
		}
		out := map[string]any{"QueryStatus": q.status}
		if q.err != "" {
			out["ErrorMessage"] = q.err
		}
		if req.op == "DescribeQuery" {
			out["QueryId"], out["QueryString"] = in.QueryId, q.statement
			out["QueryStatistics"] = map[string]any{"BytesScanned": bytes, "EventsMatched": len(q.rows), "EventsScanned": len(a.Trail)}
			s.writeJSON(w, out)
			return
		}
		out["QueryStatistics"] = map[string]any{"BytesScanned": bytes, "ResultsCount": 0, "TotalResultsCount": len(q.rows)}
		if q.status == "FINISHED" {
			size := spec.PageSize
			if size <= 0 {
				size = 1000
			}
			// Tokens are at least 4 characters (botocore checks).
			from, _ := strconv.Atoi(strings.TrimPrefix(in.NextToken, "page-"))
			to := min(from+size, len(q.rows))
			out["QueryResultRows"] = q.rows[from:to]
			out["QueryStatistics"].(map[string]any)["ResultsCount"] = to - from
			if to < len(q.rows) {
				out["NextToken"] = "page-" + strconv.Itoa(to)
			}
		}
		s.writeJSON(w, out)
	case "CancelQuery":
		q := s.lake[in.QueryId]
		if q == nil {
			s.writeJSONError(w, http.StatusBadRequest, "QueryIdNotFoundException", "The query ID does not exist or does not map to a query.")
			return
		}
		if q.status != "RUNNING" {
			s.writeJSONError(w, http.StatusBadRequest, "InactiveQueryException", "The specified query cannot be canceled because it is in the "+q.status+" state.")
			return
		}
		q.status = "CANCELLED"
		s.writeJSON(w, map[string]any{"QueryId": in.QueryId, "QueryStatus": "CANCELLED"})
	}
}

// lakeAnswer is the answer to rootwatch's query over the account's trail.
func (s *Server) lakeAnswer(a *Account, statement string) ([][]map[string]string, error) {
	first, _, ok := strings.Cut(statement, "\nFROM ")
	if !ok || !strings.HasPrefix(first, "SELECT ") {
		return nil, fmt.Errorf("the fake reads only rootwatch's statement: SELECT … FROM …")
	}
	var cols [][2]string // expression, alias
	for _, c := range strings.Split(strings.TrimPrefix(first, "SELECT "), ",\n") {
		for _, part := range strings.Split(c, ", ") {
			m := lakeColumn.FindStringSubmatch(strings.TrimSpace(part))
			if m == nil {
				return nil, fmt.Errorf("column %q: want EXPRESSION AS alias", part)
			}
			cols = append(cols, [2]string{m[1], m[2]})
		}
	}
	// The n-th bound of re: the first is the events part's, the second
	// the coverage part's.
	bound := func(re *regexp.Regexp, n int) (time.Time, bool) {
		m := re.FindAllStringSubmatch(statement, -1)
		if len(m) == 0 {
			return time.Time{}, false
		}
		t, err := time.Parse(lakeTime, m[min(n, len(m)-1)][1])
		return t, err == nil
	}
	since, hasSince := bound(lakeSince, 0)
	coverSince, hasCoverSince := bound(lakeSince, 1)
	until, hasUntil := bound(lakeUntil, 0)
	// The root-events part and the coverage part each narrow accounts on
	// their own.
	eventsPart, coveragePart, _ := strings.Cut(statement, "UNION ALL")
	list := func(re *regexp.Regexp, part string) ([]string, bool) {
		m := re.FindStringSubmatch(part)
		if m == nil {
			return nil, false
		}
		var accounts []string
		for _, q := range strings.Split(m[1], ",") {
			accounts = append(accounts, strings.Trim(strings.TrimSpace(q), "'"))
		}
		return accounts, true
	}
	recipients, byRecipient := list(lakeAccounts, eventsPart)
	actors, byActor := list(lakeActors, eventsPart)
	noActor := strings.Contains(eventsPart, "userIdentity.accountId IS NULL")
	emailAsked := strings.Contains(eventsPart, "eventName IN ('StartPrimaryEmailUpdate', 'AcceptPrimaryEmailUpdate') AND eventSource = 'account.amazonaws.com'")
	covered, coverNarrowed := list(lakeAccounts, coveragePart)
	rootAsked := func(recipient string, ui map[string]any) bool {
		if !byRecipient && !byActor {
			return true
		}
		actor := str(ui["accountId"])
		return byRecipient && slices.Contains(recipients, recipient) || byActor && slices.Contains(actors, actor) || noActor && actor == ""
	}
	evs, err := s.trailEvents(a)
	if err != nil {
		return nil, err
	}
	type cov struct {
		n           int
		first, last time.Time
	}
	covs := map[string]*cov{}
	var order []string
	var rows [][]map[string]string
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		var rec map[string]any
		if json.Unmarshal([]byte(evs[i].CloudTrailEvent), &rec) != nil {
			continue // Lake ingests only valid events
		}
		at, err := time.Parse(time.RFC3339, str(rec["eventTime"]))
		if err != nil || hasUntil && at.After(until) || hasCoverSince && at.Before(coverSince) {
			continue
		}
		recipient := str(rec["recipientAccountId"])
		if !coverNarrowed || slices.Contains(covered, recipient) {
			c := covs[recipient]
			if c == nil {
				c = &cov{first: at, last: at}
				covs[recipient] = c
				order = append(order, recipient)
			}
			c.n++
			c.first, c.last = minTime(c.first, at), maxTime(c.last, at)
		}
		if hasSince && at.Before(since) {
			continue // covered, not asked for
		}
		ui, _ := rec["userIdentity"].(map[string]any)
		root := strings.EqualFold(str(ui["type"]), "root") && rootAsked(recipient, ui)
		assumeRoot := str(rec["eventName"]) == "AssumeRoot" && strings.HasPrefix(strings.ToLower(str(rec["eventSource"])), "sts.")
		name := str(rec["eventName"])
		email := emailAsked && str(rec["eventSource"]) == "account.amazonaws.com" && (name == "StartPrimaryEmailUpdate" || name == "AcceptPrimaryEmailUpdate")
		if !root && !assumeRoot && !email {
			continue
		}
		var row []map[string]string
		for _, c := range cols {
			if v, ok := lakeValue(rec, c[0]); ok {
				row = append(row, map[string]string{c[1]: v})
			}
		}
		rows = append(rows, row)
	}
	for _, acct := range order {
		c := covs[acct]
		vals := map[string]string{"row_kind": "coverage", "recipient_account_id": acct, "events": strconv.Itoa(c.n),
			"first_event_time": c.first.Format(lakeTime + ".000"), "last_event_time": c.last.Format(lakeTime + ".000")}
		var row []map[string]string
		for _, col := range cols {
			if v, ok := vals[col[1]]; ok {
				row = append(row, map[string]string{col[1]: v})
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// lakeValue evaluates one column of the first SELECT on a record.
func lakeValue(rec map[string]any, expr string) (string, bool) {
	switch {
	case strings.HasPrefix(expr, "'") && strings.HasSuffix(expr, "'"):
		return strings.Trim(expr, "'"), true
	case expr == "CAST(NULL AS varchar)":
		return "", false
	case lakeJSON.MatchString(expr):
		m, ok := rec[lakeJSON.FindStringSubmatch(expr)[1]].(map[string]any)
		if !ok {
			return "", false
		}
		// Lake keeps these fields as map<string,string>: nested values
		// are JSON text.
		flat := map[string]string{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				flat[k] = s
			} else {
				b, _ := json.Marshal(v)
				flat[k] = string(b)
			}
		}
		b, _ := json.Marshal(flat)
		return string(b), true
	case lakePath.MatchString(expr):
		var v any = rec
		for _, p := range strings.Split(expr, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				return "", false
			}
			v = m[p]
		}
		switch x := v.(type) {
		case nil:
			return "", false
		case string:
			if expr == "eventTime" {
				if t, err := time.Parse(time.RFC3339, x); err == nil {
					return t.UTC().Format(lakeTime + ".000"), true
				}
			}
			return x, true
		default:
			b, _ := json.Marshal(x)
			return string(b), true
		}
	}
	return "", false
}

func str(v any) string { s, _ := v.(string); return s }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

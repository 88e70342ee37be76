package query

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
)

// LakeAPI lists the CloudTrail Lake calls the reader makes.
type LakeAPI interface {
	StartQuery(context.Context, *ctapi.StartQueryInput, ...func(*ctapi.Options)) (*ctapi.StartQueryOutput, error)
	GetQueryResults(context.Context, *ctapi.GetQueryResultsInput, ...func(*ctapi.Options)) (*ctapi.GetQueryResultsOutput, error)
	CancelQuery(context.Context, *ctapi.CancelQueryInput, ...func(*ctapi.Options)) (*ctapi.CancelQueryOutput, error)
}

// LakeStore is a parsed lake://EVENT_DATA_STORE (an ID or an ARN).
type LakeStore struct {
	// ID is what the SQL reads FROM; Region is the ARN's (empty for a
	// bare ID: the configured region).
	ID, ARN, Region string
}

func (s LakeStore) String() string { return "lake://" + s.ID }

// IsLake reports whether a path is a lake:// URI.
func IsLake(path string) bool { return strings.HasPrefix(path, "lake://") }

var (
	lakeID  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,127}$`)
	lakeARN = regexp.MustCompile(`^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):\d{12}:eventdatastore/([A-Za-z0-9][A-Za-z0-9-]{0,127})$`)
)

// ParseLake reads lake://EVENT_DATA_STORE_ID or lake://EVENT_DATA_STORE_ARN.
func ParseLake(uri string) (LakeStore, error) {
	rest, ok := strings.CutPrefix(uri, "lake://")
	if !ok || rest == "" {
		return LakeStore{}, fmt.Errorf("%q: want lake://EVENT_DATA_STORE_ID", uri)
	}
	if m := lakeARN.FindStringSubmatch(rest); m != nil {
		return LakeStore{ID: m[2], ARN: rest, Region: m[1]}, nil
	}
	if !lakeID.MatchString(rest) {
		return LakeStore{}, fmt.Errorf("%q: event data store %q: want its ID (letters, digits, '-') or its ARN", uri, rest)
	}
	return LakeStore{ID: rest}, nil
}

// LakeQuery is one CloudTrail Lake source.
type LakeQuery struct {
	Store  LakeStore
	Window Window
}

// lakeColumns are the event data store's fields for each answer column.
// Lake keeps requestParameters, responseElements and additionalEventData
// as maps of strings; they come back as JSON text and are rebuilt.
var lakeColumns = map[string]string{
	colTime: "eventTime", colSource: "eventSource", colName: "eventName", colRegion: "awsRegion",
	colIP: "sourceIPAddress", colAgent: "userAgent", colErrCode: "errorCode", colErrMessage: "errorMessage",
	colRequest:    "json_format(CAST(requestParameters AS JSON))",
	colResponse:   "json_format(CAST(responseElements AS JSON))",
	colAdditional: "json_format(CAST(additionalEventData AS JSON))",
	colEventID:    "eventID", colEventType: "eventType", colRecipient: "recipientAccountId", colShared: "sharedEventID",
	colType: "userIdentity.type", colPrincipal: "userIdentity.principalId", colARN: "userIdentity.arn",
	colAccount: "userIdentity.accountId", colInvokedBy: "userIdentity.invokedBy", colAccessKey: "userIdentity.accessKeyId",
	colUserName: "userIdentity.userName", colIssuerARN: "userIdentity.sessionContext.sessionIssuer.arn",
	colSourceIdent: "userIdentity.sessionContext.sourceIdentity",
	colAssumedRoot: "userIdentity.sessionContext.assumedRoot",
}

// lakeSQL builds the Lake statement: the same two parts as Athena's (root
// events with every AssumeRoot call and primary e-mail change; per-account
// coverage). Lake takes no
// parameters outside saved queries, so the only values in the text are
// timestamps the reader formats and account IDs checked to be 12 digits;
// the store ID is checked to be letters, digits and '-'.
func lakeSQL(s LakeStore, w Window) (string, error) {
	for _, a := range w.Accounts {
		if !evidence.ValidAccountID(a) {
			return "", fmt.Errorf("account %q is not a 12-digit account ID", a)
		}
	}
	var sel, cov []string
	for _, k := range eventColumns {
		sel = append(sel, lakeColumns[k]+" AS "+k)
		if k == colRecipient {
			cov = append(cov, "recipientAccountId")
		} else {
			cov = append(cov, "CAST(NULL AS varchar)")
		}
	}
	ts := func(t time.Time) string { return "'" + t.UTC().Format("2006-01-02 15:04:05") + "'" }
	period := func(since time.Time) []string {
		var p []string
		if !since.IsZero() {
			p = append(p, "eventTime >= "+ts(since))
		}
		return append(p, "eventTime <= "+ts(w.end()))
	}
	var in string
	if len(w.Accounts) > 0 {
		in = "recipientAccountId IN ('" + strings.Join(w.Accounts, "', '") + "')"
	}
	root := "lower(userIdentity.type) = 'root'"
	if in != "" {
		// Whose root acted, not only whose trail logged it (as Athena's).
		list := "('" + strings.Join(w.Accounts, "', '") + "')"
		root += "\n       AND (recipientAccountId IN " + list + " OR userIdentity.accountId IN " + list +
			"\n            OR userIdentity.accountId IS NULL OR userIdentity.accountId = '')"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT 'event' AS %s,\n       %s,\n       CAST(NULL AS varchar) AS %s, CAST(NULL AS varchar) AS %s, CAST(NULL AS varchar) AS %s\nFROM %s\nWHERE %s\n  AND ((%s)\n       OR (eventName = 'AssumeRoot' AND lower(eventSource) LIKE 'sts.%%')\n       OR (eventName IN ('StartPrimaryEmailUpdate', 'AcceptPrimaryEmailUpdate') AND eventSource = 'account.amazonaws.com'))\n",
		colKind, strings.Join(sel, ",\n       "), colEvents, colFirst, colLast, s.ID, strings.Join(period(w.Since), "\n  AND "), root)
	where := period(w.coverageSince())
	if in != "" {
		where = append(where, in)
	}
	fmt.Fprintf(&b, "UNION ALL\nSELECT 'coverage',\n       %s,\n       CAST(count(*) AS varchar), CAST(min(eventTime) AS varchar), CAST(max(eventTime) AS varchar)\nFROM %s\nWHERE %s\nGROUP BY recipientAccountId",
		strings.Join(cov, ", "), s.ID, strings.Join(where, "\n  AND "))
	return b.String(), nil
}

// Lake runs one CloudTrail Lake source: it starts the query, polls
// GetQueryResults with backoff until the query ends or the window's
// timeout passes (then cancels it), and reads every page. Any failure is
// the source's error: the CloudTrail rules are then unknown.
func Lake(ctx context.Context, c LakeAPI, q LakeQuery) ([]evidence.Event, evidence.SourceStats) {
	a := newAnswer(q.Store.String())
	sql, err := lakeSQL(q.Store, q.Window)
	if err != nil {
		return a.finish(q.Window, err)
	}
	info := &evidence.QueryInfo{Engine: "cloudtrail-lake", Statement: sql}
	a.stats.Query = info
	ctx, cancel := context.WithTimeout(ctx, q.Window.timeout())
	defer cancel()
	started, err := c.StartQuery(ctx, &ctapi.StartQueryInput{QueryStatement: aws.String(sql)})
	if err != nil {
		return a.finish(q.Window, fmt.Errorf("cloudtrail StartQuery: %s", awsx.Message(err)))
	}
	id := aws.ToString(started.QueryId)
	info.ID = id
	stop := func(cause error) error {
		return stopLeftRunning("cloudtrail lake query "+id, "cancelling", "cancelled", q.Window.timeout(), cause, func(ctx context.Context) error {
			_, err := c.CancelQuery(ctx, &ctapi.CancelQueryInput{QueryId: aws.String(id)})
			return err
		})
	}
	var token *string
	for n, page := 0, 0; ; {
		out, err := c.GetQueryResults(ctx, &ctapi.GetQueryResultsInput{QueryId: aws.String(id), NextToken: token})
		if err != nil {
			if ctx.Err() != nil {
				return a.finish(q.Window, stop(ctx.Err()))
			}
			return a.finish(q.Window, fmt.Errorf("cloudtrail GetQueryResults %s: %s", id, awsx.Message(err)))
		}
		if st := out.QueryStatistics; st != nil && st.BytesScanned != nil {
			info.BytesScanned = *st.BytesScanned
		}
		switch out.QueryStatus {
		case cttypes.QueryStatusFinished:
			page++
			for _, r := range out.QueryResultRows {
				a.add(lakeRow(r))
			}
			if out.NextToken == nil || *out.NextToken == "" {
				return a.finish(q.Window, nil)
			}
			token = out.NextToken
			continue
		case cttypes.QueryStatusFailed, cttypes.QueryStatusCancelled, cttypes.QueryStatusTimedOut:
			return a.finish(q.Window, fmt.Errorf("cloudtrail lake query %s %s: %s", id, strings.ToLower(string(out.QueryStatus)), aws.ToString(out.ErrorMessage)))
		}
		if page > 0 {
			return a.finish(q.Window, fmt.Errorf("cloudtrail lake query %s: page %d came back %s", id, page+1, out.QueryStatus))
		}
		if err := sleep(ctx, pollDelay(n)); err != nil {
			return a.finish(q.Window, stop(err))
		}
		n++
	}
}

// lakeRow turns Lake's row (one single-entry map per column) into a row,
// with the event time in CloudTrail's form and the map columns' JSON
// rebuilt: Lake keeps a nested object as JSON text inside the map.
func lakeRow(cells []map[string]string) row {
	r := row{}
	for _, cell := range cells {
		for k, v := range cell {
			r[strings.ToLower(k)] = v
		}
	}
	if t, ok := r[colTime]; ok {
		if parsed, err := parseQueryTime(t); err == nil {
			r[colTime] = parsed.Format(time.RFC3339Nano)
		}
	}
	for _, c := range []string{colRequest, colResponse, colAdditional} {
		if v, ok := r[c]; ok {
			r[c] = unnestJSON(v)
		}
	}
	return r
}

// unnestJSON replaces the string values of a JSON object that are
// themselves JSON objects or arrays with those values.
func unnestJSON(v string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(v), &m) != nil {
		return v
	}
	for k, raw := range m {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			continue
		}
		if t := bytes.TrimSpace([]byte(s)); len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t) {
			m[k] = json.RawMessage(t)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return v
	}
	return string(out)
}

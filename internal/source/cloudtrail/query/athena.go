package query

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
)

// AthenaAPI lists the Athena calls the reader makes.
type AthenaAPI interface {
	StartQueryExecution(context.Context, *athena.StartQueryExecutionInput, ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(context.Context, *athena.GetQueryExecutionInput, ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	GetQueryResults(context.Context, *athena.GetQueryResultsInput, ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
	StopQueryExecution(context.Context, *athena.StopQueryExecutionInput, ...func(*athena.Options)) (*athena.StopQueryExecutionOutput, error)
}

// GlueAPI is the Glue call the reader makes: the table's columns and
// partitions decide the SQL.
type GlueAPI interface {
	GetTable(context.Context, *glue.GetTableInput, ...func(*glue.Options)) (*glue.GetTableOutput, error)
}

// AthenaTable is a parsed athena://WORKGROUP/DATABASE.TABLE.
type AthenaTable struct {
	Workgroup, Database, Table string
}

func (t AthenaTable) String() string {
	return "athena://" + t.Workgroup + "/" + t.Database + "." + t.Table
}

// IsAthena reports whether a path is an athena:// URI.
func IsAthena(path string) bool { return strings.HasPrefix(path, "athena://") }

var (
	workgroupName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	// Athena's database, table and column names: lower-case letters,
	// digits and underscores. Nothing else reaches the SQL unquoted or
	// quoted: the names are checked, then written in double quotes.
	athenaName = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)
)

// ParseAthena reads athena://WORKGROUP/DATABASE.TABLE.
func ParseAthena(uri string) (AthenaTable, error) {
	rest, ok := strings.CutPrefix(uri, "athena://")
	wg, dt, ok2 := strings.Cut(rest, "/")
	db, tbl, ok3 := strings.Cut(dt, ".")
	if !ok || !ok2 || !ok3 {
		return AthenaTable{}, fmt.Errorf("%q: want athena://WORKGROUP/DATABASE.TABLE", uri)
	}
	t := AthenaTable{Workgroup: wg, Database: strings.ToLower(db), Table: strings.ToLower(tbl)}
	if !workgroupName.MatchString(t.Workgroup) {
		return AthenaTable{}, fmt.Errorf("%q: workgroup %q: want 1 to 128 letters, digits, '.', '_' or '-'", uri, wg)
	}
	for _, n := range []struct{ what, name string }{{"database", t.Database}, {"table", t.Table}} {
		if !athenaName.MatchString(n.name) {
			return AthenaTable{}, fmt.Errorf("%q: %s name %q: Athena names hold only letters, digits and '_'", uri, n.what, n.name)
		}
	}
	return t, nil
}

// AthenaQuery is one Athena source.
type AthenaQuery struct {
	Table AthenaTable
	// Output is the s3:// location for the query's results (empty: the
	// workgroup's).
	Output string
	Window Window
}

// athenaSchema is what the reader needs to know of a table.
type athenaSchema struct {
	columns map[string]*hiveType
	// dateKey is the partition column of the log files' delivery day
	// (dateFormat, a Go layout); accountKey the partition of the account.
	dateKey, dateFormat, accountKey string
	notes                           []string
}

// needed are the columns the classifier reads, as paths into the table.
// optional ones are null when the table lacks them.
var athenaColumns = map[string]struct {
	path     string
	optional bool
}{
	colTime: {path: "eventtime"}, colSource: {path: "eventsource"}, colName: {path: "eventname"},
	colRegion: {path: "awsregion"}, colIP: {path: "sourceipaddress"}, colAgent: {path: "useragent"},
	colErrCode: {path: "errorcode"}, colErrMessage: {path: "errormessage"},
	colRequest: {path: "requestparameters"}, colResponse: {path: "responseelements"}, colAdditional: {path: "additionaleventdata"},
	colEventID: {path: "eventid"}, colEventType: {path: "eventtype"}, colRecipient: {path: "recipientaccountid"},
	// Tables made before sharedEventID was documented lack it: copies of a
	// cross-account call are then told apart only by their records.
	colShared: {path: "sharedeventid", optional: true},
	colType:   {path: "useridentity.type"}, colPrincipal: {path: "useridentity.principalid"}, colARN: {path: "useridentity.arn"},
	colAccount: {path: "useridentity.accountid"}, colInvokedBy: {path: "useridentity.invokedby"},
	colAccessKey: {path: "useridentity.accesskeyid"}, colUserName: {path: "useridentity.username"},
	colIssuerARN: {path: "useridentity.sessioncontext.sessionissuer.arn"},
	// Not in the documented table: without them, a centralized-root
	// session is told by its AssumeRoot call.
	colSourceIdent: {path: "useridentity.sessioncontext.sourceidentity", optional: true},
	colAssumedRoot: {path: "useridentity.sessioncontext.assumedroot", optional: true},
}

// jsonColumns hold a record's nested JSON as text: a table that declares
// them otherwise has lost what the classifier reads.
var jsonColumns = []string{"requestparameters", "responseelements", "additionaleventdata"}

// schemaOf reads the table's columns and partitions from Glue and checks
// that it holds what the classifier needs.
func schemaOf(ctx context.Context, g GlueAPI, t AthenaTable) (*athenaSchema, error) {
	out, err := g.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(t.Database), Name: aws.String(t.Table)})
	if err != nil {
		return nil, fmt.Errorf("glue GetTable %s.%s: %s", t.Database, t.Table, awsx.Message(err))
	}
	if out.Table == nil || out.Table.StorageDescriptor == nil {
		return nil, fmt.Errorf("glue GetTable %s.%s: the table has no columns", t.Database, t.Table)
	}
	s := &athenaSchema{columns: map[string]*hiveType{}}
	for _, c := range out.Table.StorageDescriptor.Columns {
		ht, err := parseHiveType(aws.ToString(c.Type))
		if err != nil {
			return nil, fmt.Errorf("table %s.%s, column %s: %v", t.Database, t.Table, aws.ToString(c.Name), err)
		}
		s.columns[strings.ToLower(aws.ToString(c.Name))] = ht
	}
	var missing []string
	for _, k := range eventColumns {
		c := athenaColumns[k]
		if !c.optional && s.lookup(c.path) == nil {
			missing = append(missing, c.path)
		}
	}
	for _, c := range jsonColumns {
		if ht := s.columns[c]; ht != nil && ht.kind != "string" {
			missing = append(missing, fmt.Sprintf("%s as a string (it is %s)", c, ht.text))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("table %s.%s lacks columns the root-activity rules need: %s (create it with the CloudTrail table Athena documents)",
			t.Database, t.Table, strings.Join(missing, ", "))
	}
	params := out.Table.Parameters
	for _, pk := range out.Table.PartitionKeys {
		name := strings.ToLower(aws.ToString(pk.Name))
		if !athenaName.MatchString(name) {
			continue
		}
		ptype := strings.ToLower(params["projection."+name+".type"])
		switch {
		case s.dateKey == "" && (ptype == "date" || (ptype == "" && slices.Contains([]string{"timestamp", "date", "dt", "day"}, name))):
			format := params["projection."+name+".format"]
			if format == "" {
				format = "yyyy/MM/dd" // the delivery folders' layout
			}
			layout, ok := javaDateLayout(format)
			if !ok {
				s.notes = append(s.notes, fmt.Sprintf("partition %s has the date format %q, which rootwatch does not write: the query reads every day", name, format))
				continue
			}
			s.dateKey, s.dateFormat = name, layout
		case s.accountKey == "" && slices.Contains([]string{"account", "accountid", "account_id"}, name):
			s.accountKey = name
		}
	}
	if s.dateKey == "" {
		s.notes = append(s.notes, "the table has no date partition: the query reads all of it")
	}
	return s, nil
}

// javaDateLayout turns a partition projection's date format (Java's
// DateTimeFormatter letters) into a Go layout, for yyyy, MM and dd with
// '/', '-' or '_' between them.
func javaDateLayout(f string) (string, bool) {
	r := strings.NewReplacer("yyyy", "2006", "MM", "01", "dd", "02")
	layout := r.Replace(f)
	for _, c := range layout {
		if !strings.ContainsRune("0123456789/-_", c) {
			return "", false
		}
	}
	return layout, strings.Contains(layout, "2006") && strings.Contains(layout, "01") && strings.Contains(layout, "02")
}

// lookup finds a column or a field inside struct columns (a.b.c).
func (s *athenaSchema) lookup(path string) *hiveType {
	parts := strings.Split(path, ".")
	t := s.columns[parts[0]]
	for _, p := range parts[1:] {
		if t == nil || t.kind != "struct" {
			return nil
		}
		t = t.fields[p]
	}
	return t
}

// athenaSQL builds the statement and its execution parameters. Every value
// is a parameter (Athena's ExecutionParameters, SQL literals the reader
// writes from dates and checked account IDs); the only names in the text
// are the checked database, table and partition names, in double quotes.
//
// Two parts share one statement: the root events in the window (any
// casing of type Root, as the classifier reads it) with every AssumeRoot
// call and every primary e-mail change of any account (made in the
// management account, they name a member's session or address), and, per recipient account, the number of events and the
// first and last event time: what the table shows of the account, so that
// an empty answer is told from a table that holds nothing for it. The
// coverage part starts a day early, so that it can show the window's
// start covered (as a log file read whole does).
func athenaSQL(t AthenaTable, s *athenaSchema, w Window) (string, []string) {
	var sel []string
	for _, k := range eventColumns {
		c := athenaColumns[k]
		expr := "CAST(NULL AS varchar)"
		if s.lookup(c.path) != nil {
			expr = c.path
		}
		sel = append(sel, expr+" AS "+k)
	}
	var cov []string
	for _, k := range eventColumns {
		if k == colRecipient {
			cov = append(cov, "recipientaccountid")
		} else {
			cov = append(cov, "CAST(NULL AS varchar)")
		}
	}
	from := fmt.Sprintf(`"%s"."%s"`, t.Database, t.Table)

	var params []string
	lit := func(v string) string { params = append(params, "'"+v+"'"); return "?" }
	pruning := func(since time.Time) []string {
		var p []string
		if s.dateKey != "" {
			if !since.IsZero() {
				p = append(p, fmt.Sprintf(`"%s" >= %s`, s.dateKey, lit(since.UTC().Format(s.dateFormat))))
			}
			// Files are filed by delivery time, up to about 15 minutes
			// after their events: one day past the end.
			p = append(p, fmt.Sprintf(`"%s" <= %s`, s.dateKey, lit(w.end().Add(24*time.Hour).Format(s.dateFormat))))
		}
		return p
	}
	list := func() string {
		var qs []string
		for _, a := range w.Accounts {
			qs = append(qs, lit(a))
		}
		return "(" + strings.Join(qs, ", ") + ")"
	}
	// in writes the coverage part's account predicate: the account
	// partition (pruning) and the recipient account (what the events say).
	in := func() []string {
		var p []string
		if s.accountKey != "" {
			p = append(p, fmt.Sprintf(`"%s" IN %s`, s.accountKey, list()))
		}
		return append(p, "recipientaccountid IN "+list())
	}

	var b strings.Builder
	// Root events.
	fmt.Fprintf(&b, "SELECT 'event' AS %s,\n       %s,\n       CAST(NULL AS varchar) AS %s, CAST(NULL AS varchar) AS %s, CAST(NULL AS varchar) AS %s\nFROM %s\nWHERE ",
		colKind, strings.Join(sel, ",\n       "), colEvents, colFirst, colLast, from)
	where := pruning(w.Since)
	root := "lower(useridentity.type) = 'root'"
	if len(w.Accounts) > 0 {
		// Whose root acted, not only whose trail logged it: another
		// account's trail (and partition) holds a root's calls on that
		// account's resources, so this part is not pruned to the
		// accounts' partitions. A root record without accountId is asked
		// for too: its ARN names the account.
		root += fmt.Sprintf("\n       AND (recipientaccountid IN %s OR useridentity.accountid IN %s\n            OR useridentity.accountid IS NULL OR useridentity.accountid = '')",
			list(), list())
	}
	where = append(where, "(("+root+")\n       OR (eventname = 'AssumeRoot' AND lower(eventsource) LIKE 'sts.%')"+
		"\n       OR (eventname IN ('StartPrimaryEmailUpdate', 'AcceptPrimaryEmailUpdate') AND eventsource = 'account.amazonaws.com'))")
	b.WriteString(strings.Join(where, "\n  AND "))
	// Coverage.
	fmt.Fprintf(&b, "\nUNION ALL\nSELECT 'coverage',\n       %s,\n       CAST(count(*) AS varchar), min(eventtime), max(eventtime)\nFROM %s\n",
		strings.Join(cov, ", "), from)
	where = pruning(w.coverageSince())
	if len(w.Accounts) > 0 {
		where = append(where, in()...)
	}
	if len(where) > 0 {
		b.WriteString("WHERE " + strings.Join(where, "\n  AND ") + "\n")
	}
	b.WriteString("GROUP BY recipientaccountid")
	return b.String(), params
}

// Athena runs one Athena source: it checks the table, starts the query,
// polls it with backoff until it ends or the window's timeout passes
// (then stops it), and reads every page of the answer. Any failure is the
// source's error: the CloudTrail rules are then unknown, never passed.
func Athena(ctx context.Context, c AthenaAPI, g GlueAPI, q AthenaQuery) ([]evidence.Event, evidence.SourceStats) {
	a := newAnswer(q.Table.String())
	schema, err := schemaOf(ctx, g, q.Table)
	if err != nil {
		return a.finish(q.Window, err)
	}
	sql, params := athenaSQL(q.Table, schema, q.Window)
	info := &evidence.QueryInfo{Engine: "athena", Statement: sql, Parameters: params, Notes: schema.notes}
	if schema.accountKey != "" && len(q.Window.Accounts) > 0 {
		info.Notes = append(slices.Clip(info.Notes), fmt.Sprintf("the root events are read from every account's partition %q: another account's trail holds a root's calls on its resources; the coverage is read from the accounts' own", schema.accountKey))
	}
	a.stats.Query = info
	in := &athena.StartQueryExecutionInput{
		QueryString:           aws.String(sql),
		ExecutionParameters:   params,
		WorkGroup:             aws.String(q.Table.Workgroup),
		QueryExecutionContext: &athenatypes.QueryExecutionContext{Database: aws.String(q.Table.Database)},
	}
	if q.Output != "" {
		in.ResultConfiguration = &athenatypes.ResultConfiguration{OutputLocation: aws.String(q.Output)}
	}
	ctx, cancel := context.WithTimeout(ctx, q.Window.timeout())
	defer cancel()
	started, err := c.StartQueryExecution(ctx, in)
	if err != nil {
		return a.finish(q.Window, fmt.Errorf("athena StartQueryExecution: %s", awsx.Message(err)))
	}
	id := aws.ToString(started.QueryExecutionId)
	info.ID = id
	for n := 0; ; n++ {
		out, err := c.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err == nil && out.QueryExecution != nil {
			qe := out.QueryExecution
			if qe.Statistics != nil {
				info.BytesScanned = aws.ToInt64(qe.Statistics.DataScannedInBytes)
			}
			if qe.Status != nil {
				switch qe.Status.State {
				case athenatypes.QueryExecutionStateSucceeded:
					return a.finish(q.Window, athenaResults(ctx, c, id, a))
				case athenatypes.QueryExecutionStateFailed, athenatypes.QueryExecutionStateCancelled:
					why := aws.ToString(qe.Status.StateChangeReason)
					if e := qe.Status.AthenaError; e != nil && aws.ToString(e.ErrorMessage) != "" && why == "" {
						why = aws.ToString(e.ErrorMessage)
					}
					return a.finish(q.Window, fmt.Errorf("athena query %s %s: %s", id, strings.ToLower(string(qe.Status.State)), why))
				}
			}
		}
		if err == nil {
			err = sleep(ctx, pollDelay(n))
		}
		if err != nil {
			return a.finish(q.Window, stopLeftRunning("athena query "+id, "stopping", "stopped", q.Window.timeout(), err, func(ctx context.Context) error {
				_, err := c.StopQueryExecution(ctx, &athena.StopQueryExecutionInput{QueryExecutionId: aws.String(id)})
				return err
			}))
		}
	}
}

// athenaResults reads every page of a finished query. The first row of
// the first page is the header Athena adds: columns are found by name.
func athenaResults(ctx context.Context, c AthenaAPI, id string, a *answer) error {
	p := athena.NewGetQueryResultsPaginator(c, &athena.GetQueryResultsInput{QueryExecutionId: aws.String(id), MaxResults: aws.Int32(1000)})
	var names []string
	first := true
	for page := 1; p.HasMorePages(); page++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("athena GetQueryResults %s, page %d: %s", id, page, awsx.Message(err))
		}
		if out.ResultSet == nil {
			continue
		}
		if names == nil {
			names = columnNames(out.ResultSet.ResultSetMetadata)
		}
		for _, r := range out.ResultSet.Rows {
			vals := make([]*string, len(r.Data))
			for i, d := range r.Data {
				vals[i] = d.VarCharValue
			}
			if first {
				first = false
				if isHeader(vals, names) {
					continue
				}
			}
			a.add(rowOf(names, vals))
		}
	}
	return nil
}

// columnNames are the answer's column names, or the statement's own order
// when the metadata does not name them all.
func columnNames(md *athenatypes.ResultSetMetadata) []string {
	want := append([]string{colKind}, append(slices.Clone(eventColumns), coverageColumns...)...)
	if md == nil || len(md.ColumnInfo) != len(want) {
		return want
	}
	var names []string
	for _, ci := range md.ColumnInfo {
		names = append(names, strings.ToLower(aws.ToString(ci.Name)))
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			return want
		}
	}
	return names
}

func isHeader(vals []*string, names []string) bool {
	if len(vals) != len(names) {
		return false
	}
	for i, v := range vals {
		if v == nil || strings.ToLower(*v) != names[i] {
			return false
		}
	}
	return true
}

func rowOf(names []string, vals []*string) row {
	r := row{}
	for i, v := range vals {
		if i < len(names) && v != nil {
			r[names[i]] = *v
		}
	}
	return r
}

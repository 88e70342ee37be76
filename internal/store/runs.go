package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/store/runcodec"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// querier is a database, a connection or a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// chunk is how many keys one IN list holds (a statement takes a bounded
// number of parameters).
const chunk = 500

// inChunks runs a query over keys a chunk at a time: query is given the
// chunk's placeholders, whose arguments come before extra; scanRow reads
// each row.
func inChunks[K any](ctx context.Context, s *sqlStore, q querier, keys []K, query func(in string) string, extra []any, scanRow func(*sql.Rows) error) error {
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		args := make([]any, 0, len(part)+len(extra))
		for _, k := range part {
			args = append(args, k)
		}
		rows, err := q.QueryContext(ctx, s.q(query(placeholders(len(part)))), append(args, extra...)...)
		if err != nil {
			return fmt.Errorf("store %s: %w", s.name, err)
		}
		for rows.Next() {
			if err := scanRow(rows); err != nil {
				rows.Close()
				return fmt.Errorf("store %s: %w", s.name, err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store %s: %w", s.name, err)
		}
	}
	return nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// byChunks is inChunks over fingerprints, on the database.
func (s *sqlStore) byChunks(ctx context.Context, fingerprints []string, query func(in string) string, extra []any, scanRow func(*sql.Rows) error) error {
	return inChunks(ctx, s, s.db, fingerprints, query, extra, scanRow)
}

// readTx is a read-only transaction: one consistent view of the store for
// reads that take several queries, while writers go on.
func (s *sqlStore) readTx(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	return tx, nil
}

func (s *sqlStore) save(ctx context.Context, run *finding.Run, scope string, unique bool) (RunInfo, error) {
	raw, err := runcodec.FromRun(run)
	if err != nil {
		return RunInfo{}, err
	}
	lay := runcodec.LayOut(raw)
	sum, _ := json.Marshal(run.Summary)
	info := RunInfo{Scope: scope, GeneratedAt: run.GeneratedAt.UTC(), AsOf: run.AsOf.UTC(), StoredAt: time.Now().UTC(),
		ToolVersion: run.Tool.Version, Accounts: len(run.Accounts), Summary: run.Summary}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return RunInfo{}, err
	}
	defer tx.end()
	if unique {
		if s.postgres {
			// Two imports of one file at once: one waits for the other
			// (SQLite's write lock already does this).
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('rootwatch runs import'))`); err != nil {
				return RunInfo{}, fmt.Errorf("store %s: %w", s.name, s.lockErr(err))
			}
		}
		var id int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM runs WHERE scope = ? AND as_of = ? AND generated_at = ? ORDER BY id LIMIT 1`),
			scope, fmtTime(info.AsOf), fmtTime(info.GeneratedAt)).Scan(&id)
		if err == nil {
			return RunInfo{}, &DuplicateError{ID: id}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return RunInfo{}, fmt.Errorf("store %s: %w", s.name, err)
		}
	}
	err = tx.QueryRowContext(ctx, s.q(`INSERT INTO runs (scope, generated_at, as_of, stored_at, tool_version, accounts, summary, frame, finding_order)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		scope, fmtTime(info.GeneratedAt), fmtTime(info.AsOf), fmtTime(info.StoredAt), info.ToolVersion, info.Accounts, string(sum), string(raw.Frame), nullBytes(lay.Order)).Scan(&info.ID)
	if err != nil {
		return RunInfo{}, fmt.Errorf("store %s: save run: %w", s.name, s.lockErr(err))
	}
	if err := s.writeFingerprints(ctx, tx, raw, info.AsOf); err != nil {
		return RunInfo{}, err
	}
	if err := s.writeParts(ctx, tx, info.ID, info.AsOf, raw, lay); err != nil {
		return RunInfo{}, err
	}
	if s.afterFindings != nil {
		s.afterFindings()
	}
	if err := tx.Commit(); err != nil {
		return RunInfo{}, fmt.Errorf("store %s: commit: %w", s.name, s.lockErr(err))
	}
	return info, nil
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// writeFingerprints records each fingerprint's first as-of time. Only a
// run judged earlier than the store knew changes a row; the others are
// left as they are, but locked until the commit, in fingerprint order so
// that two writers never wait on each other in a circle.
func (s *sqlStore) writeFingerprints(ctx context.Context, q querier, raw *runcodec.Doc, asOf time.Time) error {
	fs := make([]*runcodec.Facts, 0, len(raw.Facts))
	seen := map[string]bool{}
	for i := range raw.Facts {
		if f := &raw.Facts[i]; !seen[f.Fingerprint] {
			seen[f.Fingerprint] = true
			fs = append(fs, f)
		}
	}
	slices.SortFunc(fs, func(a, b *runcodec.Facts) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	at := fmtTime(asOf)
	for start := 0; start < len(fs); start += batch {
		var rows []string
		var args []any
		for _, f := range fs[start:min(start+batch, len(fs))] {
			rows = append(rows, "(?, ?, ?, ?, ?)")
			args = append(args, f.Fingerprint, f.RuleID, f.AccountID, f.Resource, at)
		}
		if _, err := q.ExecContext(ctx, s.q(`INSERT INTO fingerprints (fingerprint, rule_id, account_id, resource, first_seen) VALUES `+strings.Join(rows, ", ")+`
			ON CONFLICT (fingerprint) DO UPDATE SET first_seen = excluded.first_seen WHERE excluded.first_seen < fingerprints.first_seen`), args...); err != nil {
			return fmt.Errorf("store %s: save fingerprints: %w", s.name, s.lockErr(err))
		}
	}
	return nil
}

// versionTable describes finding_versions or account_versions: the
// columns a version has besides hash, as_of, slots and body.
type versionTable struct {
	name  string
	kind  byte
	cols  []string
	fixed map[string]bool
}

var (
	findingVersions = versionTable{"finding_versions", 'f', []string{"fingerprint", "rule_id", "account_id", "resource", "status", "severity", "first_seen"}, runcodec.FindingFixed}
	accountVersions = versionTable{"account_versions", 'a', []string{"account_id", "status"}, runcodec.AccountFixed}
)

// writeParts stores what the run holds: the versions the store does not
// have yet, and one run_accounts row per layout row with its references.
func (s *sqlStore) writeParts(ctx context.Context, q querier, runID int64, asOf time.Time, raw *runcodec.Doc, lay runcodec.Layout) error {
	fparts := make([]runcodec.Part, len(raw.Findings))
	changes := make([]string, len(raw.Findings))
	for i, b := range raw.Findings {
		body, change := runcodec.CutChange(b)
		fparts[i], changes[i] = runcodec.NewPart(findingVersions.kind, body, findingVersions.fixed), change
	}
	aparts := make([]runcodec.Part, len(raw.Accounts))
	for i, b := range raw.Accounts {
		aparts[i] = runcodec.NewPart(accountVersions.kind, b, accountVersions.fixed)
	}
	fv, err := s.versions(ctx, q, findingVersions, fparts, asOf, func(i int) []any {
		f := raw.Facts[i]
		var first any
		if f.FirstSeen != nil {
			first = fmtTime(*f.FirstSeen)
		}
		return []any{f.Fingerprint, f.RuleID, f.AccountID, f.Resource, f.Status, f.Severity, first}
	}, nil)
	if err != nil {
		return err
	}
	acct := func(i int) string { return raw.AccountIDs[i] }
	av, err := s.versions(ctx, q, accountVersions, aparts, asOf, func(i int) []any { return []any{raw.AccountIDs[i], raw.AccountStatus[i]} }, acct)
	if err != nil {
		return err
	}
	refTo := func(v *runcodec.Version, p runcodec.Part, change string, raw []byte, what string) (runcodec.Ref, error) {
		exc, err := runcodec.Exceptions(v, p, asOf)
		if err == nil {
			var back []byte
			if back, err = runcodec.Apply(v, exc, asOf); err == nil && !bytes.Equal(runcodec.WithChange(back, change), raw) {
				err = fmt.Errorf("version %d does not write it back as it was", v.ID)
			}
		}
		if err != nil {
			return runcodec.Ref{}, fmt.Errorf("store %s: %s: %w", s.name, what, err)
		}
		return runcodec.Ref{ID: v.ID, Exc: exc, Change: change}, nil
	}
	var rows []string
	var args []any
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		_, err := q.ExecContext(ctx, s.q(`INSERT INTO run_accounts (run_id, seq, account_id, status, findings, failing, refs) VALUES `+strings.Join(rows, ", ")), args...)
		rows, args = rows[:0], args[:0]
		if err != nil {
			return fmt.Errorf("store %s: save findings: %w", s.name, s.lockErr(err))
		}
		return nil
	}
	for seq, r := range lay.Rows {
		var rr runcodec.Row
		if r.Account >= 0 {
			p := aparts[r.Account]
			if rr.Account, err = refTo(av[p.Hash], p, "", raw.Accounts[r.Account], "account "+r.AccountID); err != nil {
				return err
			}
		}
		for _, j := range r.Findings {
			p := fparts[j]
			fr, err := refTo(fv[p.Hash], p, changes[j], raw.Findings[j], fmt.Sprintf("finding %s of account %s", raw.Facts[j].RuleID, r.AccountID))
			if err != nil {
				return err
			}
			rr.Findings = append(rr.Findings, fr)
		}
		failing := 0
		for _, j := range r.Findings {
			if raw.Facts[j].Status == string(finding.StatusFail) {
				failing++
			}
		}
		rows = append(rows, "(?, ?, ?, ?, ?, ?, ?)")
		args = append(args, runID, seq, r.AccountID, r.Status, len(r.Findings), failing, runcodec.EncodeRow(rr))
		if len(rows) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// versions finds or inserts the version of each part, by its template's
// hash. A version another writer inserts meanwhile is read back.
func (s *sqlStore) versions(ctx context.Context, q querier, t versionTable, parts []runcodec.Part, asOf time.Time, cols func(i int) []any, key func(i int) string) (map[string]*runcodec.Version, error) {
	first := map[string]int{}
	var hashes []string
	for i, p := range parts {
		if _, ok := first[p.Hash]; !ok {
			first[p.Hash] = i
			hashes = append(hashes, p.Hash)
		}
	}
	// New versions are numbered in the run's order, so that a row's
	// references are small steps. Two writers that insert one finding
	// version both locked its fingerprint first, so wait in fingerprint
	// order; account versions go by account, so that they wait in one
	// order too.
	if key != nil {
		slices.SortStableFunc(hashes, func(a, b string) int { return strings.Compare(key(first[a]), key(first[b])) })
	}
	got, err := s.versionsByHash(ctx, q, t, hashes)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, h := range hashes {
		if got[h] == nil {
			missing = append(missing, h)
		}
	}
	at := fmtTime(asOf)
	colList := strings.Join(t.cols, ", ")
	row := "(" + placeholders(len(t.cols)+4) + ")"
	for start := 0; start < len(missing); start += batch {
		var rows []string
		var args []any
		for _, h := range missing[start:min(start+batch, len(missing))] {
			i := first[h]
			rows = append(rows, row)
			args = append(args, h)
			args = append(args, cols(i)...)
			args = append(args, at, runcodec.EncodeSlots(parts[i].Slots), string(parts[i].Raw))
		}
		rs, err := q.QueryContext(ctx, s.q(`INSERT INTO `+t.name+` (hash, `+colList+`, as_of, slots, body) VALUES `+strings.Join(rows, ", ")+
			` ON CONFLICT (hash) DO NOTHING RETURNING id, hash`), args...)
		if err != nil {
			return nil, fmt.Errorf("store %s: save %s: %w", s.name, t.name, s.lockErr(err))
		}
		for rs.Next() {
			var id int64
			var h string
			if err := rs.Scan(&id, &h); err != nil {
				rs.Close()
				return nil, fmt.Errorf("store %s: %w", s.name, err)
			}
			p := parts[first[h]]
			got[h] = &runcodec.Version{ID: id, AsOf: asOf, Body: p.Raw, Slots: p.Slots}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, fmt.Errorf("store %s: save %s: %w", s.name, t.name, s.lockErr(err))
		}
	}
	var raced []string
	for _, h := range missing {
		if got[h] == nil {
			raced = append(raced, h)
		}
	}
	if len(raced) > 0 {
		more, err := s.versionsByHash(ctx, q, t, raced)
		if err != nil {
			return nil, err
		}
		for _, h := range raced {
			if got[h] = more[h]; got[h] == nil {
				return nil, fmt.Errorf("store %s: a version of %s was neither found nor inserted", s.name, t.name)
			}
		}
	}
	return got, nil
}

// times parses the as-of times versions were written at: a run's
// versions share a few.
type times map[string]time.Time

func (ts times) parse(s string) (time.Time, error) {
	if t, ok := ts[s]; ok {
		return t, nil
	}
	t, err := parseTime(s)
	if err == nil {
		ts[s] = t
	}
	return t, err
}

func scanVersion(rows *sql.Rows, ts times, extra ...any) (*runcodec.Version, error) {
	var v runcodec.Version
	var asOf string
	if err := rows.Scan(append([]any{&v.ID, &asOf, &v.Packed, &v.Body}, extra...)...); err != nil {
		return nil, err
	}
	var err error
	if v.AsOf, err = ts.parse(asOf); err != nil {
		return nil, err
	}
	if v.Packed == nil {
		v.Packed = []byte{}
	}
	return &v, nil
}

func (s *sqlStore) versionsByHash(ctx context.Context, q querier, t versionTable, hashes []string) (map[string]*runcodec.Version, error) {
	out, ts := map[string]*runcodec.Version{}, times{}
	err := inChunks(ctx, s, q, hashes, func(in string) string {
		return `SELECT id, as_of, slots, body, hash FROM ` + t.name + ` WHERE hash IN (` + in + `)`
	}, nil, func(rows *sql.Rows) error {
		var h string
		v, err := scanVersion(rows, ts, &h)
		out[h] = v
		return err
	})
	return out, err
}

// versionsByID reads versions by id. A run's versions are mostly numbered
// one after the other (it wrote them, or the run before it did): those
// are read by ranges, the others by lists.
func (s *sqlStore) versionsByID(ctx context.Context, q querier, t versionTable, ids []int64) (map[int64]*runcodec.Version, error) {
	out, ts := make(map[int64]*runcodec.Version, len(ids)), times{}
	keep := func(rows *sql.Rows) error {
		v, err := scanVersion(rows, ts)
		if err == nil {
			out[v.ID] = v
		}
		return err
	}
	var scattered []int64
	for start := 0; start < len(ids); {
		end := start + 1
		for end < len(ids) && ids[end]-ids[end-1] <= 4 && end-start < 20000 {
			end++
		}
		if end-start < 64 {
			scattered = append(scattered, ids[start:end]...)
			start = end
			continue
		}
		rows, err := q.QueryContext(ctx, s.q(`SELECT id, as_of, slots, body FROM `+t.name+` WHERE id BETWEEN ? AND ?`), ids[start], ids[end-1])
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", s.name, err)
		}
		for rows.Next() {
			if err := keep(rows); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store %s: %w", s.name, err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store %s: %w", s.name, err)
		}
		start = end
	}
	err := inChunks(ctx, s, q, scattered, func(in string) string {
		return `SELECT id, as_of, slots, body FROM ` + t.name + ` WHERE id IN (` + in + `)`
	}, nil, keep)
	return out, err
}

// storedRow is a run_accounts row read back.
type storedRow struct {
	runID     int64
	asOf      time.Time
	accountID string
	refs      runcodec.Row
}

func (s *sqlStore) Load(ctx context.Context, id int64) (*finding.Run, RunInfo, error) {
	info, raw, err := s.read(ctx, id)
	if err != nil {
		return nil, RunInfo{}, err
	}
	run, err := runcodec.DecodeRun(raw.Frame, raw.Accounts, raw.Findings)
	if err != nil {
		return nil, RunInfo{}, fmt.Errorf("store %s: run %d: %w", s.name, id, err)
	}
	if run.History != nil {
		run.History.RunID = info.ID // saved before its id was known
	}
	return run, info, nil
}

func (s *sqlStore) Export(ctx context.Context, id int64, w io.Writer) error {
	info, raw, err := s.read(ctx, id)
	if err != nil {
		return err
	}
	return runcodec.WriteDocument(w, raw, info.ID)
}

// read reads a run's parts back, in one read transaction.
func (s *sqlStore) read(ctx context.Context, id int64) (RunInfo, *runcodec.Doc, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return RunInfo{}, nil, err
	}
	defer tx.Rollback()
	info, raw, err := s.readRun(ctx, tx, id)
	if errors.Is(err, ErrNotFound) {
		return RunInfo{}, nil, fmt.Errorf("store %s: run %d: %w", s.name, id, ErrNotFound)
	}
	if err != nil {
		return RunInfo{}, nil, fmt.Errorf("store %s: run %d: %w", s.name, id, err)
	}
	return info, raw, nil
}

func (s *sqlStore) readRun(ctx context.Context, q querier, id int64) (RunInfo, *runcodec.Doc, error) {
	var frame sql.NullString
	var order []byte
	info, err := scanInfo(q.QueryRowContext(ctx, s.q(`SELECT `+runColumns+`, frame, finding_order FROM runs WHERE id = ?`), id), &frame, &order)
	if errors.Is(err, sql.ErrNoRows) {
		return RunInfo{}, nil, ErrNotFound
	}
	if err != nil {
		return RunInfo{}, nil, err
	}
	rows, err := s.runRows(ctx, q, `SELECT ra.run_id, ?, ra.account_id, ra.refs FROM run_accounts ra WHERE ra.run_id = ? ORDER BY ra.seq`, fmtTime(info.AsOf), id)
	if err != nil {
		return RunInfo{}, nil, err
	}
	raw := &runcodec.Doc{Frame: []byte(frame.String)}
	var fids, aids []int64
	for _, r := range rows {
		if r.refs.Account.ID != 0 {
			aids = append(aids, r.refs.Account.ID)
		}
		for _, f := range r.refs.Findings {
			fids = append(fids, f.ID)
		}
	}
	fv, err := s.versionsByID(ctx, q, findingVersions, distinct(fids))
	if err != nil {
		return RunInfo{}, nil, err
	}
	av, err := s.versionsByID(ctx, q, accountVersions, distinct(aids))
	if err != nil {
		return RunInfo{}, nil, err
	}
	write := func(vs map[int64]*runcodec.Version, r runcodec.Ref) ([]byte, error) {
		v := vs[r.ID]
		if v == nil {
			return nil, fmt.Errorf("version %d is missing (the store is damaged)", r.ID)
		}
		return runcodec.Apply(v, r.Exc, info.AsOf)
	}
	for _, r := range rows {
		if r.refs.Account.ID != 0 {
			b, err := write(av, r.refs.Account)
			if err != nil {
				return RunInfo{}, nil, err
			}
			raw.Accounts = append(raw.Accounts, b)
		}
		for _, f := range r.refs.Findings {
			b, err := write(fv, f)
			if err != nil {
				return RunInfo{}, nil, err
			}
			raw.Findings = append(raw.Findings, runcodec.WithChange(b, f.Change))
		}
	}
	if raw.Findings, err = runcodec.Reorder(raw.Findings, order); err != nil {
		return RunInfo{}, nil, err
	}
	return info, raw, nil
}

// runRows reads run_accounts rows: query selects run_id, as_of,
// account_id and refs.
func (s *sqlStore) runRows(ctx context.Context, q querier, query string, args ...any) ([]storedRow, error) {
	rs, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []storedRow
	for rs.Next() {
		r, err := scanRow(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

func scanRow(rs *sql.Rows) (storedRow, error) {
	var r storedRow
	var asOf string
	var refs []byte
	if err := rs.Scan(&r.runID, &asOf, &r.accountID, &refs); err != nil {
		return r, err
	}
	var err error
	if r.asOf, err = parseTime(asOf); err != nil {
		return r, err
	}
	if r.refs, err = runcodec.DecodeRow(refs); err != nil {
		return r, fmt.Errorf("run %d, account %s: %w", r.runID, r.accountID, err)
	}
	return r, nil
}

func distinct(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}

func (s *sqlStore) History(ctx context.Context, account, rule string) ([]HistoryEntry, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := s.runRows(ctx, tx, `SELECT ra.run_id, r.as_of, ra.account_id, ra.refs FROM run_accounts ra JOIN runs r ON r.id = ra.run_id
		WHERE ra.account_id = ? ORDER BY r.as_of, ra.run_id`, account)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	var ids []int64
	for _, r := range rows {
		for _, f := range r.refs.Findings {
			ids = append(ids, f.ID)
		}
	}
	type meta struct {
		v                                  *runcodec.Version
		fp, rule, resource, status, sevrty string
	}
	metas, ts := map[int64]*meta{}, times{}
	extra, cond := []any(nil), ""
	if rule != "" {
		extra, cond = []any{rule}, ` AND rule_id = ?`
	}
	err = inChunks(ctx, s, tx, distinct(ids), func(in string) string {
		return `SELECT id, as_of, slots, body, fingerprint, rule_id, resource, status, severity FROM finding_versions WHERE id IN (` + in + `)` + cond
	}, extra, func(rs *sql.Rows) error {
		var m meta
		v, err := scanVersion(rs, ts, &m.fp, &m.rule, &m.resource, &m.status, &m.sevrty)
		m.v = v
		metas[v.ID] = &m
		return err
	})
	if err != nil {
		return nil, err
	}
	out := []HistoryEntry{}
	for _, r := range rows {
		start := len(out)
		for _, f := range r.refs.Findings {
			m := metas[f.ID]
			if m == nil {
				continue
			}
			b, err := runcodec.Apply(m.v, f.Exc, r.asOf)
			if err != nil {
				return nil, err
			}
			var msg struct {
				Message string `json:"message"`
			}
			if err := json.Unmarshal(b, &msg); err != nil {
				return nil, fmt.Errorf("store %s: run %d: %w", s.name, r.runID, err)
			}
			out = append(out, HistoryEntry{RunID: r.runID, AsOf: r.asOf, Fingerprint: m.fp, RuleID: m.rule, Resource: m.resource,
				Status: finding.Status(m.status), Severity: m.sevrty, Message: msg.Message})
		}
		slices.SortStableFunc(out[start:], func(a, b HistoryEntry) int {
			if c := strings.Compare(a.RuleID, b.RuleID); c != 0 {
				return c
			}
			return strings.Compare(a.Resource, b.Resource)
		})
	}
	return out, nil
}

func (s *sqlStore) LastJudged(ctx context.Context, fingerprints []string, asOf time.Time, id int64) (map[string]Verdict, error) {
	out := map[string]Verdict{}
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// The judged versions of the fingerprints, and whose accounts they are.
	type judged struct {
		fp, status string
		firstSeen  *time.Time
	}
	versions := map[int64]judged{}
	open := map[string]map[string]bool{} // account -> fingerprints not yet found
	var judgedStatuses []any
	for _, st := range finding.Statuses() {
		if Judged(st) {
			judgedStatuses = append(judgedStatuses, string(st))
		}
	}
	err = inChunks(ctx, s, tx, fingerprints, func(in string) string {
		return `SELECT id, fingerprint, account_id, status, first_seen FROM finding_versions WHERE fingerprint IN (` + in + `) AND status IN (` + placeholders(len(judgedStatuses)) + `)`
	}, judgedStatuses, func(rs *sql.Rows) error {
		var vid int64
		var fp, acct, status string
		var first sql.NullString
		if err := rs.Scan(&vid, &fp, &acct, &status, &first); err != nil {
			return err
		}
		j := judged{fp: fp, status: status}
		if first.Valid {
			t, err := parseTime(first.String)
			if err != nil {
				return err
			}
			j.firstSeen = &t
		}
		versions[vid] = j
		if open[acct] == nil {
			open[acct] = map[string]bool{}
		}
		open[acct][fp] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	visit := func(r storedRow) {
		want := open[r.accountID]
		if want == nil {
			return
		}
		for _, f := range r.refs.Findings {
			j, ok := versions[f.ID]
			if !ok || !want[j.fp] {
				continue
			}
			v := Verdict{Status: finding.Status(j.status), RunID: r.runID, AsOf: r.asOf, FirstSeen: r.asOf} // a finding stored without first_seen: its run's as-of stands in
			if j.firstSeen != nil {
				v.FirstSeen = *j.firstSeen
			}
			out[j.fp] = v
			delete(want, j.fp)
		}
		if len(want) == 0 {
			delete(open, r.accountID)
		}
	}
	point := []any{fmtTime(asOf), id}
	// Most verdicts are in each account's last run at the point; the
	// older runs are read only for what that one did not judge.
	if err := s.accountRows(ctx, tx, keys(open), true, point, visit); err != nil {
		return nil, err
	}
	if err := s.accountRows(ctx, tx, keys(open), false, point, visit); err != nil {
		return nil, err
	}
	return out, nil
}

// keys are a map's keys, sorted.
func keys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// accountRows visits the run_accounts rows of accounts, newest first per
// account (as-of time, then id): with newest, only each account's newest
// row. point (as-of, id), when set, leaves out the runs judged after it.
func (s *sqlStore) accountRows(ctx context.Context, q querier, accounts []string, newest bool, point []any, visit func(storedRow)) error {
	cond := ""
	if point != nil {
		cond = ` AND (r.as_of, r.id) <= (?, ?)`
	}
	return inChunks(ctx, s, q, accounts, func(in string) string {
		inner := `SELECT ra.run_id, r.as_of, ra.account_id, ra.refs FROM run_accounts ra JOIN runs r ON r.id = ra.run_id WHERE ra.account_id IN (` + in + `)` + cond
		if !newest {
			return inner + ` ORDER BY ra.account_id, r.as_of DESC, r.id DESC, ra.seq`
		}
		return `SELECT run_id, as_of, account_id, refs FROM (SELECT ra.run_id, r.as_of, ra.account_id, ra.refs,
			ROW_NUMBER() OVER (PARTITION BY ra.account_id ORDER BY r.as_of DESC, r.id DESC, ra.seq) AS n
			FROM run_accounts ra JOIN runs r ON r.id = ra.run_id WHERE ra.account_id IN (` + in + `)` + cond + `) newest WHERE n = 1`
	}, point, func(rs *sql.Rows) error {
		r, err := scanRow(rs)
		if err == nil {
			visit(r)
		}
		return err
	})
}

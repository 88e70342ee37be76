package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	// The two database/sql drivers the store speaks: pure-Go SQLite
	// (registers "sqlite") and pgx's database/sql adapter ("pgx").
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/rootwatch/rootwatch/internal/finding"
)

//go:embed migrations
var migrations embed.FS

// sqlStore is the Store over database/sql; the dialects differ only in
// placeholders and in their migration files.
type sqlStore struct {
	db       *sql.DB
	postgres bool
	name     string
	opts     Options
	// afterFindings, when set (tests only), runs inside Save's transaction
	// after the findings are written and before the commit.
	afterFindings func()
}

// checkSQLitePath refuses what SQLite's URI would read as parameters.
func checkSQLitePath(path string) error {
	if path == "" || strings.ContainsAny(path, "?#") {
		return fmt.Errorf("store: %q is not a usable SQLite path", path)
	}
	return nil
}

func openSQLite(ctx context.Context, path string, o Options) (Store, error) {
	if err := checkSQLitePath(path); err != nil {
		return nil, err
	}
	if o.Existing {
		st, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &NoStoreError{Name: path}
		}
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("store %s is not a file", path)
		}
	} else {
		// Created owner-only before SQLite opens it; SQLite gives its
		// journal files the database file's permissions.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
		f.Close()
	}
	// WAL lets readers run beside a writer; busy_timeout makes a second
	// writer wait for the first (writes say that they wait, see
	// beginWrite) instead of failing at once.
	dsn := fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate", path, o.LockTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	s := &sqlStore{db: db, name: path, opts: o}
	if o.Existing {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`).Scan(&n); err != nil {
			db.Close()
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
		if n == 0 {
			db.Close()
			return nil, &NoStoreError{Name: path, Schema: true}
		}
	}
	if err := s.migrate(ctx, goose.DialectSQLite3, "sqlite"); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func openPostgres(ctx context.Context, url string, o Options) (Store, error) {
	name := Describe(url)
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", name, scrub(err, url))
	}
	// A server that does not answer is not waited for longer than a lock.
	pctx, cancel := context.WithTimeout(ctx, o.LockTimeout)
	err = db.PingContext(pctx)
	cancel()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", name, scrub(err, url))
	}
	s := &sqlStore{db: db, postgres: true, name: name, opts: o}
	if o.Existing {
		var exists bool
		if err := db.QueryRowContext(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&exists); err != nil {
			db.Close()
			return nil, fmt.Errorf("store %s: %w", name, scrub(err, url))
		}
		if !exists {
			db.Close()
			return nil, &NoStoreError{Name: name, Schema: true}
		}
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := s.migrate(ctx, goose.DialectPostgres, "postgres", goose.WithSessionLocker(locker)); err != nil {
		db.Close()
		return nil, scrub(err, url)
	}
	return s, nil
}

// scrub removes a connection string from an error's text, should a driver
// quote it.
func scrub(err error, secret string) error {
	if err == nil || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, Describe(secret)))
}

// migrate applies the embedded migrations, refusing a store whose schema
// is newer than this rootwatch knows.
func (s *sqlStore) migrate(ctx context.Context, dialect goose.Dialect, dir string, opts ...goose.ProviderOption) error {
	fsys, err := fs.Sub(migrations, "migrations/"+dir)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, s.db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("store %s: migrations: %w", s.name, err)
	}
	sources := p.ListSources()
	latest := sources[len(sources)-1].Version
	// Two processes opening a new SQLite store at once may race to create
	// the version table: the loser tries again.
	for attempt := 0; ; attempt++ {
		current, err := p.GetDBVersion(ctx)
		if err == nil && current > latest {
			return fmt.Errorf("store %s has schema version %d, but this rootwatch knows versions up to %d: it was written by a newer rootwatch; use that one (or a newer)", s.name, current, latest)
		}
		if err == nil {
			if _, err = p.Up(ctx); err == nil {
				return nil
			}
		}
		if attempt == 4 || ctx.Err() != nil {
			return fmt.Errorf("store %s: migrate: %w", s.name, err)
		}
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
}

// q rewrites ? placeholders as PostgreSQL's $1, $2…
func (s *sqlStore) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *sqlStore) Close() error { return s.db.Close() }

// batch is how many rows one INSERT carries.
const batch = 200

func (s *sqlStore) Save(ctx context.Context, run *finding.Run, scope string) (RunInfo, error) {
	return s.save(ctx, run, scope, false)
}

func (s *sqlStore) Import(ctx context.Context, run *finding.Run, scope string) (RunInfo, error) {
	return s.save(ctx, run, scope, true)
}

// ErrLocked says a write gave up waiting for another writer's lock.
var ErrLocked = errors.New("another writer held the store's lock for longer than the lock timeout")

// beginWrite starts a write transaction. SQLite lets one writer at a time
// into a database: a write that finds another writer's lock says so
// (Options.Notice) and waits for it at most LockTimeout. PostgreSQL waits
// as long for a row lock.
func (s *sqlStore) beginWrite(ctx context.Context) (*writeTx, error) {
	ms := s.opts.LockTimeout.Milliseconds()
	if s.postgres {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", s.name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", ms)); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("store %s: %w", s.name, err)
		}
		return &writeTx{Tx: tx}, nil
	}
	// One connection, first asked not to wait, to learn whether another
	// writer holds the lock; then told to wait, and left waiting for
	// whoever uses the connection next.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if isBusy(err) {
		if s.opts.Notice != nil {
			s.opts.Notice(fmt.Sprintf("store %s is locked by another writer: waiting for it, at most %s", s.name, s.opts.LockTimeout))
		}
		if _, err = conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", ms)); err == nil {
			tx, err = conn.BeginTx(ctx, nil)
		}
	}
	if err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", ms))
		conn.Close()
		if isBusy(err) {
			return nil, fmt.Errorf("store %s: waited %s: %w", s.name, s.opts.LockTimeout, ErrLocked)
		}
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	w := &writeTx{Tx: tx, conn: conn}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", ms)); err != nil {
		w.end()
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	return w, nil
}

// writeTx is a write transaction and, for SQLite, the connection it holds.
type writeTx struct {
	*sql.Tx
	conn *sql.Conn
}

// end rolls back what was not committed (after a commit, a no-op) and
// gives the connection back to the pool.
func (w *writeTx) end() {
	w.Rollback()
	if w.conn != nil {
		w.conn.Close()
	}
}

// isBusy says SQLite found the database locked by another connection.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// lockErr names a PostgreSQL lock timeout (55P03, lock_not_available) as
// ErrLocked.
func (s *sqlStore) lockErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55P03" {
		return fmt.Errorf("waited %s: %w", s.opts.LockTimeout, ErrLocked)
	}
	return err
}

func (s *sqlStore) save(ctx context.Context, run *finding.Run, scope string, unique bool) (RunInfo, error) {
	doc, err := json.Marshal(run)
	if err != nil {
		return RunInfo{}, fmt.Errorf("store: encode run: %w", err)
	}
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
	err = tx.QueryRowContext(ctx, s.q(`INSERT INTO runs (scope, generated_at, as_of, stored_at, tool_version, accounts, summary, document)
		VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT)) RETURNING id`),
		// The document goes as the bytes it was encoded to: string(doc)
		// would hold a large organization's run twice more.
		scope, fmtTime(info.GeneratedAt), fmtTime(info.AsOf), fmtTime(info.StoredAt), info.ToolVersion, info.Accounts, string(sum), doc).Scan(&info.ID)
	if err != nil {
		return RunInfo{}, fmt.Errorf("store %s: save run: %w", s.name, s.lockErr(err))
	}
	asOf := fmtTime(info.AsOf)
	// Sorted by reference, not copied.
	fs := make([]*finding.Finding, len(run.Findings))
	for i := range run.Findings {
		fs[i] = &run.Findings[i]
	}
	slices.SortFunc(fs, func(a, b *finding.Finding) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	for start := 0; start < len(fs); start += batch {
		chunk := fs[start:min(start+batch, len(fs))]
		var rows, fps []string
		var args, fpArgs []any
		for _, f := range chunk {
			var firstSeen any // NULL for a run stored without history
			if f.FirstSeen != nil {
				firstSeen = fmtTime(*f.FirstSeen)
			}
			rows = append(rows, "(?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, info.ID, f.Fingerprint, f.RuleID, f.AccountID, f.Resource, string(f.Status), string(f.Severity), f.Message, firstSeen)
			fps = append(fps, "(?, ?, ?, ?, ?, ?, ?)")
			fpArgs = append(fpArgs, f.Fingerprint, f.RuleID, f.AccountID, f.Resource, asOf, asOf, string(f.Status))
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO findings (run_id, fingerprint, rule_id, account_id, resource, status, severity, message, first_seen) VALUES `+strings.Join(rows, ", ")), args...); err != nil {
			return RunInfo{}, fmt.Errorf("store %s: save findings: %w", s.name, s.lockErr(err))
		}
		// In fingerprint order, so that two writers never wait on each
		// other in a circle.
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO fingerprints (fingerprint, rule_id, account_id, resource, first_seen, last_seen, last_status) VALUES `+strings.Join(fps, ", ")+`
			ON CONFLICT (fingerprint) DO UPDATE SET
			  first_seen = CASE WHEN excluded.first_seen < fingerprints.first_seen THEN excluded.first_seen ELSE fingerprints.first_seen END,
			  last_status = CASE WHEN excluded.last_seen >= fingerprints.last_seen THEN excluded.last_status ELSE fingerprints.last_status END,
			  last_seen = CASE WHEN excluded.last_seen > fingerprints.last_seen THEN excluded.last_seen ELSE fingerprints.last_seen END`), fpArgs...); err != nil {
			return RunInfo{}, fmt.Errorf("store %s: save fingerprints: %w", s.name, s.lockErr(err))
		}
	}
	if s.afterFindings != nil {
		s.afterFindings()
	}
	if err := tx.Commit(); err != nil {
		return RunInfo{}, fmt.Errorf("store %s: commit: %w", s.name, s.lockErr(err))
	}
	return info, nil
}

const runColumns = `id, scope, generated_at, as_of, stored_at, tool_version, accounts, summary`

type scanner interface{ Scan(...any) error }

// scanInfo reads the runColumns of a row, and extra columns after them.
func scanInfo(row scanner, extra ...any) (RunInfo, error) {
	var info RunInfo
	var gen, asOf, stored, sum string
	dst := append([]any{&info.ID, &info.Scope, &gen, &asOf, &stored, &info.ToolVersion, &info.Accounts, &sum}, extra...)
	if err := row.Scan(dst...); err != nil {
		return RunInfo{}, err
	}
	var err error
	if info.GeneratedAt, err = parseTime(gen); err != nil {
		return RunInfo{}, err
	}
	if info.AsOf, err = parseTime(asOf); err != nil {
		return RunInfo{}, err
	}
	if info.StoredAt, err = parseTime(stored); err != nil {
		return RunInfo{}, err
	}
	if err := json.Unmarshal([]byte(sum), &info.Summary); err != nil {
		return RunInfo{}, fmt.Errorf("store: run %d: summary: %w", info.ID, err)
	}
	return info, nil
}

func (s *sqlStore) Runs(ctx context.Context, limit int) ([]RunInfo, error) {
	query := `SELECT ` + runColumns + ` FROM runs ORDER BY id DESC`
	var args []any
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	defer rows.Close()
	out := []RunInfo{}
	for rows.Next() {
		info, err := scanInfo(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, rows.Err()
}

func (s *sqlStore) Load(ctx context.Context, id int64) (*finding.Run, RunInfo, error) {
	var doc []byte
	info, err := scanInfo(s.db.QueryRowContext(ctx, s.q(`SELECT `+runColumns+`, document FROM runs WHERE id = ?`), id), &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, RunInfo{}, fmt.Errorf("store %s: run %d: %w", s.name, id, ErrNotFound)
	}
	if err != nil {
		return nil, RunInfo{}, fmt.Errorf("store %s: run %d: %w", s.name, id, err)
	}
	var run finding.Run
	if err := json.Unmarshal(doc, &run); err != nil {
		return nil, RunInfo{}, fmt.Errorf("store %s: run %d: %w", s.name, id, err)
	}
	if run.History != nil {
		run.History.RunID = info.ID // saved before its id was known
	}
	return &run, info, nil
}

func (s *sqlStore) Previous(ctx context.Context, scope string, id int64) (RunInfo, bool, error) {
	query, args := `SELECT `+runColumns+` FROM runs WHERE scope = ?`, []any{scope}
	if id > 0 {
		query += ` AND (as_of, id) < (SELECT as_of, id FROM runs WHERE id = ?)`
		args = append(args, id)
	}
	return s.oneRun(ctx, query+` ORDER BY as_of DESC, id DESC LIMIT 1`, args...)
}

func (s *sqlStore) Latest(ctx context.Context, scope string, asOf time.Time) (RunInfo, bool, error) {
	return s.oneRun(ctx, `SELECT `+runColumns+` FROM runs WHERE scope = ? AND as_of <= ? ORDER BY as_of DESC, id DESC LIMIT 1`, scope, fmtTime(asOf))
}

func (s *sqlStore) oneRun(ctx context.Context, query string, args ...any) (RunInfo, bool, error) {
	info, err := scanInfo(s.db.QueryRowContext(ctx, s.q(query), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return RunInfo{}, false, nil
	}
	if err != nil {
		return RunInfo{}, false, fmt.Errorf("store %s: %w", s.name, err)
	}
	return info, true, nil
}

func (s *sqlStore) LastJudged(ctx context.Context, fingerprints []string, asOf time.Time, id int64) (map[string]Verdict, error) {
	out := map[string]Verdict{}
	var judged []any
	for _, st := range finding.Statuses() {
		if Judged(st) {
			judged = append(judged, string(st))
		}
	}
	query := func(in string) string {
		return `SELECT fingerprint, status, first_seen, run_id, as_of FROM (
			SELECT f.fingerprint, f.status, f.first_seen, f.run_id, r.as_of,
			  ROW_NUMBER() OVER (PARTITION BY f.fingerprint ORDER BY r.as_of DESC, r.id DESC) AS n
			FROM findings f JOIN runs r ON r.id = f.run_id
			WHERE f.fingerprint IN (` + in + `) AND f.status IN (` + placeholders(len(judged)) + `)
			  AND (r.as_of, r.id) <= (?, ?)) last_judged
			WHERE n = 1`
	}
	err := s.byChunks(ctx, fingerprints, query, append(judged, fmtTime(asOf), id), func(rows *sql.Rows) error {
		var fp, status, asOf string
		var first sql.NullString
		var v Verdict
		if err := rows.Scan(&fp, &status, &first, &v.RunID, &asOf); err != nil {
			return err
		}
		v.Status = finding.Status(status)
		var err error
		if v.AsOf, err = parseTime(asOf); err != nil {
			return err
		}
		v.FirstSeen = v.AsOf // a row stored before first_seen was kept
		if first.Valid {
			if v.FirstSeen, err = parseTime(first.String); err != nil {
				return err
			}
		}
		out[fp] = v
		return nil
	})
	return out, err
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// byChunks runs a query over fingerprints 500 at a time (a statement takes
// a bounded number of parameters): query is given the chunk's
// placeholders, whose arguments come before extra; scanRow reads each row.
func (s *sqlStore) byChunks(ctx context.Context, fingerprints []string, query func(in string) string, extra []any, scanRow func(*sql.Rows) error) error {
	for start := 0; start < len(fingerprints); start += 500 {
		chunk := fingerprints[start:min(start+500, len(fingerprints))]
		args := make([]any, 0, len(chunk)+len(extra))
		for _, f := range chunk {
			args = append(args, f)
		}
		rows, err := s.db.QueryContext(ctx, s.q(query(placeholders(len(chunk)))), append(args, extra...)...)
		if err != nil {
			return fmt.Errorf("store %s: %w", s.name, err)
		}
		for rows.Next() {
			if err := scanRow(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqlStore) FirstSeen(ctx context.Context, fingerprints []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	query := func(in string) string {
		return `SELECT fingerprint, first_seen FROM fingerprints WHERE fingerprint IN (` + in + `)`
	}
	err := s.byChunks(ctx, fingerprints, query, nil, func(rows *sql.Rows) error {
		var fp, first string
		if err := rows.Scan(&fp, &first); err != nil {
			return err
		}
		t, err := parseTime(first)
		out[fp] = t
		return err
	})
	return out, err
}

func (s *sqlStore) History(ctx context.Context, account, rule string) ([]HistoryEntry, error) {
	query := `SELECT f.run_id, r.as_of, f.fingerprint, f.rule_id, f.resource, f.status, f.severity, f.message
		FROM findings f JOIN runs r ON r.id = f.run_id WHERE f.account_id = ?`
	args := []any{account}
	if rule != "" {
		query += ` AND f.rule_id = ?`
		args = append(args, rule)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY r.as_of, f.run_id, f.rule_id, f.resource`), args...)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	defer rows.Close()
	out := []HistoryEntry{}
	for rows.Next() {
		var e HistoryEntry
		var asOf, status string
		if err := rows.Scan(&e.RunID, &asOf, &e.Fingerprint, &e.RuleID, &e.Resource, &status, &e.Severity, &e.Message); err != nil {
			return nil, err
		}
		if e.AsOf, err = parseTime(asOf); err != nil {
			return nil, err
		}
		e.Status = finding.Status(status)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *sqlStore) Prune(ctx context.Context, before time.Time) (int, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.end()
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM runs WHERE as_of < ?`), fmtTime(before))
	if err != nil {
		return 0, fmt.Errorf("store %s: prune: %w", s.name, s.lockErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM watch_alerts WHERE delivered_at < ?`), fmtTime(before)); err != nil {
		return 0, fmt.Errorf("store %s: prune watch alerts: %w", s.name, s.lockErr(err))
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store %s: prune: %w", s.name, err)
	}
	return int(n), nil
}

func (s *sqlStore) Delivered(ctx context.Context, eventID string, targets []string) (map[string]bool, error) {
	out := map[string]bool{}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT target FROM watch_alerts WHERE event_id = ?`), eventID)
	if err != nil {
		return nil, fmt.Errorf("store %s: delivered alerts: %w", s.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("store %s: delivered alerts: %w", s.name, err)
		}
		if slices.Contains(targets, t) {
			out[t] = true
		}
	}
	return out, rows.Err()
}

func (s *sqlStore) MarkDelivered(ctx context.Context, eventID, target string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO watch_alerts (event_id, target, delivered_at) VALUES (?, ?, ?) ON CONFLICT (event_id, target) DO NOTHING`),
		eventID, target, fmtTime(at))
	if err != nil {
		return fmt.Errorf("store %s: record a delivered alert: %w", s.name, err)
	}
	return nil
}

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
	"strconv"
	"strings"
	"time"

	// The two database/sql drivers the store speaks: pure-Go SQLite
	// (registers "sqlite") and pgx's database/sql adapter ("pgx").
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
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

// openSQLite opens a store file; readOnly (the panel's) never creates or
// migrates one and sets mode=ro, so SQLite refuses every write.
func openSQLite(ctx context.Context, path string, o Options, readOnly bool) (Store, error) {
	if err := checkSQLitePath(path); err != nil {
		return nil, err
	}
	if o.Existing || readOnly {
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
	// beginWrite) instead of failing at once. A store rootwatch wrote is in
	// WAL mode already (a property of the file), so a read-only open sees
	// each run a writer commits, and does not block it.
	dsn := fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate", path, o.LockTimeout.Milliseconds())
	if readOnly {
		dsn = fmt.Sprintf("file:%s?mode=ro&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", path, o.LockTimeout.Milliseconds())
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	s := &sqlStore{db: db, name: path, opts: o}
	if err := s.prepare(ctx, o.Existing || readOnly, readOnly, goose.DialectSQLite3, "sqlite"); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// openPostgres opens a store database; readOnly (the panel's) never
// migrates it and makes every transaction of its connections read-only,
// those the driver opens implicitly for a single statement included.
func openPostgres(ctx context.Context, url string, o Options, readOnly bool) (Store, error) {
	name := Describe(url)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", name, scrub(err, url))
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	db := stdlib.OpenDB(*cfg)
	// A server that does not answer is not waited for longer than a lock.
	pctx, cancel := context.WithTimeout(ctx, o.LockTimeout)
	err = db.PingContext(pctx)
	cancel()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", name, scrub(err, url))
	}
	s := &sqlStore{db: db, postgres: true, name: name, opts: o}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := s.prepare(ctx, o.Existing || readOnly, readOnly, goose.DialectPostgres, "postgres", goose.WithSessionLocker(locker)); err != nil {
		db.Close()
		return nil, scrub(err, url)
	}
	return s, nil
}

// prepare checks an opened database: that it holds a store (existing),
// then its schema, migrated to this rootwatch's or, read-only, only
// compared with it.
func (s *sqlStore) prepare(ctx context.Context, existing, readOnly bool, dialect goose.Dialect, dir string, opts ...goose.ProviderOption) error {
	if existing {
		if err := s.requireStore(ctx); err != nil {
			return err
		}
	}
	if readOnly {
		return s.checkSchema(ctx, dialect, dir)
	}
	return s.migrate(ctx, dialect, dir, opts...)
}

// requireStore refuses a database that holds no rootwatch store (goose's
// version table), for the opens that never create one.
func (s *sqlStore) requireStore(ctx context.Context) error {
	q := `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`
	if s.postgres {
		q = `SELECT to_regclass('goose_db_version') IS NOT NULL`
	}
	var exists bool
	if err := s.db.QueryRowContext(ctx, q).Scan(&exists); err != nil {
		return fmt.Errorf("store %s: %w", s.name, err)
	}
	if !exists {
		return &NoStoreError{Name: s.name, Schema: true}
	}
	return nil
}

// scrub removes a connection string from an error's text, should a driver
// quote it.
func scrub(err error, secret string) error {
	if err == nil || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, Describe(secret)))
}

// provider is goose over the embedded migrations of a dialect: the SQL
// files and the Go conversion of schema 5, so that every open (read-only
// ones too) knows the same newest version.
func (s *sqlStore) provider(dialect goose.Dialect, dir string, opts ...goose.ProviderOption) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+dir)
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(dialect, s.db, fsys, append(opts, goose.WithGoMigrations(s.convertRuns()))...)
	if err != nil {
		return nil, fmt.Errorf("store %s: migrations: %w", s.name, err)
	}
	return p, nil
}

// migrate applies the embedded migrations, refusing a store whose schema
// is newer than this rootwatch knows.
func (s *sqlStore) migrate(ctx context.Context, dialect goose.Dialect, dir string, opts ...goose.ProviderOption) error {
	p, err := s.provider(dialect, dir, opts...)
	if err != nil {
		return err
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

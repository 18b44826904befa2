// Package store keeps Parrain's state in SQLite (the embedded default) or
// PostgreSQL, with hand-written SQL shared by both and the few dialect
// differences kept in dialect.go. Each exported method owns its transaction.
//
// It imports the domain package and database drivers; it never imports the
// HTTP or job-runner packages.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	msqlite "modernc.org/sqlite"       // pure-Go SQLite driver "sqlite"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/secretbox"
)

// Store is the database handle. It is safe for concurrent use.
type Store struct {
	w      *sql.DB // writes; on SQLite a single connection with BEGIN IMMEDIATE
	r      *sql.DB // reads; the same pool as w on PostgreSQL
	d      dialect
	clock  parrain.Clock
	secret []byte    // installation secret (hashing click IPs, signing)
	hooks  hooks     // installed by internal/referral (hooks.go)
	codes  codeWatch // what changed referral codes' resolution (codewatch.go)
	// resolveCode is ResolveCode's statement, prepared once on the read pool.
	resolveCode atomic.Pointer[sql.Stmt]
	clickStmts  clickStmts // InsertClicks' statements (clicks.go)
	// idemTTL is how long an Idempotency-Key is remembered (idempotency.go).
	idemTTL time.Duration
	// keys seal the secrets at rest (secrets.go); nil: none configured.
	keys        *secretbox.Keyring
	sweptAtOpen int
	gc          groupCommitter
}

// Options tune Open.
type Options struct {
	Clock parrain.Clock // defaults to the system clock
	// IdempotencyTTL is how long an idempotency key is remembered; after
	// it the key may be used again for another request (default
	// DefaultIdempotencyTTL).
	IdempotencyTTL time.Duration
	// Keys seal the secrets at rest (secrets.go). Without them Open
	// refuses a database holding secrets, and storing one is refused.
	Keys *secretbox.Keyring
}

// Open connects to the database named by dsn and runs pending migrations.
// An empty dsn means ./parrain.db; "postgres://" and "postgresql://" URLs
// select PostgreSQL; anything else is a SQLite file path (optionally
// prefixed "sqlite:" or "file:").
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	if opt.Clock == nil {
		opt.Clock = parrain.SystemClock{}
	}
	if opt.IdempotencyTTL <= 0 {
		opt.IdempotencyTTL = DefaultIdempotencyTTL
	}
	s := &Store{clock: msClock{opt.Clock}, idemTTL: opt.IdempotencyTTL, keys: opt.Keys}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s.d = postgres
		pgDSN, maxConns, perr := poolSize(dsn)
		if perr != nil {
			return nil, perr
		}
		s.w, err = sql.Open("pgx", pgDSN)
		if err != nil {
			return nil, fmt.Errorf("opening postgres: %w", err)
		}
		s.w.SetMaxOpenConns(maxConns)
		s.w.SetMaxIdleConns(maxConns)
		s.w.SetConnMaxIdleTime(5 * time.Minute)
		s.r = s.w
	} else {
		s.d = sqlite
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		if path == "" {
			path = "parrain.db"
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("creating database directory: %w", err)
			}
		}
		// WAL lets readers run beside the writer; synchronous=FULL makes a
		// commit durable before the API answers (a crash after a 2xx keeps the
		// write); busy_timeout waits for another process's write lock.
		base := "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"
		// Group commit (groupcommit.go) runs each event of a batch in its
		// own savepoint: SQLite copies every page a savepoint first
		// changes to a sub-journal, a temporary file by default, one
		// write system call per page (a quarter of an event's system
		// calls in the profile). temp_store=MEMORY keeps it in memory
		// (it is rollback data of an open transaction: nothing durable);
		// a 64 MB page cache keeps a batch's dirty pages from spilling
		// to the WAL before the commit.
		s.w, err = openSQLiteCached(base + "&_txlock=immediate&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)")
		if err != nil {
			return nil, fmt.Errorf("opening sqlite: %w", err)
		}
		s.w.SetMaxOpenConns(1)
		s.gc.writers = 1
		s.r, err = sql.Open("sqlite", base+"&_pragma=query_only(1)")
		if err != nil {
			return nil, fmt.Errorf("opening sqlite: %w", err)
		}
		s.r.SetMaxOpenConns(8)
	}
	if err := s.w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.loadSecret(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.initSecrets(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openSQLiteCached opens a SQLite pool whose connections keep their
// prepared statements (stmtcache.go).
func openSQLiteCached(dsn string) (*sql.DB, error) {
	probe, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	if err := probe.Close(); err != nil {
		return nil, err
	}
	return sql.OpenDB(stmtCacheConnector{dsn: dsn, drv: drv}), nil
}

// DefaultMaxConns is the PostgreSQL pool size when the URL does not set
// pool_max_conns.
const DefaultMaxConns = 20

// poolSize takes Parrain's own pool_max_conns parameter out of a PostgreSQL
// URL (the server would reject it as an unknown setting) and returns the
// URL without it and the pool size it names.
func poolSize(dsn string) (string, int, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", 0, fmt.Errorf("parsing the database URL: %w", err)
	}
	q := u.Query()
	v := q.Get("pool_max_conns")
	if v == "" {
		return dsn, DefaultMaxConns, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return "", 0, fmt.Errorf("database URL: pool_max_conns=%q must be a positive integer", v)
	}
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	return u.String(), n, nil
}

// Close closes the connection pools.
func (s *Store) Close() error {
	if st := s.resolveCode.Load(); st != nil {
		st.Close()
	}
	s.clickStmts.mu.Lock()
	for _, st := range s.clickStmts.by {
		st.Close()
	}
	s.clickStmts.by = nil
	s.clickStmts.mu.Unlock()
	s.gc.close()
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Dialect returns "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Clock returns the store's clock.
func (s *Store) Clock() parrain.Clock { return s.clock }

// Secret returns the installation secret, created at first start.
func (s *Store) Secret() []byte { return s.secret }

// DB returns the write pool, for tests and tools that need raw SQL.
func (s *Store) DB() *sql.DB { return s.w }

// ReadDB returns the read pool (the write pool on PostgreSQL), for its
// connection statistics.
func (s *Store) ReadDB() *sql.DB { return s.r }

func (s *Store) loadSecret(ctx context.Context) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("generating secret: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('secret', $1) ON CONFLICT DO NOTHING`, hex.EncodeToString(b)); err != nil {
		return fmt.Errorf("storing secret: %w", err)
	}
	var v string
	if err := s.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'secret'`).Scan(&v); err != nil {
		return fmt.Errorf("loading secret: %w", err)
	}
	sec, err := hex.DecodeString(v)
	if err != nil {
		return fmt.Errorf("decoding secret: %w", err)
	}
	s.secret = sec
	return nil
}

// TxAttempts bounds how many times a write transaction is tried when the
// database refuses it for a conflict with a concurrent one.
const TxAttempts = 10

// tx runs fn in a write transaction, committing if fn returns nil and
// rolling back otherwise. A transaction the database aborts for a conflict
// with another — a PostgreSQL serialization failure or deadlock (SQLSTATE
// 40001, 40P01), SQLite busy or locked past its busy timeout — is run again
// from the start, up to TxAttempts times, after a short random wait, so
// that concurrent requests (also from other server processes) are answered
// as if they had come one after the other, never with a 500.
//
// fn may therefore run more than once: it must have no effect outside the
// transaction except assigning its results, and must set (not accumulate
// into) the variables it shares with its caller.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.txOnce(ctx, fn)
		if err == nil || attempt >= TxAttempts || !retryable(err) {
			return err
		}
		t := time.NewTimer(txBackoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// txBackoff is the wait before attempt+1: random ("full jitter") up to 2 ms
// doubled per attempt, capped at 250 ms, so that the transactions that
// collided do not collide again in step.
func txBackoff(attempt int) time.Duration {
	ceil := min(2*time.Millisecond<<(attempt-1), 250*time.Millisecond)
	return time.Duration(mrand.Int64N(int64(ceil))) + time.Millisecond
}

// SQLite primary result codes (sqlite3.h) that mean another connection
// holds a conflicting lock.
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// retryable reports whether err aborted a transaction for a conflict with
// a concurrent one, so that running it again may succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff // extended codes keep the primary code in the low byte
		return c == sqliteBusy || c == sqliteLocked
	}
	return false
}

// txOnce is one attempt of tx.
func (s *Store) txOnce(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	committed := false
	defer func() { s.endTx(tx, committed) }()
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	committed = true
	return nil
}

// newID returns a time-ordered identifier with a type prefix ("rwd_…"), so
// that ordering by id is ordering by creation and keyset pagination works.
// NewID returns a new identifier with a type prefix, as the store makes them.
func NewID(prefix string) string { return newID(prefix) }

func newID(prefix string) string {
	u := uuid.Must(uuid.NewV7())
	return prefix + "_" + hex.EncodeToString(u[:])
}

// msClock truncates time to the millisecond, the precision stored, so an
// answer computed now equals the same answer read back later.
type msClock struct{ c parrain.Clock }

func (m msClock) Now() time.Time { return m.c.Now().Truncate(time.Millisecond) }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func nullMS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(*t), Valid: true}
}

// notFound returns a not_found domain error.
// NotFound is the error of a missing record.
func NotFound(what string) error { return notFound(what) }

func notFound(what string) error {
	return parrain.Errorf(parrain.CodeNotFound, "%s not found", what)
}

// Page is a keyset page request: items with an id below Cursor (newest first).
type Page struct {
	Limit  int
	Cursor string
}

func (p Page) limit() int {
	if p.Limit <= 0 || p.Limit > 200 {
		return 50
	}
	return p.Limit
}

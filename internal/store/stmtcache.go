package store

import (
	"context"
	"database/sql/driver"
	"strings"
	"sync"
)

// SQLite's driver prepares every statement anew on each call (compiling the
// SQL is a quarter of an event's CPU), and database/sql caches nothing for
// queries run on a *sql.Tx. stmtCacheConnector wraps the driver so that
// each connection keeps the statements it has prepared, keyed by their SQL
// text, and runs them again with new arguments: the store's SQL stays plain
// tx.ExecContext / QueryContext calls. (pgx already caches prepared
// statements per connection on PostgreSQL.)

// stmtCacheSize bounds the statements one connection keeps; past it, the
// least recently used one is finalized.
const stmtCacheSize = 512

type stmtCacheConnector struct {
	dsn string
	drv driver.Driver
}

func (c stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (c stmtCacheConnector) Driver() driver.Driver { return c.drv }

// cachingConn is a driver connection with its prepared statements. database/sql
// uses a connection from one goroutine at a time; mu guards the cache against
// a Rows closed from another (a cancelled context).
type cachingConn struct {
	driver.Conn
	mu    sync.Mutex
	stmts map[string]*cachedStmt
	tick  uint64
}

type cachedStmt struct {
	s       driver.Stmt
	busy    bool // rows of it are open: a second use prepares afresh
	used    uint64
	evicted bool // finalize when its rows close
}

// cacheable reports whether query is one statement worth keeping: scripts
// (several statements) and transaction control are run as they come.
func cacheable(query string) bool {
	return !strings.Contains(query, ";")
}

// take returns the cached statement for query, prepared if new, marked busy;
// nil when it is busy (rows of it are open) or cannot be cached.
func (c *cachingConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	if !cacheable(query) {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil, nil
		}
		cs.busy, cs.used = true, c.tick
		return cs, nil
	}
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(c.stmts) >= stmtCacheSize {
		c.evictLocked()
	}
	cs := &cachedStmt{s: s, busy: true, used: c.tick}
	c.stmts[query] = cs
	return cs, nil
}

// evictLocked drops the least recently used statement.
func (c *cachingConn) evictLocked() {
	var oldest string
	var at uint64
	for q, cs := range c.stmts {
		if oldest == "" || cs.used < at {
			oldest, at = q, cs.used
		}
	}
	cs := c.stmts[oldest]
	delete(c.stmts, oldest)
	if cs.busy {
		cs.evicted = true
		return
	}
	_ = cs.s.Close()
}

func (c *cachingConn) release(cs *cachedStmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs.busy = false
	if cs.evicted {
		_ = cs.s.Close()
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	defer c.release(cs)
	return cs.s.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rows, err := cs.s.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.release(cs)
		return nil, err
	}
	return &cachedRows{Rows: rows, release: func() { c.release(cs) }}, nil
}

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	for q, cs := range c.stmts {
		_ = cs.s.Close()
		delete(c.stmts, q)
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// The optional interfaces of the wrapped connection, passed through.

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// cachedRows gives the statement back to the cache when closed.
type cachedRows struct {
	driver.Rows
	release func()
	once    sync.Once
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.release)
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

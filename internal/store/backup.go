package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
)

// ErrBackupPostgres is returned by Backup on PostgreSQL, whose own tools
// (pg_dump, base backups) make consistent copies.
var ErrBackupPostgres = errors.New("parrain backup copies SQLite databases; for PostgreSQL use pg_dump (docs/operations.md)")

// Backup writes a consistent copy of a SQLite database to path with VACUUM
// INTO: it reads one snapshot, so it is safe while the server runs and
// writes (WAL mode lets both proceed), and the copy is compacted and
// complete in one file (no -wal or -shm beside it). path must not exist.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.d.name != "sqlite" {
		return ErrBackupPostgres
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new file", path)
	}
	// A read connection runs it, so the writer stays free: VACUUM INTO only
	// reads this database, but SQLite refuses it under query_only, which
	// is lifted on this connection for the copy and put back after.
	c, err := s.r.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `PRAGMA query_only = 0`); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_, err = c.ExecContext(ctx, `VACUUM INTO $1`, path)
	if _, rerr := c.ExecContext(context.WithoutCancel(ctx), `PRAGMA query_only = 1`); rerr != nil {
		_ = c.Raw(func(any) error { return driver.ErrBadConn }) // never hand back a writable read connection
		return errors.Join(fmt.Errorf("backup: restoring query_only: %w", rerr), err)
	}
	if err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

// IntegrityCheck runs SQLite's integrity check (PRAGMA integrity_check)
// and returns its findings as an error; on PostgreSQL it only pings.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	if s.d.name != "sqlite" {
		return s.w.PingContext(ctx)
	}
	var res string
	if err := s.r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	return nil
}

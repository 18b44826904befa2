package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	msqlite "modernc.org/sqlite"
)

// dialect holds the few SQL fragments that differ between SQLite and
// PostgreSQL. Everything else is written once.
type dialect struct {
	name string
	// forUpdate locks selected rows until the transaction ends (PostgreSQL);
	// SQLite's single writer already serialises write transactions.
	forUpdate string
	// lockNoKey locks selected rows against each other's lockNoKey and
	// updates, like forUpdate, but not against the key-share locks that
	// inserting a row referencing them takes: a transaction that inserted
	// an event of a program and then locks the program does not deadlock
	// with another doing the same.
	lockNoKey string
	// skipLocked makes concurrent job claimers skip each other's rows.
	skipLocked string
	// migrationLock serialises migrations across processes, run first in
	// each migration's transaction; on PostgreSQL it is keyed by the schema,
	// so databases in other schemas (tests, tenants) migrate side by side.
	migrationLock string
}

var (
	sqlite   = dialect{name: "sqlite"}
	postgres = dialect{
		name:          "postgres",
		forUpdate:     " FOR UPDATE",
		lockNoKey:     " FOR NO KEY UPDATE",
		skipLocked:    " FOR UPDATE SKIP LOCKED",
		migrationLock: "SELECT pg_advisory_xact_lock(727247246, hashtext(current_schema()))",
	}
)

// uniqueViolation reports whether err is the database refusing a row that
// breaks a UNIQUE or PRIMARY KEY constraint, on either database, so that a
// repository can answer a conflict instead of a database error.
func uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		// SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY.
		return se.Code() == 2067 || se.Code() == 1555
	}
	return false
}

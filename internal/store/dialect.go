package store

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

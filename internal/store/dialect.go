package store

// dialect holds the few SQL fragments that differ between SQLite and
// PostgreSQL. Everything else is written once.
type dialect struct {
	name string
	// forUpdate locks selected rows until the transaction ends (PostgreSQL);
	// SQLite's single writer already serialises write transactions.
	forUpdate string
	// skipLocked makes concurrent job claimers skip each other's rows.
	skipLocked string
	// migrationLock serialises migrations across processes, run first in
	// each migration transaction.
	migrationLock string
}

var (
	sqlite   = dialect{name: "sqlite"}
	postgres = dialect{
		name:          "postgres",
		forUpdate:     " FOR UPDATE",
		skipLocked:    " FOR UPDATE SKIP LOCKED",
		migrationLock: "SELECT pg_advisory_xact_lock(727247246)",
	}
)

package store_test

import (
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Issue 12: the ledger is append-only at the database, whatever SQL a
// person with the application's credentials types: no UPDATE, DELETE,
// upsert, TRUNCATE (PostgreSQL) or INSERT OR REPLACE (SQLite).
func TestLedgerAppendOnlyGuard(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.payoutProgram()
		alice := e.Advocate(p.ID, "alice", "")
		e.earn(p, alice, "f1", 10000)
		var id string
		var n0 int
		if err := e.St.DB().QueryRow(`SELECT id FROM ledger_entries ORDER BY id LIMIT 1`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM ledger_entries`).Scan(&n0); err != nil {
			t.Fatal(err)
		}
		attacks := []string{
			`UPDATE ledger_entries SET amount = 1 WHERE id = '` + id + `'`,
			`DELETE FROM ledger_entries WHERE id = '` + id + `'`,
			`INSERT INTO ledger_entries (id, program_id, participant_id, reward_id, type, bucket, amount, currency, memo, created_at)
				SELECT id, program_id, participant_id, reward_id, type, bucket, 1, currency, memo, created_at FROM ledger_entries WHERE id = '` + id + `'
				ON CONFLICT (id) DO UPDATE SET amount = 1`,
		}
		if e.St.Dialect() == "postgres" {
			attacks = append(attacks, `TRUNCATE ledger_entries`, `TRUNCATE ledger_entries, payout_items, payouts CASCADE`)
		} else {
			attacks = append(attacks,
				`INSERT OR REPLACE INTO ledger_entries (id, program_id, participant_id, reward_id, type, bucket, amount, currency, memo, created_at)
					SELECT id, program_id, participant_id, reward_id, type, bucket, 1, currency, memo, created_at FROM ledger_entries WHERE id = '`+id+`'`,
				`REPLACE INTO ledger_entries (id, program_id, participant_id, reward_id, type, bucket, amount, currency, memo, created_at)
					SELECT id, program_id, participant_id, reward_id, type, bucket, 1, currency, memo, created_at FROM ledger_entries WHERE id = '`+id+`'`)
		}
		for _, q := range attacks {
			_, err := e.St.DB().Exec(q)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v", strings.Fields(q)[0]+" "+strings.Fields(q)[1], err)
			}
		}
		var n int
		var sum int64
		if err := e.St.DB().QueryRow(`SELECT COUNT(*), SUM(amount) FROM ledger_entries WHERE bucket = $1`, parrain.BucketApproved).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		var all int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM ledger_entries`).Scan(&all); err != nil {
			t.Fatal(err)
		}
		if all != n0 || sum != 1000 {
			t.Errorf("ledger changed: %d entries (was %d), approved %d", all, n0, sum)
		}
	})
}

// Package storetest gives tests of the store and of the use cases one
// store per test on a fresh database (SQLite and PostgreSQL, through
// internal/dbtest), with a fake clock, the referral and program use cases
// on it, and small factories: a program, an advocate, an event ingested by
// the referral use cases, a ledger balance.
// It is imported by tests only.
package storetest

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// T0 is the fake clock's start.
var T0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// Env is one test's store on a fresh database with a fake clock.
type Env struct {
	T     *testing.T
	St    *store.Store
	Ref   *referral.Service
	Prog  *program.Service
	Clock *parrain.FakeClock
	URL   string
}

// Open opens a store on url with a fake clock at T0, closed when the test
// ends.
func Open(t *testing.T, url string) *Env {
	t.Helper()
	clock := parrain.NewFakeClock(T0)
	st, err := store.Open(context.Background(), url, store.Options{Clock: clock, Keys: dbtest.Keys()})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return &Env{T: t, St: st, Ref: referral.New(st), Prog: program.New(st), Clock: clock, URL: url}
}

// Each runs fn once per database engine, in parallel with other tests.
func Each(t *testing.T, fn func(t *testing.T, e *Env)) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) { fn(t, Open(t, url)) })
}

// Program creates a program (first purchase: 20.00 € cash to the advocate,
// a 10.00 € coupon to the friend, 30-day hold) changed by mod.
func (e *Env) Program(mod func(*parrain.Program)) parrain.Program {
	e.T.Helper()
	p := parrain.Program{Name: "Test", LandingURL: "https://shop.example/join", Currency: "EUR", HoldDays: 30,
		Rules: []parrain.RewardRule{{Trigger: parrain.TriggerFirstPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2000},
			Friend:   &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 1000}}}}
	if mod != nil {
		mod(&p)
	}
	p, _, err := e.Prog.Create(context.Background(), p, store.Idem{})
	if err != nil {
		e.T.Fatalf("create program: %v", err)
	}
	return p
}

// Advocate registers a participant.
func (e *Env) Advocate(prog, ext, email string) parrain.Participant {
	e.T.Helper()
	p, _, err := e.Ref.UpsertParticipant(context.Background(), prog, parrain.ParticipantInput{ExternalID: ext, Email: email}, store.Idem{})
	if err != nil {
		e.T.Fatalf("upsert participant: %v", err)
	}
	return p
}

// Event ingests an event through the referral use cases.
func (e *Env) Event(prog string, ev parrain.Event) parrain.EventResult {
	e.T.Helper()
	r, _, err := e.Ref.IngestEvent(context.Background(), prog, ev, store.Idem{})
	if err != nil {
		e.T.Fatalf("event %s: %v", ev.Type, err)
	}
	return r
}

// Balance sums a participant's ledger entries per bucket.
func (e *Env) Balance(participantID string) map[parrain.Bucket]int64 {
	e.T.Helper()
	rows, err := e.St.DB().Query(`SELECT bucket, SUM(amount) FROM ledger_entries WHERE participant_id = $1 GROUP BY bucket`, participantID)
	if err != nil {
		e.T.Fatal(err)
	}
	defer rows.Close()
	out := map[parrain.Bucket]int64{}
	for rows.Next() {
		var b string
		var v int64
		if err := rows.Scan(&b, &v); err != nil {
			e.T.Fatal(err)
		}
		out[parrain.Bucket(b)] = v
	}
	if err := rows.Err(); err != nil {
		e.T.Fatal(err)
	}
	return out
}

// FindEverywhere searches every column of every table of the live schema
// (as text, ignoring case) for each needle and returns where each was found
// ("table.column: needle"), for erasure tests: after an erasure nothing of
// the person may be found anywhere.
func FindEverywhere(t testing.TB, st *store.Store, needles ...string) []string {
	t.Helper()
	ctx := context.Background()
	cols, err := st.SchemaColumns(ctx)
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	var found []string
	for table, list := range cols {
		for _, c := range list {
			for _, n := range needles {
				var k int
				q := `SELECT COUNT(*) FROM ` + table + ` WHERE lower(CAST("` + c + `" AS TEXT)) LIKE $1`
				if err := st.DB().QueryRowContext(ctx, q, "%"+strings.ToLower(n)+"%").Scan(&k); err != nil {
					t.Fatalf("searching %s.%s: %v", table, c, err)
				}
				if k > 0 {
					found = append(found, table+"."+c+": "+n)
				}
			}
		}
	}
	sort.Strings(found)
	return found
}

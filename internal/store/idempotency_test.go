package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/store"
)

// Idempotency keys expire after the store's TTL (24 hours by default): a
// replay within it answers the first result; after it, the key is free
// for a new request, also one with another body.
func TestIdempotencyKeysExpire(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		if ttl := e.St.IdempotencyTTL(); ttl != 24*time.Hour {
			t.Fatalf("default TTL %s", ttl)
		}
		p := parrain.Program{Name: "A", LandingURL: "https://a.example", Currency: "EUR"}
		idem := store.Idem{Scope: store.IdemScope(""), Key: "k1", Hash: "h1"}
		a, replayed, err := e.Prog.Create(ctx, p, idem)
		if err != nil || replayed {
			t.Fatalf("first: %v %v", err, replayed)
		}
		e.Clock.Advance(24*time.Hour - time.Millisecond)
		b, replayed, err := e.Prog.Create(ctx, p, idem)
		if err != nil || !replayed || b.ID != a.ID {
			t.Fatalf("replay just before expiry: %v %v %s", err, replayed, b.ID)
		}
		if _, _, err := e.Prog.Create(ctx, p, store.Idem{Scope: idem.Scope, Key: "k1", Hash: "h2"}); parrain.ErrorCode(err) != parrain.CodeIdempotencyReuse {
			t.Fatalf("another body before expiry: %v", err)
		}
		e.Clock.Advance(time.Millisecond)
		// Expired: the same key is a new request, even with another body.
		p.Name = "B"
		c, replayed, err := e.Prog.Create(ctx, p, store.Idem{Scope: idem.Scope, Key: "k1", Hash: "h2"})
		if err != nil || replayed || c.ID == a.ID || c.Name != "B" {
			t.Fatalf("after expiry: %v %v %+v", err, replayed, c)
		}
		// The new request owns the key for the next 24 hours.
		d, replayed, err := e.Prog.Create(ctx, p, store.Idem{Scope: idem.Scope, Key: "k1", Hash: "h2"})
		if err != nil || !replayed || d.ID != c.ID {
			t.Fatalf("replay of the new request: %v %v %s", err, replayed, d.ID)
		}
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM programs`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("programs: %d %v", n, err)
		}
	})
}

// Two requests reusing one expired key at once have one effect: the
// conditional take-over lets one run and the other replay it.
func TestIdempotencyExpiredKeyConcurrentReuse(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := parrain.Program{Name: "A", LandingURL: "https://a.example", Currency: "EUR"}
		idem := store.Idem{Scope: store.IdemScope("prog_x"), Key: "k1", Hash: "h1"}
		if _, _, err := e.Prog.Create(ctx, p, idem); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(25 * time.Hour)
		var wg sync.WaitGroup
		ids := make([]string, 4)
		errs := make([]error, 4)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q, _, err := e.Prog.Create(ctx, p, idem)
				ids[i], errs[i] = q.ID, err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil || ids[i] != ids[0] {
				t.Fatalf("request %d: %v, id %s vs %s", i, err, ids[i], ids[0])
			}
		}
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM programs`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("programs: %d (want the first and one reuse) %v", n, err)
		}
	})
}

// A configured TTL is honoured, and the purge deletes expired keys only.
func TestIdempotencyTTLAndPurge(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		st, err := store.Open(ctx, e.URL, store.Options{Clock: e.Clock, IdempotencyTTL: time.Hour, Keys: dbtest.Keys()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		p := parrain.Program{Name: "A", LandingURL: "https://a.example", Currency: "EUR"}
		if _, _, err := program.New(st).Create(ctx, p, store.Idem{Scope: "installation", Key: "old", Hash: "h"}); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(59 * time.Minute)
		if _, _, err := program.New(st).Create(ctx, p, store.Idem{Scope: "installation", Key: "new", Hash: "h"}); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(time.Minute)
		n, err := st.PurgeIdempotencyKeys(ctx)
		if err != nil || n != 1 {
			t.Fatalf("purged %d, %v; want 1", n, err)
		}
		var keys []string
		rows, err := st.DB().Query(`SELECT key FROM idempotency_keys ORDER BY key`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
		if err := rows.Err(); err != nil || len(keys) != 1 || keys[0] != "new" {
			t.Fatalf("keys left %v, %v", keys, err)
		}
	})
}

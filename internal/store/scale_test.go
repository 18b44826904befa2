package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// TestConsoleAtScale fills a SQLite program with a million participants,
// half a million referrals and a million clicks, then runs the console's
// lists, searches and KPIs on it, checking their results and logging how
// long each took (docs/console.md quotes the figures). It takes about a
// minute, so it runs only with PARRAIN_SCALE_TEST=1.
func TestConsoleAtScale(t *testing.T) {
	if os.Getenv("PARRAIN_SCALE_TEST") != "1" {
		t.Skip("SKIP the million-row console test: set PARRAIN_SCALE_TEST=1 to run it (about a minute)")
	}
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "scale.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The program row only (internal/program creates programs; the store's
	// own tests cannot import it).
	p := parrain.Program{Name: "Scale", LandingURL: "https://x.example", Currency: "EUR"}
	if err := p.Normalize(); err != nil {
		t.Fatal(err)
	}
	p, _ = parrain.NewProgram(p, st.Clock().Now())
	if err := st.InTx(ctx, func(tx *Tx) error {
		var err error
		p.ID, err = tx.InsertProgram(ctx, p)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const n = 1000000
	const step = 30000 // one participant, one click every 30 s; a referral every minute
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := st.w.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	exec(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < $1)
		INSERT INTO participants (id, program_id, external_id, email, email_canonical, name, code, status, created_at, updated_at)
		SELECT printf('part_%012d', i), $2, printf('u%d', i), printf('user%d@mail.example', i), printf('user%d@mail.example', i),
		printf('%s N%d', substr('AliceBrunoChloeDavidEmmaFarid', 1 + (i % 6) * 5, 5), i), printf('C%07d', i), 'active', $3 + i * $4, $3 + i * $4 FROM c`,
		n, p.ID, base, step)
	exec(`WITH RECURSIVE c(i) AS (SELECT 2 UNION ALL SELECT i+2 FROM c WHERE i < $1)
		INSERT INTO referrals (id, program_id, advocate_id, friend_id, code, status, reason, via, signed_up_at, converted_at, created_at, review_status)
		SELECT printf('ref_%012d', i), $2, printf('part_%012d', 1 + (i % 1000) * 7), printf('part_%012d', i), 'X',
		CASE WHEN i % 3 = 0 THEN 'converted' WHEN i % 97 = 0 THEN 'rejected' ELSE 'signed_up' END, '', 'cookie',
		$3 + i * $4, CASE WHEN i % 3 = 0 THEN $3 + i * $4 + 3600000 END, $3 + i * $4,
		CASE WHEN i % 500 = 0 THEN 'flagged' ELSE 'none' END FROM c`, n, p.ID, base, step)
	exec(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < $1)
		INSERT INTO clicks (id, program_id, participant_id, code, valid, created_at)
		SELECT printf('clk_%012d', i), $2, printf('part_%012d', 1 + (i % 1000) * 7), 'X', 1, $3 + i * $4 FROM c`, n, p.ID, base, step)
	exec(`ANALYZE`)
	t.Logf("seeded %d participants, %d referrals, %d clicks in %v", n, n/2, n, time.Since(start).Round(time.Second))
	timed := func(name string, f func() error) {
		t.Helper()
		s := time.Now()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%-28s %v", name, time.Since(s).Round(10*time.Microsecond))
	}
	timed("search a name prefix", func() error {
		ps, err := st.SearchParticipants(ctx, p.ID, "emma", 50)
		if err == nil && (len(ps) != 50 || ps[0].Name[:4] != "Emma") {
			t.Errorf("search: %d results", len(ps))
		}
		return err
	})
	timed("search a code", func() error {
		ps, err := st.SearchParticipants(ctx, p.ID, "c0500000", 50)
		if err == nil && (len(ps) != 1 || ps[0].ExternalID != "u500000") {
			t.Errorf("code search: %+v", ps)
		}
		return err
	})
	timed("participants, deep page", func() error {
		ps, _, err := st.ParticipantsPage(ctx, p.ID, Page{Limit: 50, Cursor: "part_000000100000"})
		if err == nil && (len(ps) != 50 || ps[0].ID != "part_000000099999") {
			t.Errorf("deep page starts at %s", ps[0].ID)
		}
		return err
	})
	timed("referrals, first page", func() error {
		_, _, err := st.ReferralsPage(ctx, ReferralQuery{ProgramID: p.ID}, Page{Limit: 50})
		return err
	})
	timed("referrals, deep page", func() error {
		_, _, err := st.ReferralsPage(ctx, ReferralQuery{ProgramID: p.ID}, Page{Limit: 50, Cursor: "1700000000000.ref_000000200000"})
		return err
	})
	timed("referrals, converted", func() error {
		rs, _, err := st.ReferralsPage(ctx, ReferralQuery{ProgramID: p.ID, Status: "converted"}, Page{Limit: 50})
		for _, r := range rs {
			if r.Status != parrain.ReferralConverted {
				t.Errorf("status filter let %s through", r.Status)
			}
		}
		return err
	})
	timed("referrals, flagged", func() error {
		rs, _, err := st.ReferralsPage(ctx, ReferralQuery{ProgramID: p.ID, Flagged: true}, Page{Limit: 50})
		if err == nil && len(rs) != 50 {
			t.Errorf("flagged: %d", len(rs))
		}
		return err
	})
	timed("referrals, date range", func() error {
		_, _, err := st.ReferralsPage(ctx, ReferralQuery{ProgramID: p.ID, From: time.UnixMilli(base + 100000*step), To: time.UnixMilli(base + 200000*step)}, Page{Limit: 50})
		return err
	})
	from := time.UnixMilli(base + 500000*step)
	to := from.Add(30 * 24 * time.Hour)
	timed("KPIs, 30 days", func() error {
		k, err := st.KPIActivity(ctx, p.ID, p.Currency, from, to)
		if err == nil && k.Clicks != int64(30*24*3600*1000/step) {
			t.Errorf("clicks in 30 days: %d", k.Clicks)
		}
		return err
	})
	timed("KPIs, 365 days", func() error {
		_, err := st.KPIActivity(ctx, p.ID, p.Currency, from, from.Add(365*24*time.Hour))
		return err
	})
	timed("daily series, 30 days", func() error { _, err := st.DailyCounts(ctx, p.ID, from, to); return err })
	timed("top advocates, 30 days", func() error { _, err := st.AdvocateFigures(ctx, p.ID, p.Currency, from, to, 10); return err })
}

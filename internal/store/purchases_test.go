package store_test

import (
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/store"
)

// insertPurchases stores purchases in one transaction and returns whether
// each was new.
func (e *env) insertPurchases(ps ...store.Purchase) []bool {
	e.T.Helper()
	var out []bool
	e.inTx(func(tx *store.Tx) error {
		for _, p := range ps {
			ok, err := tx.InsertPurchase(ctx, p)
			if err != nil {
				return err
			}
			out = append(out, ok)
		}
		return nil
	})
	return out
}

// Purchases: one per order and program, read back by order (locked) and by
// event, ranked among their referral's payments, counted per participant
// over a half-open window.
func TestPurchaseRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		adv := e.Advocate(prog.ID, "a", "a@example.com")
		friend := e.Advocate(prog.ID, "f", "f@example.com")
		oth := e.Advocate(other.ID, "o", "o@example.com")
		day := 24 * time.Hour
		ps := []store.Purchase{
			{ID: "pur_01", ProgramID: prog.ID, ParticipantID: friend.ID, ReferralID: "ref_x", OrderID: "o-1", Amount: 5000, Currency: "EUR", EventID: "evt_1", OccurredAt: t0},
			{ID: "pur_02", ProgramID: prog.ID, ParticipantID: friend.ID, ReferralID: "ref_x", OrderID: "o-2", Amount: 700, Currency: "EUR", EventID: "evt_2", OccurredAt: t0.Add(day)},
			{ID: "pur_03", ProgramID: prog.ID, ParticipantID: adv.ID, OrderID: "o-3", Amount: 100, Currency: "EUR", EventID: "evt_3", OccurredAt: t0.Add(2 * day)},
			// The same order id in another program is another purchase.
			{ID: "pur_04", ProgramID: other.ID, ParticipantID: oth.ID, OrderID: "o-1", Amount: 900, Currency: "USD", EventID: "evt_4", OccurredAt: t0},
			// The same order reported again in the same program is not.
			{ID: "pur_05", ProgramID: prog.ID, ParticipantID: friend.ID, OrderID: "o-1", Amount: 1, Currency: "EUR", EventID: "evt_5", OccurredAt: t0},
		}
		if got := e.insertPurchases(ps...); len(got) != 5 || !got[0] || !got[1] || !got[2] || !got[3] || got[4] {
			t.Fatalf("inserted %v, want [true true true true false]", got)
		}

		var byOrder []store.Purchase
		e.inTx(func(tx *store.Tx) error {
			for _, order := range []string{"o-1", "o-3", "o-none"} {
				p, found, err := tx.PurchaseByOrderForUpdate(ctx, prog.ID, order)
				if err != nil {
					return err
				}
				if found != (order != "o-none") {
					t.Errorf("order %s: found %v", order, found)
				}
				byOrder = append(byOrder, p)
			}
			return nil
		})
		want := store.Purchase{ID: "pur_01", ProgramID: prog.ID, ReferralID: "ref_x", OrderID: "o-1", Amount: 5000, Currency: "EUR", OccurredAt: t0}
		if got := byOrder[0]; got.ID != want.ID || got.ProgramID != want.ProgramID || got.ReferralID != want.ReferralID || got.OrderID != want.OrderID ||
			got.Amount != want.Amount || got.Currency != want.Currency || got.Refunded != 0 || !got.OccurredAt.Equal(t0) {
			t.Errorf("o-1 read back as %+v", got)
		}
		if got := byOrder[1]; got.ID != "pur_03" || got.ReferralID != "" || got.Amount != 100 || !got.OccurredAt.Equal(t0.Add(2*day)) {
			t.Errorf("o-3 (not referred) read back as %+v", got)
		}

		for _, c := range []struct {
			event    string
			found    bool
			id       string
			amount   int64
			currency string
		}{
			{"evt_1", true, "pur_01", 5000, "EUR"},
			{"evt_4", true, "pur_04", 900, "USD"},
			{"evt_5", false, "", 0, ""}, // the duplicate report stored nothing
			{"evt_none", false, "", 0, ""},
		} {
			p, found, err := e.St.PurchaseOfEvent(ctx, c.event)
			if err != nil {
				t.Fatalf("%s: %v", c.event, err)
			}
			if found != c.found || p.ID != c.id || p.Amount != c.amount || p.Currency != c.currency {
				t.Errorf("%s: %+v found=%v", c.event, p, found)
			}
		}

		for _, c := range []struct {
			purchase string
			rank     int
		}{{"pur_01", 1}, {"pur_02", 2}} {
			n, first, err := e.St.PaymentRank(ctx, "ref_x", c.purchase)
			if err != nil {
				t.Fatal(err)
			}
			if n != c.rank || !first.Equal(t0) {
				t.Errorf("rank of %s: %d first %v", c.purchase, n, first)
			}
			e.inTx(func(tx *store.Tx) error {
				n2, first2, err := tx.PaymentRank(ctx, "ref_x", c.purchase)
				if n2 != n || !first2.Equal(first) {
					t.Errorf("in a transaction: rank %d first %v", n2, first2)
				}
				return err
			})
		}

		for _, c := range []struct {
			name     string
			who      string
			from, to time.Time
			want     int
		}{
			{"the window excludes its start", friend.ID, t0, t0.Add(3 * day), 1},
			{"and includes its end", friend.ID, t0.Add(-time.Millisecond), t0.Add(day), 2},
			{"before the first", friend.ID, t0.Add(-day), t0.Add(-time.Millisecond), 0},
			{"another participant", adv.ID, t0, t0.Add(2 * day), 1},
			{"unknown participant", "par_none", t0.Add(-day), t0.Add(9 * day), 0},
		} {
			e.inTx(func(tx *store.Tx) error {
				n, err := tx.PurchasesBetween(ctx, c.who, c.from, c.to)
				if n != c.want {
					t.Errorf("%s: %d, want %d", c.name, n, c.want)
				}
				return err
			})
		}
	})
}

// Refunds raise their purchase's refunded total; each refund's event
// reads back the running total at that refund, never more than the amount.
func TestRefundRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		friend := e.Advocate(prog.ID, "f", "f@example.com")
		e.insertPurchases(store.Purchase{ID: "pur_01", ProgramID: prog.ID, ParticipantID: friend.ID, OrderID: "o-1", Amount: 5000, Currency: "EUR", EventID: "evt_p", OccurredAt: t0})
		refunds := []struct {
			event  string
			amount int64
		}{{"evt_r1", 1000}, {"evt_r2", 2500}}
		var total int64
		for _, r := range refunds {
			total += r.amount
			e.Clock.Advance(time.Second)
			e.inTx(func(tx *store.Tx) error { return tx.RecordRefund(ctx, prog.ID, "pur_01", r.amount, total, r.event) })
		}
		e.inTx(func(tx *store.Tx) error {
			p, found, err := tx.PurchaseByOrderForUpdate(ctx, prog.ID, "o-1")
			if !found || p.Refunded != 3500 {
				t.Errorf("after refunds: %+v found=%v", p, found)
			}
			return err
		})
		for _, c := range []struct {
			event string
			found bool
			total int64
		}{{"evt_r1", true, 1000}, {"evt_r2", true, 3500}, {"evt_p", false, 0}} {
			r, found, err := e.St.RefundOfEvent(ctx, c.event)
			if err != nil {
				t.Fatalf("%s: %v", c.event, err)
			}
			if found != c.found || r.RefundedTotal != c.total {
				t.Errorf("%s: %+v found=%v", c.event, r, found)
			}
			if found && (r.PurchaseID != "pur_01" || r.PurchaseAmount != 5000) {
				t.Errorf("%s: purchase %+v", c.event, r)
			}
		}
		// The database refuses a refunded total above the amount.
		if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.RecordRefund(ctx, prog.ID, "pur_01", 2000, 5500, "evt_r3") }); err == nil {
			t.Fatal("refunding more than the amount was accepted")
		}
		if _, found, err := e.St.RefundOfEvent(ctx, "evt_r3"); err != nil || found {
			t.Fatalf("the refused refund was kept: %v %v", found, err)
		}
	})
}

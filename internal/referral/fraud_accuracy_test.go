package referral_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Regression tests of issue 14 (fraud accuracy on traffic the detector was
// not built from): the wiring between what integrators send and what the
// fraud package is given.

// signalsOf returns the codes of a referral's stored signals.
func (e *env) signalsOf(referralID string) map[fraud.Code]bool {
	e.T.Helper()
	var doc string
	if err := e.St.DB().QueryRow(`SELECT risk_signals FROM referrals WHERE id = $1`, referralID).Scan(&doc); err != nil {
		e.T.Fatalf("query: %v", err)
	}
	out := map[fraud.Code]bool{}
	for _, c := range fraud.Catalogue() {
		if strings.Contains(doc, `"`+string(c.Code)+`"`) {
			out[c.Code] = true
		}
	}
	return out
}

// TestFraudVelocityBurst: the program baseline is per active advocate (not
// the program's total, which hid every burst in a busy program), the
// window slides (a burst straddling a clock hour counts whole), and the
// first signups of a burst are held once it shows.
func TestFraudVelocityBurst(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(signupRewards)
		// A busy program: 20 advocates bring one signup an hour each for
		// three hours (20 signups an hour program-wide).
		others := make([]parrain.Participant, 20)
		for i := range others {
			others[i] = e.Advocate(prog.ID, fmt.Sprintf("adv%d", i), fmt.Sprintf("adv%d@company.example", i))
		}
		for h := range 3 {
			for i, o := range others {
				e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: fmt.Sprintf("f%d-%d", h, i),
					Email: fmt.Sprintf("friend%d.%d@mail.example", h, i), ReferralCode: o.Code})
			}
			e.Clock.Advance(time.Hour)
		}
		// Start the burst 20 minutes before a clock hour: a signup every 5
		// minutes, so the fifth lands on the hour and the hour buckets of
		// the old count held at most 4 and 1.
		now := e.Clock.Now()
		e.Clock.Advance(now.Truncate(time.Hour).Add(time.Hour - 20*time.Minute).Sub(now))
		burster := e.Advocate(prog.ID, "burster", "burster@company.example")
		var refs []parrain.Referral
		for i := range 5 {
			r := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: fmt.Sprintf("b%d", i),
				Email: fmt.Sprintf("person.number%d@mail.example", i), ReferralCode: burster.Code})
			refs = append(refs, *r.Referral)
			e.Clock.Advance(5 * time.Minute)
		}
		for i, r := range refs[:4] {
			if r.ReviewStatus != parrain.ReviewNone {
				t.Fatalf("signup %d before the burst shows: %+v", i, r)
			}
		}
		if last := refs[4]; last.ReviewStatus != parrain.ReviewHeld || !e.signalsOf(last.ID)[fraud.BehVelocityBurst] {
			t.Fatalf("fifth signup in 20 minutes: %+v %v", last, e.signalsOf(last.ID))
		}
		// The first four are scored again now that the burst is visible.
		q, _, err := e.Ref.ReviewQueue(ctx, prog.ID, parrain.ReviewHeld, store.Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		held := map[string]bool{}
		for _, it := range q {
			held[it.Referral.ID] = true
		}
		for i, r := range refs {
			if !held[r.ID] || !e.signalsOf(r.ID)[fraud.BehVelocityBurst] {
				t.Errorf("burst signup %d not held with the velocity signal: %v", i, e.signalsOf(r.ID))
			}
		}
		if len(q) != len(refs) {
			t.Errorf("held %d referrals, want only the burst's %d", len(q), len(refs))
		}
	})
}

// TestFraudCodeAndCookie: the documented signup call sends the code and
// the cookie together. When they agree the click is linked (clicked_at and
// the click-based signals); when they disagree the typed code wins and the
// other advocate's click is not linked.
func TestFraudCodeAndCookie(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(signupRewards)
		anna := e.Advocate(prog.ID, "anna", "anna@company.example")
		bob := e.Advocate(prog.ID, "bob", "bob@company.example")
		at := e.Clock.Now().Add(-10 * time.Minute).Truncate(time.Second)
		if err := e.St.InsertClicks(ctx, []store.Click{{ProgramID: prog.ID, ParticipantID: anna.ID, Code: anna.Code, Valid: true,
			IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", Referer: "https://www.retailmenot.com/view/shop.example", At: at}}); err != nil {
			t.Fatal(err)
		}
		cookie := parrain.TouchCookie([]parrain.Touch{{Code: anna.Code, At: at}})
		// No IP in the event's context: the click is found through the
		// cookie, not through a matching address.
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", Email: "f1@mail.example",
			ReferralCode: anna.Code, ReferralCookie: cookie})
		if r.Credited == nil || r.Credited.ExternalID != "anna" || r.Referral.ClickedAt == nil || !r.Referral.ClickedAt.Equal(at) {
			t.Fatalf("code and cookie agree: %+v", r.Referral)
		}
		if !e.signalsOf(r.Referral.ID)[fraud.LeakCouponSite] || r.Referral.ReviewStatus != parrain.ReviewHeld {
			t.Errorf("the linked click's coupon-site referer is not evidence: %v %+v", e.signalsOf(r.Referral.ID), r.Referral)
		}
		var via string
		if err := e.St.DB().QueryRow(`SELECT via FROM referrals WHERE id = $1`, r.Referral.ID).Scan(&via); err != nil || via != "cookie" {
			t.Errorf("via %q, %v", via, err)
		}
		// The code names Bob, the cookie Anna: Bob is credited, Anna's click
		// is not linked.
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f2", Email: "f2@mail.example",
			ReferralCode: bob.Code, ReferralCookie: cookie})
		if r.Credited == nil || r.Credited.ExternalID != "bob" || r.Referral.ClickedAt != nil || e.signalsOf(r.Referral.ID)[fraud.LeakCouponSite] {
			t.Fatalf("code and cookie disagree: %+v %v", r.Referral, e.signalsOf(r.Referral.ID))
		}
	})
}

// TestFraudAutomatedClicks: scripted clicks are evidence at signup
// (net.automated_clicks) and, with nobody signing up, raise the alert.
func TestFraudAutomatedClicks(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		if store.AutomatedClickAlertAt != fraud.DefaultTuning().AutomatedClicks {
			t.Fatalf("alert threshold %d differs from the signal's %d", store.AutomatedClickAlertAt, fraud.DefaultTuning().AutomatedClicks)
		}
		prog := e.Program(signupRewards)
		anna := e.Advocate(prog.ID, "anna", "anna@company.example")
		carl := e.Advocate(prog.ID, "carl", "carl@company.example")
		scripted := func(p parrain.Participant, n int) {
			t.Helper()
			var cs []store.Click
			for i := range n {
				cs = append(cs, store.Click{ProgramID: prog.ID, ParticipantID: p.ID, Code: p.Code, Valid: true, Automated: true,
					IP: fmt.Sprintf("192.0.2.%d", i+1), UserAgent: "python-requests/2.31", At: e.Clock.Now().Add(-time.Duration(n-i) * time.Second)})
			}
			if err := e.St.InsertClicks(ctx, cs); err != nil {
				t.Fatal(err)
			}
		}
		// Carl has a signup: his scripted clicks are evidence, not an alert.
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "c1", Email: "c1@mail.example", ReferralCode: carl.Code})
		e.Clock.Advance(time.Minute)
		scripted(carl, 5)
		// Anna's code is flooded by a script and nobody signs up.
		scripted(anna, 5)
		as, err := e.St.Alerts(ctx, prog.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 1 || as[0].Kind != store.AlertAutomatedClickFlood || as[0].Subject != anna.Code {
			t.Fatalf("alerts %+v", as)
		}
		// A friend arriving on Anna's code now carries the flood as evidence.
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "a1", Email: "a1@mail.example", ReferralCode: anna.Code})
		if !e.signalsOf(r.Referral.ID)[fraud.NetAutomatedClicks] || r.Referral.ReviewStatus != parrain.ReviewHeld {
			t.Errorf("automated clicks not used: %v %+v", e.signalsOf(r.Referral.ID), r.Referral)
		}
	})
}

// TestFraudWeakDetectors: short random local parts score, and an operator's
// disposable domains count on top of the shipped list, per program.
func TestFraudWeakDetectors(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(signupRewards)
		other := e.Program(signupRewards)
		adv := e.Advocate(prog.ID, "adv", "anna@company.example")
		adv2 := e.Advocate(other.ID, "adv", "anna@company.example")
		for _, email := range []string{"xk7q2m@mail.example", "gfpfh5635@mail.example"} {
			r := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: email, Email: email, ReferralCode: adv.Code})
			if !e.signalsOf(r.Referral.ID)[fraud.IDRandomEmail] {
				t.Errorf("%s: random local part not scored: %v", email, e.signalsOf(r.Referral.ID))
			}
		}
		p, err := e.Ref.FraudPolicy(ctx, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		p.Lists.ExtraDisposableDomains = []string{"burner.example"}
		if _, err := e.Ref.SetFraudPolicy(ctx, prog.ID, p); err != nil {
			t.Fatal(err)
		}
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "b1", Email: "jean.martin@burner.example", ReferralCode: adv.Code})
		if !e.signalsOf(r.Referral.ID)[fraud.IDDisposableEmail] || r.Referral.ReviewStatus != parrain.ReviewHeld {
			t.Errorf("operator-listed disposable domain: %v %+v", e.signalsOf(r.Referral.ID), r.Referral)
		}
		r = e.Event(other.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "b1", Email: "jean.martin@burner.example", ReferralCode: adv2.Code})
		if e.signalsOf(r.Referral.ID)[fraud.IDDisposableEmail] {
			t.Errorf("another program's list applied: %v", e.signalsOf(r.Referral.ID))
		}
	})
}

// TestFraudRefundAfterUse: in a program that reports activity, a friend who
// used the product and then refunded is a customer who changed their mind
// (the refund reverses the order's rewards; the referral is not held),
// while a friend who never used it, or the next refunding friend of the
// same advocate, is held. The refunded referral is not its own history.
func TestFraudRefundAfterUse(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			p.Rules = append(p.Rules, parrain.RewardRule{Trigger: parrain.TriggerSignup,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 300}})
		})
		anna := e.Advocate(prog.ID, "anna", "anna@company.example")
		carl := e.Advocate(prog.ID, "carl", "carl@company.example")
		buy := func(adv parrain.Participant, friend, order string, uses int) {
			t.Helper()
			e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: friend, Email: friend + "@mail.example",
				ReferralCode: adv.Code, OrderID: order, Amount: 5000, Currency: "EUR"})
			for range uses {
				e.Event(prog.ID, parrain.Event{Type: parrain.EventActivity, ExternalID: friend})
			}
			e.Clock.Advance(time.Hour)
		}
		buy(anna, "used", "o1", 3)
		buy(carl, "never", "o2", 0)
		buy(anna, "used2", "o3", 2)
		refund := func(order string) *parrain.Referral {
			t.Helper()
			r := e.Event(prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: order, Amount: 5000})
			if r.Referral == nil {
				t.Fatalf("refund of %s: no referral", order)
			}
			return r.Referral
		}
		if r := refund("o1"); r.ReviewStatus != parrain.ReviewNone || e.signalsOf(r.ID)[fraud.BehQuickRefund] {
			t.Errorf("refund after using the product: %+v %v", r, e.signalsOf(r.ID))
		}
		if r := refund("o2"); r.ReviewStatus != parrain.ReviewHeld || !e.signalsOf(r.ID)[fraud.BehQuickRefund] {
			t.Errorf("refund without any product use: %+v %v", r, e.signalsOf(r.ID))
		}
		if r := refund("o3"); r.ReviewStatus != parrain.ReviewHeld || !e.signalsOf(r.ID)[fraud.BehQuickRefund] {
			t.Errorf("anna's second refunding friend: %+v %v", r, e.signalsOf(r.ID))
		}
	})
}

// TestFraudClickSync: clicks are written in batches after the redirect
// answered, so a script signing up at once would be scored without its
// click. A signup whose cookie holds a click of the last seconds waits for
// the click writer (SetClickSync); an older click does not wait.
func TestFraudClickSync(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(signupRewards)
		anna := e.Advocate(prog.ID, "anna", "anna@company.example")
		var pending []store.Click // what the click writer holds, not written yet
		waits := 0
		e.Ref.SetClickSync(func(ctx context.Context) error {
			waits++
			err := e.St.InsertClicks(ctx, pending)
			pending = nil
			return err
		})
		at := e.Clock.Now().Truncate(time.Second)
		pending = append(pending, store.Click{ProgramID: prog.ID, ParticipantID: anna.ID, Code: anna.Code, Valid: true, Automated: true,
			IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0.0.0 Safari/537.36", At: at})
		cookie := parrain.TouchCookie([]parrain.Touch{{Code: anna.Code, At: at}})
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", Email: "f1@mail.example", ReferralCookie: cookie})
		if waits != 1 || r.Referral.ClickedAt == nil || !e.signalsOf(r.Referral.ID)[fraud.NetBotClick] || r.Referral.ReviewStatus != parrain.ReviewHeld {
			t.Fatalf("signup right after a headless click: waits %d %+v %v", waits, r.Referral, e.signalsOf(r.Referral.ID))
		}
		// A click of ten minutes ago is written already: no wait.
		e.Clock.Advance(10 * time.Minute)
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f2", Email: "f2@mail.example",
			ReferralCookie: parrain.TouchCookie([]parrain.Touch{{Code: anna.Code, At: at}})})
		if waits != 1 || r.Referral == nil {
			t.Fatalf("signup ten minutes after the click waited: %d %+v", waits, r.Referral)
		}
		// A failing barrier only leaves the click unseen.
		e.Ref.SetClickSync(func(context.Context) error { return context.DeadlineExceeded })
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f3", Email: "f3@mail.example",
			ReferralCookie: parrain.TouchCookie([]parrain.Touch{{Code: anna.Code, At: e.Clock.Now().Truncate(time.Second)}})})
		if r.Referral == nil || r.Credited == nil || r.Credited.ExternalID != "anna" {
			t.Fatalf("signup with a failing click barrier: %+v", r)
		}
	})
}

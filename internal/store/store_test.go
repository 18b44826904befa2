package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/storetest"
)

var t0 = storetest.T0

// env is one test's store on a fresh database with a fake clock
// (internal/storetest).
type env struct{ *storetest.Env }

func open(t *testing.T, url string) *env { return &env{storetest.Open(t, url)} }

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) { fn(t, &env{e}) })
}

var ctx = context.Background()

func TestParticipantCodes(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		a := e.Advocate(prog.ID, "u1", "Ann@Example.com")
		if len(a.Code) != parrain.CodeLength || strings.ContainsAny(a.Code, "01OIL") {
			t.Errorf("generated code %q", a.Code)
		}
		if a.Email != "Ann@example.com" {
			t.Errorf("email %q", a.Email)
		}
		// Upsert again: same participant, same code, fields updated.
		a2, created, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "u1", Name: "Ann"}, store.Idem{})
		if err != nil || created || a2.ID != a.ID || a2.Code != a.Code || a2.Name != "Ann" || a2.Email != a.Email {
			t.Fatalf("update: %+v created=%v err=%v", a2, created, err)
		}
		v, created, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "u2", Code: "bob-vip"}, store.Idem{})
		if err != nil || !created || v.Code != "BOB-VIP" {
			t.Fatalf("vanity: %+v %v", v, err)
		}
		// Taken vanity codes are refused, case-insensitively, in any program.
		other := e.Program(nil)
		_, _, err = e.Ref.UpsertParticipant(ctx, other.ID, parrain.ParticipantInput{ExternalID: "u3", Code: "Bob-Vip"}, store.Idem{})
		if pe := parrain.AsError(err); pe == nil || pe.Code != parrain.CodeConflict || pe.Field != "code" {
			t.Fatalf("taken vanity: %v", err)
		}
		_, _, err = e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "u1", Code: "BOB-VIP"}, store.Idem{})
		if parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("taking another's code: %v", err)
		}
		tg, err := e.St.ResolveCode(ctx, strings.ToLower(a.Code))
		if err != nil || tg.ParticipantID != a.ID || !tg.Active {
			t.Fatalf("resolve: %+v %v", tg, err)
		}
		if _, err := e.St.ResolveCode(ctx, "NOPE234"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("unknown code: %v", err)
		}
		if _, _, err := e.Ref.UpsertParticipant(ctx, "prog_missing", parrain.ParticipantInput{ExternalID: "x"}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("missing program: %v", err)
		}
	})
}

func TestAttribution(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		last := e.Program(nil)
		first := e.Program(func(p *parrain.Program) { p.AttributionModel = parrain.FirstClick; p.CookieWindowDays = 7 })
		a1, a2 := e.Advocate(last.ID, "a1", "a1@x.example"), e.Advocate(last.ID, "a2", "a2@x.example")
		b1, b2 := e.Advocate(first.ID, "b1", ""), e.Advocate(first.ID, "b2", "")
		now := e.Clock.Now()
		touches := func(x, y parrain.Participant) []parrain.Touch {
			return []parrain.Touch{{Code: x.Code, At: now.Add(-72 * time.Hour)}, {Code: y.Code, At: now.Add(-time.Hour)}}
		}
		r := e.Event(last.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", Touches: touches(a1, a2)})
		if r.Credited == nil || r.Credited.ExternalID != "a2" {
			t.Errorf("last_click credited %+v", r.Credited)
		}
		r = e.Event(first.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", Touches: touches(b1, b2)})
		if r.Credited == nil || r.Credited.ExternalID != "b1" {
			t.Errorf("first_click credited %+v", r.Credited)
		}
		// Outside the 7-day window: nobody is credited.
		r = e.Event(first.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f2",
			Touches: []parrain.Touch{{Code: b1.Code, At: now.Add(-8 * 24 * time.Hour)}}})
		if r.Credited != nil || r.Referral != nil {
			t.Errorf("expired touch credited %+v", r.Credited)
		}
		// A person is referred at most once per program.
		r = e.Event(last.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", ReferralCode: a1.Code})
		if !r.Duplicate || r.Credited.ExternalID != "a2" {
			t.Errorf("second referral of f1: %+v", r)
		}
		// A code of another program gives no credit.
		r = e.Event(last.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f3", ReferralCode: b1.Code})
		if r.Credited != nil {
			t.Errorf("foreign code credited %+v", r.Credited)
		}
		// Self-referral by Gmail variant: recorded, rejected, not rewarded.
		g := e.Advocate(last.ID, "g", "jane.doe@gmail.com")
		r = e.Event(last.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "g2", Email: "JaneDoe+promo@googlemail.com", ReferralCode: g.Code})
		if r.Referral == nil || r.Referral.Status != parrain.ReferralRejected || r.Referral.Reason != parrain.ReasonSelfReferral {
			t.Fatalf("self referral: %+v", r.Referral)
		}
		r = e.Event(last.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "g2", OrderID: "o-self", Amount: 5000, Currency: "EUR"})
		if len(r.Rewards) != 0 {
			t.Errorf("self-referral rewarded: %+v", r.Rewards)
		}
		r = e.Event(last.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "a1", ReferralCode: a1.Code})
		if r.Referral == nil || r.Referral.Status != parrain.ReferralRejected {
			t.Errorf("same external id: %+v", r.Referral)
		}
		// Disabled advocates earn nothing.
		if _, _, err := e.Ref.UpsertParticipant(ctx, last.ID, parrain.ParticipantInput{ExternalID: "a1", Status: parrain.ParticipantDisabled}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		r = e.Event(last.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f9", ReferralCode: a1.Code})
		if r.Credited != nil {
			t.Errorf("disabled advocate credited")
		}
		refs, _, err := e.St.Referrals(ctx, last.ID, store.ReferralFilter{Status: "rejected"}, store.Page{})
		if err != nil || len(refs) != 2 {
			t.Errorf("rejected referrals: %d %v", len(refs), err)
		}
	})
}

func TestRewardLifecycle(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			p.Rules = append(p.Rules,
				parrain.RewardRule{Trigger: parrain.TriggerPurchase, Advocate: &parrain.RewardSpec{Kind: parrain.KindCredit, Type: parrain.AmountPercent, PercentBps: 1000, MaxAmount: 700}},
				parrain.RewardRule{Trigger: parrain.TriggerSignup, Friend: &parrain.RewardSpec{Kind: parrain.KindCustom, Type: parrain.AmountFixed, Amount: 1, Description: "free month"}})
		})
		adv := e.Advocate(prog.ID, "adv", "adv@x.example")
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "fr", ReferralCode: adv.Code})
		if len(r.Rewards) != 1 || r.Rewards[0].Role != parrain.RoleFriend || r.Rewards[0].Kind != parrain.KindCustom {
			t.Fatalf("signup rewards: %+v", r.Rewards)
		}
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "fr", OrderID: "o1", Amount: 4999, Currency: "EUR"})
		got := map[string]int64{}
		for _, rw := range r.Rewards {
			got[string(rw.Role)+"/"+rw.RuleID] = rw.Amount
			if rw.Status != parrain.RewardPending || !rw.HoldUntil.Equal(e.Clock.Now().Add(30*24*time.Hour)) {
				t.Errorf("reward %s: %s hold %v", rw.ID, rw.Status, rw.HoldUntil)
			}
		}
		want := map[string]int64{"advocate/rule_1": 2000, "friend/rule_1": 1000, "advocate/rule_2": 500}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("purchase rewards %v, want %v", got, want)
		}
		// Second purchase: only the every-purchase rule, capped.
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "fr", OrderID: "o2", Amount: 10000, Currency: "EUR"})
		if len(r.Rewards) != 1 || r.Rewards[0].Amount != 700 {
			t.Fatalf("second purchase: %+v", r.Rewards)
		}
		// Same order again: duplicate, nothing new.
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "fr", OrderID: "o2", Amount: 10000, Currency: "EUR"})
		if !r.Duplicate || len(r.Rewards) != 0 {
			t.Fatalf("duplicate order: %+v", r)
		}
		if b := e.Balance(adv.ID); b[parrain.BucketPending] != 3200 {
			t.Fatalf("advocate pending %v", b)
		}
		// Partial refund of o1 during the hold: the percentage reward is
		// reversed in proportion, the fixed ones stay.
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o1", Amount: 2000})
		if len(r.Reversals) != 1 || r.Reversals[0].Amount != 200 || r.Reversals[0].EntryType != parrain.EntryReversal {
			t.Fatalf("partial refund reversals: %+v", r.Reversals)
		}
		// Refunding more than is left is refused and changes nothing.
		_, _, err := e.Ref.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o1", Amount: 3000}, store.Idem{})
		if pe := parrain.AsError(err); pe == nil || pe.Field != "amount" {
			t.Fatalf("over-refund: %v", err)
		}
		if _, _, err := e.Ref.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "nope", Amount: 1}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("refund of unknown order: %v", err)
		}
		// Before the hold ends nothing is approved.
		rewards, _, _ := e.St.ParticipantRewards(ctx, adv.ID, "", store.Page{})
		for _, rw := range rewards {
			if ok, nb, err := e.St.ApproveReward(ctx, rw.ID); err != nil || ok || nb.IsZero() {
				t.Fatalf("approve during hold: %v %v %v", ok, nb, err)
			}
		}
		// Full refund of o1 during the hold: everything on o1 is reversed.
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o1", Amount: 2999})
		if len(r.Reversals) != 3 {
			t.Fatalf("full refund reversals: %+v", r.Reversals)
		}
		for _, rv := range r.Reversals {
			if rv.Status != parrain.RewardReversed {
				t.Errorf("reversal %+v", rv)
			}
		}
		// A refund right after the reward is a fraud signal: the referral
		// now waits for review, and a reviewer clears it.
		if r.Referral == nil || r.Referral.ReviewStatus != parrain.ReviewHeld {
			t.Fatalf("referral after a quick refund: %+v", r.Referral)
		}
		if _, err := e.Ref.ReviewReferral(ctx, prog.ID, r.Referral.ID, store.ReviewDecisionClear, "known customer", "tester"); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(31 * 24 * time.Hour)
		approved := 0
		for _, rw := range rewards {
			ok, _, err := e.St.ApproveReward(ctx, rw.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				approved++
				if rw.OrderID != "o2" {
					t.Errorf("approved %s of order %s", rw.ID, rw.OrderID)
				}
			}
			// Approving again is a no-op.
			if ok, _, _ := e.St.ApproveReward(ctx, rw.ID); ok {
				t.Errorf("approved twice")
			}
		}
		if approved != 1 {
			t.Fatalf("approved %d rewards, want 1 (o2's)", approved)
		}
		if b := e.Balance(adv.ID); b[parrain.BucketPending] != 0 || b[parrain.BucketApproved] != 700 {
			t.Fatalf("balances after approval %v", b)
		}
		// A refund after approval is a clawback (negative adjustment).
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o2", Amount: 10000})
		if len(r.Reversals) != 1 || r.Reversals[0].EntryType != parrain.EntryClawback || r.Reversals[0].Status != parrain.RewardClawedBack {
			t.Fatalf("clawback: %+v", r.Reversals)
		}
		if b := e.Balance(adv.ID); b[parrain.BucketApproved] != 0 {
			t.Fatalf("balances after clawback %v", b)
		}
		st, err := e.St.ParticipantStats(ctx, adv.ID)
		if err != nil || st.Signups != 1 || st.Purchases != 1 || st.Rewards["clawed_back"]["EUR"] != 0 {
			t.Fatalf("stats %+v %v", st, err)
		}
		// Every reward was reversed or clawed back: the named fields say
		// how much was granted and how much refunds took back, where the
		// kept "rewards" field shows what is left (0).
		var granted int64
		for _, byCur := range st.RewardsGranted {
			granted += byCur["EUR"]
		}
		if granted == 0 || st.RewardsReversed["EUR"] != granted || st.RewardsGranted["clawed_back"]["EUR"] != 700 ||
			st.RewardsOutstanding["clawed_back"]["EUR"] != 0 || st.RewardCounts["clawed_back"] != 1 || st.RewardCounts["reversed"] < 1 {
			t.Errorf("named reward stats: granted %v, reversed %v, outstanding %v, counts %v",
				st.RewardsGranted, st.RewardsReversed, st.RewardsOutstanding, st.RewardCounts)
		}
		// Every reward explains itself and its ledger sums to what is left.
		all, _, _ := e.St.ParticipantRewards(ctx, adv.ID, "", store.Page{})
		for _, rw := range all {
			full, err := e.St.Reward(ctx, prog.ID, rw.ID)
			if err != nil || full.Explanation == "" {
				t.Fatalf("reward %s: %v %q", rw.ID, err, full.Explanation)
			}
			entries, _ := e.St.LedgerEntries(ctx, rw.ID)
			var sum int64
			for _, en := range entries {
				sum += en.Amount
			}
			if sum != rw.Outstanding() {
				t.Errorf("reward %s: ledger sum %d, outstanding %d", rw.ID, sum, rw.Outstanding())
			}
		}
		if _, err := e.St.Reward(ctx, "prog_other", all[0].ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("reward visible from another program: %v", err)
		}
	})
}

func TestLedgerIsAppendOnly(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) { p.Rules[0].Trigger = parrain.TriggerFirstPurchase })
		adv := e.Advocate(prog.ID, "adv", "")
		e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f", ReferralCode: adv.Code, OrderID: "o", Amount: 100, Currency: "EUR"})
		if _, err := e.St.DB().Exec(`UPDATE ledger_entries SET amount = amount * 2`); err == nil {
			t.Error("UPDATE of ledger_entries succeeded")
		}
		if _, err := e.St.DB().Exec(`DELETE FROM ledger_entries`); err == nil {
			t.Error("DELETE of ledger_entries succeeded")
		}
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM ledger_entries`).Scan(&n); err != nil {
			t.Fatalf("query: %v", err)
		}
		if n != 2 {
			t.Errorf("ledger has %d entries, want 2", n)
		}
	})
}

func TestConcurrentDuplicates(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		// A second store on the same database plays a second server process.
		other := open(t, e.URL)
		stores := []*store.Store{e.St, other.St}
		run := func(n int, fn func(i int, st *store.Store) error) {
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := fn(i, stores[i%2]); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		}
		// Same idempotency key, 16 concurrent requests: one effect, the
		// same answer for all.
		ids := make([]string, 16)
		run(16, func(i int, st *store.Store) error {
			r, _, err := referral.New(st).IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", ReferralCode: adv.Code},
				store.Idem{Scope: "k", Key: "same", Hash: "h"})
			ids[i] = r.EventID
			return err
		})
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("different answers for one key: %v", ids)
			}
		}
		// Different keys, same order: exactly one set of rewards.
		run(16, func(i int, st *store.Store) error {
			_, _, err := referral.New(st).IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f1", OrderID: "o1", Amount: 5000, Currency: "EUR"},
				store.Idem{Scope: "k", Key: fmt.Sprintf("p%d", i), Hash: "h"})
			return err
		})
		// Different keys, different first orders of one new friend: one
		// first-purchase reward pair.
		run(8, func(i int, st *store.Store) error {
			_, _, err := referral.New(st).IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f2", ReferralCode: adv.Code,
				OrderID: fmt.Sprintf("o2-%d", i), Amount: 5000, Currency: "EUR"}, store.Idem{})
			return err
		})
		count := func(q string) int {
			var n int
			if err := e.St.DB().QueryRow(q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(`SELECT COUNT(*) FROM events WHERE type = 'signup'`); n != 1 {
			t.Errorf("signup events: %d", n)
		}
		if n := count(`SELECT COUNT(*) FROM referrals`); n != 2 {
			t.Errorf("referrals: %d", n)
		}
		if n := count(`SELECT COUNT(*) FROM purchases`); n != 9 {
			t.Errorf("purchases: %d", n)
		}
		if n := count(`SELECT COUNT(*) FROM rewards`); n != 4 {
			t.Errorf("rewards: %d, want 4 (one double-sided pair per friend)", n)
		}
	})
}

func TestJobsRunOnceAcrossWorkers(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		other := open(t, e.URL)
		const n = 60
		for i := range n {
			if err := e.St.Enqueue(ctx, "test", fmt.Sprintf("u%d", i), []byte(`{}`), t0); err != nil {
				t.Fatal(err)
			}
		}
		// Unique keys: enqueueing again adds nothing.
		if err := e.St.Enqueue(ctx, "test", "u0", []byte(`{}`), t0); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for w, st := range []*store.Store{e.St, other.St, e.St, other.St} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				worker := fmt.Sprintf("w%d", w)
				for {
					js, err := st.ClaimJobs(ctx, worker, 5, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(js) == 0 {
						return
					}
					for _, j := range js {
						mu.Lock()
						seen[j.ID]++
						mu.Unlock()
						if err := st.CompleteJob(ctx, j.ID, worker); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("ran %d distinct jobs, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("job %s ran %d times", id, c)
			}
		}
		// A worker dies holding a job: after its lease the job runs again.
		if err := e.St.Enqueue(ctx, "test", "crash", []byte(`{}`), t0); err != nil {
			t.Fatal(err)
		}
		js, _ := e.St.ClaimJobs(ctx, "dead", 10, time.Minute)
		if len(js) != 1 {
			t.Fatalf("claimed %d", len(js))
		}
		if js2, _ := other.St.ClaimJobs(ctx, "alive", 10, time.Minute); len(js2) != 0 {
			t.Fatalf("leased job claimed twice")
		}
		other.Clock.Advance(2 * time.Minute)
		js2, _ := other.St.ClaimJobs(ctx, "alive", 10, time.Minute)
		if len(js2) != 1 || js2[0].ID != js[0].ID || js2[0].Attempts != 2 {
			t.Fatalf("expired lease not reclaimed: %+v", js2)
		}
		// The dead worker's late completion is ignored; the new one counts.
		if err := e.St.CompleteJob(ctx, js[0].ID, "dead"); err != nil {
			t.Fatal(err)
		}
		counts, _ := e.St.JobCounts(ctx)
		if counts["running"] != 1 {
			t.Fatalf("job counts %v", counts)
		}
	})
}

func TestPagination(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		for i := range 7 {
			e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: fmt.Sprintf("f%d", i), ReferralCode: adv.Code})
		}
		var all []string
		cursor := ""
		for pages := 0; ; pages++ {
			refs, next, err := e.St.Referrals(ctx, prog.ID, store.ReferralFilter{AdvocateID: adv.ID}, store.Page{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range refs {
				all = append(all, r.FriendExternalID)
			}
			if next == "" {
				if pages != 2 {
					t.Errorf("pages %d", pages+1)
				}
				break
			}
			cursor = next
		}
		if strings.Join(all, ",") != "f6,f5,f4,f3,f2,f1,f0" {
			t.Errorf("order %v", all)
		}
	})
}

// TestPlaceholdersOutOfOrder guards the SQLite driver trap: $N must bind by
// number, not by order of appearance.
func TestPlaceholdersOutOfOrder(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var a, b string
		if err := e.St.DB().QueryRow(`SELECT CAST($2 AS TEXT), CAST($1 AS TEXT)`, "one", "two").Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		if a != "two" || b != "one" {
			t.Fatalf("bound %q %q", a, b)
		}
	})
}

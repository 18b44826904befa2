package referral_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Personalised rules priced the same by ingestion, dry run and replay on
// both databases: VIP advocates earn 20 € (others 10 €), German-speaking
// friends a coupon (others a credit), the advocate's 3rd referral a
// product credit instead of cash.
func TestPersonalisedRewardsIngestDryRunReplay(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			p.Rules = []parrain.RewardRule{{ID: "ref", Trigger: parrain.TriggerFirstPurchase,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 1000, Variants: []parrain.RewardVariant{
					{When: parrain.VariantCondition{Referrals: &parrain.CountCondition{From: 3, To: 3}}, Kind: parrain.KindCredit, Amount: 3000},
					{When: parrain.VariantCondition{Advocate: &parrain.PersonCondition{Attributes: map[string][]string{"vip": {"true"}}}}, Amount: 2000},
				}},
				Friend: &parrain.RewardSpec{Kind: parrain.KindCredit, Type: parrain.AmountFixed, Amount: 500, Variants: []parrain.RewardVariant{
					{When: parrain.VariantCondition{Friend: &parrain.PersonCondition{Locales: []string{"de"}}}, Kind: parrain.KindCoupon, Amount: 800},
				}}}}
		})
		vip := true
		attrs := parrain.Attributes{"vip": vip}
		ann, _, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "ann", Attributes: &attrs}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		bob := e.Advocate(prog.ID, "bob", "")
		type want struct{ adv, friend string }
		cases := []struct {
			adv    parrain.Participant
			locale string
			want   want
		}{
			{ann, "fr-FR", want{"cash 2000", "credit 500"}},
			{bob, "de-DE", want{"cash 1000", "coupon 800"}},
			{bob, "de", want{"cash 1000", "coupon 800"}},
			{bob, "en", want{"credit 3000", "credit 500"}},
			{ann, "", want{"cash 2000", "credit 500"}},
		}
		for i, c := range cases {
			f := fmt.Sprint("f", i)
			e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: f, Locale: c.locale, ReferralCode: c.adv.Code})
			ev := parrain.Event{Type: parrain.EventPurchase, ExternalID: f, OrderID: "o" + f, Amount: 5000, Currency: "EUR"}
			dry, err := e.Ref.DryRun(ctx, prog.ID, ev, nil)
			if err != nil {
				t.Fatal(err)
			}
			real := e.Event(prog.ID, ev)
			for _, res := range []parrain.EventResult{dry.EventResult, real} {
				got := want{}
				for _, rw := range res.Rewards {
					s := fmt.Sprintf("%s %d", rw.Kind, rw.Amount)
					if rw.Role == parrain.RoleAdvocate {
						got.adv = s
					} else {
						got.friend = s
					}
				}
				if got != c.want {
					t.Errorf("case %d (%s): %+v, want %+v", i, res.EventID, got, c.want)
				}
			}
			e.Clock.Advance(time.Hour)
		}
		cur, err := e.St.Program(ctx, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := e.Ref.Replay(ctx, prog.ID, cur, 30)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total.Actual != 2000+500+1000+800+1000+800+3000+500+2000+500 || rep.Total.Delta != 0 || rep.Total.ProposedRewards != 10 {
			t.Errorf("replay of the same rules: %+v", rep.Total)
		}
		// Without the variants everyone earns the base: the replay prices it.
		plain := cur
		plain.Rules = []parrain.RewardRule{cur.Rules[0]}
		a, f := *cur.Rules[0].Advocate, *cur.Rules[0].Friend
		a.Variants, f.Variants = nil, nil
		plain.Rules[0].Advocate, plain.Rules[0].Friend = &a, &f
		rep, err = e.Ref.Replay(ctx, prog.ID, plain, 30)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total.Proposed != 5*1500 {
			t.Errorf("replay without variants: %+v", rep.Total)
		}
	})
}

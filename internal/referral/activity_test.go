package referral_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// Activity-based success on both databases: ingest → hold → maturation,
// with and without the friend's activity; the void as inactive is a
// reversal with the reward.reversed webhook; a manager reinstates it,
// audited, once.
func TestActivityRequirement(t *testing.T) {
	tests := []struct {
		name     string
		req      parrain.ActivityRequirement
		activity []int // days after the purchase with an event
		evType   parrain.EventType
		want     parrain.RewardStatus
	}{
		{"off: no activity still approves", parrain.ActivityRequirement{}, nil, "", parrain.RewardApproved},
		{"required, active on one day", parrain.ActivityRequirement{Required: true}, []int{3}, parrain.EventActivity, parrain.RewardApproved},
		{"required, no activity", parrain.ActivityRequirement{Required: true}, nil, "", parrain.RewardReversed},
		{"required, activity after the hold does not count", parrain.ActivityRequirement{Required: true}, []int{31}, parrain.EventActivity, parrain.RewardReversed},
		{"three distinct days required, two given", parrain.ActivityRequirement{Required: true, MinDays: 3}, []int{1, 1, 2}, parrain.EventActivity, parrain.RewardReversed},
		{"three distinct days required and given", parrain.ActivityRequirement{Required: true, MinDays: 3}, []int{1, 2, 5}, parrain.EventActivity, parrain.RewardApproved},
		{"configured event type", parrain.ActivityRequirement{Required: true, EventType: parrain.EventCustom}, []int{2}, parrain.EventCustom, parrain.RewardApproved},
		{"another event type does not count", parrain.ActivityRequirement{Required: true, EventType: parrain.EventCustom}, []int{2}, parrain.EventActivity, parrain.RewardReversed},
	}
	each(t, func(t *testing.T, e *env) {
		for i, tc := range tests {
			prog := e.Program(func(p *parrain.Program) {
				req := tc.req
				p.Activity = &req
			})
			adv := e.Advocate(prog.ID, fmt.Sprint("adv", i), "")
			f := fmt.Sprint("friend", i)
			e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: f, ReferralCode: adv.Code})
			r := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: f, OrderID: "o" + f, Amount: 5000, Currency: "EUR"})
			if len(r.Rewards) != 2 {
				t.Fatalf("%s: rewards %+v", tc.name, r.Rewards)
			}
			start := e.Clock.Now()
			for _, d := range tc.activity {
				ev := parrain.Event{Type: tc.evType, ExternalID: f, OccurredAt: start.Add(time.Duration(d)*24*time.Hour + time.Hour)}
				if tc.evType == parrain.EventCustom {
					ev.EventName = "login"
				}
				e.Clock.Set(ev.OccurredAt.Add(time.Minute))
				e.Event(prog.ID, ev)
			}
			e.Clock.Set(start.Add(40 * 24 * time.Hour))
			for _, rw := range r.Rewards {
				if _, _, err := e.St.ApproveReward(ctx, rw.ID); err != nil {
					t.Fatalf("%s: maturation: %v", tc.name, err)
				}
				// Maturation is idempotent.
				if _, _, err := e.St.ApproveReward(ctx, rw.ID); err != nil {
					t.Fatalf("%s: maturation again: %v", tc.name, err)
				}
				got, err := e.St.Reward(ctx, prog.ID, rw.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != tc.want {
					t.Errorf("%s: %s reward %s, want %s", tc.name, rw.Role, got.Status, tc.want)
				}
				wantReason := ""
				if tc.want == parrain.RewardReversed {
					wantReason = parrain.VoidInactive
				}
				if got.VoidReason != wantReason {
					t.Errorf("%s: void reason %q, want %q", tc.name, got.VoidReason, wantReason)
				}
			}
			ledger, outstanding := e.referralLedger(r.Rewards[0].ReferralID)
			if ledger != outstanding {
				t.Errorf("%s: ledger %d, outstanding %d", tc.name, ledger, outstanding)
			}
		}
	})
}

func TestReinstateInactiveReward(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) { p.Activity = &parrain.ActivityRequirement{Required: true} })
		adv := e.Advocate(prog.ID, "adv", "")
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f", ReferralCode: adv.Code})
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f", OrderID: "o1", Amount: 5000, Currency: "EUR"})
		rw := r.Rewards[0]
		if rw.Role != parrain.RoleAdvocate {
			rw = r.Rewards[1]
		}
		// Not voided yet: nothing to reinstate.
		if _, _, err := e.Ref.ReinstateReward(ctx, prog.ID, rw.ID, referral.ReinstateDecision{}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("reinstating a pending reward: %v", err)
		}
		e.Clock.Advance(31 * 24 * time.Hour)
		if _, _, err := e.St.ApproveReward(ctx, rw.ID); err != nil {
			t.Fatal(err)
		}
		entries, err := e.St.LedgerEntries(ctx, rw.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := entries[len(entries)-1]
		if last.Type != parrain.EntryReversal || last.Amount != -2000 || !strings.HasPrefix(last.Memo, "inactive: ") {
			t.Fatalf("void entry %+v", last)
		}
		mctx := parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorUser, ID: "usr_1", Label: "manager@example.com"})
		if _, _, err := e.Ref.ReinstateReward(mctx, prog.ID, rw.ID, referral.ReinstateDecision{Note: strings.Repeat("x", 501)}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Fatalf("long note: %v", err)
		}
		got, _, err := e.Ref.ReinstateReward(mctx, prog.ID, rw.ID, referral.ReinstateDecision{Note: "the app's activity feed was down"}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != parrain.RewardApproved || got.Reversed != 0 || got.VoidReason != "" || got.ApprovedAt == nil {
			t.Fatalf("reinstated: %+v", got)
		}
		if _, _, err := e.Ref.ReinstateReward(mctx, prog.ID, rw.ID, referral.ReinstateDecision{}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("reinstating twice: %v", err)
		}
		bal := e.Balance(adv.ID)
		if bal[parrain.BucketApproved] != 2000 || bal[parrain.BucketPending] != 0 {
			t.Errorf("balance %v", bal)
		}
		entries, err = e.St.LedgerEntries(ctx, rw.ID)
		if err != nil {
			t.Fatal(err)
		}
		if last := entries[len(entries)-1]; last.Type != parrain.EntryReinstatement || last.Amount != 2000 || last.Bucket != parrain.BucketApproved {
			t.Errorf("reinstatement entry %+v", last)
		}
		audit, _, err := e.St.AuditLog(ctx, store.AuditFilter{}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range audit {
			if a.Action == store.AuditRewardReinstated && a.TargetID == rw.ID {
				n++
				js, _ := json.Marshal(a.Details)
				if !strings.Contains(string(js), "activity feed was down") {
					t.Errorf("audit details %s", js)
				}
			}
		}
		if n != 1 {
			t.Errorf("audit entries: %d", n)
		}
		// A second maturation run changes nothing.
		if _, _, err := e.St.ApproveReward(ctx, rw.ID); err != nil {
			t.Fatal(err)
		}
		if again, err := e.St.Reward(ctx, prog.ID, rw.ID); err != nil || again.Status != parrain.RewardApproved {
			t.Errorf("after maturation again: %+v %v", again, err)
		}
	})
}

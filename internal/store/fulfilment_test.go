package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// giftProgram gives advocates a gift card from pool "amazon", with no hold.
func (e *env) giftProgram() parrain.Program {
	return e.Program(func(p *parrain.Program) {
		p.HoldDays = 0
		p.Rules = []parrain.RewardRule{{Trigger: parrain.TriggerFirstPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindGiftCard, Type: parrain.AmountFixed, Amount: 2500, Pool: "amazon"}}}
	})
}

// gift makes a friend of adv buy and returns adv's approved gift card.
func (e *env) gift(prog parrain.Program, adv parrain.Participant, friend string) parrain.Reward {
	e.T.Helper()
	e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: friend, ReferralCode: adv.Code})
	res := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: friend, OrderID: "o-" + friend, Amount: 5000, Currency: "EUR"})
	if len(res.Rewards) != 1 {
		e.T.Fatalf("rewards %+v", res.Rewards)
	}
	if _, _, err := e.St.ApproveReward(ctx, res.Rewards[0].ID); err != nil {
		e.T.Fatal(err)
	}
	return res.Rewards[0]
}

func (e *env) openAlerts(prog string) map[string]int {
	e.T.Helper()
	alerts, err := e.St.Alerts(ctx, prog, true)
	if err != nil {
		e.T.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range alerts {
		out[a.Kind] = a.Occurrences
	}
	return out
}

// Issue 12: codes imported while the delivery job that found the pool
// empty is still running wake it up: the job is re-armed and runs again
// when it finishes, instead of the reward waiting for codes forever with
// the pool-empty alert already closed.
func TestFulfilmentWakeUpWhileJobRuns(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.giftProgram()
		if _, _, err := e.Ref.CreateCouponPool(ctx, prog.ID, store.CouponPool{Name: "amazon", LowWater: 1}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		rw := e.gift(prog, e.Advocate(prog.ID, "adv", ""), "f1")
		key := parrain.JobFulfilReward + ":" + rw.ID
		// The runner claims the delivery job; the job finds the pool empty
		// and parks the reward…
		claim := func() store.Job {
			t.Helper()
			js, err := e.St.ClaimJobs(ctx, "w1", 100, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range js {
				if j.Kind == parrain.JobFulfilReward {
					return j
				}
			}
			t.Fatalf("fulfilment job not claimed among %+v", js)
			return store.Job{}
		}
		j := claim()
		if d, err := e.St.PrepareFulfilment(ctx, rw.ID); err != nil || d.URL != "" {
			t.Fatalf("prepare %+v %v", d, err)
		}
		if ex, err := e.St.ExplainReward(ctx, prog.ID, rw.ID); err != nil || ex.Fulfilment.Status != parrain.FulfilWaitingCodes {
			t.Fatalf("parked %+v %v", ex.Fulfilment, err)
		}
		// …codes arrive before the runner records the job's end…
		if _, _, err := e.Ref.ImportCodes(ctx, prog.ID, "amazon", []string{"AMZ-1"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		if a := e.openAlerts(prog.ID); a[store.AlertPoolEmpty] != 0 {
			t.Fatalf("pool-empty alert still open %v", a)
		}
		if err := e.St.CompleteJob(ctx, j.ID, "w1"); err != nil {
			t.Fatal(err)
		}
		// …and the job is due again, not done.
		var state string
		var runAt int64
		if err := e.St.DB().QueryRow(`SELECT state, run_at FROM jobs WHERE unique_key = $1`, key).Scan(&state, &runAt); err != nil {
			t.Fatal(err)
		}
		if state != "available" || runAt > e.Clock.Now().UnixMilli() {
			t.Fatalf("job after completion: %s at %d", state, runAt)
		}
		j = claim()
		if _, err := e.St.PrepareFulfilment(ctx, rw.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.St.CompleteJob(ctx, j.ID, "w1"); err != nil {
			t.Fatal(err)
		}
		ex, err := e.St.ExplainReward(ctx, prog.ID, rw.ID)
		if err != nil || ex.Fulfilment.Code != "AMZ-1" || ex.Status != parrain.RewardPaid {
			t.Fatalf("delivered %+v %s %v", ex.Fulfilment, ex.Status, err)
		}
		if err := e.St.DB().QueryRow(`SELECT state FROM jobs WHERE unique_key = $1`, key).Scan(&state); err != nil || state != "done" {
			t.Fatalf("job %q %v", state, err)
		}
	})
}

// Issue 12: "low_water": 0 turns the low-stock alert off; an absent
// low_water is the default.
func TestCouponPoolLowWaterZero(t *testing.T) {
	var p store.CouponPool
	if err := json.Unmarshal([]byte(`{"name":"a"}`), &p); err != nil || p.LowWater != store.DefaultLowWater {
		t.Fatalf("absent: %+v %v", p, err)
	}
	if err := json.Unmarshal([]byte(`{"name":"a","low_water":0}`), &p); err != nil || p.LowWater != 0 {
		t.Fatalf("zero: %+v %v", p, err)
	}
	if err := json.Unmarshal([]byte(`{"name":"a","low_wator":3}`), &p); err == nil {
		t.Fatal("unknown field accepted")
	}
	each(t, func(t *testing.T, e *env) {
		prog := e.giftProgram()
		var in store.CouponPool
		if err := json.Unmarshal([]byte(`{"name":"amazon","low_water":0}`), &in); err != nil {
			t.Fatal(err)
		}
		pool, _, err := e.Ref.CreateCouponPool(ctx, prog.ID, in, store.Idem{})
		if err != nil || pool.LowWater != 0 {
			t.Fatalf("create %+v %v", pool, err)
		}
		if _, _, err := e.Ref.ImportCodes(ctx, prog.ID, "amazon", []string{"AMZ-1", "AMZ-2"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		rw := e.gift(prog, e.Advocate(prog.ID, "adv", ""), "f1")
		if _, err := e.St.PrepareFulfilment(ctx, rw.ID); err != nil {
			t.Fatal(err)
		}
		if a := e.openAlerts(prog.ID); a[store.AlertPoolLow] != 0 {
			t.Errorf("low-stock alert with low_water 0: %v", a)
		}
		pools, err := e.St.CouponPools(ctx, prog.ID)
		if err != nil || len(pools) != 1 || pools[0].LowWater != 0 || pools[0].Available != 1 {
			t.Errorf("pools %+v %v", pools, err)
		}
		if _, _, err := e.Ref.CreateCouponPool(ctx, prog.ID, store.CouponPool{Name: "neg", LowWater: -1}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("negative low_water: %v", err)
		}
	})
}

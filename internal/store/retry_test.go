package store_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// Issue 12: concurrent capped purchases through two server processes (two
// stores, two pools) on one database are all answered — 2xx or a domain
// error, never a serialization failure, deadlock or busy database (500) —
// and the caps hold exactly.
func TestConcurrentCappedPurchasesTwoProcesses(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		const budget, perAdvocate = 8000, 2500
		p := e.Program(func(p *parrain.Program) {
			p.HoldDays = 0
			p.Rules = []parrain.RewardRule{{Trigger: parrain.TriggerPurchase,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1000},
				Friend:   &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 500}}}
			p.Caps = &parrain.Caps{PerParticipant: &parrain.PeriodCap{Amount: perAdvocate, Period: parrain.PeriodMonth},
				Budget: &parrain.PeriodCap{Amount: budget, Period: parrain.PeriodMonth}}
		})
		var friends []string
		for a := range 4 {
			adv := e.Advocate(p.ID, fmt.Sprint("adv", a), "")
			for f := range 5 {
				ext := fmt.Sprintf("f%d-%d", a, f)
				e.Event(p.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: ext, ReferralCode: adv.Code})
				friends = append(friends, ext)
			}
		}
		other := open(t, e.URL)
		var wg sync.WaitGroup
		errs := make(chan error, 2*len(friends))
		for i, f := range friends {
			for k := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					st := e.St
					if (i+k)%2 == 1 {
						st = other.St
					}
					_, _, err := referral.New(st).IngestEvent(ctx, p.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: f,
						OrderID: fmt.Sprintf("o-%s-%d", f, k), Amount: 10000, Currency: "EUR"}, store.Idem{})
					if err != nil && parrain.AsError(err) == nil {
						errs <- err // would be a 500
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("answered 500: %v", err)
		}
		var total int64
		if err := e.St.DB().QueryRow(`SELECT COALESCE(SUM(amount - reversed), 0) FROM rewards WHERE program_id = $1`, p.ID).Scan(&total); err != nil {
			t.Fatal(err)
		}
		if total != budget {
			t.Errorf("granted %d, budget %d", total, budget)
		}
		rows, err := e.St.DB().Query(`SELECT participant_id, SUM(amount - reversed) FROM rewards WHERE program_id = $1 GROUP BY participant_id`, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var who string
			var sum int64
			if err := rows.Scan(&who, &sum); err != nil {
				t.Fatal(err)
			}
			if sum > perAdvocate {
				t.Errorf("participant %s earned %d over the cap %d", who, sum, perAdvocate)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

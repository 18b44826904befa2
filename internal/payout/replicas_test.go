package payout_test

import (
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/integration/stripe"
	"github.com/parrainhq/parrain/internal/integration/stripe/stripemock"
	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/store"
)

// Issue 12: two replicas (two stores, two job runners) on one database
// running the payout schedule at the same moment make one batch and send
// each payout once.
func TestPayoutsAcrossTwoReplicas(t *testing.T) {
	mock := stripemock.Start(t)
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		other, err := store.Open(ctx, url, store.Options{Clock: e.clock, Keys: dbtest.Keys()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		proxy := stripemock.NewProxy(t, mock)
		stores := []*store.Store{e.st, other}
		var svcs []*payout.Service
		var runners []*jobs.Runner
		for _, st := range stores {
			svc := payout.New(st, quiet, payout.Config{Stripe: stripe.New(stripe.Config{SecretKey: "sk_test_parrain", APIURL: proxy.URL, MaxNetworkRetries: -1})})
			r := jobs.NewRunner(st, quiet)
			svc.RegisterJobs(r)
			svcs, runners = append(svcs, svc), append(runners, r)
		}
		advocates := map[string]parrain.Participant{}
		for _, ext := range []string{"alice", "bob", "carol"} {
			advocates[ext] = e.advocate(ext, parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_1" + ext + "AAAAAAAAAAAA"}, 20000)
		}
		st, err := e.svc.SetPayoutSettings(ctx, e.prog.ID, parrain.PayoutSettings{Schedule: parrain.ScheduleMonthly, Day: 1, Hour: 6, AutoApproveLimit: 1000000})
		if err != nil || st.NextRunAt == nil {
			t.Fatalf("settings %+v %v", st, err)
		}
		slot := *st.NextRunAt
		e.clock.Set(slot.Add(time.Minute))

		// Both replicas run the slot at the same moment.
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := svcs[i%2].Schedule(ctx, e.prog.ID, slot); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var batches int
		if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM payout_batches WHERE program_id = $1`, e.prog.ID).Scan(&batches); err != nil {
			t.Fatal(err)
		}
		if batches != 1 {
			t.Fatalf("%d batches for one slot", batches)
		}
		// Both replicas' job runners work the queue at the same time until
		// nothing is due (the schedule job itself, the sends).
		for idle := 0; idle < 2; {
			counts := make([]int, len(runners))
			var wg sync.WaitGroup
			for i, r := range runners {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := r.RunOnce(ctx)
					if err != nil {
						t.Error(err)
					}
					counts[i] = n
				}()
			}
			wg.Wait()
			if counts[0]+counts[1] == 0 {
				idle++
			}
		}
		if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM payout_batches WHERE program_id = $1`, e.prog.ID).Scan(&batches); err != nil {
			t.Fatal(err)
		}
		if batches != 1 {
			t.Errorf("%d batches after the runners", batches)
		}
		var paid int
		if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM payouts WHERE program_id = $1 AND status = 'paid'`, e.prog.ID).Scan(&paid); err != nil {
			t.Fatal(err)
		}
		if paid != 3 || proxy.Created() != 3 || len(proxy.Keys()) != 3 {
			t.Errorf("paid %d, transfers made %d, transfer requests %d; want 3 each", paid, proxy.Created(), len(proxy.Keys()))
		}
		for ext, a := range advocates {
			if b := e.buckets(a.ID); b["paid"] != 2000 || b["approved"] != 0 {
				t.Errorf("%s %v", ext, b)
			}
		}
	})
}

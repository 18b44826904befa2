package referral

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/store"
)

// BenchmarkFraudScoringPerEvent measures what fraud scoring adds to an
// ingested event: the "event" sub-benchmark ingests a first purchase
// reported with a full context (IP, User-Agent, device id, card
// fingerprint, address) and a referral code — attribution, fraud scoring,
// rewards, ledger, jobs, one transaction; the "fraud" sub-benchmark runs
// only the scoring of the same event (the evidence read from the database
// and the decision) on an identical database, and reports x-event, its
// time as a share of the whole event's from the same run.
//
//	go test -run '^$' -bench FraudScoringPerEvent -benchtime 2000x ./internal/referral/
func BenchmarkFraudScoringPerEvent(b *testing.B) {
	for _, engine := range dbtest.Engines {
		var eventNs float64
		b.Run(engine, func(b *testing.B) {
			b.Run("event", func(b *testing.B) {
				f := newFraudBench(b, dbtest.URL(b, engine))
				i := 0
				for b.Loop() {
					i++
					ev := f.event(i)
					if _, _, err := f.svc.IngestEvent(context.Background(), f.prog.ID, ev, store.Idem{}); err != nil {
						b.Fatal(err)
					}
					f.clock.Advance(time.Minute)
				}
				eventNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			b.Run("fraud", func(b *testing.B) {
				f := newFraudBench(b, dbtest.URL(b, engine))
				ctx := context.Background()
				i := 0
				err := f.st.InTx(ctx, func(tx *store.Tx) error {
					for b.Loop() {
						i++
						ev := f.event(i)
						if err := ev.Normalize(f.clock.Now()); err != nil {
							return err
						}
						in := newIngest(tx, &f.prog, &ev)
						in.friend = &parrain.Participant{ID: "ppt_bench_" + strconv.Itoa(i), ExternalID: ev.ExternalID, Email: ev.Email}
						adv := f.advs[i%len(f.advs)]
						if _, err := in.assess(ctx, adv, &parrain.Candidate{Touch: parrain.Touch{Code: adv.Code, At: ev.OccurredAt}, Typed: true}); err != nil {
							return err
						}
						f.clock.Advance(time.Minute)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if eventNs > 0 {
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/eventNs, "x-event")
				}
			})
		})
	}
}

type fraudBench struct {
	st    *store.Store
	svc   *Service
	clock *parrain.FakeClock
	prog  parrain.Program
	advs  []parrain.Participant
}

// newFraudBench opens a store with a program of 50 advocates and a week of
// history (300 referrals, their clicks), so the scoring's reads do real
// work.
func newFraudBench(b *testing.B, url string) *fraudBench {
	b.Helper()
	ctx := context.Background()
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, url, store.Options{Clock: clock, Keys: dbtest.Keys()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	f := &fraudBench{st: st, svc: New(st), clock: clock}
	p := parrain.Program{Name: "Bench", LandingURL: "https://shop.example/join", Currency: "EUR", HoldDays: 30,
		Rules: []parrain.RewardRule{{Trigger: parrain.TriggerFirstPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2000},
			Friend:   &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 1000}}}}
	if f.prog, _, err = program.New(st).Create(ctx, p, store.Idem{}); err != nil {
		b.Fatal(err)
	}
	for i := range 50 {
		a, _, err := New(st).UpsertParticipant(ctx, f.prog.ID, parrain.ParticipantInput{ExternalID: fmt.Sprintf("adv%d", i),
			Email: fmt.Sprintf("advocate%d@company.example", i), Name: fmt.Sprintf("Advocate Number%d", i),
			Context: &parrain.EventContext{IP: fmt.Sprintf("203.0.113.%d", i+1), UserAgent: "Mozilla/5.0 Chrome/131.0", DeviceID: fmt.Sprintf("dev-adv-%d", i),
				PaymentFingerprint: fmt.Sprintf("card-adv-%d", i)}}, store.Idem{})
		if err != nil {
			b.Fatal(err)
		}
		f.advs = append(f.advs, a)
	}
	for i := range 300 {
		adv := f.advs[i%len(f.advs)]
		if err := st.InsertClicks(ctx, []store.Click{{ProgramID: f.prog.ID, ParticipantID: adv.ID, Code: adv.Code, Valid: true,
			IP: fmt.Sprintf("198.51.100.%d", i%250+1), UserAgent: "Mozilla/5.0 Chrome/131.0", At: clock.Now()}}); err != nil {
			b.Fatal(err)
		}
		ev := f.event(-i - 1)
		if _, _, err := f.svc.IngestEvent(ctx, f.prog.ID, ev, store.Idem{}); err != nil {
			b.Fatal(err)
		}
		clock.Advance(30 * time.Minute)
	}
	return f
}

// event is the i-th friend's first purchase, reported as an integrator
// following docs/integration.md would: code and full context.
func (f *fraudBench) event(i int) parrain.Event {
	adv := f.advs[(i%len(f.advs)+len(f.advs))%len(f.advs)]
	n := strconv.Itoa(i)
	return parrain.Event{Type: parrain.EventPurchase, ExternalID: "friend" + n, Email: "friend.number" + n + "@mail.example",
		ReferralCode: adv.Code, OrderID: "order" + n, Amount: 5000, Currency: "EUR",
		Context: &parrain.EventContext{IP: "192.0.2." + strconv.Itoa((i%250+250)%250+1), UserAgent: "Mozilla/5.0 (iPhone) Safari/605.1",
			DeviceID: "dev-" + n, PaymentFingerprint: "card-" + n, Address: n + " rue de la Paix, Paris", Country: "FR"}}
}

package partner_test

import (
	"context"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

var ctx = context.Background()

// env is one test's store and partner use cases on a fresh database with a
// fake clock.
type env struct {
	t     *testing.T
	st    *store.Store
	ps    *partner.Service
	clock *parrain.FakeClock
}

// each runs fn once per database engine, in parallel with other tests.
func each(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		clock := parrain.NewFakeClock(t0)
		st, err := store.Open(context.Background(), url, store.Options{Clock: clock, Keys: dbtest.Keys()})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, &env{t: t, st: st, ps: partner.New(st, clock, referral.New(st)), clock: clock})
	})
}

// program creates a program from small options.
func (e *env) program(mod func(*parrain.Program)) parrain.Program {
	e.t.Helper()
	p := parrain.Program{Name: "Test", LandingURL: "https://shop.example/join", Currency: "EUR", HoldDays: 30,
		Rules: []parrain.RewardRule{{Trigger: parrain.TriggerFirstPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2000},
			Friend:   &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 1000}}}}
	if mod != nil {
		mod(&p)
	}
	p, _, err := program.New(e.st).Create(ctx, p, store.Idem{})
	if err != nil {
		e.t.Fatalf("create program: %v", err)
	}
	return p
}

package referral_test

import (
	"context"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// env is one test's store on a fresh database with a fake clock.
type env struct {
	t     *testing.T
	st    *store.Store
	ref   *referral.Service
	clock *parrain.FakeClock
	url   string
}

func open(t *testing.T, url string) *env {
	t.Helper()
	clock := parrain.NewFakeClock(t0)
	st, err := store.Open(context.Background(), url, store.Options{Clock: clock})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{t: t, st: st, ref: referral.New(st), clock: clock, url: url}
}

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) { fn(t, open(t, url)) })
}

var ctx = context.Background()

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
	p, _, err := e.st.CreateProgram(ctx, p, store.Idem{})
	if err != nil {
		e.t.Fatalf("create program: %v", err)
	}
	return p
}

func (e *env) advocate(prog, ext, email string) parrain.Participant {
	e.t.Helper()
	p, _, err := e.st.UpsertParticipant(ctx, prog, parrain.ParticipantInput{ExternalID: ext, Email: email}, store.Idem{})
	if err != nil {
		e.t.Fatalf("upsert participant: %v", err)
	}
	return p
}

func (e *env) event(prog string, ev parrain.Event) store.EventResult {
	e.t.Helper()
	r, _, err := e.ref.IngestEvent(ctx, prog, ev, store.Idem{})
	if err != nil {
		e.t.Fatalf("event %s: %v", ev.Type, err)
	}
	return r
}

func (e *env) balance(participantID string) map[parrain.Bucket]int64 {
	e.t.Helper()
	rows, err := e.st.DB().Query(`SELECT bucket, SUM(amount) FROM ledger_entries WHERE participant_id = $1 GROUP BY bucket`, participantID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[parrain.Bucket]int64{}
	for rows.Next() {
		var b string
		var v int64
		if err := rows.Scan(&b, &v); err != nil {
			e.t.Fatal(err)
		}
		out[parrain.Bucket(b)] = v
	}
	return out
}

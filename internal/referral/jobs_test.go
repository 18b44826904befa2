package referral_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/integration/webhook"
	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// receiver is the customer's system: it verifies every delivery's
// signature, fails the first one, and acknowledges the rest.
type receiver struct {
	mu       sync.Mutex
	calls    int
	ids      map[string]int
	bad      int
	received []store.FulfilmentPayload
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.calls++
	if err := webhook.Verify(testSecret, r.Header, body, time.Now()); err != nil {
		rc.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.ids[r.Header.Get(webhook.HeaderID)]++
	if rc.calls == 1 {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	var p store.FulfilmentPayload
	_ = json.Unmarshal(body, &p)
	rc.received = append(rc.received, p)
	w.WriteHeader(http.StatusNoContent)
}

func TestFulfilmentWebhookAndContestJobs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
		st, err := store.Open(ctx, url, store.Options{Clock: clock, Keys: dbtest.Keys()})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		rc := &receiver{ids: map[string]int{}}
		srv := httptest.NewServer(rc)
		defer srv.Close()

		p := parrain.Program{Name: "P", LandingURL: "https://shop.example/", Currency: "EUR", HoldDays: 0,
			Rules: []parrain.RewardRule{{ID: "unlock", Trigger: parrain.TriggerSignup,
				Friend: &parrain.RewardSpec{Kind: parrain.KindFeatureUnlock, Type: parrain.AmountFixed, Amount: 900, Feature: "premium", Days: 30}}}}
		p.Fulfilment = &parrain.Fulfilment{URL: srv.URL + "/parrain", Secret: testSecret}
		prog, _, err := program.New(st).Create(ctx, p, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		adv, _, _ := referral.New(st).UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "adv"}, store.Idem{})
		res, _, err := referral.New(st).IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "friend", Email: "f@x.example",
			ReferralCode: adv.Code}, store.Idem{})
		if err != nil || len(res.Rewards) != 1 {
			t.Fatalf("signup: %+v %v", res, err)
		}
		id := res.Rewards[0].ID

		r := jobs.NewRunner(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
		referral.New(st).RegisterJobs(r, webhook.NewClient(true)) // the test receiver is on loopback
		status := func() parrain.RewardStatus {
			ex, err := st.ExplainReward(ctx, prog.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			return ex.Status
		}
		for i := 0; i < 40 && status() != parrain.RewardPaid; i++ {
			n, err := r.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				clock.Advance(time.Minute)
			}
		}
		ex, _ := st.ExplainReward(ctx, prog.ID, id)
		if ex.Status != parrain.RewardPaid || ex.Fulfilment.Status != parrain.FulfilFulfilled || ex.Fulfilment.Attempts != 2 {
			t.Fatalf("reward %s fulfilment %+v", ex.Status, ex.Fulfilment)
		}
		rc.mu.Lock()
		if rc.bad != 0 || rc.calls != 2 || len(rc.ids) != 1 || len(rc.received) != 1 {
			t.Fatalf("receiver: calls %d bad %d ids %v", rc.calls, rc.bad, rc.ids)
		}
		got := rc.received[0]
		rc.mu.Unlock()
		if got.Type != store.WebhookFulfilment || got.Data.RewardID != id || got.Data.Kind != parrain.KindFeatureUnlock ||
			got.Data.Feature != "premium" || got.Data.Days != 30 || got.Data.ExternalID != "friend" || got.Data.Email != "f@x.example" {
			t.Fatalf("payload %+v", got)
		}
		var paid int64
		if err := st.DB().QueryRow(`SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE reward_id = $1 AND bucket = 'paid'`, id).Scan(&paid); err != nil {
			t.Fatalf("query: %v", err)
		}
		if paid != 900 {
			t.Errorf("paid bucket %d", paid)
		}
		// Running again delivers nothing more.
		clock.Advance(time.Hour)
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if rc.calls != 2 {
			t.Errorf("delivered again: %d calls", rc.calls)
		}

		// The contest job picks the winners when the contest ends.
		now := clock.Now()
		ref := referral.New(st)
		c, _, err := ref.CreateContest(ctx, prog.ID, parrain.Contest{Name: "Sprint", StartsAt: now.Add(-24 * time.Hour), EndsAt: now.Add(time.Hour),
			Prizes: []parrain.Prize{{Rank: 1, Reward: parrain.RewardSpec{Kind: parrain.KindCash, Amount: 10000}}}}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := referral.New(st).IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "friend", OrderID: "o1", Amount: 100,
			Currency: "EUR"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := ref.Contest(ctx, prog.ID, c.ID); err != nil || got.Status != parrain.ContestRunning {
			t.Fatalf("contest %s before its end: %v", got.Status, err)
		}
		clock.Advance(2 * time.Hour)
		for range 3 {
			if _, err := r.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got2, err := ref.Contest(ctx, prog.ID, c.ID)
		if err != nil || got2.Status != parrain.ContestFinished || len(got2.Winners) != 1 || got2.Winners[0].ExternalID != "adv" || got2.Winners[0].Amount != 10000 {
			t.Fatalf("contest after its end: %+v", got2)
		}
	})
}

package referral_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/storetest"
)

// noticeKinds counts the notices enqueued, by kind.
func noticeKinds(e *env) map[parrain.NoticeKind]int {
	e.T.Helper()
	rows, err := e.St.DB().Query(`SELECT payload FROM jobs WHERE kind = $1 ORDER BY id`, parrain.JobNotify)
	if err != nil {
		e.T.Fatal(err)
	}
	defer rows.Close()
	m := map[parrain.NoticeKind]int{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			e.T.Fatal(err)
		}
		var a parrain.NotifyArgs
		if err := json.Unmarshal([]byte(p), &a); err != nil {
			e.T.Fatal(err)
		}
		m[a.Kind]++
	}
	if err := rows.Err(); err != nil {
		e.T.Fatal(err)
	}
	return m
}

func intp(v int) *int { return &v }

func TestMomentTriggers(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		nps, _, err := e.Ref.CreateTrigger(ctx, p.ID, parrain.MomentTrigger{Name: "Promoters", Kind: parrain.MomentNPS, CooldownDays: 30,
			Effects: []parrain.Effect{parrain.EffectEmail, parrain.EffectNotification, parrain.EffectWebhook}}, store.Idem{})
		if err != nil || *nps.MinScore != 9 || nps.ID == "" {
			t.Fatalf("create: %+v %v", nps, err)
		}
		third, _, err := e.Ref.CreateTrigger(ctx, p.ID, parrain.MomentTrigger{Kind: parrain.MomentPurchaseCount, Count: 3, WithinDays: 30}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		off, _, err := e.Ref.CreateTrigger(ctx, p.ID, parrain.MomentTrigger{Kind: parrain.MomentRating, Status: parrain.MomentDisabled}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		npsEv := func(score int) parrain.EventResult {
			return e.Event(p.ID, parrain.Event{Type: parrain.EventNPS, ExternalID: "u1", Email: "u1@example.com", Score: intp(score)})
		}
		if r := npsEv(8); len(r.TriggersFired) != 0 {
			t.Errorf("nps 8 fired %v", r.TriggersFired)
		}
		r := npsEv(10)
		if len(r.TriggersFired) != 1 || r.TriggersFired[0].TriggerID != nps.ID || r.Participant == nil || r.Participant.ExternalID != "u1" {
			t.Fatalf("nps 10: %+v", r)
		}
		if r := npsEv(10); len(r.TriggersFired) != 0 {
			t.Error("fired again during the cooldown")
		}
		e.Clock.Advance(29 * 24 * time.Hour)
		if r := npsEv(9); len(r.TriggersFired) != 0 {
			t.Error("fired again during the cooldown")
		}
		e.Clock.Advance(24 * time.Hour)
		if r := npsEv(9); len(r.TriggersFired) != 1 {
			t.Error("did not fire after the cooldown")
		}
		fs, _, err := e.St.Firings(ctx, p.ID, nps.ID, store.Page{})
		if err != nil || len(fs) != 2 || fs[0].ExternalID != "u1" || len(fs[0].Effects) != 3 {
			t.Fatalf("firings: %+v %v", fs, err)
		}
		// No webhook endpoint: the webhook effect is recorded as skipped.
		for _, o := range fs[0].Effects {
			want := store.EffectPending
			if o.Effect == parrain.EffectWebhook {
				want = store.EffectSkipped
			}
			if o.Status != want {
				t.Errorf("effect %s: %s (%s)", o.Effect, o.Status, o.Detail)
			}
		}
		if got := noticeKinds(e)[parrain.NoticeMoment]; got != 2 {
			t.Errorf("moment notices = %d", got)
		}
		if err := e.St.SetFiringEffect(ctx, fs[0].ID, parrain.EffectEmail, store.EffectDone, "sent msg_x"); err != nil {
			t.Fatal(err)
		}
		f, err := e.St.FiringByID(ctx, fs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if f.Effects[0].Status != store.EffectDone || f.Effects[0].At == nil {
			t.Errorf("effect outcome: %+v", f.Effects[0])
		}
		// The third purchase within 30 days.
		for i, day := range []int{0, 20, 31, 45} {
			e.Clock.Set(storetest.T0.Add(time.Duration(day) * 24 * time.Hour))
			r := e.Event(p.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "buyer", OrderID: "ord" + string(rune('a'+i)), Amount: 100, Currency: "EUR"})
			fired := len(r.TriggersFired) == 1 && r.TriggersFired[0].TriggerID == third.ID
			// Days 0, 20, 31: only two within any 30 days; day 45: 20, 31, 45.
			if fired != (day == 45) {
				t.Errorf("purchase on day %d: fired=%v", day, fired)
			}
		}
		if r := e.Event(p.ID, parrain.Event{Type: parrain.EventRating, ExternalID: "u1", Score: intp(5)}); len(r.TriggersFired) != 0 {
			t.Errorf("disabled trigger %s fired", off.ID)
		}
		// A paused program fires nothing.
		if _, err := e.Prog.SetStatus(ctx, p.ID, parrain.ProgramPaused); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(365 * 24 * time.Hour)
		if r := npsEv(10); len(r.TriggersFired) != 0 {
			t.Error("paused program fired")
		}
		if _, err := e.Prog.SetStatus(ctx, p.ID, parrain.ProgramActive); err != nil {
			t.Fatal(err)
		}
		// Update and delete.
		upd, err := e.Ref.UpdateTrigger(ctx, p.ID, nps.ID, parrain.MomentTrigger{Kind: parrain.MomentNPS, MinScore: intp(10)})
		if err != nil || *upd.MinScore != 10 || upd.ID != nps.ID || !upd.CreatedAt.Equal(nps.CreatedAt) {
			t.Errorf("update: %+v %v", upd, err)
		}
		if r := npsEv(9); len(r.TriggersFired) != 0 {
			t.Error("updated min score not applied")
		}
		if err := e.Ref.DeleteTrigger(ctx, p.ID, nps.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.St.Trigger(ctx, p.ID, nps.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("deleted trigger: %v", err)
		}
		if ts, err := e.St.Triggers(ctx, p.ID); err != nil || len(ts) != 2 {
			t.Errorf("triggers after delete = %d", len(ts))
		}
		if _, err := e.St.Trigger(ctx, e.Program(nil).ID, third.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Error("a trigger is visible from another program")
		}
	})
}

// Concurrent satisfaction events for one participant fire a trigger once.
func TestMomentTriggerConcurrent(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		tr, _, err := e.Ref.CreateTrigger(ctx, p.ID, parrain.MomentTrigger{Kind: parrain.MomentNPS}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		e.Advocate(p.ID, "u1", "")
		other := open(t, e.URL)
		other.Clock.Set(e.Clock.Now())
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := e.St
				if i%2 == 1 {
					st = other.St
				}
				if _, _, err := referral.New(st).IngestEvent(ctx, p.ID, parrain.Event{Type: parrain.EventNPS, ExternalID: "u1", Score: intp(10)}, store.Idem{}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		fs, _, err := e.St.Firings(ctx, p.ID, tr.ID, store.Page{})
		if err != nil || len(fs) != 1 {
			t.Errorf("firings = %d, want 1", len(fs))
		}
	})
}

// With an endpoint subscribed to trigger.fired, the webhook effect queues a
// delivery in the event's transaction; other endpoints get nothing.
func TestMomentTriggerWebhookEffect(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		url := "https://hooks.example/parrain"
		if _, _, err := outbound.NewService(e.St).CreateEndpoint(ctx, p.ID, parrain.WebhookEndpointInput{URL: &url, EventTypes: []string{parrain.WebhookTriggerFired}}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		other := "https://hooks.example/rewards"
		if _, _, err := outbound.NewService(e.St).CreateEndpoint(ctx, p.ID, parrain.WebhookEndpointInput{URL: &other, EventTypes: []string{parrain.WebhookRewardPaid}}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		tr, _, err := e.Ref.CreateTrigger(ctx, p.ID, parrain.MomentTrigger{Kind: parrain.MomentPlanUpgrade, Plans: []string{"pro"},
			Effects: []parrain.Effect{parrain.EffectWebhook}}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		e.Event(p.ID, parrain.Event{Type: parrain.EventPlanUpgrade, ExternalID: "u1", Plan: "Pro"})
		fs, _, err := e.St.Firings(ctx, p.ID, tr.ID, store.Page{})
		if err != nil || len(fs) != 1 || fs[0].Effects[0].Status != store.EffectDone || !strings.Contains(fs[0].Effects[0].Detail, "1 webhook endpoint") {
			t.Fatalf("firing: %+v", fs)
		}
		var n int
		var payload string
		if err := e.St.DB().QueryRow(`SELECT COUNT(*), MAX(payload) FROM webhook_deliveries WHERE program_id = $1 AND event_type = $2`, p.ID, parrain.WebhookTriggerFired).Scan(&n, &payload); err != nil {
			t.Fatal(err)
		}
		if n != 1 || !strings.Contains(payload, `"firing_id":"`+fs[0].ID+`"`) || !strings.Contains(payload, `"external_id":"u1"`) {
			t.Errorf("deliveries: %d %s", n, payload)
		}
		if got := noticeKinds(e)[parrain.NoticeMoment]; got != 0 {
			t.Errorf("a webhook-only trigger composes no notice: %d", got)
		}
	})
}

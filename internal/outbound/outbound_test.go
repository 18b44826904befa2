package outbound_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/integration/webhook"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

var ctx = context.Background()

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	t     *testing.T
	st    *store.Store
	svc   *outbound.Service
	clock *parrain.FakeClock
	prog  parrain.Program
}

func setup(t *testing.T, url string) *env {
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, url, store.Options{Clock: clock, Keys: dbtest.Keys()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	prog, _, err := program.New(st).Create(ctx, parrain.Program{Name: "P", LandingURL: "https://shop.example", Currency: "EUR",
		Rules: []parrain.RewardRule{{Trigger: parrain.TriggerFirstPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 1500}}}}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, svc: outbound.NewService(st), clock: clock, prog: prog}
}

// convert makes a friend of a new advocate buy: referral.created,
// referral.converted and reward.created happen.
func (e *env) convert(prog, adv string) {
	e.t.Helper()
	a, _, err := referral.New(e.st).UpsertParticipant(ctx, prog, parrain.ParticipantInput{ExternalID: adv}, store.Idem{})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := referral.New(e.st).IngestEvent(ctx, prog, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f-" + adv, ReferralCode: a.Code,
		OrderID: "o-" + adv, Amount: 5000, Currency: "EUR"}, store.Idem{}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) endpoint(prog, url string, types ...string) parrain.WebhookEndpoint {
	e.t.Helper()
	ep, _, err := e.svc.CreateEndpoint(ctx, prog, parrain.WebhookEndpointInput{URL: &url, EventTypes: types}, store.Idem{})
	if err != nil {
		e.t.Fatal(err)
	}
	return ep
}

func (e *env) deliveries(ep parrain.WebhookEndpoint) []parrain.WebhookDelivery {
	e.t.Helper()
	ds, _, err := e.svc.Deliveries(ctx, ep.ProgramID, ep.ID, "", store.Page{Limit: 200})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// receiver records what it receives and answers status.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies [][]byte
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got, r.bodies = append(r.got, req), append(r.bodies, b)
		st := r.status
		r.mu.Unlock()
		w.WriteHeader(st)
		_, _ = io.WriteString(w, `{"ok":false,"why":"`+strings.Repeat("x", 2000)+`"}`)
	}))
	t.Cleanup(r.Close)
	return r
}

func TestDeliverySignedAndLogged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		rcv := newReceiver(t, 202)
		ep := e.endpoint(e.prog.ID, rcv.URL+"/hooks", parrain.WebhookRewardCreated, parrain.WebhookReferralConverted)
		if !strings.HasPrefix(ep.Secret, "whsec_") {
			t.Fatalf("secret %q", ep.Secret)
		}
		all := e.endpoint(e.prog.ID, rcv.URL+"/all", "*")
		only := e.endpoint(e.prog.ID, rcv.URL+"/paid", parrain.WebhookRewardPaid)
		other, _, _ := program.New(e.st).Create(ctx, parrain.Program{Name: "O", LandingURL: "https://o.example", Currency: "EUR"}, store.Idem{})
		otherEP := e.endpoint(other.ID, rcv.URL+"/other", "*")
		e.convert(e.prog.ID, "alice")

		ds := e.deliveries(ep)
		types := map[string]bool{}
		for _, d := range ds {
			types[d.EventType] = true
		}
		if len(ds) != 2 || !types[parrain.WebhookRewardCreated] || !types[parrain.WebhookReferralConverted] {
			t.Fatalf("subscribed endpoint got %v", types)
		}
		if n := len(e.deliveries(all)); n != 3 { // referral.created, referral.converted, reward.created
			t.Errorf("* endpoint got %d", n)
		}
		if n := len(e.deliveries(only)); n != 0 {
			t.Errorf("reward.paid endpoint got %d", n)
		}
		if n := len(e.deliveries(otherEP)); n != 0 {
			t.Errorf("another program's endpoint got %d", n)
		}
		d := outbound.New(e.st, quiet, true)
		for _, del := range ds {
			if retry, err := d.Deliver(ctx, del.ID); err != nil || !retry.IsZero() {
				t.Fatalf("deliver: %v %v", retry, err)
			}
		}
		if len(rcv.got) != 2 {
			t.Fatalf("received %d", len(rcv.got))
		}
		for i, req := range rcv.got {
			if err := webhook.Verify(ep.Secret, req.Header, rcv.bodies[i], time.Now()); err != nil {
				t.Errorf("signature: %v", err)
			}
			var msg struct {
				Type string          `json:"type"`
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(rcv.bodies[i], &msg); err != nil || !types[msg.Type] || req.Header.Get(webhook.HeaderEventType) != msg.Type {
				t.Errorf("body %s: %v", rcv.bodies[i], err)
			}
			if !strings.HasPrefix(req.Header.Get(webhook.HeaderID), "msg_") {
				t.Errorf("webhook-id %q", req.Header.Get(webhook.HeaderID))
			}
		}
		// Another secret does not verify.
		if err := webhook.Verify(all.Secret, rcv.got[0].Header, rcv.bodies[0], time.Now()); err == nil {
			t.Error("verified with another endpoint's secret")
		}
		got, err := e.svc.Delivery(ctx, e.prog.ID, ep.ID, ds[0].ID)
		if err != nil || got.Status != parrain.DeliverySucceeded || len(got.Log) != 1 || got.Log[0].StatusCode != 202 || len(got.Log[0].ResponseBody) != 1024 {
			t.Fatalf("log %+v %v", got, err)
		}
		// Delivering again does nothing.
		if _, err := d.Deliver(ctx, ds[0].ID); err != nil || len(rcv.got) != 2 {
			t.Errorf("redelivered: %v %d", err, len(rcv.got))
		}
		// A manual replay sends the same message again, same webhook-id.
		if _, err := e.svc.Replay(ctx, e.prog.ID, ep.ID, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Deliver(ctx, ds[0].ID); err != nil || len(rcv.got) != 3 || rcv.got[2].Header.Get(webhook.HeaderID) != ds[0].ID {
			t.Fatalf("replay: %v %d", err, len(rcv.got))
		}
		// Isolation: another program cannot read or replay it.
		if _, err := e.svc.Delivery(ctx, other.ID, ep.ID, ds[0].ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("isolation: %v", err)
		}
	})
}

func TestRetriesGiveUpAndDisable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		rcv := newReceiver(t, 503)
		ep := e.endpoint(e.prog.ID, rcv.URL, parrain.WebhookReferralCreated)
		e.convert(e.prog.ID, "alice")
		del := e.deliveries(ep)[0]
		d := outbound.New(e.st, quiet, true)
		start := e.clock.Now()
		// Eight attempts on the Standard Webhooks schedule, then given up.
		for attempt := 1; attempt <= webhook.MaxAttempts; attempt++ {
			retry, err := d.Deliver(ctx, del.ID)
			if err != nil {
				t.Fatal(err)
			}
			if attempt == webhook.MaxAttempts {
				if !retry.IsZero() {
					t.Fatalf("retry after the last attempt: %v", retry)
				}
				break
			}
			if want := e.clock.Now().Add(webhook.Backoff(attempt)); !retry.Equal(want) {
				t.Fatalf("attempt %d: retry at %v, want %v", attempt, retry, want)
			}
			// Not due yet: nothing is sent.
			if early, err := d.Deliver(ctx, del.ID); err != nil || !early.Equal(retry) || len(rcv.got) != attempt {
				t.Fatalf("early run: %v %v %d", early, err, len(rcv.got))
			}
			e.clock.Set(retry)
		}
		if span := e.clock.Now().Sub(start); span < 24*time.Hour {
			t.Errorf("retries span %v, want at least 24h", span)
		}
		got, _ := e.svc.Delivery(ctx, e.prog.ID, ep.ID, del.ID)
		if got.Status != parrain.DeliveryFailed || len(got.Log) != webhook.MaxAttempts || got.LastStatusCode != 503 {
			t.Fatalf("after giving up: %s, %d attempts", got.Status, len(got.Log))
		}
		epNow, _ := e.svc.Endpoint(ctx, e.prog.ID, ep.ID)
		if epNow.Status != parrain.EndpointActive || epNow.FailingSince == nil {
			t.Fatalf("endpoint after 27h %+v", epNow)
		}
		// Still failing five days after the first failure: disabled, with
		// an audit entry.
		e.clock.Set(start.Add(parrain.EndpointDisableAfter + time.Hour))
		e.convert(e.prog.ID, "bob")
		var next parrain.WebhookDelivery
		for _, x := range e.deliveries(ep) {
			if x.Status == parrain.DeliveryPending {
				next = x
			}
		}
		if _, err := d.Deliver(ctx, next.ID); err != nil {
			t.Fatal(err)
		}
		epNow, _ = e.svc.Endpoint(ctx, e.prog.ID, ep.ID)
		if epNow.Status != parrain.EndpointDisabled || !strings.Contains(epNow.DisabledReason, "disabled automatically") {
			t.Fatalf("not disabled: %+v", epNow)
		}
		var audits int
		if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = $1 AND target_id = $2`, store.AuditWebhookDisabled, ep.ID).Scan(&audits); err != nil {
			t.Fatalf("query: %v", err)
		}
		if audits != 1 {
			t.Errorf("audit entries %d", audits)
		}
		// Pending deliveries of a disabled endpoint fail without a request.
		sent := len(rcv.got)
		e.clock.Advance(time.Hour)
		if _, err := d.Deliver(ctx, next.ID); err != nil || len(rcv.got) != sent {
			t.Fatalf("sent to a disabled endpoint: %v", err)
		}
		if _, err := e.svc.Replay(ctx, e.prog.ID, ep.ID, del.ID); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Errorf("replay to a disabled endpoint: %v", err)
		}
		// Fixed and enabled again: failed deliveries can be replayed.
		rcv.mu.Lock()
		rcv.status = 200
		rcv.mu.Unlock()
		active := parrain.EndpointActive
		if epNow, err := e.svc.UpdateEndpoint(ctx, e.prog.ID, ep.ID, parrain.WebhookEndpointInput{Status: &active}); err != nil ||
			epNow.FailingSince != nil || epNow.DisabledReason != "" {
			t.Fatalf("enable: %+v %v", epNow, err)
		}
		if _, err := e.svc.Replay(ctx, e.prog.ID, ep.ID, del.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Deliver(ctx, del.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = e.svc.Delivery(ctx, e.prog.ID, ep.ID, del.ID)
		if got.Status != parrain.DeliverySucceeded || len(got.Log) != webhook.MaxAttempts+1 || got.Log[len(got.Log)-1].Attempt != webhook.MaxAttempts+1 {
			t.Errorf("replayed: %s %d", got.Status, len(got.Log))
		}
	})
}

func TestPrivateAddressesRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		rcv := newReceiver(t, 200)
		ep := e.endpoint(e.prog.ID, rcv.URL, parrain.WebhookReferralCreated)
		e.convert(e.prog.ID, "alice")
		del := e.deliveries(ep)[0]
		retry, err := outbound.New(e.st, quiet, false).Deliver(ctx, del.ID)
		if err != nil || retry.IsZero() {
			t.Fatalf("deliver: %v %v", retry, err)
		}
		if len(rcv.got) != 0 {
			t.Fatal("a loopback endpoint was reached")
		}
		got, _ := e.svc.Delivery(ctx, e.prog.ID, ep.ID, del.ID)
		if len(got.Log) != 1 || !strings.Contains(got.Log[0].Error, "private or loopback") || got.Log[0].StatusCode != 0 {
			t.Errorf("log %+v", got.Log)
		}
	})
}

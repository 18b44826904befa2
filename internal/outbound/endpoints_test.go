package outbound_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/storetest"
)

func TestWebhookEndpoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) {
		svc := outbound.NewService(e.St)
		p := e.Program(nil)
		u := " https://hooks.example.com/in#frag "
		idem := store.Idem{Scope: "k", Key: "ep", Hash: "h"}
		ep, _, err := svc.CreateEndpoint(ctx, p.ID, parrain.WebhookEndpointInput{URL: &u, EventTypes: []string{"reward.paid", "reward.created", "reward.paid"}}, idem)
		if err != nil || ep.URL != "https://hooks.example.com/in" || len(ep.EventTypes) != 2 || ep.Status != parrain.EndpointActive || !strings.HasPrefix(ep.Secret, "whsec_") {
			t.Fatalf("create %+v %v", ep, err)
		}
		again, replayed, err := svc.CreateEndpoint(ctx, p.ID, parrain.WebhookEndpointInput{URL: &u, EventTypes: []string{"reward.paid", "reward.created", "reward.paid"}}, idem)
		if err != nil || !replayed || again.ID != ep.ID {
			t.Error("not replayed")
		}
		rotated, err := svc.RotateSecret(ctx, p.ID, ep.ID)
		if err != nil || rotated.Secret == ep.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") {
			t.Fatalf("rotate %+v %v", rotated, err)
		}
		disabled := parrain.EndpointDisabled
		upd, err := svc.UpdateEndpoint(ctx, p.ID, ep.ID, parrain.WebhookEndpointInput{Status: &disabled, EventTypes: []string{"*"}})
		if err != nil || upd.Status != disabled || upd.DisabledReason != "disabled by hand" || upd.EventTypes[0] != "*" {
			t.Fatalf("update %+v %v", upd, err)
		}
		// A disabled endpoint receives nothing.
		adv := e.Advocate(p.ID, "alice", "")
		e.Event(p.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", ReferralCode: adv.Code})
		if ds, _, err := svc.Deliveries(ctx, p.ID, ep.ID, "", store.Page{}); err != nil || len(ds) != 0 {
			t.Errorf("deliveries to a disabled endpoint: %d", len(ds))
		}
		active := parrain.EndpointActive
		if _, err := svc.UpdateEndpoint(ctx, p.ID, ep.ID, parrain.WebhookEndpointInput{Status: &active}); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(time.Minute)
		e.Event(p.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "carl", ReferralCode: adv.Code})
		ds, _, err := svc.Deliveries(ctx, p.ID, ep.ID, "pending", store.Page{})
		if err != nil || len(ds) != 1 || ds[0].EventType != parrain.WebhookReferralCreated {
			t.Fatalf("deliveries %+v", ds)
		}
		other := e.Program(nil)
		if _, err := svc.UpdateEndpoint(ctx, other.ID, ep.ID, parrain.WebhookEndpointInput{Status: &disabled}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("isolation: %v", err)
		}
		if err := svc.DeleteEndpoint(ctx, p.ID, ep.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Endpoint(ctx, p.ID, ep.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("after delete: %v", err)
		}
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM webhook_deliveries`).Scan(&n); err != nil {
			t.Fatalf("query: %v", err)
		}
		if n != 0 {
			t.Errorf("deliveries left: %d", n)
		}
	})
}

package store_test

import (
	"fmt"
	"testing"

	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

func TestInboundRecordsAndLinks(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		other := e.Program(nil)
		// Deferred events wait on refs and leave the wait list once done.
		if err := e.St.RecordInbound(ctx, store.InboundEvent{Provider: "stripe", EventID: "evt_1", ProgramID: p.ID, Type: "charge.refunded",
			Status: store.InboundDeferred, Payload: `{"x":1}`}, []string{"order:ch_1", "order:in_1", ""}); err != nil {
			t.Fatal(err)
		}
		w, err := e.St.WaitingInbound(ctx, "stripe", []string{"order:in_1", "order:ch_1", "order:nothing"})
		if err != nil || len(w) != 1 || w[0].Payload != `{"x":1}` || w[0].Status != store.InboundDeferred {
			t.Fatalf("waiting %+v %v", w, err)
		}
		if w, _ := e.St.WaitingInbound(ctx, "shopify", []string{"order:in_1"}); len(w) != 0 {
			t.Errorf("other provider sees %d", len(w))
		}
		if err := e.St.RecordInbound(ctx, store.InboundEvent{Provider: "stripe", EventID: "evt_1", ProgramID: p.ID, Type: "charge.refunded",
			Status: store.InboundProcessed, Detail: "refund"}, nil); err != nil {
			t.Fatal(err)
		}
		if w, _ := e.St.WaitingInbound(ctx, "stripe", []string{"order:in_1"}); len(w) != 0 {
			t.Errorf("still waiting %+v", w)
		}
		got, ok, err := e.St.InboundEvent(ctx, "stripe", "evt_1")
		if err != nil || !ok || got.Status != store.InboundProcessed || got.Payload != "" || got.ProcessedAt == nil {
			t.Fatalf("event %+v %v %v", got, ok, err)
		}
		// Keyset pages through events received in the same millisecond.
		for i := range 5 {
			if err := e.St.RecordInbound(ctx, store.InboundEvent{Provider: "shopify", EventID: fmt.Sprintf("ev-%d", i), ProgramID: p.ID,
				Type: "orders/create", Status: store.InboundIgnored}, nil); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			list, next, err := e.St.InboundEvents(ctx, p.ID, store.Page{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range list {
				if seen[ev.Provider+ev.EventID] {
					t.Fatalf("%s twice", ev.EventID)
				}
				seen[ev.Provider+ev.EventID] = true
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != 6 {
			t.Errorf("paged %d events, want 6", len(seen))
		}
		if list, _, _ := e.St.InboundEvents(ctx, other.ID, store.Page{}); len(list) != 0 {
			t.Errorf("other program sees %d", len(list))
		}
		if _, _, err := e.St.InboundEvents(ctx, p.ID, store.Page{Cursor: "nope"}); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("bad cursor: %v", err)
		}

		// Links: the first wins; a cancelled customer announces once.
		adv := e.Advocate(p.ID, "alice", "")
		e.Event(p.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", Email: "Bob@Example.com", ReferralCode: adv.Code})
		bob, _ := e.St.Participant(ctx, p.ID, "bob")
		for _, who := range []string{bob.ID, adv.ID} {
			if err := e.St.LinkProvider(ctx, store.ProviderLink{Provider: "stripe", Kind: store.LinkCustomer, Ref: "cus_1", ProgramID: p.ID, ParticipantID: who}); err != nil {
				t.Fatal(err)
			}
		}
		l, ok, err := e.St.FindProviderLink(ctx, "stripe", store.LinkCustomer, "cus_1", "")
		if err != nil || !ok || l.ParticipantID != bob.ID || l.ProgramID != p.ID {
			t.Fatalf("link %+v %v %v", l, ok, err)
		}
		if _, ok, _ := e.St.FindProviderLink(ctx, "stripe", store.LinkCustomer, "cus_1", other.ID); ok {
			t.Error("link found in another program")
		}
		if found, err := e.St.ParticipantByEmail(ctx, p.ID, "bob@example.com"); err != nil || found.ID != bob.ID {
			t.Errorf("by email: %+v %v", found, err)
		}
		u := "https://hooks.example.com/x"
		if _, _, err := outbound.NewService(e.St).CreateEndpoint(ctx, p.ID, parrain.WebhookEndpointInput{URL: &u, EventTypes: []string{parrain.WebhookReferralCancelled}}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		for i, want := range []bool{true, false} {
			done, err := e.St.CancelCustomer(ctx, "stripe", "cus_1", p.ID, "sub_1")
			if err != nil || done != want {
				t.Fatalf("cancel %d: %v %v", i, done, err)
			}
		}
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE event_type = 'referral.cancelled'`).Scan(&n); err != nil {
			t.Fatalf("query: %v", err)
		}
		if n != 1 {
			t.Errorf("referral.cancelled deliveries %d", n)
		}
		if id, ok, err := e.St.SoleProgram(ctx); err != nil || ok || id != "" {
			t.Errorf("two programs: %q %v %v", id, ok, err)
		}
	})
}

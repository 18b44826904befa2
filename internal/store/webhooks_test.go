package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// An outgoing webhook endpoint's row: inserted with its secret sealed,
// read per program or any program, listed newest first in pages, changed,
// its failure record kept, disabled, its secret rotated, deleted.
func TestWebhookEndpointRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		var ids []string
		e.inTx(func(tx *store.Tx) error {
			for i, p := range []string{prog.ID, prog.ID, prog.ID, other.ID} {
				ep := parrain.WebhookEndpoint{ID: tx.NewWebhookEndpointID(), ProgramID: p, URL: "https://hooks.example/" + string(rune('a'+i)),
					Description: "CRM", EventTypes: []string{"reward.created", "referral.converted"}, Status: parrain.EndpointActive, CreatedAt: tx.Now()}
				if err := tx.InsertWebhookEndpoint(ctx, ep, "whsec_"+string(rune('a'+i))); err != nil {
					return err
				}
				ids = append(ids, ep.ID)
			}
			return nil
		})
		// The secret is sealed at rest.
		var stored string
		if err := e.St.DB().QueryRow(`SELECT secret FROM webhook_endpoints WHERE id = $1`, ids[0]).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == "whsec_a" || strings.Contains(stored, "whsec") {
			t.Fatalf("secret stored as %q", stored)
		}
		got, err := e.St.WebhookEndpoint(ctx, prog.ID, ids[0])
		if err != nil || got.URL != "https://hooks.example/a" || got.Description != "CRM" || len(got.EventTypes) != 2 || got.EventTypes[1] != "referral.converted" ||
			got.Status != parrain.EndpointActive || got.Secret != "" || got.FailingSince != nil || got.LastSuccessAt != nil || !got.CreatedAt.Equal(t0) {
			t.Fatalf("read back %+v %v", got, err)
		}
		if _, err := e.St.WebhookEndpoint(ctx, other.ID, ids[0]); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("through another program: %v", err)
		}
		if got, err := e.St.WebhookEndpoint(ctx, "", ids[3]); err != nil || got.ProgramID != other.ID {
			t.Errorf("any program: %+v %v", got, err)
		}
		page1, cursor, err := e.St.WebhookEndpoints(ctx, prog.ID, store.Page{Limit: 2})
		if err != nil || len(page1) != 2 || page1[0].ID != ids[2] || page1[1].ID != ids[1] || cursor != ids[1] {
			t.Fatalf("page 1: %v %q %v", page1, cursor, err)
		}
		page2, cursor, err := e.St.WebhookEndpoints(ctx, prog.ID, store.Page{Limit: 2, Cursor: cursor})
		if err != nil || len(page2) != 1 || page2[0].ID != ids[0] || cursor != "" {
			t.Fatalf("page 2: %v %q %v", page2, cursor, err)
		}

		failing, success := t0.Add(time.Hour), t0.Add(2*time.Hour)
		e.inTx(func(tx *store.Tx) error {
			url, secret, status, err := tx.WebhookTarget(ctx, ids[0])
			if err != nil || url != "https://hooks.example/a" || secret != "whsec_a" || status != parrain.EndpointActive {
				t.Errorf("target %q %q %q %v", url, secret, status, err)
			}
			ep, err := tx.WebhookEndpoint(ctx, prog.ID, ids[0])
			if err != nil {
				return err
			}
			ep.URL, ep.Description, ep.EventTypes = "https://hooks.example/new", "", []string{"payout.paid"}
			if err := tx.UpdateWebhookEndpoint(ctx, ep, failing); err != nil {
				return err
			}
			if err := tx.WebhookEndpointFailing(ctx, ids[0], failing); err != nil {
				return err
			}
			if err := tx.WebhookEndpointSucceeded(ctx, ids[1], success); err != nil {
				return err
			}
			if err := tx.DisableWebhookEndpoint(ctx, ids[2], "failing for 3 days", success); err != nil {
				return err
			}
			return tx.SetWebhookSecret(ctx, ids[0], "whsec_rotated", success)
		})
		a, err := e.St.WebhookEndpoint(ctx, prog.ID, ids[0])
		if err != nil || a.URL != "https://hooks.example/new" || a.Description != "" || len(a.EventTypes) != 1 || a.EventTypes[0] != "payout.paid" ||
			a.FailingSince == nil || !a.FailingSince.Equal(failing) || !a.UpdatedAt.Equal(success) {
			t.Fatalf("after update: %+v %v", a, err)
		}
		b, err := e.St.WebhookEndpoint(ctx, prog.ID, ids[1])
		if err != nil || b.FailingSince != nil || b.LastSuccessAt == nil || !b.LastSuccessAt.Equal(success) {
			t.Fatalf("after success: %+v %v", b, err)
		}
		c, err := e.St.WebhookEndpoint(ctx, prog.ID, ids[2])
		if err != nil || c.Status != parrain.EndpointDisabled || c.DisabledReason != "failing for 3 days" {
			t.Fatalf("after disabling: %+v %v", c, err)
		}
		e.inTx(func(tx *store.Tx) error {
			if _, secret, _, err := tx.WebhookTarget(ctx, ids[0]); err != nil || secret != "whsec_rotated" {
				t.Errorf("rotated secret %q %v", secret, err)
			}
			if _, _, _, err := tx.WebhookTarget(ctx, "whe_nope"); err == nil {
				t.Error("target of an unknown endpoint")
			}
			return tx.DeleteWebhookEndpoint(ctx, ids[0])
		})
		if _, err := e.St.WebhookEndpoint(ctx, prog.ID, ids[0]); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("deleted endpoint: %v", err)
		}
		if list, _, err := e.St.WebhookEndpoints(ctx, prog.ID, store.Page{}); err != nil || len(list) != 2 {
			t.Fatalf("after delete: %v %v", list, err)
		}
	})
}

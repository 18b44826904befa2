package store_test

import (
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// API keys' rows: stored under a hash, found by it (live or revoked), the
// last-used stamp, the rate limit, revocation once, the list newest first.
func TestAPIKeyRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		keys := []store.APIKey{
			{ID: "key_1", Name: "ci", Prefix: "prn_aaaaaa", Scopes: []string{store.ScopeRead}, CreatedAt: t0},
			{ID: "key_2", Name: "shop", Prefix: "prn_bbbbbb", Scopes: []string{store.ScopeEvents, store.ScopeRead}, ProgramID: prog.ID, RateLimit: 60, CreatedAt: t0.Add(time.Second)},
		}
		e.inTx(func(tx *store.Tx) error {
			for _, k := range keys {
				if err := tx.InsertAPIKey(ctx, k, "hash"+k.ID[4:]); err != nil {
					return err
				}
			}
			return nil
		})
		k, err := e.St.APIKeyByHash(ctx, "hash2")
		if err != nil || k.ID != "key_2" || k.Name != "shop" || k.Prefix != "prn_bbbbbb" || len(k.Scopes) != 2 || k.Scopes[0] != "events" ||
			!k.Has("read") || k.Has("admin") || k.ProgramID != prog.ID || k.RateLimit != 60 || !k.CreatedAt.Equal(t0.Add(time.Second)) ||
			k.LastUsedAt != nil || k.RevokedAt != nil {
			t.Fatalf("by hash: %+v %v", k, err)
		}
		if !k.CanAccessProgram(prog.ID) || k.CanAccessProgram("prg_other") {
			t.Error("a key restricted to one program")
		}
		if k1, err := e.St.APIKeyByHash(ctx, "hash1"); err != nil || k1.ProgramID != "" || k1.RateLimit != 0 || !k1.CanAccessProgram("prg_any") {
			t.Fatalf("unrestricted key: %+v %v", k1, err)
		}
		if _, err := e.St.APIKeyByHash(ctx, "prn_secret"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("unknown hash: %v", err)
		}

		used := t0.Add(time.Hour)
		if err := e.St.TouchAPIKey(ctx, "key_1", used); err != nil {
			t.Fatal(err)
		}
		var name, programID string
		e.inTx(func(tx *store.Tx) error {
			var err error
			if name, programID, err = tx.SetAPIKeyRateLimit(ctx, "key_2", 0); err != nil {
				return err
			}
			if name != "shop" || programID != prog.ID {
				t.Errorf("rate limit answers %q %q", name, programID)
			}
			name, programID, err = tx.RevokeAPIKey(ctx, "key_1", used)
			return err
		})
		if name != "ci" || programID != "" {
			t.Errorf("revoke answers %q %q", name, programID)
		}
		for _, c := range []struct {
			name string
			fn   func(tx *store.Tx) error
		}{
			{"revoked twice", func(tx *store.Tx) error { _, _, err := tx.RevokeAPIKey(ctx, "key_1", used); return err }},
			{"revoke unknown", func(tx *store.Tx) error { _, _, err := tx.RevokeAPIKey(ctx, "key_x", used); return err }},
			{"limit unknown", func(tx *store.Tx) error { _, _, err := tx.SetAPIKeyRateLimit(ctx, "key_x", 5); return err }},
		} {
			if err := e.St.InTx(ctx, c.fn); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		ks, err := e.St.APIKeys(ctx)
		if err != nil || len(ks) != 2 || ks[0].ID != "key_2" || ks[1].ID != "key_1" {
			t.Fatalf("list: %+v %v", ks, err)
		}
		if ks[0].RateLimit != 0 || ks[0].RevokedAt != nil || ks[0].LastUsedAt != nil {
			t.Errorf("key_2 listed as %+v", ks[0])
		}
		if ks[1].RevokedAt == nil || !ks[1].RevokedAt.Equal(used) || ks[1].LastUsedAt == nil || !ks[1].LastUsedAt.Equal(used) {
			t.Errorf("key_1 listed as %+v", ks[1])
		}
		// A revoked key is still found by its hash: refusing it is the
		// use case's decision.
		if k, err := e.St.APIKeyByHash(ctx, "hash1"); err != nil || k.RevokedAt == nil {
			t.Fatalf("revoked by hash: %+v %v", k, err)
		}
	})
}

package access_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// An API key's own rate limit is stored, read back by Authenticate and
// the list, changed (audited) and reset to the default with 0.
func TestAPIKeyRateLimit(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		secret, k, err := e.acc.CreateAPIKeyWith(ctx, store.NewAPIKey{Name: "batch import", RateLimit: 6000})
		if err != nil || k.RateLimit != 6000 {
			t.Fatalf("create: %+v %v", k, err)
		}
		got, err := e.acc.AuthenticateAPIKey(ctx, secret)
		if err != nil || got.RateLimit != 6000 {
			t.Fatalf("authenticate: %+v %v", got, err)
		}
		plain, pk, err := e.acc.CreateAPIKey(ctx, "plain", nil, "")
		if err != nil || pk.RateLimit != 0 {
			t.Fatalf("create without a limit: %+v %v", pk, err)
		}
		if err := e.acc.SetAPIKeyRateLimit(ctx, pk.ID, 30); err != nil {
			t.Fatal(err)
		}
		if got, err := e.acc.AuthenticateAPIKey(ctx, plain); err != nil || got.RateLimit != 30 {
			t.Fatalf("after set: %+v %v", got, err)
		}
		if err := e.acc.SetAPIKeyRateLimit(ctx, k.ID, 0); err != nil {
			t.Fatal(err)
		}
		ks, err := e.St.APIKeys(ctx)
		if err != nil || len(ks) != 2 {
			t.Fatalf("list: %v %v", ks, err)
		}
		for _, x := range ks {
			want := map[string]int{k.ID: 0, pk.ID: 30}[x.ID]
			if x.RateLimit != want {
				t.Errorf("%s: rate limit %d, want %d", x.Name, x.RateLimit, want)
			}
		}
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = $1`, store.AuditAPIKeyRateLimit).Scan(&n); err != nil || n != 2 {
			t.Errorf("audit entries: %d %v", n, err)
		}
		for _, bad := range []int{-1, access.MaxAPIKeyRateLimit + 1} {
			if err := e.acc.SetAPIKeyRateLimit(ctx, pk.ID, bad); parrain.ErrorCode(err) != parrain.CodeInvalid {
				t.Errorf("set %d: %v", bad, err)
			}
			if _, _, err := e.acc.CreateAPIKeyWith(ctx, store.NewAPIKey{Name: "x", RateLimit: bad}); parrain.ErrorCode(err) != parrain.CodeInvalid {
				t.Errorf("create with %d: %v", bad, err)
			}
		}
		if err := e.acc.SetAPIKeyRateLimit(ctx, "key_missing", 5); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("unknown key: %v", err)
		}
	})
}

// AuthenticateAPIKey finds a live key by its secret (trimmed), refuses an
// unknown, empty or revoked one as unauthenticated, and stamps the key's
// last use at most once a minute.
func TestAuthenticateAPIKey(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		secret, k, err := e.acc.CreateAPIKey(ctx, "shop", []string{store.ScopeEvents}, "")
		if err != nil {
			t.Fatal(err)
		}
		lastUsed := func() *time.Time {
			t.Helper()
			ks, err := e.acc.APIKeys(ctx)
			if err != nil || len(ks) != 1 {
				t.Fatalf("keys: %+v %v", ks, err)
			}
			return ks[0].LastUsedAt
		}
		if at := lastUsed(); at != nil {
			t.Fatalf("a new key was used at %v", at)
		}
		t0 := e.Clock.Now()
		got, err := e.acc.AuthenticateAPIKey(ctx, "  "+secret+"\n")
		if err != nil || got.ID != k.ID || got.Name != "shop" || !got.Has(store.ScopeEvents) || got.Has(store.ScopeRead) || got.LastUsedAt != nil {
			t.Fatalf("authenticate: %+v %v", got, err)
		}
		if at := lastUsed(); at == nil || !at.Equal(t0) {
			t.Fatalf("last used %v, want %v", at, t0)
		}
		// Within the minute the stamp stays; past it, it moves.
		e.Clock.Advance(time.Minute)
		if got, err := e.acc.AuthenticateAPIKey(ctx, secret); err != nil || got.LastUsedAt == nil || !got.LastUsedAt.Equal(t0) {
			t.Fatalf("within the minute: %+v %v", got, err)
		}
		if at := lastUsed(); !at.Equal(t0) {
			t.Fatalf("stamped again within the minute: %v", at)
		}
		e.Clock.Advance(time.Second)
		if _, err := e.acc.AuthenticateAPIKey(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if at, want := lastUsed(), t0.Add(time.Minute+time.Second); !at.Equal(want) {
			t.Fatalf("last used %v, want %v", at, want)
		}
		for _, bad := range []string{"", "   ", "prn_unknown", strings.ToUpper(secret), secret[:10]} {
			if _, err := e.acc.AuthenticateAPIKey(ctx, bad); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
				t.Errorf("%q: %v, want unauthenticated", bad, err)
			}
		}
		if err := e.acc.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.acc.AuthenticateAPIKey(ctx, secret)
		if pe := parrain.AsError(err); pe == nil || pe.Code != parrain.CodeUnauthenticated || pe.Message != "invalid or revoked API key" {
			t.Fatalf("revoked: %v", err)
		}
	})
}

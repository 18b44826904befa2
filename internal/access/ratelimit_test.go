package access_test

import (
	"testing"

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
		got, err := e.St.Authenticate(ctx, secret)
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
		if got, err := e.St.Authenticate(ctx, plain); err != nil || got.RateLimit != 30 {
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

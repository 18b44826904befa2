package e2e

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/integration/stripe/stripemock"
)

// startWith starts the binary like start, with extra flags.
func startWith(t *testing.T, db string, extra ...string) *server {
	t.Helper()
	addr := freePort(t)
	s := &server{t: t, base: "http://" + addr, db: db, log: &bytes.Buffer{}}
	args := append([]string{"serve", "--addr", addr, "--db", db, "--job-interval", "50ms"}, extra...)
	s.cmd = command(db, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop() })
	eventually(t, 20*time.Second, "server start", func() bool {
		res, err := http.Get(s.base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return s
}

// eventually waits for cond, which the server makes true in the
// background (jobs), failing after a generous deadline.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// TestPayoutCrash runs a payout batch against the real binary and Stripe's
// API mock, and kills the server (SIGKILL) right after Stripe made the
// first transfer, before Parrain could record it. After a restart the
// payout is resumed with the same idempotency key: every participant is
// paid exactly once, and the ledger shows it.
func TestPayoutCrash(t *testing.T) {
	mock := stripemock.Start(t)
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			proxy := stripemock.NewProxy(t, mock)
			db := dbtest.URL(t, engine)
			flags := []string{"--job-lease", "2s", "--stripe-secret-key", "sk_test_e2e", "--stripe-api-url", proxy.URL}
			srv := startWith(t, db, flags...)
			c := &client{t: t, base: srv.base, key: apiKey(t, db)}

			prog := c.call("POST", "/api/v1/programs", "p", map[string]any{"name": "Payouts", "landing_url": "https://shop.example", "currency": "EUR",
				"hold_days": 0, "rules": []any{map[string]any{"trigger": "purchase", "advocate": map[string]any{"kind": "cash", "type": "percent", "percent_bps": 1000}}}})
			base := "/api/v1/programs/" + prog.str("id")
			accounts := map[string]map[string]any{
				"alice": {"method": "stripe", "stripe_account": "acct_1AliceAAAAAAAAAA"},
				"bob":   {"method": "stripe", "stripe_account": "acct_1BobBBBBBBBBBBBB"},
				"carol": {"method": "bank", "bank": map[string]any{"holder_name": "Carol", "iban": "DE89370400440532013000"}},
			}
			for i, who := range []string{"alice", "bob", "carol"} {
				adv := c.call("PUT", base+"/participants/"+who, "", map[string]any{"email": who + "@example.com"})
				if r := c.call("PUT", base+"/participants/"+who+"/payout-account", "", accounts[who]); r.status != 200 {
					t.Fatalf("payout account: %+v", r)
				}
				if r := c.call("POST", base+"/events", "buy-"+who, map[string]any{"type": "purchase", "external_id": "f-" + who, "referral_code": adv.str("code"),
					"order_id": "o-" + who, "amount": 10000 * (i + 1), "currency": "EUR"}); r.status != 201 {
					t.Fatalf("purchase: %+v", r)
				}
			}
			approved := func(who string) int64 {
				r := c.call("GET", base+"/participants/"+who, "", nil)
				bal, _ := r.body["stats"].(map[string]any)["balances"].(map[string]any)
				a, _ := bal["approved"].(map[string]any)
				return num(a["EUR"])
			}
			eventually(t, 20*time.Second, "rewards approved", func() bool { return approved("alice") > 0 && approved("bob") > 0 && approved("carol") > 0 })

			// Kill the server as soon as Stripe made the first transfer.
			var once sync.Once
			killed := make(chan struct{})
			proxy.OnTransferMade(func() { once.Do(func() { srv.kill(); close(killed) }) })
			batch := c.call("POST", base+"/payout-batches", "run-1", nil)
			if batch.status != 201 || num(batch.body["payout_count"]) != 3 {
				t.Fatalf("batch: %+v", batch)
			}
			if r := c.call("POST", base+"/payout-batches/"+batch.str("id")+"/approve", "", nil); r.status != 200 {
				t.Fatalf("approve: %+v", r)
			}
			select {
			case <-killed:
			case <-time.After(30 * time.Second):
				t.Fatal("no transfer was made")
			}
			if proxy.Created() < 1 {
				t.Fatal("killed before any transfer")
			}

			srv2 := startWith(t, db, flags...)
			c.base = srv2.base
			paid := func() int {
				return len(c.call("GET", base+"/payouts?status=paid", "", nil).list("data"))
			}
			eventually(t, 30*time.Second, "stripe payouts paid after the restart", func() bool { return paid() == 2 })

			if n := proxy.Created(); n != 2 {
				t.Errorf("transfers made: %d, want 2", n)
			}
			byKey := map[string]int{}
			for _, k := range proxy.Keys() {
				byKey[k]++
			}
			payouts := c.call("GET", base+"/payout-batches/"+batch.str("id"), "", nil).list("payouts")
			resent := 0
			for _, p := range payouts {
				if p["method"] != "stripe" {
					continue
				}
				key := p["idempotency_key"].(string)
				if byKey[key] == 0 || !strings.HasPrefix(p["provider_ref"].(string), "tr_") {
					t.Errorf("payout %v: requests %d", p, byKey[key])
				}
				if byKey[key] > 1 {
					resent++
				}
			}
			if resent == 0 {
				t.Errorf("no payout was resent after the crash: %v", byKey)
			}

			// Carol: CSV export, transfer, import.
			req, _ := http.NewRequest("GET", c.base+base+"/payout-batches/"+batch.str("id")+"/export.csv", nil)
			req.Header.Set("Authorization", "Bearer "+c.key)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(res.Body).ReadAll()
			res.Body.Close()
			if err != nil || len(rows) != 2 || rows[1][6] != "DE89370400440532013000" {
				t.Fatalf("export: %v %v", rows, err)
			}
			in := fmt.Sprintf("payout_id,status,bank_reference\n%s,paid,SEPA-1\n", rows[1][0])
			req, _ = http.NewRequest("POST", c.base+base+"/payout-batches/"+batch.str("id")+"/import", strings.NewReader(in))
			req.Header.Set("Authorization", "Bearer "+c.key)
			req.Header.Set("Content-Type", "text/csv")
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(body), `"result": "paid"`) {
				t.Fatalf("import: %d %s", res.StatusCode, body)
			}

			// The ledger: each participant paid once, nothing left approved.
			for who, want := range map[string]int64{"alice": 1000, "bob": 2000, "carol": 3000} {
				r := c.call("GET", base+"/participants/"+who, "", nil)
				bal := r.body["stats"].(map[string]any)["balances"].(map[string]any)
				p, _ := bal["paid"].(map[string]any)
				a, _ := bal["approved"].(map[string]any)
				if num(p["EUR"]) != want || num(a["EUR"]) != 0 {
					t.Errorf("%s balances %v", who, bal)
				}
			}
			if b := c.call("GET", base+"/payout-batches/"+batch.str("id"), "", nil); b.str("status") != "completed" {
				t.Errorf("batch %s", b.str("status"))
			}
		})
	}
}

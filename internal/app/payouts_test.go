package app

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"

	"github.com/parrainhq/parrain/internal/api"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/integration/stripe/stripemock"
	"github.com/parrainhq/parrain/internal/integration/stripehook"
	"github.com/parrainhq/parrain/internal/integration/webhook"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// drain runs the job runner until no job is due.
func (h *harness) drain() {
	h.t.Helper()
	for i := 0; i < 100; i++ {
		n, err := h.m.runner.RunOnce(context.Background())
		if err != nil {
			h.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	h.t.Fatal("jobs keep coming")
}

// newRestartableHarness is newHarness whose server can be restarted: its
// cleanup closes whichever server is current.
func newRestartableHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	m, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), clock)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, m: m, srv: httptest.NewServer(m.Handler()), clock: clock}
	t.Cleanup(func() { h.srv.Close(); h.m.Close() })
	if h.key, _, err = access.New(m.Store(), nil, access.Config{}).CreateAPIKey(context.Background(), "test", nil, ""); err != nil {
		t.Fatal(err)
	}
	return h
}

// restart closes the server and starts a new one on the same database, as
// after a crash.
func (h *harness) restart(cfg Config) {
	h.t.Helper()
	h.srv.Close()
	h.m.Close()
	m, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), h.clock)
	if err != nil {
		h.t.Fatal(err)
	}
	h.m, h.srv = m, httptest.NewServer(m.Handler())
}

func (h *harness) ok(method, path, idem string, body, out any, want int) {
	h.t.Helper()
	if res := h.do(method, path, h.key, idem, body, out); res.StatusCode != want {
		h.t.Fatalf("%s %s: %d, want %d", method, path, res.StatusCode, want)
	}
}

// TestMonthlyPayoutRun is the payouts feature end to end, in process with
// a fake clock: approved rewards for three participants, the monthly run
// on the 1st, a manager's approval, Stripe transfers (through stripe-mock)
// for two — one of whose answers is lost, then the server restarts — and a
// CSV bank transfer for the third, marked paid by import. The ledger shows
// everything paid once, notifications and webhooks are queued, and each
// transfer was made once.
func TestMonthlyPayoutRun(t *testing.T) {
	mock := stripemock.Start(t)
	proxy := stripemock.NewProxy(t, mock)
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.Integrations = IntegrationsConfig{StripeSecretKey: "sk_test_parrain", StripeAPIURL: proxy.URL, WebhooksAllowPrivate: true}
	h := newRestartableHarness(t, cfg)

	var received []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		received = append(received, r.Header.Get(webhook.HeaderEventType)+" "+string(b))
	}))
	defer hook.Close()

	var prog parrain.Program
	h.ok("POST", "/api/v1/programs", "", map[string]any{"name": "Payouts", "landing_url": "https://shop.example", "currency": "EUR", "hold_days": 7,
		"rules": []map[string]any{{"trigger": "purchase", "advocate": map[string]any{"kind": "cash", "type": "percent", "percent_bps": 1000}}}}, &prog, 201)
	base := "/api/v1/programs/" + prog.ID
	var ep parrain.WebhookEndpoint
	h.ok("POST", base+"/webhook-endpoints", "", map[string]any{"url": hook.URL, "event_types": []string{"reward.paid", "payout.paid"}}, &ep, 201)

	accounts := map[string]map[string]any{
		"alice": {"method": "stripe", "stripe_account": "acct_1AliceAAAAAAAAAA"},
		"bob":   {"method": "stripe", "stripe_account": "acct_1BobBBBBBBBBBBBB"},
		"carol": {"method": "bank", "bank": map[string]any{"holder_name": "Carol Durand", "iban": "FR14 2004 1010 0505 0001 3M02 606", "bic": "PSSTFRPPXXX"}},
	}
	amounts := map[string]int64{"alice": 25000, "bob": 40000, "carol": 12000}
	for _, who := range []string{"alice", "bob", "carol"} {
		var pv api.ParticipantView
		h.ok("PUT", base+"/participants/"+who, "", map[string]any{"email": who + "@example.com", "name": strings.ToUpper(who[:1]) + who[1:]}, &pv, 201)
		var acct parrain.PayoutAccount
		h.ok("PUT", base+"/participants/"+who+"/payout-account", "", accounts[who], &acct, 200)
		h.ok("POST", base+"/events", "buy-"+who, map[string]any{"type": "purchase", "external_id": "friend-of-" + who, "referral_code": pv.Code,
			"order_id": "order-" + who, "amount": amounts[who], "currency": "EUR"}, nil, 201)
	}
	var acct parrain.PayoutAccount
	h.ok("GET", base+"/participants/carol/payout-account", "", nil, &acct, 200)
	if acct.Bank.IBAN != "FR•••••••••••••••••••••2606" {
		t.Errorf("masked IBAN %q", acct.Bank.IBAN)
	}
	var settings parrain.PayoutSettings
	h.ok("PUT", base+"/payout-settings", "", map[string]any{"schedule": "monthly", "day": 1, "hour": 6, "minimum_amount": 1000}, &settings, 200)
	dec1 := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	if settings.NextRunAt == nil || !settings.NextRunAt.Equal(dec1) {
		t.Fatalf("next run %v", settings.NextRunAt)
	}

	// The holds end on November 8th; the run happens on December 1st.
	h.clock.Set(time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC))
	h.drain()
	var batches api.List[parrain.PayoutBatch]
	h.ok("GET", base+"/payout-batches", "", nil, &batches, 200)
	if len(batches.Data) != 0 {
		t.Fatalf("a batch before the 1st: %+v", batches.Data)
	}
	h.clock.Set(dec1.Add(time.Second))
	h.drain()
	h.ok("GET", base+"/payout-batches", "", nil, &batches, 200)
	if len(batches.Data) != 1 || batches.Data[0].Trigger != "schedule" || batches.Data[0].Status != parrain.BatchPendingApproval ||
		batches.Data[0].PayoutCount != 3 || batches.Data[0].Totals["EUR"] != 7700 {
		t.Fatalf("monthly batch %+v", batches.Data)
	}
	batchID := batches.Data[0].ID

	// Approved by a manager. The first transfer is made but its answer is
	// lost, also for stripe-go's two retries with the same key.
	proxy.LoseNext(3)
	var b parrain.PayoutBatch
	h.ok("POST", base+"/payout-batches/"+batchID+"/approve", "", nil, &b, 200)
	h.drain()
	payouts := map[string]parrain.Payout{}
	h.ok("GET", base+"/payout-batches/"+batchID, "", nil, &b, 200)
	for _, p := range b.Payouts {
		payouts[p.ExternalID] = p
	}
	lost := "alice"
	if payouts["alice"].Status == parrain.PayoutPaid {
		lost = "bob"
	}
	other := map[string]string{"alice": "bob", "bob": "alice"}[lost]
	if payouts[other].Status != parrain.PayoutPaid || payouts[lost].Status != parrain.PayoutSending || payouts["carol"].Status != parrain.PayoutManual {
		t.Fatalf("after sending (keys %v): %s %s, %s %s, carol %s", proxy.Keys(), other, payouts[other].Status, lost, payouts[lost].Status, payouts["carol"].Status)
	}
	// The server restarts; the send job retries the same key and Stripe
	// answers with the transfer it made.
	h.restart(cfg)
	h.clock.Advance(time.Minute)
	h.drain()
	h.ok("GET", base+"/payouts/"+payouts[lost].ID, "", nil, &b.Payouts[0], 200)
	if p := b.Payouts[0]; p.Status != parrain.PayoutPaid || !strings.HasPrefix(p.ProviderRef, "tr_") || p.Attempts != 2 {
		t.Fatalf("%s after restart: %+v", lost, p)
	}
	// Every request for the lost payout carried its key; two transfers were
	// made in all.
	sent := map[string]int{}
	for _, k := range proxy.Keys() {
		sent[k]++
	}
	if proxy.Created() != 2 || len(sent) != 2 || sent[payouts[lost].IdempotencyKey] != 4 || sent[payouts[other].IdempotencyKey] != 1 {
		t.Fatalf("transfer requests %v, made %d", sent, proxy.Created())
	}

	// Carol: the CSV export, paid by bank transfer, imported back.
	res, err := http.NewRequest("GET", h.srv.URL+base+"/payout-batches/"+batchID+"/export.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Header.Set("Authorization", "Bearer "+h.key)
	got, err := http.DefaultClient.Do(res)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(got.Body).ReadAll()
	got.Body.Close()
	if err != nil || got.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) != 2 || rows[1][6] != "FR1420041010050500013M02606" || rows[1][11] != "12.00" {
		t.Fatalf("export %v %v %q", rows, err, got.Header.Get("Content-Type"))
	}
	rows[1][14] = "paid"
	rows[1][15] = "SEPA-DEC-0001"
	var buf strings.Builder
	w := csv.NewWriter(&buf)
	_ = w.WriteAll(rows)
	var imported api.ImportResults
	h.ok("POST", base+"/payout-batches/"+batchID+"/import", "", buf.String(), &imported, 200)
	if len(imported.Data) != 1 || imported.Data[0].Result != "paid" {
		t.Fatalf("import %+v", imported)
	}

	// The ledger: everything paid, once.
	for who, amount := range map[string]int64{"alice": 2500, "bob": 4000, "carol": 1200} {
		var pv api.ParticipantView
		h.ok("GET", base+"/participants/"+who, "", nil, &pv, 200)
		if pv.Stats.Balances["paid"]["EUR"] != amount || pv.Stats.Balances["approved"]["EUR"] != 0 {
			t.Errorf("%s balances %v", who, pv.Stats.Balances)
		}
		var list api.List[parrain.Payout]
		h.ok("GET", base+"/participants/"+who+"/payouts", "", nil, &list, 200)
		if len(list.Data) != 1 || list.Data[0].Status != parrain.PayoutPaid {
			t.Errorf("%s payouts %+v", who, list.Data)
		}
	}
	h.ok("GET", base+"/payout-batches/"+batchID, "", nil, &b, 200)
	if b.Status != parrain.BatchCompleted {
		t.Errorf("batch %s", b.Status)
	}
	var notices, entries int
	st := h.m.Store()
	if err := st.DB().QueryRow(`SELECT COUNT(*) FROM jobs WHERE unique_key LIKE 'notify:reward_paid:%'`).Scan(&notices); err != nil {
		t.Fatalf("query: %v", err)
	}
	if err := st.DB().QueryRow(`SELECT COUNT(*) FROM ledger_entries WHERE type = 'payout'`).Scan(&entries); err != nil {
		t.Fatalf("query: %v", err)
	}
	if notices != 3 || entries != 6 {
		t.Errorf("reward_paid notices %d (want 3), payout entries %d (want 6)", notices, entries)
	}
	// The webhooks were delivered by the job runner.
	h.drain()
	var paidHooks, payoutHooks int
	for _, r := range received {
		switch {
		case strings.HasPrefix(r, "reward.paid "):
			paidHooks++
		case strings.HasPrefix(r, "payout.paid "):
			payoutHooks++
		}
	}
	if paidHooks != 3 || payoutHooks != 3 {
		t.Errorf("webhooks: %d reward.paid, %d payout.paid", paidHooks, payoutHooks)
	}
	// The next run is scheduled for January 1st.
	h.ok("GET", base+"/payout-settings", "", nil, &settings, 200)
	if !settings.NextRunAt.Equal(time.Date(2027, 1, 1, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("next run %v", settings.NextRunAt)
	}
}

func TestIntegrationAPIErrors(t *testing.T) {
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.Integrations = IntegrationsConfig{StripeWebhookSecret: "whsec_x"}
	h := newHarness(t, cfg)
	p := h.program()
	other := h.program()
	ctx := context.Background()
	readOnly, _, _ := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKey(ctx, "ro", []string{store.ScopeRead}, "")
	scoped, _, _ := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKey(ctx, "scoped", nil, other.ID)
	base := "/api/v1/programs/" + p.ID
	h.ok("PUT", base+"/participants/alice", "", map[string]any{}, nil, 201)
	var b parrain.PayoutBatch
	h.ok("POST", base+"/payout-batches", "run-1", "", &b, 201)
	var ep parrain.WebhookEndpoint
	h.ok("POST", base+"/webhook-endpoints", "", map[string]any{"url": "https://hooks.example.com/in", "event_types": []string{"*"}}, &ep, 201)
	if !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("no secret at creation: %+v", ep)
	}
	var shown parrain.WebhookEndpoint
	h.ok("GET", base+"/webhook-endpoints/"+ep.ID, "", nil, &shown, 200)
	if shown.Secret != "" {
		t.Error("secret shown after creation")
	}
	body := `{"id":"evt_1","object":"event","type":"invoice.paid","created":1,"data":{"object":{"id":"in_1","object":"invoice"}}}`
	cases := []struct {
		name, method, path, key, idem string
		body                          any
		status                        int
		code                          parrain.Code
		field                         string
	}{
		{"account method", "PUT", base + "/participants/alice/payout-account", h.key, "", `{"method":"cheque"}`, 400, parrain.CodeInvalid, "method"},
		{"account iban", "PUT", base + "/participants/alice/payout-account", h.key, "", `{"method":"bank","bank":{"holder_name":"A","iban":"DE00 0000"}}`, 400, parrain.CodeInvalid, "bank.iban"},
		{"account stripe id", "PUT", base + "/participants/alice/payout-account", h.key, "", `{"method":"stripe","stripe_account":"cus_1"}`, 400, parrain.CodeInvalid, "stripe_account"},
		{"account unknown field", "PUT", base + "/participants/alice/payout-account", h.key, "", `{"method":"paypal","paypal_email":"a@b.example","iban":"x"}`, 400, parrain.CodeInvalid, "iban"},
		{"account of unknown participant", "PUT", base + "/participants/ghost/payout-account", h.key, "", `{"method":"paypal","paypal_email":"a@b.example"}`, 404, parrain.CodeNotFound, ""},
		{"no account", "GET", base + "/participants/alice/payout-account", h.key, "", nil, 404, parrain.CodeNotFound, ""},
		{"account needs events scope", "PUT", base + "/participants/alice/payout-account", readOnly, "", `{"method":"paypal","paypal_email":"a@b.example"}`, 403, parrain.CodeForbidden, ""},
		{"settings schedule", "PUT", base + "/payout-settings", h.key, "", `{"schedule":"daily"}`, 400, parrain.CodeInvalid, "schedule"},
		{"settings day", "PUT", base + "/payout-settings", h.key, "", `{"schedule":"monthly","day":31}`, 400, parrain.CodeInvalid, "day"},
		{"settings float", "PUT", base + "/payout-settings", h.key, "", `{"minimum_amount":10.5}`, 400, parrain.CodeInvalid, "minimum_amount"},
		{"run without key", "POST", base + "/payout-batches", h.key, "", "", 400, parrain.CodeInvalid, "Idempotency-Key"},
		{"run with a body", "POST", base + "/payout-batches", h.key, "run-2", `{"all":true}`, 400, parrain.CodeInvalid, "all"},
		{"run needs admin", "POST", base + "/payout-batches", readOnly, "run-3", "", 403, parrain.CodeForbidden, ""},
		{"other program's key", "GET", base + "/payout-batches/" + b.ID, scoped, "", nil, 404, parrain.CodeNotFound, ""},
		{"batch elsewhere", "GET", "/api/v1/programs/" + other.ID + "/payout-batches/" + b.ID, h.key, "", nil, 404, parrain.CodeNotFound, ""},
		{"unknown batch", "POST", base + "/payout-batches/pbat_nope/approve", h.key, "", nil, 404, parrain.CodeNotFound, ""},
		{"payout status filter", "GET", base + "/payouts?status=lost", h.key, "", nil, 400, parrain.CodeInvalid, "status"},
		{"unknown payout", "POST", base + "/payouts/pay_nope/mark-paid", h.key, "", nil, 404, parrain.CodeNotFound, ""},
		{"mark failed without reason", "POST", base + "/payouts/pay_nope/mark-failed", h.key, "", `{}`, 400, parrain.CodeInvalid, "reason"},
		{"import not csv", "POST", base + "/payout-batches/" + b.ID + "/import", h.key, "", "payout;state\n", 400, parrain.CodeInvalid, "body"},
		{"endpoint loopback", "POST", base + "/webhook-endpoints", h.key, "", `{"url":"https://127.0.0.1/x","event_types":["*"]}`, 400, parrain.CodeInvalid, "url"},
		{"endpoint metadata ip", "POST", base + "/webhook-endpoints", h.key, "", `{"url":"https://169.254.169.254/latest","event_types":["*"]}`, 400, parrain.CodeInvalid, "url"},
		{"endpoint localhost", "POST", base + "/webhook-endpoints", h.key, "", `{"url":"https://localhost:8080/x","event_types":["*"]}`, 400, parrain.CodeInvalid, "url"},
		{"endpoint http", "POST", base + "/webhook-endpoints", h.key, "", `{"url":"http://hooks.example.com/x","event_types":["*"]}`, 400, parrain.CodeInvalid, "url"},
		{"endpoint credentials", "POST", base + "/webhook-endpoints", h.key, "", `{"url":"https://u:p@hooks.example.com/x","event_types":["*"]}`, 400, parrain.CodeInvalid, "url"},
		{"endpoint event type", "POST", base + "/webhook-endpoints", h.key, "", `{"url":"https://hooks.example.com/x","event_types":["reward.eaten"]}`, 400, parrain.CodeInvalid, "event_types"},
		{"endpoint no types", "POST", base + "/webhook-endpoints", h.key, "", `{"url":"https://hooks.example.com/x"}`, 400, parrain.CodeInvalid, "event_types"},
		{"endpoint status", "PATCH", base + "/webhook-endpoints/" + ep.ID, h.key, "", `{"status":"paused"}`, 400, parrain.CodeInvalid, "status"},
		{"endpoint elsewhere", "GET", "/api/v1/programs/" + other.ID + "/webhook-endpoints/" + ep.ID, h.key, "", nil, 404, parrain.CodeNotFound, ""},
		{"deliveries filter", "GET", base + "/webhook-endpoints/" + ep.ID + "/deliveries?status=lost", h.key, "", nil, 400, parrain.CodeInvalid, "status"},
		{"unknown delivery", "POST", base + "/webhook-endpoints/" + ep.ID + "/deliveries/msg_nope/replay", h.key, "", nil, 404, parrain.CodeNotFound, ""},
		{"crm provider", "PUT", base + "/crm", h.key, "", `{"provider":"pipedrive"}`, 400, parrain.CodeInvalid, "provider"},
		{"no crm", "GET", base + "/crm", h.key, "", nil, 404, parrain.CodeNotFound, ""},
		{"stripe bad signature", "POST", "/webhooks/stripe", "", "", body, 400, parrain.CodeInvalid, "Stripe-Signature"},
		{"shopify not configured", "POST", "/webhooks/shopify", "", "", `{"id":1}`, 404, parrain.CodeNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var eb httpx.ErrorBody
			res := h.do(c.method, c.path, c.key, c.idem, c.body, &eb)
			if res.StatusCode != c.status || eb.Error.Code != c.code || eb.Error.Field != c.field || eb.Error.Message == "" {
				t.Errorf("got %d %+v, want %d %s field %q", res.StatusCode, eb.Error, c.status, c.code, c.field)
			}
		})
	}
	// A correctly signed Stripe event answers 200 with what Parrain did.
	req, _ := http.NewRequest("POST", h.srv.URL+"/webhooks/stripe", strings.NewReader(body))
	req.Header.Set("Stripe-Signature", stripehook.Sign([]byte(body), "whsec_x", h.clock.Now()))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(out), `"status": "ignored"`) {
		t.Errorf("signed event: %d %s", res.StatusCode, out)
	}
	// Nothing was written by the failed requests.
	var n int
	if err := h.m.Store().DB().QueryRow(`SELECT (SELECT COUNT(*) FROM payout_accounts) + (SELECT COUNT(*) FROM webhook_endpoints) + (SELECT COUNT(*) FROM crm_connections)`).Scan(&n); err != nil {
		t.Fatalf("query: %v", err)
	}
	if n != 1 {
		t.Errorf("rows after failed writes: %d, want the one endpoint", n)
	}
}

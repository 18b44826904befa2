package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/api"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/integration/hubspot/hubspottest"
	"github.com/parrainhq/parrain/internal/integration/smtp"
	"github.com/parrainhq/parrain/internal/integration/smtp/smtptest"
	"github.com/parrainhq/parrain/internal/integration/stripehook"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/privacy"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/storetest"
)

// hookSink records the outgoing webhooks it receives.
type hookSink struct {
	mu     sync.Mutex
	bodies []string
}

func (s *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
	w.WriteHeader(204)
}

func (s *hookSink) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.bodies, "\n")
}

// TestErasureLeavesNothing: Zoé touched every feature through the real HTTP
// stack — referred as a friend (signup with her IP and browser, purchase,
// refund), then an advocate (a friend's purchase earned her a reward), a
// consent, shares, invitations, notifications, emails sent through a real
// SMTP server, webhook deliveries, a payout account with an IBAN and a paid
// bank payout, a Stripe event naming her, a partner record in another
// program and a lead naming her as its contact. Then she is exported and
// erased, and every column of every table is searched for her email, name,
// external id, IP, user agent and IBAN: nothing may be found. The ledger
// keeps its amounts.
func TestErasureLeavesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		mail := smtptest.Start(t, smtptest.Options{})
		sink := &hookSink{}
		hooks := httptest.NewServer(sink)
		defer hooks.Close()
		cfg := testConfig(url)
		cfg.SMTP = smtp.Config{Host: mail.Host, Port: mail.Port, TLS: smtp.TLSNone, From: "Acme <refer@acme.example>"}
		cfg.Integrations = IntegrationsConfig{WebhooksAllowPrivate: true, StripeWebhookSecret: "whsec_x", StripeTolerance: 5 * time.Minute}
		cfg.Privacy = privacy.DefaultConfig()
		h := newHarness(t, cfg)
		ctx := context.Background()
		const (
			email   = "Zoe.Dupont@Example.org"
			name    = "Zoé Dupont"
			ext     = "zoe-7731"
			ip      = "203.0.113.77"
			ua      = "ZoeBrowser/9.1 (Privacy test)"
			iban    = "FR1420041010050500013M02606"
			newName = "Zoé Dupont-Martin"
		)
		var prog parrain.Program
		h.ok("POST", "/api/v1/programs", "", map[string]any{"name": "Acme", "landing_url": "https://shop.example/join", "currency": "EUR", "hold_days": 0,
			"rules": []map[string]any{{"trigger": "first_purchase", "advocate": map[string]any{"kind": "cash", "type": "fixed", "amount": 2000},
				"friend": map[string]any{"kind": "coupon", "type": "percent", "percent_bps": 1000}}}}, &prog, 201)
		base := "/api/v1/programs/" + prog.ID
		var ep parrain.WebhookEndpoint
		h.ok("POST", base+"/webhook-endpoints", "", map[string]any{"url": hooks.URL, "event_types": []string{"*"}}, &ep, 201)
		var sec store.WidgetSecret
		h.ok("POST", base+"/widget-secret", "", nil, &sec, 201)
		h.ok("PUT", base+"/payout-settings", "", map[string]any{"schedule": "manual", "day": 1, "hour": 6, "minimum_amount": 0, "auto_approve_limit": 0}, nil, 200)

		// Referred by Bob: signup with her IP and browser, a purchase, a refund.
		var bob api.ParticipantView
		h.ok("PUT", base+"/participants/bob", "", map[string]any{"email": "bob@example.com", "name": "Bob Stone"}, &bob, 201)
		h.ok("POST", base+"/events", "su-zoe", map[string]any{"type": "signup", "external_id": ext, "email": email, "name": name, "referral_code": bob.Code,
			"context": map[string]any{"ip": ip, "user_agent": ua}}, nil, 201)
		h.ok("POST", base+"/events", "buy-zoe", map[string]any{"type": "purchase", "external_id": ext, "order_id": "o-zoe", "amount": 5000, "currency": "EUR",
			"context": map[string]any{"ip": ip}}, nil, 201)
		h.ok("POST", base+"/events", "ref-zoe", map[string]any{"type": "refund", "external_id": ext, "order_id": "o-zoe", "amount": 1000, "currency": "EUR"}, nil, 201)
		// Then an advocate: her friend Carl buys; she changes her name.
		var zoe api.ParticipantView
		h.ok("PUT", base+"/participants/"+ext, "", map[string]any{"name": newName, "locale": "fr"}, &zoe, 200)
		h.ok("POST", base+"/events", "su-carl", map[string]any{"type": "signup", "external_id": "carl", "email": "carl@example.net", "referral_code": zoe.Code}, nil, 201)
		h.ok("POST", base+"/events", "buy-carl", map[string]any{"type": "purchase", "external_id": "carl", "order_id": "o-carl", "amount": 9000, "currency": "EUR"}, nil, 201)
		h.ok("POST", base+"/participants/"+ext+"/consents", "", map[string]any{"granted": true, "wording": "Acme may email me", "wording_version": "v1"}, nil, 201)
		// The widget: her page, a share, an invitation, her notifications,
		// her bank account.
		tok := parrain.MintWidgetToken(sec.Secret, prog.ID, ext, h.clock.Now().Add(time.Hour))
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/api/v1/widget/me", ""},
			{"POST", "/api/v1/widget/shares", `{"channel":"email"}`},
			{"POST", "/api/v1/widget/invites", `{"emails":["dan@example.net"],"note":"From ` + name + `"}`},
			{"GET", "/api/v1/widget/notifications", ""},
			{"PUT", "/api/v1/widget/payout-account", `{"method":"bank","bank":{"holder_name":"` + name + `","iban":"FR14 2004 1010 0505 0001 3M02 606"}}`},
		} {
			req, _ := http.NewRequest(c.method, h.srv.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode >= 300 {
				t.Fatalf("widget %s %s: %d %s", c.method, c.path, res.StatusCode, b)
			}
		}
		h.drain()
		// Paid: a manual bank payout, marked paid.
		var batch parrain.PayoutBatch
		h.ok("POST", base+"/payout-batches", "run-1", "", &batch, 201)
		h.ok("POST", base+"/payout-batches/"+batch.ID+"/approve", "", nil, &batch, 200)
		var paid parrain.PayoutBatch
		h.ok("GET", base+"/payout-batches/"+batch.ID, "", nil, &paid, 200)
		for _, p := range paid.Payouts {
			h.ok("POST", base+"/payouts/"+p.ID+"/mark-paid", "", map[string]any{"reference": "wire-1"}, nil, 200)
		}
		// A click on her link.
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		creq, _ := http.NewRequest("GET", h.srv.URL+"/r/"+zoe.Code, nil)
		creq.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
		if res, err := client.Do(creq); err != nil || res.StatusCode != 302 || len(res.Cookies()) == 0 {
			t.Fatalf("click: %v %v", res, err)
		}
		for i := 0; ; i++ {
			var n int
			if err := h.m.Store().DB().QueryRow(`SELECT COUNT(*) FROM clicks WHERE participant_id = $1`, zoe.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				break
			}
			if i > 100 {
				t.Fatal("the click was not recorded")
			}
			time.Sleep(20 * time.Millisecond)
		}
		// A Stripe refund naming her, for a charge Parrain does not know yet:
		// kept, with its payload, waiting for its order.
		raw, err := os.ReadFile("../integration/stripehook/testdata/charge_refunded.json")
		if err != nil {
			t.Fatal(err)
		}
		stripeBody := strings.ReplaceAll(string(raw), "buyer@example.com", email)
		req, _ := http.NewRequest("POST", h.srv.URL+"/webhooks/stripe", strings.NewReader(stripeBody))
		req.Header.Set("Stripe-Signature", stripehook.Sign([]byte(stripeBody), "whsec_x", h.clock.Now()))
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
			t.Fatalf("stripe event: %v %v", res, err)
		}
		// A partner program where she is a partner, and where another
		// partner registered a lead naming her as the contact.
		var b2b parrain.Program
		h.ok("POST", "/api/v1/programs", "", map[string]any{"name": "B2B", "landing_url": "https://b2b.example", "currency": "EUR"}, &b2b, 201)
		ps := h.m.Partners()
		if _, err := ps.PutProgram(ctx, b2b.ID, parrain.PartnerSettings{Slug: "b2b", ApplicationsOpen: true}, []parrain.Tier{{Key: "referral", Name: "Referral"}}); err != nil {
			t.Fatal(err)
		}
		h.ok("POST", "/api/v1/programs/"+b2b.ID+"/partners", "inv-zoe", map[string]any{"email": email, "name": name, "company": "Dupont Conseil"}, nil, 201)
		var agency parrain.Partner
		h.ok("POST", "/api/v1/programs/"+b2b.ID+"/partners", "inv-agency", map[string]any{"email": "agency@partner.example", "name": "Agency"}, &agency, 201)
		if _, _, err := ps.RegisterLead(ctx, b2b.ID, agency.ID, parrain.LeadInput{CompanyName: "Globex", CompanyDomain: "globex.example", ContactEmail: email,
			ContactName: name, CompanySize: 50, Consent: true}, partner.RegisterOptions{Actor: "test"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		h.drain()

		needles := []string{email, strings.ToLower(email), name, newName, "Dupont", ext, ip, ua, iban, "FR14 2004 1010 0505 0001 3M02 606", zoe.Code}
		before := storetest.FindEverywhere(t, h.m.Store(), needles...)
		for _, want := range []string{"events.payload", "idempotency_keys.response", "webhook_deliveries.payload", "inbound_events.payload",
			"email_messages.to_email", "email_messages.html_body", "audit_log.user_email", "partner_leads.contact_email", "partners.email",
			"participant_traits.value", "invites.note", "referrals.code", "clicks.code"} {
			if !strings.Contains(strings.Join(before, "\n"), want) {
				t.Errorf("before erasure, her data should be in %s (the test would prove nothing): found only\n%s", want, strings.Join(before, "\n"))
			}
		}
		if !strings.Contains(sink.all(), ext) || len(mail.Messages()) == 0 {
			t.Fatalf("webhooks and emails should have carried her data: %d emails", len(mail.Messages()))
		}
		ledger := func() map[string]string {
			rows, err := h.m.Store().DB().Query(`SELECT id, participant_id, type, bucket, amount, currency, memo FROM ledger_entries`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]string{}
			for rows.Next() {
				var id, pid, typ, bucket, cur, memo string
				var amount int64
				if err := rows.Scan(&id, &pid, &typ, &bucket, &amount, &cur, &memo); err != nil {
					t.Fatal(err)
				}
				out[id] = strings.Join([]string{pid, typ, bucket, cur, memo, time.Duration(amount).String()}, "|")
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		}
		// Bank details are sealed at rest (docs/secrets.md): the raw search
		// cannot see them, so they are read through the store, decrypted.
		banks := func() string {
			ps, _, err := h.m.Store().Payouts(ctx, prog.ID, store.PayoutFilter{ParticipantID: zoe.ID}, store.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, p := range ps {
				if p.Bank != nil {
					fmt.Fprintf(&b, "%+v\n", *p.Bank)
				}
			}
			if a, err := h.m.Store().PayoutAccount(ctx, prog.ID, ext); err == nil && a.Bank != nil {
				fmt.Fprintf(&b, "%+v\n", *a.Bank)
			}
			return b.String()
		}
		if !strings.Contains(banks(), iban) {
			t.Errorf("before erasure her IBAN should be in her payouts or payout account (decrypted): %q", banks())
		}
		ledgerBefore := ledger()
		balance := func(bucket string) int64 {
			var v int64
			if err := h.m.Store().DB().QueryRow(`SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE participant_id = $1 AND bucket = $2`, zoe.ID, bucket).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		paidBefore := balance("paid")
		if paidBefore <= 0 {
			t.Fatalf("she should have been paid: %d", paidBefore)
		}

		// Export: one document, both programs.
		res, body := h.get(base+"/participants/"+ext+"/export", h.key)
		if res.StatusCode != 200 {
			t.Fatalf("export: %d %s", res.StatusCode, body)
		}
		var doc privacy.Export
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Records) != 2 {
			t.Errorf("export records: %d, want her participant and her partner record", len(doc.Records))
		}
		for _, want := range []string{`"referrals"`, `"events"`, `"rewards"`, `"ledger_entries"`, `"payouts"`, `"payout_accounts"`, `"consents"`, `"email_messages"`,
			`"notifications"`, `"shares"`, `"invites"`, `"partner_leads"`, `"audit_log"`, `Acme may email me`, iban} {
			if !strings.Contains(body, want) {
				t.Errorf("export lacks %s", want)
			}
		}
		// A read key, or a key of one program, may not erase.
		readOnly, _, _ := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKey(ctx, "ro", []string{store.ScopeRead}, "")
		scoped, _, _ := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKey(ctx, "scoped", nil, prog.ID)
		for _, k := range []string{readOnly, scoped} {
			if res := h.do("DELETE", base+"/participants/"+ext, k, "", nil, nil); res.StatusCode != 403 {
				t.Errorf("erasure with a restricted key: %d", res.StatusCode)
			}
		}
		var eb httpx.ErrorBody
		if res := h.do("DELETE", base+"/participants/"+ext+"?force=maybe", h.key, "", nil, &eb); res.StatusCode != 400 || eb.Error.Field != "force" {
			t.Errorf("bad force: %d %+v", res.StatusCode, eb)
		}
		// Her unpaid friend coupon refuses the erasure unless forced.
		if res := h.do("DELETE", base+"/participants/"+ext, h.key, "", nil, &eb); res.StatusCode != 409 || eb.Error.Field != "force" || !strings.Contains(eb.Error.Message, "EUR") {
			t.Errorf("erasure with money owed: %d %+v", res.StatusCode, eb)
		}
		var erased privacy.Erasure
		if res, body := h.raw("DELETE", base+"/participants/"+ext+"?force=true", h.key, "", nil); res.StatusCode != 200 {
			t.Fatalf("erase: %d %s", res.StatusCode, body)
		} else if err := json.Unmarshal(body, &erased); err != nil {
			t.Fatal(err)
		}
		if len(erased.Erased) != 2 || erased.EvidenceKept == 0 || len(erased.Forfeited) != 1 {
			t.Errorf("erasure: %+v", erased)
		}
		h.drain()

		if found := storetest.FindEverywhere(t, h.m.Store(), needles...); len(found) > 0 {
			t.Errorf("after erasure her data is still stored:\n%s", strings.Join(found, "\n"))
		}
		if b := banks(); strings.Contains(b, iban) || strings.Contains(b, "Dupont") {
			t.Errorf("after erasure her bank details are still stored (decrypted): %q", b)
		}
		// The ledger only grew: every entry is unchanged, the forfeited
		// coupon reversed by new entries, what was paid still paid.
		after := ledger()
		for id, e := range ledgerBefore {
			if after[id] != e {
				t.Errorf("ledger entry %s changed: %q, was %q", id, after[id], e)
			}
		}
		if len(after) <= len(ledgerBefore) {
			t.Error("no reversal entries for the forfeited reward")
		}
		if balance("pending") != 0 || balance("approved") != 0 || balance("paid") != paidBefore {
			t.Errorf("balances after erasure: pending %d approved %d paid %d (was %d)", balance("pending"), balance("approved"), balance("paid"), paidBefore)
		}
		// Others keep theirs.
		if found := storetest.FindEverywhere(t, h.m.Store(), "bob@example.com", "carl@example.net", "agency@partner.example"); len(found) < 3 {
			t.Errorf("other people's data was erased: %v", found)
		}
		// Her code no longer works, she is gone from the API, the erasure
		// was announced and audited without her data.
		if res := h.do("GET", base+"/participants/"+ext, h.key, "", nil, nil); res.StatusCode != 404 {
			t.Errorf("erased participant: %d", res.StatusCode)
		}
		if _, err := h.m.Store().ResolveCode(ctx, zoe.Code); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("the erased code still resolves: %v", err)
		}
		if res, err := client.Get(h.srv.URL + "/r/" + zoe.Code); err != nil || len(res.Cookies()) > 0 {
			t.Errorf("the erased code still sets an attribution cookie: %v %v", res.Cookies(), err)
		}
		if !strings.Contains(sink.all(), `"participant.erased"`) || !strings.Contains(sink.all(), zoe.ID) {
			t.Error("no participant.erased webhook")
		}
		entries, _, err := h.m.Store().AuditLog(ctx, store.AuditFilter{Action: store.AuditParticipantErased}, store.Page{})
		if err != nil || len(entries) != 1 || entries[0].TargetID != zoe.ID {
			t.Errorf("audit: %+v %v", entries, err)
		}
		sent := len(mail.Messages())
		h.ok("POST", base+"/events", "buy-carl-2", map[string]any{"type": "purchase", "external_id": "carl", "order_id": "o-carl-2", "amount": 9000, "currency": "EUR"}, nil, 201)
		h.drain()
		for _, m := range mail.Messages()[sent:] {
			if strings.Contains(strings.ToLower(strings.Join(m.To, ",")), "zoe") {
				t.Errorf("an email went to her after erasure: %v", m.To)
			}
		}
		if res := h.do("DELETE", base+"/participants/"+ext, h.key, "", nil, nil); res.StatusCode != 404 {
			t.Errorf("erasing again: %d", res.StatusCode)
		}
	})
}

// TestDoNotSellSkipsCRMSync: a referral whose friend chose "do not sell or
// share" (set by the friend in the widget) never reaches the CRM; another
// referral does.
func TestDoNotSellSkipsCRMSync(t *testing.T) {
	hs := hubspottest.New()
	defer hs.Close()
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.Integrations = IntegrationsConfig{HubSpotToken: hubspottest.Token, HubSpotAPIURL: hs.URL}
	h := newHarness(t, cfg)
	p := h.program()
	base := "/api/v1/programs/" + p.ID
	var sec store.WidgetSecret
	h.ok("POST", base+"/widget-secret", "", nil, &sec, 201)
	h.ok("PUT", base+"/crm", "", map[string]any{"provider": "hubspot"}, nil, 200)
	var adv api.ParticipantView
	h.ok("PUT", base+"/participants/adv", "", map[string]any{"email": "adv@example.com"}, &adv, 201)
	for _, f := range []string{"private", "public"} {
		h.ok("POST", base+"/events", "su-"+f, map[string]any{"type": "signup", "external_id": f, "email": f + "@example.net", "referral_code": adv.Code}, nil, 201)
		if f == "private" {
			tok := parrain.MintWidgetToken(sec.Secret, p.ID, f, h.clock.Now().Add(time.Hour))
			req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/widget/privacy", strings.NewReader(`{"do_not_sell":true}`))
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("widget privacy: %v %v", res, err)
			}
		}
		h.ok("POST", base+"/events", "buy-"+f, map[string]any{"type": "purchase", "external_id": f, "order_id": "o-" + f, "amount": 5000, "currency": "EUR"}, nil, 201)
	}
	h.drain()
	contacts := hs.Records("contacts")
	if len(contacts) != 1 || !strings.Contains(contacts[0].Properties["email"], "public") {
		t.Errorf("CRM contacts: %+v, want the public friend only", contacts)
	}
	var eb httpx.ErrorBody
	if res := h.do("POST", "/api/v1/widget/privacy", "", "", `{"do_not_sell":true}`, &eb); res.StatusCode != 401 {
		t.Errorf("widget privacy without a token: %d", res.StatusCode)
	}
}

// TestPersonCommands: `parrain person export` prints the export document;
// `parrain person erase` refuses money owed without --force, then erases,
// audited as the command line.
func TestPersonCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	h := newHarness(t, testConfig(db))
	p := h.program()
	base := "/api/v1/programs/" + p.ID
	var adv api.ParticipantView
	h.ok("PUT", base+"/participants/ana", "", map[string]any{"email": "ana@example.com", "name": "Ana Lima"}, &adv, 201)
	h.ok("POST", base+"/events", "su", map[string]any{"type": "signup", "external_id": "fr", "referral_code": adv.Code}, nil, 201)
	h.ok("POST", base+"/events", "buy", map[string]any{"type": "purchase", "external_id": "fr", "order_id": "o1", "amount": 5000, "currency": "EUR"}, nil, 201)

	code, out, errs := cli("person", "export", "--program", p.ID, "--external-id", "ana", "--db", db)
	if code != 0 || !strings.Contains(out, `"format": "parrain.person_export.v1"`) || !strings.Contains(out, "ana@example.com") {
		t.Fatalf("export: %d %q %.300q", code, errs, out)
	}
	if code, _, errs := cli("person", "erase", "--program", p.ID, "--external-id", "ana", "--db", db); code != 1 || !strings.Contains(errs, "--force") {
		t.Errorf("erase with money owed: %d %q", code, errs)
	}
	code, out, errs = cli("person", "erase", "--program", p.ID, "--external-id", "ana", "--force", "--db", db)
	if code != 0 || !strings.Contains(out, "erased 1 record") || !strings.Contains(out, "forfeited EUR") {
		t.Fatalf("erase: %d %q %q", code, out, errs)
	}
	if found := storetest.FindEverywhere(t, h.m.Store(), "ana@example.com", "Ana Lima"); len(found) > 0 {
		t.Errorf("still stored: %v", found)
	}
	entries, _, err := h.m.Store().AuditLog(context.Background(), store.AuditFilter{Action: store.AuditParticipantErased}, store.Page{})
	if err != nil || len(entries) != 1 || entries[0].ActorType != string(parrain.ActorCLI) {
		t.Errorf("audit: %+v %v", entries, err)
	}
	if code, _, errs := cli("person", "erase", "--program", p.ID, "--db", db); code != 1 || !strings.Contains(errs, "--external-id") {
		t.Errorf("missing flag: %d %q", code, errs)
	}
}

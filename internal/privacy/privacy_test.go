package privacy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/privacy"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/storetest"
)

const (
	email = "Zoe.Dupont@Example.org"
	name  = "Zoé Dupont"
	ip    = "203.0.113.77"
	iban  = "FR14 2004 1010 0505 0001 3M02 606"
)

// setup makes Zoé an advocate of two programs (same external id in one,
// same email in the other) who referred a friend with a purchase, with a
// payout account, and returns the service and her participant.
func setup(t *testing.T, e *storetest.Env) (*privacy.Service, parrain.Program, parrain.Participant) {
	ctx := context.Background()
	prog := e.Program(func(p *parrain.Program) { p.HoldDays = 0 })
	other := e.Program(nil)
	zoe, _, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "zoe-42", Email: email, Name: name,
		Context: &parrain.EventContext{IP: ip, UserAgent: "ZoeBrowser/1.0"}}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Ref.UpsertParticipant(ctx, other.ID, parrain.ParticipantInput{ExternalID: "zd-other", Email: strings.ToLower(email)}, store.Idem{}); err != nil {
		t.Fatal(err)
	}
	e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "friend-1", Email: "friend@example.net", ReferralCode: zoe.Code,
		Context: &parrain.EventContext{IP: "198.51.100.9"}})
	e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "friend-1", OrderID: "o-1", Amount: 5000, Currency: "EUR"})
	pay := payout.New(e.St, slog.New(slog.NewTextHandler(io.Discard, nil)), payout.Config{})
	if _, _, err := pay.SetPayoutAccount(ctx, prog.ID, "zoe-42", parrain.PayoutAccountInput{Method: parrain.PayoutBank,
		Bank: &parrain.BankDetails{HolderName: name, IBAN: iban}}, store.Idem{}); err != nil {
		t.Fatal(err)
	}
	return privacy.New(e.St, slog.New(slog.NewTextHandler(io.Discard, nil)), privacy.DefaultConfig()), prog, zoe
}

func TestExportFindsThePersonEverywhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) {
		svc, prog, zoe := setup(t, e)
		doc, err := svc.Export(context.Background(), prog.ID, "zoe-42")
		if err != nil {
			t.Fatal(err)
		}
		if len(doc.Records) != 2 {
			t.Fatalf("records: %d, want her two participants", len(doc.Records))
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, want := range []string{`"format":"parrain.person_export.v1"`, `"referrals"`, `"rewards"`, `"ledger_entries"`, `"events"`,
			`"payout_accounts"`, strings.ReplaceAll(iban, " ", ""), ip, zoe.ID, `"participant_traits"`} {
			if !strings.Contains(s, want) {
				t.Errorf("export lacks %s", want)
			}
		}
		if _, err := svc.Export(context.Background(), prog.ID, "nobody"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("unknown person: %v", err)
		}
	})
}

func TestEraseRefusesOwedMoneyThenForfeitsIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) {
		ctx := context.Background()
		svc, prog, zoe := setup(t, e)
		before := e.Balance(zoe.ID)
		if before[parrain.BucketApproved]+before[parrain.BucketPending] != 2000 {
			t.Fatalf("balance before: %v", before)
		}
		_, err := svc.Erase(ctx, prog.ID, "zoe-42", false)
		var pe *parrain.Error
		if !errors.As(err, &pe) || pe.Code != parrain.CodeConflict || pe.Field != "force" || !strings.Contains(pe.Message, "EUR") {
			t.Fatalf("erasure with money owed: %v", err)
		}
		res, err := svc.Erase(ctx, prog.ID, "zoe-42", true)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Erased) != 2 || len(res.Forfeited) != 1 || res.EvidenceKept == 0 {
			t.Errorf("erasure: %+v", res)
		}
		after := e.Balance(zoe.ID)
		if after[parrain.BucketApproved] != 0 || after[parrain.BucketPending] != 0 {
			t.Errorf("balance after a forced erasure: %v", after)
		}
		var reversals int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM ledger_entries WHERE participant_id = $1 AND memo = $2`, zoe.ID, privacy.ForfeitMemo).Scan(&reversals); err != nil {
			t.Fatal(err)
		}
		if reversals == 0 {
			t.Error("no reversal entry in the ledger")
		}
		if found := storetest.FindEverywhere(t, e.St, email, strings.ToLower(email), name, "Dupont", "zoe-42", "zd-other", ip, "ZoeBrowser",
			iban, strings.ReplaceAll(iban, " ", ""), zoe.Code); len(found) > 0 {
			t.Errorf("erased data still found:\n%s", strings.Join(found, "\n"))
		}
		// The friend keeps their data; the code stops resolving.
		if found := storetest.FindEverywhere(t, e.St, "friend@example.net"); len(found) == 0 {
			t.Error("the friend's data was erased too")
		}
		if _, err := e.St.ResolveCode(ctx, zoe.Code); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("the erased code still resolves: %v", err)
		}
		seen, err := e.St.ErasedEvidenceSeen(ctx, prog.ID, "email", strings.ToLower(email))
		if err != nil || !seen {
			t.Errorf("hashed evidence of the email: %v %v", seen, err)
		}
		if _, err := svc.Erase(ctx, prog.ID, "zoe-42", true); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("erasing again: %v", err)
		}
		// Evidence expires with the retention job.
		e.Clock.Advance(366 * 24 * time.Hour)
		if _, err := svc.Retention(ctx); err != nil {
			t.Fatal(err)
		}
		if seen, err := e.St.ErasedEvidenceSeen(ctx, prog.ID, "email", strings.ToLower(email)); err != nil || seen {
			t.Errorf("evidence after its period: %v %v", seen, err)
		}
	})
}

// TestDoNotSellSuppressesMarketingWebhooks: referral.created and
// referral.converted are not sent about a participant who chose "do not
// sell or share"; reward webhooks (operational) still are.
func TestDoNotSellSuppressesMarketingWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) {
		ctx := context.Background()
		prog := e.Program(nil)
		url := "https://hooks.example/in"
		if _, _, err := outbound.NewService(e.St).CreateEndpoint(ctx, prog.ID, parrain.WebhookEndpointInput{URL: &url, EventTypes: []string{"*"}}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		yes := true
		for _, c := range []struct {
			advocate  string
			doNotSell *bool
		}{{"optout", &yes}, {"plain", nil}} {
			p, _, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: c.advocate, DoNotSell: c.doNotSell}, store.Idem{})
			if err != nil {
				t.Fatal(err)
			}
			e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f-" + c.advocate, ReferralCode: p.Code})
			e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f-" + c.advocate, OrderID: "o-" + c.advocate, Amount: 5000, Currency: "EUR"})
		}
		count := func(typ, who string) int {
			var n int
			if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE event_type = $1 AND payload LIKE $2`, typ, "%"+who+"%").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		optout, err := e.St.Participant(ctx, prog.ID, "optout")
		if err != nil || !optout.DoNotSell {
			t.Fatalf("flag: %+v %v", optout, err)
		}
		for _, typ := range []string{parrain.WebhookReferralCreated, parrain.WebhookReferralConverted} {
			if n := count(typ, `"optout"`); n != 0 {
				t.Errorf("%s sent about the opted-out advocate (%d)", typ, n)
			}
			if n := count(typ, `"plain"`); n != 1 {
				t.Errorf("%s about the other advocate: %d, want 1", typ, n)
			}
		}
		if n := count(parrain.WebhookRewardCreated, `"optout"`); n == 0 {
			t.Error("reward.created (operational) was suppressed too")
		}
	})
}

// TestRetention: the daily job blanks what is older than each period and
// keeps what is not, and removes expired evidence.
func TestRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) {
		ctx := context.Background()
		prog := e.Program(nil)
		db := e.St.DB()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Exec(q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		old, recent := storetest.T0.Add(-100*24*time.Hour).UnixMilli(), storetest.T0.Add(-time.Hour).UnixMilli()
		for i, at := range []int64{old, recent} {
			id := []string{"old", "new"}[i]
			exec(`INSERT INTO clicks (id, program_id, code, valid, ip, user_agent, created_at) VALUES ($1, $2, 'C', TRUE, '198.51.100.1', 'UA', $3)`, "clk_"+id, prog.ID, at)
			exec(`INSERT INTO email_messages (id, program_id, to_email, to_canonical, kind, locale, subject, text_body, html_body, dedupe_key, status, created_at)
				VALUES ($1, $2, 'a@example.com', 'a@example.com', 'welcome', 'en', 'Hi', 'body', '<p>body</p>', $1, 'sent', $3)`, "em_"+id, prog.ID, at)
			exec(`INSERT INTO inbound_events (provider, event_id, type, status, payload, received_at) VALUES ('stripe', $1, 'x', 'processed', '{"a":1}', $2)`, "evt_"+id, at)
			exec(`INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at) VALUES ('s', $1, 'h', '{}', $2)`, id, at)
		}
		exec(`INSERT INTO email_messages (id, program_id, to_email, to_canonical, kind, locale, subject, text_body, html_body, dedupe_key, status, created_at)
			VALUES ('em_queued', $1, 'a@example.com', 'a@example.com', 'welcome', 'en', 'Hi', 'body', '<p>body</p>', 'em_queued', 'queued', $2)`, prog.ID, old)
		cfg := privacy.DefaultConfig()
		cfg.Retention.RawPayloads = 30 * 24 * time.Hour
		svc := privacy.New(e.St, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
		n, err := svc.Retention(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n["clicks.ip"] != 1 || n["email_messages.body"] != 1 || n["inbound_events.payload"] != 1 || n["idempotency_keys"] != 1 {
			t.Errorf("retention: %v", n)
		}
		var ipOld, ipNew, bodyQueued, payloadNew string
		var keys int
		for _, q := range []struct {
			sql string
			dst any
		}{
			{`SELECT ip FROM clicks WHERE id = 'clk_old'`, &ipOld},
			{`SELECT ip FROM clicks WHERE id = 'clk_new'`, &ipNew},
			{`SELECT text_body FROM email_messages WHERE id = 'em_queued'`, &bodyQueued},
			{`SELECT payload FROM inbound_events WHERE event_id = 'evt_new'`, &payloadNew},
			{`SELECT COUNT(*) FROM idempotency_keys`, &keys},
		} {
			if err := db.QueryRow(q.sql).Scan(q.dst); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		if ipOld != "" || ipNew == "" || bodyQueued == "" || payloadNew == "" || keys != 1 {
			t.Errorf("after retention: old ip %q, new ip %q, queued body %q, new payload %q, keys %d", ipOld, ipNew, bodyQueued, payloadNew, keys)
		}
		// Zero keeps forever.
		cfg.Retention = store.RetentionPolicy{}
		if n, err := privacy.New(e.St, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg).Retention(ctx); err != nil || n["clicks.ip"] != 0 {
			t.Errorf("zero periods: %v %v", n, err)
		}
	})
}

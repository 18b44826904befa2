package payout_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/integration/paypal"
	"github.com/parrainhq/parrain/internal/integration/paypal/paypaltest"
	"github.com/parrainhq/parrain/internal/integration/stripe"
	"github.com/parrainhq/parrain/internal/integration/stripe/stripemock"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

var ctx = context.Background()

type env struct {
	t     *testing.T
	st    *store.Store
	svc   *payout.Service // without provider clients: runs, approvals, settling by hand
	clock *parrain.FakeClock
	prog  parrain.Program
}

func setup(t *testing.T, url string) *env {
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, url, store.Options{Clock: clock, Keys: dbtest.Keys()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	prog, _, err := program.New(st).Create(ctx, parrain.Program{Name: "P", LandingURL: "https://shop.example", Currency: "EUR",
		Rules: []parrain.RewardRule{{Trigger: parrain.TriggerPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1000}}}}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, svc: payout.New(st, quiet, payout.Config{}), clock: clock, prog: prog}
}

// advocate creates an advocate with a payout account and an approved
// reward of a tenth of amount.
func (e *env) advocate(ext string, acct parrain.PayoutAccountInput, amount int64) parrain.Participant {
	e.t.Helper()
	a, _, err := referral.New(e.st).UpsertParticipant(ctx, e.prog.ID, parrain.ParticipantInput{ExternalID: ext, Email: ext + "@example.com", Name: ext}, store.Idem{})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.svc.SetPayoutAccount(ctx, e.prog.ID, ext, acct, store.Idem{}); err != nil {
		e.t.Fatal(err)
	}
	res, _, err := referral.New(e.st).IngestEvent(ctx, e.prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "friend-" + ext,
		ReferralCode: a.Code, OrderID: "order-" + ext, Amount: amount, Currency: "EUR"}, store.Idem{})
	if err != nil || len(res.Rewards) != 1 {
		e.t.Fatalf("purchase: %+v %v", res, err)
	}
	if ok, _, err := e.st.ApproveReward(ctx, res.Rewards[0].ID); !ok || err != nil {
		e.t.Fatalf("approve: %v %v", ok, err)
	}
	return a
}

// batch runs and approves a payout batch and returns its payouts by
// external id.
func (e *env) batch() (parrain.PayoutBatch, map[string]parrain.Payout) {
	e.t.Helper()
	b, _, err := e.svc.CreatePayoutBatch(ctx, e.prog.ID, store.Idem{})
	if err != nil {
		e.t.Fatal(err)
	}
	if b, err = e.svc.ApprovePayoutBatch(ctx, e.prog.ID, b.ID, "manager"); err != nil {
		e.t.Fatal(err)
	}
	m := map[string]parrain.Payout{}
	for _, p := range b.Payouts {
		m[p.ExternalID] = p
	}
	return b, m
}

func (e *env) payout(id string) parrain.Payout {
	e.t.Helper()
	p, err := e.st.Payout(ctx, e.prog.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) buckets(participantID string) map[string]int64 {
	e.t.Helper()
	st, err := e.st.ParticipantStats(ctx, participantID)
	if err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"approved": st.Balances["approved"]["EUR"], "paid": st.Balances["paid"]["EUR"]}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestStripePayoutsExactlyOnce(t *testing.T) {
	mock := stripemock.Start(t)
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		proxy := stripemock.NewProxy(t, mock)
		svc := payout.New(e.st, quiet, payout.Config{Stripe: stripe.New(stripe.Config{SecretKey: "sk_test_parrain", APIURL: proxy.URL, MaxNetworkRetries: -1})})
		alice := e.advocate("alice", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_1AliceAAAAAAAAAA"}, 20000)
		bob := e.advocate("bob", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_1BobBBBBBBBBBBBB"}, 30000)
		_, ps := e.batch()

		// Alice: paid at the first attempt.
		if _, err := svc.Send(ctx, ps["alice"].ID); err != nil {
			t.Fatal(err)
		}
		pa := e.payout(ps["alice"].ID)
		if pa.Status != parrain.PayoutPaid || !strings.HasPrefix(pa.ProviderRef, "tr_") {
			t.Fatalf("alice %+v", pa)
		}
		if b := e.buckets(alice.ID); b["paid"] != 2000 || b["approved"] != 0 {
			t.Errorf("alice %v", b)
		}
		// Bob: Stripe makes the transfer but the answer is lost. The payout
		// stays "sending" with the error; the retry sends the same key and
		// gets the same transfer.
		proxy.LoseNext(1)
		if _, err := svc.Send(ctx, ps["bob"].ID); err == nil {
			t.Fatal("lost answer not reported")
		}
		pb := e.payout(ps["bob"].ID)
		if pb.Status != parrain.PayoutSending || pb.LastError == "" {
			t.Fatalf("bob after the lost answer %+v", pb)
		}
		if b := e.buckets(bob.ID); b["paid"] != 0 || b["approved"] != 3000 {
			t.Errorf("bob ledger moved without an answer: %v", b)
		}
		if _, err := svc.Send(ctx, ps["bob"].ID); err != nil {
			t.Fatal(err)
		}
		pb = e.payout(ps["bob"].ID)
		if pb.Status != parrain.PayoutPaid || pb.Attempts != 2 || pb.LastError != "" {
			t.Fatalf("bob %+v", pb)
		}
		// More runs of the job change nothing.
		for range 2 {
			if _, err := svc.Send(ctx, ps["bob"].ID); err != nil {
				t.Fatal(err)
			}
		}
		if b := e.buckets(bob.ID); b["paid"] != 3000 || b["approved"] != 0 {
			t.Errorf("bob %v", b)
		}
		want := []string{ps["alice"].IdempotencyKey, ps["bob"].IdempotencyKey, ps["bob"].IdempotencyKey}
		if keys := proxy.Keys(); strings.Join(keys, ",") != strings.Join(want, ",") {
			t.Errorf("transfer requests %v, want %v", keys, want)
		}
		if n := proxy.Created(); n != 2 {
			t.Errorf("transfers made %d, want 2", n)
		}
		if f := proxy.Forms()[0]; f.Get("amount") != "2000" || f.Get("currency") != "eur" || f.Get("destination") != "acct_1AliceAAAAAAAAAA" ||
			f.Get("transfer_group") != ps["alice"].IdempotencyKey || f.Get("metadata[parrain_payout_id]") != ps["alice"].ID {
			t.Errorf("transfer form %v", f)
		}
	})
}

func TestStripeRefusalAndMissingConfig(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","code":"account_invalid","message":"The destination account needs to have at least one of the following capabilities enabled: transfers"}}`))
		}))
		defer refusing.Close()
		alice := e.advocate("alice", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_1Restricted"}, 20000)
		_, ps := e.batch()

		unconfigured := payout.New(e.st, quiet, payout.Config{})
		if retry, err := unconfigured.Send(ctx, ps["alice"].ID); err != nil || !retry.Equal(e.clock.Now().Add(payout.NotConfiguredRetry)) {
			t.Fatalf("without Stripe: %v %v", retry, err)
		}
		if p := e.payout(ps["alice"].ID); p.Status != parrain.PayoutQueued || !strings.Contains(p.LastError, "PARRAIN_STRIPE_SECRET_KEY") {
			t.Fatalf("unconfigured %+v", p)
		}
		svc := payout.New(e.st, quiet, payout.Config{Stripe: stripe.New(stripe.Config{SecretKey: "sk_test_x", APIURL: refusing.URL, MaxNetworkRetries: -1})})
		if _, err := svc.Send(ctx, ps["alice"].ID); err != nil {
			t.Fatal(err)
		}
		p := e.payout(ps["alice"].ID)
		if p.Status != parrain.PayoutFailed || !strings.HasPrefix(p.FailureReason, "account_invalid: The destination account") {
			t.Fatalf("refused %+v", p)
		}
		if b := e.buckets(alice.ID); b["approved"] != 2000 || b["paid"] != 0 {
			t.Errorf("balance %v", b)
		}
		// Returned to the balance: the next run pays it again.
		b, _, _ := e.svc.CreatePayoutBatch(ctx, e.prog.ID, store.Idem{})
		if b.PayoutCount != 1 || b.Payouts[0].Amount != 2000 {
			t.Errorf("next run %+v", b)
		}
	})
}

func TestPayPalPayouts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		pp := paypaltest.New()
		defer pp.Close()
		pp.SetOutcome("carol@paypal.example", paypaltest.Outcome{Status: "SUCCESS", Polls: 1})
		pp.SetOutcome("dan@paypal.example", paypaltest.Outcome{Status: "FAILED", ErrorName: "RECEIVER_UNREGISTERED", ErrorMsg: "Receiver is unregistered"})
		client := paypal.New(paypal.Config{ClientID: paypaltest.ClientID, Secret: paypaltest.Secret, APIURL: pp.URL})
		svc := payout.New(e.st, quiet, payout.Config{PayPal: client})
		carol := e.advocate("carol", parrain.PayoutAccountInput{Method: parrain.PayoutPayPal, PayPalEmail: "carol@paypal.example"}, 12345)
		dan := e.advocate("dan", parrain.PayoutAccountInput{Method: parrain.PayoutPayPal, PayPalEmail: "dan@paypal.example"}, 5000)
		erin := e.advocate("erin", parrain.PayoutAccountInput{Method: parrain.PayoutPayPal, PayPalEmail: "erin@paypal.example"}, 7000)
		_, ps := e.batch()

		// Carol: accepted, pending at the first poll, then paid.
		if _, err := svc.Send(ctx, ps["carol"].ID); err != nil {
			t.Fatal(err)
		}
		p := e.payout(ps["carol"].ID)
		if p.Status != parrain.PayoutProcessing || p.ProviderRef == "" {
			t.Fatalf("carol %+v", p)
		}
		retry, err := svc.Poll(ctx, p.ID)
		if err != nil || retry.IsZero() || e.payout(p.ID).Status != parrain.PayoutProcessing {
			t.Fatalf("first poll: %v %v", retry, err)
		}
		if _, err := svc.Poll(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if p = e.payout(p.ID); p.Status != parrain.PayoutPaid {
			t.Fatalf("carol %+v", p)
		}
		if b := e.buckets(carol.ID); b["paid"] != 1235 || b["approved"] != 0 {
			t.Errorf("carol %v", b)
		}
		// Dan: PayPal fails the item; the reason is kept.
		_, _ = svc.Send(ctx, ps["dan"].ID)
		if _, err := svc.Poll(ctx, ps["dan"].ID); err != nil {
			t.Fatal(err)
		}
		p = e.payout(ps["dan"].ID)
		if p.Status != parrain.PayoutFailed || p.FailureReason != "RECEIVER_UNREGISTERED: Receiver is unregistered" {
			t.Fatalf("dan %+v", p)
		}
		if b := e.buckets(dan.ID); b["approved"] != 500 {
			t.Errorf("dan %v", b)
		}
		// Erin: the batch reached PayPal, then Parrain crashed before
		// recording it, and PayPal has since forgotten the request id. The
		// resend meets the duplicate refusal and follows the original batch.
		if _, _, ok, _ := e.svc.BeginPayoutSend(ctx, ps["erin"].ID); !ok {
			t.Fatal("begin")
		}
		if _, err := client.CreatePayout(ctx, paypal.CreateRequest{
			SenderBatchHeader: paypal.SenderBatchHeader{SenderBatchID: ps["erin"].IdempotencyKey},
			Items: []paypal.Item{{RecipientType: "EMAIL", Amount: paypal.Money{Value: "7.00", Currency: "EUR"}, Receiver: "erin@paypal.example",
				SenderItemID: ps["erin"].IdempotencyKey}}}); err != nil {
			t.Fatal(err)
		}
		pp.ForgetRequestIDs()
		if _, err := svc.Send(ctx, ps["erin"].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Poll(ctx, ps["erin"].ID); err != nil {
			t.Fatal(err)
		}
		if p = e.payout(ps["erin"].ID); p.Status != parrain.PayoutPaid {
			t.Fatalf("erin %+v", p)
		}
		if b := e.buckets(erin.ID); b["paid"] != 700 {
			t.Errorf("erin %v", b)
		}
		if pp.Created != 3 {
			t.Errorf("PayPal batches created %d, want 3", pp.Created)
		}
		for _, it := range pp.Items() {
			if it["receiver"] == "carol@paypal.example" && (it["value"] != "12.35" || it["currency"] != "EUR" || it["sender_batch_id"] != ps["carol"].IdempotencyKey) {
				t.Errorf("carol's item %v", it)
			}
		}
	})
}

func TestScheduleJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		e.advocate("alice", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_1A"}, 20000)
		st, err := e.svc.SetPayoutSettings(ctx, e.prog.ID, parrain.PayoutSettings{Schedule: parrain.ScheduleMonthly, Day: 1})
		if err != nil {
			t.Fatal(err)
		}
		svc := payout.New(e.st, quiet, payout.Config{})
		at := *st.NextRunAt
		retry, err := svc.Schedule(ctx, e.prog.ID, at)
		if err != nil || !retry.Equal(at) {
			t.Fatalf("early: %v %v", retry, err)
		}
		e.clock.Set(at)
		if retry, err := svc.Schedule(ctx, e.prog.ID, at); err != nil || !retry.IsZero() {
			t.Fatalf("run: %v %v", retry, err)
		}
		bs, _, _ := e.st.PayoutBatches(ctx, e.prog.ID, store.Page{})
		if len(bs) != 1 || bs[0].PayoutCount != 1 {
			t.Errorf("batches %+v", bs)
		}
	})
}

func TestCSVExportImport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		e.advocate("=cmd", parrain.PayoutAccountInput{Method: parrain.PayoutBank, Bank: &parrain.BankDetails{HolderName: "+Evil Name",
			IBAN: "FR1420041010050500013M02606", BIC: "PSSTFRPPXXX"}}, 10000)
		gus := e.advocate("gus", parrain.PayoutAccountInput{Method: parrain.PayoutBank, Bank: &parrain.BankDetails{HolderName: "Gus",
			AccountNumber: "000123456789", RoutingNumber: "110000000", Country: "US"}}, 20000)
		b, ps := e.batch()
		rows, err := e.svc.BatchBankPayouts(ctx, e.prog.ID, b.ID)
		if err != nil || len(rows) != 2 {
			t.Fatalf("rows %v %v", rows, err)
		}
		var buf bytes.Buffer
		if err := payout.WriteCSV(&buf, rows); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
		if err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(payout.ExportColumns, ",") {
			t.Fatalf("csv %q %v", buf.String(), err)
		}
		byID := map[string][]string{}
		for _, r := range recs[1:] {
			byID[r[0]] = r
		}
		evil := byID[ps["=cmd"].ID]
		if evil[2] != "'=cmd" || evil[5] != "'+Evil Name" || evil[6] != "FR1420041010050500013M02606" || evil[11] != "10.00" || evil[12] != "1000" ||
			evil[1] != ps["=cmd"].IdempotencyKey || evil[14] != "manual" {
			t.Errorf("row %q", evil)
		}
		if g := byID[ps["gus"].ID]; g[8] != "000123456789" || g[9] != "110000000" || g[10] != "US" || g[11] != "20.00" {
			t.Errorf("row %q", g)
		}
		// The operator marks one paid with the bank's reference, the other
		// failed, and imports the file (twice: the second changes nothing).
		in := "payout_id,status,bank_reference,reason\n" + ps["gus"].ID + ",paid,WIRE-991,\n" + ps["=cmd"].ID + ",FAILED,,account closed\n" +
			"pay_unknown,paid,,\n" + ps["gus"].ID + ",manual,,\n"
		for round := range 2 {
			rows, err := payout.ParseImport(strings.NewReader(in))
			if err != nil || len(rows) != 4 {
				t.Fatalf("parse %v %v", rows, err)
			}
			res, err := e.svc.Import(ctx, e.prog.ID, b.ID, rows)
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Result != "paid" || res[1].Result != "failed" || res[2].Result != "error" || res[3].Result != "skipped" {
				t.Errorf("round %d: %+v", round, res)
			}
		}
		if p := e.payout(ps["gus"].ID); p.Status != parrain.PayoutPaid || p.ProviderRef != "WIRE-991" {
			t.Errorf("gus %+v", p)
		}
		if p := e.payout(ps["=cmd"].ID); p.Status != parrain.PayoutFailed || p.FailureReason != "account closed" {
			t.Errorf("evil %+v", p)
		}
		if bal := e.buckets(gus.ID); bal["paid"] != 2000 {
			t.Errorf("gus %v", bal)
		}
		for _, bad := range []string{"", "payout_id\nx\n", "a,b\n\"unterminated\n"} {
			if _, err := payout.ParseImport(strings.NewReader(bad)); parrain.ErrorCode(err) != parrain.CodeInvalid {
				t.Errorf("%q: %v", bad, err)
			}
		}
	})
}

package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

const ibanAccount = `{"method":"bank","bank":{"holder_name":"Anna Martin","iban":"DE89370400440532013000"}}`

func TestPayoutAccounts(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		e.participant(p.ID, "anna")
		path := base + "/participants/anna/payout-account"

		var acct parrain.PayoutAccount
		w := e.ok(http.StatusOK, "PUT", path, "acct-1", ibanAccount, &acct)
		if acct.Method != parrain.PayoutBank || acct.ExternalID != "anna" || acct.Bank == nil || acct.Bank.IBAN == "DE89370400440532013000" ||
			!strings.HasPrefix(acct.Bank.IBAN, "DE") || !strings.HasSuffix(acct.Bank.IBAN, "3000") || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("set (masked) %+v %+v", acct, acct.Bank)
		}
		w = e.ok(http.StatusOK, "PUT", path, "acct-1", ibanAccount, &acct)
		if w.Header().Get("Idempotent-Replayed") != "true" {
			t.Error("replay not flagged")
		}
		var got parrain.PayoutAccount
		e.ok(http.StatusOK, "GET", path, "", "", &got)
		if got.Bank == nil || got.Bank.IBAN != acct.Bank.IBAN || got.Bank.HolderName != "Anna Martin" {
			t.Errorf("get %+v", got)
		}
		var paypal parrain.PayoutAccount
		e.ok(http.StatusOK, "PUT", path, "", `{"method":"paypal","paypal_email":"anna@example.com"}`, &paypal)
		if paypal.Method != parrain.PayoutPayPal || paypal.Bank != nil || paypal.PayPalEmail != "anna@example.com" {
			t.Errorf("switched to PayPal %+v", paypal)
		}
		if w := e.call("", "DELETE", path, "", ""); w.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", w.Code, w.Body)
		}

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		readOnly := e.keyFor([]string{store.ScopeRead}, "")
		e.checkErrors(t, []errCase{
			{name: "get deleted", method: "GET", path: path, status: 404, code: parrain.CodeNotFound},
			{name: "delete again", method: "DELETE", path: path, status: 404, code: parrain.CodeNotFound},
			{name: "no method", method: "PUT", path: path, body: `{}`, status: 400, code: parrain.CodeInvalid, field: "method"},
			{name: "unknown method", method: "PUT", path: path, body: `{"method":"cheque"}`, status: 400, code: parrain.CodeInvalid, field: "method"},
			{name: "bad stripe account", method: "PUT", path: path, body: `{"method":"stripe","stripe_account":"cus_123"}`, status: 400, code: parrain.CodeInvalid, field: "stripe_account"},
			{name: "paypal without email", method: "PUT", path: path, body: `{"method":"paypal"}`, status: 400, code: parrain.CodeInvalid, field: "paypal_email"},
			{name: "field of another method", method: "PUT", path: path, body: `{"method":"paypal","paypal_email":"a@example.com","stripe_account":"acct_1"}`, status: 400, code: parrain.CodeInvalid, field: "stripe_account"},
			{name: "bank without details", method: "PUT", path: path, body: `{"method":"bank"}`, status: 400, code: parrain.CodeInvalid, field: "bank"},
			{name: "bank without holder", method: "PUT", path: path, body: `{"method":"bank","bank":{"iban":"DE89370400440532013000"}}`, status: 400, code: parrain.CodeInvalid, field: "bank.holder_name"},
			{name: "bad iban", method: "PUT", path: path, body: `{"method":"bank","bank":{"holder_name":"A","iban":"DE00370400440532013000"}}`, status: 400, code: parrain.CodeInvalid, field: "bank.iban"},
			{name: "bad bic", method: "PUT", path: path, body: `{"method":"bank","bank":{"holder_name":"A","iban":"DE89370400440532013000","bic":"X"}}`, status: 400, code: parrain.CodeInvalid, field: "bank.bic"},
			{name: "account without country", method: "PUT", path: path, body: `{"method":"bank","bank":{"holder_name":"A","account_number":"12345678"}}`, status: 400, code: parrain.CodeInvalid, field: "bank.country"},
			// encoding/json names an unknown nested field without its parents.
			{name: "unknown bank field", method: "PUT", path: path, body: `{"method":"bank","bank":{"holder":"A"}}`, status: 400, code: parrain.CodeInvalid, field: "holder"},
			{name: "same key other body", method: "PUT", path: path, idem: "acct-1", body: `{"method":"paypal","paypal_email":"a@example.com"}`, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "unknown participant", method: "PUT", path: base + "/participants/ghost/payout-account", body: ibanAccount, status: 404, code: parrain.CodeNotFound},
			{name: "get unknown participant", method: "GET", path: base + "/participants/ghost/payout-account", status: 404, code: parrain.CodeNotFound},
			{name: "participant of another program", method: "PUT", path: "/api/v1/programs/" + other.ID + "/participants/anna/payout-account", body: ibanAccount, status: 404, code: parrain.CodeNotFound},
			{name: "other program", key: restricted, method: "PUT", path: path, body: ibanAccount, status: 404, code: parrain.CodeNotFound},
			{name: "read-only set", key: readOnly, method: "PUT", path: path, body: ibanAccount, status: 403, code: parrain.CodeForbidden},
			{name: "read-only delete", key: readOnly, method: "DELETE", path: path, status: 403, code: parrain.CodeForbidden},
			{name: "payouts of unknown participant", method: "GET", path: base + "/participants/ghost/payouts", status: 404, code: parrain.CodeNotFound},
			{name: "payouts bad limit", method: "GET", path: base + "/participants/anna/payouts?limit=0", status: 400, code: parrain.CodeInvalid, field: "limit"},
		})
	})
}

func TestPayoutSettings(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		path := "/api/v1/programs/" + p.ID + "/payout-settings"
		var s parrain.PayoutSettings
		e.ok(http.StatusOK, "GET", path, "", "", &s)
		if s.ProgramID != p.ID {
			t.Fatalf("defaults %+v", s)
		}
		e.ok(http.StatusOK, "PUT", path, "", `{"schedule":"monthly","day":5,"hour":9,"minimum_amount":2000,"auto_approve_limit":50000}`, &s)
		if s.Schedule != parrain.ScheduleMonthly || s.Day != 5 || s.Hour != 9 || s.MinimumAmount != 2000 || s.AutoApproveLimit != 50000 || s.NextRunAt == nil ||
			!s.NextRunAt.Equal(time.Date(2026, 11, 5, 9, 0, 0, 0, time.UTC)) {
			t.Fatalf("put %+v next %v", s, s.NextRunAt)
		}
		var got parrain.PayoutSettings
		e.ok(http.StatusOK, "GET", path, "", "", &got)
		if got.Schedule != parrain.ScheduleMonthly || got.MinimumAmount != 2000 {
			t.Errorf("stored %+v", got)
		}
		var manual parrain.PayoutSettings
		e.ok(http.StatusOK, "PUT", path, "", `{"schedule":"manual"}`, &manual)
		if manual.Schedule != parrain.ScheduleManual || manual.NextRunAt != nil {
			t.Errorf("manual schedule has a next run: %v", manual.NextRunAt)
		}
		other := e.program("Q")
		e.checkErrors(t, []errCase{
			{name: "unknown schedule", method: "PUT", path: path, body: `{"schedule":"daily"}`, status: 400, code: parrain.CodeInvalid, field: "schedule"},
			{name: "monthly day 29", method: "PUT", path: path, body: `{"schedule":"monthly","day":29}`, status: 400, code: parrain.CodeInvalid, field: "day"},
			{name: "weekly day 7", method: "PUT", path: path, body: `{"schedule":"weekly","day":7}`, status: 400, code: parrain.CodeInvalid, field: "day"},
			{name: "hour 24", method: "PUT", path: path, body: `{"schedule":"weekly","day":1,"hour":24}`, status: 400, code: parrain.CodeInvalid, field: "hour"},
			{name: "negative minimum", method: "PUT", path: path, body: `{"schedule":"manual","minimum_amount":-1}`, status: 400, code: parrain.CodeInvalid, field: "minimum_amount"},
			{name: "negative auto approve", method: "PUT", path: path, body: `{"schedule":"manual","auto_approve_limit":-1}`, status: 400, code: parrain.CodeInvalid, field: "auto_approve_limit"},
			{name: "minimum as float", method: "PUT", path: path, body: `{"schedule":"manual","minimum_amount":10.5}`, status: 400, code: parrain.CodeInvalid, field: "minimum_amount"},
			{name: "unknown field", method: "PUT", path: path, body: `{"schedule":"manual","currency":"EUR"}`, status: 400, code: parrain.CodeInvalid, field: "currency"},
			{name: "put unknown program", method: "PUT", path: "/api/v1/programs/prg_nope/payout-settings", body: `{"schedule":"manual"}`, status: 404, code: parrain.CodeNotFound},
			{name: "get unknown program", method: "GET", path: "/api/v1/programs/prg_nope/payout-settings", status: 404, code: parrain.CodeNotFound},
			{name: "put other program", key: e.keyFor(nil, other.ID), method: "PUT", path: path, body: `{"schedule":"manual"}`, status: 404, code: parrain.CodeNotFound},
			{name: "put without admin", key: e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, ""), method: "PUT", path: path, body: `{"schedule":"manual"}`, status: 403, code: parrain.CodeForbidden},
		})
	})
}

// approvedRewards gives anna and bob an approved 10.00 reward each and a
// bank account.
func (e *env) approvedRewards(p parrain.Program) {
	e.t.Helper()
	var ids []string
	for _, adv := range []string{"anna", "bob"} {
		v := e.participant(p.ID, adv)
		e.ok(http.StatusOK, "PUT", "/api/v1/programs/"+p.ID+"/participants/"+adv+"/payout-account", "", ibanAccount, nil)
		e.event(p.ID, "s-"+adv, `{"type":"signup","external_id":"friend-of-`+adv+`","referral_code":"`+v.Code+`"}`)
		ids = append(ids, e.event(p.ID, "b-"+adv, purchase("friend-of-"+adv, "o-"+adv, 10000)).Rewards[0].ID)
	}
	e.clock.Advance(15 * 24 * time.Hour)
	for _, id := range ids {
		if ok, _, err := e.st.ApproveReward(context.Background(), id); err != nil || !ok {
			e.t.Fatalf("approving %s: %v %v", id, ok, err)
		}
	}
}

func TestPayoutBatches(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.purchaseProgram("P")
		base := "/api/v1/programs/" + p.ID
		e.approvedRewards(p)

		// A batch awaiting approval, cancelled.
		var b1 parrain.PayoutBatch
		w := e.ok(http.StatusCreated, "POST", base+"/payout-batches", "run-1", "", &b1)
		if b1.ID == "" || b1.ProgramID != p.ID || b1.Status != parrain.BatchPendingApproval || b1.Trigger != "manual" || b1.PayoutCount != 2 ||
			b1.Totals["EUR"] != 2000 || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("batch %+v", b1)
		}
		var again parrain.PayoutBatch
		w = e.ok(http.StatusCreated, "POST", base+"/payout-batches", "run-1", "", &again)
		if again.ID != b1.ID || w.Header().Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay %+v", again)
		}
		var cancelled parrain.PayoutBatch
		e.ok(http.StatusOK, "POST", base+"/payout-batches/"+b1.ID+"/cancel", "", "", &cancelled)
		if cancelled.ID != b1.ID || cancelled.Status != parrain.BatchCancelled {
			t.Errorf("cancelled %+v", cancelled)
		}
		// The balances return to the next run, which is approved.
		var b2 parrain.PayoutBatch
		e.ok(http.StatusCreated, "POST", base+"/payout-batches", "run-2", `{}`, &b2)
		if b2.ID == b1.ID || b2.Status != parrain.BatchPendingApproval || b2.PayoutCount != 2 {
			t.Fatalf("second batch %+v", b2)
		}
		var approved parrain.PayoutBatch
		e.ok(http.StatusOK, "POST", base+"/payout-batches/"+b2.ID+"/approve", "", "", &approved)
		if approved.ID != b2.ID || approved.Status != parrain.BatchApproved || approved.ApprovedAt == nil || approved.ApprovedBy == "" {
			t.Errorf("approved %+v", approved)
		}
		// Approving again changes nothing.
		var twice parrain.PayoutBatch
		e.ok(http.StatusOK, "POST", base+"/payout-batches/"+b2.ID+"/approve", "", "", &twice)
		if twice.Status != parrain.BatchApproved || !twice.ApprovedAt.Equal(*approved.ApprovedAt) {
			t.Errorf("approved twice %+v", twice)
		}
		var got parrain.PayoutBatch
		e.ok(http.StatusOK, "GET", base+"/payout-batches/"+b2.ID, "", "", &got)
		if got.ID != b2.ID || got.Status != parrain.BatchApproved {
			t.Errorf("get %+v", got)
		}
		// Nothing left to pay: an empty batch.
		var empty parrain.PayoutBatch
		e.ok(http.StatusCreated, "POST", base+"/payout-batches", "run-3", "", &empty)
		if empty.PayoutCount != 0 {
			t.Errorf("third batch %+v", empty)
		}
		var list List[parrain.PayoutBatch]
		e.ok(http.StatusOK, "GET", base+"/payout-batches", "", "", &list)
		if len(list.Data) != 3 {
			t.Errorf("batches %+v", list.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/payout-batches?limit=2", "", "", &list)
		if len(list.Data) != 2 || list.NextCursor == "" {
			t.Errorf("first page %+v", list)
		}
		// The bank transfers to make, as CSV.
		w = e.call("", "GET", base+"/payout-batches/"+b2.ID+"/export.csv", "", "")
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") || w.Header().Get("Cache-Control") != "no-store" ||
			!strings.Contains(w.Body.String(), "DE89370400440532013000") {
			t.Errorf("export %d %s", w.Code, w.Body)
		}
		var payouts List[parrain.Payout]
		e.ok(http.StatusOK, "GET", base+"/payouts?batch="+b2.ID, "", "", &payouts)
		if len(payouts.Data) != 2 {
			t.Fatalf("payouts of the batch %+v", payouts.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/payouts?participant=anna&batch="+b2.ID, "", "", &payouts)
		if len(payouts.Data) != 1 || payouts.Data[0].ExternalID != "anna" {
			t.Errorf("anna's payouts %+v", payouts.Data)
		}
		var one parrain.Payout
		e.ok(http.StatusOK, "GET", base+"/payouts/"+payouts.Data[0].ID, "", "", &one)
		if one.ID != payouts.Data[0].ID {
			t.Errorf("payout %+v", one)
		}
		e.ok(http.StatusOK, "GET", base+"/participants/anna/payouts", "", "", &payouts)
		if len(payouts.Data) == 0 {
			t.Error("no payouts for anna")
		}

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		readOnly := e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, "")
		e.checkErrors(t, []errCase{
			{name: "without idempotency key", method: "POST", path: base + "/payout-batches", status: 400, code: parrain.CodeInvalid, field: "Idempotency-Key"},
			{name: "same key other body", method: "POST", path: base + "/payout-batches", idem: "run-1", body: `{}`, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "body with fields", method: "POST", path: base + "/payout-batches", idem: "run-9", body: `{"dry_run":true}`, status: 400, code: parrain.CodeInvalid, field: "dry_run"},
			{name: "create unknown program", method: "POST", path: "/api/v1/programs/prg_nope/payout-batches", idem: "run-10", status: 404, code: parrain.CodeNotFound},
			{name: "create other program", key: restricted, method: "POST", path: base + "/payout-batches", idem: "run-11", status: 404, code: parrain.CodeNotFound},
			{name: "create read-only", key: readOnly, method: "POST", path: base + "/payout-batches", idem: "run-12", status: 403, code: parrain.CodeForbidden},
			{name: "approve cancelled", method: "POST", path: base + "/payout-batches/" + b1.ID + "/approve", status: 409, code: parrain.CodeConflict},
			{name: "cancel approved", method: "POST", path: base + "/payout-batches/" + b2.ID + "/cancel", status: 409, code: parrain.CodeConflict},
			{name: "approve unknown", method: "POST", path: base + "/payout-batches/pbat_nope/approve", status: 404, code: parrain.CodeNotFound},
			{name: "cancel unknown", method: "POST", path: base + "/payout-batches/pbat_nope/cancel", status: 404, code: parrain.CodeNotFound},
			{name: "approve under other program", method: "POST", path: "/api/v1/programs/" + other.ID + "/payout-batches/" + b2.ID + "/approve", status: 404, code: parrain.CodeNotFound},
			{name: "approve read-only", key: readOnly, method: "POST", path: base + "/payout-batches/" + b2.ID + "/approve", status: 403, code: parrain.CodeForbidden},
			{name: "cancel read-only", key: readOnly, method: "POST", path: base + "/payout-batches/" + b2.ID + "/cancel", status: 403, code: parrain.CodeForbidden},
			{name: "get unknown", method: "GET", path: base + "/payout-batches/pbat_nope", status: 404, code: parrain.CodeNotFound},
			{name: "get under other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/payout-batches/" + b2.ID, status: 404, code: parrain.CodeNotFound},
			{name: "get other program", key: restricted, method: "GET", path: base + "/payout-batches/" + b2.ID, status: 404, code: parrain.CodeNotFound},
			{name: "list bad limit", method: "GET", path: base + "/payout-batches?limit=-3", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "export unknown", method: "GET", path: base + "/payout-batches/pbat_nope/export.csv", status: 404, code: parrain.CodeNotFound},
			{name: "export read-only", key: readOnly, method: "GET", path: base + "/payout-batches/" + b2.ID + "/export.csv", status: 403, code: parrain.CodeForbidden},
			{name: "import read-only", key: readOnly, method: "POST", path: base + "/payout-batches/" + b2.ID + "/import", body: "payout_id,status\n", status: 403, code: parrain.CodeForbidden},
			{name: "payouts of unknown participant", method: "GET", path: base + "/payouts?participant=ghost", status: 404, code: parrain.CodeNotFound},
			{name: "payouts bad status", method: "GET", path: base + "/payouts?status=lost", status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "payouts bad limit", method: "GET", path: base + "/payouts?limit=1000", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "payout unknown", method: "GET", path: base + "/payouts/pay_nope", status: 404, code: parrain.CodeNotFound},
			{name: "payout under other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/payouts/" + one.ID, status: 404, code: parrain.CodeNotFound},
			{name: "mark failed without reason", method: "POST", path: base + "/payouts/" + one.ID + "/mark-failed", body: `{}`, status: 400, code: parrain.CodeInvalid, field: "reason"},
			{name: "mark paid unknown", method: "POST", path: base + "/payouts/pay_nope/mark-paid", status: 404, code: parrain.CodeNotFound},
			{name: "mark paid bad body", method: "POST", path: base + "/payouts/" + one.ID + "/mark-paid", body: `{"ref":"x"}`, status: 400, code: parrain.CodeInvalid, field: "ref"},
			{name: "mark paid read-only", key: readOnly, method: "POST", path: base + "/payouts/" + one.ID + "/mark-paid", status: 403, code: parrain.CodeForbidden},
			{name: "cancel payout unknown", method: "POST", path: base + "/payouts/pay_nope/cancel", status: 404, code: parrain.CodeNotFound},
		})
	})
}

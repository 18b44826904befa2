package store_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/secretbox"
	"github.com/parrainhq/parrain/internal/store"
)

// dbText returns every value of every table of the store's database as
// text, to search for what must not be stored in clear.
func dbText(t *testing.T, st *store.Store) string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if st.Dialect() == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := st.DB().QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 40 {
		t.Fatalf("only %d tables found: %v", len(tables), tables)
	}
	var b strings.Builder
	for _, tb := range tables {
		rows, err := st.DB().QueryContext(ctx, `SELECT * FROM `+tb)
		if err != nil {
			t.Fatalf("%s: %v", tb, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", tb, err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%s\t%v\n", tb, v)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

const (
	iban      = "FR7630006000011234567890189"
	accountNo = "000123456789"
	routingNo = "110000000"
	fulfilSec = "whsec_ZnVsZmlsLXNlY3JldC03ZjNhOWMtMDEyMzQ1Njc4OQ=="
)

// secretsFixture stores one of each secret through the use cases and
// returns the clear values.
type secretsFixture struct {
	prog                parrain.Program
	webhookID, whSecret string
	widget, widgetPrev  string
}

func (e *env) secrets(t *testing.T) secretsFixture {
	t.Helper()
	p := e.Program(func(p *parrain.Program) {
		p.HoldDays = 0
		p.Rules = []parrain.RewardRule{{Trigger: parrain.TriggerPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1000}}}
		p.Fulfilment = &parrain.Fulfilment{URL: "https://shop.example/fulfil", Secret: fulfilSec}
	})
	ana := e.Advocate(p.ID, "ana", "ana@example.com")
	e.Advocate(p.ID, "bob", "bob@example.com")
	e.earn(p, ana, "f1", 10000)
	pay := payout.New(e.St, slog.New(slog.DiscardHandler), payout.Config{})
	idem := store.Idem{Scope: "k", Key: "acct-ana", Hash: "h"}
	in := parrain.PayoutAccountInput{Method: parrain.PayoutBank, Bank: &parrain.BankDetails{HolderName: "Ana Lima", IBAN: iban, BIC: "BNPAFRPPXXX"}}
	a, replayed, err := pay.SetPayoutAccount(ctx, p.ID, "ana", in, idem)
	if err != nil || replayed || a.Bank == nil || a.Bank.IBAN != iban {
		t.Fatalf("payout account: %+v %v %v", a, replayed, err)
	}
	// The replay's stored answer holds the details masked.
	if a, replayed, err := pay.SetPayoutAccount(ctx, p.ID, "ana", in, idem); err != nil || !replayed || a.Bank == nil || a.Bank.IBAN == iban || !strings.HasSuffix(a.Bank.IBAN, "0189") {
		t.Fatalf("payout account replay: %+v %v %v", a, replayed, err)
	}
	if _, _, err := pay.SetPayoutAccount(ctx, p.ID, "bob", parrain.PayoutAccountInput{Method: parrain.PayoutBank,
		Bank: &parrain.BankDetails{HolderName: "Bob Ray", AccountNumber: accountNo, RoutingNumber: routingNo, Country: "US"}}, store.Idem{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pay.CreatePayoutBatch(ctx, p.ID, store.Idem{}); err != nil {
		t.Fatal(err)
	}
	url := "https://hooks.example/parrain"
	widx := store.Idem{Scope: "k", Key: "wh-1", Hash: "h"}
	wh, replayed, err := outbound.NewService(e.St).CreateEndpoint(ctx, p.ID, parrain.WebhookEndpointInput{URL: &url, EventTypes: []string{"reward.created"}}, widx)
	if err != nil || replayed || !strings.HasPrefix(wh.Secret, "whsec_") {
		t.Fatalf("endpoint: %+v %v %v", wh, replayed, err)
	}
	// A replay never shows the secret again, and says so.
	again, replayed, err := outbound.NewService(e.St).CreateEndpoint(ctx, p.ID, parrain.WebhookEndpointInput{URL: &url, EventTypes: []string{"reward.created"}}, widx)
	if err != nil || !replayed || again.ID != wh.ID || again.Secret != "" || again.SecretNotice != parrain.SecretWithheld {
		t.Fatalf("endpoint replay: %+v %v %v", again, replayed, err)
	}
	w1, _, err := e.Ref.RotateWidgetSecret(ctx, p.ID, store.Idem{Scope: "k", Key: "w-1", Hash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	w2, _, err := e.Ref.RotateWidgetSecret(ctx, p.ID, store.Idem{Scope: "k", Key: "w-2", Hash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	return secretsFixture{prog: p, webhookID: wh.ID, whSecret: wh.Secret, widget: w2.Secret, widgetPrev: w1.Secret}
}

// check reads every secret back through the store.
func (f secretsFixture) check(t *testing.T, st *store.Store) {
	t.Helper()
	a, err := st.PayoutAccount(ctx, f.prog.ID, "ana")
	if err != nil || a.Bank == nil || a.Bank.IBAN != iban {
		t.Errorf("payout account: %+v %v", a.Bank, err)
	}
	b, err := st.PayoutAccount(ctx, f.prog.ID, "bob")
	if err != nil || b.Bank == nil || b.Bank.AccountNumber != accountNo || b.Bank.RoutingNumber != routingNo {
		t.Errorf("payout account: %+v %v", b.Bank, err)
	}
	batches, _, err := st.PayoutBatches(ctx, f.prog.ID, store.Page{})
	if err != nil || len(batches) != 1 {
		t.Fatalf("batches: %v %v", batches, err)
	}
	batch, err := st.PayoutBatch(ctx, f.prog.ID, batches[0].ID)
	if err != nil || len(batch.Payouts) != 1 || batch.Payouts[0].Bank == nil || batch.Payouts[0].Bank.IBAN != iban {
		t.Errorf("payout bank snapshot: %+v %v", batch.Payouts, err)
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		_, sec, _, err := tx.WebhookTarget(ctx, f.webhookID)
		if err == nil && sec != f.whSecret {
			err = fmt.Errorf("webhook secret %q", sec)
		}
		return err
	})
	if err != nil {
		t.Errorf("webhook target: %v", err)
	}
	if cur, prev, err := st.WidgetSecrets(ctx, f.prog.ID); err != nil || cur != f.widget || prev != f.widgetPrev {
		t.Errorf("widget secrets: %q %q %v", cur, prev, err)
	}
	if _, sec, err := st.FulfilmentTarget(ctx, f.prog.ID); err != nil || sec != fulfilSec {
		t.Errorf("fulfilment secret: %q %v", sec, err)
	}
}

// clear lists the values that must never be found in the database.
func (f secretsFixture) clear() []string {
	return []string{iban, accountNo, routingNo, fulfilSec, f.whSecret, f.widget, f.widgetPrev,
		strings.TrimPrefix(f.whSecret, "whsec_"), strings.TrimPrefix(f.widget, "pws_"), strings.TrimPrefix(fulfilSec, "whsec_")}
}

func (f secretsFixture) assertSealed(t *testing.T, st *store.Store) {
	t.Helper()
	all := dbText(t, st)
	for _, v := range f.clear() {
		if strings.Contains(all, v) {
			for _, line := range strings.Split(all, "\n") {
				if strings.Contains(line, v) {
					t.Errorf("%q stored in clear: %.300s", v, line)
				}
			}
		}
	}
}

// Every secret is stored sealed — nowhere in the database, stored answers
// and job arguments included, is one found in clear — and reads back.
func TestSecretsAtRest(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.secrets(t)
		f.assertSealed(t, e.St)
		f.check(t, e.St)
		use, err := e.St.SecretKeyUse(ctx)
		if err != nil || len(use) != 1 || use[dbtest.Keys().PrimaryID()] != 8 {
			t.Errorf("key use: %v %v", use, err)
		}
	})
}

func newKey(t *testing.T) secretbox.Key {
	t.Helper()
	text, err := secretbox.NewKeyText()
	if err != nil {
		t.Fatal(err)
	}
	k, err := secretbox.ParseKey(text)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Without the key, or with another, the database does not open, with an
// error saying why; a rotation reseals everything under a new key, after
// which the old key is not needed and no longer opens the database.
func TestSecretKeysAndRotation(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.secrets(t)
		if _, err := store.Open(ctx, e.URL, store.Options{Clock: e.Clock}); !errors.Is(err, store.ErrSecretKeyMissing) {
			t.Errorf("no key: %v", err)
		}
		other := newKey(t)
		if _, err := store.Open(ctx, e.URL, store.Options{Clock: e.Clock, Keys: secretbox.NewKeyring(other)}); !errors.Is(err, store.ErrSecretKeyWrong) ||
			!strings.Contains(err.Error(), dbtest.Keys().PrimaryID()) {
			t.Errorf("wrong key: %v", err)
		}
		ring := dbtest.Keys().WithPrimary(other)
		rep, err := e.St.RotateSecrets(ctx, ring)
		if err != nil || rep.Resealed != 8 || rep.Kept != 0 {
			t.Fatalf("rotate: %+v %v", rep, err)
		}
		// Running it again (a resumed rotation) finds nothing left to do.
		if rep, err := e.St.RotateSecrets(ctx, ring); err != nil || rep.Resealed != 0 || rep.Kept != 8 {
			t.Fatalf("rotate again: %+v %v", rep, err)
		}
		if use, err := e.St.SecretKeyUse(ctx); err != nil || len(use) != 1 || use[other.ID()] != 8 {
			t.Errorf("key use after rotation: %v %v", use, err)
		}
		if _, err := store.Open(ctx, e.URL, store.Options{Clock: e.Clock, Keys: dbtest.Keys()}); !errors.Is(err, store.ErrSecretKeyWrong) {
			t.Errorf("old key after rotation: %v", err)
		}
		st, err := store.Open(ctx, e.URL, store.Options{Clock: e.Clock, Keys: secretbox.NewKeyring(other)})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		f.check(t, st)
		f.assertSealed(t, st)
	})
}

// A sealed value moved to another row or column does not open.
func TestSecretSwapped(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.secrets(t)
		ana, bob := e.mustParticipant(f.prog.ID, "ana"), e.mustParticipant(f.prog.ID, "bob")
		if _, err := e.St.DB().ExecContext(ctx, `UPDATE payout_accounts SET bank = (SELECT bank FROM payout_accounts WHERE participant_id = $1) WHERE participant_id = $2`,
			ana.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.St.PayoutAccount(ctx, f.prog.ID, "bob"); !errors.Is(err, secretbox.ErrTampered) {
			t.Errorf("bank details moved to another participant: %v", err)
		}
		if a, err := e.St.PayoutAccount(ctx, f.prog.ID, "ana"); err != nil || a.Bank.IBAN != iban {
			t.Errorf("the original row: %+v %v", a.Bank, err)
		}
		if _, err := e.St.DB().ExecContext(ctx, `UPDATE program_experience SET previous_secret = widget_secret WHERE program_id = $1`, f.prog.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.St.WidgetSecrets(ctx, f.prog.ID); !errors.Is(err, secretbox.ErrTampered) {
			t.Errorf("widget secret moved to another column: %v", err)
		}
		// Clear text written where a sealed value belongs is refused too.
		if _, err := e.St.DB().ExecContext(ctx, `UPDATE payout_accounts SET bank = '{"iban":"DE89370400440532013000"}' WHERE participant_id = $1`, bob.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.St.PayoutAccount(ctx, f.prog.ID, "bob"); !errors.Is(err, secretbox.ErrNotSealed) {
			t.Errorf("clear text in a sealed column: %v", err)
		}
	})
}

// legacySeal seals like the version before secrets at rest sealed the
// fulfilment secret: under a key derived from the database's own secret.
func legacySeal(t *testing.T, installation []byte, plain string) string {
	m := hmac.New(sha256.New, installation)
	m.Write([]byte("parrain fulfilment secret v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	return "v1:" + base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(plain), nil))
}

// The secrets an earlier version stored in clear are sealed at the first
// start with a key; without one the database does not open.
func TestClearSecretsSealedAtStart(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.secrets(t)
		ana := e.mustParticipant(f.prog.ID, "ana")
		db := e.St.DB()
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE payout_accounts SET bank = $1 WHERE participant_id = $2`, []any{`{"holder_name":"Ana Lima","iban":"` + iban + `","bic":"BNPAFRPPXXX"}`, ana.ID}},
			{`UPDATE webhook_endpoints SET secret = $1 WHERE id = $2`, []any{f.whSecret, f.webhookID}},
			{`UPDATE programs SET fulfilment_secret = $1 WHERE id = $2`, []any{legacySeal(t, e.St.Secret(), fulfilSec), f.prog.ID}},
			{`DELETE FROM settings WHERE key IN ('secrets_check', 'secrets_swept')`, nil},
		} {
			if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := store.Open(ctx, e.URL, store.Options{Clock: e.Clock}); !errors.Is(err, store.ErrSecretsInClear) || !strings.Contains(err.Error(), "3 secrets") {
			t.Errorf("clear secrets without a key: %v", err)
		}
		st, err := store.Open(ctx, e.URL, store.Options{Clock: e.Clock, Keys: dbtest.Keys()})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if st.SweptAtOpen() != 3 {
			t.Errorf("swept %d, want 3", st.SweptAtOpen())
		}
		f.assertSealed(t, st)
		f.check(t, st)
		if use, err := st.SecretKeyUse(ctx); err != nil || use["clear"] != 0 {
			t.Errorf("key use: %v %v", use, err)
		}
	})
}

// A store without a key refuses to store a secret, naming the setting.
func TestNoKeyRefusesSecrets(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		st, err := store.Open(ctx, url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		p, _, err := program.New(st).Create(ctx, parrain.Program{Name: "No key", LandingURL: "https://shop.example/", Currency: "EUR",
			Rules: []parrain.RewardRule{{Trigger: parrain.TriggerSignup, Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 1000}}}}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		url2 := "https://hooks.example/x"
		_, _, err = outbound.NewService(st).CreateEndpoint(ctx, p.ID, parrain.WebhookEndpointInput{URL: &url2, EventTypes: []string{"reward.created"}}, store.Idem{})
		if e := parrain.AsError(err); e == nil || e.Code != parrain.CodeUnavailable || !strings.Contains(e.Message, "PARRAIN_SECRET_KEY") {
			t.Errorf("webhook without a key: %v", err)
		}
		if _, _, err := referral.New(st).RotateWidgetSecret(ctx, p.ID, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeUnavailable {
			t.Errorf("widget secret without a key: %v", err)
		}
	})
}

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
	zoe, _, err := e.St.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "zoe-42", Email: email, Name: name,
		Context: &parrain.EventContext{IP: ip, UserAgent: "ZoeBrowser/1.0"}}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.St.UpsertParticipant(ctx, other.ID, parrain.ParticipantInput{ExternalID: "zd-other", Email: strings.ToLower(email)}, store.Idem{}); err != nil {
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

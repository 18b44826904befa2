package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

func TestPayoutCLI(t *testing.T) {
	ctx := context.Background()
	db := dbtest.URL(t, "sqlite")
	st, err := openStore(ctx, db, envSecretKeys(), store.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	prog, _, err := program.New(st).Create(ctx, parrain.Program{Name: "P", LandingURL: "https://shop.example", Currency: "EUR",
		Rules: []parrain.RewardRule{{Trigger: parrain.TriggerPurchase, Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2500}}}}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := referral.New(st).UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "ana", Name: "Ana"}, store.Idem{})
	if _, _, err := payout.New(st, slog.New(slog.DiscardHandler), payout.Config{}).SetPayoutAccount(ctx, prog.ID, "ana", parrain.PayoutAccountInput{Method: parrain.PayoutBank,
		Bank: &parrain.BankDetails{HolderName: "Ana", IBAN: "GB82WEST12345698765432"}}, store.Idem{}); err != nil {
		t.Fatal(err)
	}
	res, _, err := referral.New(st).IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f", ReferralCode: a.Code, OrderID: "o", Amount: 100, Currency: "EUR"}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := st.ApproveReward(ctx, res.Rewards[0].ID); !ok || err != nil {
		t.Fatal(ok, err)
	}
	st.Close()

	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := CLI(append(args, "--db", db), &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	out := run("payout", "run", "--program", prog.ID, "--approve")
	m := regexp.MustCompile(`batch (pbat_[0-9a-f]+): approved, 1 payouts`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "ana") || !strings.Contains(out, "25.00 EUR") || !strings.Contains(out, "manual") {
		t.Fatalf("run: %s", out)
	}
	file := filepath.Join(t.TempDir(), "batch.csv")
	run("payout", "export", "--program", prog.ID, "--batch", m[1], "--out", file)
	data, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(data), "GB82WEST12345698765432") {
		t.Fatalf("export: %s %v", data, err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v", fi.Mode())
	}
	edited := strings.Replace(string(data), ",manual,", ",paid,", 1)
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run("payout", "import", "--program", prog.ID, "--batch", m[1], file); !strings.Contains(out, "paid") {
		t.Fatalf("import: %s", out)
	}
	st, _ = openStore(ctx, db, envSecretKeys(), store.Options{}, nil)
	defer st.Close()
	ps, _, _ := st.Payouts(ctx, prog.ID, store.PayoutFilter{Status: "paid"}, store.Page{})
	if len(ps) != 1 {
		t.Errorf("paid payouts %d", len(ps))
	}
	var errb bytes.Buffer
	if code := CLI([]string{"payout", "run", "--db", db}, &bytes.Buffer{}, &errb); code != 1 || !strings.Contains(errb.String(), "--program") {
		t.Errorf("missing program: %d %s", code, errb.String())
	}
}

package program_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/store"
)

func TestTermsVersionsAndAcceptance(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		t1, err := e.Prog.CurrentTerms(ctx, prog.ID)
		if err != nil || t1.Version != 1 || !t1.Current || !strings.Contains(t1.Markdown, "20.00 EUR in cash") || !strings.Contains(t1.HTML, "<h2>") {
			t.Fatalf("terms v1: %+v %v", t1, err)
		}
		e.Advocate(prog.ID, "adv", "")
		acc, _, err := e.Prog.AcceptTerms(ctx, prog.ID, "adv", 0, store.Idem{})
		if err != nil || acc.TermsVersion != 1 || !acc.Current {
			t.Fatalf("accept: %+v %v", acc, err)
		}
		// A change that the terms do not mention keeps the version.
		p := prog
		p.Version, p.LandingURL = 0, "https://shop.example/other"
		if _, _, err := e.Prog.Update(ctx, prog.ID, p, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		if tv, _ := e.Prog.CurrentTerms(ctx, prog.ID); tv.Version != 1 {
			t.Fatalf("landing change made terms v%d", tv.Version)
		}
		// A change of the hold is in the terms: version 2.
		p.Version, p.HoldDays = 0, 14
		if _, _, err := e.Prog.Update(ctx, prog.ID, p, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		t2, _ := e.Prog.CurrentTerms(ctx, prog.ID)
		if t2.Version != 2 || t2.ProgramVersion != 3 || !strings.Contains(t2.Markdown, "held for 14 days") {
			t.Fatalf("terms v2: %+v", t2)
		}
		accs, cur, err := e.Prog.TermsAcceptances(ctx, prog.ID, "adv")
		if err != nil || cur.Version != 2 || len(accs) != 1 || accs[0].Current {
			t.Fatalf("acceptances %+v %v", accs, err)
		}
		old, err := e.Prog.TermsVersion(ctx, prog.ID, 1)
		if err != nil || old.Current || old.SHA256 != t1.SHA256 {
			t.Fatalf("version 1: %+v %v", old, err)
		}
		if _, err := e.Prog.TermsVersion(ctx, prog.ID, 9); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("missing version: %v", err)
		}
		// Payout settings are part of the terms.
		if _, err := payout.New(e.St, slog.New(slog.DiscardHandler), payout.Config{}).SetPayoutSettings(ctx, prog.ID, parrain.PayoutSettings{Schedule: parrain.ScheduleMonthly, Day: 3, MinimumAmount: 2500}); err != nil {
			t.Fatal(err)
		}
		t3, _ := e.Prog.CurrentTerms(ctx, prog.ID)
		if t3.Version != 3 || !strings.Contains(t3.Markdown, "every month on day 3") {
			t.Fatalf("payout terms: %+v", t3)
		}
		if _, _, err := e.Prog.AcceptTerms(ctx, prog.ID, "adv", 9, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("accept a missing version: %v", err)
		}
		if _, _, err := e.Prog.AcceptTerms(ctx, prog.ID, "nobody", 0, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("accept by a stranger: %v", err)
		}
		acc, _, _ = e.Prog.AcceptTerms(ctx, prog.ID, "adv", 3, store.Idem{})
		again, _, _ := e.Prog.AcceptTerms(ctx, prog.ID, "adv", 3, store.Idem{})
		if !acc.Current || !again.AcceptedAt.Equal(acc.AcceptedAt) {
			t.Errorf("accept twice: %+v %+v", acc, again)
		}
	})
}

// The program terms state the program's actual fraud policy, and a policy
// change makes a new terms version.
func TestFraudPolicyInTerms(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		t1, err := e.Prog.CurrentTerms(ctx, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(t1.Markdown, "from 45 its rewards are held until a reviewer decides (within 72 hours") ||
			!strings.Contains(t1.Markdown, "Rejected outright:") {
			t.Fatalf("terms:\n%s", t1.Markdown)
		}
		p, _ := e.Ref.FraudPolicy(ctx, prog.ID)
		p.HoldAt = 40
		p.Rules[fraud.SelfSameDevice] = fraud.Rule{Action: fraud.RuleSuspendAdvocate}
		p.Lists.BlockedCountries = []string{"KP"}
		if _, err := e.Ref.SetFraudPolicy(ctx, prog.ID, p); err != nil {
			t.Fatal(err)
		}
		t2, err := e.Prog.CurrentTerms(ctx, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if t2.Version != t1.Version+1 || !strings.Contains(t2.Markdown, "from 40 its rewards are held") ||
			!strings.Contains(t2.Markdown, "Suspends the advocate") || !strings.Contains(t2.Markdown, "these countries are not eligible: KP") {
			t.Fatalf("terms v%d after the policy change:\n%s", t2.Version, t2.Markdown)
		}
	})
}

package partner_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
)

// TestLapsedLeadTakenByAnother: once a lapsed registration's account is
// registered by another partner, its owner's dashboard no longer offers an
// extension, a new request is refused with the reason, and a request made
// before is refused when the manager grants it (it once failed with a 409
// and stayed pending for ever).
func TestLapsedLeadTakenByAnother(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha", "Beta")
		lead := pe.register("Alpha", "Beta Corp", "betacorp.com").Lead
		pp, err := e.st.PartnerProgram(ctx, pe.prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		dash := func() partner.Dashboard {
			t.Helper()
			d, err := e.ps.DashboardFor(ctx, pp, pe.partners["Alpha"])
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		if !dash().Extendable[lead.ID] {
			t.Fatal("an open registration cannot be extended")
		}
		e.clock.Advance(91 * 24 * time.Hour)
		if !dash().Extendable[lead.ID] {
			t.Fatal("a lapsed registration nobody took cannot be extended")
		}
		x, _, err := e.ps.RequestExtension(ctx, pe.prog.ID, pe.partners["Alpha"].ID, lead.ID, parrain.ExtensionInput{Days: 30, Reason: "slow"}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		wantOutcome(t, pe.register("Beta", "Beta Corp", "betacorp.com"), parrain.OutcomeAccepted, "")
		if dash().Extendable[lead.ID] {
			t.Error("the dashboard still offers to extend a registration another partner took over")
		}
		x, _, err = e.ps.DecideExtension(ctx, pe.prog.ID, x.ID, true, "", "manager:ann", store.Idem{})
		if err != nil || x.Status != "refused" || !strings.Contains(x.Decision, "another partner registered Beta Corp") {
			t.Fatalf("granting it: %+v %v", x, err)
		}
		_, _, err = e.ps.RequestExtension(ctx, pe.prog.ID, pe.partners["Alpha"].ID, lead.ID, parrain.ExtensionInput{Days: 30, Reason: "again"}, store.Idem{})
		if pe := parrain.AsError(err); pe == nil || pe.Code != parrain.CodeConflict || !strings.Contains(pe.Message, "cannot be extended") {
			t.Fatalf("new request: %v", err)
		}
	})
}

// TestWonAccountWording: a won account is the partner's for good; the
// refusal says so instead of "until 9999-01-01".
func TestWonAccountWording(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha", "Beta")
		lead := pe.register("Alpha", "Wonka", "wonka.com").Lead
		v := int64(1_000_000)
		if _, _, err := e.ps.MoveDeal(ctx, pe.prog.ID, lead.ID, partner.DealMove{Stage: "closed_won", Value: &v, Source: "manager"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"Beta", "Alpha"} {
			r := pe.register(who, "Wonka", "wonka.com")
			if r.Decision.Outcome != parrain.OutcomeRefused || strings.Contains(r.Decision.Explanation, "9999") || !strings.Contains(r.Decision.Explanation, "for good (the deal was won)") {
				t.Errorf("%s registering a won account: %s", who, r.Decision.Explanation)
			}
		}
		dec, err := e.ps.CheckAccount(ctx, pe.prog.ID, "wonka.com", "", "test")
		if err != nil || strings.Contains(dec.Explanation, "9999") || !strings.Contains(dec.Explanation, "for good") {
			t.Errorf("account check: %s %v", dec.Explanation, err)
		}
	})
}

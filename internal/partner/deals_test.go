package partner_test

import (
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
)

// TestDealStageMachine drives deals through sequences of moves on both
// databases: what each move answers, where the deal ends, how many stage
// changes and audit entries it left, and whether another partner may then
// register the account (won keeps it, lost releases it).
func TestDealStageMachine(t *testing.T) {
	type move struct {
		stage string
		value int64 // 0: none given
		code  parrain.Code
		field string
		same  bool // "already at this stage"
	}
	for _, c := range []struct {
		name      string
		moves     []move
		stage     string
		kind      parrain.StageKind
		changes   int // stage history rows, the registration included
		audited   int
		otherMay  bool // after the moves, another partner's registration of the account is accepted
		daysClose bool
	}{
		{name: "open moves", moves: []move{{stage: "accepted"}, {stage: "poc"}, {stage: "demo_booked"}},
			stage: "demo_booked", kind: parrain.StageOpen, changes: 4, audited: 3},
		{name: "same stage is a no-op", moves: []move{{stage: "accepted"}, {stage: "accepted", same: true}},
			stage: "accepted", kind: parrain.StageOpen, changes: 2, audited: 1},
		{name: "won keeps the account", moves: []move{{stage: "poc"}, {stage: "closed_won", value: 500_000}},
			stage: "closed_won", kind: parrain.StageWon, changes: 3, audited: 2, daysClose: true},
		{name: "won needs a value", moves: []move{{stage: "closed_won", code: parrain.CodeInvalid, field: "value"}, {stage: "closed_won", value: 1}},
			stage: "closed_won", kind: parrain.StageWon, changes: 2, audited: 1, daysClose: true},
		{name: "lost releases the account", moves: []move{{stage: "closed_lost"}},
			stage: "closed_lost", kind: parrain.StageLost, changes: 2, audited: 1, otherMay: true, daysClose: true},
		{name: "closed deals do not move", moves: []move{{stage: "closed_lost"}, {stage: "poc", code: parrain.CodeConflict, field: "stage"},
			{stage: "closed_won", value: 5, code: parrain.CodeConflict, field: "stage"}},
			stage: "closed_lost", kind: parrain.StageLost, changes: 2, audited: 1, otherMay: true, daysClose: true},
		{name: "unknown or missing stage", moves: []move{{stage: "signed", code: parrain.CodeInvalid, field: "stage"}, {stage: " ", code: parrain.CodeInvalid, field: "stage"},
			{stage: "poc", value: -1, code: parrain.CodeInvalid, field: "value"}},
			stage: "registered", kind: parrain.StageOpen, changes: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			each(t, func(t *testing.T, e *env) {
				pe := partnerProgram(e, "Alpha", "Beta")
				lead := pe.register("Alpha", "Wonka", "wonka.com").Lead
				for i, m := range c.moves {
					e.clock.Advance(24 * time.Hour)
					mv := partner.DealMove{Stage: m.stage, Source: "api", Actor: "test"}
					if m.value != 0 {
						mv.Value = &m.value
					}
					r, _, err := e.ps.MoveDeal(ctx, pe.prog.ID, lead.ID, mv, store.Idem{})
					if m.code != "" {
						if pe := parrain.AsError(err); pe == nil || pe.Code != m.code || pe.Field != m.field {
							t.Fatalf("move %d to %q: %v, want %s on %s", i, m.stage, err, m.code, m.field)
						}
						continue
					}
					if err != nil {
						t.Fatalf("move %d to %q: %v", i, m.stage, err)
					}
					if (r.Message == "the deal is already at this stage") != m.same {
						t.Fatalf("move %d to %q: message %q", i, m.stage, r.Message)
					}
				}
				l, err := e.st.Lead(ctx, pe.prog.ID, lead.ID)
				if err != nil {
					t.Fatal(err)
				}
				if l.Stage != c.stage || l.StageKind != c.kind || (l.ClosedAt != nil) != c.daysClose || (l.DaysToClose != nil) != c.daysClose {
					t.Fatalf("deal %s/%s closed %v, want %s/%s", l.Stage, l.StageKind, l.ClosedAt, c.stage, c.kind)
				}
				hist, err := e.st.LeadStages(ctx, pe.prog.ID, lead.ID)
				if err != nil || len(hist) != c.changes {
					t.Fatalf("%d stage changes (%v), want %d", len(hist), err, c.changes)
				}
				log, _, err := e.st.AuditLog(ctx, store.AuditFilter{Action: partner.AuditDealMoved, TargetID: lead.ID}, store.Page{})
				if err != nil || len(log) != c.audited {
					t.Fatalf("%d audit entries (%v), want %d", len(log), err, c.audited)
				}
				want, reason := parrain.OutcomeRefused, parrain.ReasonOwnedByOther
				if c.otherMay {
					want, reason = parrain.OutcomeAccepted, ""
				}
				wantOutcome(t, pe.register("Beta", "Wonka", "wonka.com"), want, reason)
			})
		})
	}
}

// TestPartnerActionsAudited: a decision and a deal move are audited in
// their transaction under the context's actor, whoever calls (console,
// API, CRM sync); a replay adds nothing, and without an actor the system
// is named.
func TestPartnerActionsAudited(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Delta") // approved without an actor: the system is named
		log, _, err := e.st.AuditLog(ctx, store.AuditFilter{Action: partner.AuditPartnerApproved}, store.Page{})
		if err != nil || len(log) != 1 || log[0].UserID != "" || log[0].UserEmail != "system" || log[0].TargetID != pe.partners["Delta"].ID {
			t.Fatalf("system approval: %+v %v", log, err)
		}
		api := parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorAPIKey, ID: "key_1", Label: "CRM bridge", IP: "192.0.2.7"})
		p, _, err := e.ps.Apply(ctx, pe.prog.ID, parrain.PartnerApplication{Email: "gamma@partner.example", Name: "Gamma"}, partner.SourceApplication, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		idem := store.Idem{Scope: "test", Key: "decide-1", Hash: "h"}
		for range 2 {
			if _, _, err := e.ps.Decide(api, pe.prog.ID, p.ID, false, " not now ", idem); err != nil {
				t.Fatal(err)
			}
		}
		log, _, err = e.st.AuditLog(ctx, store.AuditFilter{Action: partner.AuditPartnerRejected}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 1 || log[0].Action != partner.AuditPartnerRejected || log[0].TargetID != p.ID || log[0].UserID != "key_1" ||
			log[0].UserEmail != "CRM bridge" || log[0].IP != "192.0.2.7" || log[0].Details["note"] != "not now" {
			t.Fatalf("audit after a decision and its replay: %+v", log)
		}
	})
}

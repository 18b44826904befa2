package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

func setCRM(e *env, prog string, c parrain.CRMConnection) (parrain.CRMConnection, error) {
	var out parrain.CRMConnection
	err := e.St.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.SetCRMConnection(ctx, prog, c)
		return err
	})
	return out, err
}

// A program's CRM connection: stored with its options, replaced in place,
// its last sync recorded (errors cut to 1,000 bytes of valid UTF-8), and
// deleted once.
func TestCRMConnectionRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		if _, err := e.St.CRMConnection(ctx, prog.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("before connecting: %v", err)
		}
		if _, err := e.St.CRMConnection(ctx, "prg_none"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("unknown program: %v", err)
		}
		c, err := setCRM(e, prog.ID, parrain.CRMConnection{Provider: parrain.CRMHubSpot, Pipeline: "default", DealStage: "closedwon", LeadStage: "appointmentscheduled",
			StageMap: map[string]string{"closedwon": "won", "closedlost": "lost"}})
		if err != nil {
			t.Fatal(err)
		}
		if c.ProgramID != prog.ID || c.Provider != parrain.CRMHubSpot || c.Pipeline != "default" || c.DealStage != "closedwon" || c.LeadStage != "appointmentscheduled" ||
			len(c.StageMap) != 2 || c.StageMap["closedlost"] != "lost" || c.LastSyncAt != nil || c.LastError != "" || !c.CreatedAt.Equal(t0) || !c.UpdatedAt.Equal(t0) {
			t.Errorf("stored as %+v", c)
		}

		e.Clock.Advance(time.Hour)
		if _, err := setCRM(e, prog.ID, parrain.CRMConnection{Provider: parrain.CRMSalesforce, DealStage: "Closed Won"}); err != nil {
			t.Fatal(err)
		}
		for _, msg := range []string{
			"",
			"token expired",
			strings.Repeat("x", 999) + "é and more", // the cut falls inside é
		} {
			e.Clock.Advance(time.Minute)
			if err := e.St.RecordCRMSync(ctx, prog.ID, msg); err != nil {
				t.Fatalf("recording %.20q: %v", msg, err)
			}
			c, err := e.St.CRMConnection(ctx, prog.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := msg
			if len(want) > 1000 {
				want = strings.Repeat("x", 999)
			}
			if c.LastError != want || c.LastSyncAt == nil || !c.LastSyncAt.Equal(e.Clock.Now()) {
				t.Errorf("after %.20q: error %.20q (%d bytes) at %v", msg, c.LastError, len(c.LastError), c.LastSyncAt)
			}
			if c.Provider != parrain.CRMSalesforce || c.DealStage != "Closed Won" || c.Pipeline != "" || c.StageMap != nil ||
				!c.CreatedAt.Equal(t0) || !c.UpdatedAt.Equal(t0.Add(time.Hour)) {
				t.Errorf("replaced as %+v", c)
			}
		}

		e.inTx(func(tx *store.Tx) error { return tx.DeleteCRMConnection(ctx, prog.ID) })
		if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteCRMConnection(ctx, prog.ID) }); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("deleting twice: %v", err)
		}
		if _, err := e.St.CRMConnection(ctx, prog.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("after deleting: %v", err)
		}
	})
}

// Links to CRM records: one per provider, program, object and local
// record, updated in place; deals listed by local reference and their
// stage changes reported (with the lead key of a partner lead's deal)
// without being recorded until SetCRMDealStage.
func TestCRMLinkRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		hs := parrain.CRMHubSpot
		links := []store.CRMLink{
			{Provider: hs, ProgramID: prog.ID, Object: store.CRMContact, LocalRef: "par_1", CRMID: "c-1"},
			{Provider: hs, ProgramID: prog.ID, Object: store.CRMDeal, LocalRef: "referral:ref_1", CRMID: "d-1", Stage: "open"},
			{Provider: hs, ProgramID: prog.ID, Object: store.CRMDeal, LocalRef: "lead:acme", CRMID: "d-2", Stage: "open"},
			{Provider: parrain.CRMSalesforce, ProgramID: prog.ID, Object: store.CRMDeal, LocalRef: "lead:acme", CRMID: "sf-9", Stage: "Prospecting"},
			{Provider: hs, ProgramID: other.ID, Object: store.CRMDeal, LocalRef: "lead:far", CRMID: "d-3"},
			// Saved again: the CRM id changes, no second link.
			{Provider: hs, ProgramID: prog.ID, Object: store.CRMContact, LocalRef: "par_1", CRMID: "c-1b"},
		}
		for _, l := range links {
			if err := e.St.SaveCRMLink(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			provider       parrain.CRMProvider
			prog, obj, ref string
			found          bool
			id, stage      string
		}{
			{hs, prog.ID, store.CRMContact, "par_1", true, "c-1b", ""},
			{hs, prog.ID, store.CRMDeal, "lead:acme", true, "d-2", "open"},
			{parrain.CRMSalesforce, prog.ID, store.CRMDeal, "lead:acme", true, "sf-9", "Prospecting"},
			{hs, prog.ID, store.CRMCompany, "par_1", false, "", ""},
			{hs, other.ID, store.CRMContact, "par_1", false, "", ""},
		} {
			l, found, err := e.St.CRMLinkFor(ctx, c.provider, c.prog, c.obj, c.ref)
			if err != nil {
				t.Fatal(err)
			}
			if found != c.found || l.CRMID != c.id || l.Stage != c.stage || l.LocalRef != c.ref || l.Object != c.obj {
				t.Errorf("%s %s %s: %+v found=%v", c.provider, c.obj, c.ref, l, found)
			}
		}
		deals, err := e.St.CRMDeals(ctx, hs, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(deals) != 2 || deals[0].LocalRef != "lead:acme" || deals[0].CRMID != "d-2" || deals[1].LocalRef != "referral:ref_1" ||
			deals[1].Object != store.CRMDeal || deals[1].ProgramID != prog.ID || deals[1].Provider != hs {
			t.Fatalf("deals %+v", deals)
		}
		if d, err := e.St.CRMDeals(ctx, hs, "prg_none"); err != nil || len(d) != 0 {
			t.Fatalf("no deals: %+v %v", d, err)
		}

		for _, c := range []struct {
			name  string
			link  store.CRMLink
			stage string
			want  *store.DealStageChange
		}{
			{"unchanged", deals[0], "open", nil},
			{"a lead's deal", deals[0], "closedwon", &store.DealStageChange{ProgramID: prog.ID, LeadKey: "acme", CRM: "hubspot", CRMDealID: "d-2", Stage: "closedwon", PreviousStage: "open", Source: "crm"}},
			{"a referral's deal", deals[1], "closedlost", &store.DealStageChange{ProgramID: prog.ID, CRM: "hubspot", CRMDealID: "d-1", Stage: "closedlost", PreviousStage: "open", Source: "crm"}},
		} {
			got, err := e.St.CRMStageChange(ctx, c.link, c.stage)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
				t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
			}
		}
		if _, err := e.St.CRMStageChange(ctx, store.CRMLink{Provider: hs, ProgramID: prog.ID, LocalRef: "lead:none"}, "x"); err == nil {
			t.Error("a stage change of an unlinked deal")
		}
		if err := e.St.SetCRMDealStage(ctx, deals[0], "closedwon"); err != nil {
			t.Fatal(err)
		}
		if got, err := e.St.CRMStageChange(ctx, deals[0], "closedwon"); err != nil || got != nil {
			t.Errorf("after recording the stage: %+v %v", got, err)
		}
		if l, _, err := e.St.CRMLinkFor(ctx, parrain.CRMSalesforce, prog.ID, store.CRMDeal, "lead:acme"); err != nil || l.Stage != "Prospecting" {
			t.Errorf("the other provider's deal changed: %+v %v", l, err)
		}
	})
}

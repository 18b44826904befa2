package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/integration/hubspot/hubspottest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/store"
)

// TestCRMMovesPartnerDeal: a partner registers a lead, the job syncs its
// company, contact and deal to HubSpot; a sales rep moves the deal in
// HubSpot; the poll moves the partner's deal in Parrain, which rewards the
// partner for the stage.
func TestCRMMovesPartnerDeal(t *testing.T) {
	hs := hubspottest.New()
	defer hs.Close()
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.Integrations = IntegrationsConfig{HubSpotToken: hubspottest.Token, HubSpotAPIURL: hs.URL}
	h := newHarness(t, cfg)
	ctx := context.Background()
	st := h.m.Store()
	ps := h.m.Partners()
	pr := parrain.Program{Name: "Partners", LandingURL: "https://b2b.example", Currency: "EUR",
		Rules: []parrain.RewardRule{{ID: "demo", Trigger: parrain.TriggerStage, Stage: "demo_completed",
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 25000}}}}
	pr.Stages = []parrain.Stage{{Name: "demo_completed"}, {Name: "closed_won"}}
	prog, _, err := program.New(st).Create(ctx, pr, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.PutProgram(ctx, prog.ID, parrain.PartnerSettings{Slug: "agency-partners", ApplicationsOpen: true},
		[]parrain.Tier{{Key: "referral", Name: "Referral Partner"}}); err != nil {
		t.Fatal(err)
	}
	p, _, err := ps.Apply(ctx, prog.ID, parrain.PartnerApplication{Email: "agency@partner.example", Name: "Agency"}, "application", store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	if p, _, err = ps.Decide(ctx, prog.ID, p.ID, true, "", store.Idem{}); err != nil {
		t.Fatal(err)
	}
	var conn parrain.CRMConnection
	h.ok("PUT", "/api/v1/programs/"+prog.ID+"/crm", "", map[string]any{"provider": "hubspot", "stage_map": map[string]string{"qualifiedtobuy": "demo_completed"}}, &conn, 200)
	lr, _, err := ps.RegisterLead(ctx, prog.ID, p.ID, parrain.LeadInput{CompanyName: "Acme", CompanyDomain: "acme.com", ContactEmail: "cto@acme.com",
		ContactName: "Carla Otto", CompanySize: 200, Consent: true}, partner.RegisterOptions{Actor: "test"}, store.Idem{})
	if err != nil || lr.Lead == nil {
		t.Fatalf("register: %+v %v", lr, err)
	}
	h.drain()
	if n := len(hs.Records("companies")); n != 1 {
		t.Fatalf("companies %d", n)
	}
	deals := hs.Records("deals")
	if len(deals) != 1 || !strings.Contains(deals[0].Properties["dealname"], "[Parrain lead "+lr.Lead.ID+"]") {
		t.Fatalf("deals %+v", deals)
	}
	hs.SetProperty(deals[0].ID, "dealstage", "qualifiedtobuy")
	h.clock.Advance(16 * time.Minute)
	h.drain()
	l, err := st.Lead(ctx, prog.ID, lr.Lead.ID)
	if err != nil || l.Stage != "demo_completed" {
		t.Fatalf("lead %+v %v", l, err)
	}
	h.ok("GET", "/api/v1/programs/"+prog.ID+"/crm", "", nil, &conn, 200)
	if conn.LastError != "" || conn.LastSyncAt == nil {
		t.Errorf("connection %+v", conn)
	}
}

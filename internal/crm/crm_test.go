package crm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/crm"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/integration/hubspot"
	"github.com/parrainhq/parrain/internal/integration/hubspot/hubspottest"
	"github.com/parrainhq/parrain/internal/integration/salesforce"
	"github.com/parrainhq/parrain/internal/integration/salesforce/salesforcetest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

var ctx = context.Background()

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	t     *testing.T
	st    *store.Store
	clock *parrain.FakeClock
	prog  parrain.Program
}

func setup(t *testing.T, url string, provider parrain.CRMProvider) *env {
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, url, store.Options{Clock: clock, Keys: dbtest.Keys()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	prog, _, err := program.New(st).Create(ctx, parrain.Program{Name: "B2B", LandingURL: "https://b2b.example", Currency: "EUR",
		Rules: []parrain.RewardRule{{Trigger: parrain.TriggerFirstPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 5000}}}}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crm.Connect(ctx, st, prog.ID, parrain.CRMConnection{Provider: provider}); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, clock: clock, prog: prog}
}

// convert makes alice's friend Jane buy and returns the queued sync job's
// arguments.
func (e *env) convert() parrain.CRMReferralArgs {
	e.t.Helper()
	a, _, err := referral.New(e.st).UpsertParticipant(ctx, e.prog.ID, parrain.ParticipantInput{ExternalID: "alice", Email: "alice@example.com", Name: "Alice Martin"}, store.Idem{})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := referral.New(e.st).IngestEvent(ctx, e.prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "jane", Email: "Jane@Example.org", Name: "Jane Doe",
		ReferralCode: a.Code, OrderID: "o1", Amount: 49990, Currency: "EUR"}, store.Idem{}); err != nil {
		e.t.Fatal(err)
	}
	var payload string
	if err := e.st.DB().QueryRow(`SELECT payload FROM jobs WHERE kind = $1`, parrain.JobCRMSyncReferral).Scan(&payload); err != nil {
		e.t.Fatalf("no sync job: %v", err)
	}
	var args parrain.CRMReferralArgs
	if err := json.Unmarshal([]byte(payload), &args); err != nil {
		e.t.Fatal(err)
	}
	return args
}

var lead = store.CRMLead{Key: "lead_42", CompanyDomain: "https://www.Acme.com/", CompanyName: "Acme", ContactEmail: "cto@acme.com", ContactName: "Carla Otto",
	PartnerExternalID: "partner_7", PartnerName: "Agency Seven", DealName: "Acme platform", Amount: 1200000, Currency: "EUR"}

func TestHubSpotSync(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url, parrain.CRMHubSpot)
		hs := hubspottest.New()
		defer hs.Close()
		s := crm.New(e.st, quiet, hubspot.New(hubspot.Config{Token: hubspottest.Token, APIURL: hs.URL, RatePerSecond: 1000}), nil)
		var moved []store.DealStageChange
		var fail error
		s.OnDealStage = func(_ context.Context, c store.DealStageChange, conn parrain.CRMConnection) error {
			if fail != nil {
				return fail
			}
			moved = append(moved, c)
			return nil
		}

		args := e.convert()
		// Twice: a retried job creates nothing more.
		for range 2 {
			if retry, err := s.SyncReferral(ctx, args); err != nil || !retry.IsZero() {
				t.Fatalf("sync: %v %v", retry, err)
			}
		}
		contacts, deals := hs.Records("contacts"), hs.Records("deals")
		if len(contacts) != 1 || len(deals) != 1 {
			t.Fatalf("%d contacts, %d deals", len(contacts), len(deals))
		}
		c := contacts[0].Properties
		if c["email"] != "jane@example.org" || c["firstname"] != "Jane" || c["lastname"] != "Doe" || !strings.HasPrefix(c["parrain_referred_by"], "Alice Martin (alice@example.com, code ") {
			t.Errorf("contact %v", c)
		}
		d := deals[0]
		if d.Properties["dealstage"] != "closedwon" || d.Properties["pipeline"] != "default" || d.Properties["amount"] != "499.90" ||
			d.Properties["deal_currency_code"] != "EUR" || len(d.Associations) != 1 || d.Associations[0] != "contacts:"+contacts[0].ID+":3" {
			t.Errorf("deal %+v", d)
		}
		// A partner's lead: company by domain, contact in it, deal.
		for _, domain := range []string{lead.CompanyDomain, "acme.com"} {
			l := lead
			l.ProgramID, l.CompanyDomain = e.prog.ID, domain
			if _, err := s.SyncLead(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		companies := hs.Records("companies")
		if len(companies) != 1 || companies[0].Properties["domain"] != "acme.com" || companies[0].Properties["parrain_partner"] != "Agency Seven" {
			t.Fatalf("companies %+v", companies)
		}
		if n := len(hs.Records("contacts")); n != 2 {
			t.Errorf("contacts %d", n)
		}
		var leadDeal hubspottest.Record
		for _, d := range hs.Records("deals") {
			if strings.Contains(d.Properties["dealname"], "[Parrain lead lead_42]") {
				leadDeal = d
			}
		}
		if leadDeal.ID == "" || leadDeal.Properties["dealstage"] != "appointmentscheduled" || len(leadDeal.Associations) != 2 || len(hs.Records("deals")) != 2 {
			t.Fatalf("lead deal %+v of %d", leadDeal, len(hs.Records("deals")))
		}
		// The deal moves in HubSpot. Moving the partner deal fails once (the
		// database is down): the stage is not recorded, the next poll tries
		// again and moves it.
		hs.SetProperty(leadDeal.ID, "dealstage", "contractsent")
		conn, _ := e.st.CRMConnection(ctx, e.prog.ID)
		poll := parrain.CRMPollArgs{ProgramID: e.prog.ID, Generation: conn.UpdatedAt.UnixMilli()}
		fail = errors.New("connection refused")
		retry, err := s.Poll(ctx, poll)
		if err != nil || !retry.Equal(e.clock.Now().Add(store.CRMPollInterval)) || len(moved) != 0 {
			t.Fatalf("failed poll: %v %v %v", retry, err, moved)
		}
		if c, _ := e.st.CRMConnection(ctx, e.prog.ID); !strings.Contains(c.LastError, "connection refused") {
			t.Errorf("last error %q", c.LastError)
		}
		fail = nil
		if _, err := s.Poll(ctx, poll); err != nil {
			t.Fatal(err)
		}
		if len(moved) != 1 || moved[0].LeadKey != "lead_42" || moved[0].Stage != "contractsent" || moved[0].PreviousStage != "appointmentscheduled" ||
			moved[0].Source != "crm" || moved[0].CRM != "hubspot" {
			t.Fatalf("moved %+v", moved)
		}
		// A stage change of a referral deal is recorded but moves no partner
		// deal; an unchanged stage is not handed over again; a stage the
		// partner program refuses (a domain error) is recorded, not retried.
		hs.SetProperty(deals[0].ID, "dealstage", "closedlost")
		if _, err := s.Poll(ctx, poll); err != nil || len(moved) != 1 {
			t.Fatalf("second poll: %v %d", err, len(moved))
		}
		if l, _, _ := e.st.CRMLinkFor(ctx, parrain.CRMHubSpot, e.prog.ID, store.CRMDeal, "referral:"+args.ReferralID); l.Stage != "closedlost" {
			t.Errorf("referral deal stage %q", l.Stage)
		}
		hs.SetProperty(leadDeal.ID, "dealstage", "mystery")
		fail = parrain.Invalid("stage", "not a stage")
		if _, err := s.Poll(ctx, poll); err != nil {
			t.Fatal(err)
		}
		fail = nil
		if _, err := s.Poll(ctx, poll); err != nil || len(moved) != 1 {
			t.Fatalf("refused stage retried: %v %d", err, len(moved))
		}
		// The lead is synced again (updated by the partner): the stage the
		// CRM owns is kept.
		hs.SetProperty(leadDeal.ID, "dealstage", "contractsent")
		l := lead
		l.ProgramID = e.prog.ID
		if _, err := s.SyncLead(ctx, l); err != nil {
			t.Fatal(err)
		}
		for _, d := range hs.Records("deals") {
			if d.ID == leadDeal.ID && d.Properties["dealstage"] != "contractsent" {
				t.Errorf("stage overwritten: %v", d.Properties["dealstage"])
			}
		}
		// HubSpot rate limits: the job comes back later, the error is kept.
		hs.RateLimitNext = 1
		retry, err = s.SyncReferral(ctx, args)
		if err != nil || !retry.After(e.clock.Now()) {
			t.Fatalf("rate limited: %v %v", retry, err)
		}
		if c, _ := e.st.CRMConnection(ctx, e.prog.ID); !strings.Contains(c.LastError, "rate limited") {
			t.Errorf("last error %q", c.LastError)
		}
		// A replaced connection ends the old polling loop.
		e.clock.Advance(time.Second)
		if _, err := crm.Connect(ctx, e.st, e.prog.ID, parrain.CRMConnection{Provider: parrain.CRMHubSpot, DealStage: "won"}); err != nil {
			t.Fatal(err)
		}
		if retry, err := s.Poll(ctx, poll); err != nil || !retry.IsZero() {
			t.Errorf("stale loop: %v %v", retry, err)
		}
	})
}

func TestSalesforceSync(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url, parrain.CRMSalesforce)
		sf := salesforcetest.New()
		defer sf.Close()
		s := crm.New(e.st, quiet, nil, salesforce.New(salesforce.Config{LoginURL: sf.URL, ClientID: salesforcetest.ClientID,
			ClientSecret: salesforcetest.ClientSecret, RatePerSecond: 1000}))
		var moved []store.DealStageChange
		s.OnDealStage = func(_ context.Context, c store.DealStageChange, conn parrain.CRMConnection) error {
			moved = append(moved, c)
			return nil
		}
		args := e.convert()
		for range 2 {
			if _, err := s.SyncReferral(ctx, args); err != nil {
				t.Fatal(err)
			}
		}
		contacts, opps := sf.Records("Contact"), sf.Records("Opportunity")
		if len(contacts) != 1 || len(opps) != 1 {
			t.Fatalf("%d contacts, %d opportunities", len(contacts), len(opps))
		}
		if c := contacts[0]; c["LastName"] != "Doe" || c["FirstName"] != "Jane" || !strings.HasPrefix(c["Description"].(string), "Referred by Alice Martin") {
			t.Errorf("contact %v", c)
		}
		if o := opps[0]; o["StageName"] != "Closed Won" || o["CloseDate"] != "2026-11-01" || o["Amount"] != 499.9 {
			t.Errorf("opportunity %v", o)
		}
		l := lead
		l.ProgramID = e.prog.ID
		for range 2 {
			if _, err := s.SyncLead(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		accounts := sf.Records("Account")
		if len(accounts) != 1 || accounts[0]["Website"] != "https://acme.com" || accounts[0]["Name"] != "Acme" || len(sf.Records("Opportunity")) != 2 {
			t.Fatalf("accounts %v, opportunities %d", accounts, len(sf.Records("Opportunity")))
		}
		var leadOpp string
		for _, o := range sf.Records("Opportunity") {
			if strings.Contains(o["Name"].(string), "lead_42") {
				leadOpp = o["Id"].(string)
				if o["AccountId"] != accounts[0]["Id"] || o["StageName"] != "Prospecting" {
					t.Errorf("lead opportunity %v", o)
				}
			}
		}
		sf.Set(leadOpp, "StageName", "Negotiation/Review")
		conn, _ := e.st.CRMConnection(ctx, e.prog.ID)
		if _, err := s.Poll(ctx, parrain.CRMPollArgs{ProgramID: e.prog.ID, Generation: conn.UpdatedAt.UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		if len(moved) != 1 || moved[0].Stage != "Negotiation/Review" || moved[0].CRM != "salesforce" {
			t.Errorf("moved %+v", moved)
		}
		// The org's API limit: later, not an error; the poll loop goes on.
		sf.LimitExceeded = true
		retry, err := s.SyncReferral(ctx, args)
		if err != nil || retry.Sub(e.clock.Now()) != time.Hour {
			t.Errorf("limit: %v %v", retry, err)
		}
		retry, err = s.Poll(ctx, parrain.CRMPollArgs{ProgramID: e.prog.ID, Generation: conn.UpdatedAt.UnixMilli()})
		if err != nil || retry.IsZero() {
			t.Errorf("poll at the limit: %v %v", retry, err)
		}
	})
}

func TestNotConfigured(t *testing.T) {
	e := setup(t, dbtest.URL(t, "sqlite"), parrain.CRMSalesforce)
	s := crm.New(e.st, quiet, nil, nil)
	_, err := s.SyncReferral(ctx, e.convert())
	if !errors.Is(err, crm.ErrNotConfigured) {
		t.Fatalf("err %v", err)
	}
	if c, _ := e.st.CRMConnection(ctx, e.prog.ID); !strings.Contains(c.LastError, "salesforce credentials") {
		t.Errorf("last error %q", c.LastError)
	}
	// Without a CRM connection, conversions queue no sync.
	if err := crm.Disconnect(ctx, e.st, e.prog.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.st.EnqueueCRMLead(ctx, store.CRMLead{ProgramID: e.prog.ID, CompanyDomain: "acme.com", PartnerExternalID: "p1"}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM jobs WHERE kind = $1`, parrain.JobCRMSyncLead).Scan(&n); err != nil {
		t.Fatalf("query: %v", err)
	}
	if n != 0 {
		t.Errorf("lead jobs without a CRM: %d", n)
	}
	if err := e.st.EnqueueCRMLead(ctx, store.CRMLead{ProgramID: e.prog.ID, CompanyDomain: "localhost", PartnerExternalID: "p1"}); parrain.ErrorCode(err) != parrain.CodeInvalid {
		t.Errorf("bad domain: %v", err)
	}
}

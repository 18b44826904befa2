package crm_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/crm"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/integration/hubspot"
	"github.com/parrainhq/parrain/internal/integration/hubspot/hubspottest"
	"github.com/parrainhq/parrain/internal/integration/salesforce"
	"github.com/parrainhq/parrain/internal/integration/salesforce/salesforcetest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

func TestHubSpotAdapterProperties(t *testing.T) {
	srv := hubspottest.New()
	defer srv.Close()
	h := crm.HubSpot{C: hubspot.New(hubspot.Config{Token: hubspottest.Token, APIURL: srv.URL, RatePerSecond: 1000})}
	company, err := h.UpsertCompany(ctx, crm.Company{Domain: "acme.com", Name: "Acme", Partner: "Agency (a@agency.example)"})
	if err != nil {
		t.Fatal(err)
	}
	// Empty fields are not written (they would blank what the CRM holds).
	contact, err := h.UpsertContact(ctx, crm.Contact{Email: "CTO@Acme.com", LastName: "Otto", CompanyID: company})
	if err != nil {
		t.Fatal(err)
	}
	cs := srv.Records("contacts")
	if len(cs) != 1 || cs[0].Properties["email"] != "cto@acme.com" || cs[0].Properties["lastname"] != "Otto" {
		t.Fatalf("contacts %+v", cs)
	}
	for _, k := range []string{"firstname", "parrain_referred_by", "parrain_referral_code", "parrain_partner"} {
		if _, ok := cs[0].Properties[k]; ok {
			t.Errorf("empty %s written", k)
		}
	}
	if len(cs[0].Associations) != 1 || cs[0].Associations[0] != "companies:"+company+":1" {
		t.Errorf("contact associations %v", cs[0].Associations)
	}
	// Every property Parrain writes exists in the CRM first.
	for typ, props := range map[string][]string{"contacts": {"parrain_referred_by", "parrain_referral_code", "parrain_partner"},
		"companies": {"parrain_partner"}, "deals": {"parrain_referred_by"}} {
		for _, p := range props {
			if !srv.HasProperty(typ, p) {
				t.Errorf("property %s/%s not created", typ, p)
			}
		}
	}
	close := time.Date(2026, 11, 1, 12, 30, 45, 123456789, time.FixedZone("CET", 3600))
	tests := []struct {
		name     string
		amount   int64
		currency string
		want     string
	}{
		{"euros", 49990, "EUR", "499.90"},
		{"yen have no decimals", 5000, "JPY", "5000"},
		{"dinars have three", 1500, "KWD", "1.500"},
		{"no amount", 0, "EUR", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("Deal %d", i)
			if _, err := h.UpsertDeal(ctx, crm.Deal{Name: name, Amount: tt.amount, Currency: tt.currency, Stage: "closedwon", ContactID: contact,
				CompanyID: company, CloseDate: close, ReferredBy: "Alice"}); err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			var assoc []string
			for _, d := range srv.Records("deals") {
				if d.Properties["dealname"] == name {
					got, assoc = d.Properties, d.Associations
				}
			}
			if got["amount"] != tt.want {
				t.Errorf("amount %q, want %q", got["amount"], tt.want)
			}
			if cur, ok := got["deal_currency_code"]; (tt.want != "") != ok || (ok && cur != tt.currency) {
				t.Errorf("currency %q (set %v)", cur, ok)
			}
			if got["closedate"] != "2026-11-01T11:30:45.123Z" || got["dealstage"] != "closedwon" || got["parrain_referred_by"] != "Alice" {
				t.Errorf("deal %v", got)
			}
			if _, ok := got["pipeline"]; ok {
				t.Error("an empty pipeline was written")
			}
			if fmt.Sprint(assoc) != fmt.Sprint([]string{"contacts:" + contact + ":3", "companies:" + company + ":5"}) {
				t.Errorf("deal associations %v", assoc)
			}
		})
	}
}

func TestSalesforceAdapterFields(t *testing.T) {
	srv := salesforcetest.New()
	defer srv.Close()
	rec := &recorder{}
	s := crm.Salesforce{C: salesforce.New(salesforce.Config{LoginURL: srv.URL, ClientID: salesforcetest.ClientID, ClientSecret: salesforcetest.ClientSecret,
		RatePerSecond: 1000, HTTPClient: &http.Client{Transport: rec}})}
	acct, err := s.UpsertCompany(ctx, crm.Company{Domain: "acme.com", Name: "Acme", Partner: "Agency Seven"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.UpsertContact(ctx, crm.Contact{Email: "cto@acme.com", FirstName: "Carla", LastName: "Otto", CompanyID: acct,
		ReferredBy: "Alice (alice@example.com)", Partner: "Agency Seven"})
	if err != nil {
		t.Fatal(err)
	}
	var contact map[string]any
	for _, r := range srv.Records("Contact") {
		if r["Id"] == id {
			contact = r
		}
	}
	if contact["AccountId"] != acct || contact["FirstName"] != "Carla" ||
		contact["Description"] != "Referred by Alice (alice@example.com) via Parrain. Partner lead registered by Agency Seven via Parrain" {
		t.Errorf("contact %v", contact)
	}
	for _, r := range srv.Records("Account") {
		if r["Id"] == acct && r["Description"] != "Partner lead registered by Agency Seven via Parrain" {
			t.Errorf("account %v", r)
		}
	}
	// The amount is the exact decimal, the stage defaults to Prospecting,
	// the close date is a date.
	close := time.Date(2026, 12, 31, 23, 30, 0, 0, time.FixedZone("X", -3600))
	opp, err := s.UpsertDeal(ctx, crm.Deal{Name: "Lead [Parrain lead l1]", Amount: 123456789, Currency: "EUR", CompanyID: acct, CloseDate: close, Description: "d"})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	for _, r := range srv.Records("Opportunity") {
		if r["Id"] == opp {
			got = r
		}
	}
	if got["StageName"] != "Prospecting" || got["CloseDate"] != "2027-01-01" || got["AccountId"] != acct {
		t.Errorf("opportunity %v", got)
	}
	// On the wire the amount is the exact decimal of the minor units.
	sent := rec.last("POST", "/sobjects/Opportunity/")
	if !strings.Contains(sent, `"Amount":1234567.89,`) {
		t.Errorf("opportunity sent as %s", sent)
	}
	// In the currency's own digits: yen have none.
	if _, err := s.UpsertDeal(ctx, crm.Deal{Name: "Yen deal", Amount: 5000, Currency: "JPY", CloseDate: close}); err != nil {
		t.Fatal(err)
	}
	if sent := rec.last("POST", "/sobjects/Opportunity/"); !strings.Contains(sent, `"Amount":5000,`) {
		t.Errorf("yen opportunity sent as %s", sent)
	}
}

func TestRateLimitsBecomeRetryTimes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url, parrain.CRMHubSpot)
		limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "42")
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"policyName":"SECONDLY"}`))
		}))
		defer limited.Close()
		s := crm.New(e.st, quiet, hubspot.New(hubspot.Config{Token: "t", APIURL: limited.URL, RatePerSecond: 1000}), nil)
		retry, err := s.SyncReferral(ctx, e.convert())
		if err != nil {
			t.Fatalf("a rate limit is not an error: %v", err)
		}
		if want := e.clock.Now().Add(42 * time.Second); !retry.Equal(want) {
			t.Errorf("retry at %v, want %v (Retry-After)", retry, want)
		}
		c, err := e.st.CRMConnection(ctx, e.prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.LastError == "" {
			t.Error("the rate limit is not shown on the connection")
		}

		// Any other failure is returned for the job runner's backoff.
		failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			_, _ = w.Write([]byte(`{"message":"boom","category":"INTERNAL_ERROR"}`))
		}))
		defer failing.Close()
		s = crm.New(e.st, quiet, hubspot.New(hubspot.Config{Token: "t", APIURL: failing.URL, RatePerSecond: 1000}), nil)
		retry, err = s.SyncLead(ctx, withProgram(e.prog.ID))
		var he *hubspot.Error
		if !errors.As(err, &he) || he.Status != 500 || !retry.IsZero() {
			t.Errorf("failure: retry %v err %v", retry, err)
		}
		if c, err := e.st.CRMConnection(ctx, e.prog.ID); err != nil || c.LastError == "" {
			t.Errorf("connection %+v %v: the failure is not recorded", c, err)
		}
	})
}

func withProgram(id string) (l store.CRMLead) {
	l = lead
	l.ProgramID = id
	return l
}

// recorder is a transport that keeps each request's body.
type recorder struct {
	mu     sync.Mutex
	bodies []string // "METHOD path body"
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var b []byte
	if req.Body != nil {
		var err error
		if b, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, req.Method+" "+req.URL.Path+" "+string(b))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// last returns the body of the last request with method whose path ends
// with suffix.
func (r *recorder) last(method, suffix string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.bodies) - 1; i >= 0; i-- {
		m, rest, _ := strings.Cut(r.bodies[i], " ")
		path, body, _ := strings.Cut(rest, " ")
		if m == method && strings.HasSuffix(path, suffix) {
			return body
		}
	}
	return ""
}

package hubspot_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parrainhq/parrain/internal/integration/hubspot"
	"github.com/parrainhq/parrain/internal/integration/hubspot/hubspottest"
)

func TestUpsertsAndStages(t *testing.T) {
	srv := hubspottest.New()
	defer srv.Close()
	c := hubspot.New(hubspot.Config{Token: hubspottest.Token, APIURL: srv.URL, RatePerSecond: 1000})
	ctx := context.Background()
	props := []hubspot.Property{{Name: "parrain_referred_by", Label: "Referred by (Parrain)", Group: "contactinformation"}}
	// Writing a Parrain property before it exists fails, as in HubSpot.
	if _, _, err := c.UpsertContact(ctx, "Jane@Example.com", map[string]string{"parrain_referred_by": "alice"}, nil); err == nil {
		t.Fatal("unknown property accepted")
	}
	if err := c.EnsureProperties(ctx, "contacts", props); err != nil {
		t.Fatal(err)
	}
	if !srv.HasProperty("contacts", "parrain_referred_by") {
		t.Fatal("property not created")
	}
	// A second client meets 409 and carries on.
	if err := hubspot.New(hubspot.Config{Token: hubspottest.Token, APIURL: srv.URL, RatePerSecond: 1000}).EnsureProperties(ctx, "contacts", props); err != nil {
		t.Fatal(err)
	}
	co, created, err := c.UpsertCompany(ctx, "acme.com", map[string]string{"name": "Acme"})
	if err != nil || !created {
		t.Fatal(err)
	}
	id, created, err := c.UpsertContact(ctx, "Jane@Example.com", map[string]string{"firstname": "Jane", "parrain_referred_by": "alice"},
		[]hubspot.Association{{ToID: co, TypeID: hubspot.AssocContactToCompany}})
	if err != nil || !created {
		t.Fatalf("create: %v", err)
	}
	again, created, err := c.UpsertContact(ctx, "jane@example.com", map[string]string{"lastname": "Doe"}, nil)
	if err != nil || created || again != id {
		t.Fatalf("upsert: %s %v %v", again, created, err)
	}
	cs := srv.Records("contacts")
	if len(cs) != 1 || cs[0].Properties["lastname"] != "Doe" || cs[0].Properties["firstname"] != "Jane" || cs[0].Associations[0] != "companies:"+co+":1" {
		t.Fatalf("contacts %+v", cs)
	}
	deal, _, err := c.UpsertDeal(ctx, "Referral: jane@example.com [ref_1]", map[string]string{"dealstage": "closedwon", "amount": "49.99"},
		[]hubspot.Association{{ToID: id, TypeID: hubspot.AssocDealToContact}})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetProperty(deal, "dealstage", "contractsent")
	stages, err := c.DealStages(ctx, []string{deal, "999999"})
	if err != nil || len(stages) != 1 || stages[deal] != "contractsent" {
		t.Fatalf("stages %v %v", stages, err)
	}
	// 429 becomes a RateLimitedError.
	srv.RateLimitNext = 1
	_, err = c.DealStages(ctx, []string{deal})
	var rl *hubspot.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.Policy != "SECONDLY" {
		t.Fatalf("rate limit: %v", err)
	}
	// A bad token is an *Error.
	_, _, err = hubspot.New(hubspot.Config{Token: "nope", APIURL: srv.URL}).UpsertCompany(ctx, "x.com", nil)
	var he *hubspot.Error
	if !errors.As(err, &he) || he.Status != 401 || he.Category != "INVALID_AUTHENTICATION" {
		t.Fatalf("auth: %v", err)
	}
}

package salesforce_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parrainhq/parrain/internal/integration/salesforce"
	"github.com/parrainhq/parrain/internal/integration/salesforce/salesforcetest"
)

func TestQuote(t *testing.T) {
	cases := map[string]string{
		"a@b.com":            `'a@b.com'`,
		"o'brien@x.com":      `'o\'brien@x.com'`,
		`x\' OR Name != '`:   `'x\\\' OR Name != \''`,
		"line\nbreak\ttab\"": `'line\nbreak\ttab\"'`,
	}
	for in, want := range cases {
		if got := salesforce.Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestUpsertsAndStages(t *testing.T) {
	srv := salesforcetest.New()
	defer srv.Close()
	c := salesforce.New(salesforce.Config{LoginURL: srv.URL, ClientID: salesforcetest.ClientID, ClientSecret: salesforcetest.ClientSecret, RatePerSecond: 1000})
	ctx := context.Background()
	// Salesforce refuses a Contact without LastName.
	_, _, err := c.UpsertContact(ctx, "jane@example.com", map[string]any{"FirstName": "Jane"})
	var se *salesforce.Error
	if !errors.As(err, &se) || se.ErrorCode != "REQUIRED_FIELD_MISSING" {
		t.Fatalf("missing LastName: %v", err)
	}
	acct, created, err := c.UpsertAccount(ctx, "acme.com", map[string]any{"Name": "Acme"})
	if err != nil || !created {
		t.Fatal(err)
	}
	// An account entered by hand as www.acme.com is the same company.
	srv.Set(acct, "Website", "http://www.acme.com")
	again, created, err := c.UpsertAccount(ctx, "acme.com", map[string]any{"Description": "partner lead"})
	if err != nil || created || again != acct {
		t.Fatalf("account upsert %s %v %v", again, created, err)
	}
	id, created, err := c.UpsertContact(ctx, "O'Neil@Example.com", map[string]any{"LastName": "O'Neil", "AccountId": acct})
	if err != nil || !created {
		t.Fatal(err)
	}
	if again, created, _ := c.UpsertContact(ctx, "o'neil@example.com", map[string]any{"LastName": "O'Neil", "Title": "CTO"}); again != id || created {
		t.Fatalf("contact upsert %s %v", again, created)
	}
	if cs := srv.Records("Contact"); len(cs) != 1 || cs[0]["Title"] != "CTO" || cs[0]["Email"] != "o'neil@example.com" {
		t.Fatalf("contacts %v", cs)
	}
	opp, _, err := c.UpsertOpportunity(ctx, "Partner lead: acme.com [lead_1]", map[string]any{"StageName": "Prospecting", "CloseDate": "2026-12-31", "AccountId": acct}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Set(opp, "StageName", "Negotiation/Review")
	stages, err := c.OpportunityStages(ctx, []string{opp, "not-an-id'"})
	if err != nil || stages[opp] != "Negotiation/Review" || len(stages) != 1 {
		t.Fatalf("stages %v %v", stages, err)
	}
	// An expired session is renewed once.
	srv.ExpireSessions()
	if _, err := c.OpportunityStages(ctx, []string{opp}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	srv.LimitExceeded = true
	_, err = c.OpportunityStages(ctx, []string{opp})
	var rl *salesforce.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Fatalf("limit: %v", err)
	}
	_, _, err = salesforce.New(salesforce.Config{LoginURL: srv.URL, ClientID: "x", ClientSecret: "y"}).UpsertAccount(ctx, "x.com", nil)
	if !errors.As(err, &se) || se.ErrorCode != "invalid_client" {
		t.Fatalf("bad credentials: %v", err)
	}
}

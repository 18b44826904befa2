package crm

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/parrainhq/parrain/internal/integration/hubspot"
	"github.com/parrainhq/parrain/internal/integration/salesforce"
	"github.com/parrainhq/parrain/internal/parrain"
)

// HubSpot adapts the HubSpot client: Parrain's tags are the custom
// properties parrain_referred_by, parrain_referral_code and parrain_partner,
// created on first use.
type HubSpot struct{ C *hubspot.Client }

func (h HubSpot) ensure(ctx context.Context) error {
	for typ, props := range map[string][]hubspot.Property{
		"contacts": {{Name: "parrain_referred_by", Label: "Referred by (Parrain)", Group: "contactinformation"},
			{Name: "parrain_referral_code", Label: "Referral code (Parrain)", Group: "contactinformation"},
			{Name: "parrain_partner", Label: "Partner (Parrain)", Group: "contactinformation"}},
		"companies": {{Name: "parrain_partner", Label: "Partner (Parrain)", Group: "companyinformation"}},
		"deals":     {{Name: "parrain_referred_by", Label: "Referred by (Parrain)", Group: "dealinformation"}},
	} {
		if err := h.C.EnsureProperties(ctx, typ, props); err != nil {
			return err
		}
	}
	return nil
}

func set(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// UpsertContact implements Client.
func (h HubSpot) UpsertContact(ctx context.Context, c Contact) (string, error) {
	if err := h.ensure(ctx); err != nil {
		return "", err
	}
	props := map[string]string{}
	set(props, "firstname", c.FirstName)
	set(props, "lastname", c.LastName)
	set(props, "parrain_referred_by", c.ReferredBy)
	set(props, "parrain_referral_code", c.Code)
	set(props, "parrain_partner", c.Partner)
	var assoc []hubspot.Association
	if c.CompanyID != "" {
		assoc = append(assoc, hubspot.Association{ToID: c.CompanyID, TypeID: hubspot.AssocContactToCompany})
	}
	id, _, err := h.C.UpsertContact(ctx, c.Email, props, assoc)
	return id, err
}

// UpsertCompany implements Client.
func (h HubSpot) UpsertCompany(ctx context.Context, c Company) (string, error) {
	if err := h.ensure(ctx); err != nil {
		return "", err
	}
	props := map[string]string{}
	set(props, "name", c.Name)
	set(props, "parrain_partner", c.Partner)
	id, _, err := h.C.UpsertCompany(ctx, c.Domain, props)
	return id, err
}

// UpsertDeal implements Client.
func (h HubSpot) UpsertDeal(ctx context.Context, d Deal) (string, error) {
	if err := h.ensure(ctx); err != nil {
		return "", err
	}
	props := map[string]string{}
	set(props, "pipeline", d.Pipeline)
	set(props, "dealstage", d.Stage)
	set(props, "parrain_referred_by", d.ReferredBy)
	set(props, "description", d.Description)
	if d.Amount > 0 {
		props["amount"] = parrain.FormatMinor(d.Amount, d.Currency)
		props["deal_currency_code"] = d.Currency
	}
	if !d.CloseDate.IsZero() {
		props["closedate"] = d.CloseDate.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	var assoc []hubspot.Association
	if d.ContactID != "" {
		assoc = append(assoc, hubspot.Association{ToID: d.ContactID, TypeID: hubspot.AssocDealToContact})
	}
	if d.CompanyID != "" {
		assoc = append(assoc, hubspot.Association{ToID: d.CompanyID, TypeID: hubspot.AssocDealToCompany})
	}
	id, _, err := h.C.UpsertDeal(ctx, d.Name, props, assoc)
	return id, err
}

// DealStages implements Client.
func (h HubSpot) DealStages(ctx context.Context, ids []string) (map[string]string, error) {
	return h.C.DealStages(ctx, ids)
}

// Salesforce adapts the Salesforce client: contacts, accounts (by Website)
// and opportunities, tagged in their standard Description field (no custom
// field to install).
type Salesforce struct{ C *salesforce.Client }

// UpsertContact implements Client.
func (s Salesforce) UpsertContact(ctx context.Context, c Contact) (string, error) {
	fields := map[string]any{"LastName": c.LastName}
	if c.FirstName != "" {
		fields["FirstName"] = c.FirstName
	}
	if c.CompanyID != "" {
		fields["AccountId"] = c.CompanyID
	}
	var tags []string
	if c.ReferredBy != "" {
		tags = append(tags, "Referred by "+c.ReferredBy+" via Parrain")
	}
	if c.Partner != "" {
		tags = append(tags, "Partner lead registered by "+c.Partner+" via Parrain")
	}
	if len(tags) > 0 {
		fields["Description"] = strings.Join(tags, ". ")
	}
	id, _, err := s.C.UpsertContact(ctx, c.Email, fields)
	return id, err
}

// UpsertCompany implements Client.
func (s Salesforce) UpsertCompany(ctx context.Context, c Company) (string, error) {
	fields := map[string]any{"Name": c.Name}
	if c.Partner != "" {
		fields["Description"] = "Partner lead registered by " + c.Partner + " via Parrain"
	}
	id, _, err := s.C.UpsertAccount(ctx, c.Domain, fields)
	return id, err
}

// UpsertDeal implements Client. The stage and close date are set when the
// opportunity is created; afterwards Salesforce owns them.
func (s Salesforce) UpsertDeal(ctx context.Context, d Deal) (string, error) {
	stage := d.Stage
	if stage == "" {
		stage = "Prospecting"
	}
	create := map[string]any{"StageName": stage, "CloseDate": d.CloseDate.UTC().Format("2006-01-02"), "Description": d.Description}
	if d.Amount > 0 {
		// A JSON number written from the exact decimal, never a float.
		create["Amount"] = json.Number(parrain.FormatMinor(d.Amount, d.Currency))
	}
	if d.CompanyID != "" {
		create["AccountId"] = d.CompanyID
	}
	id, _, err := s.C.UpsertOpportunity(ctx, d.Name, create, nil)
	return id, err
}

// DealStages implements Client.
func (s Salesforce) DealStages(ctx context.Context, ids []string) (map[string]string, error) {
	return s.C.OpportunityStages(ctx, ids)
}

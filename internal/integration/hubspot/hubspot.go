// Package hubspot is a thin client of the HubSpot CRM v3 API for Parrain's
// CRM sync: contacts upserted by email, companies by domain, deals by name,
// deal stages read in batches, and Parrain's custom properties created when
// missing. It authenticates with a private app's access token and paces
// its requests below HubSpot's per-second limit; a 429 answer becomes a
// *RateLimitedError saying when to retry.
//
// It imports golang.org/x/time/rate and the standard library only.
package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultAPIURL is HubSpot's API.
const DefaultAPIURL = "https://api.hubapi.com"

// HubSpot-defined association types (v3 associations on create).
const (
	AssocContactToCompany = 1
	AssocDealToContact    = 3
	AssocDealToCompany    = 5
)

// Config configures a Client.
type Config struct {
	// Token is a private app access token with the crm.objects.contacts,
	// crm.objects.companies and crm.objects.deals read and write scopes and
	// crm.schemas.*.write (to create Parrain's properties).
	Token      string
	APIURL     string
	HTTPClient *http.Client
	// RatePerSecond paces requests (default 9: HubSpot allows 100 per 10 s
	// for private apps).
	RatePerSecond float64
}

// Client calls HubSpot. It is safe for concurrent use.
type Client struct {
	cfg     Config
	limiter *rate.Limiter
	mu      sync.Mutex
	ensured map[string]bool
}

// New returns a Client.
func New(cfg Config) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.RatePerSecond <= 0 {
		cfg.RatePerSecond = 9
	}
	return &Client{cfg: cfg, limiter: rate.NewLimiter(rate.Limit(cfg.RatePerSecond), 1), ensured: map[string]bool{}}
}

// Error is an error answered by HubSpot.
type Error struct {
	Status        int    `json:"-"`
	Message       string `json:"message"`
	Category      string `json:"category"`
	CorrelationID string `json:"correlationId"`
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("hubspot: %d %s: %s", e.Status, e.Category, e.Message)
}

// RateLimitedError is a 429 answer: retry after RetryAfter.
type RateLimitedError struct {
	RetryAfter time.Duration
	Policy     string
}

// Error implements error.
func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("hubspot: rate limited (%s), retry after %s", e.Policy, e.RetryAfter)
}

// Object is a CRM record.
type Object struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

// Association links a record being created to another.
type Association struct {
	ToID   string
	TypeID int
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	if err := c.limiter.Wait(ctx); err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.APIURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("hubspot: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("hubspot: reading answer: %w", err)
	}
	if res.StatusCode == http.StatusTooManyRequests {
		e := &RateLimitedError{RetryAfter: 10 * time.Second}
		var body struct {
			PolicyName string `json:"policyName"`
		}
		_ = json.Unmarshal(b, &body)
		e.Policy = body.PolicyName
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		} else if body.PolicyName == "DAILY" {
			e.RetryAfter = time.Hour
		}
		return e
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		e := &Error{Status: res.StatusCode}
		if json.Unmarshal(b, e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(b))
		}
		return e
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("hubspot: decoding answer: %w", err)
		}
	}
	return nil
}

// Property is a custom property Parrain writes.
type Property struct {
	Name, Label, Group string
}

// EnsureProperties creates missing string properties on an object type
// ("contacts", "companies", "deals"); existing ones (409) are fine. It is
// done once per object type per process.
func (c *Client) EnsureProperties(ctx context.Context, objectType string, props []Property) error {
	c.mu.Lock()
	done := c.ensured[objectType]
	c.mu.Unlock()
	if done {
		return nil
	}
	for _, p := range props {
		err := c.do(ctx, http.MethodPost, "/crm/v3/properties/"+objectType, map[string]any{
			"name": p.Name, "label": p.Label, "type": "string", "fieldType": "text", "groupName": p.Group}, nil)
		if e, ok := err.(*Error); ok && e.Status == http.StatusConflict {
			continue
		}
		if err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.ensured[objectType] = true
	c.mu.Unlock()
	return nil
}

// find returns the first record of objectType whose property equals value.
func (c *Client) find(ctx context.Context, objectType, property, value string) (Object, bool, error) {
	var out struct {
		Total   int      `json:"total"`
		Results []Object `json:"results"`
	}
	err := c.do(ctx, http.MethodPost, "/crm/v3/objects/"+objectType+"/search", map[string]any{
		"filterGroups": []any{map[string]any{"filters": []any{map[string]string{"propertyName": property, "operator": "EQ", "value": value}}}},
		"properties":   []string{property},
		"limit":        1,
	}, &out)
	if err != nil || len(out.Results) == 0 {
		return Object{}, false, err
	}
	return out.Results[0], true, nil
}

// upsert finds a record by property = value and updates it, or creates it
// with the associations. It returns its id and whether it was created.
func (c *Client) upsert(ctx context.Context, objectType, property, value string, props map[string]string, assoc []Association) (string, bool, error) {
	obj, found, err := c.find(ctx, objectType, property, value)
	if err != nil {
		return "", false, err
	}
	if found {
		if len(props) > 0 {
			if err := c.do(ctx, http.MethodPatch, "/crm/v3/objects/"+objectType+"/"+url.PathEscape(obj.ID), map[string]any{"properties": props}, nil); err != nil {
				return "", false, err
			}
		}
		return obj.ID, false, nil
	}
	all := map[string]string{property: value}
	for k, v := range props {
		all[k] = v
	}
	in := map[string]any{"properties": all}
	var as []any
	for _, a := range assoc {
		if a.ToID == "" {
			continue
		}
		as = append(as, map[string]any{"to": map[string]string{"id": a.ToID},
			"types": []any{map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": a.TypeID}}})
	}
	if len(as) > 0 {
		in["associations"] = as
	}
	var created Object
	if err := c.do(ctx, http.MethodPost, "/crm/v3/objects/"+objectType, in, &created); err != nil {
		return "", false, err
	}
	return created.ID, true, nil
}

// UpsertContact creates or updates the contact with this email.
func (c *Client) UpsertContact(ctx context.Context, email string, props map[string]string, assoc []Association) (string, bool, error) {
	return c.upsert(ctx, "contacts", "email", strings.ToLower(email), props, assoc)
}

// UpsertCompany creates or updates the company with this domain.
func (c *Client) UpsertCompany(ctx context.Context, domain string, props map[string]string) (string, bool, error) {
	return c.upsert(ctx, "companies", "domain", domain, props, nil)
}

// UpsertDeal creates or updates the deal with this name (Parrain's deal
// names carry the Parrain id, so they are unique).
func (c *Client) UpsertDeal(ctx context.Context, name string, props map[string]string, assoc []Association) (string, bool, error) {
	return c.upsert(ctx, "deals", "dealname", name, props, assoc)
}

// DealStages reads the dealstage of deals by id, 100 per request. Deals
// that no longer exist are absent from the answer.
func (c *Client) DealStages(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for start := 0; start < len(ids); start += 100 {
		chunk := ids[start:min(start+100, len(ids))]
		inputs := make([]map[string]string, len(chunk))
		for i, id := range chunk {
			inputs[i] = map[string]string{"id": id}
		}
		var res struct {
			Results []Object `json:"results"`
		}
		if err := c.do(ctx, http.MethodPost, "/crm/v3/objects/deals/batch/read", map[string]any{"properties": []string{"dealstage"}, "inputs": inputs}, &res); err != nil {
			return nil, err
		}
		for _, o := range res.Results {
			out[o.ID] = o.Properties["dealstage"]
		}
	}
	return out, nil
}

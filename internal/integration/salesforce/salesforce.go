// Package salesforce is a thin client of the Salesforce REST API for
// Parrain's CRM sync: an OAuth 2.0 client-credentials token (a connected
// app with the client credentials flow enabled), SOQL queries, and sObject
// create and update — contacts upserted by email, accounts by website
// domain, opportunities by name, opportunity stages read in batches.
// REQUEST_LIMIT_EXCEEDED and 429 answers become a *RateLimitedError; an
// expired session is refreshed once.
//
// It imports golang.org/x/time/rate and the standard library only.
package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultAPIVersion is the REST API version used.
const DefaultAPIVersion = "v62.0"

// Config configures a Client.
type Config struct {
	// LoginURL is the org's My Domain URL (https://acme.my.salesforce.com)
	// or https://login.salesforce.com / https://test.salesforce.com.
	LoginURL     string
	ClientID     string
	ClientSecret string
	APIVersion   string
	HTTPClient   *http.Client
	// RatePerSecond paces requests (default 5) to spread the org's daily
	// API allowance.
	RatePerSecond float64
}

// Client calls Salesforce. It is safe for concurrent use.
type Client struct {
	cfg      Config
	limiter  *rate.Limiter
	mu       sync.Mutex
	token    string
	instance string
}

// New returns a Client.
func New(cfg Config) *Client {
	cfg.LoginURL = strings.TrimRight(cfg.LoginURL, "/")
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.RatePerSecond <= 0 {
		cfg.RatePerSecond = 5
	}
	return &Client{cfg: cfg, limiter: rate.NewLimiter(rate.Limit(cfg.RatePerSecond), 1)}
}

// Error is an error answered by Salesforce.
type Error struct {
	Status    int
	ErrorCode string
	Message   string
	Fields    []string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("salesforce: %d %s: %s", e.Status, e.ErrorCode, e.Message)
}

// RateLimitedError: the org's API limit is reached; retry after RetryAfter.
type RateLimitedError struct {
	RetryAfter time.Duration
	Message    string
}

// Error implements error.
func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("salesforce: API limit reached (%s), retry after %s", e.Message, e.RetryAfter)
}

func (c *Client) login(ctx context.Context) (string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" {
		return c.token, c.instance, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.cfg.ClientID}, "client_secret": {c.cfg.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.LoginURL+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("salesforce: login: %w", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	var tok struct {
		AccessToken      string `json:"access_token"`
		InstanceURL      string `json:"instance_url"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(b, &tok)
	if res.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", "", &Error{Status: res.StatusCode, ErrorCode: tok.Error, Message: tok.ErrorDescription}
	}
	c.token, c.instance = tok.AccessToken, strings.TrimRight(tok.InstanceURL, "/")
	return c.token, c.instance, nil
}

// do makes an authenticated request to path under /services/data/<v>.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	for try := 0; ; try++ {
		if err := c.limiter.Wait(ctx); err != nil {
			return err
		}
		tok, inst, err := c.login(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, method, inst+"/services/data/"+c.cfg.APIVersion+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := c.cfg.HTTPClient.Do(req)
		if err != nil {
			return fmt.Errorf("salesforce: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
		res.Body.Close()
		if err != nil {
			return fmt.Errorf("salesforce: reading answer: %w", err)
		}
		if res.StatusCode >= 200 && res.StatusCode <= 299 {
			if out != nil && len(b) > 0 {
				if err := json.Unmarshal(b, out); err != nil {
					return fmt.Errorf("salesforce: decoding answer: %w", err)
				}
			}
			return nil
		}
		e := &Error{Status: res.StatusCode}
		var errs []struct {
			Message   string   `json:"message"`
			ErrorCode string   `json:"errorCode"`
			Fields    []string `json:"fields"`
		}
		if json.Unmarshal(b, &errs) == nil && len(errs) > 0 {
			e.ErrorCode, e.Message, e.Fields = errs[0].ErrorCode, errs[0].Message, errs[0].Fields
		} else {
			e.Message = strings.TrimSpace(string(b))
		}
		switch {
		case res.StatusCode == http.StatusUnauthorized && try == 0:
			c.mu.Lock()
			c.token = "" // expired session: log in again once
			c.mu.Unlock()
			continue
		case e.ErrorCode == "REQUEST_LIMIT_EXCEEDED":
			return &RateLimitedError{RetryAfter: time.Hour, Message: e.Message}
		case res.StatusCode == http.StatusTooManyRequests:
			return &RateLimitedError{RetryAfter: time.Minute, Message: e.Message}
		}
		return e
	}
}

// Quote returns s as a SOQL string literal.
func Quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "\"", `\"`)
	return "'" + r.Replace(s) + "'"
}

// validID reports whether s looks like a Salesforce record id (15 or 18
// letters and digits), so it can be placed in a query.
func validID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Record is a queried record.
type Record map[string]any

// ID returns the record's Id.
func (r Record) ID() string { s, _ := r["Id"].(string); return s }

// Query runs a SOQL query and returns its records (the first page, at most
// 2000).
func (c *Client) Query(ctx context.Context, soql string) ([]Record, error) {
	var out struct {
		TotalSize int      `json:"totalSize"`
		Done      bool     `json:"done"`
		Records   []Record `json:"records"`
	}
	if err := c.do(ctx, http.MethodGet, "/query?q="+url.QueryEscape(soql), nil, &out); err != nil {
		return nil, err
	}
	return out.Records, nil
}

// Create creates an sObject and returns its id.
func (c *Client) Create(ctx context.Context, sobject string, fields map[string]any) (string, error) {
	var out struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	if err := c.do(ctx, http.MethodPost, "/sobjects/"+sobject+"/", fields, &out); err != nil {
		return "", err
	}
	if !out.Success || out.ID == "" {
		return "", errors.New("salesforce: create answered without an id")
	}
	return out.ID, nil
}

// Update changes fields of an sObject.
func (c *Client) Update(ctx context.Context, sobject, id string, fields map[string]any) error {
	if !validID(id) {
		return fmt.Errorf("salesforce: bad record id %q", id)
	}
	return c.do(ctx, http.MethodPatch, "/sobjects/"+sobject+"/"+id, fields, nil)
}

func (c *Client) upsert(ctx context.Context, sobject, where string, create, update map[string]any) (string, bool, error) {
	recs, err := c.Query(ctx, "SELECT Id FROM "+sobject+" WHERE "+where+" ORDER BY CreatedDate LIMIT 1")
	if err != nil {
		return "", false, err
	}
	if len(recs) > 0 {
		id := recs[0].ID()
		if len(update) > 0 {
			if err := c.Update(ctx, sobject, id, update); err != nil {
				return "", false, err
			}
		}
		return id, false, nil
	}
	id, err := c.Create(ctx, sobject, create)
	return id, err == nil, err
}

// UpsertContact creates or updates the Contact with this email. fields are
// written on creation and on update.
func (c *Client) UpsertContact(ctx context.Context, email string, fields map[string]any) (string, bool, error) {
	email = strings.ToLower(email)
	create := map[string]any{"Email": email}
	for k, v := range fields {
		create[k] = v
	}
	return c.upsert(ctx, "Contact", "Email = "+Quote(email), create, fields)
}

// UpsertAccount creates or updates the Account whose Website is this
// domain (with or without scheme and "www."); a new account gets
// Website https://<domain>.
func (c *Client) UpsertAccount(ctx context.Context, domain string, fields map[string]any) (string, bool, error) {
	var variants []string
	for _, v := range []string{domain, "www." + domain, "http://" + domain, "https://" + domain, "http://www." + domain, "https://www." + domain,
		"https://" + domain + "/", "http://" + domain + "/", "https://www." + domain + "/"} {
		variants = append(variants, Quote(v))
	}
	create := map[string]any{"Website": "https://" + domain}
	for k, v := range fields {
		create[k] = v
	}
	if _, ok := create["Name"]; !ok {
		create["Name"] = domain
	}
	return c.upsert(ctx, "Account", "Website IN ("+strings.Join(variants, ", ")+")", create, fields)
}

// UpsertOpportunity creates or updates the Opportunity with this name
// (Parrain's names carry the Parrain id, so they are unique). create holds
// the fields required on creation (StageName, CloseDate).
func (c *Client) UpsertOpportunity(ctx context.Context, name string, create, update map[string]any) (string, bool, error) {
	all := map[string]any{"Name": name}
	for k, v := range create {
		all[k] = v
	}
	return c.upsert(ctx, "Opportunity", "Name = "+Quote(name), all, update)
}

// OpportunityStages reads StageName of opportunities by id, 200 per query.
func (c *Client) OpportunityStages(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	var valid []string
	for _, id := range ids {
		if validID(id) {
			valid = append(valid, Quote(id))
		}
	}
	for start := 0; start < len(valid); start += 200 {
		chunk := valid[start:min(start+200, len(valid))]
		recs, err := c.Query(ctx, "SELECT Id, StageName FROM Opportunity WHERE Id IN ("+strings.Join(chunk, ", ")+")")
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			stage, _ := r["StageName"].(string)
			out[r.ID()] = stage
		}
	}
	return out, nil
}

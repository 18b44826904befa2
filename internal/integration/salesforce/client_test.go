package salesforce_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/integration/salesforce"
	"github.com/parrainhq/parrain/internal/integration/salesforce/salesforcetest"
)

// org is a scripted Salesforce: the token endpoint hands out numbered
// tokens and names its instance URL with a trailing slash; data requests
// are answered by the next scripted answer (the last one repeats).
type org struct {
	mu       sync.Mutex
	logins   int
	login    func(w http.ResponseWriter) // nil: a normal token
	answers  []reply
	requests []*http.Request
	bodies   []string
}

type reply struct {
	status int
	body   string
}

func (o *org) start(t *testing.T) (*httptest.Server, *salesforce.Client) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		defer o.mu.Unlock()
		if r.URL.Path == "/services/oauth2/token" {
			o.logins++
			if o.login != nil {
				o.login(w)
				return
			}
			fmt.Fprintf(w, `{"access_token":"tok%d","instance_url":"%s/"}`, o.logins, srv.URL)
			return
		}
		b, _ := io.ReadAll(r.Body)
		o.requests = append(o.requests, r)
		o.bodies = append(o.bodies, string(b))
		a := o.answers[min(len(o.requests)-1, len(o.answers)-1)]
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv, salesforce.New(salesforce.Config{LoginURL: srv.URL + "/", ClientID: "id", ClientSecret: "secret", RatePerSecond: 1000})
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name      string
		answers   []reply
		rateLimit *salesforce.RateLimitedError
		apiErr    *salesforce.Error
		requests  int
		logins    int
	}{
		{name: "daily API limit", answers: []reply{{403, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`}},
			rateLimit: &salesforce.RateLimitedError{RetryAfter: time.Hour, Message: "TotalRequests Limit exceeded."}, requests: 1, logins: 1},
		{name: "429", answers: []reply{{429, `too many`}},
			rateLimit: &salesforce.RateLimitedError{RetryAfter: time.Minute, Message: "too many"}, requests: 1, logins: 1},
		{name: "first error of the array, with its fields", answers: []reply{{400, `[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]},{"message":"second","errorCode":"OTHER"}]`}},
			apiErr: &salesforce.Error{Status: 400, ErrorCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName]", Fields: []string{"LastName"}}, requests: 1, logins: 1},
		{name: "a non-array body is the message", answers: []reply{{500, "  upstream timeout \n"}},
			apiErr: &salesforce.Error{Status: 500, Message: "upstream timeout"}, requests: 1, logins: 1},
		{name: "an empty array is the message", answers: []reply{{404, `[]`}},
			apiErr: &salesforce.Error{Status: 404, Message: "[]"}, requests: 1, logins: 1},
		{name: "an expired session logs in again once", answers: []reply{{401, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`}, {200, `{"done":true,"records":[]}`}},
			requests: 2, logins: 2},
		{name: "a second 401 is an error", answers: []reply{{401, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`}},
			apiErr: &salesforce.Error{Status: 401, ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid"}, requests: 2, logins: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &org{answers: tt.answers}
			_, c := o.start(t)
			_, err := c.Query(context.Background(), "SELECT Id FROM Contact")
			var rl *salesforce.RateLimitedError
			var se *salesforce.Error
			switch {
			case tt.rateLimit != nil:
				if !errors.As(err, &rl) || *rl != *tt.rateLimit {
					t.Errorf("error %#v, want %#v", err, tt.rateLimit)
				}
			case tt.apiErr != nil:
				if !errors.As(err, &se) || se.Status != tt.apiErr.Status || se.ErrorCode != tt.apiErr.ErrorCode || se.Message != tt.apiErr.Message ||
					fmt.Sprint(se.Fields) != fmt.Sprint(tt.apiErr.Fields) {
					t.Errorf("error %#v, want %#v", err, tt.apiErr)
				}
				if want := fmt.Sprintf("salesforce: %d %s: %s", se.Status, se.ErrorCode, se.Message); err.Error() != want {
					t.Errorf("message %q, want %q", err, want)
				}
			default:
				if err != nil {
					t.Errorf("error %v, want none", err)
				}
			}
			if len(o.requests) != tt.requests || o.logins != tt.logins {
				t.Errorf("%d requests and %d logins, want %d and %d", len(o.requests), o.logins, tt.requests, tt.logins)
			}
			// Each retry after a login carries the new token.
			for i, r := range o.requests {
				if want := fmt.Sprintf("Bearer tok%d", i+1); tt.logins > 1 && r.Header.Get("Authorization") != want {
					t.Errorf("request %d Authorization %q, want %q", i, r.Header.Get("Authorization"), want)
				}
			}
		})
	}
}

func TestLogin(t *testing.T) {
	t.Run("token reused across requests", func(t *testing.T) {
		o := &org{answers: []reply{{200, `{"done":true,"records":[{"Id":"003000000000001AAA"}]}`}}}
		srv, c := o.start(t)
		for range 3 {
			recs, err := c.Query(context.Background(), "SELECT Id FROM Contact WHERE Email = 'a@b.c'")
			if err != nil || len(recs) != 1 || recs[0].ID() != "003000000000001AAA" {
				t.Fatalf("query: %v %v", recs, err)
			}
		}
		if o.logins != 1 {
			t.Errorf("%d logins, want 1", o.logins)
		}
		// The instance URL's trailing slash is dropped; the API version and
		// the escaped SOQL are in the URL.
		r := o.requests[0]
		if r.URL.Path != "/services/data/v62.0/query" || r.URL.Query().Get("q") != "SELECT Id FROM Contact WHERE Email = 'a@b.c'" {
			t.Errorf("request %s (server %s)", r.URL, srv.URL)
		}
		if r.Header.Get("Authorization") != "Bearer tok1" || r.Header.Get("Content-Type") != "" {
			t.Errorf("headers %v", r.Header)
		}
	})
	tests := []struct {
		name  string
		login func(w http.ResponseWriter)
		want  salesforce.Error
	}{
		{"OAuth error", func(w http.ResponseWriter) {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"no client credentials user enabled"}`)
		}, salesforce.Error{Status: 400, ErrorCode: "invalid_grant", Message: "no client credentials user enabled"}},
		{"200 without a token", func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, `{"instance_url":"https://x"}`)
		}, salesforce.Error{Status: 200}},
		{"HTML error page", func(w http.ResponseWriter) {
			w.WriteHeader(503)
			_, _ = io.WriteString(w, `<html>maintenance</html>`)
		}, salesforce.Error{Status: 503}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &org{login: tt.login, answers: []reply{{200, `{}`}}}
			_, c := o.start(t)
			for range 2 { // a failed login is not cached
				_, err := c.Query(context.Background(), "SELECT Id FROM Contact")
				var se *salesforce.Error
				if !errors.As(err, &se) || se.Status != tt.want.Status || se.ErrorCode != tt.want.ErrorCode || se.Message != tt.want.Message {
					t.Errorf("error %#v, want %#v", err, tt.want)
				}
			}
			if o.logins != 2 || len(o.requests) != 0 {
				t.Errorf("%d logins and %d data requests, want 2 and 0", o.logins, len(o.requests))
			}
		})
	}
}

func TestCreateAndUpdate(t *testing.T) {
	t.Run("create without success", func(t *testing.T) {
		o := &org{answers: []reply{{201, `{"id":"","success":false,"errors":[]}`}}}
		_, c := o.start(t)
		if _, err := c.Create(context.Background(), "Contact", map[string]any{"LastName": "X"}); err == nil || err.Error() != "salesforce: create answered without an id" {
			t.Errorf("error %v", err)
		}
		if got := o.bodies[0]; got != `{"LastName":"X"}` || o.requests[0].Header.Get("Content-Type") != "application/json" || o.requests[0].URL.Path != "/services/data/v62.0/sobjects/Contact/" {
			t.Errorf("request %s %s", o.requests[0].URL.Path, got)
		}
	})
	t.Run("undecodable answer", func(t *testing.T) {
		o := &org{answers: []reply{{201, `{"id":`}}}
		_, c := o.start(t)
		if _, err := c.Create(context.Background(), "Contact", nil); err == nil || !strings.HasPrefix(err.Error(), "salesforce: decoding answer: ") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("bad ids are refused before any request", func(t *testing.T) {
		o := &org{answers: []reply{{204, ``}}}
		_, c := o.start(t)
		for _, id := range []string{"", "003", "003000000000001AA'", "003000000000001 A", "0030000000000010000"} {
			if err := c.Update(context.Background(), "Contact", id, map[string]any{"Title": "x"}); err == nil || !strings.Contains(err.Error(), "bad record id") {
				t.Errorf("Update(%q) = %v", id, err)
			}
		}
		if len(o.requests) != 0 || o.logins != 0 {
			t.Errorf("%d requests, %d logins for refused ids", len(o.requests), o.logins)
		}
		for _, id := range []string{"003000000000001", "003000000000001AAA"} {
			if err := c.Update(context.Background(), "Contact", id, map[string]any{"Title": "x"}); err != nil {
				t.Errorf("Update(%q) = %v", id, err)
			}
		}
		if len(o.requests) != 2 || o.requests[1].Method != "PATCH" || o.requests[1].URL.Path != "/services/data/v62.0/sobjects/Contact/003000000000001AAA" {
			t.Errorf("requests %v", o.requests)
		}
	})
}

func TestOpportunityStagesChunks(t *testing.T) {
	o := &org{answers: []reply{{200, `{"done":true,"records":[{"Id":"006000000000001AAA","StageName":"Closed Won"},{"Id":"006000000000002AAA"}]}`}}}
	_, c := o.start(t)
	var ids []string
	for i := range 450 {
		ids = append(ids, fmt.Sprintf("006%012dAAA", i))
	}
	ids = append(ids, "x' OR Id != '", "")
	got, err := c.OpportunityStages(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.requests) != 3 {
		t.Fatalf("%d queries for 450 ids, want 3 of at most 200", len(o.requests))
	}
	for i, r := range o.requests {
		q := r.URL.Query().Get("q")
		want := []int{200, 200, 50}[i]
		if n := strings.Count(q, "'006"); n != want {
			t.Errorf("query %d has %d ids, want %d", i, n, want)
		}
		if strings.Contains(q, "OR Id") {
			t.Errorf("an invalid id reached the SOQL: %s", q)
		}
	}
	if got["006000000000001AAA"] != "Closed Won" || got["006000000000002AAA"] != "" || len(got) != 2 {
		t.Errorf("stages %v", got)
	}
	o2 := &org{answers: []reply{{200, `{}`}}}
	_, c2 := o2.start(t)
	if got, err := c2.OpportunityStages(context.Background(), []string{"bad"}); err != nil || len(got) != 0 || o2.logins != 0 {
		t.Errorf("only invalid ids: %v %v, %d logins", got, err, o2.logins)
	}
}

func TestUpsertAgainstTheFakeOrg(t *testing.T) {
	srv := salesforcetest.New()
	defer srv.Close()
	c := salesforce.New(salesforce.Config{LoginURL: srv.URL, ClientID: salesforcetest.ClientID, ClientSecret: salesforcetest.ClientSecret, RatePerSecond: 1000})
	ctx := context.Background()
	// The account's name defaults to its domain, its website to https.
	acct, created, err := c.UpsertAccount(ctx, "beta.example", nil)
	if err != nil || !created {
		t.Fatalf("account: %v %v", created, err)
	}
	recs := srv.Records("Account")
	if len(recs) != 1 || recs[0]["Name"] != "beta.example" || recs[0]["Website"] != "https://beta.example" {
		t.Fatalf("accounts %v", recs)
	}
	// Every spelling of the website finds the same account.
	for _, site := range []string{"beta.example", "https://www.beta.example/", "http://beta.example"} {
		srv.Set(acct, "Website", site)
		id, created, err := c.UpsertAccount(ctx, "beta.example", nil)
		if err != nil || created || id != acct {
			t.Errorf("website %q: %s %v %v", site, id, created, err)
		}
	}
	// An opportunity's create-only fields are not rewritten on update.
	opp, created, err := c.UpsertOpportunity(ctx, "Lead [l_1]", map[string]any{"StageName": "Prospecting", "CloseDate": "2026-12-31"}, map[string]any{"Amount": 10})
	if err != nil || !created {
		t.Fatalf("opportunity: %v %v", created, err)
	}
	srv.Set(opp, "StageName", "Closed Won")
	again, created, err := c.UpsertOpportunity(ctx, "Lead [l_1]", map[string]any{"StageName": "Prospecting", "CloseDate": "2026-12-31"}, map[string]any{"Amount": 20})
	if err != nil || created || again != opp {
		t.Fatalf("opportunity again: %s %v %v", again, created, err)
	}
	var got map[string]any
	for _, r := range srv.Records("Opportunity") {
		if r["Id"] == opp {
			got = r
		}
	}
	if got["StageName"] != "Closed Won" || fmt.Sprint(got["Amount"]) != "20" {
		t.Errorf("opportunity %v: the stage the CRM set must stay, the amount must update", got)
	}
	// A name with a quote is quoted in the SOQL, not injected.
	if _, _, err := c.UpsertOpportunity(ctx, "O'Brien's lead", map[string]any{"StageName": "Prospecting", "CloseDate": "2026-12-31"}, nil); err != nil {
		t.Fatal(err)
	}
	last := srv.Queries[len(srv.Queries)-1]
	if !strings.Contains(last, `Name = 'O\'Brien\'s lead'`) {
		t.Errorf("SOQL %s", last)
	}
}

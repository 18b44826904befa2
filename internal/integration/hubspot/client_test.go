package hubspot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/integration/hubspot"
	"github.com/parrainhq/parrain/internal/integration/hubspot/hubspottest"
)

func newClient(url string) *hubspot.Client {
	return hubspot.New(hubspot.Config{Token: hubspottest.Token, APIURL: url + "/", RatePerSecond: 1000})
}

// answer is a server answering every request with one status, headers and
// body, recording the requests it saw.
type answer struct {
	status  int
	header  map[string]string
	body    string
	mu      sync.Mutex
	methods []string
	paths   []string
	bodies  []string
	auth    []string
}

func (a *answer) start(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.methods = append(a.methods, r.Method)
		a.paths = append(a.paths, r.URL.EscapedPath())
		a.bodies = append(a.bodies, string(b))
		a.auth = append(a.auth, r.Header.Get("Authorization"))
		a.mu.Unlock()
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name      string
		a         *answer
		rateLimit *hubspot.RateLimitedError
		apiErr    *hubspot.Error
		errPrefix string
	}{
		{name: "429 with Retry-After", a: &answer{status: 429, header: map[string]string{"Retry-After": "7"}, body: `{"policyName":"SECONDLY"}`},
			rateLimit: &hubspot.RateLimitedError{RetryAfter: 7 * time.Second, Policy: "SECONDLY"}},
		{name: "429 daily limit without Retry-After waits an hour", a: &answer{status: 429, body: `{"policyName":"DAILY"}`},
			rateLimit: &hubspot.RateLimitedError{RetryAfter: time.Hour, Policy: "DAILY"}},
		{name: "429 with a bad Retry-After and no body", a: &answer{status: 429, header: map[string]string{"Retry-After": "soon"}},
			rateLimit: &hubspot.RateLimitedError{RetryAfter: 10 * time.Second}},
		{name: "429 with Retry-After zero", a: &answer{status: 429, header: map[string]string{"Retry-After": "0"}, body: `{"policyName":"TEN_SECONDLY_ROLLING"}`},
			rateLimit: &hubspot.RateLimitedError{RetryAfter: 10 * time.Second, Policy: "TEN_SECONDLY_ROLLING"}},
		{name: "JSON error", a: &answer{status: 400, body: `{"status":"error","message":"Property values were not valid","category":"VALIDATION_ERROR","correlationId":"abc-1"}`},
			apiErr: &hubspot.Error{Status: 400, Message: "Property values were not valid", Category: "VALIDATION_ERROR", CorrelationID: "abc-1"}},
		{name: "HTML error page", a: &answer{status: 502, body: "  <html>Bad Gateway</html>\n"},
			apiErr: &hubspot.Error{Status: 502, Message: "<html>Bad Gateway</html>"}},
		{name: "JSON error without a message keeps the body", a: &answer{status: 403, body: `{"category":"MISSING_SCOPES"}`},
			apiErr: &hubspot.Error{Status: 403, Message: `{"category":"MISSING_SCOPES"}`, Category: "MISSING_SCOPES"}},
		{name: "3xx is not success", a: &answer{status: 304}, apiErr: &hubspot.Error{Status: 304, Message: ""}},
		{name: "undecodable success", a: &answer{status: 200, body: `{"results":`}, errPrefix: "hubspot: decoding answer: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(tt.a.start(t))
			_, err := c.DealStages(context.Background(), []string{"1"})
			if err == nil {
				t.Fatal("no error")
			}
			var rl *hubspot.RateLimitedError
			var he *hubspot.Error
			switch {
			case tt.rateLimit != nil:
				if !errors.As(err, &rl) || *rl != *tt.rateLimit {
					t.Fatalf("error %#v, want %#v", err, tt.rateLimit)
				}
				if want := fmt.Sprintf("hubspot: rate limited (%s), retry after %s", tt.rateLimit.Policy, tt.rateLimit.RetryAfter); err.Error() != want {
					t.Errorf("message %q, want %q", err, want)
				}
			case tt.apiErr != nil:
				if !errors.As(err, &he) || *he != *tt.apiErr {
					t.Fatalf("error %#v, want %#v", err, tt.apiErr)
				}
				if errors.As(err, &rl) {
					t.Error("an API error is also a rate limit")
				}
			default:
				if !strings.HasPrefix(err.Error(), tt.errPrefix) {
					t.Errorf("error %q, want prefix %q", err, tt.errPrefix)
				}
			}
		})
	}
	t.Run("network failure", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, _, err := newClient(url).UpsertCompany(context.Background(), "x.com", nil)
		if err == nil || !strings.HasPrefix(err.Error(), "hubspot: ") {
			t.Errorf("closed server: %v", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		a := answer{status: 200, body: `{}`}
		c := hubspot.New(hubspot.Config{Token: "t", APIURL: a.start(t), RatePerSecond: 0.001})
		if _, err := c.DealStages(context.Background(), []string{"1"}); err != nil {
			t.Fatal(err) // the first request takes the burst token
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.DealStages(ctx, []string{"1"}); err == nil {
			t.Error("a cancelled context waited for the limiter and sent")
		}
		if len(a.paths) != 1 {
			t.Errorf("%d requests sent, want 1", len(a.paths))
		}
	})
}

func TestRequestShape(t *testing.T) {
	a := answer{status: 200, body: `{"total":1,"results":[{"id":"a/b 1","properties":{"email":"x"}}]}`}
	c := hubspot.New(hubspot.Config{Token: "secret-token", APIURL: a.start(t) + "///", RatePerSecond: 1000})
	id, created, err := c.UpsertContact(context.Background(), "Jane.DOE@Example.COM", map[string]string{"firstname": "Jane"}, nil)
	if err != nil || created || id != "a/b 1" {
		t.Fatalf("upsert found: %q %v %v", id, created, err)
	}
	if len(a.paths) != 2 {
		t.Fatalf("requests %v, want a search and an update", a.paths)
	}
	if a.methods[0] != "POST" || a.paths[0] != "/crm/v3/objects/contacts/search" {
		t.Errorf("search: %s %s", a.methods[0], a.paths[0])
	}
	var search struct {
		FilterGroups []struct {
			Filters []map[string]string `json:"filters"`
		} `json:"filterGroups"`
		Limit int `json:"limit"`
	}
	if err := json.Unmarshal([]byte(a.bodies[0]), &search); err != nil {
		t.Fatal(err)
	}
	f := search.FilterGroups[0].Filters[0]
	if f["propertyName"] != "email" || f["operator"] != "EQ" || f["value"] != "jane.doe@example.com" || search.Limit != 1 {
		t.Errorf("search body %s: the email must be lowercased and matched EQ", a.bodies[0])
	}
	// The id is path-escaped, and only the given properties are patched.
	if a.methods[1] != "PATCH" || a.paths[1] != "/crm/v3/objects/contacts/a%2Fb%201" || a.bodies[1] != `{"properties":{"firstname":"Jane"}}` {
		t.Errorf("update: %s %s %s", a.methods[1], a.paths[1], a.bodies[1])
	}
	for _, h := range a.auth {
		if h != "Bearer secret-token" {
			t.Errorf("Authorization %q", h)
		}
	}
	// Found with nothing to change: no PATCH.
	if _, _, err := c.UpsertCompany(context.Background(), "acme.com", nil); err != nil {
		t.Fatal(err)
	}
	if len(a.paths) != 3 {
		t.Errorf("requests %v: an empty update was sent", a.paths)
	}
}

func TestCreateWithAssociations(t *testing.T) {
	srv := hubspottest.New()
	defer srv.Close()
	c := newClient(srv.URL)
	ctx := context.Background()
	co, created, err := c.UpsertCompany(ctx, "acme.com", map[string]string{"name": "Acme"})
	if err != nil || !created {
		t.Fatalf("company: %v %v", created, err)
	}
	contact, _, err := c.UpsertContact(ctx, "jane@acme.com", nil, []hubspot.Association{{ToID: co, TypeID: hubspot.AssocContactToCompany}})
	if err != nil {
		t.Fatal(err)
	}
	// An association without a target (a deal whose contact is not synced
	// yet) is dropped rather than sent and refused.
	deal, created, err := c.UpsertDeal(ctx, "Deal [d_1]", map[string]string{"amount": "10"}, []hubspot.Association{
		{ToID: contact, TypeID: hubspot.AssocDealToContact}, {ToID: "", TypeID: hubspot.AssocDealToCompany}, {ToID: co, TypeID: hubspot.AssocDealToCompany},
	})
	if err != nil || !created {
		t.Fatalf("deal: %v %v", created, err)
	}
	deals := srv.Records("deals")
	if len(deals) != 1 || deals[0].ID != deal {
		t.Fatalf("deals %+v", deals)
	}
	want := []string{"contacts:" + contact + ":3", "companies:" + co + ":5"}
	if fmt.Sprint(deals[0].Associations) != fmt.Sprint(want) {
		t.Errorf("associations %v, want %v", deals[0].Associations, want)
	}
	// The search key is written with the properties on create.
	if deals[0].Properties["dealname"] != "Deal [d_1]" || deals[0].Properties["amount"] != "10" {
		t.Errorf("deal properties %v", deals[0].Properties)
	}
	// An association to a record HubSpot does not have is HubSpot's 400.
	_, _, err = c.UpsertDeal(ctx, "Deal [d_2]", nil, []hubspot.Association{{ToID: "404404", TypeID: hubspot.AssocDealToContact}})
	var he *hubspot.Error
	if !errors.As(err, &he) || he.Status != 400 || he.Category != "VALIDATION_ERROR" {
		t.Errorf("unknown association target: %v", err)
	}
	if n := len(srv.Records("deals")); n != 1 {
		t.Errorf("%d deals after a refused create, want 1", n)
	}
}

func TestEnsurePropertiesOncePerType(t *testing.T) {
	srv := hubspottest.New()
	defer srv.Close()
	c := newClient(srv.URL)
	ctx := context.Background()
	props := []hubspot.Property{{Name: "parrain_code", Label: "Code", Group: "g"}, {Name: "parrain_status", Label: "Status", Group: "g"}}
	for range 3 {
		if err := c.EnsureProperties(ctx, "deals", props); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Requests["POST /crm/v3/properties/deals"]; n != 2 {
		t.Errorf("%d property creations for deals, want 2 (once per property, once per process)", n)
	}
	// Another object type is ensured separately.
	if err := c.EnsureProperties(ctx, "contacts", props[:1]); err != nil {
		t.Fatal(err)
	}
	if !srv.HasProperty("contacts", "parrain_code") || srv.HasProperty("contacts", "parrain_status") {
		t.Error("contacts' properties are not the ones asked for")
	}
	// A failure other than 409 is returned and not remembered as done.
	srv.RateLimitNext = 1
	err := c.EnsureProperties(ctx, "companies", props)
	var rl *hubspot.RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("rate-limited creation: %v", err)
	}
	if err := c.EnsureProperties(ctx, "companies", props); err != nil {
		t.Fatal(err)
	}
	if !srv.HasProperty("companies", "parrain_code") || !srv.HasProperty("companies", "parrain_status") {
		t.Error("properties not created on the retry after a failure")
	}
}

func TestDealStagesBatches(t *testing.T) {
	srv := hubspottest.New()
	defer srv.Close()
	c := newClient(srv.URL)
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		id, _, err := c.UpsertDeal(ctx, fmt.Sprintf("Deal %d", i), map[string]string{"dealstage": fmt.Sprintf("stage%d", i)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// 250 ids: three batch reads of at most 100 (the fake refuses more).
	all := append([]string(nil), ids...)
	for i := range 247 {
		all = append(all, fmt.Sprintf("missing-%d", i))
	}
	got, err := c.DealStages(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests["POST /crm/v3/objects/deals/batch/read"]; n != 3 {
		t.Errorf("%d batch reads, want 3", n)
	}
	if len(got) != 3 {
		t.Fatalf("stages %v, want the 3 existing deals only", got)
	}
	for i, id := range ids {
		if got[id] != fmt.Sprintf("stage%d", i) {
			t.Errorf("deal %s stage %q", id, got[id])
		}
	}
	// No ids: no request.
	before := srv.Requests["POST /crm/v3/objects/deals/batch/read"]
	if got, err := c.DealStages(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no ids: %v %v", got, err)
	}
	if srv.Requests["POST /crm/v3/objects/deals/batch/read"] != before {
		t.Error("a request was sent for no ids")
	}
}

// Package salesforcetest is an in-memory Salesforce REST API for tests: the
// OAuth 2.0 client-credentials token endpoint, SOQL queries of the forms
// Parrain sends (WHERE <field> = '<v>' or IN (…)), sObject create with the
// required fields Salesforce enforces (Contact.LastName, Account.Name,
// Opportunity Name/StageName/CloseDate) and update, with Salesforce's error
// shapes and an optional REQUEST_LIMIT_EXCEEDED answer.
package salesforcetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
)

// Credentials the server accepts.
const (
	ClientID     = "3MVG9parrain.test"
	ClientSecret = "parrain-sf-secret"
)

// Server is a fake Salesforce org.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	next    int
	tokens  map[string]bool
	records map[string]map[string]any // by Id
	// LimitExceeded makes data requests answer REQUEST_LIMIT_EXCEEDED.
	LimitExceeded bool
	// Queries lists the SOQL received.
	Queries []string
}

var prefixes = map[string]string{"Contact": "003", "Account": "001", "Opportunity": "006"}

var required = map[string][]string{"Contact": {"LastName"}, "Account": {"Name"}, "Opportunity": {"Name", "StageName", "CloseDate"}}

// New starts a fake org.
func New() *Server {
	s := &Server{tokens: map[string]bool{}, records: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/oauth2/token", s.token)
	mux.HandleFunc("GET /services/data/{v}/query", s.auth(s.query))
	mux.HandleFunc("POST /services/data/{v}/sobjects/{type}/", s.auth(s.create))
	mux.HandleFunc("PATCH /services/data/{v}/sobjects/{type}/{id}", s.auth(s.update))
	s.Server = httptest.NewServer(mux)
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func sfError(w http.ResponseWriter, status int, code, msg string, fields ...string) {
	if fields == nil {
		fields = []string{}
	}
	writeJSON(w, status, []map[string]any{{"message": msg, "errorCode": code, "fields": fields}})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != ClientID || r.PostForm.Get("client_secret") != ClientSecret {
		writeJSON(w, 400, map[string]string{"error": "invalid_client", "error_description": "invalid client credentials"})
		return
	}
	s.mu.Lock()
	s.next++
	tok := fmt.Sprintf("00D000000000001!AQ%06d", s.next)
	s.tokens[tok] = true
	s.mu.Unlock()
	writeJSON(w, 200, map[string]string{"access_token": tok, "instance_url": s.URL, "id": s.URL + "/id/00D/005", "token_type": "Bearer",
		"issued_at": "1762000000000", "signature": "x"})
}

// ExpireSessions invalidates every token, as a session timeout would.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		ok, limited := s.tokens[tok], s.LimitExceeded
		s.mu.Unlock()
		if !ok {
			sfError(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		if limited {
			sfError(w, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
			return
		}
		h(w, r)
	}
}

// Records returns the records of an sObject type.
func (s *Server) Records(typ string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, r := range s.records {
		if r["attributes"].(map[string]any)["type"] == typ {
			c := map[string]any{}
			for k, v := range r {
				c[k] = v
			}
			out = append(out, c)
		}
	}
	return out
}

// Set changes a field of a record, as a Salesforce user would.
func (s *Server) Set(id, field string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.records[id]; r != nil {
		r[field] = v
	}
}

var (
	selectRE = regexp.MustCompile(`^SELECT (.+?) FROM (\w+) WHERE (\w+) (=|IN) (.+?)(?: ORDER BY \w+)?(?: LIMIT (\d+))?$`)
	literal  = regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`)
)

func unquote(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\'`, `'`, `\n`, "\n", `\r`, "\r", `\t`, "\t", `\"`, `"`).Replace(s)
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	s.mu.Lock()
	s.Queries = append(s.Queries, q)
	s.mu.Unlock()
	m := selectRE.FindStringSubmatch(q)
	if m == nil {
		sfError(w, 400, "MALFORMED_QUERY", "unexpected token in: "+q)
		return
	}
	fields := strings.Split(m[1], ",")
	typ, field, op, rhs := m[2], m[3], m[4], m[5]
	var values []string
	for _, l := range literal.FindAllStringSubmatch(rhs, -1) {
		values = append(values, unquote(l[1]))
	}
	if (op == "=" && len(values) != 1) || (op == "IN" && !strings.HasPrefix(rhs, "(")) {
		sfError(w, 400, "MALFORMED_QUERY", "bad condition: "+rhs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := []map[string]any{}
	for id := 0; id <= s.next; id++ {
		rec := s.records[fmt.Sprintf("%s%015d", prefixes[typ], id)]
		if rec == nil {
			continue
		}
		v, _ := rec[field].(string)
		for _, want := range values {
			// Salesforce compares strings case-insensitively in SOQL.
			if strings.EqualFold(v, want) {
				out := map[string]any{"attributes": rec["attributes"]}
				for _, f := range fields {
					f = strings.TrimSpace(f)
					out[f] = rec[f]
				}
				recs = append(recs, out)
				break
			}
		}
	}
	writeJSON(w, 200, map[string]any{"totalSize": len(recs), "done": true, "records": recs})
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	prefix, ok := prefixes[typ]
	if !ok {
		sfError(w, 404, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		sfError(w, 400, "JSON_PARSER_ERROR", err.Error())
		return
	}
	for _, f := range required[typ] {
		if v, _ := in[f].(string); v == "" {
			sfError(w, 400, "REQUIRED_FIELD_MISSING", "Required fields are missing: ["+f+"]", f)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	id := fmt.Sprintf("%s%015d", prefix, s.next)
	in["Id"] = id
	in["attributes"] = map[string]any{"type": typ, "url": "/services/data/" + r.PathValue("v") + "/sobjects/" + typ + "/" + id}
	s.records[id] = in
	writeJSON(w, 201, map[string]any{"id": id, "success": true, "errors": []any{}})
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		sfError(w, 400, "JSON_PARSER_ERROR", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.records[r.PathValue("id")]
	if rec == nil || rec["attributes"].(map[string]any)["type"] != r.PathValue("type") {
		sfError(w, 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible")
		return
	}
	for k, v := range in {
		rec[k] = v
	}
	w.WriteHeader(http.StatusNoContent)
}

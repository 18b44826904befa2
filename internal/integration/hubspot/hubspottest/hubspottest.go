// Package hubspottest is an in-memory HubSpot CRM v3 server for tests: it
// speaks the documented shapes of object search (EQ filters), create (with
// associations), update, batch read and property creation, checks the
// bearer token, and can answer 429 like HubSpot's rate limiter.
package hubspottest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// Token is the access token the server accepts.
const Token = "pat-na1-parrain-test"

// Record is a stored CRM record.
type Record struct {
	ID           string
	Type         string
	Properties   map[string]string
	Associations []string // "<type>:<id>:<typeId>"
}

// Server is a fake HubSpot.
type Server struct {
	*httptest.Server
	mu         sync.Mutex
	next       int
	records    map[string]*Record // by id
	properties map[string]bool    // "<type>/<name>"
	// RateLimitNext makes the next n requests answer 429.
	RateLimitNext int
	// Requests counts requests by "METHOD path-prefix".
	Requests map[string]int
}

// New starts a fake HubSpot.
func New() *Server {
	s := &Server{records: map[string]*Record{}, properties: map[string]bool{}, Requests: map[string]int{}, next: 100}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /crm/v3/objects/{type}/search", s.search)
	mux.HandleFunc("POST /crm/v3/objects/{type}/batch/read", s.batchRead)
	mux.HandleFunc("POST /crm/v3/objects/{type}", s.create)
	mux.HandleFunc("PATCH /crm/v3/objects/{type}/{id}", s.update)
	mux.HandleFunc("POST /crm/v3/properties/{type}", s.property)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.Requests[r.Method+" "+r.URL.Path]++
		limited := s.RateLimitNext > 0
		if limited {
			s.RateLimitNext--
		}
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+Token {
			writeJSON(w, 401, map[string]string{"status": "error", "message": "Authentication credentials not found.", "category": "INVALID_AUTHENTICATION", "correlationId": "c0"})
			return
		}
		if limited {
			writeJSON(w, 429, map[string]string{"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT",
				"correlationId": "c1", "policyName": "SECONDLY"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Records returns the records of a type ("contacts", "companies",
// "deals").
func (s *Server) Records(typ string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.records {
		if r.Type == typ {
			c := *r
			c.Properties = map[string]string{}
			for k, v := range r.Properties {
				c.Properties[k] = v
			}
			out = append(out, c)
		}
	}
	return out
}

// SetProperty changes a record's property, as a CRM user would.
func (s *Server) SetProperty(id, name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.records[id]; r != nil {
		r.Properties[name] = value
	}
}

// HasProperty reports whether a custom property was created.
func (s *Server) HasProperty(typ, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.properties[typ+"/"+name]
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FilterGroups []struct {
			Filters []struct {
				PropertyName string `json:"propertyName"`
				Operator     string `json:"operator"`
				Value        string `json:"value"`
			} `json:"filters"`
		} `json:"filterGroups"`
		Limit int `json:"limit"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, 400, map[string]string{"status": "error", "message": "Invalid input JSON", "category": "VALIDATION_ERROR"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	typ := r.PathValue("type")
	var results []map[string]any
	for _, rec := range s.records {
		if rec.Type != typ {
			continue
		}
		match := len(in.FilterGroups) == 0
		for _, g := range in.FilterGroups {
			all := true
			for _, f := range g.Filters {
				if f.Operator != "EQ" || !strings.EqualFold(rec.Properties[f.PropertyName], f.Value) {
					all = false
				}
			}
			match = match || all
		}
		if match {
			results = append(results, map[string]any{"id": rec.ID, "properties": rec.Properties, "archived": false})
		}
	}
	if in.Limit > 0 && len(results) > in.Limit {
		results = results[:in.Limit]
	}
	writeJSON(w, 200, map[string]any{"total": len(results), "results": results})
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Properties   map[string]string `json:"properties"`
		Associations []struct {
			To struct {
				ID string `json:"id"`
			} `json:"to"`
			Types []struct {
				AssociationCategory string `json:"associationCategory"`
				AssociationTypeID   int    `json:"associationTypeId"`
			} `json:"types"`
		} `json:"associations"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, 400, map[string]string{"status": "error", "message": "Invalid input JSON", "category": "VALIDATION_ERROR"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	typ := r.PathValue("type")
	for name := range in.Properties {
		if strings.HasPrefix(name, "parrain_") && !s.properties[typ+"/"+name] {
			writeJSON(w, 400, map[string]string{"status": "error", "message": "Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"" + name + "\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"" + name + "\"}]", "category": "VALIDATION_ERROR"})
			return
		}
	}
	s.next++
	rec := &Record{ID: strconv.Itoa(s.next), Type: typ, Properties: in.Properties}
	for _, a := range in.Associations {
		to := s.records[a.To.ID]
		if to == nil {
			writeJSON(w, 400, map[string]string{"status": "error", "message": "association target " + a.To.ID + " not found", "category": "VALIDATION_ERROR"})
			return
		}
		for _, t := range a.Types {
			rec.Associations = append(rec.Associations, to.Type+":"+a.To.ID+":"+strconv.Itoa(t.AssociationTypeID))
		}
	}
	s.records[rec.ID] = rec
	writeJSON(w, 201, map[string]any{"id": rec.ID, "properties": rec.Properties, "archived": false})
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Properties map[string]string `json:"properties"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, 400, map[string]string{"status": "error", "message": "Invalid input JSON", "category": "VALIDATION_ERROR"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.records[r.PathValue("id")]
	if rec == nil || rec.Type != r.PathValue("type") {
		writeJSON(w, 404, map[string]string{"status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"})
		return
	}
	for k, v := range in.Properties {
		rec.Properties[k] = v
	}
	writeJSON(w, 200, map[string]any{"id": rec.ID, "properties": rec.Properties})
}

func (s *Server) batchRead(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Properties []string            `json:"properties"`
		Inputs     []map[string]string `json:"inputs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Inputs) > 100 {
		writeJSON(w, 400, map[string]string{"status": "error", "message": "Invalid input (at most 100 inputs)", "category": "VALIDATION_ERROR"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var results []map[string]any
	for _, i := range in.Inputs {
		rec := s.records[i["id"]]
		if rec == nil || rec.Type != r.PathValue("type") {
			continue
		}
		props := map[string]string{}
		for _, p := range in.Properties {
			props[p] = rec.Properties[p]
		}
		results = append(results, map[string]any{"id": rec.ID, "properties": props})
	}
	writeJSON(w, 200, map[string]any{"status": "COMPLETE", "results": results})
}

func (s *Server) property(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name, Type, FieldType, GroupName string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Name == "" {
		writeJSON(w, 400, map[string]string{"status": "error", "message": "Invalid input JSON", "category": "VALIDATION_ERROR"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.PathValue("type") + "/" + in.Name
	if s.properties[key] {
		writeJSON(w, 409, map[string]string{"status": "error", "message": "Property already exists", "category": "OBJECT_ALREADY_EXISTS"})
		return
	}
	s.properties[key] = true
	writeJSON(w, 201, map[string]any{"name": in.Name, "type": in.Type, "fieldType": in.FieldType, "groupName": in.GroupName})
}

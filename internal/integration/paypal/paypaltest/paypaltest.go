// Package paypaltest is an in-memory PayPal Payouts server for tests. It
// speaks the documented request and response shapes of the OAuth2 token
// endpoint, POST /v1/payments/payouts and GET /v1/payments/payouts/{id},
// including the duplicate sender_batch_id refusal and PayPal-Request-Id
// replays, and lets a test decide each item's final status.
package paypaltest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Credentials the server accepts.
const (
	ClientID = "parrain-test-client"
	Secret   = "parrain-test-secret"
)

// Outcome is the final status a receiver's items get.
type Outcome struct {
	Status    string // SUCCESS (default), FAILED, UNCLAIMED, RETURNED, BLOCKED…
	ErrorName string // for FAILED: RECEIVER_UNREGISTERED, …
	ErrorMsg  string
	// Polls is how many status reads answer PENDING before the final status.
	Polls int
}

// Server is a fake PayPal.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	tokens   map[string]bool
	batches  map[string]*batch  // by payout_batch_id
	bySender map[string]string  // sender_batch_id → payout_batch_id
	byReqID  map[string][]byte  // PayPal-Request-Id → first answer
	outcomes map[string]Outcome // by receiver
	// Created counts the batches created (not replays or duplicates).
	Created int
	// Requests counts POST /v1/payments/payouts requests.
	Requests int
	// TokenRequests counts token requests.
	TokenRequests int
}

type batch struct {
	id     string
	header map[string]any
	items  []item
	polls  int
}

type item struct {
	id, senderItemID, receiver, value, currency, note string
}

// New starts a fake PayPal; it is closed by Close.
func New() *Server {
	s := &Server{tokens: map[string]bool{}, batches: map[string]*batch{}, bySender: map[string]string{}, byReqID: map[string][]byte{},
		outcomes: map[string]Outcome{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/oauth2/token", s.token)
	mux.HandleFunc("POST /v1/payments/payouts", s.create)
	mux.HandleFunc("GET /v1/payments/payouts/{id}", s.get)
	s.Server = httptest.NewServer(mux)
	return s
}

// SetOutcome decides the final status of payments to receiver.
func (s *Server) SetOutcome(receiver string, o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[strings.ToLower(receiver)] = o
}

// ForgetRequestIDs drops the PayPal-Request-Id replay cache, as PayPal
// does after its retention period: a resent request then meets the
// duplicate sender_batch_id refusal.
func (s *Server) ForgetRequestIDs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byReqID = map[string][]byte{}
}

// Items returns every item created, for assertions.
func (s *Server) Items() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]string
	for _, b := range s.batches {
		for _, it := range b.items {
			out = append(out, map[string]string{"sender_batch_id": b.header["sender_batch_id"].(string), "sender_item_id": it.senderItemID,
				"receiver": it.receiver, "value": it.value, "currency": it.currency})
		}
	}
	return out
}

func id(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + strings.ToUpper(hex.EncodeToString(b))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.TokenRequests++
	s.mu.Unlock()
	user, pass, ok := r.BasicAuth()
	if !ok || user != ClientID || pass != Secret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client Authentication failed"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"})
		return
	}
	tok := id("A21AA")
	s.mu.Lock()
	s.tokens[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"scope": "https://uri.paypal.com/services/payments/payouts", "access_token": tok,
		"token_type": "Bearer", "app_id": "APP-80W284485P519543T", "expires_in": 32400, "nonce": "2026-11-01T00:00:00Z"})
}

func (s *Server) authed(w http.ResponseWriter, r *http.Request) bool {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	ok := s.tokens[tok]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Token signature verification failed"})
	}
	return ok
}

var valueRE = regexp.MustCompile(`^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$`)

func validation(w http.ResponseWriter, field, issue string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"name": "VALIDATION_ERROR", "message": "Invalid request - see details",
		"debug_id": "f0e1d2c3b4a59", "information_link": "https://developer.paypal.com/docs/api/payments.payouts-batch/#errors",
		"details": []map[string]string{{"field": field, "location": "body", "issue": issue}}})
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	if !s.authed(w, r) {
		return
	}
	s.mu.Lock()
	s.Requests++
	reqID := r.Header.Get("PayPal-Request-Id")
	if prev, ok := s.byReqID[reqID]; ok && reqID != "" {
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(prev)
		return
	}
	s.mu.Unlock()
	var req struct {
		SenderBatchHeader map[string]any `json:"sender_batch_header"`
		Items             []struct {
			RecipientType string `json:"recipient_type"`
			Amount        struct {
				Value    string `json:"value"`
				Currency string `json:"currency"`
			} `json:"amount"`
			Receiver     string `json:"receiver"`
			Note         string `json:"note"`
			SenderItemID string `json:"sender_item_id"`
		} `json:"items"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"name": "MALFORMED_REQUEST", "message": "Incoming JSON request does not map to API request"})
		return
	}
	sender, _ := req.SenderBatchHeader["sender_batch_id"].(string)
	if sender == "" || len(sender) > 256 {
		validation(w, "sender_batch_header.sender_batch_id", "Required field is missing or too long")
		return
	}
	if len(req.Items) == 0 || len(req.Items) > 15000 {
		validation(w, "items", "Between 1 and 15000 items are required")
		return
	}
	b := &batch{id: id(""), header: req.SenderBatchHeader}
	for i, it := range req.Items {
		switch {
		case it.RecipientType != "EMAIL" || !strings.Contains(it.Receiver, "@"):
			validation(w, "items["+strconv.Itoa(i)+"].receiver", "Receiver is invalid or does not match with type")
			return
		case !valueRE.MatchString(it.Amount.Value) || len(it.Amount.Currency) != 3:
			validation(w, "items["+strconv.Itoa(i)+"].amount", "Currency or value is invalid")
			return
		case len(it.SenderItemID) > 63:
			validation(w, "items["+strconv.Itoa(i)+"].sender_item_id", "Length exceeds 63")
			return
		}
		b.items = append(b.items, item{id: id(""), senderItemID: it.SenderItemID, receiver: it.Receiver, value: it.Amount.Value,
			currency: it.Amount.Currency, note: it.Note})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if orig, dup := s.bySender[sender]; dup {
		writeJSON(w, http.StatusBadRequest, map[string]any{"name": "USER_BUSINESS_ERROR", "message": "User business error.",
			"debug_id": "a1b2c3d4e5f60", "information_link": "https://developer.paypal.com/docs/api/payments.payouts-batch/#errors",
			"details": []map[string]string{{"field": "SENDER_BATCH_ID", "location": "body", "issue": "Batch with given sender_batch_id already exists"}},
			"links":   []map[string]string{{"href": s.URL + "/v1/payments/payouts/" + orig, "rel": "self", "method": "GET", "encType": "application/json"}}})
		return
	}
	s.batches[b.id] = b
	s.bySender[sender] = b.id
	s.Created++
	answer, _ := json.Marshal(map[string]any{
		"batch_header": map[string]any{"payout_batch_id": b.id, "batch_status": "PENDING", "sender_batch_header": req.SenderBatchHeader},
		"links":        []map[string]string{{"href": s.URL + "/v1/payments/payouts/" + b.id, "rel": "self", "method": "GET", "encType": "application/json"}},
	})
	if reqID != "" {
		s.byReqID[reqID] = answer
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(answer)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	if !s.authed(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.batches[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"name": "INVALID_RESOURCE_ID", "message": "Requested resource ID was not found.",
			"debug_id": "b1c2d3e4f5a60"})
		return
	}
	b.polls++
	batchStatus := "SUCCESS"
	var items []map[string]any
	for _, it := range b.items {
		o, ok := s.outcomes[strings.ToLower(it.receiver)]
		if !ok {
			o = Outcome{Status: "SUCCESS"}
		}
		st := o.Status
		if b.polls <= o.Polls {
			st, batchStatus = "PENDING", "PROCESSING"
		}
		m := map[string]any{"payout_item_id": it.id, "transaction_status": st, "payout_batch_id": b.id,
			"payout_item_fee": map[string]string{"currency": it.currency, "value": "0.00"},
			"payout_item":     map[string]any{"recipient_type": "EMAIL", "amount": map[string]string{"value": it.value, "currency": it.currency}, "note": it.note, "receiver": it.receiver, "sender_item_id": it.senderItemID},
			"time_processed":  "2026-11-01T12:00:00Z"}
		if st == "SUCCESS" {
			m["transaction_id"] = id("TX")
		}
		if st == "FAILED" || st == "RETURNED" || st == "BLOCKED" {
			m["errors"] = map[string]string{"name": o.ErrorName, "message": o.ErrorMsg}
		}
		items = append(items, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"batch_header": map[string]any{"payout_batch_id": b.id, "batch_status": batchStatus, "sender_batch_header": b.header,
			"amount": map[string]string{"currency": b.items[0].currency, "value": b.items[0].value}},
		"items": items,
	})
}

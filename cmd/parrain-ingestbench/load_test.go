package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is an events endpoint that answers status and keeps what it was sent.
type recorder struct {
	status int
	mu     sync.Mutex
	bodies []map[string]any
	keys   map[string]int
	bad    []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer pk_test" || r.Header.Get("Content-Type") != "application/json" {
		rec.bad = append(rec.bad, r.Method+" "+r.Header.Get("Authorization")+" "+r.Header.Get("Content-Type"))
	}
	b, err := io.ReadAll(r.Body)
	var body map[string]any
	if err == nil {
		err = json.Unmarshal(b, &body)
	}
	if err != nil {
		rec.bad = append(rec.bad, "body "+string(b))
	}
	rec.bodies = append(rec.bodies, body)
	rec.keys[r.Header.Get("Idempotency-Key")]++
	w.WriteHeader(rec.status)
	_, _ = io.WriteString(w, ` {"code":"x"} `)
}

func TestLoad(t *testing.T) {
	tests := []struct {
		event   string
		status  int
		wantErr string
		fields  map[string]any
	}{
		{"signup", http.StatusCreated, "", map[string]any{"type": "signup"}},
		{"purchase", http.StatusCreated, "", map[string]any{"type": "purchase", "amount": 5000.0, "currency": "EUR"}},
		{"signup", http.StatusConflict, `status 409, want 201: {"code":"x"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.event+"/"+http.StatusText(tt.status), func(t *testing.T) {
			rec := &recorder{status: tt.status, keys: map[string]int{}}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			tgt := target{url: srv.URL, key: "pk_test", codes: []string{"A1", "B2"}, counter: new(atomic.Int64)}
			res, err := load(context.Background(), tgt, tt.event, 2, 30*time.Millisecond)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.bad) > 0 {
				t.Fatalf("bad requests: %q", rec.bad)
			}
			if res.Requests == 0 || res.Requests != len(rec.bodies) || int64(res.Requests) != tgt.counter.Load() {
				t.Errorf("requests %d, server saw %d, counter %d", res.Requests, len(rec.bodies), tgt.counter.Load())
			}
			if res.ReqPerS <= 0 || res.P50ms > res.P99ms {
				t.Errorf("result %+v", res)
			}
			for k, n := range rec.keys {
				if n != 1 || !strings.HasPrefix(k, "bench-") {
					t.Errorf("Idempotency-Key %q sent %d times", k, n)
				}
			}
			friends := map[any]bool{}
			for _, b := range rec.bodies {
				for k, v := range tt.fields {
					if b[k] != v {
						t.Errorf("body %v: %s = %v, want %v", b, k, b[k], v)
					}
				}
				id, _ := b["external_id"].(string)
				n := strings.TrimPrefix(id, "friend_")
				if b["email"] != "friend"+n+"@mail.example" || (b["referral_code"] != "A1" && b["referral_code"] != "B2") {
					t.Errorf("body %v", b)
				}
				if tt.event == "purchase" && b["order_id"] != "order_"+n {
					t.Errorf("order_id %v for friend %s", b["order_id"], n)
				}
				if friends[id] {
					t.Errorf("friend %s sent twice", id)
				}
				friends[id] = true
			}
		})
	}
}

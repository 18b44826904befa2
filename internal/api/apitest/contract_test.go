package apitest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

const doc = `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/things/{id}":{"get":{"operationId":"getThing","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],
"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object","required":["id"],"properties":{"id":{"type":"string"}},"additionalProperties":false}}}}}}}}}`

// The contract check passes an answer that matches and fails one that
// does not (a wrong type, an undeclared field, an undeclared status).
func TestContractFailsWrongAnswers(t *testing.T) {
	c, err := New([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body string
		status     int
		ok         bool
	}{
		{"matches", `{"id":"a"}`, 200, true},
		{"wrong type", `{"id":1}`, 200, false},
		{"undeclared field", `{"id":"a","extra":true}`, 200, false},
		{"undeclared status", `{"id":"a"}`, 418, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/things/a", nil)
			w := httptest.NewRecorder()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			w.WriteString(tc.body)
			problems := c.Check(req, nil, w.Result())
			if (len(problems) == 0) != tc.ok {
				t.Errorf("problems %q, want ok=%v", problems, tc.ok)
			}
		})
	}
	if !c.Documents("GET", "/things/x") || c.Documents("POST", "/things/x") || c.Documents("GET", "/other") {
		t.Error("Documents matches the wrong routes")
	}
	_ = http.StatusOK
}

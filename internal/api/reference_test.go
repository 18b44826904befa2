package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The reference page shows every operation (by its operationId, under its
// tag) and loads nothing from elsewhere.
func TestReferencePage(t *testing.T) {
	w := httptest.NewRecorder()
	Reference(w, httptest.NewRequest("GET", "/api/docs", nil))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", w.Code, w.Header().Get("Content-Type"))
	}
	page := w.Body.String()
	var doc struct {
		Tags  []struct{ Name string } `json:"tags"`
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			if !strings.Contains(page, `id="`+op.OperationID+`"`) {
				t.Errorf("%s %s (%s) is not on the page", m, p, op.OperationID)
			}
		}
	}
	for _, tg := range doc.Tags {
		if !strings.Contains(page, "<h2 id=\"tag-") || !strings.Contains(page, ">"+tg.Name+"</h2>") {
			t.Errorf("no section for tag %s", tg.Name)
		}
	}
	for _, bad := range []string{"<script", `src="http`, `href="http`} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
}

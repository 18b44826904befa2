package api

import (
	_ "embed"
	"net/http"
)

// OpenAPIDoc is the OpenAPI 3.1 description of the API, kept in sync with
// the routes by a test in internal/app.
//
//go:embed openapi.json
var OpenAPIDoc []byte

// OpenAPI serves GET /api/v1/openapi.json.
func OpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(OpenAPIDoc)
}

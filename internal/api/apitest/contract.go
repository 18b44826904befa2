// Package apitest holds the API contract check the tests wire into their
// harnesses: every request a test sends and every answer it receives are
// validated against the OpenAPI document, so the document cannot drift from
// the code. Tests only; it imports nothing of ours (the document is passed in).
package apitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
)

// Contract validates requests and answers against one OpenAPI document.
type Contract struct {
	mu     sync.Mutex // the validator's caches are not documented as safe for concurrent use
	v      validator.Validator
	routes []route
}

// route is one documented path, as a pattern over request paths.
type route struct {
	re      *regexp.Regexp
	methods map[string]bool
}

var (
	once   sync.Once
	shared *Contract
	errNew error
)

// For returns the Contract of doc, built once per test binary (building it
// compiles every schema of the document).
func For(doc []byte) (*Contract, error) {
	once.Do(func() { shared, errNew = New(doc) })
	return shared, errNew
}

// New builds a Contract from an OpenAPI 3.1 document.
func New(doc []byte) (*Contract, error) {
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("parsing the document: %w", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		return nil, fmt.Errorf("building the validator: %v", errs)
	}
	m, err := d.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("building the model: %w", err)
	}
	c := &Contract{v: v}
	for p, item := range m.Model.Paths.PathItems.FromOldest() {
		expr := regexp.MustCompile(`\\\{[^}]*\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`)
		methods := map[string]bool{}
		for method := range item.GetOperations().FromOldest() {
			methods[strings.ToUpper(method)] = true
		}
		c.routes = append(c.routes, route{re: regexp.MustCompile("^" + expr + "$"), methods: methods})
	}
	return c, nil
}

// Documents reports whether the document describes method on path.
func (c *Contract) Documents(method, path string) bool {
	for _, r := range c.routes {
		if r.methods[method] && r.re.MatchString(path) {
			return true
		}
	}
	return false
}

// Check validates one exchange and returns what disagrees with the document.
// The request is checked only when the server accepted it (a status below
// 400): tests send invalid requests on purpose, and then it is the answer
// (a declared error) that must match. The answer is always checked.
func (c *Contract) Check(req *http.Request, reqBody []byte, res *http.Response) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	// The library decodes every media type naming json as one JSON value,
	// so a JSON-lines body (one value a line) cannot be checked; its answer is.
	ndjson := strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-ndjson")
	if res.StatusCode < 400 && !ndjson {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		if ok, errs := c.v.ValidateHttpRequestSync(r); !ok {
			out = append(out, describe("request", errs)...)
		}
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	if ok, errs := c.v.ValidateHttpResponse(r, res); !ok {
		out = append(out, describe(fmt.Sprintf("answer %d", res.StatusCode), errs)...)
	}
	return out
}

func describe(what string, errs []*verrors.ValidationError) []string {
	var out []string
	for _, e := range errs {
		s := what + ": " + e.Message
		if e.Reason != "" {
			s += ": " + e.Reason
		}
		for _, f := range e.SchemaValidationErrors {
			s += fmt.Sprintf("\n\t\t%s %s", f.FieldPath, f.Reason)
		}
		out = append(out, s)
	}
	return out
}

// Handler serves h and fails t when an exchange on a documented operation
// disagrees with the document. Other routes (the console, the portal)
// pass through untouched.
func (c *Contract) Handler(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.Documents(r.Method, r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Body != nil {
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				t.Errorf("apitest: reading the request: %v", err)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		res := rec.Result()
		if problems := c.Check(r, body, res); len(problems) > 0 {
			t.Errorf("%s %s answered %d, which disagrees with the OpenAPI document:\n\t%s\nanswer: %.500s",
				r.Method, r.URL.RequestURI(), res.StatusCode, strings.Join(problems, "\n\t"), rec.Body.String())
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		if _, err := w.Write(rec.Body.Bytes()); err != nil {
			t.Logf("apitest: writing the answer: %v", err)
		}
	})
}

package main

import (
	"fmt"
	"strings"
)

// Simplify trims the 3.0 copy for the Go client so the generated file stays
// a readable size (without it: 63k lines, 2.6 MB, most of it one parse
// branch and one header struct per status code and operation):
//
//   - every 4xx/5xx answer of an operation, which all carry the same Error
//     body, becomes one "default" answer: callers read resp.StatusCode() and
//     resp.JSONDefault (code, message, field);
//   - declared response headers (X-Request-Id, Idempotent-Replayed and the
//     RateLimit-* headers) are not generated as typed structs: they are on
//     resp.HTTPResponse.Header.
//
// An error answer whose body is not the Error schema (a plain-text page of
// the public redirect routes) is kept as declared, so no richer error shape
// is silently dropped.
func Simplify(doc map[string]any) error {
	comps, _ := doc["components"].(map[string]any)
	compResps, _ := comps["responses"].(map[string]any)
	for name, r := range compResps {
		if m, ok := r.(map[string]any); ok {
			delete(m, "headers")
		} else {
			return fmt.Errorf("components/responses/%s is not an object", name)
		}
	}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			opm, ok := op.(map[string]any)
			if !ok {
				continue
			}
			resps, ok := opm["responses"].(map[string]any)
			if !ok {
				continue
			}
			hasError := false
			for code, r := range resps {
				rm, _ := r.(map[string]any)
				if rm == nil {
					return fmt.Errorf("%s %s: response %s is not an object", method, path, code)
				}
				delete(rm, "headers")
				if !strings.HasPrefix(code, "4") && !strings.HasPrefix(code, "5") && code != "default" {
					continue
				}
				if !isErrorBody(rm, compResps) {
					continue // another body (a plain-text page): kept as declared
				}
				delete(resps, code)
				hasError = true
			}
			if hasError {
				resps["default"] = map[string]any{"$ref": "#/components/responses/Error"}
			}
		}
	}
	return nil
}

// isErrorBody reports whether a response (inline or a $ref into
// components/responses) carries the Error schema as JSON, or no body.
func isErrorBody(r map[string]any, compResps map[string]any) bool {
	if ref, ok := r["$ref"].(string); ok {
		target, _ := compResps[strings.TrimPrefix(ref, "#/components/responses/")].(map[string]any)
		if target == nil {
			return false
		}
		r = target
	}
	content, ok := r["content"].(map[string]any)
	if !ok {
		return true
	}
	for _, mt := range content {
		m, _ := mt.(map[string]any)
		s, _ := m["schema"].(map[string]any)
		if s["$ref"] != "#/components/schemas/Error" {
			return false
		}
	}
	return true
}

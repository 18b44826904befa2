package main

import (
	"encoding/json"
	"fmt"
)

// Downconvert turns the OpenAPI 3.1 document into a copy oapi-codegen (an
// OpenAPI 3.0 reader) understands, changing only what 3.0 cannot say:
//
//   - "openapi": "3.1.x" becomes "3.0.3";
//   - "type": [x, "null"] becomes "type": x with "nullable": true;
//   - a type list of several non-null types ("type": ["string", "boolean",
//     "integer"]) becomes an untyped schema (any value; Go: interface{});
//   - "const": v becomes "enum": [v];
//   - an enum without a type gets the type of its values (3.1 infers it;
//     oapi-codegen would otherwise generate interface{});
//   - "examples": [...] inside a schema becomes "example" (the first one);
//   - numeric "exclusiveMinimum"/"exclusiveMaximum" become 3.0's
//     "minimum"/"maximum" with the boolean flag.
//
// Anything else of 3.1 it meets is an error, so a new construct in the
// document is noticed here rather than generated wrong.
func Downconvert(src []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parsing the document: %w", err)
	}
	doc["openapi"] = "3.0.3"
	delete(doc, "webhooks")
	delete(doc, "jsonSchemaDialect")
	if info, ok := doc["info"].(map[string]any); ok {
		delete(info, "summary")
		if lic, ok := info["license"].(map[string]any); ok {
			delete(lic, "identifier")
		}
	}
	if err := walk(doc, "#"); err != nil {
		return nil, err
	}
	if err := Simplify(doc); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encoding the 3.0 copy: %w", err)
	}
	return out, nil
}

// unsupported are 3.1 (JSON Schema 2020-12) keywords with no 3.0 equivalent.
var unsupported = []string{"prefixItems", "if", "then", "else", "patternProperties",
	"unevaluatedProperties", "dependentRequired", "dependentSchemas", "$defs", "contentMediaType"}

func walk(v any, path string) error {
	switch x := v.(type) {
	case map[string]any:
		if err := schema(x, path); err != nil {
			return err
		}
		for k, c := range x {
			if err := walk(c, path+"/"+k); err != nil {
				return err
			}
		}
	case []any:
		for i, c := range x {
			if err := walk(c, fmt.Sprintf("%s/%d", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// schema rewrites one object in place when it looks like a schema.
func schema(m map[string]any, path string) error {
	if ts, ok := m["type"].([]any); ok {
		var types []string
		nullable := false
		for _, t := range ts {
			s, ok := t.(string)
			if !ok {
				return fmt.Errorf("%s: type list with a non-string %v", path, t)
			}
			if s == "null" {
				nullable = true
				continue
			}
			types = append(types, s)
		}
		switch len(types) {
		case 0:
			return fmt.Errorf("%s: a schema of type null only", path)
		case 1:
			m["type"] = types[0]
		default:
			delete(m, "type")
		}
		if nullable {
			m["nullable"] = true
		}
	}
	if c, ok := m["const"]; ok {
		delete(m, "const")
		m["enum"] = []any{c}
	}
	if en, ok := m["enum"].([]any); ok && m["type"] == nil && len(en) > 0 {
		if t := enumType(en); t != "" {
			m["type"] = t
		}
	}
	if ex, ok := m["examples"].([]any); ok && isSchema(m) {
		delete(m, "examples")
		if len(ex) > 0 {
			m["example"] = ex[0]
		}
	}
	for kw, bound := range map[string]string{"exclusiveMinimum": "minimum", "exclusiveMaximum": "maximum"} {
		if n, ok := m[kw].(float64); ok {
			m[bound] = n
			m[kw] = true
		}
	}
	if isSchema(m) {
		for _, kw := range unsupported {
			if _, ok := m[kw]; ok {
				return fmt.Errorf("%s: %q has no OpenAPI 3.0 equivalent", path, kw)
			}
		}
	}
	return nil
}

// enumType is the one JSON type of an enum's values ("string", "integer",
// "boolean"), or "" when they mix types.
func enumType(values []any) string {
	kind := func(v any) string {
		switch x := v.(type) {
		case string:
			return "string"
		case bool:
			return "boolean"
		case float64:
			if x == float64(int64(x)) {
				return "integer"
			}
			return "number"
		}
		return ""
	}
	t := kind(values[0])
	for _, v := range values[1:] {
		if kind(v) != t {
			return ""
		}
	}
	return t
}

// isSchema tells a schema object from an operation, a media type or a
// parameter, which carry "examples" maps of their own in 3.0 too.
func isSchema(m map[string]any) bool {
	for _, k := range []string{"type", "properties", "items", "allOf", "oneOf", "anyOf", "enum", "format", "$ref", "additionalProperties"} {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

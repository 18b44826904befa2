package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// TestGoClientInSync regenerates the Go client from the served document and
// fails when the committed clients/go differs: run `make clients`.
func TestGoClientInSync(t *testing.T) {
	out := t.TempDir()
	if err := run("../../internal/api/openapi.json", out); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(out, GoFile))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "go", GoFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("clients/go/%s is out of date with internal/api/openapi.json: run `make clients`", GoFile)
	}
}

func TestDownconvert(t *testing.T) {
	tests := []struct {
		name    string
		in, out string
		wantErr bool
	}{
		{"nullable", `{"openapi":"3.1.0","s":{"type":["string","null"]}}`, `{"openapi":"3.0.3","s":{"type":"string","nullable":true}}`, false},
		{"several types", `{"openapi":"3.1.0","s":{"type":["string","boolean","integer"]}}`, `{"openapi":"3.0.3","s":{}}`, false},
		{"const", `{"openapi":"3.1.0","s":{"type":"string","const":"v1"}}`, `{"openapi":"3.0.3","s":{"type":"string","enum":["v1"]}}`, false},
		{"examples", `{"openapi":"3.1.0","s":{"type":"integer","examples":[3,4]}}`, `{"openapi":"3.0.3","s":{"type":"integer","example":3}}`, false},
		{"exclusive bound", `{"openapi":"3.1.0","s":{"type":"integer","exclusiveMinimum":0}}`, `{"openapi":"3.0.3","s":{"type":"integer","minimum":0,"exclusiveMinimum":true}}`, false},
		{"untyped enum", `{"openapi":"3.1.0","s":{"enum":["a","b"]}}`, `{"openapi":"3.0.3","s":{"type":"string","enum":["a","b"]}}`, false},
		{"mixed enum", `{"openapi":"3.1.0","s":{"enum":["a",1]}}`, `{"openapi":"3.0.3","s":{"enum":["a",1]}}`, false},
		{"only null", `{"openapi":"3.1.0","s":{"type":["null"]}}`, "", true},
		{"prefixItems", `{"openapi":"3.1.0","s":{"type":"array","prefixItems":[{"type":"string"}]}}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Downconvert([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.out), &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("got %s, want %s", got, tt.out)
			}
		})
	}
}

func TestSimplifyCollapsesErrors(t *testing.T) {
	doc := map[string]any{
		"components": map[string]any{"responses": map[string]any{
			"Error": map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}, "headers": map[string]any{"X-Request-Id": map[string]any{}}},
		}},
		"paths": map[string]any{"/x": map[string]any{"get": map[string]any{"responses": map[string]any{
			"200": map[string]any{"description": "ok", "headers": map[string]any{"X-Request-Id": map[string]any{}}},
			"404": map[string]any{"$ref": "#/components/responses/Error"},
			"413": map[string]any{"content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}},
		}}}},
	}
	if err := Simplify(doc); err != nil {
		t.Fatal(err)
	}
	resps := doc["paths"].(map[string]any)["/x"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)
	var codes []string
	for c := range resps {
		codes = append(codes, c)
	}
	if len(resps) != 3 || resps["404"] != nil || resps["413"] == nil || resps["default"] == nil {
		t.Fatalf("responses after Simplify: %v", codes)
	}
	if _, ok := resps["200"].(map[string]any)["headers"]; ok {
		t.Fatal("response headers kept")
	}
}

// TestTSClientInSync regenerates the TypeScript types with the pinned
// openapi-typescript (clients/ts/node_modules, from npm ci) and fails when
// the committed clients/ts/src/schema.d.ts differs: run `make clients`.
// Without node or node_modules it is skipped, except in CI
// (PARRAIN_TEST_POSTGRES_REQUIRED=1), where it fails.
func TestTSClientInSync(t *testing.T) {
	bin := filepath.Join("..", "ts", "node_modules", ".bin", "openapi-typescript")
	if _, err := exec.LookPath("node"); err != nil {
		skipOrFail(t, "node is not installed")
	}
	if _, err := os.Stat(bin); err != nil {
		skipOrFail(t, "clients/ts/node_modules is missing (run: npm ci --prefix clients/ts)")
	}
	out := filepath.Join(t.TempDir(), "schema.d.ts")
	cmd := exec.Command(bin, "../../internal/api/openapi.json", "--default-non-nullable", "false", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openapi-typescript: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "ts", "src", "schema.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("clients/ts/src/schema.d.ts is out of date with internal/api/openapi.json: run `make clients`")
	}
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("PARRAIN_TEST_POSTGRES_REQUIRED") == "1" {
		t.Fatal("TypeScript client sync check: " + why)
	}
	t.Skip("SKIPPING the TypeScript client sync check: " + why)
}

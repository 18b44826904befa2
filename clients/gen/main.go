// Command gen regenerates the Go client in clients/go from the served
// OpenAPI 3.1 document (internal/api/openapi.json) with the oapi-codegen
// pinned in go.mod's tool block.
//
// oapi-codegen reads OpenAPI 3.0, so the document is first down-converted to
// a 3.0-compatible copy in memory (Downconvert); the served document is left
// as it is. Run it from the repository root: `go run ./clients/gen` (or
// `make clients`). With -out DIR it writes the generated file into DIR
// instead of clients/go, which the sync test uses.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

func main() {
	spec := flag.String("spec", "internal/api/openapi.json", "the OpenAPI 3.1 document")
	out := flag.String("out", "clients/go", "directory to write "+GoFile+" into")
	flag.Parse()
	if err := run(*spec, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// GoFile is the name of the generated Go client file.
const GoFile = "parrainclient.gen.go"

// Config is oapi-codegen's configuration: types and the client only, in
// package parrainclient.
const Config = `package: parrainclient
generate:
  models: true
  client: true
output-options:
  skip-response-body-getters: true
  skip-client-response-content-type: true
`

func run(spec, out string) error {
	src, err := os.ReadFile(spec)
	if err != nil {
		return fmt.Errorf("reading the document: %w", err)
	}
	doc, err := Downconvert(src)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "parrain-clients-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	specPath := filepath.Join(tmp, "openapi30.json")
	cfgPath := filepath.Join(tmp, "oapi-codegen.yaml")
	if err := os.WriteFile(specPath, doc, 0o644); err != nil {
		return fmt.Errorf("writing the 3.0 copy: %w", err)
	}
	if err := os.WriteFile(cfgPath, []byte(Config), 0o644); err != nil {
		return fmt.Errorf("writing the config: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	outFile, err := filepath.Abs(filepath.Join(out, GoFile))
	if err != nil {
		return fmt.Errorf("output path: %w", err)
	}
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", cfgPath, "-o", outFile, specPath)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("oapi-codegen: %w", err)
	}
	return nil
}

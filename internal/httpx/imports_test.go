package httpx

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/parrainhq/parrain/"

// notHTTP are packages inside an HTTP package's folder that serve no HTTP:
// the language catalog is shared by the widget, the API and the emails.
var notHTTP = map[string]bool{module + "internal/widget/i18n": true}

// imports lists what the non-test Go files of the package in dir import.
func imports(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range af.Imports {
			p, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			out[p] = true
		}
	}
	return out
}

// The HTTP packages never import each other (what they share lives here,
// in the domain or in a package that is not HTTP), and this package
// imports only the domain, the standard library and x/time.
func TestImportRules(t *testing.T) {
	t.Parallel()
	http := []string{"api", "console", "portal", "widget"}
	for _, pkg := range http {
		for imp := range imports(t, filepath.Join("..", pkg)) {
			for _, other := range http {
				base := module + "internal/" + other
				if other != pkg && (imp == base || strings.HasPrefix(imp, base+"/")) && !notHTTP[imp] {
					t.Errorf("internal/%s imports %s: HTTP packages never import each other", pkg, imp)
				}
			}
			if imp == module+"internal/app" {
				t.Errorf("internal/%s imports the wiring", pkg)
			}
		}
	}
	for imp := range imports(t, ".") {
		allowed := imp == module+"internal/parrain" || imp == "golang.org/x/time/rate" || !strings.Contains(strings.Split(imp, "/")[0], ".")
		if !allowed {
			t.Errorf("internal/httpx imports %s: only the domain, the standard library and x/time are allowed", imp)
		}
	}
}

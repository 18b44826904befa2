package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The layering, written once (the README's code-layout section says the
// same in words):
//
//  1. The domain (internal/parrain) and the pure fraud scoring
//     (internal/fraud) import nothing of ours.
//  2. The store (internal/store) imports the domain and the sealing of
//     secrets at rest (internal/secretbox), and nothing else of ours;
//     internal/secretbox imports nothing of ours.
//  3. The HTTP packages (api, console, portal, widget) never import one
//     another, the wiring (app), or database/sql: they decode, call a use
//     case, encode.
//  4. The shared HTTP helpers (internal/httpx) import only the domain.
//  5. The job runner (internal/jobs) knows no feature: it imports only the
//     domain, the store and the metrics.
//  6. Use-case packages never import an HTTP package or the wiring.
//  7. Provider clients (internal/integration/<x>) import nothing of ours
//     outside their own folder.
//  8. Only cmd/ imports the wiring (internal/app).
//  9. The metrics (internal/metrics) import nothing of ours (Prometheus and
//     the standard library only); the domain and the store never import
//     them (rules 1 and 2): use cases, HTTP packages and the wiring count.
const module = "github.com/parrainhq/parrain/"

var (
	httpPkgs = []string{"internal/api", "internal/console", "internal/portal", "internal/widget"}
	pure     = []string{"internal/parrain", "internal/fraud"}
)

// rule returns why importing imp from pkg is forbidden, or "".
func rule(pkg, imp string) string {
	ours := strings.HasPrefix(imp, module)
	imp = strings.TrimPrefix(imp, module)
	isHTTP := func(p string) bool {
		for _, h := range httpPkgs {
			if p == h || strings.HasPrefix(p, h+"/") {
				return true
			}
		}
		return false
	}
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	switch {
	case slices.Contains(pure, pkg) && ours:
		return "the domain and fraud scoring import nothing of ours"
	case pkg == "internal/store" && ours && imp != "internal/parrain" && imp != "internal/secretbox":
		return "the store imports the domain and secretbox, nothing else of ours"
	case pkg == "internal/secretbox" && ours:
		return "secretbox imports nothing of ours"
	case isHTTP(pkg) && ours && isHTTP(imp) && !under(imp, pkg) && !under(pkg, imp):
		return "an HTTP package never imports another HTTP package"
	case isHTTP(pkg) && imp == "database/sql":
		return "HTTP packages call use cases, never SQL"
	case pkg == "internal/httpx" && ours && imp != "internal/parrain":
		return "httpx imports only the domain"
	case under(pkg, "internal/jobs") && ours && imp != "internal/parrain" && imp != "internal/store" && imp != "internal/metrics":
		return "the job runner knows no feature: services register their kinds in the wiring"
	case strings.HasPrefix(pkg, "internal/integration/") && ours:
		own := strings.Join(strings.SplitN(pkg, "/", 4)[:3], "/")
		if !under(imp, own) {
			return "provider clients import nothing of ours outside their folder"
		}
	case pkg == "internal/metrics" && ours:
		return "the metrics import nothing of ours"
	case ours && imp == "internal/app" && !strings.HasPrefix(pkg, "cmd/"):
		return "only cmd/ imports the wiring"
	case ours && !isHTTP(pkg) && pkg != "internal/app" && !strings.HasPrefix(pkg, "cmd/") && (isHTTP(imp) || imp == "internal/app"):
		return "use cases never import an HTTP package or the wiring"
	}
	return ""
}

// allowed lists imports the layering forbids that the code still has, each
// with the work that removes it. The test fails when one disappears, so the
// list can only shrink; it is empty, and a new entry needs a reason that
// survives review.
var allowed = map[string]string{}

func TestLayering(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]map[string]bool{} // package dir → imports
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if imports[rel] == nil {
			imports[rel] = map[string]bool{}
		}
		for _, s := range f.Imports {
			imports[rel][strings.Trim(s.Path.Value, `"`)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"internal/parrain", "internal/store", "internal/api", "internal/jobs"} {
		if imports[must] == nil {
			t.Fatalf("package %s not found: is the test reading the right tree (%s)?", must, root)
		}
	}
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	seen := map[string]bool{}
	for _, pkg := range pkgs {
		var imps []string
		for imp := range imports[pkg] {
			imps = append(imps, imp)
		}
		sort.Strings(imps)
		for _, imp := range imps {
			why := rule(pkg, imp)
			if why == "" {
				continue
			}
			edge := pkg + " → " + strings.TrimPrefix(imp, module)
			if _, ok := allowed[edge]; ok {
				seen[edge] = true
				continue
			}
			t.Errorf("forbidden import %s: %s", edge, why)
		}
	}
	for edge, work := range allowed {
		if !seen[edge] {
			t.Errorf("allowed import %s (%s) is gone: remove it from the allowed list", edge, work)
		}
	}
}

// TestRule pins the rules on examples, so that a broken rule cannot pass
// silently.
func TestRule(t *testing.T) {
	tests := []struct {
		pkg, imp string
		bad      bool
	}{
		{"internal/parrain", "context", false},
		{"internal/parrain", module + "internal/store", true},
		{"internal/fraud", module + "internal/parrain", true},
		{"internal/store", module + "internal/parrain", false},
		{"internal/store", module + "internal/fraud", true},
		{"internal/store", "database/sql", false},
		{"internal/api", module + "internal/widget", true},
		{"internal/console", module + "internal/api", true},
		{"internal/widget", module + "internal/i18n", false},
		{"internal/api", module + "internal/httpx", false},
		{"internal/api", "database/sql", true},
		{"internal/httpx", module + "internal/store", true},
		{"internal/jobs", module + "internal/store", false},
		{"internal/jobs", module + "internal/notify", true},
		{"internal/referral", module + "internal/api", true},
		{"internal/referral", module + "internal/store", false},
		{"internal/program", module + "internal/fraud", false},
		{"internal/integration/stripe", module + "internal/parrain", true},
		{"internal/integration/stripe/stripemock", module + "internal/integration/stripe", false},
		{"internal/payout", module + "internal/app", true},
		{"cmd/parrain", module + "internal/app", false},
		{"internal/app", module + "internal/api", false},
		{"internal/metrics", module + "internal/parrain", true},
		{"internal/metrics", "github.com/prometheus/client_golang/prometheus", false},
		{"internal/store", module + "internal/metrics", true},
		{"internal/parrain", module + "internal/metrics", true},
		{"internal/jobs", module + "internal/metrics", false},
		{"internal/referral", module + "internal/metrics", false},
	}
	for _, tt := range tests {
		if got := rule(tt.pkg, tt.imp) != ""; got != tt.bad {
			t.Errorf("rule(%s, %s) forbidden = %v, want %v", tt.pkg, tt.imp, got, tt.bad)
		}
	}
}

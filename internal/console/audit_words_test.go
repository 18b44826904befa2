package console

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEveryAuditActionHasWords reads the audit action constants of the
// packages that write audit entries (Audit… = "family.verb") and checks the
// audit page names each in plain words.
func TestEveryAuditActionHasWords(t *testing.T) {
	fset := token.NewFileSet()
	n := 0
	for _, dir := range []string{"../store", "../partner", "../referral", "../payout"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(node ast.Node) bool {
				vs, ok := node.(*ast.ValueSpec)
				if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Audit") {
					return true
				}
				lit, ok := vs.Values[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				action, _ := strconv.Unquote(lit.Value)
				n++
				if _, ok := actionWords[action]; !ok {
					t.Errorf("%s (%s, %s) has no words on the audit page", action, vs.Names[0].Name, name)
				}
				return true
			})
		}
	}
	if n < 50 {
		t.Errorf("found only %d audit actions", n)
	}
}

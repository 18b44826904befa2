package archtest

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The write rule, written once (the README's code-layout section says it
// in a sentence):
//
// An HTTP package (api, console, portal, widget) never writes through the
// store itself. Every change goes through a method of a use-case package
// (referral, partner, payout, program, notify, crm, outbound, …), which
// opens the transaction (store.InTx, store.Idempotent) and, for a change
// made by a person, an API key or the command line, writes the audit entry
// in it under the actor the context carries (docs/console.md, "Audit
// log", says what is audited and what deliberately is not). The HTTP
// packages may call the store's reads.
//
// The test type-checks the HTTP packages' non-test files and lists every
// method of *store.Store and *store.Tx they call. A method is a write when
// its name starts with a write verb (writeVerbs: Create, Insert, Upsert,
// Set, Update, Delete, Record, Mark, …) or is one of writeNames (Audit,
// InTx: a handler opening its own transaction is a use case in the wrong
// place). A write is refused unless allowedWrites lists it with its reason
// and the work that removes it; an allowed entry no longer called fails
// too, so the list can only shrink.

// writeVerbs are the first words of the names of the store's writes.
var writeVerbs = map[string]bool{
	"Accept": true, "Add": true, "Apply": true, "Approve": true, "Begin": true, "Cancel": true, "Claim": true,
	"Clear": true, "Complete": true, "Consume": true, "Create": true, "Decide": true, "Delete": true, "Disable": true,
	"Drop": true, "Emit": true, "Enable": true, "Enqueue": true, "Fail": true, "Finish": true, "Grant": true,
	"Import": true, "Insert": true, "Kick": true, "Link": true, "Lock": true, "Mark": true, "Move": true, "Purge": true,
	"Prune": true, "Reclaim": true, "Record": true, "Reject": true, "Release": true, "Remove": true, "Replace": true,
	"Replay": true, "Reset": true, "Resume": true, "Retry": true, "Revoke": true, "Rotate": true,
	"Save": true, "Schedule": true, "Set": true, "Settle": true, "Start": true, "Suspend": true, "Touch": true,
	"Unsubscribe": true, "Update": true, "Upsert": true, "Void": true,
}

// writeNames are writes the verb rule misses: those whose first word is
// also that of reads (AuditLog reads, Audit writes), the transactions, and
// reads that write on the side (SessionByToken notes when a session was
// last used).
var writeNames = map[string]bool{"Audit": true, "InTx": true, "RolledBack": true, "Exec": true,
	"SessionByToken": true}

// isWrite reports whether a store method name is a write.
func isWrite(name string) bool {
	if writeNames[name] {
		return true
	}
	end := 1
	for end < len(name) && !unicode.IsUpper(rune(name[end])) {
		end++
	}
	return writeVerbs[name[:end]]
}

// allowedWrites lists the store writes the HTTP packages still call
// ("package.Type.Method"), each with its reason and the work that
// removes it. The test fails when an entry is no longer called: remove it.
// A new entry needs a reason that survives review.
var allowedWrites = map[string]string{
	// The click writer.
	"widget.Store.InsertClicks": "the data plane: the redirect's background click writer batches clicks into one insert, off the request path; no use case, no audit (docs/console.md, \"What is not audited\")",
}

func TestHTTPWritesGoThroughUseCases(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, h := range httpPkgs {
		pkgs = append(pkgs, "./"+h+"/...")
	}
	calls := storeCalls(t, root, pkgs)
	if len(calls) == 0 {
		t.Fatal("no call of the store found in the HTTP packages: is the test reading the right tree?")
	}
	seen := map[string]bool{}
	var names []string
	for c := range calls {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		method := c[strings.LastIndex(c, ".")+1:]
		if !isWrite(method) {
			continue
		}
		if _, ok := allowedWrites[c]; ok {
			seen[c] = true
			continue
		}
		t.Errorf("%s writes through the store (at %s): call a use-case method that owns the transaction and the audit entry",
			c, strings.Join(calls[c], ", "))
	}
	for c, why := range allowedWrites {
		if !seen[c] {
			t.Errorf("allowed write %s (%s) is no longer called: remove it from allowedWrites", c, why)
		}
	}
}

// storeCalls type-checks the non-test files of the packages matched by
// patterns (their imports read from the compiler's export data, which
// `go list -export` builds or finds in the build cache) and returns every
// method of *store.Store and *store.Tx they call, as "pkg.Type.Method",
// with where.
func storeCalls(t *testing.T, root string, patterns []string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-export", "-deps", "-f",
		"{{.ImportPath}}\t{{.Export}}\t{{.Dir}}\t{{join .GoFiles \",\"}}\t{{.Standard}}"}, patterns...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	type pkg struct{ path, dir string }
	exports := map[string]string{}
	var ours []pkg
	files := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 5 {
			t.Fatalf("go list: unexpected line %q", sc.Text())
		}
		exports[f[0]] = f[1]
		rel := strings.TrimPrefix(f[0], module)
		for _, h := range httpPkgs {
			if rel == h || strings.HasPrefix(rel, h+"/") {
				ours = append(ours, pkg{path: f[0], dir: f[2]})
				if f[3] != "" {
					files[f[0]] = strings.Split(f[3], ",")
				}
			}
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if exports[path] == "" {
			return nil, os.ErrNotExist
		}
		return os.Open(exports[path])
	})
	calls := map[string][]string{}
	for _, p := range ours {
		var parsed []*ast.File
		for _, name := range files[p.path] {
			f, err := parser.ParseFile(fset, filepath.Join(p.dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			parsed = append(parsed, f)
		}
		info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}, Uses: map[*ast.Ident]types.Object{}}
		conf := types.Config{Importer: imp}
		if _, err := conf.Check(p.path, fset, parsed, info); err != nil {
			t.Fatalf("type-checking %s: %v", p.path, err)
		}
		short := p.path[strings.LastIndex(p.path, "/")+1:]
		for sel, s := range info.Selections {
			fn, ok := s.Obj().(*types.Func)
			if !ok || s.Kind() == types.FieldVal {
				continue
			}
			recv := fn.Type().(*types.Signature).Recv()
			if recv == nil {
				continue
			}
			rt := recv.Type()
			if ptr, ok := rt.(*types.Pointer); ok {
				rt = ptr.Elem()
			}
			named, ok := rt.(*types.Named)
			if !ok || named.Obj().Pkg() == nil || named.Obj().Pkg().Path() != module+"internal/store" {
				continue
			}
			if n := named.Obj().Name(); n != "Store" && n != "Tx" {
				continue
			}
			pos := fset.Position(sel.Sel.Pos())
			rel, _ := filepath.Rel(root, pos.Filename)
			key := short + "." + named.Obj().Name() + "." + fn.Name()
			calls[key] = append(calls[key], filepath.ToSlash(rel)+":"+strconv.Itoa(pos.Line))
		}
	}
	for _, v := range calls {
		sort.Strings(v)
	}
	return calls
}

// TestIsWrite pins the verb rule on examples, so that a broken rule cannot
// pass silently.
func TestIsWrite(t *testing.T) {
	for name, want := range map[string]bool{
		"UpsertParticipant": true, "ResolveCode": false, "SetExperience": true, "InsertClicks": true, "Audit": true, "InTx": true,
		"Unsubscribe": true, "MarkNotificationsRead": true, "ConsumePartnerMagicLink": true,
		"AuditLog": false, "Participant": false, "Settings": false, "Unsubscribed": false, "Experience": false,
		"RecentClicks": false, "Program": false, "Clock": false, "Setup": false,
	} {
		if got := isWrite(name); got != want {
			t.Errorf("isWrite(%s) = %v, want %v", name, got, want)
		}
	}
}

package store_test

import (
	"context"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/storetest"
)

// TestDataMapCoversSchema fails when a migration adds a table or a column
// the data map (store.DataMap, shown in docs/privacy.md) does not classify,
// or when the map names one the schema no longer has.
func TestDataMapCoversSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) {
		live, err := e.St.SchemaColumns(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(live) < 60 {
			t.Fatalf("only %d tables in the live schema: the schema query is wrong", len(live))
		}
		var problems []string
		for table, cols := range live {
			m, ok := store.DataMapTable(table)
			if !ok {
				problems = append(problems, "table "+table+" is not in the data map")
				continue
			}
			classes := m.Columns()
			for _, c := range cols {
				if _, ok := classes[c]; !ok {
					problems = append(problems, "column "+table+"."+c+" is not classified")
				}
			}
			for c := range classes {
				if !slices.Contains(cols, c) {
					problems = append(problems, "the map classifies "+table+"."+c+", which the schema does not have")
				}
			}
		}
		for _, m := range store.DataMap {
			if _, ok := live[m.Table]; !ok {
				problems = append(problems, "the map lists table "+m.Table+", which the schema does not have")
			}
		}
		sort.Strings(problems)
		if len(problems) > 0 {
			t.Errorf("the data map (internal/store/datamap.go, then docs/privacy.md) is stale:\n%s", strings.Join(problems, "\n"))
		}
	})
}

// TestDataMapIsWellFormed: every column in one class only, every table
// once, and every table says what export and erasure do.
func TestDataMapIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range store.DataMap {
		if seen[m.Table] {
			t.Errorf("table %s listed twice", m.Table)
		}
		seen[m.Table] = true
		n := 0
		for _, l := range []string{m.Personal, m.Text, m.Hashed, m.ID, m.Staff, m.None} {
			n += len(strings.Fields(l))
		}
		if n != len(m.Columns()) {
			t.Errorf("%s: a column is listed in two classes", m.Table)
		}
		if m.Purpose == "" || m.Retention == "" || m.Export == "" || m.Erasure == "" {
			t.Errorf("%s: purpose, retention, export and erasure must all be stated", m.Table)
		}
		if m.Of != "" && !strings.Contains(m.Of, ":p") && !strings.Contains(m.Of, ":email") && !strings.Contains(m.Of, ":partner") {
			t.Errorf("%s: Of %q names no person", m.Table, m.Of)
		}
	}
}

// TestDataMapDoc keeps docs/privacy.md's data map equal to the Go map:
// PARRAIN_UPDATE_DOCS=1 rewrites it.
func TestDataMapDoc(t *testing.T) {
	const path = "../../docs/privacy.md"
	const begin, end = "<!-- data-map:begin (generated from internal/store/datamap.go) -->\n", "<!-- data-map:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the data-map markers", path)
	}
	want := store.DataMapMarkdown()
	if got := doc[i+len(begin) : j]; got != want {
		if os.Getenv("PARRAIN_UPDATE_DOCS") == "1" {
			if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("docs/privacy.md's data map differs from internal/store/datamap.go; run PARRAIN_UPDATE_DOCS=1 go test ./internal/store -run TestDataMapDoc")
	}
}

package fraud

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestDocsListEverySignal keeps docs/fraud.md in step with the catalogue:
// every code must appear in the signal table with its current weight.
func TestDocsListEverySignal(t *testing.T) {
	raw, err := os.ReadFile("../../docs/fraud.md")
	if os.IsNotExist(err) {
		t.Skip("docs/fraud.md not present")
	}
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	for _, s := range Catalogue() {
		row := fmt.Sprintf("| `%s` | %s | %.2f |", s.Code, s.Category, s.Weight)
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, row) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("docs/fraud.md has no table row starting %q", row)
		}
	}
	p := DefaultPolicy()
	if want := fmt.Sprintf("| %d / %d / %d |", p.FlagAt, p.HoldAt, p.RejectAt); !strings.Contains(string(raw), want) {
		t.Errorf("docs/fraud.md does not state the default thresholds %q", want)
	}
}

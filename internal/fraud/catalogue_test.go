package fraud

import (
	"strings"
	"testing"
)

func TestCatalogue(t *testing.T) {
	cat := Catalogue()
	if len(cat) == 0 {
		t.Fatal("empty catalogue")
	}
	seen := map[Code]bool{}
	for i, s := range cat {
		prefix, _, ok := strings.Cut(string(s.Code), ".")
		if !ok || prefix != string(s.Category) && !strings.HasPrefix(string(s.Category), prefix) {
			t.Errorf("%d: code %q in category %q", i, s.Code, s.Category)
		}
		if seen[s.Code] {
			t.Errorf("%q listed twice", s.Code)
		}
		seen[s.Code] = true
		if s.Weight <= 0 || s.Weight >= 1 || s.Category == "" {
			t.Errorf("%q: weight %v outside (0, 1) or no category %q", s.Code, s.Weight, s.Category)
		}
		if !strings.HasSuffix(s.Summary, ".") || s.Summary[:1] != strings.ToUpper(s.Summary[:1]) {
			t.Errorf("%q: summary %q is not a sentence", s.Code, s.Summary)
		}
		info, ok := Info(s.Code)
		if !ok || info != s {
			t.Errorf("Info(%q) = %+v, %v; want %+v", s.Code, info, ok, s)
		}
		if w := weightOf(s.Code); w != s.Weight {
			t.Errorf("weightOf(%q) = %v, want %v", s.Code, w, s.Weight)
		}
		if sig := newSignal(s.Code, "because"); sig != (Signal{Code: s.Code, Weight: s.Weight, Reason: "because"}) {
			t.Errorf("newSignal(%q) = %+v", s.Code, sig)
		}
	}
	for _, c := range []Code{"", "self", "self.nope", "SELF.SAME_EMAIL"} {
		if info, ok := Info(c); ok || info != (SignalInfo{}) {
			t.Errorf("Info(%q) = %+v, %v; want nothing", c, info, ok)
		}
	}
	if info, ok := Info(SelfSameAccount); !ok || info.Weight != 0.99 || info.Category != CategorySelf {
		t.Errorf("Info(SelfSameAccount) = %+v, %v", info, ok)
	}
	// Catalogue hands out a copy: changing it changes nothing.
	cat[0].Weight = 7
	if Catalogue()[0].Weight == 7 {
		t.Error("Catalogue shares its backing array")
	}
}

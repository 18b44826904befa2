package i18n

import (
	"regexp"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/parrainhq/parrain/internal/parrain"
)

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// Every language has exactly the keys of English, with the same
// placeholders, so that adding a language is adding one complete file.
func TestLanguagesComplete(t *testing.T) {
	c := Default()
	if got := c.Languages(); !slices.Contains(got, "en") || !slices.Contains(got, "fr") {
		t.Fatalf("languages = %v", got)
	}
	en := c.Keys("en")
	for _, lang := range c.Languages() {
		keys := c.Keys(lang)
		if !slices.Equal(keys, en) {
			t.Errorf("%s.json keys differ from en.json:\nmissing %v\nextra %v", lang, diff(en, keys), diff(keys, en))
			continue
		}
		for _, k := range en {
			want := placeholder.FindAllString(c.langs["en"][k], -1)
			got := placeholder.FindAllString(c.langs[lang][k], -1)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(slices.Compact(want), slices.Compact(got)) {
				t.Errorf("%s %s: placeholders %v, English has %v", lang, k, got, want)
			}
			if c.langs[lang][k] == "" {
				t.Errorf("%s %s is empty", lang, k)
			}
		}
	}
}

func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func TestMatch(t *testing.T) {
	c := Default()
	tests := []struct {
		prefs []string
		want  string
	}{
		{[]string{"fr"}, "fr"},
		{[]string{"fr-CA"}, "fr"},
		{[]string{"FR_fr"}, "fr"},
		{[]string{"", "de-DE,fr;q=0.8,en;q=0.9"}, "en"},
		{[]string{"", "de-DE,fr;q=0.9,en;q=0.8"}, "fr"},
		{[]string{"de", "es"}, "en"},
		{[]string{"de", "fr-BE;q=0.5"}, "fr"},
		{[]string{"*"}, "en"},
		{[]string{"fr;q=0"}, "en"},
		{nil, "en"},
	}
	for _, tc := range tests {
		if got := c.Match(tc.prefs...); got != tc.want {
			t.Errorf("Match(%q) = %q, want %q", tc.prefs, got, tc.want)
		}
	}
}

func TestT(t *testing.T) {
	c := Default()
	if got := c.T("fr", "landing.title", "name", "Alice", "friend_offer", "10 %"); got != "Alice vous offre 10 %" {
		t.Errorf("fr = %q", got)
	}
	if got := c.T("de", "widget.copy"); got != "Copy" {
		t.Errorf("unknown language falls back to English: %q", got)
	}
	if got := c.T("fr", "no.such.key"); got != "no.such.key" {
		t.Errorf("unknown key = %q", got)
	}
	p := c.Prefix("fr", "widget.share.")
	if p["widget.share.email"] != "E-mail" || len(p) != 6 {
		t.Errorf("Prefix = %v", p)
	}
}

func TestMoneyAndOffers(t *testing.T) {
	c := Default()
	tests := []struct {
		lang     string
		amount   int64
		currency string
		want     string
	}{
		{"en", 1000, "EUR", "€10.00"},
		{"fr", 1000, "EUR", "10,00 €"},
		{"en", 123456789, "USD", "$1,234,567.89"},
		{"fr", 123456789, "EUR", "1 234 567,89 €"},
		{"en", 500, "JPY", "¥500"},
		{"en", 1250, "MXN", "12.50 MXN"},
		{"en", -250, "EUR", "-€2.50"},
	}
	for _, tc := range tests {
		if got := c.Money(tc.lang, tc.amount, tc.currency); got != tc.want {
			t.Errorf("Money(%s, %d, %s) = %q, want %q", tc.lang, tc.amount, tc.currency, got, tc.want)
		}
	}
	if got := c.Percent("fr", 1250); got != "12,5 %" {
		t.Errorf("Percent fr = %q", got)
	}
	offers := []struct {
		lang   string
		spec   parrain.RewardSpec
		friend bool
		want   string
	}{
		{"en", parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountPercent, PercentBps: 1000}, true, "10% off"},
		{"fr", parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 1000}, true, "10,00 € de réduction"},
		{"en", parrain.RewardSpec{Kind: parrain.KindCredit, Type: parrain.AmountFixed, Amount: 2000}, false, "€20.00 in credit"},
		{"en", parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2000}, false, "€20.00"},
		{"en", parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 500}, false, "5% of their purchases"},
		{"en", parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 500}, true, "5% cash back"},
		{"en", parrain.RewardSpec{Kind: parrain.KindCustom, Type: parrain.AmountFixed, Amount: 1, Description: "a free month"}, true, "a free month"},
	}
	for _, tc := range offers {
		if got := c.Offer(tc.lang, tc.spec, "EUR", tc.friend); got != tc.want {
			t.Errorf("Offer(%s, %+v) = %q, want %q", tc.lang, tc.spec, got, tc.want)
		}
	}
}

func TestLoadAddsALanguageFromOneFile(t *testing.T) {
	fsys := fstest.MapFS{
		"en.json": {Data: []byte(`{"widget.copy": "Copy", "widget.title": "Refer"}`)},
		"de.json": {Data: []byte(`{"widget.copy": "Kopieren"}`)},
	}
	c, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if c.Match("de-AT") != "de" || c.T("de", "widget.copy") != "Kopieren" || c.T("de", "widget.title") != "Refer" {
		t.Error("a new file is a new language, with English fallback")
	}
	if _, err := Load(fstest.MapFS{"fr.json": {Data: []byte(`{}`)}}); err == nil {
		t.Error("a catalog without en.json must fail")
	}
	if _, err := Load(fstest.MapFS{"en.json": {Data: []byte(`{`)}}); err == nil {
		t.Error("malformed JSON must fail")
	}
}

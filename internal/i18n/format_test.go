package i18n

import (
	"reflect"
	"testing"
	"testing/fstest"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Money groups thousands at every size, writes the currency's own digits,
// a symbol where one is known and the code otherwise.
func TestMoneyEdges(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		lang     string
		amount   int64
		currency string
		want     string
	}{
		{"en", 0, "EUR", "€0.00"},
		{"en", 1, "EUR", "€0.01"},
		{"en", 99, "USD", "$0.99"},
		{"en", 99999, "USD", "$999.99"},
		{"en", 100000, "USD", "$1,000.00"},
		{"en", 10000000, "GBP", "£100,000.00"},
		{"en", 100000000, "GBP", "£1,000,000.00"},
		{"fr", 100000, "EUR", "1 000,00 €"},
		{"fr", -100000, "EUR", "-1 000,00 €"},
		{"en", 1234567, "JPY", "¥1,234,567"}, // no minor digits
		{"fr", 1234567, "KRW", "1 234 567 ₩"},
		{"en", 1234, "KWD", "1.234 KWD"}, // three digits, no symbol known
		{"en", 1000, "CAD", "CA$10.00"},
		{"en", 1000, "BRL", "R$10.00"},
		{"fr", 1000, "CHF", "10,00 CHF"},
		{"en", 1000, "SEK", "kr10.00"},
		{"fr", 1050, "PLN", "10,50 zł"},
		{"de", 1000, "EUR", "€10.00"}, // no German catalog: English
	} {
		if got := c.Money(tc.lang, tc.amount, tc.currency); got != tc.want {
			t.Errorf("Money(%s, %d, %s) = %q, want %q", tc.lang, tc.amount, tc.currency, got, tc.want)
		}
	}
}

func TestPercentAndDate(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		lang string
		bps  int64
		want string
	}{
		{"en", 0, "0%"},
		{"en", 1000, "10%"},
		{"en", 1250, "12.5%"},
		{"en", 1234, "12.34%"},
		{"en", 5, "0.05%"},
		{"fr", 1000, "10 %"},
		{"fr", 1234, "12,34 %"},
		{"en", 10000, "100%"},
		{"en", -250, "-2.5%"},
	} {
		if got := c.Percent(tc.lang, tc.bps); got != tc.want {
			t.Errorf("Percent(%s, %d) = %q, want %q", tc.lang, tc.bps, got, tc.want)
		}
	}
	d := time.Date(2026, 3, 7, 23, 59, 0, 0, time.UTC)
	for lang, want := range map[string]string{"en": "Mar 7, 2026", "fr": "07/03/2026", "es": "Mar 7, 2026"} {
		if got := c.Date(lang, d); got != want {
			t.Errorf("Date(%s) = %q, want %q", lang, got, want)
		}
	}
}

// The advocate's offer says "first purchase" only for a percentage paid
// on the first purchase; other triggers and fixed amounts read as Offer.
func TestAdvocateOffer(t *testing.T) {
	c := Default()
	pct := func(k parrain.RewardKind, bps int64) parrain.RewardSpec {
		return parrain.RewardSpec{Kind: k, Type: parrain.AmountPercent, PercentBps: bps}
	}
	for _, tc := range []struct {
		lang    string
		spec    parrain.RewardSpec
		trigger parrain.Trigger
		want    string
	}{
		{"en", pct(parrain.KindCash, 1000), parrain.TriggerFirstPurchase, "10% of their first purchase"},
		{"en", pct(parrain.KindCredit, 500), parrain.TriggerFirstPurchase, "5% of their first purchase in credit"},
		{"en", pct(parrain.KindCoupon, 1500), parrain.TriggerFirstPurchase, "15% off, on their first purchase"},
		{"fr", pct(parrain.KindCash, 1000), parrain.TriggerFirstPurchase, "10 % de leur premier achat"},
		{"fr", pct(parrain.KindCoupon, 1250), parrain.TriggerFirstPurchase, "12,5 % de réduction, sur leur premier achat"},
		{"en", pct(parrain.KindCash, 1000), parrain.TriggerPurchase, "10% of their purchases"},
		{"en", pct(parrain.KindCredit, 1000), parrain.TriggerPurchase, "10% back in credit"},
		{"fr", pct(parrain.KindCredit, 1000), parrain.TriggerPurchase, "10 % remboursés en crédit"},
		{"en", parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2500}, parrain.TriggerFirstPurchase, "€25.00"},
		{"en", parrain.RewardSpec{Kind: parrain.KindCredit, Type: parrain.AmountFixed, Amount: 2500}, parrain.TriggerSignup, "€25.00 in credit"},
		{"en", parrain.RewardSpec{Kind: parrain.KindCustom, Type: parrain.AmountPercent, PercentBps: 1000, Description: "a mug"}, parrain.TriggerFirstPurchase, "a mug"},
		{"en", parrain.RewardSpec{Kind: parrain.KindCustom, Type: parrain.AmountFixed, Amount: 700}, parrain.TriggerSignup, "€7.00"},
	} {
		if got := c.AdvocateOffer(tc.lang, tc.spec, "EUR", tc.trigger); got != tc.want {
			t.Errorf("AdvocateOffer(%s, %+v, %s) = %q, want %q", tc.lang, tc.spec, tc.trigger, got, tc.want)
		}
	}
}

func TestParseAcceptLanguage(t *testing.T) {
	for _, tc := range []struct {
		h    string
		want []string
	}{
		{"fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", []string{"fr-CH", "fr", "en", "de"}},
		{"en;q=0.5, fr", []string{"fr", "en"}},
		{"de;q=0.8, es;q=0.8, fr;q=0.9", []string{"fr", "de", "es"}}, // stable among equals
		{"fr;q=0, en", []string{"en"}},
		{"fr;q=-1, en;q=abc", []string{"en"}}, // a bad q counts as 1
		{"  pt-BR  ", []string{"pt-BR"}},
		{",,, ,", []string{}},
		{"", []string{}},
		{"x-" + string(make([]byte, 40)), []string{}}, // over 35 characters
		{"en; q=0.3, fr ;q=0.4", []string{"fr", "en"}},
	} {
		got := ParseAcceptLanguage(tc.h)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseAcceptLanguage(%q) = %q, want %q", tc.h, got, tc.want)
		}
	}
}

// A catalog's lookups: Has with the fallback, Keys per language, the
// languages sorted and named in lower case, T's placeholders.
func TestCatalogLookups(t *testing.T) {
	c, err := Load(fstest.MapFS{
		"en.json":    {Data: []byte(`{"a": "A {x}", "b": "B", "w.one": "1", "w.two": "2"}`)},
		"FR.json":    {Data: []byte(`{"a": "Fa {x} {x}", "w.one": "un", "only.fr": "seul"}`)},
		"notes.txt":  {Data: []byte(`not a catalog`)},
		"pt-br.json": {Data: []byte(`{"b": "Bê"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Languages(); !reflect.DeepEqual(got, []string{"en", "fr", "pt-br"}) {
		t.Fatalf("languages %v", got)
	}
	if got := c.Keys("fr"); !reflect.DeepEqual(got, []string{"a", "only.fr", "w.one"}) {
		t.Errorf("keys fr %v", got)
	}
	if got := c.Keys("xx"); len(got) != 0 {
		t.Errorf("keys of an unknown language %v", got)
	}
	for _, tc := range []struct {
		lang, key string
		want      bool
	}{
		{"fr", "a", true}, {"fr", "b", true}, {"fr", "only.fr", true}, {"en", "only.fr", false}, {"xx", "b", true}, {"fr", "zzz", false},
	} {
		if got := c.Has(tc.lang, tc.key); got != tc.want {
			t.Errorf("Has(%s, %s) = %v", tc.lang, tc.key, got)
		}
	}
	for _, tc := range []struct {
		lang, key string
		args      []string
		want      string
	}{
		{"fr", "a", []string{"x", "1"}, "Fa 1 1"},
		{"en", "a", []string{"x", "<b>"}, "A <b>"}, // escaping is the template's
		{"en", "a", []string{"y", "1"}, "A {x}"},
		{"en", "a", []string{"x"}, "A {x}"}, // an odd argument is ignored
		{"pt-br", "b", nil, "Bê"},
		{"pt-br", "a", []string{"x", "2"}, "A 2"},
		{"en", "missing", []string{"x", "1"}, "missing"},
	} {
		if got := c.T(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("T(%s, %s, %q) = %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
	if got := c.Prefix("fr", "w."); !reflect.DeepEqual(got, map[string]string{"w.one": "un", "w.two": "2"}) {
		t.Errorf("prefix %v", got)
	}
	if got := c.Match("pt-BR"); got != "pt-br" {
		t.Errorf("Match(pt-BR) = %q", got)
	}
	if got := c.Match("pt"); got != "en" {
		t.Errorf("Match(pt) = %q: a region's catalog does not serve the bare language", got)
	}
}

// Package i18n holds every string advocates and friends see — the widget,
// the landing page, the unsubscribe page, the emails and the notification
// feed — one JSON file per language. Adding a language is adding one file
// (xx.json with the same keys as en.json; a test checks it).
//
// It imports only the standard library and the domain's money helpers.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

//go:embed *.json
var files embed.FS

// Fallback is the language used for missing keys and unknown languages.
const Fallback = "en"

// Catalog is the set of translations.
type Catalog struct {
	langs map[string]map[string]string
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// Default returns the catalog of the embedded files. It panics if they are
// malformed, which a test rules out.
func Default() *Catalog {
	defaultOnce.Do(func() { defaultCat, defaultErr = Load(files) })
	if defaultErr != nil {
		panic(defaultErr)
	}
	return defaultCat
}

// Load reads every "xx.json" file of fsys.
func Load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{langs: map[string]map[string]string{}}
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", e.Name(), err)
		}
		c.langs[strings.ToLower(name)] = m
	}
	if _, ok := c.langs[Fallback]; !ok {
		return nil, fmt.Errorf("i18n: no %s.json", Fallback)
	}
	return c, nil
}

// Languages returns the available languages, sorted.
func (c *Catalog) Languages() []string {
	out := make([]string, 0, len(c.langs))
	for l := range c.langs {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Keys returns the keys of a language, sorted.
func (c *Catalog) Keys(lang string) []string {
	out := make([]string, 0, len(c.langs[lang]))
	for k := range c.langs[lang] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Match returns the first available language among the preferences, each
// a language tag ("fr-CA") or a whole Accept-Language header; "" entries
// are skipped. It falls back to Fallback.
func (c *Catalog) Match(prefs ...string) string {
	for _, p := range prefs {
		for _, tag := range ParseAcceptLanguage(p) {
			tag = strings.ToLower(strings.ReplaceAll(tag, "_", "-"))
			if _, ok := c.langs[tag]; ok {
				return tag
			}
			if lang, _, ok := strings.Cut(tag, "-"); ok {
				if _, ok := c.langs[lang]; ok {
					return lang
				}
			}
		}
	}
	return Fallback
}

// ParseAcceptLanguage returns the tags of an Accept-Language header by
// decreasing quality ("fr-CH, fr;q=0.9, en;q=0.8" → fr-CH, fr, en). A plain
// tag parses to itself.
func ParseAcceptLanguage(h string) []string {
	type q struct {
		tag string
		q   float64
		i   int
	}
	var qs []q
	for i, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.TrimSpace(tag)
		if tag == "" || tag == "*" || len(tag) > 35 {
			continue
		}
		v := 1.0
		if p, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(p, 64); err == nil {
				v = f
			}
		}
		if v <= 0 {
			continue
		}
		qs = append(qs, q{tag, v, i})
	}
	sort.SliceStable(qs, func(a, b int) bool { return qs[a].q > qs[b].q })
	out := make([]string, len(qs))
	for i, v := range qs {
		out[i] = v.tag
	}
	return out
}

// T returns the string key in lang (falling back to Fallback, then to the
// key itself) with {name} placeholders replaced from args, given as pairs:
// T("fr", "landing.title", "name", "Alice", "friend_offer", "10 %").
func (c *Catalog) T(lang, key string, args ...string) string {
	s, ok := c.langs[lang][key]
	if !ok {
		if s, ok = c.langs[Fallback][key]; !ok {
			s = key
		}
	}
	if len(args) == 0 {
		return s
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+args[i]+"}", args[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// Has reports whether lang (or the fallback) defines key.
func (c *Catalog) Has(lang, key string) bool {
	if _, ok := c.langs[lang][key]; ok {
		return true
	}
	_, ok := c.langs[Fallback][key]
	return ok
}

// Prefix returns the strings of lang whose keys start with prefix, with
// fallbacks filled in (for the widget's script).
func (c *Catalog) Prefix(lang, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range c.langs[Fallback] {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	for k, v := range c.langs[lang] {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

// symbols are currency signs written before or after amounts per the
// language's money.format; other currencies are written with their code.
var symbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩", "BRL": "R$",
	"CAD": "CA$", "AUD": "A$", "CHF": "CHF", "SEK": "kr", "NOK": "kr", "DKK": "kr", "PLN": "zł"}

// Money formats an amount in minor units for lang: "€10.00" in English,
// "10,00 €" in French.
func (c *Catalog) Money(lang string, amount int64, currency string) string {
	s := parrain.FormatMinor(amount, currency)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	// Group thousands.
	group := c.T(lang, "money.group")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	num := b.String()
	if hasFrac {
		num += c.T(lang, "money.decimal") + frac
	}
	var out string
	if sym, ok := symbols[currency]; ok {
		out = c.T(lang, "money.format", "symbol", sym, "amount", num)
	} else {
		out = c.T(lang, "money.format_code", "code", currency, "amount", num)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// Percent formats basis points for lang: "12.5%" or "12,5 %".
func (c *Catalog) Percent(lang string, bps int64) string {
	n := strings.Replace(parrain.FormatBps(bps), ".", c.T(lang, "money.decimal"), 1)
	return c.T(lang, "percent.format", "n", n)
}

// Date formats a date for lang.
func (c *Catalog) Date(lang string, t time.Time) string {
	return t.Format(c.T(lang, "date.format"))
}

// AdvocateOffer describes the advocate's reward of a rule with trigger t:
// a percentage paid on the first purchase only says so ("10% of their
// first purchase"), unlike one paid on every purchase.
func (c *Catalog) AdvocateOffer(lang string, s parrain.RewardSpec, currency string, t parrain.Trigger) string {
	if s.Kind != parrain.KindCustom && s.Type == parrain.AmountPercent && t == parrain.TriggerFirstPurchase {
		return c.T(lang, "offer."+string(s.Kind)+".percent_first", "percent", c.Percent(lang, s.PercentBps))
	}
	return c.Offer(lang, s, currency, false)
}

// Offer describes a reward spec in lang: "10% off", "€20.00 in credit", or
// the custom description. friend selects the friend's wording of cash
// percentages.
func (c *Catalog) Offer(lang string, s parrain.RewardSpec, currency string, friend bool) string {
	if s.Kind == parrain.KindCustom {
		if s.Description != "" {
			return s.Description
		}
		return c.Money(lang, s.Amount, currency)
	}
	if s.Type == parrain.AmountPercent {
		key := "offer." + string(s.Kind) + ".percent"
		if friend && s.Kind == parrain.KindCash {
			key = "offer.cash.percent_friend"
		}
		return c.T(lang, key, "percent", c.Percent(lang, s.PercentBps))
	}
	return c.T(lang, "offer."+string(s.Kind)+".fixed", "amount", c.Money(lang, s.Amount, currency))
}

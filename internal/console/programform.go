package console

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
)

// The program form edits the core of a program: its settings and reward
// rules with a fixed or percentage reward for each side. Amounts are typed
// in major units ("20", "12.50") and converted exactly to minor units with
// the currency's digits; percentages are typed in percent ("10", "12.5")
// and stored in basis points.

const maxFormRules = 50

// sideForm is one side (advocate or friend) of a rule as typed.
type sideForm struct {
	Kind        string // "" or "none": this side gets nothing
	Type        string
	Amount      string
	Percent     string
	Max         string
	Description string
	// Variants are the personalised variants as JSON (docs/rewards.md).
	Variants string
}

func (s sideForm) none() bool { return s.Kind == "" || s.Kind == "none" }

// ruleForm is a rule row as typed.
type ruleForm struct {
	Index    int // position among the kept rules
	Orig     int // index of the row's inputs in the submitted form
	ID       string
	Trigger  string
	Advocate sideForm
	Friend   sideForm
	// Extras names engine settings of this rule the form does not edit
	// (tiers, stages, …).
	Extras []string
	// Keep marks a rule the form cannot edit (an engine trigger, kind or
	// setting it has no input for): it is shown in words and saved exactly
	// as stored, unless removed.
	Keep    bool
	Summary string
}

// programForm is the program form's state, typed values included, so that
// a form with errors comes back exactly as it was sent.
type programForm struct {
	ID               string
	Version          int
	Idem             string
	Name             string
	LandingURL       string
	Currency         string
	CookieWindowDays string
	AttributionModel string
	HoldDays         string
	// The activity requirement: off by default.
	ActivityRequired bool
	ActivityEvent    string
	ActivityMinDays  string
	Rules            []ruleForm
	Example          string // example purchase amount, major units
	Errors           map[string]string
	Preview          *preview
	Terms            template.HTML // the terms the program would have
}

// fieldName maps a domain error field ("rules[0].advocate.amount") to the
// form input it concerns ("rule.0.advocate.amount").
func fieldName(f string) string {
	if rest, ok := strings.CutPrefix(f, "rules["); ok {
		i, tail, _ := strings.Cut(rest, "]")
		// A variant's error is shown at the side's variants input.
		if v, _, ok := strings.Cut(tail, ".variants["); ok {
			tail = v + ".variants"
		}
		return "rule." + i + tail
	}
	return f
}

// parseDecimal converts a decimal string in major units to minor units
// exactly ("12.5" with 2 digits → 1250), refusing more decimals than the
// currency has. A comma is accepted as the decimal separator.
func parseDecimal(field, s string, digits int) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	if len(frac) > digits {
		if digits == 0 {
			return 0, parrain.Invalid(field, "must be a whole number in this currency")
		}
		return 0, parrain.Invalid(field, "must have at most %d decimals", digits)
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, parrain.Invalid(field, "must be a positive number like 12.50")
		}
	}
	frac += strings.Repeat("0", digits-len(frac))
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || v > parrain.MaxAmount {
		return 0, parrain.Invalid(field, "is too large")
	}
	return v, nil
}

// formatDecimal is parseDecimal's inverse, for filling the form.
func formatDecimal(v int64, digits int) string {
	if v == 0 {
		return ""
	}
	s := strconv.FormatInt(v, 10)
	if digits == 0 {
		return s
	}
	for len(s) <= digits {
		s = "0" + s
	}
	whole, frac := s[:len(s)-digits], strings.TrimRight(s[len(s)-digits:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// readProgramForm reads the posted form.
func readProgramForm(f url.Values) programForm {
	pf := programForm{
		ID: f.Get("id"), Idem: f.Get("idem"), Name: f.Get("name"), LandingURL: f.Get("landing_url"), Currency: f.Get("currency"),
		CookieWindowDays: f.Get("cookie_window_days"), AttributionModel: f.Get("attribution_model"), HoldDays: f.Get("hold_days"),
		Example: f.Get("example"), Errors: map[string]string{},
		ActivityRequired: f.Get("activity_required") != "", ActivityEvent: f.Get("activity_event_type"), ActivityMinDays: f.Get("activity_min_days"),
	}
	pf.Version, _ = strconv.Atoi(f.Get("version"))
	side := func(p string) sideForm {
		return sideForm{Kind: f.Get(p + ".kind"), Type: f.Get(p + ".type"), Amount: f.Get(p + ".amount"), Percent: f.Get(p + ".percent"),
			Max: f.Get(p + ".max"), Description: f.Get(p + ".description"), Variants: f.Get(p + ".variants")}
	}
	for i := range maxFormRules {
		p := fmt.Sprintf("rule.%d", i)
		if _, ok := f[p+".trigger"]; !ok && f.Get(p+".keep") == "" {
			continue
		}
		if f.Get(p+".remove") != "" {
			continue
		}
		rf := ruleForm{Orig: i, ID: strings.TrimSpace(f.Get(p + ".id")), Trigger: f.Get(p + ".trigger"), Advocate: side(p + ".advocate"),
			Friend: side(p + ".friend"), Keep: f.Get(p+".keep") != ""}
		if !rf.Keep && rf.Trigger == "" && rf.Advocate.none() && rf.Friend.none() {
			continue // the blank row left empty
		}
		pf.Rules = append(pf.Rules, rf)
	}
	pf.renumber()
	return pf
}

func (pf *programForm) renumber() {
	for i := range pf.Rules {
		pf.Rules[i].Index = i
	}
}

// withBlankRule adds an empty row so that a rule can be added without
// JavaScript.
func (pf programForm) withBlankRule() programForm {
	if len(pf.Rules) < maxFormRules {
		pf.Rules = append(append([]ruleForm{}, pf.Rules...), ruleForm{Trigger: "", Advocate: sideForm{Kind: "none", Type: "fixed"},
			Friend: sideForm{Kind: "none", Type: "fixed"}})
	}
	pf.renumber()
	return pf
}

// program builds the program the form describes on top of base (the stored
// program when editing, so that settings the form does not show are kept).
// Errors are returned with the form's field names.
func (pf *programForm) program(base parrain.Program) (parrain.Program, error) {
	p := base
	p.Name, p.LandingURL = pf.Name, strings.TrimSpace(pf.LandingURL)
	if base.ID == "" {
		p.Currency = pf.Currency
	}
	cur, err := parrain.NormalizeCurrency("currency", p.Currency)
	if err != nil {
		return p, err
	}
	digits, _ := parrain.CurrencyDigits(cur)
	atoi := func(field, s string) (int, error) {
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, nil
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			return 0, parrain.Invalid(field, "must be a whole number of days")
		}
		return v, nil
	}
	if p.CookieWindowDays, err = atoi("cookie_window_days", pf.CookieWindowDays); err != nil {
		return p, err
	}
	if p.HoldDays, err = atoi("hold_days", pf.HoldDays); err != nil {
		return p, err
	}
	p.AttributionModel = parrain.AttributionModel(pf.AttributionModel)
	p.Activity = nil
	if pf.ActivityRequired {
		minDays, err := atoi("activity.min_days", pf.ActivityMinDays)
		if err != nil {
			return p, err
		}
		p.Activity = &parrain.ActivityRequirement{Required: true, EventType: parrain.EventType(strings.TrimSpace(pf.ActivityEvent)), MinDays: minDays}
	}
	old := map[string]parrain.RewardRule{}
	for _, r := range base.Rules {
		old[r.ID] = r
	}
	p.Rules = []parrain.RewardRule{}
	for i, rf := range pf.Rules {
		f := fmt.Sprintf("rule.%d", i)
		if rf.Keep {
			r, ok := old[rf.ID]
			if !ok {
				return p, parrain.Invalid(f, "rule %q is not in the current version: reload the form", rf.ID)
			}
			p.Rules = append(p.Rules, r)
			continue
		}
		r := old[rf.ID] // keeps a rule's engine settings when editing
		r.ID, r.Trigger = rf.ID, parrain.Trigger(rf.Trigger)
		if r.Advocate, err = rf.Advocate.spec(f+".advocate", digits, r.Advocate); err != nil {
			return p, err
		}
		if r.Friend, err = rf.Friend.spec(f+".friend", digits, r.Friend); err != nil {
			return p, err
		}
		p.Rules = append(p.Rules, r)
	}
	return p, nil
}

func (s sideForm) spec(f string, digits int, base *parrain.RewardSpec) (*parrain.RewardSpec, error) {
	if s.Kind == "" || s.Kind == "none" {
		return nil, nil
	}
	sp := parrain.RewardSpec{}
	if base != nil {
		sp = *base
	}
	sp.Kind, sp.Type, sp.Description = parrain.RewardKind(s.Kind), parrain.AmountType(s.Type), strings.TrimSpace(s.Description)
	sp.Amount, sp.PercentBps, sp.MaxAmount, sp.Variants = 0, 0, 0, nil
	var err error
	if v := strings.TrimSpace(s.Variants); v != "" {
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sp.Variants); err != nil {
			return nil, parrain.Invalid(f+".variants", "must be a JSON list of variants such as [{\"when\": {\"advocate\": {\"attributes\": {\"vip\": [\"true\"]}}}, \"amount\": 2000}]: %v", err)
		}
	}
	switch sp.Type {
	case parrain.AmountFixed:
		if strings.TrimSpace(s.Amount) == "" {
			return nil, parrain.Invalid(f+".amount", "is required for a fixed reward")
		}
		if sp.Amount, err = parseDecimal(f+".amount", s.Amount, digits); err != nil {
			return nil, err
		}
	case parrain.AmountPercent:
		if strings.TrimSpace(s.Percent) == "" {
			return nil, parrain.Invalid(f+".percent", "is required for a percentage reward")
		}
		if sp.PercentBps, err = parseDecimal(f+".percent", s.Percent, 2); err != nil {
			return nil, err
		}
		if sp.MaxAmount, err = parseDecimal(f+".max", s.Max, digits); err != nil {
			return nil, err
		}
	}
	return &sp, nil
}

// formFromProgram fills the form from a stored program.
func formFromProgram(p parrain.Program) programForm {
	digits, _ := parrain.CurrencyDigits(p.Currency)
	pf := programForm{ID: p.ID, Version: p.Version, Name: p.Name, LandingURL: p.LandingURL, Currency: p.Currency,
		CookieWindowDays: strconv.Itoa(p.CookieWindowDays), AttributionModel: string(p.AttributionModel),
		HoldDays: strconv.Itoa(p.HoldDays), Errors: map[string]string{}}
	if a, on := p.ActivityRule(); on {
		pf.ActivityRequired, pf.ActivityEvent, pf.ActivityMinDays = true, string(a.EventType), strconv.Itoa(a.MinDays)
	}
	side := func(s *parrain.RewardSpec) sideForm {
		if s == nil {
			return sideForm{Kind: "none", Type: "fixed"}
		}
		sf := sideForm{Kind: string(s.Kind), Type: string(s.Type), Amount: formatDecimal(s.Amount, digits),
			Percent: formatDecimal(s.PercentBps, 2), Max: formatDecimal(s.MaxAmount, digits), Description: s.Description}
		if len(s.Variants) > 0 {
			js, _ := json.MarshalIndent(s.Variants, "", "  ")
			sf.Variants = string(js)
		}
		return sf
	}
	for _, r := range p.Rules {
		rf := ruleForm{ID: r.ID, Trigger: string(r.Trigger), Advocate: side(r.Advocate), Friend: side(r.Friend), Extras: ruleExtras(r)}
		rf.Keep = !formEditable(r)
		if rf.Keep {
			rf.Summary = strings.Join(ruleSentences(&parrain.Program{Currency: p.Currency, Rules: []parrain.RewardRule{r}}), " ")
		}
		pf.Rules = append(pf.Rules, rf)
	}
	pf.renumber()
	return pf
}

// formEditable reports whether the form has an input for everything the
// rule sets.
func formEditable(r parrain.RewardRule) bool {
	if len(ruleExtras(r)) > 0 || !slices.Contains(triggerChoices, string(r.Trigger)) {
		return false
	}
	for _, s := range []*parrain.RewardSpec{r.Advocate, r.Friend} {
		if s != nil && (!slices.Contains(kindChoices, string(s.Kind)) || !slices.Contains(typeChoices, string(s.Type))) {
			return false
		}
	}
	return true
}

// ruleExtras names a rule's settings that only the program document (JSON
// or `parrain program apply`) edits.
func ruleExtras(r parrain.RewardRule) []string {
	var out []string
	if r.Stage != "" {
		out = append(out, "stage "+r.Stage)
	}
	if r.Milestone != nil {
		out = append(out, "milestone")
	}
	for _, s := range []*parrain.RewardSpec{r.Advocate, r.Friend} {
		if s == nil {
			continue
		}
		if len(s.Tiers) > 0 {
			out = append(out, "tiers")
		}
		if len(s.PartnerRates) > 0 {
			out = append(out, "partner rates")
		}
		if s.Months > 0 || s.Payments > 0 || s.IntroPayments > 0 {
			out = append(out, "recurring commission")
		}
		if s.TrueUpMonths > 0 {
			out = append(out, "true-ups")
		}
		if s.Pool != "" {
			out = append(out, "pool "+s.Pool)
		}
	}
	return out
}

// ActivityEvents are the event types the activity requirement may count.
func (programForm) ActivityEvents() []string {
	return []string{"activity", "purchase", "custom", "milestone", "plan_upgrade", "nps", "rating", "stage"}
}

// Form choices.
var (
	triggerChoices = []string{string(parrain.TriggerSignup), string(parrain.TriggerFirstPurchase), string(parrain.TriggerPurchase)}
	kindChoices    = []string{"none", string(parrain.KindCash), string(parrain.KindCredit), string(parrain.KindCoupon), string(parrain.KindCustom)}
	typeChoices    = []string{string(parrain.AmountFixed), string(parrain.AmountPercent)}
)

// previewRow is one reward the rules would grant.
type previewRow struct {
	Occasion    string `json:"occasion"`
	Role        string `json:"role"`
	Kind        string `json:"kind"`
	Amount      string `json:"amount"`
	Explanation string `json:"explanation"`
}

// preview is what a program's rules grant on the example occasions.
type preview struct {
	Purchase string       `json:"purchase"` // the example purchase, formatted
	Rows     []previewRow `json:"rows"`
	Skips    []string     `json:"skips"`
}

// previewProgram evaluates the rules with the domain's own evaluation (the
// same code that computes real rewards) on a signup, a first purchase of
// the example amount and a repeat purchase.
func previewProgram(p *parrain.Program, example int64) *preview {
	pv := &preview{Purchase: money(example, p.Currency), Rows: []previewRow{}}
	occasions := []struct {
		name string
		o    parrain.Occasion
	}{
		{"Friend signs up", parrain.Occasion{Trigger: parrain.TriggerSignup}},
		{"Friend's first purchase of " + pv.Purchase, parrain.Occasion{Trigger: parrain.TriggerPurchase, FirstPurchase: true, Amount: example, Currency: p.Currency}},
		{"Friend's next purchase of " + pv.Purchase, parrain.Occasion{Trigger: parrain.TriggerPurchase, Amount: example, Currency: p.Currency}},
	}
	for _, oc := range occasions {
		drafts, skips := parrain.Evaluate(p, oc.o)
		for _, d := range drafts {
			amt := money(d.Amount, d.Currency)
			if d.Kind == parrain.KindCustom && d.Description != "" {
				amt += " (" + d.Description + ")"
			}
			pv.Rows = append(pv.Rows, previewRow{Occasion: oc.name, Role: string(d.Role), Kind: string(d.Kind), Amount: amt, Explanation: d.Explanation})
		}
		for _, s := range skips {
			pv.Skips = append(pv.Skips, fmt.Sprintf("%s: rule %s (%s) grants nothing: %s", oc.name, s.RuleID, s.Role, s.Reason))
		}
	}
	return pv
}

// ruleView is a rule row for the template: N is the index used in input
// names ("__i__" in the row template JavaScript clones).
type ruleView struct {
	N      string
	Num    int
	Rule   ruleForm
	Errors map[string]string
	New    bool
}

// Err returns the error of one of the rule's inputs ("trigger").
func (v ruleView) Err(field string) string { return v.Errors["rule."+v.N+"."+field] }

// Side returns the view of the advocate or friend side.
func (v ruleView) Side(role string) sideView {
	s := v.Rule.Advocate
	title := "Advocate (who shared the link)"
	if role == "friend" {
		s, title = v.Rule.Friend, "Friend (who was referred)"
	}
	if s.Kind == "" {
		s.Kind = "none"
	}
	if s.Type == "" {
		s.Type = "fixed"
	}
	return sideView{Name: "rule." + v.N + "." + role, ID: "rule-" + v.N + "-" + role, Title: title, S: s, errors: v.Errors}
}

// sideView is one side of a rule row.
type sideView struct {
	Name, ID, Title string
	S               sideForm
	errors          map[string]string
}

// Hide reports whether an input of the side does not apply to its reward
// kind and amount type ("type", "amount", "percent", "max",
// "description"); the form renders it hidden and the script keeps it so as
// the selects change.
func (v sideView) Hide(field string) bool {
	if v.S.Kind == "none" {
		return true
	}
	switch field {
	case "amount":
		return v.S.Type != string(parrain.AmountFixed)
	case "percent", "max":
		return v.S.Type != string(parrain.AmountPercent)
	case "description":
		return v.S.Kind != string(parrain.KindCustom)
	}
	return false
}

// Err returns the error of one of the side's inputs ("amount").
func (v sideView) Err(field string) string { return v.errors[v.Name+"."+field] }

// Kinds and the other choices for the selects.
func (sideView) Kinds() []string    { return kindChoices }
func (sideView) Types() []string    { return typeChoices }
func (ruleView) Triggers() []string { return triggerChoices }

// RuleViews returns the rows to show.
func (pf programForm) RuleViews() []ruleView {
	out := make([]ruleView, len(pf.Rules))
	for i, r := range pf.Rules {
		out[i] = ruleView{N: strconv.Itoa(i), Num: i + 1, Rule: r, Errors: pf.Errors, New: r.ID == "" && r.Trigger == ""}
	}
	return out
}

// TemplateRule is the blank row JavaScript clones for "Add a rule".
func (pf programForm) TemplateRule() ruleView {
	return ruleView{N: "__i__", Rule: ruleForm{Advocate: sideForm{Kind: "none", Type: "fixed"}, Friend: sideForm{Kind: "none", Type: "fixed"}},
		Errors: map[string]string{}, New: true}
}

// inputErrors re-keys errors by the submitted inputs' names: errors name
// rules by their position among the kept rules, the live check needs the
// row the browser shows.
func (pf programForm) inputErrors() map[string]string {
	out := map[string]string{}
	for k, v := range pf.Errors {
		if rest, ok := strings.CutPrefix(k, "rule."); ok {
			i, tail, _ := strings.Cut(rest, ".")
			if n, err := strconv.Atoi(i); err == nil && n >= 0 && n < len(pf.Rules) {
				k = "rule." + strconv.Itoa(pf.Rules[n].Orig)
				if tail != "" {
					k += "." + tail
				}
			}
		}
		out[k] = v
	}
	return out
}

package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// programsData is the program list.
type programsData struct {
	Programs []programSummary
}

type programSummary struct {
	parrain.Program
	Rules []string
}

// Programs serves GET /admin/programs.
func (c *Console) Programs(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	d := programsData{}
	for _, p := range all {
		d.Programs = append(d.Programs, programSummary{Program: p, Rules: ruleSentences(&p)})
	}
	c.render(w, r, http.StatusOK, "programs", view{Title: "Programs", Nav: "programs", Auth: a, Programs: all, Program: prog, Data: d})
}

// programData is a program's page.
type programData struct {
	Program      parrain.Program
	Rules        []string
	Terms        template.HTML
	TermsVersion int
	Branding     store.Branding
	Preview      *preview
}

// Program serves GET /admin/programs/{id}: settings, rules in words, a
// rewards preview, the terms preview and pause/resume.
func (c *Console) Program(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, _, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	p, err := c.st.Program(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	b, err := c.st.ProgramBranding(r.Context(), p.ID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	digits, _ := parrain.CurrencyDigits(p.Currency)
	example := int64(10000)
	for range 2 - digits {
		example /= 10
	}
	for range digits - 2 {
		example *= 10
	}
	terms, err := c.opt.Programs.CurrentTerms(r.Context(), p.ID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	d := programData{Program: p, Rules: ruleSentences(&p), Terms: termsHTML(terms.HTML), TermsVersion: terms.Version, Branding: b,
		Preview: previewProgram(&p, example)}
	c.render(w, r, http.StatusOK, "program", view{Title: p.Name, Nav: "programs", Auth: a, Programs: all, Program: &p, Data: d})
}

func newIdem() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewProgram serves GET /admin/programs/new.
func (c *Console) NewProgram(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	cur := "EUR"
	if prog != nil {
		cur = prog.Currency
	}
	pf := programForm{Idem: newIdem(), Currency: cur, CookieWindowDays: "30", HoldDays: "30", AttributionModel: string(parrain.LastClick),
		Example: "100", Errors: map[string]string{}}
	c.renderProgramForm(w, r, a, http.StatusOK, pf.withBlankRule())
}

type programFormView struct {
	programForm
	Triggers, Kinds, Types []string
	Currencies             []string
}

func (c *Console) renderProgramForm(w http.ResponseWriter, r *http.Request, a *Auth, status int, pf programForm) {
	all, cur, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	title := "New program"
	if pf.ID != "" {
		title = "Edit " + pf.Name
		// The picker shows the program being edited, not the last one
		// picked.
		cur = nil
		for i := range all {
			if all[i].ID == pf.ID {
				cur = &all[i]
			}
		}
	}
	c.render(w, r, status, "program_form", view{Title: title, Nav: "programs", Auth: a, Programs: all, Program: cur,
		Data: programFormView{programForm: pf, Triggers: triggerChoices, Kinds: kindChoices, Types: typeChoices, Currencies: commonCurrencies}})
}

// commonCurrencies are offered first in the currency list; any ISO 4217
// code can be typed.
var commonCurrencies = []string{"EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY", "SEK", "NOK", "DKK", "PLN", "BRL", "INR"}

// exampleAmount reads the preview's example purchase (default 100 in major
// units).
func exampleAmount(s, currency string) (int64, error) {
	digits, ok := parrain.CurrencyDigits(currency)
	if !ok {
		digits = 2
	}
	if strings.TrimSpace(s) == "" {
		s = "100"
	}
	v, err := parseDecimal("example", s, digits)
	if err == nil && v <= 0 {
		err = parrain.Invalid("example", "must be a positive amount")
	}
	return v, err
}

// checkProgramForm builds and validates the program a form describes,
// filling the form's errors (by input name) and preview.
func checkProgramForm(pf *programForm, base parrain.Program) (parrain.Program, bool) {
	pf.Errors = map[string]string{}
	p, err := pf.program(base)
	if err == nil {
		err = p.Normalize()
	}
	if err != nil {
		e := parrain.AsError(err)
		if e == nil {
			e = &parrain.Error{Field: "form", Message: err.Error()}
		}
		pf.Errors[errField(e)] = e.Message
		return p, false
	}
	ex, err := exampleAmount(pf.Example, p.Currency)
	if err != nil {
		pf.Errors["example"] = parrain.AsError(err).Message
		return p, true
	}
	pf.Preview = previewProgram(&p, ex)
	pf.Terms = previewTerms(&p)
	return p, true
}

// PreviewProgram serves POST /admin/programs/preview: the form's validation
// and rewards preview as JSON, for checking as you type.
func (c *Console) PreviewProgram(w http.ResponseWriter, r *http.Request, a *Auth) {
	pf := readProgramForm(r.PostForm)
	base := parrain.Program{}
	if pf.ID != "" {
		p, err := c.st.Program(r.Context(), pf.ID)
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
		base = p
	}
	checkProgramForm(&pf, base)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Errors  map[string]string `json:"errors"`
		Preview *preview          `json:"preview"`
	}{pf.inputErrors(), pf.Preview})
}

// formHash identifies a submitted form for idempotency: the same form
// posted twice (a double click, a retry) creates one program.
func formHash(r *http.Request) string {
	keys := make([]string, 0, len(r.PostForm))
	for k := range r.PostForm {
		if k != csrfField && k != "action" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%q\n", k, r.PostForm[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// CreateProgram handles POST /admin/programs. With action=preview it only
// validates and previews (the form works without JavaScript).
func (c *Console) CreateProgram(w http.ResponseWriter, r *http.Request, a *Auth) {
	pf := readProgramForm(r.PostForm)
	p, ok := checkProgramForm(&pf, parrain.Program{})
	if !ok || r.PostForm.Get("action") == "preview" || len(pf.Errors) > 0 {
		status := http.StatusOK
		if !ok || len(pf.Errors) > 0 {
			status = http.StatusBadRequest
		}
		c.renderProgramForm(w, r, a, status, pf.withBlankRule())
		return
	}
	if pf.Idem == "" || len(pf.Idem) > 64 {
		pf.Idem = newIdem()
	}
	created, _, err := c.opt.Programs.Create(r.Context(), p, store.Idem{Scope: "console:" + a.User.ID, Key: pf.Idem, Hash: formHash(r)})
	if err != nil {
		if e := parrain.AsError(err); e != nil && e.Code != parrain.CodeInternal {
			pf.Errors[errField(e)] = e.Message
			c.renderProgramForm(w, r, a, httpx.Status(e.Code), pf.withBlankRule())
			return
		}
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Program “"+created.Name+"” created.")
	redirect(w, r, "/admin/programs/"+url.PathEscape(created.ID)+"?program="+url.QueryEscape(created.ID))
}

// errField is the form input a domain error concerns ("form" when none).
func errField(e *parrain.Error) string {
	if e.Field == "" {
		return "form"
	}
	return fieldName(e.Field)
}

// SetProgramStatus handles POST /admin/programs/{id}/status: pause or
// resume.
func (c *Console) SetProgramStatus(w http.ResponseWriter, r *http.Request, a *Auth) {
	st := parrain.ProgramStatus(r.PostForm.Get("status"))
	p, err := c.opt.Programs.SetStatus(r.Context(), r.PathValue("id"), st)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	msg := "resumed: links credit advocates again."
	if st == parrain.ProgramPaused {
		msg = "paused: links still land, but nobody is credited."
	}
	c.setFlash(w, r, "ok", "“"+p.Name+"” "+msg)
	redirect(w, r, "/admin/programs/"+url.PathEscape(p.ID)+"?program="+url.QueryEscape(p.ID))
}

// ruleSentences describes a program's rules in plain words.
func ruleSentences(p *parrain.Program) []string {
	var out []string
	for _, r := range p.Rules {
		var when string
		switch r.Trigger {
		case parrain.TriggerSignup:
			when = "When a referred friend signs up"
		case parrain.TriggerFirstPurchase:
			when = "On a referred friend's first purchase"
		case parrain.TriggerPurchase:
			when = "On every purchase of a referred friend"
		default:
			when = "On " + label(r.Trigger)
			if r.Stage != "" {
				when += " “" + r.Stage + "”"
			}
		}
		var parts []string
		if r.Advocate != nil {
			parts = append(parts, "the advocate earns "+specWords(r.Advocate, p.Currency))
		}
		if r.Friend != nil {
			parts = append(parts, "the friend gets "+specWords(r.Friend, p.Currency))
		}
		s := when + ", " + strings.Join(parts, " and ") + "."
		if x := ruleExtras(r); len(x) > 0 {
			s += " (Also: " + strings.Join(x, ", ") + ".)"
		}
		out = append(out, s)
	}
	return out
}

func specWords(s *parrain.RewardSpec, currency string) string {
	var amount string
	switch s.Type {
	case parrain.AmountFixed:
		amount = money(s.Amount, currency)
	case parrain.AmountPercent:
		amount = parrain.FormatBps(s.PercentBps) + " % of the purchase"
		if s.MaxAmount > 0 {
			amount += " (at most " + money(s.MaxAmount, currency) + ")"
		}
	default:
		amount = label(s.Type)
	}
	switch s.Kind {
	case parrain.KindCash:
		return amount + " in cash"
	case parrain.KindCredit:
		return amount + " of account credit"
	case parrain.KindCoupon:
		return "a coupon worth " + amount
	case parrain.KindCustom:
		if s.Description != "" {
			return s.Description + " (valued " + amount + ")"
		}
	}
	return amount + " (" + label(s.Kind) + ")"
}

// termsHTML places the terms' HTML (escaped by the renderer) under the
// page's own headings.
func termsHTML(h string) template.HTML {
	h = strings.NewReplacer("<h1>", "<h3>", "</h1>", "</h3>", "<h2>", "<h4>", "</h2>", "</h4>").Replace(h)
	return template.HTML(h) //nolint:gosec // parrain.MarkdownHTML escapes all text
}

// previewTerms renders the terms a program being edited would have.
func previewTerms(p *parrain.Program) template.HTML {
	return termsHTML(parrain.MarkdownHTML(parrain.RenderTerms(parrain.TermsInput{Program: p})))
}

// EditProgram serves GET /admin/programs/{id}/edit.
func (c *Console) EditProgram(w http.ResponseWriter, r *http.Request, a *Auth) {
	p, err := c.st.Program(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	pf := formFromProgram(p)
	pf.Idem, pf.Example = newIdem(), "100"
	checkProgramForm(&pf, p)
	c.renderProgramForm(w, r, a, http.StatusOK, pf.withBlankRule())
}

// UpdateProgram handles POST /admin/programs/{id}: saves the form as a new
// version of the program (rewards already made keep the version that made
// them). The version the form was loaded from must still be current.
func (c *Console) UpdateProgram(w http.ResponseWriter, r *http.Request, a *Auth) {
	cur, err := c.st.Program(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	pf := readProgramForm(r.PostForm)
	pf.ID, pf.Currency = cur.ID, cur.Currency
	p, ok := checkProgramForm(&pf, cur)
	if !ok || r.PostForm.Get("action") == "preview" || len(pf.Errors) > 0 {
		status := http.StatusOK
		if !ok || len(pf.Errors) > 0 {
			status = http.StatusBadRequest
		}
		c.renderProgramForm(w, r, a, status, pf.withBlankRule())
		return
	}
	p.Version = pf.Version
	if pf.Idem == "" || len(pf.Idem) > 64 {
		pf.Idem = newIdem()
	}
	saved, _, err := c.opt.Programs.Update(r.Context(), cur.ID, p, store.Idem{Scope: "console:" + a.User.ID, Key: pf.Idem, Hash: formHash(r)})
	if err != nil {
		if e := parrain.AsError(err); e != nil && e.Code != parrain.CodeInternal {
			pf.Errors[errField(e)] = e.Message
			if e.Field == "version" {
				pf.Errors["form"] = e.Message
			}
			c.renderProgramForm(w, r, a, httpx.Status(e.Code), pf.withBlankRule())
			return
		}
		c.fail(w, r, a, err)
		return
	}
	msg := "No change: “" + saved.Name + "” is still at version " + strconv.Itoa(saved.Version) + "."
	if saved.Version != cur.Version {
		msg = "Saved “" + saved.Name + "” as version " + strconv.Itoa(saved.Version) + "."
	}
	c.setFlash(w, r, "ok", msg)
	redirect(w, r, "/admin/programs/"+url.PathEscape(saved.ID)+"?program="+url.QueryEscape(saved.ID))
}

// Package portal serves the partner portal under /partners/{slug}/: a
// partner's own sign-in (magic link by email, or password), their
// dashboard (deals and stages, commissions, tier and what the next tier
// needs, conversion this quarter, onboarding checklist), lead registration
// with instant conflict feedback, the asset library, the agreement and the
// periodic survey — in the program's branding. Pages are server-rendered
// html/template, embedded; writes need the session's CSRF token and pass
// the cross-origin check. A partner sees only their own data.
//
// It imports the domain and the store; routes are registered in
// internal/app/routes.go.
package portal

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/i18n"
	"github.com/parrainhq/parrain/internal/integration/smtp"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

//go:embed templates/*.html static/*
var files embed.FS

// Sender sends an email; *smtp.Mailer is the production one.
type Sender interface {
	Send(ctx context.Context, msg smtp.Message) error
}

// Options configure the portal.
type Options struct {
	BaseURL string
	// Mailer sends magic links; when nil they are written to the server
	// log (development).
	Mailer Sender
	// Partners runs the partner program's use cases (default: one on the
	// portal's store).
	Partners *partner.Service
	// Programs records the acceptance of a program's terms (default: one
	// on the portal's store).
	Programs *program.Service
	// Payouts runs the payout use cases (default: one on the portal's
	// store, without provider clients: the portal does not send).
	Payouts *payout.Service
	// Access runs the sign-in, magic links, sessions and passwords
	// (default: one on the portal's store sending with Mailer).
	Access *access.Service
	// IPs finds client addresses (sign-in throttles), honouring
	// --trust-proxy.
	IPs httpx.IPResolver
	// SignInRate and SignInBurst limit sign-in and magic-link requests per
	// client IP (default one every 3 s, burst 10).
	SignInRate  time.Duration
	SignInBurst int
}

// Portal serves the partner portal.
type Portal struct {
	st       *store.Store
	access   *access.Service
	byIP     *httpx.Limiter
	partners *partner.Service
	payouts  *payout.Service
	log      *slog.Logger
	opt      Options
	secure   bool
	pages    map[string]*template.Template
	cop      *http.CrossOriginProtection
}

const cookieName = "parrain_partner"

// New parses the templates and returns the portal.
func New(st *store.Store, log *slog.Logger, opt Options) (*Portal, error) {
	if opt.Partners == nil {
		opt.Partners = partner.New(st, st.Clock(), referral.New(st))
	}
	if opt.Programs == nil {
		opt.Programs = program.New(st)
	}
	if opt.Payouts == nil {
		opt.Payouts = payout.New(st, log, payout.Config{})
	}
	if opt.Access == nil {
		opt.Access = access.New(st, log, access.Config{Mailer: opt.Mailer})
	}
	if opt.SignInRate <= 0 {
		opt.SignInRate = 3 * time.Second
	}
	if opt.SignInBurst <= 0 {
		opt.SignInBurst = 10
	}
	p := &Portal{st: st, access: opt.Access, byIP: httpx.NewLimiter(rate.Every(opt.SignInRate), opt.SignInBurst), partners: opt.Partners, payouts: opt.Payouts, log: log, opt: opt, secure: strings.HasPrefix(opt.BaseURL, "https://"), pages: map[string]*template.Template{},
		cop: http.NewCrossOriginProtection()}
	funcs := template.FuncMap{
		"money": func(v int64, cur string) string { return i18n.Default().Money(i18n.Fallback, v, cur) }, // "$20,000.00"
		"day":   func(t time.Time) string { return parrain.Day(t) },
		"pct":   func(bps int64) string { return parrain.FormatBps(bps) + "%" },
		"stageLabel": func(pp store.PartnerProgram, name string) string {
			if s, ok := pp.Stage(name); ok {
				return s.Label
			}
			return name
		},
		"tierName": func(pp store.PartnerProgram, key string) string {
			if t, ok := pp.Tier(key); ok {
				return t.Name
			}
			return key
		},
	}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", n, err)
		}
		p.pages[base] = t
	}
	return p, nil
}

// page is what every template gets.
type page struct {
	PP      store.PartnerProgram
	Partner *parrain.Partner
	CSRF    string
	Flash   string
	Error   string
	Title   string
	Data    any
}

func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, name string, pg page) {
	t, ok := p.pages[name]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	if pg.Flash == "" {
		pg.Flash = r.URL.Query().Get("flash")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: http: data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout.html", pg); err != nil {
		p.log.ErrorContext(r.Context(), "rendering portal page", "page", name, "err", err)
	}
}

// fail answers an error as plain text with the status of its code: a
// domain error's message, or a generic one for internal errors (logged).
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := httpx.Public(p.log, r, err)
	http.Error(w, e.Message, httpx.Status(e.Code))
}

// Static serves the portal's stylesheet and script.
func (p *Portal) Static() http.Handler {
	sub, _ := fs.Sub(files, "static")
	fsrv := http.StripPrefix("/partner-static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// program loads the partner program named by the URL's slug.
func (p *Portal) program(r *http.Request) (store.PartnerProgram, error) {
	return p.st.PartnerProgramBySlug(r.Context(), r.PathValue("slug"))
}

// Public wraps a visitor page (apply, sign-in): the program must exist and
// writes pass the cross-origin check.
func (p *Portal) Public(h func(http.ResponseWriter, *http.Request, store.PartnerProgram)) http.Handler {
	return p.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pp, err := p.program(r)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		h(w, r, pp)
	}))
}

type session struct {
	pp      store.PartnerProgram
	partner parrain.Partner
	csrf    string
	token   string // the session cookie
}

// Private wraps a partner page: a live session of an active partner of
// this program (a session of another program's partner is not signed in
// here), and on writes the session's CSRF token.
func (p *Portal) Private(h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return p.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pp, err := p.program(r)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		login := "/partners/" + pp.Slug + "/login"
		c, err := r.Cookie(cookieName)
		if err != nil {
			http.Redirect(w, r, login, http.StatusSeeOther)
			return
		}
		id, csrf, err := p.access.PartnerSessionOf(r.Context(), c.Value)
		if err != nil {
			http.Redirect(w, r, login, http.StatusSeeOther)
			return
		}
		partner, err := p.st.Partner(r.Context(), pp.ProgramID, id)
		if err != nil || partner.Status != parrain.PartnerActive {
			http.Redirect(w, r, login, http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && r.PostFormValue("csrf") != csrf {
			http.Error(w, "invalid or missing CSRF token: reload the page and try again", http.StatusForbidden)
			return
		}
		r = r.WithContext(parrain.WithActor(r.Context(), parrain.Actor{Kind: parrain.ActorPartner, ID: partner.ID, Label: partner.Email}))
		h(w, r, &session{pp: pp, partner: partner, csrf: csrf, token: c.Value})
	}))
}

func (p *Portal) startSession(w http.ResponseWriter, r *http.Request, pp store.PartnerProgram, ps access.PartnerSession) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: ps.Token, Path: "/partners/", HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(access.PartnerSessionTTL / time.Second)})
	http.Redirect(w, r, "/partners/"+pp.Slug+"/", http.StatusSeeOther)
}

// limited answers 429 when the client IP is over its request rate for
// sign-in forms.
func (p *Portal) limited(w http.ResponseWriter, r *http.Request, pp store.PartnerProgram, retryAfter time.Duration, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(retryAfter.Seconds()))))
	p.render(w, r, http.StatusTooManyRequests, "login", page{PP: pp, Title: "Sign in", Error: msg})
}

// ApplyPage shows the public application form.
func (p *Portal) ApplyPage(w http.ResponseWriter, r *http.Request, pp store.PartnerProgram) {
	if !pp.ApplicationsOpen {
		p.render(w, r, http.StatusOK, "message", page{PP: pp, Title: "Applications closed", Data: "This partner program is by invitation only."})
		return
	}
	p.render(w, r, http.StatusOK, "apply", page{PP: pp, Title: "Apply"})
}

// Apply records an application.
func (p *Portal) Apply(w http.ResponseWriter, r *http.Request, pp store.PartnerProgram) {
	a := parrain.PartnerApplication{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Company: r.PostFormValue("company"),
		Website: r.PostFormValue("website"), Message: r.PostFormValue("message")}
	if r.PostFormValue("agree") != "on" {
		p.render(w, r, http.StatusBadRequest, "apply", page{PP: pp, Title: "Apply", Error: "Please accept the partner agreement.", Data: a})
		return
	}
	_, _, err := p.partners.Apply(r.Context(), pp.ProgramID, a, "application", store.Idem{})
	if e := parrain.AsError(err); e != nil {
		msg := e.Message
		if e.Field != "" {
			msg += " (" + e.Field + ")"
		}
		p.render(w, r, http.StatusBadRequest, "apply", page{PP: pp, Title: "Apply", Error: msg, Data: a})
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "message", page{PP: pp, Title: "Application received",
		Data: "Thank you! Your application was received. You will get an email when it is approved; then sign in with your email."})
}

// LoginPage shows the sign-in form.
func (p *Portal) LoginPage(w http.ResponseWriter, r *http.Request, pp store.PartnerProgram) {
	p.render(w, r, http.StatusOK, "login", page{PP: pp, Title: "Sign in"})
}

// Login signs in with email and password. Requests are limited per
// client IP; failed sign-ins are throttled by internal/access per account
// and address with a backoff, and unknown emails take as long as known
// ones.
func (p *Portal) Login(w http.ResponseWriter, r *http.Request, pp store.PartnerProgram) {
	ip := p.opt.IPs.ClientIP(r)
	if !p.byIP.Allow(ip, p.st.Clock().Now()) {
		p.limited(w, r, pp, time.Minute, "Too many attempts. Wait a minute and try again.")
		return
	}
	ps, err := p.access.PartnerSignIn(r.Context(), pp.ProgramID, r.PostFormValue("email"), r.PostFormValue("password"), ip)
	switch parrain.ErrorCode(err) {
	case "":
		p.startSession(w, r, pp, ps)
	case parrain.CodeRateLimited:
		p.limited(w, r, pp, access.RetryAfter(err), "Too many failed sign-ins: "+parrain.AsError(err).Message+". You can also sign in with an email link.")
	case parrain.CodeUnauthenticated:
		p.render(w, r, http.StatusUnauthorized, "login", page{PP: pp, Title: "Sign in", Error: "Wrong email or password (or the partner account is not active)."})
	default:
		p.fail(w, r, err)
	}
}

// SendMagicLink emails a one-time sign-in link (logged when no mailer is
// configured), at most three an hour per partner. The answer is the same
// whether the email is known or not, and whether a link was sent.
func (p *Portal) SendMagicLink(w http.ResponseWriter, r *http.Request, pp store.PartnerProgram) {
	if !p.byIP.Allow(p.opt.IPs.ClientIP(r), p.st.Clock().Now()) {
		p.limited(w, r, pp, time.Minute, "Too many attempts. Wait a minute and try again.")
		return
	}
	email := r.PostFormValue("email")
	err := p.access.SendMagicLink(r.Context(), pp.ProgramID, email, func(tok string) (string, smtp.Message) {
		link := p.opt.BaseURL + "/partners/" + pp.Slug + "/magic/" + tok
		return link, smtp.Message{Subject: "Your sign-in link to " + brandName(pp),
			Text: "Sign in to the partner portal (valid 20 minutes, once):\n\n" + link + "\n"}
	})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "message", page{PP: pp, Title: "Check your email",
		Data: "If " + email + " belongs to an active partner, a sign-in link is on its way. It works once, for 20 minutes."})
}

func brandName(pp store.PartnerProgram) string {
	if pp.Branding.CompanyName != "" {
		return pp.Branding.CompanyName + " partners"
	}
	return pp.Name
}

// MagicLink consumes a sign-in link.
func (p *Portal) MagicLink(w http.ResponseWriter, r *http.Request, pp store.PartnerProgram) {
	ps, err := p.access.ConsumeMagicLink(r.Context(), pp.ProgramID, r.PathValue("token"))
	if parrain.ErrorCode(err) == parrain.CodeUnauthenticated {
		p.render(w, r, http.StatusUnauthorized, "login", page{PP: pp, Title: "Sign in", Error: "This sign-in link is invalid, used or expired: ask for a new one."})
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.startSession(w, r, pp, ps)
}

// Logout ends the session.
func (p *Portal) Logout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := p.access.PartnerSignOut(r.Context(), s.token); err != nil {
		p.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/partners/", MaxAge: -1, HttpOnly: true, Secure: p.secure})
	http.Redirect(w, r, "/partners/"+s.pp.Slug+"/login", http.StatusSeeOther)
}

type dashboardData struct {
	partner.Dashboard
	Survey *store.Survey
	Needs  string
}

// Dashboard is the partner's home page.
func (p *Portal) Dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := p.partners.DashboardFor(r.Context(), s.pp, s.partner)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	sv, err := p.partners.PendingSurvey(r.Context(), s.partner)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "dashboard", page{PP: s.pp, Partner: &s.partner, CSRF: s.csrf, Title: "Dashboard",
		Data: dashboardData{Dashboard: d, Survey: sv, Needs: strings.Join(d.NextNeeds, ", ")}})
}

// NewLeadPage shows the registration form.
func (p *Portal) NewLeadPage(w http.ResponseWriter, r *http.Request, s *session) {
	p.render(w, r, http.StatusOK, "lead", page{PP: s.pp, Partner: &s.partner, CSRF: s.csrf, Title: "Register a lead",
		Data: leadForm{Idem: newNonce()}})
}

type leadForm struct {
	In       parrain.LeadInput
	Idem     string
	Decision *parrain.Decision
}

func newNonce() string {
	return strconv.FormatInt(time.Now().UnixNano(), 36) + fmt.Sprintf("%x", time.Now().Nanosecond())
}

// RegisterLead registers a lead; the answer shows the decision in words.
// The form's nonce is the idempotency key: a double submit registers once.
func (p *Portal) RegisterLead(w http.ResponseWriter, r *http.Request, s *session) {
	size, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue("company_size")))
	in := parrain.LeadInput{CompanyName: r.PostFormValue("company_name"), CompanyDomain: r.PostFormValue("company_domain"),
		ContactName: r.PostFormValue("contact_name"), ContactEmail: r.PostFormValue("contact_email"), CompanySize: size,
		Industry: r.PostFormValue("industry"), Notes: r.PostFormValue("notes"), Consent: r.PostFormValue("consent") == "on"}
	nonce := r.PostFormValue("idem")
	idem := store.Idem{}
	if nonce != "" && len(nonce) < 100 {
		idem = store.Idem{Scope: "portal:" + s.partner.ID, Key: nonce, Hash: nonce}
	}
	res, _, err := p.partners.RegisterLead(r.Context(), s.pp.ProgramID, s.partner.ID, in, partner.RegisterOptions{Actor: "partner:" + s.partner.ID}, idem)
	if e := parrain.AsError(err); e != nil {
		p.render(w, r, http.StatusBadRequest, "lead", page{PP: s.pp, Partner: &s.partner, CSRF: s.csrf, Title: "Register a lead",
			Error: e.Field + ": " + e.Message, Data: leadForm{In: in, Idem: newNonce()}})
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if res.Decision.Outcome == parrain.OutcomeAccepted {
		http.Redirect(w, r, "/partners/"+s.pp.Slug+"/?flash="+url.QueryEscape(res.Decision.Explanation), http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusConflict, "lead", page{PP: s.pp, Partner: &s.partner, CSRF: s.csrf, Title: "Register a lead",
		Error: res.Decision.Explanation, Data: leadForm{In: in, Idem: newNonce(), Decision: &res.Decision}})
}

// CheckLead answers the form's instant feedback (JSON): would this account
// be accepted? It reveals no more than a registration would (the window's
// end, not the other partner's name) and logs nothing.
func (p *Portal) CheckLead(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	in := parrain.LeadInput{CompanyName: q.Get("company_name"), CompanyDomain: q.Get("company_domain")}
	type answer struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	}
	w.Header().Set("Content-Type", "application/json")
	d := parrain.AccountDomain(in.CompanyDomain)
	if d == "" && parrain.CompanyKey(in.CompanyName) == "" {
		fmt.Fprint(w, `{"ok":true,"message":""}`)
		return
	}
	claims, exs, err := p.st.AccountState(r.Context(), s.pp.ProgramID, d, in.CompanyName)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	dec := parrain.DecideRegistration(parrain.DecideInput{Now: p.st.Clock().Now(), Settings: s.pp.PartnerSettings, PartnerID: s.partner.ID,
		Lead: parrain.LeadInput{CompanyName: fallback(in.CompanyName, d), CompanyDomain: d, CompanySize: 1 << 30, Consent: true,
			Industry: firstOr(s.pp.Qualification.Industries)}, Claims: claims, Exclusions: exs})
	a := answer{OK: dec.Outcome == parrain.OutcomeAccepted, Message: dec.Explanation}
	if a.OK {
		a.Message = "This account is free: register it to reserve it for " + strconv.Itoa(s.pp.WindowDays) + " days."
	}
	writeJSONAnswer(w, a)
}

func fallback(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

func firstOr(list []string) string {
	if len(list) > 0 {
		return list[0]
	}
	return ""
}

// RequestExtension asks the manager for more exclusivity on a lead.
func (p *Portal) RequestExtension(w http.ResponseWriter, r *http.Request, s *session) {
	days, _ := strconv.Atoi(r.PostFormValue("days"))
	_, _, err := p.partners.RequestExtension(r.Context(), s.pp.ProgramID, s.partner.ID, r.PathValue("lead_id"),
		parrain.ExtensionInput{Days: days, Reason: r.PostFormValue("reason")}, store.Idem{})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/partners/"+s.pp.Slug+"/?flash="+url.QueryEscape("Extension requested: your manager will decide."), http.StatusSeeOther)
}

// Assets lists the files the partner's tier may download.
func (p *Portal) Assets(w http.ResponseWriter, r *http.Request, s *session) {
	as, err := p.partners.AssetsFor(r.Context(), s.pp, s.partner)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "assets", page{PP: s.pp, Partner: &s.partner, CSRF: s.csrf, Title: "Assets", Data: as})
}

// DownloadAsset sends a file and counts the download.
func (p *Portal) DownloadAsset(w http.ResponseWriter, r *http.Request, s *session) {
	a, err := p.partners.DownloadAsset(r.Context(), s.pp, s.partner, r.PathValue("asset_id"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+a.Filename+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(a.Content)))
	_, _ = w.Write(a.Content)
}

// AcceptAgreement records the agreement's acceptance.
func (p *Portal) AcceptAgreement(w http.ResponseWriter, r *http.Request, s *session) {
	if err := p.partners.AcceptAgreement(r.Context(), s.partner.ID, r.PostFormValue("version")); err != nil {
		p.fail(w, r, err)
		return
	}
	// Accepting the agreement also accepts the program's current terms
	// (generated from its rules), recorded with their version.
	if s.partner.ExternalID != "" {
		if _, _, err := p.opt.Programs.AcceptTerms(r.Context(), s.pp.ProgramID, s.partner.ExternalID, 0, store.Idem{}); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/partners/"+s.pp.Slug+"/?flash=Agreement+accepted.", http.StatusSeeOther)
}

// Onboarding lets the partner tick their kickoff (training is confirmed by
// the manager).
func (p *Portal) Onboarding(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := p.partners.SetOnboardingStep(r.Context(), s.pp.ProgramID, s.partner.ID, partner.StepKickoff, true); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/partners/"+s.pp.Slug+"/", http.StatusSeeOther)
}

// SetPassword sets the partner's first password, or changes it with the
// current one; the partner's other sessions end.
func (p *Portal) SetPassword(w http.ResponseWriter, r *http.Request, s *session) {
	err := p.access.SetPartnerPassword(r.Context(), s.partner.ID, s.token, r.PostFormValue("current"), r.PostFormValue("password"))
	if e := parrain.AsError(err); e != nil && e.Code == parrain.CodeInvalid {
		msg := fmt.Sprintf("The password must have %d to %d characters.", access.MinPasswordLen, access.MaxPasswordLen)
		if e.Field == "current" {
			msg = "That is not your current password: nothing was changed."
		}
		http.Redirect(w, r, "/partners/"+s.pp.Slug+"/?flash="+url.QueryEscape(msg), http.StatusSeeOther)
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/partners/"+s.pp.Slug+"/?flash="+url.QueryEscape("Password saved. Your other sessions were signed out."), http.StatusSeeOther)
}

// AnswerSurvey records the partner's survey answers.
func (p *Portal) AnswerSurvey(w http.ResponseWriter, r *http.Request, s *session) {
	_ = r.ParseForm()
	err := p.partners.AnswerSurvey(r.Context(), s.partner, r.PostFormValue("survey"), r.PostForm["answer"])
	if err != nil && !errors.Is(err, context.Canceled) {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/partners/"+s.pp.Slug+"/?flash=Thank+you+for+your+feedback.", http.StatusSeeOther)
}

func writeJSONAnswer(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

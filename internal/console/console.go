// Package console serves Parrain's admin console under /admin: server-
// rendered pages (html/template, assets embedded by package web) to sign in,
// configure programs, review referrals and rewards, read the KPIs and manage
// users, API keys and settings.
//
// Security is on by default: argon2id passwords, sessions whose tokens are
// stored hashed, HttpOnly SameSite cookies (Secure over TLS), a per-session
// CSRF token on every form on top of Go's cross-origin protection,
// rate-limited sign-in, and roles (owner, manager, analyst) enforced on
// every route by Require. Routes are registered in internal/app/routes.go.
//
// It imports the domain, the use cases, the store's types and the web
// assets; never the job runner.
package console

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/privacy"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/report"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/web"
)

// Options configure the console.
type Options struct {
	// Referral decides fraud reviews of referrals and reviews of rewards
	// (default: one on the console's store).
	Referral *referral.Service
	// BaseURL is the public URL of the server; an https URL makes cookies
	// Secure even behind a TLS-terminating proxy.
	BaseURL string
	// IPs finds client addresses (sign-in rate limits, the audit log) and
	// whether the client used HTTPS, honouring --trust-proxy.
	IPs httpx.IPResolver
	// LoginRate and LoginBurst limit sign-in attempts per client IP
	// (default one every 3 s, burst 10). Failed sign-ins are throttled
	// besides by Access, per account and source address and per address.
	LoginRate  time.Duration
	LoginBurst int
	// Access runs the use cases of users, sessions, sign-in and API keys
	// (default: one on the console's store).
	Access *access.Service
	// Partners runs the partner program's use cases (default: one on the
	// console's store).
	Partners *partner.Service
	// Programs runs the use cases of programs and their terms (default:
	// one on the console's store).
	Programs *program.Service
	// Payouts runs the payout use cases (default: one on the console's
	// store, without provider clients: the console does not send).
	Payouts *payout.Service
	// Reports computes the overview's KPIs, series, ranking and alerts
	// (default: one on the console's store).
	Reports *report.Service
	// Webhooks runs the outgoing webhook endpoints' use cases (default:
	// one on the console's store).
	Webhooks *outbound.Service
	// Privacy runs the personal-data rights (export, erasure, do not
	// sell) from the participant page.
	Privacy *privacy.Service
}

// Console holds the console's dependencies.
type Console struct {
	st       *store.Store
	partners *partner.Service
	payouts  *payout.Service
	reports  *report.Service
	webhooks *outbound.Service
	exps     *referral.Experiments
	log      *slog.Logger
	opt      Options
	secure   bool
	pages    map[string]*template.Template
	static   fs.FS
	access   *access.Service
	byIP     *httpx.Limiter
	cop      *http.CrossOriginProtection
	version  string // a digest of the static files, appended to their URLs so upgrades bust caches
}

// New parses the templates and returns the console.
func New(st *store.Store, log *slog.Logger, opt Options) (*Console, error) {
	if opt.LoginRate <= 0 {
		opt.LoginRate = 3 * time.Second
	}
	if opt.LoginBurst <= 0 {
		opt.LoginBurst = 10
	}
	if opt.Referral == nil {
		opt.Referral = referral.New(st)
	}
	if opt.Partners == nil {
		opt.Partners = partner.New(st, st.Clock(), opt.Referral)
	}
	if opt.Programs == nil {
		opt.Programs = program.New(st)
	}
	if opt.Payouts == nil {
		opt.Payouts = payout.New(st, log, payout.Config{})
	}
	if opt.Reports == nil {
		opt.Reports = report.New(st)
	}
	if opt.Webhooks == nil {
		opt.Webhooks = outbound.NewService(st)
	}
	if opt.Access == nil {
		opt.Access = access.New(st, log, access.Config{})
	}
	if opt.Privacy == nil {
		opt.Privacy = privacy.New(st, log, privacy.DefaultConfig())
	}
	c := &Console{st: st, partners: opt.Partners, payouts: opt.Payouts, reports: opt.Reports, webhooks: opt.Webhooks,
		exps: referral.NewExperiments(st, opt.Programs), log: log, opt: opt, secure: strings.HasPrefix(opt.BaseURL, "https://"), static: web.Static(),
		access: opt.Access, byIP: httpx.NewLimiter(rate.Every(opt.LoginRate), opt.LoginBurst)}
	pages, err := parsePages(web.Templates())
	if err != nil {
		return nil, err
	}
	c.pages = pages
	if c.version, err = staticVersion(c.static); err != nil {
		return nil, err
	}
	c.cop = http.NewCrossOriginProtection()
	c.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, nil, http.StatusForbidden, "This request came from another site and was refused (cross-origin protection).")
	}))
	return c, nil
}

// Static serves the embedded CSS and JavaScript under /admin/static/.
func (c *Console) Static() http.Handler {
	fsrv := http.StripPrefix("/admin/static/", http.FileServerFS(c.static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// URLs carry ?v=<digest of the files>: a new version is a new URL.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fsrv.ServeHTTP(w, r)
	})
}

// staticVersion digests every static file.
func staticVersion(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading static files: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// securityHeaders are set on every console answer: a strict content
// security policy (no inline script or style, nothing from other origins
// but https images for logos), no referrer leaks, no caching of pages.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// clientIP is the request's client address.
func (c *Console) clientIP(r *http.Request) string { return c.opt.IPs.ClientIP(r) }

func (c *Console) isSecure(r *http.Request) bool { return c.secure || c.opt.IPs.IsTLS(r) }

// view is what every page template receives.
type view struct {
	Page     string // the template's name, on <body data-page> for tests and styles
	Title    string
	Nav      string // the active menu entry
	Auth     *Auth
	CSRF     string
	Flash    *flash
	Programs []parrain.Program
	Program  *parrain.Program // the program the page is about
	Data     any
	Version  string // static files' version, for their URLs
}

// Can reports whether the signed-in user holds at least role (for showing
// buttons; the server checks again on every route).
func (v view) Can(role string) bool {
	return v.Auth != nil && v.Auth.User.Role.AtLeast(parrain.UserRole(role))
}

// ProgramQuery is "program=<id>" for links that keep the current program.
func (v view) ProgramQuery() template.URL {
	if v.Program == nil {
		return ""
	}
	return template.URL("program=" + url.QueryEscape(v.Program.ID))
}

// render executes a page template into a buffer first, so a template error
// becomes a clean 500 page instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := c.pages[name]
	if !ok {
		c.fail(w, r, v.Auth, fmt.Errorf("no template %q", name))
		return
	}
	v.Page, v.Version = name, c.version
	if v.Auth != nil {
		v.CSRF = v.Auth.Session.CSRFToken
	}
	if v.Flash == nil {
		v.Flash = c.takeFlash(w, r)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.ErrorContext(r.Context(), "rendering page", "page", name, "err", err)
		if name != "error" {
			c.errorPage(w, r, v.Auth, http.StatusInternalServerError, "internal error; it has been logged")
		}
		return
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct {
	Status  int
	Message string
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, a *Auth, status int, msg string) {
	c.render(w, r, status, "error", view{Title: http.StatusText(status), Auth: a, Data: errorData{Status: status, Message: msg}})
}

// fail answers an error: domain errors with their HTTP status and message,
// anything else as a logged 500 without details.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, a *Auth, err error) {
	e := httpx.Public(c.log, r, err)
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	c.errorPage(w, r, a, httpx.Status(e.Code), msg)
}

// flash is a one-time message shown after a redirect.
type flash struct {
	Kind    string // ok or error
	Message string
}

const flashCookie = "parrain_flash"

// setFlash stores a message for the next page, signed with the
// installation secret so that nobody else can plant text in the console.
func (c *Console) setFlash(w http.ResponseWriter, r *http.Request, kind, msg string) {
	if len(msg) > 1000 {
		msg = strings.ToValidUTF8(msg[:1000], "") // whole characters only
	}
	v := base64.RawURLEncoding.EncodeToString([]byte(kind + "\n" + msg))
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: v + "." + c.sign(v), Path: "/admin", HttpOnly: true,
		Secure: c.isSecure(r), SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

func (c *Console) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/admin", HttpOnly: true, Secure: c.isSecure(r), MaxAge: -1})
	v, sig, ok := strings.Cut(ck.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(c.sign(v))) {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil
	}
	kind, msg, _ := strings.Cut(string(b), "\n")
	return &flash{Kind: kind, Message: msg}
}

func (c *Console) sign(v string) string {
	m := hmac.New(sha256.New, c.st.Secret())
	m.Write([]byte("console-flash:" + v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// redirect answers a form post with 303 See Other (post/redirect/get).
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// programs loads the programs for the switcher and picks the page's
// program: the "program" query parameter, else the last one chosen
// (cookie), else the oldest active program.
func (c *Console) programs(w http.ResponseWriter, r *http.Request) ([]parrain.Program, *parrain.Program, error) {
	var all []parrain.Program
	cursor := ""
	for {
		ps, next, err := c.st.Programs(r.Context(), store.Page{Limit: 200, Cursor: cursor})
		if err != nil {
			return nil, nil, err
		}
		all = append(all, ps...)
		if next == "" || len(all) >= 1000 {
			break
		}
		cursor = next
	}
	want := r.URL.Query().Get("program")
	if want == "" {
		if ck, err := r.Cookie("parrain_program"); err == nil {
			want = ck.Value
		}
	}
	for i := range all {
		if all[i].ID == want {
			if r.URL.Query().Get("program") != "" {
				http.SetCookie(w, &http.Cookie{Name: "parrain_program", Value: want, Path: "/admin", HttpOnly: true,
					Secure: c.isSecure(r), SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
			}
			return all, &all[i], nil
		}
	}
	if r.URL.Query().Get("program") != "" {
		return nil, nil, parrain.Errorf(parrain.CodeNotFound, "program not found")
	}
	if len(all) == 0 {
		return all, nil, nil
	}
	// The oldest active program (the list is newest first), else the oldest.
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Status == parrain.ProgramActive {
			return all, &all[i], nil
		}
	}
	return all, &all[len(all)-1], nil
}

// parseForm reads a bounded form body.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		// A file upload (the import page): capped by its route
		// (internal/app bodyCaps), parts over 1 MiB spooled to disk.
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return parrain.Errorf(parrain.CodeTooLarge, "the file exceeds %d MiB: split it", mbe.Limit>>20)
			}
			return parrain.Invalid("form", "could not read the upload: %v", err)
		}
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return parrain.Errorf(parrain.CodeTooLarge, "the form is too large")
		}
		return parrain.Invalid("form", "could not read the form: %v", err)
	}
	return nil
}

// NotFound serves console paths that match no page.
func (c *Console) NotFound(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.errorPage(w, r, a, http.StatusNotFound, "There is no console page at "+r.URL.Path+".")
}

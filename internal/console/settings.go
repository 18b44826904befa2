package console

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/notify"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Settings serves GET /admin/settings: the index of the settings pages.
func (c *Console) Settings(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.render(w, r, http.StatusOK, "settings", view{Title: "Settings", Nav: "settings", Auth: a, Programs: all, Program: prog})
}

// usersData is the user management page.
type usersData struct {
	Users  []store.User
	Roles  []parrain.UserRole
	Field  map[string]string
	Email  string
	Name   string
	Role   string
	SelfID string
}

// Users serves GET /admin/settings/users (owners).
func (c *Console) Users(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.renderUsers(w, r, a, http.StatusOK, usersData{Role: string(parrain.UserRoleAnalyst)})
}

func (c *Console) renderUsers(w http.ResponseWriter, r *http.Request, a *Auth, status int, d usersData) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if d.Users, err = c.access.Users(r.Context()); err != nil {
		c.fail(w, r, a, err)
		return
	}
	d.Roles, d.SelfID = parrain.UserRoles, a.User.ID
	if d.Field == nil {
		d.Field = map[string]string{}
	}
	c.render(w, r, status, "users", view{Title: "Users", Nav: "settings", Auth: a, Programs: all, Program: prog, Data: d})
}

// CreateUser handles POST /admin/settings/users: a new user with an
// initial password the owner passes on (they can change it under Account).
func (c *Console) CreateUser(w http.ResponseWriter, r *http.Request, a *Auth) {
	f := r.PostForm
	d := usersData{Email: f.Get("email"), Name: f.Get("name"), Role: f.Get("role"), Field: map[string]string{}}
	again := func(err error) {
		e := parrain.AsError(err)
		if e == nil {
			c.fail(w, r, a, err)
			return
		}
		d.Field[errField(e)] = e.Message
		c.renderUsers(w, r, a, httpx.Status(e.Code), d)
	}
	role, err := parrain.ParseUserRole("role", d.Role)
	if err != nil {
		again(err)
		return
	}
	u, err := c.access.CreateUser(r.Context(), access.NewUser{Email: d.Email, Name: d.Name, Role: role, Password: f.Get("password")})
	if err != nil {
		again(err)
		return
	}
	c.setFlash(w, r, "ok", "User "+u.Email+" created as "+string(u.Role)+". Give them their initial password; they can change it under Account.")
	redirect(w, r, "/admin/settings/users")
}

// SetUserRole handles POST /admin/settings/users/{id}/role.
func (c *Console) SetUserRole(w http.ResponseWriter, r *http.Request, a *Auth) {
	role, err := parrain.ParseUserRole("role", r.PostForm.Get("role"))
	if err == nil {
		var u store.User
		if u, err = c.access.SetRole(r.Context(), r.PathValue("id"), role); err == nil {
			c.setFlash(w, r, "ok", u.Email+" is now "+string(u.Role)+".")
		}
	}
	c.userActionDone(w, r, a, err)
}

func (c *Console) userActionDone(w http.ResponseWriter, r *http.Request, a *Auth, err error) {
	if e := parrain.AsError(err); e != nil && e.Code != parrain.CodeInternal && e.Code != parrain.CodeNotFound {
		c.setFlash(w, r, "error", e.Message)
	} else if err != nil {
		c.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/admin/settings/users")
}

// DisableUser handles POST /admin/settings/users/{id}/disable: the user can
// no longer sign in and is signed out everywhere.
func (c *Console) DisableUser(w http.ResponseWriter, r *http.Request, a *Auth) {
	u, err := c.access.SetDisabled(r.Context(), r.PathValue("id"), true)
	if err == nil {
		c.setFlash(w, r, "ok", u.Email+" is disabled and signed out everywhere.")
	}
	c.userActionDone(w, r, a, err)
}

// EnableUser handles POST /admin/settings/users/{id}/enable.
func (c *Console) EnableUser(w http.ResponseWriter, r *http.Request, a *Auth) {
	u, err := c.access.SetDisabled(r.Context(), r.PathValue("id"), false)
	if err == nil {
		c.setFlash(w, r, "ok", u.Email+" can sign in again.")
	}
	c.userActionDone(w, r, a, err)
}

// SignOutUser handles POST /admin/settings/users/{id}/sign-out: ends every
// session of that user.
func (c *Console) SignOutUser(w http.ResponseWriter, r *http.Request, a *Auth) {
	u, err := c.access.User(r.Context(), r.PathValue("id"))
	if err == nil {
		var n int64
		if n, err = c.access.SignOutEverywhere(r.Context(), u.ID); err == nil {
			c.setFlash(w, r, "ok", u.Email+" is signed out everywhere ("+itoa(n)+" sessions ended).")
		}
	}
	if err == nil && u.ID == a.User.ID {
		c.clearSessionCookie(w, r)
		redirect(w, r, loginPath)
		return
	}
	c.userActionDone(w, r, a, err)
}

// apiKeysData is the API key page.
type apiKeysData struct {
	Keys     []store.APIKey
	Scopes   []string
	Secret   string // a key just created, shown once
	Created  *store.APIKey
	Field    map[string]string
	Name     string
	Selected map[string]bool
	Program  string
	// RateLimit is the create form's rate limit (blank: the default).
	RateLimit string
}

// APIKeys serves GET /admin/settings/api-keys (owners): keys with their
// scopes and last use.
func (c *Console) APIKeys(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.renderAPIKeys(w, r, a, http.StatusOK, apiKeysData{Selected: map[string]bool{store.ScopeRead: true, store.ScopeEvents: true}})
}

func (c *Console) renderAPIKeys(w http.ResponseWriter, r *http.Request, a *Auth, status int, d apiKeysData) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if d.Keys, err = c.access.APIKeys(r.Context()); err != nil {
		c.fail(w, r, a, err)
		return
	}
	d.Scopes = store.AllScopes
	if d.Field == nil {
		d.Field = map[string]string{}
	}
	c.render(w, r, status, "apikeys", view{Title: "API keys", Nav: "settings", Auth: a, Programs: all, Program: prog, Data: d})
}

// CreateAPIKey handles POST /admin/settings/api-keys. The secret is shown
// once, in this answer (never stored in clear, never in a redirect).
func (c *Console) CreateAPIKey(w http.ResponseWriter, r *http.Request, a *Auth) {
	f := r.PostForm
	d := apiKeysData{Name: f.Get("name"), Program: f.Get("program_id"), Selected: map[string]bool{}, Field: map[string]string{}}
	for _, s := range f["scope"] {
		d.Selected[s] = true
	}
	if len(f["scope"]) == 0 {
		d.Field["scopes"] = "choose at least one scope"
		c.renderAPIKeys(w, r, a, http.StatusBadRequest, d)
		return
	}
	d.RateLimit = strings.TrimSpace(f.Get("rate_limit"))
	limit, err := rateLimitField(d.RateLimit)
	if err != nil {
		d.Field["rate_limit"] = err.Error()
		c.renderAPIKeys(w, r, a, http.StatusBadRequest, d)
		return
	}
	secret, k, err := c.access.CreateAPIKeyWith(r.Context(), store.NewAPIKey{Name: d.Name, Scopes: f["scope"], ProgramID: d.Program, RateLimit: limit})
	if err != nil {
		e := parrain.AsError(err)
		if e == nil {
			c.fail(w, r, a, err)
			return
		}
		field := errField(e)
		if e.Code == parrain.CodeNotFound {
			field = "program_id"
		}
		d.Field[field] = e.Message
		c.renderAPIKeys(w, r, a, httpx.Status(e.Code), d)
		return
	}
	c.renderAPIKeys(w, r, a, http.StatusCreated, apiKeysData{Secret: secret, Created: &k,
		Selected: map[string]bool{store.ScopeRead: true, store.ScopeEvents: true}})
}

// rateLimitField reads a rate limit form field: blank is 0, the
// installation's default.
func rateLimitField(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > access.MaxAPIKeyRateLimit {
		return 0, fmt.Errorf("a whole number of requests a minute, from 1 to %d (blank: the default)", access.MaxAPIKeyRateLimit)
	}
	return n, nil
}

// SetAPIKeyRateLimit handles POST /admin/settings/api-keys/{id}/rate-limit:
// the key's own limit in requests a minute (blank: the default).
func (c *Console) SetAPIKeyRateLimit(w http.ResponseWriter, r *http.Request, a *Auth) {
	n, err := rateLimitField(strings.TrimSpace(r.PostForm.Get("rate_limit")))
	if err != nil {
		c.setFlash(w, r, "error", "Rate limit not changed: "+err.Error())
		redirect(w, r, "/admin/settings/api-keys")
		return
	}
	if err := c.access.SetAPIKeyRateLimit(r.Context(), r.PathValue("id"), n); err != nil {
		if e := parrain.AsError(err); e != nil && e.Code != parrain.CodeInternal {
			c.setFlash(w, r, "error", "Rate limit not changed: "+e.Message)
			redirect(w, r, "/admin/settings/api-keys")
			return
		}
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Rate limit saved: it applies from the key's next request.")
	redirect(w, r, "/admin/settings/api-keys")
}

// RevokeAPIKey handles POST /admin/settings/api-keys/{id}/revoke.
func (c *Console) RevokeAPIKey(w http.ResponseWriter, r *http.Request, a *Auth) {
	id := r.PathValue("id")
	if err := c.access.RevokeAPIKey(r.Context(), id); err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "API key revoked: requests with it now answer 401.")
	redirect(w, r, "/admin/settings/api-keys")
}

// brandingData is the branding page.
type brandingData struct {
	Branding store.Branding
	Field    map[string]string
	Contrast []contrastCheck
}

type contrastCheck struct {
	Name  string
	Ratio string
	Pass  bool
}

// Branding serves GET /admin/settings/branding: the current program's logo
// and colours, with their contrast against white text.
func (c *Console) Branding(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := view{Title: "Branding", Nav: "settings", Auth: a, Programs: all, Program: prog}
	if prog == nil {
		c.render(w, r, http.StatusOK, "branding", v)
		return
	}
	b, err := c.st.ProgramBranding(r.Context(), prog.ID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v.Data = brandingData{Branding: b, Field: map[string]string{}, Contrast: contrastChecks(b)}
	c.render(w, r, http.StatusOK, "branding", v)
}

// SetBranding handles POST /admin/settings/branding.
func (c *Console) SetBranding(w http.ResponseWriter, r *http.Request, a *Auth) {
	f := r.PostForm
	b := store.Branding{ProgramID: f.Get("program"), LogoURL: f.Get("logo_url"), PrimaryColor: f.Get("primary_color"), AccentColor: f.Get("accent_color")}
	saved, err := c.opt.Programs.SetBranding(r.Context(), b)
	if e := parrain.AsError(err); e != nil && e.Code == parrain.CodeInvalid {
		all, _, perr := c.programs(w, r)
		if perr != nil {
			c.fail(w, r, a, perr)
			return
		}
		p, perr := c.st.Program(r.Context(), b.ProgramID)
		if perr != nil {
			c.fail(w, r, a, perr)
			return
		}
		c.render(w, r, http.StatusBadRequest, "branding", view{Title: "Branding", Nav: "settings", Auth: a, Programs: all, Program: &p,
			Data: brandingData{Branding: b, Field: map[string]string{errField(e): e.Message}}})
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Branding saved.")
	redirect(w, r, "/admin/settings/branding?program="+url.QueryEscape(saved.ProgramID))
}

// contrastChecks rates each brand colour against white text by the WCAG
// 2 contrast ratio (4.5:1 needed for normal text).
func contrastChecks(b store.Branding) []contrastCheck {
	var out []contrastCheck
	for _, c := range []struct{ name, hex string }{{"Primary colour with white text", b.PrimaryColor}, {"Accent colour with white text", b.AccentColor}} {
		ratio, ok := contrastWithWhite(c.hex)
		if !ok {
			continue
		}
		out = append(out, contrastCheck{Name: c.name, Ratio: strconv.FormatFloat(ratio, 'f', 1, 64) + ":1", Pass: ratio >= 4.5})
	}
	return out
}

// contrastWithWhite is the WCAG contrast ratio of #rrggbb against white.
// (Colour maths, not money: floating point is right here.)
func contrastWithWhite(hex string) (float64, bool) {
	if len(hex) != 7 || hex[0] != '#' {
		return 0, false
	}
	lin := func(s string) (float64, bool) {
		v, err := strconv.ParseUint(s, 16, 8)
		if err != nil {
			return 0, false
		}
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92, true
		}
		return math.Pow((c+0.055)/1.055, 2.4), true
	}
	r, ok1 := lin(hex[1:3])
	g, ok2 := lin(hex[3:5])
	bl, ok3 := lin(hex[5:7])
	if !ok1 || !ok2 || !ok3 {
		return 0, false
	}
	l := 0.2126*r + 0.7152*g + 0.0722*bl
	return 1.05 / (l + 0.05), true
}

// emailData is the email sender page.
type emailData struct {
	Sender store.EmailSender
	Set    bool
	Field  map[string]string
}

// EmailSender serves GET /admin/settings/email.
func (c *Console) EmailSender(w http.ResponseWriter, r *http.Request, a *Auth) {
	s, ok, err := c.st.GetEmailSender(r.Context())
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.renderEmail(w, r, a, http.StatusOK, emailData{Sender: s, Set: ok, Field: map[string]string{}})
}

func (c *Console) renderEmail(w http.ResponseWriter, r *http.Request, a *Auth, status int, d emailData) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.render(w, r, status, "email", view{Title: "Email sender", Nav: "settings", Auth: a, Programs: all, Program: prog, Data: d})
}

// SetEmailSender handles POST /admin/settings/email.
func (c *Console) SetEmailSender(w http.ResponseWriter, r *http.Request, a *Auth) {
	f := r.PostForm
	in := store.EmailSender{Name: f.Get("name"), Address: f.Get("address"), ReplyTo: f.Get("reply_to")}
	_, err := notify.SetEmailSender(r.Context(), c.st, in)
	if e := parrain.AsError(err); e != nil && e.Code == parrain.CodeInvalid {
		c.renderEmail(w, r, a, http.StatusBadRequest, emailData{Sender: in, Field: map[string]string{errField(e): e.Message}})
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Email sender saved.")
	redirect(w, r, "/admin/settings/email")
}

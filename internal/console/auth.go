package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Cookie names.
const (
	sessionCookie    = "parrain_session"
	loginCSRFCookie  = "parrain_login_csrf"
	csrfField        = "csrf"
	csrfHeader       = "X-CSRF-Token"
	loginPath        = "/admin/login"
	setupPath        = "/admin/setup"
	homePath         = "/admin/"
	accountPath      = "/admin/account"
	maxLoginFormSize = 8 << 10
)

// Auth is the signed-in user and their session, passed to every console
// handler.
type Auth struct {
	User    store.User
	Session store.Session
	IP      string
}

// ParrainActor is the user as the use cases see them (the request context
// carries it, see Require).
func (a *Auth) ParrainActor() parrain.Actor {
	return parrain.Actor{Kind: parrain.ActorUser, ID: a.User.ID, Label: a.User.Email, IP: a.IP}
}

// Actor is the user as the audit log names them.
func (a *Auth) Actor() store.Actor {
	return store.Actor{Kind: parrain.ActorUser, UserID: a.User.ID, Email: a.User.Email, IP: a.IP}
}

// Handler is a console handler for a signed-in user.
type Handler func(w http.ResponseWriter, r *http.Request, a *Auth)

// Require wraps h so that it runs only for a signed-in user holding at
// least role min, and, for anything but GET and HEAD, only with the
// session's CSRF token (form field "csrf" or header X-CSRF-Token) and from
// the same origin. Visitors who are not signed in are sent to the sign-in
// page (or to the one-time setup page while no user exists).
func (c *Console) Require(min parrain.UserRole, h Handler) http.Handler {
	return c.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		a, err := c.authenticate(r)
		if err != nil {
			if parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
				c.fail(w, r, nil, err)
				return
			}
			c.toSignIn(w, r)
			return
		}
		if !a.User.Role.AtLeast(min) {
			c.errorPage(w, r, a, http.StatusForbidden, "Your role ("+string(a.User.Role)+") cannot do this: it needs "+string(min)+" or above.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := parseForm(w, r); err != nil {
				c.fail(w, r, a, err)
				return
			}
			tok := r.Header.Get(csrfHeader)
			if tok == "" {
				tok = r.PostForm.Get(csrfField)
			}
			if subtle.ConstantTimeCompare([]byte(tok), []byte(a.Session.CSRFToken)) != 1 {
				c.errorPage(w, r, a, http.StatusForbidden, "This form has expired or did not come from the console (CSRF check failed). Reload the page and try again.")
				return
			}
		}
		h(w, r.WithContext(parrain.WithActor(r.Context(), a.ParrainActor())), a)
	}))
}

// Guest wraps the pages used before signing in (sign-in, setup) with the
// same headers and cross-origin protection.
func (c *Console) Guest(h http.HandlerFunc) http.Handler {
	return c.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		h(w, r)
	}))
}

func (c *Console) authenticate(r *http.Request) (*Auth, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 200 {
		return nil, parrain.Errorf(parrain.CodeUnauthenticated, "not signed in")
	}
	ss, u, err := c.access.Session(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	return &Auth{User: u, Session: ss, IP: c.clientIP(r)}, nil
}

func (c *Console) toSignIn(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"code":"unauthenticated","message":"sign in again"}}`))
		return
	}
	has, err := c.access.HasUsers(r.Context())
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if !has {
		redirect(w, r, setupPath)
		return
	}
	to := loginPath
	if r.Method == http.MethodGet && r.URL.Path != homePath {
		to += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	redirect(w, r, to)
}

// safeNext keeps a post-sign-in destination only when it is a console path
// of this site (no open redirect).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return homePath
	}
	return next
}

func (c *Console) setSessionCookie(w http.ResponseWriter, r *http.Request, tok string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/admin", HttpOnly: true, Secure: c.isSecure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(access.SessionMaxAge.Seconds())})
}

func (c *Console) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/admin", HttpOnly: true, Secure: c.isSecure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// loginCSRF returns the pre-session CSRF token of the sign-in and setup
// forms (double-submit: a cookie and the same value in the form), setting
// the cookie when absent.
func (c *Console) loginCSRF(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(loginCSRFCookie); err == nil && len(ck.Value) >= 32 && len(ck.Value) < 100 {
		return ck.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/admin", HttpOnly: true, Secure: c.isSecure(r),
		SameSite: http.SameSiteStrictMode})
	return tok
}

func checkLoginCSRF(r *http.Request) bool {
	ck, err := r.Cookie(loginCSRFCookie)
	return err == nil && ck.Value != "" && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostForm.Get(csrfField))) == 1
}

type loginData struct {
	Email string
	Next  string
	Error string
	CSRF  string
	Field map[string]string // setup form errors by field
	Name  string
}

// LoginPage serves GET /admin/login.
func (c *Console) LoginPage(w http.ResponseWriter, r *http.Request) {
	if a, err := c.authenticate(r); err == nil && a != nil {
		redirect(w, r, safeNext(r.URL.Query().Get("next")))
		return
	}
	has, err := c.access.HasUsers(r.Context())
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if !has {
		redirect(w, r, setupPath)
		return
	}
	c.render(w, r, http.StatusOK, "login", view{Title: "Sign in", Data: loginData{Next: r.URL.Query().Get("next"), CSRF: c.loginCSRF(w, r)}})
}

// Login handles POST /admin/login. Attempts are limited per client IP
// (a token bucket) and throttled by internal/access per account and source
// address with a backoff, and per address; unknown emails cost the same
// time as wrong passwords.
func (c *Console) Login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginFormSize)
	if err := r.ParseForm(); err != nil {
		c.errorPage(w, r, nil, http.StatusBadRequest, "could not read the form")
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	d := loginData{Email: email, Next: r.PostForm.Get("next"), CSRF: c.loginCSRF(w, r)}
	again := func(status int, msg string) {
		d.Error = msg
		c.render(w, r, status, "login", view{Title: "Sign in", Data: d})
	}
	if !checkLoginCSRF(r) {
		again(http.StatusForbidden, "The sign-in form expired. Please try again.")
		return
	}
	ip := c.clientIP(r)
	if !c.byIP.Allow(ip, c.st.Clock().Now()) {
		w.Header().Set("Retry-After", "60")
		c.log.WarnContext(r.Context(), "sign-in rate limited", "ip", ip)
		again(http.StatusTooManyRequests, "Too many sign-in attempts. Wait a minute and try again.")
		return
	}
	tok, _, _, err := c.access.SignIn(r.Context(), email, r.PostForm.Get("password"), ip, r.UserAgent())
	switch parrain.ErrorCode(err) {
	case "":
		c.setSessionCookie(w, r, tok)
		redirect(w, r, safeNext(d.Next))
	case parrain.CodeInvalid:
		again(http.StatusBadRequest, "Enter your email and password.")
	case parrain.CodeRateLimited:
		wait := access.RetryAfter(err)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
		c.log.WarnContext(r.Context(), "sign-in throttled", "ip", ip, "email", email, "retry_after", wait)
		again(http.StatusTooManyRequests, "Too many failed sign-ins from here: "+parrain.AsError(err).Message+".")
	case parrain.CodeUnauthenticated:
		c.log.InfoContext(r.Context(), "sign-in failed", "ip", ip, "email", email)
		again(http.StatusUnauthorized, "Wrong email or password.")
	default:
		c.fail(w, r, nil, err)
	}
}

func (c *Console) startSession(w http.ResponseWriter, r *http.Request, u store.User, next string) {
	tok, _, err := c.access.StartSession(r.Context(), u, c.clientIP(r), r.UserAgent())
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	c.setSessionCookie(w, r, tok)
	redirect(w, r, next)
}

// SetupPage serves GET /admin/setup: the one-time form creating the first
// owner, shown only while no user exists.
func (c *Console) SetupPage(w http.ResponseWriter, r *http.Request) {
	has, err := c.access.HasUsers(r.Context())
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if has {
		redirect(w, r, loginPath)
		return
	}
	c.render(w, r, http.StatusOK, "setup", view{Title: "Set up Parrain", Data: loginData{CSRF: c.loginCSRF(w, r)}})
}

// Setup handles POST /admin/setup. It creates the first owner and signs
// them in; once any user exists it refuses.
func (c *Console) Setup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginFormSize)
	if err := r.ParseForm(); err != nil {
		c.errorPage(w, r, nil, http.StatusBadRequest, "could not read the form")
		return
	}
	d := loginData{Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"), CSRF: c.loginCSRF(w, r), Field: map[string]string{}}
	again := func(status int, err error) {
		if e := parrain.AsError(err); e != nil && e.Field != "" {
			d.Field[e.Field] = e.Message
		} else if e != nil {
			d.Error = e.Message
		}
		c.render(w, r, status, "setup", view{Title: "Set up Parrain", Data: d})
	}
	has, err := c.access.HasUsers(r.Context())
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if has {
		redirect(w, r, loginPath)
		return
	}
	if !checkLoginCSRF(r) {
		again(http.StatusForbidden, parrain.Errorf(parrain.CodeForbidden, "The form expired. Please try again."))
		return
	}
	if !c.byIP.Allow(c.clientIP(r), c.st.Clock().Now()) {
		again(http.StatusTooManyRequests, parrain.Errorf(parrain.CodeRateLimited, "Too many attempts. Wait a minute."))
		return
	}
	email, err := access.NormalizeEmail("email", d.Email)
	if err != nil {
		again(http.StatusBadRequest, err)
		return
	}
	pw := r.PostForm.Get("password")
	if err := access.ValidatePassword("password", email, pw); err != nil {
		again(http.StatusBadRequest, err)
		return
	}
	if pw != r.PostForm.Get("confirm") {
		again(http.StatusBadRequest, parrain.Invalid("confirm", "the two passwords differ"))
		return
	}
	u, err := c.access.CreateFirstUser(r.Context(), access.NewUser{Email: email, Name: d.Name, Password: pw}, c.clientIP(r))
	if parrain.ErrorCode(err) == parrain.CodeConflict {
		redirect(w, r, loginPath)
		return
	}
	if err != nil {
		again(http.StatusBadRequest, err)
		return
	}
	c.setFlash(w, r, "ok", "Welcome! You are the owner of this Parrain installation.")
	c.startSession(w, r, u, homePath)
}

// Logout handles POST /admin/logout: ends this session.
func (c *Console) Logout(w http.ResponseWriter, r *http.Request, a *Auth) {
	if err := c.access.SignOut(r.Context(), a.Session.ID); err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.clearSessionCookie(w, r)
	c.setFlash(w, r, "ok", "You are signed out.")
	redirect(w, r, loginPath)
}

// LogoutEverywhere handles POST /admin/account/sign-out-everywhere: ends
// every session of the user, on every device.
func (c *Console) LogoutEverywhere(w http.ResponseWriter, r *http.Request, a *Auth) {
	n, err := c.access.SignOutEverywhere(r.Context(), a.User.ID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.clearSessionCookie(w, r)
	c.setFlash(w, r, "ok", "Signed out everywhere ("+itoa(n)+" sessions ended).")
	redirect(w, r, loginPath)
}

type accountData struct {
	Sessions []store.Session
	Field    map[string]string
}

// Account serves GET /admin/account: the user's own sessions and password.
func (c *Console) Account(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.renderAccount(w, r, a, http.StatusOK, nil)
}

func (c *Console) renderAccount(w http.ResponseWriter, r *http.Request, a *Auth, status int, field map[string]string) {
	ss, err := c.access.Sessions(r.Context(), a.User.ID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.render(w, r, status, "account", view{Title: "Your account", Nav: "account", Auth: a, Data: accountData{Sessions: ss, Field: field}})
}

// ChangePassword handles POST /admin/account/password. Other sessions end;
// this one stays.
func (c *Console) ChangePassword(w http.ResponseWriter, r *http.Request, a *Auth) {
	f := r.PostForm
	err := c.access.ChangePassword(r.Context(), a.User, a.Session.ID, f.Get("current"), f.Get("password"), f.Get("confirm"))
	if e := parrain.AsError(err); e != nil && e.Code == parrain.CodeInvalid {
		c.renderAccount(w, r, a, http.StatusBadRequest, map[string]string{e.Field: e.Message})
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Password changed. Your other sessions were signed out.")
	redirect(w, r, accountPath)
}

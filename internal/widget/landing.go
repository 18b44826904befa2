package widget

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// ConsentParam is the landing URL parameter (and the snippet's cookie)
// carrying the id of the consent a friend gave on the landing page; the
// customer's backend passes it back as consent_id with the signup.
const ConsentParam = "parrain_consent"

// LandingPage renders a program's landing page for a valid code, and
// reports whether it did (false: redirect at once).
type LandingPage interface {
	Serve(w http.ResponseWriter, r *http.Request, t store.CodeTarget, target string) bool
}

// Landing is the optional personalised landing page of /r/{code}: "Alice
// gave you 10% off", the offer, the terms and an explicit, optional
// consent checkbox for being contacted. It implements the redirect's
// LandingPage hook.
type Landing struct{ s *Service }

// Landing returns the landing page handler.
func (s *Service) Landing() *Landing { return &Landing{s: s} }

// landingView is what the landing page template shows.
type landingView struct {
	Lang, Title, Body, When, Continue, Disclosure, TermsURL, TermsLabel string
	Wording, WordingVersion, Sig, Action, Sender, LogoURL, Color        string
	Nonce, Version                                                      string
}

// Serve renders the landing page for a valid code when the program has one
// and reports whether it did; otherwise the redirect answers as usual.
// The redirect has already set the attribution cookie and records the
// click.
func (l *Landing) Serve(w http.ResponseWriter, r *http.Request, t store.CodeTarget, target string) bool {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !t.LandingPage {
		return false
	}
	ctx := r.Context()
	x, err := l.s.st.Experience(ctx, t.ProgramID)
	if err != nil || !x.LandingPage {
		return false
	}
	v, ok := l.s.landingView(r, t, &x, "")
	if !ok {
		return false
	}
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	v.Nonce = base64.RawStdEncoding.EncodeToString(nonce)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'nonce-"+v.Nonce+"'; img-src https: data:; form-action 'self' "+
		originOf(target)+"; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(http.StatusOK)
	if err := pages.ExecuteTemplate(w, "landing.html", v); err != nil {
		l.s.log.ErrorContext(ctx, "rendering landing page", "err", err)
	}
	return true
}

func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// landingView builds the page for a code in the visitor's language (lang
// forces one, as the form posts back the language it was shown in).
func (s *Service) landingView(r *http.Request, t store.CodeTarget, x *parrain.Experience, lang string) (landingView, bool) {
	ctx := r.Context()
	prog, err := s.st.Program(ctx, t.ProgramID)
	if err != nil {
		return landingView{}, false
	}
	adv, err := s.st.ParticipantByID(ctx, t.ParticipantID)
	if err != nil {
		return landingView{}, false
	}
	if lang == "" {
		lang = s.lang(r, "", "", x.DefaultLocale)
	} else {
		lang = s.cat.Match(lang)
	}
	sender := x.Sender(&prog)
	name := parrain.FirstName(adv.Name)
	if name == "" {
		name = s.cat.T(lang, "notice.a_friend")
	}
	o := s.offers(lang, &prog, x)
	args := []string{"name", name, "friend_offer", o.Friend, "sender", sender}
	v := landingView{Lang: lang, Sender: sender, TermsURL: s.termsURL(*x, prog.ID), TermsLabel: s.cat.T(lang, "landing.terms"),
		Continue: s.cat.T(lang, "landing.continue", args...), Disclosure: s.cat.T(lang, "landing.disclosure", args...),
		Action: "/r/" + t.Code, Version: assetVersion}
	if o.Friend != "" {
		v.Title, v.Body = s.cat.T(lang, "landing.title", args...), s.cat.T(lang, "landing.body", args...)
		if _, when, ok := parrain.FriendOffer(&prog); ok && parrain.LocalizedText(x.OfferText, lang) == "" {
			v.When = s.cat.T(lang, "landing.when."+string(when))
		}
	} else {
		v.Title, v.Body = s.cat.T(lang, "landing.title.no_offer", args...), s.cat.T(lang, "landing.body.no_offer", args...)
	}
	v.Wording, v.WordingVersion = s.consentWording(lang, sender, x)
	v.Sig = s.wordingSig(t.ProgramID, v.WordingVersion, v.Wording)
	b := s.branding(ctx, prog.ID)
	v.LogoURL, v.Color = b.LogoURL, b.Color
	return v, true
}

// consentWording is the consent text shown in lang and its version: the
// program's own wording when it set one for the language, else the
// built-in one.
func (s *Service) consentWording(lang, sender string, x *parrain.Experience) (string, string) {
	if t := parrain.LocalizedText(x.ConsentText, lang); t != "" {
		return t, x.ConsentVersion
	}
	return s.cat.T(lang, "landing.consent", "sender", sender), parrain.DefaultConsentVersion + "/" + lang
}

// wordingSig binds the consent wording posted back by the form to what
// this server showed, so a consent record always holds the exact text the
// friend saw.
func (s *Service) wordingSig(programID, version, wording string) string {
	m := hmac.New(sha256.New, s.st.Secret())
	m.Write([]byte("parrain-consent\n" + programID + "\n" + version + "\n" + wording))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Submit handles POST /r/{code}: it records the friend's consent answer
// (granted or not, with the wording and its version) and redirects to the
// landing URL with ref and parrain_consent. It must be wrapped in
// cross-origin protection: another site must not post a consent for a
// visitor.
func (l *Landing) Submit(w http.ResponseWriter, r *http.Request) {
	s := l.s
	ctx := r.Context()
	code := parrain.NormalizeCode(r.PathValue("code"))
	var t store.CodeTarget
	var err error
	if parrain.ValidCodeSyntax(code) {
		t, err = s.st.ResolveCode(ctx, code)
	} else {
		err = parrain.Errorf(parrain.CodeNotFound, "unknown code")
	}
	if err != nil || !t.Active {
		// Unknown or inactive code: back to GET, which knows where to land.
		http.Redirect(w, r, "/r/"+url.PathEscape(code), http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		httpx.WriteError(w, r, s.log, parrain.Invalid("body", "malformed form"))
		return
	}
	lang := s.cat.Match(r.PostForm.Get("lang"))
	wording, version := r.PostForm.Get("wording"), r.PostForm.Get("wording_version")
	if wording == "" || !hmac.Equal([]byte(r.PostForm.Get("sig")), []byte(s.wordingSig(t.ProgramID, version, wording))) {
		// Not the form this server showed: record the current wording only
		// if the friend saw it, that is re-show the page.
		http.Redirect(w, r, "/r/"+t.Code, http.StatusSeeOther)
		return
	}
	c, _, err := s.ref.RecordConsent(ctx, store.Consent{ProgramID: t.ProgramID, Code: t.Code, Granted: r.PostForm.Get("consent") == "yes",
		WordingVersion: version, Wording: wording, Locale: lang, Source: store.ConsentLanding, IPHash: hashIP(s.st.Secret(), s.ips.ClientIP(r))}, store.Idem{})
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	target := withParams(t.LandingURL, map[string]string{"ref": t.Code, ConsentParam: c.ID})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// withParams adds query parameters to a URL, keeping the others.
func withParams(landing string, params map[string]string) string {
	u, err := url.Parse(landing)
	if err != nil {
		return landing
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

package widget

import (
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Unsubscribe handles GET /u/{token}: a page asking to confirm, so that
// mail scanners that open links do not unsubscribe anyone. The token is a
// signed capability naming the program and the address.
func (s *Service) Unsubscribe(w http.ResponseWriter, r *http.Request) {
	s.unsubscribe(w, r, false)
}

// UnsubscribePost handles POST /u/{token}: the confirmation form and RFC
// 8058 one-click unsubscribe (body "List-Unsubscribe=One-Click", sent by
// mail providers). Either way the address gets no more emails from the
// program, including emails already queued.
func (s *Service) UnsubscribePost(w http.ResponseWriter, r *http.Request) {
	s.unsubscribe(w, r, true)
}

func (s *Service) unsubscribe(w http.ResponseWriter, r *http.Request, confirm bool) {
	ctx := r.Context()
	lang := s.lang(r, r.URL.Query().Get("lang"), "", "")
	view := map[string]any{"Lang": lang, "Title": s.cat.T(lang, "unsub.title"), "Version": assetVersion}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	progID, email, err := s.st.ParseUnsubscribeToken(r.PathValue("token"))
	if err != nil {
		view["Message"] = s.cat.T(lang, "unsub.invalid")
		s.page(w, r, http.StatusNotFound, view)
		return
	}
	sender := ""
	if p, err := s.st.Program(ctx, progID); err == nil {
		sender = p.Name
		if x, err := s.st.Experience(ctx, progID); err == nil {
			sender = x.Sender(&p)
			// The recipient's own language first: the page answers the
			// email they were sent.
			recipient := ""
			if pp, err := s.st.ParticipantByEmail(ctx, progID, email); err == nil {
				recipient = pp.Locale
			}
			lang = s.lang(r, r.URL.Query().Get("lang"), recipient, x.DefaultLocale)
			view["Lang"], view["Title"] = lang, s.cat.T(lang, "unsub.title")
		}
	}
	if !confirm {
		view["Message"] = s.cat.T(lang, "unsub.question", "sender", sender, "email", email)
		view["Ask"], view["Button"], view["Action"] = true, s.cat.T(lang, "unsub.button"), "/u/"+r.PathValue("token")+"?lang="+url.QueryEscape(lang)
		s.page(w, r, http.StatusOK, view)
		return
	}
	source := "page"
	if b, _ := io.ReadAll(io.LimitReader(r.Body, 1024)); strings.Contains(string(b), "List-Unsubscribe=One-Click") {
		source = "one-click"
	}
	if err := s.ref.Unsubscribe(ctx, progID, email, source); err != nil {
		s.log.ErrorContext(ctx, "unsubscribing", "err", err)
		http.Error(w, "internal error; please try again", http.StatusInternalServerError)
		return
	}
	view["Message"] = s.cat.T(lang, "unsub.done", "sender", sender, "email", email)
	s.page(w, r, http.StatusOK, view)
}

func (s *Service) page(w http.ResponseWriter, r *http.Request, status int, view map[string]any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, "unsubscribe.html", view); err != nil {
		s.log.ErrorContext(r.Context(), "rendering page", "err", err)
	}
}

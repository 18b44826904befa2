package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/i18n"
	"github.com/parrainhq/parrain/internal/notify"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// The advocate and friend experience: widget secret and tokens, settings,
// share statistics, the notification feed, consents, email templates and
// the email log.

// RotateWidgetSecret handles POST /api/v1/programs/{program_id}/widget-secret:
// it creates or replaces the secret that signs widget tokens and returns
// it once (the previous one keeps working for an hour).
func (a *API) RotateWidgetSecret(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	sec, replayed, err := a.ref.RotateWidgetSecret(r.Context(), r.PathValue("program_id"), id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, sec)
}

// WidgetToken is a minted widget token.
type WidgetToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// MintWidgetToken handles POST /api/v1/programs/{program_id}/widget-tokens:
// {"external_id", "ttl_seconds"} → a widget token, for backends that
// prefer an API call to computing the HMAC themselves.
func (a *API) MintWidgetToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ExternalID string `json:"external_id"`
		TTLSeconds int    `json:"ttl_seconds"`
	}
	_, err := readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if err := parrain.ValidateExternalID("external_id", in.ExternalID); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if in.TTLSeconds == 0 {
		in.TTLSeconds = 3600
	}
	if in.TTLSeconds < 60 || in.TTLSeconds > int(parrain.MaxWidgetTokenTTL.Seconds()) {
		httpx.WriteError(w, r, a.log, parrain.Invalid("ttl_seconds", "must be between 60 and %d", int(parrain.MaxWidgetTokenTTL.Seconds())))
		return
	}
	prog := r.PathValue("program_id")
	if _, err := a.st.Program(r.Context(), prog); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	cur, _, err := a.st.WidgetSecrets(r.Context(), prog)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if cur == "" {
		httpx.WriteError(w, r, a.log, parrain.Errorf(parrain.CodeConflict, "this program has no widget secret yet: create one with POST /api/v1/programs/%s/widget-secret", prog))
		return
	}
	exp := a.st.Clock().Now().Add(time.Duration(in.TTLSeconds) * time.Second).Truncate(time.Second)
	httpx.WriteJSON(w, http.StatusCreated, WidgetToken{Token: parrain.MintWidgetToken(cur, prog, in.ExternalID, exp), ExpiresAt: exp})
}

// GetExperience handles GET /api/v1/programs/{program_id}/experience.
func (a *API) GetExperience(w http.ResponseWriter, r *http.Request) {
	x, err := a.st.Experience(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, x)
}

// PutExperience handles PUT /api/v1/programs/{program_id}/experience: the
// landing page, texts, consent wording, invitation limits and emails.
func (a *API) PutExperience(w http.ResponseWriter, r *http.Request) {
	var x parrain.Experience
	_, err := readJSON(w, r, &x)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	x, err = a.ref.SetExperience(r.Context(), r.PathValue("program_id"), x)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, x)
}

// ShareStats handles GET /api/v1/programs/{program_id}/share-stats
// (?since=RFC 3339, default 30 days ago).
func (a *API) ShareStats(w http.ResponseWriter, r *http.Request) {
	since := a.st.Clock().Now().Add(-30 * 24 * time.Hour)
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			httpx.WriteError(w, r, a.log, parrain.Invalid("since", "must be an RFC 3339 timestamp"))
			return
		}
		since = t
	}
	prog := r.PathValue("program_id")
	if _, err := a.st.Program(r.Context(), prog); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	st, err := a.st.ShareStats(r.Context(), prog, since)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, st)
}

// ParticipantNotifications handles GET .../participants/{external_id}/notifications
// (?unread=true, ?locale=fr, ?limit, ?cursor): the in-app feed for the
// customer's own app, rendered in the participant's language.
func (a *API) ParticipantNotifications(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	p, err := a.st.Participant(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	unread := false
	if v := r.URL.Query().Get("unread"); v != "" {
		if unread, err = strconv.ParseBool(v); err != nil {
			httpx.WriteError(w, r, a.log, parrain.Invalid("unread", "must be true or false"))
			return
		}
	}
	ns, next, err := a.st.Notifications(r.Context(), p.ID, unread, pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	prog, err := a.st.Program(r.Context(), p.ProgramID)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	x, err := a.st.Experience(r.Context(), p.ProgramID)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	cat := i18n.Default()
	lang := cat.Match(r.URL.Query().Get("locale"), p.Locale, r.Header.Get("Accept-Language"), x.DefaultLocale)
	sender := x.Sender(&prog)
	unreadN, err := a.st.UnreadNotifications(r.Context(), p.ID)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		List[notify.FeedItem]
		Unread int64  `json:"unread"`
		Locale string `json:"locale"`
	}{List[notify.FeedItem]{Data: notify.Feed(cat, lang, sender, ns), NextCursor: httpx.Cursor(next)}, unreadN, lang})
}

// MarkNotificationsRead handles POST .../participants/{external_id}/notifications/read:
// {"ids": [...]} marks those, {} all.
func (a *API) MarkNotificationsRead(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	var in struct {
		IDs []string `json:"ids"`
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := httpx.DecodeJSON(body, &in); err != nil {
			httpx.WriteError(w, r, a.log, err)
			return
		}
	}
	p, err := a.st.Participant(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	n, err := a.ref.MarkNotificationsRead(r.Context(), p.ID, in.IDs)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]int64{"marked": n})
}

// ListConsents handles GET .../participants/{external_id}/consents.
func (a *API) ListConsents(w http.ResponseWriter, r *http.Request) {
	p, err := a.st.Participant(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	cs, err := a.st.Consents(r.Context(), p.ID)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.Consent]{Data: cs})
}

// RecordConsent handles POST .../participants/{external_id}/consents:
// {"granted", "wording", "wording_version", "locale"}, for consent asked in
// the customer's own signup form.
func (a *API) RecordConsent(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Granted        *bool  `json:"granted"`
		Wording        string `json:"wording"`
		WordingVersion string `json:"wording_version"`
		Locale         string `json:"locale"`
	}
	body, err := readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if in.Granted == nil {
		httpx.WriteError(w, r, a.log, parrain.Invalid("granted", "is required: true or false"))
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	p, err := a.st.Participant(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	c, replayed, err := a.ref.RecordConsent(r.Context(), store.Consent{ProgramID: p.ProgramID, ParticipantID: p.ID, ExternalID: p.ExternalID,
		Granted: *in.Granted, Wording: in.Wording, WordingVersion: in.WordingVersion, Locale: in.Locale, Source: store.ConsentAPI}, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, c)
}

// ListEmails handles GET /api/v1/programs/{program_id}/emails
// (?status, ?to, ?kind, ?limit, ?cursor): every email composed, with its
// outcome.
func (a *API) ListEmails(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	q := r.URL.Query()
	f := store.MessageFilter{Status: q.Get("status"), To: q.Get("to"), Kind: q.Get("kind")}
	switch f.Status {
	case "", store.EmailQueued, store.EmailSent, store.EmailFailed, store.EmailSuppressed, store.EmailSkipped:
	default:
		httpx.WriteError(w, r, a.log, parrain.Invalid("status", "must be queued, sent, failed, suppressed or skipped"))
		return
	}
	if f.Kind != "" && !parrain.ValidNoticeKind(f.Kind) {
		httpx.WriteError(w, r, a.log, parrain.Invalid("kind", "is not an email kind"))
		return
	}
	prog := r.PathValue("program_id")
	if _, err := a.st.Program(r.Context(), prog); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	ms, next, err := a.st.EmailMessages(r.Context(), prog, f, pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.EmailMessage]{Data: ms, NextCursor: httpx.Cursor(next)})
}

// EmailTemplatesView lists a program's overrides and what can be
// overridden.
type EmailTemplatesView struct {
	Data      []store.EmailTemplate `json:"data"`
	Kinds     []parrain.NoticeKind  `json:"kinds"`
	Languages []string              `json:"languages"`
}

// ListEmailTemplates handles GET /api/v1/programs/{program_id}/email-templates.
func (a *API) ListEmailTemplates(w http.ResponseWriter, r *http.Request) {
	prog := r.PathValue("program_id")
	if _, err := a.st.Program(r.Context(), prog); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	ts, err := a.st.EmailTemplates(r.Context(), prog)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, EmailTemplatesView{Data: ts, Kinds: parrain.NoticeKinds, Languages: i18n.Default().Languages()})
}

func templatePath(r *http.Request) (parrain.NoticeKind, string, error) {
	kind := r.PathValue("kind")
	if !parrain.ValidNoticeKind(kind) {
		return "", "", parrain.Invalid("kind", "is not an email kind")
	}
	loc, err := parrain.NormalizeLocale("locale", r.PathValue("locale"))
	if err != nil || loc == "" {
		return "", "", parrain.Invalid("locale", "must be a language tag such as en or fr-FR")
	}
	return parrain.NoticeKind(kind), loc, nil
}

// EmailTemplateView is the email of a kind and language as it will be
// sent: the override when there is one, and a preview with sample data.
type EmailTemplateView struct {
	Override *store.EmailTemplate `json:"override,omitempty"`
	Preview  notify.Rendered      `json:"preview"`
}

// GetEmailTemplate handles GET .../email-templates/{kind}/{locale}.
func (a *API) GetEmailTemplate(w http.ResponseWriter, r *http.Request) {
	kind, loc, err := templatePath(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	prog := r.PathValue("program_id")
	prev, _, err := notify.Preview(r.Context(), a.st, i18n.Default(), prog, kind, loc)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	v := EmailTemplateView{Preview: prev}
	if t, ok, err := a.st.EmailTemplate(r.Context(), prog, kind, loc); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	} else if ok {
		v.Override = &t
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}

// PutEmailTemplate handles PUT .../email-templates/{kind}/{locale}:
// {"subject", "text", "html"} as Go templates (see notify.TemplateData).
func (a *API) PutEmailTemplate(w http.ResponseWriter, r *http.Request) {
	kind, loc, err := templatePath(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	var in struct {
		Subject string `json:"subject"`
		Text    string `json:"text"`
		HTML    string `json:"html"`
	}
	_, err = readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	t := store.EmailTemplate{Kind: kind, Locale: loc, Subject: in.Subject, Text: in.Text, HTML: in.HTML}
	t, err = notify.SetEmailTemplate(r.Context(), a.st, r.PathValue("program_id"), t)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, t)
}

// DeleteEmailTemplate handles DELETE .../email-templates/{kind}/{locale}:
// back to the built-in email.
func (a *API) DeleteEmailTemplate(w http.ResponseWriter, r *http.Request) {
	kind, loc, err := templatePath(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if err := notify.DeleteEmailTemplate(r.Context(), a.st, r.PathValue("program_id"), kind, loc); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

package widget

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/notify"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// advocate is the authenticated caller of a widget API request.
type advocate struct {
	claims parrain.WidgetClaims
	prog   parrain.Program
	x      parrain.Experience
	p      parrain.Participant
}

// authed wraps a widget API handler: it verifies the widget token
// (Authorization: Bearer <token>) and loads the advocate, creating the
// participant on first sight (the customer's backend vouched for it by
// signing the token).
func (s *Service) authed(h func(w http.ResponseWriter, r *http.Request, a *advocate)) http.HandlerFunc {
	return cors(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		c, err := parrain.VerifyWidgetToken(r.Context(), s.st.WidgetSecrets, tok, r.URL.Query().Get("program"), s.st.Clock().Now())
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		a, err := s.loadAdvocate(r.Context(), c)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		// The advocate's own changes (a payout account) are audited under
		// them; their IP is not kept.
		r = r.WithContext(parrain.WithActor(r.Context(), parrain.Actor{Kind: parrain.ActorAdvocate, ID: a.p.ID, Label: a.p.ExternalID}))
		h(w, r, a)
	})
}

func (s *Service) loadAdvocate(ctx context.Context, c parrain.WidgetClaims) (*advocate, error) {
	prog, err := s.st.Program(ctx, c.ProgramID)
	if err != nil {
		return nil, err
	}
	x, err := s.st.Experience(ctx, prog.ID)
	if err != nil {
		return nil, err
	}
	p, err := s.st.Participant(ctx, prog.ID, c.ExternalID)
	if parrain.ErrorCode(err) == parrain.CodeNotFound {
		p, _, err = s.ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: c.ExternalID}, store.Idem{})
	}
	if err != nil {
		return nil, err
	}
	return &advocate{claims: c, prog: prog, x: x, p: p}, nil
}

// Me is what the widget shows: the advocate's link, the share messages,
// the offer, the terms, the referrals and the rewards, in one language.
type Me struct {
	Locale      string            `json:"locale"`
	Strings     map[string]string `json:"strings"`
	Program     ProgramView       `json:"program"`
	Participant ParticipantView   `json:"participant"`
	Link        string            `json:"link"`
	Headline    string            `json:"headline"`
	Offer       OfferView         `json:"offer"`
	Share       ShareView         `json:"share"`
	TermsURL    string            `json:"terms_url,omitempty"`
	Stats       StatsView         `json:"stats"`
	Referrals   []ReferralView    `json:"referrals"`
	Rewards     RewardsView       `json:"rewards"`
	Invites     InvitesView       `json:"invites"`
	Unread      int64             `json:"unread_notifications"`
	Branding    BrandingView      `json:"branding"`
}

// ProgramView names the program.
type ProgramView struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Sender string `json:"sender"`
	Active bool   `json:"active"`
}

// ParticipantView is the advocate.
type ParticipantView struct {
	ExternalID string `json:"external_id"`
	Name       string `json:"name,omitempty"`
	Code       string `json:"code"`
	Active     bool   `json:"active"`
}

// OfferView describes both sides of the program's incentive.
type OfferView struct {
	Friend   string `json:"friend,omitempty"`
	Advocate string `json:"advocate,omitempty"`
}

// ShareView is the pre-written share message and one-click share URLs.
type ShareView struct {
	Subject    string            `json:"subject"`
	Message    string            `json:"message"`
	Disclosure string            `json:"disclosure"`
	URLs       map[string]string `json:"urls"`
}

// StatsView counts the advocate's link activity.
type StatsView struct {
	Clicks    int64 `json:"clicks"`
	Signups   int64 `json:"signups"`
	Converted int64 `json:"converted"`
}

// ReferralView is one referred friend, named discreetly.
type ReferralView struct {
	Friend string    `json:"friend"`
	Status string    `json:"status"` // signed_up, converted, rewarded, rejected
	Date   time.Time `json:"date"`
}

// Amount is a formatted sum in one currency.
type Amount struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Text     string `json:"text"`
}

// RewardsView sums the advocate's rewards: earned (everything not
// reversed), pending (not paid yet) and paid.
type RewardsView struct {
	Earned  []Amount `json:"earned"`
	Pending []Amount `json:"pending"`
	Paid    []Amount `json:"paid"`
	// Friend lists the rewards the participant got as a referred friend
	// (their welcome discount or credit).
	Friend []FriendReward `json:"friend"`
}

// FriendReward is a reward earned as a referred friend.
type FriendReward struct {
	Text   string `json:"text"`
	Status string `json:"status"`
}

// InvitesView says how many email invitations are left today.
type InvitesView struct {
	PerDay int `json:"per_day"`
	Left   int `json:"left"`
}

// BrandingView is the program's look.
type BrandingView struct {
	Color   string `json:"color"`
	Accent  string `json:"accent"`
	LogoURL string `json:"logo_url,omitempty"`
}

// MeHandler handles GET /api/v1/widget/me.
func (s *Service) MeHandler(w http.ResponseWriter, r *http.Request) {
	s.authed(func(w http.ResponseWriter, r *http.Request, a *advocate) {
		me, err := s.me(r, a)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, me)
	})(w, r)
}

func (s *Service) me(r *http.Request, a *advocate) (*Me, error) {
	ctx := r.Context()
	// Opening the widget is the advocate's exposure to a running
	// experiment: their arm's rules and texts are what they see.
	var arm referral.ArmView
	var err error
	if a.prog, a.x, arm, err = s.ref.ExposeAdvocate(ctx, a.prog, a.x, a.p); err != nil {
		return nil, err
	}
	lang := s.lang(r, r.URL.Query().Get("locale"), a.p.Locale, a.x.DefaultLocale)
	sender := a.x.Sender(&a.prog)
	me := &Me{Locale: lang, Strings: s.cat.Prefix(lang, "widget."),
		Program:     ProgramView{ID: a.prog.ID, Name: a.prog.Name, Sender: sender, Active: a.prog.Status == parrain.ProgramActive},
		Participant: ParticipantView{ExternalID: a.p.ExternalID, Name: a.p.Name, Code: a.p.Code, Active: a.p.Status == parrain.ParticipantActive},
		Link:        s.baseURL + "/r/" + a.p.Code, TermsURL: s.termsURL(a.x, a.prog.ID), Referrals: []ReferralView{}}
	me.Offer = s.offers(lang, &a.prog, &a.x)
	me.Headline = s.headline(lang, sender, me.Offer)
	me.Share = s.share(lang, sender, a.p, me.Link, me.Offer, &a.x)
	if subject := parrain.LocalizedText(arm.Overrides.ShareSubject, lang); subject != "" {
		me.Share.Subject = subject
		for c := range me.Share.URLs {
			me.Share.URLs[c] = ShareURL(c, me.Link, subject, me.Share.Message)
		}
	}
	st, err := s.st.ParticipantStats(ctx, a.p.ID)
	if err != nil {
		return nil, err
	}
	me.Stats = StatsView{Clicks: st.Clicks, Signups: st.Signups, Converted: st.Purchases}
	me.Rewards = s.rewardTotals(lang, st)
	refs, _, err := s.st.Referrals(ctx, a.prog.ID, store.ReferralFilter{AdvocateID: a.p.ID}, store.Page{Limit: 50})
	if err != nil {
		return nil, err
	}
	rws, _, err := s.st.ParticipantRewards(ctx, a.p.ID, "", store.Page{Limit: 200})
	if err != nil {
		return nil, err
	}
	if err := s.st.DecorateRewards(ctx, rws); err != nil {
		return nil, err
	}
	rewarded := map[string]bool{}
	for _, rw := range rws {
		if rw.Role == parrain.RoleFriend {
			me.Rewards.Friend = append(me.Rewards.Friend, FriendReward{Text: s.rewardText(lang, rw), Status: string(rw.Status)})
			continue
		}
		if rw.Status != parrain.RewardReversed && rw.Status != parrain.RewardClawedBack {
			rewarded[rw.ReferralID] = true
		}
	}
	if me.Rewards.Friend == nil {
		me.Rewards.Friend = []FriendReward{}
	}
	ids := make([]string, 0, len(refs))
	for _, ref := range refs {
		ids = append(ids, ref.FriendID)
	}
	friends, err := s.st.ParticipantsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		v := ReferralView{Status: string(ref.Status), Date: ref.SignedUpAt}
		if rewarded[ref.ID] {
			v.Status = "rewarded"
		}
		v.Friend = friendName(friends[ref.FriendID], s.cat.T(lang, "notice.a_friend"))
		me.Referrals = append(me.Referrals, v)
	}
	sent, err := s.st.InvitesSentToday(ctx, a.p.ID)
	if err != nil {
		return nil, err
	}
	me.Invites = InvitesView{PerDay: a.x.InvitesPerDay, Left: max(0, a.x.InvitesPerDay-sent)}
	if me.Unread, err = s.st.UnreadNotifications(ctx, a.p.ID); err != nil {
		return nil, err
	}
	me.Branding = s.branding(ctx, a.prog.ID)
	return me, nil
}

func (s *Service) branding(ctx context.Context, programID string) BrandingView {
	b := BrandingView{Color: store.DefaultPrimaryColor, Accent: store.DefaultAccentColor}
	if br, err := s.st.ProgramBranding(ctx, programID); err == nil {
		b.Color, b.Accent, b.LogoURL = br.PrimaryColor, br.AccentColor, br.LogoURL
	}
	return b
}

// friendName shows a referred friend to their advocate without exposing
// their address: "Bob D.", "b•••@example.org" or "a friend".
func friendName(p parrain.Participant, def string) string {
	if n := parrain.ShortName(p.Name); n != "" {
		return n
	}
	if m := parrain.MaskEmail(p.Email); m != "" {
		return m
	}
	return def
}

func (s *Service) offers(lang string, p *parrain.Program, x *parrain.Experience) OfferView {
	var o OfferView
	if spec, _, ok := parrain.FriendOffer(p); ok {
		o.Friend = s.cat.Offer(lang, spec, p.Currency, true)
	}
	if v := parrain.LocalizedText(x.OfferText, lang); v != "" {
		o.Friend = v
	}
	if spec, t, ok := parrain.AdvocateOffer(p); ok {
		o.Advocate = s.cat.AdvocateOffer(lang, spec, p.Currency, t)
	}
	return o
}

func (s *Service) headline(lang, sender string, o OfferView) string {
	args := []string{"friend_offer", o.Friend, "advocate_offer", o.Advocate, "sender", sender}
	switch {
	case o.Friend != "" && o.Advocate != "":
		return s.cat.T(lang, "widget.headline.both", args...)
	case o.Friend != "":
		return s.cat.T(lang, "widget.headline.friend", args...)
	case o.Advocate != "":
		return s.cat.T(lang, "widget.headline.advocate", args...)
	}
	return s.cat.T(lang, "widget.headline.none", args...)
}

// share composes the pre-written share message (the program's own, or the
// language file's) and always carries the incentive disclosure that
// rewarded recommendations require (FTC 16 CFR Part 255).
func (s *Service) share(lang, sender string, p parrain.Participant, link string, o OfferView, x *parrain.Experience) ShareView {
	name := parrain.FirstName(p.Name)
	msg := parrain.LocalizedText(x.ShareMessage, lang)
	if msg == "" {
		msg = s.cat.T(lang, "share.message.plain")
		if o.Friend != "" {
			msg = s.cat.T(lang, "share.message.offer")
		}
	}
	disclosure := s.cat.T(lang, "share.disclosure")
	msg = parrain.ComposeShare(msg, sender, name, o.Friend, link, disclosure)
	subject := s.cat.T(lang, "share.subject", "name", name, "sender", sender)
	if name == "" {
		subject = s.cat.T(lang, "share.subject.anonymous", "sender", sender)
	}
	v := ShareView{Subject: subject, Message: msg, Disclosure: disclosure, URLs: map[string]string{}}
	for _, c := range store.ShareChannels {
		if c != "copy" {
			v.URLs[c] = ShareURL(c, link, subject, msg)
		}
	}
	return v
}

// WithDisclosure appends the incentive disclosure to a share message that
// lacks it (the advocate may edit the message, not drop the disclosure).
func WithDisclosure(msg, disclosure string) string { return parrain.WithDisclosure(msg, disclosure) }

// ShareURL builds the one-click share URL of a channel, exactly as the
// widget's script does (encodeURIComponent semantics).
func ShareURL(channel, link, subject, msg string) string {
	e := EncodeURIComponent
	switch channel {
	case "email":
		return "mailto:?subject=" + e(subject) + "&body=" + e(msg)
	case "x":
		return "https://x.com/intent/tweet?text=" + e(msg)
	case "linkedin":
		return "https://www.linkedin.com/sharing/share-offsite/?url=" + e(link)
	case "facebook":
		return "https://www.facebook.com/sharer/sharer.php?u=" + e(link) + "&quote=" + e(msg)
	case "whatsapp":
		return "https://wa.me/?text=" + e(msg)
	case "sms":
		return "sms:?&body=" + e(msg)
	}
	return link
}

// EncodeURIComponent escapes s like JavaScript's encodeURIComponent.
func EncodeURIComponent(s string) string {
	const keep = "-_.!~*'()"
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func (s *Service) rewardTotals(lang string, st store.Stats) RewardsView {
	sum := func(statuses ...string) []Amount {
		totals := map[string]int64{}
		for _, status := range statuses {
			for cur, v := range st.Rewards[status] {
				totals[cur] += v
			}
		}
		out := []Amount{}
		for cur, v := range totals {
			if v != 0 {
				out = append(out, Amount{Amount: v, Currency: cur, Text: s.cat.Money(lang, v, cur)})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
		return out
	}
	return RewardsView{Earned: sum("pending", "approved", "paid"), Pending: sum("pending", "approved"), Paid: sum("paid")}
}

func (s *Service) rewardText(lang string, rw parrain.Reward) string {
	if rw.Kind == parrain.KindCustom && rw.Description != "" {
		return rw.Description
	}
	t := s.cat.Money(lang, rw.Amount-rw.Reversed, rw.Currency)
	if rw.Kind == parrain.KindCoupon {
		t = s.cat.T(lang, "offer.coupon.fixed", "amount", t)
	}
	if rw.Description != "" {
		t += " — " + rw.Description
	}
	if rw.Fulfilment != nil && rw.Fulfilment.Code != "" {
		t += " — " + s.cat.T(lang, "reward.code", "code", rw.Fulfilment.Code)
	}
	return t
}

// ShareHandler handles POST /api/v1/widget/shares: {"channel": "x"}.
func (s *Service) ShareHandler(w http.ResponseWriter, r *http.Request) {
	s.authed(func(w http.ResponseWriter, r *http.Request, a *advocate) {
		var in struct {
			Channel string `json:"channel"`
		}
		if err := decode(w, r, &in); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		counted, err := s.ref.RecordShare(r.Context(), a.prog.ID, a.p.ID, in.Channel)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		httpx.WriteJSON(w, http.StatusCreated, map[string]any{"channel": in.Channel, "counted": counted})
	})(w, r)
}

// InviteHandler handles POST /api/v1/widget/invites: {"emails": [...],
// "note": "..."}. An Idempotency-Key makes a retried submission safe.
func (s *Service) InviteHandler(w http.ResponseWriter, r *http.Request) {
	s.authed(func(w http.ResponseWriter, r *http.Request, a *advocate) {
		var in struct {
			Emails []string `json:"emails"`
			Note   string   `json:"note"`
			Locale string   `json:"locale"`
		}
		if err := decode(w, r, &in); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		if a.p.Status != parrain.ParticipantActive || a.prog.Status != parrain.ProgramActive {
			httpx.WriteError(w, r, s.log, parrain.Errorf(parrain.CodeForbidden, "invitations are closed: the program or this referral link is not active"))
			return
		}
		lang := s.lang(r, in.Locale, a.p.Locale, a.x.DefaultLocale)
		idem, err := widgetIdem(r, a, in)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		res, replayed, err := s.ref.CreateInvites(r.Context(), a.p, in.Emails, in.Note, lang, idem)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		sent, _ := s.st.InvitesSentToday(r.Context(), a.p.ID)
		httpx.WriteJSON(w, http.StatusCreated, map[string]any{"results": res, "left_today": max(0, a.x.InvitesPerDay-sent)})
	})(w, r)
}

func widgetIdem(r *http.Request, a *advocate, body any) (store.Idem, error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return store.Idem{}, nil
	}
	if len(key) > 255 {
		return store.Idem{}, parrain.Invalid("Idempotency-Key", "must be at most 255 characters")
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n%v", r.Method, r.URL.Path, body)
	return store.Idem{Scope: "widget:" + a.p.ID, Key: key, Hash: hex.EncodeToString(h.Sum(nil))}, nil
}

// NotificationsHandler handles GET /api/v1/widget/notifications
// (?unread=true, ?limit, ?cursor).
func (s *Service) NotificationsHandler(w http.ResponseWriter, r *http.Request) {
	s.authed(func(w http.ResponseWriter, r *http.Request, a *advocate) {
		pg, err := pageOf(r)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		unread := r.URL.Query().Get("unread") == "true"
		ns, next, err := s.st.Notifications(r.Context(), a.p.ID, unread, pg)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		lang := s.lang(r, r.URL.Query().Get("locale"), a.p.Locale, a.x.DefaultLocale)
		sender := a.x.Sender(&a.prog)
		out := map[string]any{"data": notify.Feed(s.cat, lang, sender, ns)}
		if next != "" {
			out["next_cursor"] = httpx.EncodeCursor(next)
		}
		httpx.WriteJSON(w, http.StatusOK, out)
	})(w, r)
}

// MarkReadHandler handles POST /api/v1/widget/notifications/read:
// {"ids": [...]} marks those, {} marks all.
func (s *Service) MarkReadHandler(w http.ResponseWriter, r *http.Request) {
	s.authed(func(w http.ResponseWriter, r *http.Request, a *advocate) {
		var in struct {
			IDs []string `json:"ids"`
		}
		if err := decode(w, r, &in); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		n, err := s.ref.MarkNotificationsRead(r.Context(), a.p.ID, in.IDs)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"marked": n})
	})(w, r)
}

// pageOf reads the limit and cursor query parameters.
func pageOf(r *http.Request) (store.Page, error) {
	p, err := httpx.ParsePage(r)
	return store.Page(p), err
}

// LookupResult answers a refer-by-name lookup.
type LookupResult struct {
	Matched bool   `json:"matched"`
	Code    string `json:"code,omitempty"`
	Name    string `json:"name,omitempty"` // "Alice M.": confirms the person the friend meant
	Message string `json:"message"`
}

// LookupHandler handles POST /api/v1/widget/lookup: {"program_id",
// "query"} with the name or email of the person who recommended the
// visitor. Only a unique, exact-enough match is returned, with the
// advocate's short name and code; otherwise nothing, so the lookup reveals
// no one the friend did not already name. It is rate-limited per IP. The
// body may be sent as text/plain to avoid a CORS preflight.
func (s *Service) LookupHandler(w http.ResponseWriter, r *http.Request) {
	cors(func(w http.ResponseWriter, r *http.Request) {
		if !s.lookups.Allow(s.ips.ClientIP(r), time.Now()) {
			w.Header().Set("Retry-After", "180")
			httpx.WriteError(w, r, s.log, parrain.Errorf(parrain.CodeRateLimited, "too many lookups; try again in a few minutes"))
			return
		}
		var in struct {
			ProgramID string `json:"program_id"`
			Query     string `json:"query"`
			Locale    string `json:"locale"`
		}
		if err := decode(w, r, &in); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		prog, err := s.st.Program(r.Context(), in.ProgramID)
		if err != nil {
			httpx.WriteError(w, r, s.log, &parrain.Error{Code: parrain.CodeNotFound, Field: "program_id", Message: "program not found"})
			return
		}
		x, err := s.st.Experience(r.Context(), prog.ID)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		lang := s.lang(r, in.Locale, "", x.DefaultLocale)
		q, err := parrain.ParseLookup(in.Query)
		if err != nil {
			e := parrain.AsError(err)
			e.Message = s.cat.T(lang, "lookup.invalid")
			httpx.WriteError(w, r, s.log, e)
			return
		}
		res := LookupResult{Message: s.cat.T(lang, "lookup.not_found")}
		if prog.Status == parrain.ProgramActive {
			p, ok, err := s.st.LookupAdvocate(r.Context(), prog.ID, q)
			if err != nil {
				httpx.WriteError(w, r, s.log, err)
				return
			}
			if ok {
				name := parrain.ShortName(p.Name)
				if name == "" {
					name = parrain.MaskEmail(p.Email)
				}
				res = LookupResult{Matched: true, Code: p.Code, Name: name, Message: s.cat.T(lang, "lookup.found", "name", name)}
			}
		}
		httpx.WriteJSON(w, http.StatusOK, res)
	})(w, r)
}

// termsURL is the program's own terms page when it set one, else the terms
// Parrain generates from the program's rules.
func (s *Service) termsURL(x parrain.Experience, programID string) string {
	if x.TermsURL != "" {
		return x.TermsURL
	}
	return s.baseURL + "/terms/" + programID
}

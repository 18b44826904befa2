// Package notify tells advocates and friends what happened: it composes
// each notice (friend signed up, reward earned/approved/paid, welcome,
// reminders, invitations, moment triggers) into an in-app notification
// and, when allowed, an email in the recipient's language, and sends the
// emails through SMTP from the durable job queue.
//
// Every notice is recorded once (dedupe keys), every email is recorded
// with its rendered parts and outcome, unsubscribes are honoured when an
// email is composed and again when it is sent, and no marketing email goes
// to a referred person without recorded consent.
//
// It imports the domain, the store, the SMTP client and the language
// files; never the HTTP packages.
package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/i18n"
	"github.com/parrainhq/parrain/internal/integration/smtp"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Sender sends one email; *smtp.Mailer is the production one.
type Sender interface {
	Send(ctx context.Context, msg smtp.Message) error
}

// MaxEmailAttempts bounds the send attempts of one email (with the job
// runner's exponential backoff, about three hours).
const MaxEmailAttempts = 10

// Service composes and sends notices.
type Service struct {
	st      *store.Store
	log     *slog.Logger
	mail    Sender // nil: no SMTP server configured
	from    *mail.Address
	cat     *i18n.Catalog
	baseURL string
	host    string
	// SweepEvery and RemindEvery are the periods of the recurring jobs.
	SweepEvery  time.Duration
	RemindEvery time.Duration
}

// New returns the service. mailer may be nil (no SMTP configured: emails
// are recorded as skipped); from is the configured default sender.
func New(st *store.Store, log *slog.Logger, mailer Sender, from *mail.Address, baseURL string) *Service {
	host := "parrain.local"
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	if from == nil {
		from = &mail.Address{Address: "noreply@" + host}
	}
	return &Service{st: st, log: log, mail: mailer, from: from, cat: i18n.Default(), baseURL: strings.TrimRight(baseURL, "/"),
		host: host, SweepEvery: 5 * time.Minute, RemindEvery: time.Hour}
}

// Catalog returns the language files.
func (n *Service) Catalog() *i18n.Catalog { return n.cat }

// EnsureSchedules seeds the recurring sweep and reminder jobs (each run
// enqueues the next; this restarts the chains after downtime).
func (n *Service) EnsureSchedules(ctx context.Context) error {
	if err := n.st.EnsureRecurring(ctx, parrain.JobNotifySweep, n.SweepEvery); err != nil {
		return err
	}
	return n.st.EnsureRecurring(ctx, parrain.JobReminders, n.RemindEvery)
}

// HandleSweep runs a parrain.JobNotifySweep job: it schedules the next run
// first (so the chain survives a failing sweep), then enqueues the
// approvals, payouts and welcomes to notify.
func (n *Service) HandleSweep(ctx context.Context, _ []byte) error {
	if err := n.st.ScheduleRecurring(ctx, parrain.JobNotifySweep, n.SweepEvery, n.st.Clock().Now().Add(n.SweepEvery)); err != nil {
		return err
	}
	_, err := n.st.SweepNotices(ctx)
	return err
}

// HandleReminders runs a parrain.JobReminders job.
func (n *Service) HandleReminders(ctx context.Context, _ []byte) error {
	if err := n.st.ScheduleRecurring(ctx, parrain.JobReminders, n.RemindEvery, n.st.Clock().Now().Add(n.RemindEvery)); err != nil {
		return err
	}
	_, err := n.st.SweepReminders(ctx)
	return err
}

// HandleNotify runs a parrain.JobNotify job: it composes the notice and
// records it (in-app notification, email and its send job) once.
func (n *Service) HandleNotify(ctx context.Context, payload []byte) error {
	var a parrain.NotifyArgs
	if err := json.Unmarshal(payload, &a); err != nil {
		return fmt.Errorf("decoding %s payload: %w", parrain.JobNotify, err)
	}
	notice, firing, err := n.Compose(ctx, a)
	if err != nil {
		return err
	}
	msg, err := n.st.RecordNotice(ctx, notice)
	if err != nil {
		return err
	}
	if firing != nil {
		return n.recordMomentEffects(ctx, *firing, notice, msg)
	}
	return nil
}

// recordMomentEffects records what a moment trigger's email and in-app
// effects became (a queued email's outcome is recorded again when sent).
func (n *Service) recordMomentEffects(ctx context.Context, f store.Firing, notice store.Notice, msg *store.EmailMessage) error {
	for _, o := range f.Effects {
		switch o.Effect {
		case parrain.EffectNotification:
			if err := n.st.SetFiringEffect(ctx, f.ID, o.Effect, store.EffectDone, "in-app notification recorded"); err != nil {
				return err
			}
		case parrain.EffectEmail:
			st, detail := store.EffectSkipped, "the participant has no email address, or moment emails are disabled"
			if msg != nil {
				switch msg.Status {
				case store.EmailQueued:
					st, detail = store.EffectPending, "email "+msg.ID+" queued"
				case store.EmailSent:
					st, detail = store.EffectDone, "email "+msg.ID+" sent"
				case store.EmailFailed:
					st, detail = store.EffectFailed, "email "+msg.ID+": "+msg.Error
				default:
					st, detail = store.EffectSkipped, "email "+msg.ID+" "+msg.Status+": "+msg.Error
				}
			}
			if err := n.st.SetFiringEffect(ctx, f.ID, o.Effect, st, detail); err != nil {
				return err
			}
		}
	}
	return nil
}

// recipient is who a notice is for.
type recipient struct {
	participant *parrain.Participant // nil for an invited friend
	email       string
	name        string
	locale      string
}

// Compose builds the notice for a job's arguments: the in-app data, and
// the rendered email or the reason none is sent. The firing is returned for
// moment notices, to record their effects.
func (n *Service) Compose(ctx context.Context, a parrain.NotifyArgs) (store.Notice, *store.Firing, error) {
	notice := store.Notice{ProgramID: a.ProgramID, ParticipantID: a.ParticipantID, Kind: a.Kind, DedupeKey: a.DedupeKey(),
		InApp: a.Kind != parrain.NoticeInvite, Data: map[string]any{}}
	prog, err := n.st.Program(ctx, a.ProgramID)
	if err != nil {
		return notice, nil, err
	}
	x, err := n.st.Experience(ctx, prog.ID)
	if err != nil {
		return notice, nil, err
	}
	var rc recipient
	var linkOwner parrain.Participant
	d := TemplateData{Kind: a.Kind, Sender: x.Sender(&prog), TermsURL: x.TermsURL}
	var firing *store.Firing
	if a.Kind == parrain.NoticeInvite {
		inv, err := n.st.InviteByID(ctx, a.InviteID)
		if err != nil {
			return notice, nil, err
		}
		adv, err := n.st.ParticipantByID(ctx, inv.ParticipantID)
		if err != nil {
			return notice, nil, err
		}
		linkOwner = adv
		rc = recipient{email: inv.Email, locale: n.cat.Match(inv.Locale, adv.Locale, x.DefaultLocale)}
		d.Advocate, d.Note = displayName(adv, ""), inv.Note
		notice.ParticipantID = ""
	} else {
		p, err := n.st.ParticipantByID(ctx, a.ParticipantID)
		if err != nil {
			return notice, nil, err
		}
		linkOwner = p
		rc = recipient{participant: &p, email: p.Email, name: p.Name, locale: n.cat.Match(p.Locale, x.DefaultLocale)}
	}
	d.Locale = rc.locale
	d.Name, d.FirstName = rc.name, parrain.FirstName(rc.name)
	d.Link = n.baseURL + "/r/" + linkOwner.Code
	if spec, _, ok := parrain.FriendOffer(&prog); ok {
		d.FriendOffer = n.cat.Offer(rc.locale, spec, prog.Currency, true)
	}
	if v := parrain.LocalizedText(x.OfferText, rc.locale); v != "" {
		d.FriendOffer = v
	}
	if spec, t, ok := parrain.AdvocateOffer(&prog); ok {
		d.AdvocateOffer = n.cat.AdvocateOffer(rc.locale, spec, prog.Currency, t)
	}
	if a.Kind == parrain.NoticeInvite {
		d.Disclosure = n.cat.T(rc.locale, "email.invite.disclosure", "advocate", d.Advocate)
	}
	switch a.Kind {
	case parrain.NoticeFriendSignedUp:
		ref, err := n.st.ReferralByID(ctx, a.ReferralID)
		if err != nil {
			return notice, nil, err
		}
		friend, err := n.st.ParticipantByID(ctx, ref.FriendID)
		if err != nil {
			return notice, nil, err
		}
		d.Friend = displayName(friend, n.cat.T(rc.locale, "notice.a_friend"))
		notice.Data["friend"] = displayName(friend, "")
		notice.Data["referral_id"] = ref.ID
	case parrain.NoticeRewardEarned, parrain.NoticeRewardApproved, parrain.NoticeRewardPaid:
		rw, err := n.st.RewardDetailed(ctx, a.RewardID)
		if err != nil {
			return notice, nil, err
		}
		d.Reward = n.rewardText(rc.locale, rw)
		if rw.Fulfilment != nil && rw.Fulfilment.Code != "" {
			d.Code = rw.Fulfilment.Code
		}
		d.HoldUntil = n.cat.Date(rc.locale, rw.HoldUntil)
		ref, err := n.st.ReferralByID(ctx, rw.ReferralID)
		if err != nil {
			return notice, nil, err
		}
		if rw.Role == parrain.RoleFriend {
			if adv, err := n.st.ParticipantByID(ctx, ref.AdvocateID); err == nil {
				d.Advocate = displayName(adv, n.cat.T(rc.locale, "notice.a_friend"))
			}
		} else if friend, err := n.st.ParticipantByID(ctx, ref.FriendID); err == nil {
			d.Friend = displayName(friend, n.cat.T(rc.locale, "notice.a_friend"))
		}
		notice.Data = map[string]any{"reward_id": rw.ID, "amount": rw.Amount - rw.Reversed, "currency": rw.Currency, "kind": string(rw.Kind),
			"description": rw.Description, "role": string(rw.Role), "status": string(rw.Status)}
		if d.Code != "" {
			notice.Data["code"] = d.Code
		}
	case parrain.NoticePayoutAccountChanged:
		acct, err := n.st.PayoutAccount(ctx, a.ProgramID, linkOwner.ExternalID)
		if err != nil {
			return notice, nil, err
		}
		d.Destination = acct.Destination()
		if a.HeldUntil != nil {
			d.HoldUntil = n.cat.Date(rc.locale, *a.HeldUntil)
		}
		notice.Data = map[string]any{"method": string(acct.Method), "destination": d.Destination}
		if a.HeldUntil != nil {
			notice.Data["payouts_held_until"] = *a.HeldUntil
		}
	case parrain.NoticeMoment:
		f, err := n.st.FiringByID(ctx, a.FiringID)
		if err != nil {
			return notice, nil, err
		}
		firing = &f
		notice.InApp = false
		wantEmail := false
		for _, o := range f.Effects {
			switch o.Effect {
			case parrain.EffectNotification:
				notice.InApp = true
			case parrain.EffectEmail:
				wantEmail = true
			}
		}
		notice.Data["trigger_id"] = f.TriggerID
		if !wantEmail {
			return notice, firing, nil
		}
	}
	if brand, err := n.st.ProgramBranding(ctx, prog.ID); err == nil {
		d.LogoURL, d.Color = brand.LogoURL, brand.PrimaryColor
	}
	if d.Color == "" {
		d.Color = store.DefaultPrimaryColor
	}
	email, err := n.email(ctx, &prog, &x, rc, d)
	if err != nil {
		return notice, nil, err
	}
	notice.Email = email
	return notice, firing, nil
}

// email decides whether the notice becomes an email and renders it. A
// nil result means no email at all (disabled, or no address); a
// suppressed or skipped message records why one was not sent.
func (n *Service) email(ctx context.Context, prog *parrain.Program, x *parrain.Experience, rc recipient, d TemplateData) (*store.EmailMessage, error) {
	if rc.email == "" || (!x.EmailEnabled(d.Kind) && !security(d.Kind)) {
		return nil, nil
	}
	m := &store.EmailMessage{To: rc.email, Locale: rc.locale}
	if rc.participant != nil {
		m.ParticipantID = rc.participant.ID
	}
	d.UnsubscribeURL = n.baseURL + "/u/" + n.st.UnsubscribeToken(prog.ID, rc.email)
	if rc.locale != "" {
		d.UnsubscribeURL += "?lang=" + url.QueryEscape(rc.locale) // the page answers in the email's language
	}
	m.UnsubscribeURL = d.UnsubscribeURL
	r, err := n.Render(ctx, prog.ID, d)
	if err != nil {
		return nil, err
	}
	m.Subject, m.Text, m.HTML = r.Subject, r.Text, r.HTML
	unsub, err := n.st.Unsubscribed(ctx, prog.ID, rc.email)
	if err != nil {
		return nil, err
	}
	switch {
	case unsub && !security(d.Kind):
		m.Status, m.Error = store.EmailSuppressed, "unsubscribed"
	case d.Kind.Marketing() && rc.participant != nil:
		ok, why, err := n.st.MarketingPermission(ctx, rc.participant.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			m.Status, m.Error = store.EmailSuppressed, why
		}
	}
	if m.Status == "" && n.mail == nil {
		m.Status, m.Error = store.EmailSkipped, "no SMTP server is configured (--smtp-host)"
	}
	return m, nil
}

// Render composes an email: the program's override for the kind and
// language (or the language alone) when there is one, else the built-in
// email of the language files.
func (n *Service) Render(ctx context.Context, programID string, d TemplateData) (Rendered, error) {
	for _, loc := range candidates(d.Locale) {
		t, ok, err := n.st.EmailTemplate(ctx, programID, d.Kind, loc)
		if err != nil {
			return Rendered{}, err
		}
		if ok {
			r, err := override(t, d)
			if err != nil {
				// A template valid when saved cannot fail on real data, short
				// of a bug: fall back to the built-in email rather than send
				// nothing.
				n.log.ErrorContext(ctx, "email template override failed; using the built-in email", "program", programID,
					"kind", d.Kind, "locale", loc, "err", err)
				break
			}
			return r, nil
		}
	}
	return builtin(n.cat, d)
}

func candidates(locale string) []string {
	out := []string{locale}
	if lang, _, ok := strings.Cut(locale, "-"); ok {
		out = append(out, lang)
	}
	return out
}

func (n *Service) rewardText(lang string, rw parrain.Reward) string {
	if rw.Kind == parrain.KindCustom && rw.Description != "" {
		return rw.Description
	}
	s := n.cat.Money(lang, rw.Amount-rw.Reversed, rw.Currency)
	if rw.Description != "" {
		s += " (" + rw.Description + ")"
	}
	return s
}

// displayName names a participant to another: "Alice M.", or a masked
// address, or def.
func displayName(p parrain.Participant, def string) string {
	if s := parrain.ShortName(p.Name); s != "" {
		return s
	}
	if s := parrain.MaskEmail(p.Email); s != "" {
		return s
	}
	return def
}

// HandleSend runs a parrain.JobSendEmail job: it sends a queued message,
// unless its address unsubscribed since, and records the outcome. A
// temporary failure is retried by the job runner; a permanent one, or the
// last attempt, marks the message failed.
func (n *Service) HandleSend(ctx context.Context, payload []byte) error {
	var a parrain.SendEmailArgs
	if err := json.Unmarshal(payload, &a); err != nil {
		return fmt.Errorf("decoding %s payload: %w", parrain.JobSendEmail, err)
	}
	m, err := n.st.EmailMessageByID(ctx, a.MessageID)
	if err != nil {
		return err
	}
	if m.Status != store.EmailQueued {
		return nil // sent, or given up, by an earlier run
	}
	unsub, err := n.st.Unsubscribed(ctx, m.ProgramID, m.To)
	if err != nil {
		return err
	}
	if unsub && !security(m.Kind) {
		if err := n.st.MarkEmailSuppressed(ctx, m.ID, "unsubscribed"); err != nil {
			return err
		}
		return n.momentOutcome(ctx, m, store.EffectSkipped, "unsubscribed before sending")
	}
	if n.mail == nil {
		_, err := n.st.MarkEmailAttempt(ctx, m.ID, "no SMTP server is configured (--smtp-host)", true)
		return err
	}
	from, replyTo := n.sender(ctx, m.ProgramID)
	err = n.mail.Send(ctx, smtp.Message{From: from, ReplyTo: replyTo, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		MessageID: m.ID + "@" + n.host, UnsubscribeURL: m.UnsubscribeURL,
		Headers: map[string]string{"X-Parrain-Kind": string(m.Kind), "Auto-Submitted": "auto-generated"}})
	if err == nil {
		if err := n.st.MarkEmailSent(ctx, m.ID); err != nil {
			return err
		}
		return n.momentOutcome(ctx, m, store.EffectDone, "email "+m.ID+" sent")
	}
	final := smtp.Permanent(err) || m.Attempts+1 >= MaxEmailAttempts
	if _, merr := n.st.MarkEmailAttempt(ctx, m.ID, err.Error(), final); merr != nil {
		return merr
	}
	if final {
		n.log.WarnContext(ctx, "email failed permanently", "message", m.ID, "to", m.To, "err", err)
		return n.momentOutcome(ctx, m, store.EffectFailed, "email "+m.ID+": "+err.Error())
	}
	return err
}

func (n *Service) momentOutcome(ctx context.Context, m store.EmailMessage, status, detail string) error {
	firingID, ok := strings.CutPrefix(m.DedupeKey, "moment:")
	if !ok {
		return nil
	}
	return n.st.SetFiringEffect(ctx, firingID, parrain.EffectEmail, status, detail)
}

// sender returns the From and Reply-To of a program's emails: the sender
// set in the console, else the configured address under the program's
// sender name.
func (n *Service) sender(ctx context.Context, programID string) (string, string) {
	if s, ok, err := n.st.GetEmailSender(ctx); err == nil && ok {
		return (&mail.Address{Name: s.Name, Address: s.Address}).String(), s.ReplyTo
	}
	name := n.from.Name
	if p, err := n.st.Program(ctx, programID); err == nil {
		if x, err := n.st.Experience(ctx, programID); err == nil {
			name = x.Sender(&p)
		}
	}
	return (&mail.Address{Name: name, Address: n.from.Address}).String(), ""
}

// security reports whether a notice kind is a security notice, emailed
// whatever the program's settings and the recipient's unsubscribe: the
// person must learn that where they are paid changed.
func security(k parrain.NoticeKind) bool { return k == parrain.NoticePayoutAccountChanged }

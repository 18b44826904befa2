package referral

import (
	"context"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// The advocate's and the friend's side of the loop, as the API, the widget
// and the landing page write it: participants, consent answers, shares,
// invitations, notification reads and unsubscribes. These are the data
// plane (docs/console.md, "What is not audited"): recorded in their own
// tables, never in the audit log.

// UpsertParticipant creates or updates a participant by external id and
// returns it with created=true when it is new, in one transaction with
// its idempotency record and the traits of its context. Empty fields leave
// stored values unchanged.
func (s *Service) UpsertParticipant(ctx context.Context, programID string, in parrain.ParticipantInput, idem store.Idem) (parrain.Participant, bool, error) {
	if err := in.Normalize(); err != nil {
		return parrain.Participant{}, false, err
	}
	type result struct {
		P       parrain.Participant
		Created bool
	}
	r, _, err := store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (result, error) {
		if _, err := tx.Program(ctx, programID); err != nil {
			return result{}, err
		}
		p, created, err := tx.UpsertParticipant(ctx, programID, in)
		if err != nil {
			return result{}, err
		}
		return result{p, created}, tx.RecordTraits(ctx, programID, p.ID, in.Context, tx.Now())
	})
	return r.P, r.Created, err
}

// RecordConsent stores a consent answer: its exact wording and version,
// granted or not. A landing-page consent has no participant yet: the
// friend's signup links it (consent_id).
func (s *Service) RecordConsent(ctx context.Context, c store.Consent, idem store.Idem) (store.Consent, bool, error) {
	c.Wording = strings.TrimSpace(c.Wording)
	c.WordingVersion = strings.TrimSpace(c.WordingVersion)
	if c.Wording == "" || len(c.Wording) > 2000 {
		return c, false, parrain.Invalid("wording", "is required: the exact text the person agreed to (at most 2000 characters)")
	}
	if c.WordingVersion == "" || len(c.WordingVersion) > 50 {
		return c, false, parrain.Invalid("wording_version", "is required (at most 50 characters)")
	}
	var err error
	if c.Locale, err = parrain.NormalizeLocale("locale", c.Locale); err != nil {
		return c, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (store.Consent, error) {
		if _, err := tx.Program(ctx, c.ProgramID); err != nil {
			return c, err
		}
		out := c
		return out, tx.InsertConsent(ctx, &out)
	})
}

// MaxMarkRead bounds the notification ids of one "mark read" request.
const MaxMarkRead = 200

// MarkNotificationsRead marks the given notifications of a participant (or
// all of them when ids is empty) as read, and returns how many changed.
// Ids of other participants are ignored.
func (s *Service) MarkNotificationsRead(ctx context.Context, participantID string, ids []string) (int64, error) {
	if len(ids) > MaxMarkRead {
		return 0, parrain.Invalid("ids", "at most %d ids at once", MaxMarkRead)
	}
	var n int64
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.MarkNotificationsRead(ctx, participantID, ids)
		return err
	})
	return n, err
}

// Unsubscribe stops a program's emails to an address (source says how:
// the link in an email, the one-click header…). It is idempotent.
func (s *Service) Unsubscribe(ctx context.Context, programID, email, source string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error { return tx.Unsubscribe(ctx, programID, email, source) })
}

// RecordShare counts a share of participantID's link on channel. It
// returns false when the share was folded into an identical one just
// before (double clicks, impatient users).
func (s *Service) RecordShare(ctx context.Context, programID, participantID, channel string) (bool, error) {
	if !store.ValidShareChannel(channel) {
		return false, parrain.Invalid("channel", "must be one of %s", strings.Join(store.ShareChannels, ", "))
	}
	var counted bool
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		counted, err = tx.RecordShare(ctx, programID, participantID, channel)
		return err
	})
	return counted, err
}

// CreateInvites records an advocate's invitations and enqueues one email
// per new address, in one transaction with the idempotency record. Each
// address of a program is invited at most once, ever; the advocate's and
// the program's invitations per 24 hours are bounded by the program's
// settings. The outcome of each address deliberately does not say why it
// was skipped (store.InviteSkipped), so the form reveals nothing about
// other people.
func (s *Service) CreateInvites(ctx context.Context, advocate parrain.Participant, emails []string, note, locale string, idem store.Idem) ([]store.InviteResult, bool, error) {
	if len(emails) == 0 {
		return nil, false, parrain.Invalid("emails", "at least one address")
	}
	if len(emails) > store.MaxInvitesPerRequest {
		return nil, false, parrain.Invalid("emails", "at most %d addresses at once", store.MaxInvitesPerRequest)
	}
	note = strings.TrimSpace(note)
	if len(note) > 500 {
		return nil, false, parrain.Invalid("note", "must be at most 500 characters")
	}
	if strings.Contains(note, "://") || strings.Contains(strings.ToLower(note), "www.") {
		return nil, false, parrain.Invalid("note", "must not contain links: your referral link is added for you")
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) ([]store.InviteResult, error) {
		x, err := tx.Experience(ctx, advocate.ProgramID)
		if err != nil {
			return nil, err
		}
		mine, program, err := tx.InvitesSince(ctx, advocate, tx.Now().Add(-24*time.Hour))
		if err != nil {
			return nil, err
		}
		out := make([]store.InviteResult, 0, len(emails))
		seen := map[string]bool{}
		for _, raw := range emails {
			r := store.InviteResult{Email: strings.TrimSpace(raw)}
			email, err := parrain.NormalizeEmailField("emails", r.Email)
			if err != nil || email == "" {
				r.Status = store.InviteInvalid
				out = append(out, r)
				continue
			}
			r.Email = email
			c := parrain.CanonicalEmail(email)
			switch skip, err := tx.InviteSkipped(ctx, advocate, email); {
			case err != nil:
				return nil, err
			case skip || seen[c]:
				r.Status = store.InviteSkipped
				out = append(out, r)
				continue
			}
			seen[c] = true
			if mine >= x.InvitesPerDay || program >= x.ProgramInvitesPerDay {
				r.Status = store.InviteRateLimited
				out = append(out, r)
				continue
			}
			v := store.Invite{ProgramID: advocate.ProgramID, ParticipantID: advocate.ID, Email: email, Locale: locale, Note: note}
			if ok, err := tx.InsertInvite(ctx, &v); err != nil {
				return nil, err
			} else if !ok {
				r.Status = store.InviteSkipped
				out = append(out, r)
				continue
			}
			mine++
			program++
			if err := tx.EnqueueNotify(ctx, parrain.NotifyArgs{Kind: parrain.NoticeInvite, ProgramID: advocate.ProgramID, InviteID: v.ID}); err != nil {
				return nil, err
			}
			r.Status, r.InviteID = store.InviteQueued, v.ID
			out = append(out, r)
		}
		return out, nil
	})
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Invite outcomes, per address. They deliberately do not say why an
// address was skipped (already invited by someone, already a customer,
// unsubscribed), so the invite form reveals nothing about other people.
const (
	InviteQueued      = "queued"       // the friend will get one email
	InviteSkipped     = "skipped"      // no email will be sent to this address
	InviteInvalid     = "invalid"      // not an email address
	InviteRateLimited = "rate_limited" // over the advocate's or program's daily limit
)

// MaxInvitesPerRequest bounds the addresses of one invite request.
const MaxInvitesPerRequest = 10

// InviteResult is what became of one address.
type InviteResult struct {
	Email    string `json:"email"`
	Status   string `json:"status"`
	InviteID string `json:"-"`
}

// Invite is an advocate's email invitation to a friend.
type Invite struct {
	ID            string    `json:"id"`
	ProgramID     string    `json:"program_id"`
	ParticipantID string    `json:"-"`
	Email         string    `json:"email"`
	Locale        string    `json:"locale,omitempty"`
	Note          string    `json:"note,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

// CreateInvites records an advocate's invitations and enqueues one email
// per new address, in one transaction with the idempotency record. Each
// address of a program is invited at most once, ever; the advocate's and
// the program's invitations per 24 hours are bounded by the program's
// settings.
func (s *Store) CreateInvites(ctx context.Context, advocate parrain.Participant, emails []string, note, locale string, idem Idem) ([]InviteResult, bool, error) {
	if len(emails) == 0 {
		return nil, false, parrain.Invalid("emails", "at least one address")
	}
	if len(emails) > MaxInvitesPerRequest {
		return nil, false, parrain.Invalid("emails", "at most %d addresses at once", MaxInvitesPerRequest)
	}
	note = strings.TrimSpace(note)
	if len(note) > 500 {
		return nil, false, parrain.Invalid("note", "must be at most 500 characters")
	}
	if strings.Contains(note, "://") || strings.Contains(strings.ToLower(note), "www.") {
		return nil, false, parrain.Invalid("note", "must not contain links: your referral link is added for you")
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) ([]InviteResult, error) {
		x, err := s.experienceQ(ctx, tx, advocate.ProgramID)
		if err != nil {
			return nil, err
		}
		now := s.clock.Now()
		day := ms(now.Add(-24 * time.Hour))
		var mine, program int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM invites WHERE participant_id = $1 AND created_at > $2`, advocate.ID, day).Scan(&mine); err != nil {
			return nil, fmt.Errorf("counting invites: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM invites WHERE program_id = $1 AND created_at > $2`, advocate.ProgramID, day).Scan(&program); err != nil {
			return nil, fmt.Errorf("counting invites: %w", err)
		}
		out := make([]InviteResult, 0, len(emails))
		seen := map[string]bool{}
		for _, raw := range emails {
			r := InviteResult{Email: strings.TrimSpace(raw)}
			email, err := parrain.NormalizeEmailField("emails", r.Email)
			if err != nil || email == "" {
				r.Status = InviteInvalid
				out = append(out, r)
				continue
			}
			r.Email = email
			c := canonical(email)
			switch skip, err := s.inviteSkipped(ctx, tx, advocate, c); {
			case err != nil:
				return nil, err
			case skip || seen[c]:
				r.Status = InviteSkipped
				out = append(out, r)
				continue
			}
			seen[c] = true
			if mine >= x.InvitesPerDay || program >= x.ProgramInvitesPerDay {
				r.Status = InviteRateLimited
				out = append(out, r)
				continue
			}
			id := newID("inv")
			res, err := tx.ExecContext(ctx, `INSERT INTO invites (id, program_id, participant_id, email, email_canonical, locale, note, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, id, advocate.ProgramID, advocate.ID, email, c, locale, note, ms(now))
			if err != nil {
				return nil, fmt.Errorf("inserting invite: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				r.Status = InviteSkipped
				out = append(out, r)
				continue
			}
			mine++
			program++
			if err := s.enqueueNotifyTx(ctx, tx, parrain.NotifyArgs{Kind: parrain.NoticeInvite, ProgramID: advocate.ProgramID, InviteID: id}); err != nil {
				return nil, err
			}
			r.Status, r.InviteID = InviteQueued, id
			out = append(out, r)
		}
		return out, nil
	})
}

// inviteSkipped reports whether an address must not be invited: the
// advocate themself, a participant of the program already, or an address
// that unsubscribed.
func (s *Store) inviteSkipped(ctx context.Context, tx *sql.Tx, advocate parrain.Participant, c string) (bool, error) {
	if advocate.Email != "" && canonical(advocate.Email) == c {
		return true, nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE program_id = $1 AND email_canonical = $2`, advocate.ProgramID, c).Scan(&n); err != nil {
		return false, fmt.Errorf("checking participants: %w", err)
	}
	if n > 0 {
		return true, nil
	}
	return s.unsubscribedQ(ctx, tx, advocate.ProgramID, c)
}

// InviteByID returns an invitation.
func (s *Store) InviteByID(ctx context.Context, id string) (Invite, error) {
	var v Invite
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT id, program_id, participant_id, email, locale, note, created_at FROM invites WHERE id = $1`, id).
		Scan(&v.ID, &v.ProgramID, &v.ParticipantID, &v.Email, &v.Locale, &v.Note, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound("invite")
	}
	if err != nil {
		return v, fmt.Errorf("loading invite: %w", err)
	}
	v.CreatedAt = fromMS(created)
	return v, nil
}

// InvitesSentToday counts an advocate's invitations of the last 24 hours.
func (s *Store) InvitesSentToday(ctx context.Context, participantID string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM invites WHERE participant_id = $1 AND created_at > $2`,
		participantID, ms(s.clock.Now().Add(-24*time.Hour))).Scan(&n)
	return n, err
}

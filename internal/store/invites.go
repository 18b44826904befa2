package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// InvitesSince counts the invitations of an advocate and of their program
// sent after since.
func (t *Tx) InvitesSince(ctx context.Context, advocate parrain.Participant, since time.Time) (mine, program int, err error) {
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM invites WHERE participant_id = $1 AND created_at > $2`, advocate.ID, ms(since)).Scan(&mine); err != nil {
		return 0, 0, fmt.Errorf("counting invites: %w", err)
	}
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM invites WHERE program_id = $1 AND created_at > $2`, advocate.ProgramID, ms(since)).Scan(&program); err != nil {
		return 0, 0, fmt.Errorf("counting invites: %w", err)
	}
	return mine, program, nil
}

// InviteSkipped reports whether an address must not be invited: the
// advocate themself, a participant of the program already, or an address
// that unsubscribed.
func (t *Tx) InviteSkipped(ctx context.Context, advocate parrain.Participant, email string) (bool, error) {
	c := canonical(email)
	if advocate.Email != "" && canonical(advocate.Email) == c {
		return true, nil
	}
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE program_id = $1 AND email_canonical = $2`, advocate.ProgramID, c).Scan(&n); err != nil {
		return false, fmt.Errorf("checking participants: %w", err)
	}
	if n > 0 {
		return true, nil
	}
	return t.s.unsubscribedQ(ctx, t.tx, advocate.ProgramID, c)
}

// InsertInvite records an invitation, setting its id and time; false when
// the address was already invited in the program.
func (t *Tx) InsertInvite(ctx context.Context, v *Invite) (bool, error) {
	v.ID, v.CreatedAt = newID("inv"), t.s.clock.Now()
	res, err := t.tx.ExecContext(ctx, `INSERT INTO invites (id, program_id, participant_id, email, email_canonical, locale, note, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, v.ID, v.ProgramID, v.ParticipantID, v.Email, canonical(v.Email), v.Locale, v.Note, ms(v.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("inserting invite: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
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

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// enqueueNotifyTx enqueues a parrain.JobNotify job in the caller's transaction,
// once per notice.
func (s *Store) enqueueNotifyTx(ctx context.Context, q querier, a parrain.NotifyArgs) error {
	payload, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return s.enqueueTx(ctx, q, parrain.JobNotify, "notify:"+a.DedupeKey(), payload, s.clock.Now())
}

// EnqueueNotify enqueues a notice on its own (once per notice).
func (s *Store) EnqueueNotify(ctx context.Context, a parrain.NotifyArgs) error {
	return s.enqueueNotifyTx(ctx, s.w, a)
}

// Notification is one entry of a participant's in-app feed. Data holds
// the facts (amounts, names) the feed renders in the reader's language.
type Notification struct {
	ID        string             `json:"id"`
	Kind      parrain.NoticeKind `json:"kind"`
	Data      map[string]any     `json:"data"`
	ReadAt    *time.Time         `json:"read_at,omitempty"`
	CreatedAt time.Time          `json:"created_at"`
}

// Notice is what the notification pipeline records for one parrain.NotifyArgs: the
// in-app notification (when InApp) and the email (when Email is set),
// both once per DedupeKey.
type Notice struct {
	ProgramID     string
	ParticipantID string
	Kind          parrain.NoticeKind
	DedupeKey     string
	Data          map[string]any
	InApp         bool
	Email         *EmailMessage
}

// RecordNotice stores a notice in one transaction: the in-app notification,
// the email message and, for a queued message, its send job. Each is
// created once per dedupe key, so a retried job changes nothing. It returns
// the email message as stored (its status may be an earlier attempt's).
func (s *Store) RecordNotice(ctx context.Context, n Notice) (*EmailMessage, error) {
	var out *EmailMessage
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now()
		if n.InApp && n.ParticipantID != "" {
			data, err := json.Marshal(n.Data)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, program_id, participant_id, kind, data, dedupe_key, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
				newID("ntf"), n.ProgramID, n.ParticipantID, n.Kind, string(data), n.DedupeKey, ms(now)); err != nil {
				return fmt.Errorf("inserting notification: %w", err)
			}
		}
		if n.Email == nil {
			return nil
		}
		m := *n.Email
		m.ID, m.ProgramID, m.Kind, m.DedupeKey, m.CreatedAt = newID("msg"), n.ProgramID, n.Kind, n.DedupeKey, now
		if m.ParticipantID == "" {
			m.ParticipantID = n.ParticipantID
		}
		if m.Status == "" {
			m.Status = EmailQueued
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO email_messages (id, program_id, participant_id, to_email, to_canonical, kind, locale, subject,
			text_body, html_body, unsubscribe_url, dedupe_key, status, error, attempts, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, $15) ON CONFLICT DO NOTHING`,
			m.ID, m.ProgramID, sql.NullString{String: m.ParticipantID, Valid: m.ParticipantID != ""}, m.To, canonical(m.To), m.Kind,
			m.Locale, m.Subject, m.Text, m.HTML, m.UnsubscribeURL, m.DedupeKey, m.Status, m.Error, ms(now))
		if err != nil {
			return fmt.Errorf("inserting email message: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 1 && m.Status == EmailQueued {
			payload, _ := json.Marshal(parrain.SendEmailArgs{MessageID: m.ID})
			if err := s.enqueueTx(ctx, tx, parrain.JobSendEmail, parrain.JobSendEmail+":"+m.ID, payload, now); err != nil {
				return err
			}
		}
		stored, err := scanEmail(tx.QueryRowContext(ctx, `SELECT `+emailCols+` FROM email_messages WHERE dedupe_key = $1`, n.DedupeKey))
		if err != nil {
			return fmt.Errorf("reading email message: %w", err)
		}
		out = &stored
		return nil
	})
	return out, err
}

// Notifications lists a participant's feed, newest first.
func (s *Store) Notifications(ctx context.Context, participantID string, unreadOnly bool, pg Page) ([]Notification, string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, kind, data, read_at, created_at FROM notifications
		WHERE participant_id = $1 AND ($2 = '' OR id < $2) AND ($3 = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT $4`,
		participantID, pg.Cursor, boolInt(unreadOnly), pg.limit()+1)
	if err != nil {
		return nil, "", fmt.Errorf("listing notifications: %w", err)
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		var data string
		var read sql.NullInt64
		var created int64
		if err := rows.Scan(&n.ID, &n.Kind, &data, &read, &created); err != nil {
			return nil, "", err
		}
		if err := json.Unmarshal([]byte(data), &n.Data); err != nil {
			return nil, "", fmt.Errorf("decoding notification %s: %w", n.ID, err)
		}
		n.ReadAt, n.CreatedAt = fromNullMS(read), fromMS(created)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(n Notification) string { return n.ID })
}

// UnreadNotifications counts a participant's unread notifications.
func (s *Store) UnreadNotifications(ctx context.Context, participantID string) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE participant_id = $1 AND read_at IS NULL`, participantID).Scan(&n)
	return n, err
}

// MarkNotificationsRead marks the given notifications of a participant (or
// all of them when ids is empty) as read, and returns how many changed.
// Ids of other participants are ignored.
func (t *Tx) MarkNotificationsRead(ctx context.Context, participantID string, ids []string) (int64, error) {
	now := ms(t.s.clock.Now())
	var res sql.Result
	var err error
	if len(ids) == 0 {
		res, err = t.tx.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE participant_id = $2 AND read_at IS NULL`, now, participantID)
	} else {
		args := []any{now, participantID}
		ph := make([]string, len(ids))
		for i, id := range ids {
			args = append(args, id)
			ph[i] = fmt.Sprintf("$%d", i+3)
		}
		res, err = t.tx.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE participant_id = $2 AND read_at IS NULL AND id IN (`+
			strings.Join(ph, ", ")+`)`, args...)
	}
	if err != nil {
		return 0, fmt.Errorf("marking notifications read: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ReferralByID returns a referral by id.
func (s *Store) ReferralByID(ctx context.Context, id string) (parrain.Referral, error) {
	return s.referralByID(ctx, s.r, id)
}

// RewardDetailed returns a reward by id with its details, including its
// fulfilment (the coupon code a friend was given, once delivered).
func (s *Store) RewardDetailed(ctx context.Context, id string) (parrain.Reward, error) {
	rw, err := s.RewardByID(ctx, id)
	if err != nil {
		return rw, err
	}
	one := []parrain.Reward{rw}
	if err := s.decorate(ctx, s.r, one); err != nil {
		return rw, err
	}
	return one[0], nil
}

// DecorateRewards fills the details (fulfilment, review) of listed rewards.
func (s *Store) DecorateRewards(ctx context.Context, rws []parrain.Reward) error {
	return s.decorate(ctx, s.r, rws)
}

// noticeLookback bounds how far back the sweep looks for approvals and
// payouts to notify, welcomeLookback for new participants: older ones were
// either notified already or predate the notification feature (a welcome
// a week late would be odd).
const (
	noticeLookback  = 7 * 24 * time.Hour
	welcomeLookback = 24 * time.Hour
)

// SweepNotices enqueues the notices that no write enqueues itself: rewards
// approved or paid (whoever approved or paid them) and participants who
// joined, within the lookback, that have no notification yet. It returns
// how many jobs it enqueued.
func (s *Store) SweepNotices(ctx context.Context) (int, error) {
	now := s.clock.Now()
	since := ms(now.Add(-noticeLookback))
	var todo []parrain.NotifyArgs
	rows, err := s.r.QueryContext(ctx, `SELECT le.type, r.id, r.program_id, r.participant_id FROM ledger_entries le JOIN rewards r ON r.id = le.reward_id
		WHERE le.type IN ('approval', 'payout', 'fulfilment') AND le.amount > 0 AND le.created_at >= $1
		AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.dedupe_key = (CASE WHEN le.type = 'approval' THEN 'reward_approved:' ELSE 'reward_paid:' END) || r.id)
		ORDER BY le.id LIMIT 1000`, since)
	if err != nil {
		return 0, fmt.Errorf("finding ledger notices: %w", err)
	}
	for rows.Next() {
		var typ string
		var a parrain.NotifyArgs
		if err := rows.Scan(&typ, &a.RewardID, &a.ProgramID, &a.ParticipantID); err != nil {
			rows.Close()
			return 0, err
		}
		a.Kind = parrain.NoticeRewardApproved
		if typ != string(parrain.EntryApproval) { // paid out, or delivered in kind (a code, a credit)
			a.Kind = parrain.NoticeRewardPaid
		}
		todo = append(todo, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	rows, err = s.r.QueryContext(ctx, `SELECT p.id, p.program_id FROM participants p
		WHERE p.updated_at >= $1 AND p.created_at >= $1 AND p.email <> '' AND p.status = 'active'
		AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.dedupe_key = 'welcome:' || p.id)
		ORDER BY p.id LIMIT 1000`, ms(now.Add(-welcomeLookback)))
	if err != nil {
		return 0, fmt.Errorf("finding new participants: %w", err)
	}
	for rows.Next() {
		a := parrain.NotifyArgs{Kind: parrain.NoticeWelcome}
		if err := rows.Scan(&a.ParticipantID, &a.ProgramID); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, a := range todo {
		if err := s.EnqueueNotify(ctx, a); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// maxReminders is how many reminders an advocate who never shares gets.
const maxReminders = 2

// reminderGap separates a first reminder from the second.
const reminderGap = 30 * 24 * time.Hour

// SweepReminders enqueues reminders for advocates of active programs who
// joined ReminderAfterDays ago (up to 90 days ago), have an email, and have
// neither shared, invited nor brought a click; the second reminder comes
// reminderGap after the first. It returns how many it enqueued.
func (s *Store) SweepReminders(ctx context.Context) (int, error) {
	ps, err := s.activeProgramIDs(ctx)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	total := 0
	for _, pid := range ps {
		x, err := s.Experience(ctx, pid)
		if err != nil {
			return total, err
		}
		if !x.EmailEnabled(parrain.NoticeReminder) {
			continue
		}
		after := time.Duration(x.ReminderAfterDays) * 24 * time.Hour
		rows, err := s.r.QueryContext(ctx, `SELECT p.id,
				(SELECT COUNT(*) FROM notifications n WHERE n.participant_id = p.id AND n.kind = 'reminder'),
				(SELECT MAX(n.created_at) FROM notifications n WHERE n.participant_id = p.id AND n.kind = 'reminder')
			FROM participants p
			WHERE p.program_id = $1 AND p.status = 'active' AND p.email <> '' AND p.created_at <= $2 AND p.created_at >= $3
			AND NOT EXISTS (SELECT 1 FROM shares sh WHERE sh.participant_id = p.id)
			AND NOT EXISTS (SELECT 1 FROM invites i WHERE i.participant_id = p.id)
			AND NOT EXISTS (SELECT 1 FROM clicks c WHERE c.participant_id = p.id)
			ORDER BY p.id LIMIT 5000`, pid, ms(now.Add(-after)), ms(now.Add(-90*24*time.Hour)))
		if err != nil {
			return total, fmt.Errorf("finding advocates to remind: %w", err)
		}
		var todo []parrain.NotifyArgs
		for rows.Next() {
			var id string
			var sent int
			var last sql.NullInt64
			if err := rows.Scan(&id, &sent, &last); err != nil {
				rows.Close()
				return total, err
			}
			if sent >= maxReminders || (last.Valid && now.Sub(fromMS(last.Int64)) < reminderGap) {
				continue
			}
			todo = append(todo, parrain.NotifyArgs{Kind: parrain.NoticeReminder, ProgramID: pid, ParticipantID: id, Sequence: sent + 1})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, err
		}
		for _, a := range todo {
			if err := s.EnqueueNotify(ctx, a); err != nil {
				return total, err
			}
		}
		total += len(todo)
	}
	return total, nil
}

func (s *Store) activeProgramIDs(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM programs WHERE status = 'active' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("listing programs: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// EnsureRecurring enqueues the recurring job kind for the time slot that
// contains now (of length every), unless it exists: recurring jobs
// enqueue their next slot when they run, and this seeds the chain at start.
func (s *Store) EnsureRecurring(ctx context.Context, kind string, every time.Duration) error {
	return s.ScheduleRecurring(ctx, kind, every, s.clock.Now())
}

// ScheduleRecurring enqueues the run of a recurring job kind for the slot
// that contains at, once across processes (the unique key names the slot).
func (s *Store) ScheduleRecurring(ctx context.Context, kind string, every time.Duration, at time.Time) error {
	slot := at.UnixMilli() / every.Milliseconds()
	runAt := time.UnixMilli(slot * every.Milliseconds()).UTC()
	return s.Enqueue(ctx, kind, fmt.Sprintf("%s:%d", kind, slot), []byte("{}"), runAt)
}

package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Email message states.
const (
	EmailQueued     = "queued"     // waiting for its send job
	EmailSent       = "sent"       // accepted by the SMTP server
	EmailFailed     = "failed"     // refused permanently, or out of attempts
	EmailSuppressed = "suppressed" // not sent: unsubscribed, or no consent (see Error)
	EmailSkipped    = "skipped"    // not sent: no SMTP server configured
)

// EmailMessage is one email Parrain composed, with its rendered parts and
// what became of it.
type EmailMessage struct {
	ID             string             `json:"id"`
	ProgramID      string             `json:"program_id"`
	ParticipantID  string             `json:"-"`
	To             string             `json:"to"`
	Kind           parrain.NoticeKind `json:"kind"`
	Locale         string             `json:"locale"`
	Subject        string             `json:"subject"`
	Text           string             `json:"text"`
	HTML           string             `json:"html"`
	UnsubscribeURL string             `json:"unsubscribe_url,omitempty"`
	DedupeKey      string             `json:"-"`
	Status         string             `json:"status"`
	Error          string             `json:"error,omitempty"`
	Attempts       int                `json:"attempts"`
	CreatedAt      time.Time          `json:"created_at"`
	SentAt         *time.Time         `json:"sent_at,omitempty"`
}

const emailCols = `id, program_id, participant_id, to_email, kind, locale, subject, text_body, html_body, unsubscribe_url, dedupe_key,
	status, error, attempts, created_at, sent_at`

func scanEmail(sc scanner) (EmailMessage, error) {
	var m EmailMessage
	var pid sql.NullString
	var created int64
	var sent sql.NullInt64
	err := sc.Scan(&m.ID, &m.ProgramID, &pid, &m.To, &m.Kind, &m.Locale, &m.Subject, &m.Text, &m.HTML, &m.UnsubscribeURL,
		&m.DedupeKey, &m.Status, &m.Error, &m.Attempts, &created, &sent)
	m.ParticipantID, m.CreatedAt, m.SentAt = pid.String, fromMS(created), fromNullMS(sent)
	return m, err
}

// EmailMessageByID returns a recorded email.
func (s *Store) EmailMessageByID(ctx context.Context, id string) (EmailMessage, error) {
	m, err := scanEmail(s.w.QueryRowContext(ctx, `SELECT `+emailCols+` FROM email_messages WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("email message")
	}
	if err != nil {
		return m, fmt.Errorf("loading email message: %w", err)
	}
	return m, nil
}

// MarkEmailSent records that the SMTP server accepted a queued message.
func (s *Store) MarkEmailSent(ctx context.Context, id string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE email_messages SET status = 'sent', sent_at = $1, attempts = attempts + 1, error = '' WHERE id = $2 AND status = 'queued'`,
		ms(s.clock.Now()), id)
	if err != nil {
		return fmt.Errorf("marking email sent: %w", err)
	}
	return nil
}

// MarkEmailAttempt records a failed send attempt; final marks the message
// failed (no more retries).
func (s *Store) MarkEmailAttempt(ctx context.Context, id, errMsg string, final bool) (int, error) {
	st := EmailQueued
	if final {
		st = EmailFailed
	}
	var attempts int
	err := s.w.QueryRowContext(ctx, `UPDATE email_messages SET attempts = attempts + 1, error = $1, status = $2 WHERE id = $3 AND status = 'queued'
		RETURNING attempts`, truncateStr(errMsg, 1000), st, id).Scan(&attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("recording email attempt: %w", err)
	}
	return attempts, nil
}

// MarkEmailSuppressed records that a queued message will not be sent, and
// why.
func (s *Store) MarkEmailSuppressed(ctx context.Context, id, reason string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE email_messages SET status = 'suppressed', error = $1 WHERE id = $2 AND status = 'queued'`, reason, id)
	if err != nil {
		return fmt.Errorf("suppressing email: %w", err)
	}
	return nil
}

// MessageFilter narrows the email log.
type MessageFilter struct {
	Status string
	To     string // an address; matched canonically
	Kind   string
}

// EmailMessages lists a program's email log, newest first.
func (s *Store) EmailMessages(ctx context.Context, programID string, f MessageFilter, pg Page) ([]EmailMessage, string, error) {
	where := []string{`program_id = $1`, `($2 = '' OR id < $2)`}
	args := []any{programID, pg.Cursor}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf(`status = $%d`, len(args)))
	}
	if f.To != "" {
		args = append(args, canonical(f.To))
		where = append(where, fmt.Sprintf(`to_canonical = $%d`, len(args)))
	}
	if f.Kind != "" {
		args = append(args, f.Kind)
		where = append(where, fmt.Sprintf(`kind = $%d`, len(args)))
	}
	args = append(args, pg.limit()+1)
	rows, err := s.r.QueryContext(ctx, `SELECT `+emailCols+` FROM email_messages WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing emails: %w", err)
	}
	defer rows.Close()
	out := []EmailMessage{}
	for rows.Next() {
		m, err := scanEmail(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(m EmailMessage) string { return m.ID })
}

// Unsubscribe stops a program's emails to an address. It is idempotent.
func (t *Tx) Unsubscribe(ctx context.Context, programID, email, source string) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO unsubscribes (program_id, email_canonical, source, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		programID, canonical(email), source, ms(t.s.clock.Now()))
	if err != nil {
		return fmt.Errorf("unsubscribing: %w", err)
	}
	return nil
}

// Unsubscribed reports whether an address unsubscribed from a program.
func (s *Store) Unsubscribed(ctx context.Context, programID, email string) (bool, error) {
	return s.unsubscribedQ(ctx, s.r, programID, email)
}

func (s *Store) unsubscribedQ(ctx context.Context, q querier, programID, email string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM unsubscribes WHERE program_id = $1 AND email_canonical = $2`, programID, canonical(email)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("checking unsubscribes: %w", err)
	}
	return n > 0, nil
}

// UnsubscribeToken returns the capability that unsubscribes email from a
// program's emails: the program and address, signed with the
// installation secret. It does not expire, as unsubscribe links must keep
// working.
func (s *Store) UnsubscribeToken(programID, email string) string {
	payload := programID + "\n" + canonical(email)
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(s.unsubMAC(payload))
}

// ParseUnsubscribeToken verifies a token from UnsubscribeToken and returns
// its program and canonical address.
func (s *Store) ParseUnsubscribeToken(tok string) (programID, email string, err error) {
	bad := &parrain.Error{Code: parrain.CodeNotFound, Field: "token", Message: "this unsubscribe link is not valid"}
	p, m, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 1000 {
		return "", "", bad
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.unsubMAC(string(payload))) {
		return "", "", bad
	}
	programID, email, ok = strings.Cut(string(payload), "\n")
	if !ok {
		return "", "", bad
	}
	return programID, email, nil
}

func (s *Store) unsubMAC(payload string) []byte {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte("parrain-unsubscribe\n" + payload))
	return h.Sum(nil)[:18]
}

// EmailTemplate is a program's override of a built-in email, for one kind
// and locale. Subject and Text are text/template, HTML is html/template.
type EmailTemplate struct {
	Kind      parrain.NoticeKind `json:"kind"`
	Locale    string             `json:"locale"`
	Subject   string             `json:"subject"`
	Text      string             `json:"text"`
	HTML      string             `json:"html"`
	UpdatedAt time.Time          `json:"updated_at"`
}

// EmailTemplate returns the program's override for kind and locale, and
// whether there is one.
func (s *Store) EmailTemplate(ctx context.Context, programID string, kind parrain.NoticeKind, locale string) (EmailTemplate, bool, error) {
	t := EmailTemplate{Kind: kind, Locale: locale}
	var upd int64
	err := s.r.QueryRowContext(ctx, `SELECT subject, text_body, html_body, updated_at FROM email_templates WHERE program_id = $1 AND kind = $2 AND locale = $3`,
		programID, kind, locale).Scan(&t.Subject, &t.Text, &t.HTML, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("loading email template: %w", err)
	}
	t.UpdatedAt = fromMS(upd)
	return t, true, nil
}

// EmailTemplates lists a program's overrides.
func (s *Store) EmailTemplates(ctx context.Context, programID string) ([]EmailTemplate, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kind, locale, subject, text_body, html_body, updated_at FROM email_templates WHERE program_id = $1 ORDER BY kind, locale`, programID)
	if err != nil {
		return nil, fmt.Errorf("listing email templates: %w", err)
	}
	defer rows.Close()
	out := []EmailTemplate{}
	for rows.Next() {
		var t EmailTemplate
		var upd int64
		if err := rows.Scan(&t.Kind, &t.Locale, &t.Subject, &t.Text, &t.HTML, &upd); err != nil {
			return nil, err
		}
		t.UpdatedAt = fromMS(upd)
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetEmailTemplate stores an override (validated by the caller, which
// knows how templates render) and returns it with its time.
func (t *Tx) SetEmailTemplate(ctx context.Context, programID string, et EmailTemplate) (EmailTemplate, error) {
	et.UpdatedAt = t.s.clock.Now()
	_, err := t.tx.ExecContext(ctx, `INSERT INTO email_templates (program_id, kind, locale, subject, text_body, html_body, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (program_id, kind, locale) DO UPDATE SET subject = excluded.subject, text_body = excluded.text_body, html_body = excluded.html_body, updated_at = excluded.updated_at`,
		programID, et.Kind, et.Locale, et.Subject, et.Text, et.HTML, ms(et.UpdatedAt))
	if err != nil {
		return et, fmt.Errorf("storing email template: %w", err)
	}
	return et, nil
}

// DeleteEmailTemplate removes an override, restoring the built-in email
// (not found when there is none).
func (t *Tx) DeleteEmailTemplate(ctx context.Context, programID string, kind parrain.NoticeKind, locale string) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM email_templates WHERE program_id = $1 AND kind = $2 AND locale = $3`, programID, kind, locale)
	if err != nil {
		return fmt.Errorf("deleting email template: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("email template")
	}
	return nil
}

func truncateStr(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

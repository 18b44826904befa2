package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// SchemaColumns lists the columns of every table of the live schema (the
// current schema on PostgreSQL), for the data map's completeness test and
// the erasure tests that search every column.
func (s *Store) SchemaColumns(ctx context.Context) (map[string][]string, error) {
	q := `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`
	if s.d.name == postgres.name {
		q = `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`
	}
	rows, err := s.r.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("listing the schema's columns: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, err
		}
		out[t] = append(out[t], c)
	}
	return out, rows.Err()
}

// ---- the person: every record of one human across the installation ----

// Person is everyone Parrain holds about one human: the participants of
// every program with the same external id or the same canonical email, and
// the partner records attached to them or using that email.
type Person struct {
	Participants []parrain.Participant
	Partners     []PersonPartner
}

// PersonPartner is a partner record of a person.
type PersonPartner struct {
	ID, ProgramID, ParticipantID, Email, Name string
}

// PartnerOf returns the id of the partner record attached to a participant
// of the person, or "".
func (p Person) PartnerOf(participantID string) string {
	for _, x := range p.Partners {
		if x.ParticipantID == participantID {
			return x.ID
		}
	}
	return ""
}

// FindPerson finds the person a program's participant is: see Person.
func (s *Store) FindPerson(ctx context.Context, programID, externalID string) (Person, error) {
	return s.findPerson(ctx, s.r, programID, externalID)
}

// FindPerson is Store.FindPerson in the transaction.
func (t *Tx) FindPerson(ctx context.Context, programID, externalID string) (Person, error) {
	return t.s.findPerson(ctx, t.tx, programID, externalID)
}

func (s *Store) findPerson(ctx context.Context, q querier, programID, externalID string) (Person, error) {
	var out Person
	first, err := scanParticipant(q.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE program_id = $1 AND external_id = $2`,
		programID, externalID))
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.programQ(ctx, q, programID, ""); err != nil {
			return out, err
		}
		return out, notFound("participant")
	}
	if err != nil {
		return out, fmt.Errorf("loading participant: %w", err)
	}
	email := canonical(first.Email)
	if email == "" {
		email = noEmail
	}
	rows, err := q.QueryContext(ctx, `SELECT `+participantCols+` FROM participants
		WHERE (external_id = $1 OR email_canonical = $2) AND status <> 'erased' ORDER BY id`, externalID, email)
	if err != nil {
		return out, fmt.Errorf("finding the person's participants: %w", err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return out, err
		}
		out.Participants = append(out.Participants, p)
		ids[p.ID] = true
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	rows.Close()
	prows, err := q.QueryContext(ctx, `SELECT id, program_id, COALESCE(participant_id, ''), email, name FROM partners
		WHERE lower(email) = $1 OR participant_id IN (SELECT id FROM participants WHERE (external_id = $2 OR email_canonical = $1) AND status <> 'erased')
		ORDER BY id`, email, externalID)
	if err != nil {
		return out, fmt.Errorf("finding the person's partner records: %w", err)
	}
	defer prows.Close()
	for prows.Next() {
		var x PersonPartner
		if err := prows.Scan(&x.ID, &x.ProgramID, &x.ParticipantID, &x.Email, &x.Name); err != nil {
			return out, err
		}
		out.Partners = append(out.Partners, x)
	}
	return out, prows.Err()
}

// noEmail stands for "no email" in queries matching a canonical email: it
// can never be one (no @), so an empty address matches nothing.
const noEmail = "-"

// ---- export ----

// ExportTable is the rows of one table about a person, each a column →
// value object (JSON columns embedded as JSON).
type ExportTable struct {
	Table string           `json:"table"`
	Rows  []map[string]any `json:"rows"`
}

// PersonRows returns, for one participant (and its partner record, or ""),
// the rows of every table the data map exports (TableMap.Of), in the map's
// order. Bank details are read through the payout scanners, so they come
// out readable whatever their storage.
func (s *Store) PersonRows(ctx context.Context, p parrain.Participant, partnerID string) ([]ExportTable, error) {
	email := canonical(p.Email)
	if email == "" {
		email = noEmail
	}
	if partnerID == "" {
		partnerID = noEmail
	}
	var out []ExportTable
	for _, m := range DataMap {
		if m.Of == "" {
			continue
		}
		where, args := bindPerson(m.Of, p.ID, email, partnerID)
		rows, err := s.r.QueryContext(ctx, `SELECT * FROM `+m.Table+` WHERE `+where+` ORDER BY 1`, args...)
		if err != nil {
			return nil, fmt.Errorf("exporting %s: %w", m.Table, err)
		}
		list, err := genericRows(rows)
		if err != nil {
			return nil, fmt.Errorf("exporting %s: %w", m.Table, err)
		}
		if len(list) == 0 {
			continue
		}
		switch m.Table {
		case "payout_accounts":
			a, err := s.scanPayoutAccount(s.r.QueryRowContext(ctx, payoutAccountSelect+` WHERE a.participant_id = $1`, p.ID))
			if err != nil {
				return nil, fmt.Errorf("exporting the payout account: %w", err)
			}
			list[0]["bank"] = a.Bank
		case "payouts":
			ps, err := s.payoutsWhere(ctx, s.r, `p.participant_id = $1`, p.ID)
			if err != nil {
				return nil, err
			}
			for _, row := range list {
				for _, x := range ps {
					if row["id"] == x.ID {
						row["bank"] = x.Bank
					}
				}
			}
		}
		out = append(out, ExportTable{Table: m.Table, Rows: list})
	}
	return out, nil
}

// bindPerson turns a data map condition's :p, :email and :partner into
// numbered parameters.
func bindPerson(cond, participantID, email, partnerID string) (string, []any) {
	var args []any
	for _, kv := range []struct{ name, v string }{{":partner", partnerID}, {":email", email}, {":p", participantID}} {
		if strings.Contains(cond, kv.name) {
			args = append(args, kv.v)
			cond = strings.ReplaceAll(cond, kv.name, fmt.Sprintf("$%d", len(args)))
		}
	}
	return cond, args
}

// genericRows reads any rows as column → value maps: text that holds a
// JSON object or array is embedded as JSON.
func genericRows(rows *sql.Rows) ([]map[string]any, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := map[string]any{}
		for i, c := range cols {
			v := vals[i]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if str, ok := v.(string); ok {
				t := strings.TrimSpace(str)
				if (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
					v = json.RawMessage(t)
				}
			}
			row[c] = v
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// ---- erasure ----

// Owed is what a participant has in the pending and approved buckets of
// the ledger in one currency: money not yet paid.
type Owed struct {
	Currency string `json:"currency"`
	Pending  int64  `json:"pending"`
	Approved int64  `json:"approved"`
}

// Owed returns a participant's unpaid balance per currency, and how many of
// its payouts are open (not paid, failed or cancelled).
func (t *Tx) Owed(ctx context.Context, participantID string) ([]Owed, int, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT currency, bucket, SUM(amount) FROM ledger_entries
		WHERE participant_id = $1 AND bucket IN ('pending', 'approved') GROUP BY currency, bucket ORDER BY currency, bucket`, participantID)
	if err != nil {
		return nil, 0, fmt.Errorf("reading the balance: %w", err)
	}
	defer rows.Close()
	var out []Owed
	for rows.Next() {
		var cur, bucket string
		var v int64
		if err := rows.Scan(&cur, &bucket, &v); err != nil {
			return nil, 0, err
		}
		if len(out) == 0 || out[len(out)-1].Currency != cur {
			out = append(out, Owed{Currency: cur})
		}
		if bucket == string(parrain.BucketPending) {
			out[len(out)-1].Pending = v
		} else {
			out[len(out)-1].Approved = v
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var open int
	err = t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payouts WHERE participant_id = $1 AND status IN `+openPayouts, participantID).Scan(&open)
	if err != nil {
		return nil, 0, fmt.Errorf("counting open payouts: %w", err)
	}
	kept := out[:0]
	for _, o := range out {
		if o.Pending != 0 || o.Approved != 0 {
			kept = append(kept, o)
		}
	}
	return kept, open, nil
}

// ForfeitRewards reverses every pending and approved reward of a
// participant with new ledger entries (the ledger stays append-only).
func (t *Tx) ForfeitRewards(ctx context.Context, participantID, memo string) error {
	return t.s.voidRewardsTx(ctx, t.tx, `r.participant_id = $1 AND r.status IN ('pending', 'approved')`, memo, participantID)
}

// PersonIdentifiers returns every identifier of a participant (and its
// partner record, or "") erasure searches for: email, name and its words,
// external id, referral code, the IPs, devices, payment fingerprints,
// addresses and user agents seen, payout destinations and bank details,
// and the IPs its own requests were audited with.
func (t *Tx) PersonIdentifiers(ctx context.Context, p parrain.Participant, partner PersonPartner) ([]string, error) {
	out := []string{p.Email, canonical(p.Email), p.Name, p.ExternalID, p.Code, partner.Email, partner.Name}
	for _, n := range []string{p.Name, partner.Name} {
		for _, w := range strings.Fields(n) {
			if len([]rune(w)) >= 4 {
				out = append(out, w)
			}
		}
	}
	q := func(query string, args ...any) error {
		rows, err := t.tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("collecting identifiers: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	}
	if err := q(`SELECT value FROM participant_traits WHERE participant_id = $1`, p.ID); err != nil {
		return nil, err
	}
	if err := q(`SELECT DISTINCT ip FROM audit_log WHERE ip <> '' AND (user_id = $1 OR user_id = $2)`, p.ID, nonEmpty(partner.ID)); err != nil {
		return nil, err
	}
	// Contexts of the person's own events (a friend's signup carries their
	// IP and device).
	rows, err := t.tx.QueryContext(ctx, `SELECT payload FROM events WHERE participant_id = $1`, p.ID)
	if err != nil {
		return nil, fmt.Errorf("reading event contexts: %w", err)
	}
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			rows.Close()
			return nil, err
		}
		var ev struct {
			Context *parrain.EventContext `json:"context"`
		}
		if json.Unmarshal([]byte(doc), &ev) == nil && ev.Context != nil {
			c := ev.Context
			out = append(out, c.IP, c.UserAgent, c.DeviceID, c.PaymentFingerprint, c.Address)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	bank := func(b *parrain.BankDetails) {
		if b != nil {
			out = append(out, b.HolderName, b.IBAN, b.AccountNumber, b.RoutingNumber)
		}
	}
	a, err := t.s.scanPayoutAccount(t.tx.QueryRowContext(ctx, payoutAccountSelect+` WHERE a.participant_id = $1`, p.ID))
	switch {
	case err == nil:
		out = append(out, a.PayPalEmail, a.StripeAccount)
		bank(a.Bank)
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("reading the payout account: %w", err)
	}
	ps, err := t.s.payoutsWhere(ctx, t.tx, `p.participant_id = $1`, p.ID)
	if err != nil {
		return nil, err
	}
	for _, x := range ps {
		out = append(out, x.Destination)
		bank(x.Bank)
	}
	return out, nil
}

func nonEmpty(s string) string {
	if s == "" {
		return noEmail
	}
	return s
}

// evidenceHash is the keyed hash erased_evidence keeps.
func (s *Store) evidenceHash(kind, value string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("parrain erased evidence v1\x00" + kind + "\x00" + strings.ToLower(strings.TrimSpace(value))))
	return hex.EncodeToString(m.Sum(nil))
}

// KeepErasedEvidence stores keyed hashes of an erased participant's email
// and traits (fraud evidence) until expires.
func (t *Tx) KeepErasedEvidence(ctx context.Context, p parrain.Participant, expires time.Time) (int, error) {
	type kv struct{ kind, value string }
	var list []kv
	if e := canonical(p.Email); e != "" {
		list = append(list, kv{"email", e})
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT kind, value FROM participant_traits WHERE participant_id = $1 ORDER BY kind, value`, p.ID)
	if err != nil {
		return 0, fmt.Errorf("reading traits: %w", err)
	}
	for rows.Next() {
		var x kv
		if err := rows.Scan(&x.kind, &x.value); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	now := ms(t.Now())
	for _, x := range list {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO erased_evidence (id, program_id, participant_id, kind, value_hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, newID("evd"), p.ProgramID, p.ID, x.kind, t.s.evidenceHash(x.kind, x.value), now, ms(expires)); err != nil {
			return 0, fmt.Errorf("keeping evidence: %w", err)
		}
	}
	return len(list), nil
}

// ErasedEvidenceSeen reports whether an erased person of the program left
// evidence matching kind and value (an email, an IP, a device…) that has
// not expired.
func (s *Store) ErasedEvidenceSeen(ctx context.Context, programID, kind, value string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM erased_evidence WHERE program_id = $1 AND kind = $2 AND value_hash = $3 AND expires_at > $4`,
		programID, kind, s.evidenceHash(kind, value), ms(s.clock.Now())).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("reading evidence: %w", err)
	}
	return n > 0, nil
}

// EraseParticipantRecords turns a participant into a tombstone and applies
// the data map's per-table erasure to its rows. It returns how many rows
// each step changed (for the audit entry: counts only).
func (t *Tx) EraseParticipantRecords(ctx context.Context, p parrain.Participant) (map[string]int64, error) {
	counts := map[string]int64{}
	now := ms(t.Now())
	newCode := parrain.NewCode()
	ext := "erased_" + strings.TrimPrefix(newID("x"), "x_")
	email := canonical(p.Email)
	if email == "" {
		email = noEmail
	}
	steps := []struct {
		name, query string
		args        []any
	}{
		{"participants", `UPDATE participants SET external_id = $1, email = '', email_canonical = '', name = '', locale = '', code = $2,
			status = 'erased', attributes = '{}', do_not_sell = TRUE, erased_at = $3, updated_at = $3 WHERE id = $4`, []any{ext, newCode, now, p.ID}},
		{"clicks", `UPDATE clicks SET code = $1 WHERE participant_id = $2`, []any{newCode, p.ID}},
		{"referrals", `UPDATE referrals SET code = $1 WHERE advocate_id = $2`, []any{newCode, p.ID}},
		{"consents", `UPDATE consents SET code = $1 WHERE code = $2`, []any{newCode, p.Code}},
		{"consents", `UPDATE consents SET ip_hash = '' WHERE participant_id = $1`, []any{p.ID}},
		{"participant_traits", `DELETE FROM participant_traits WHERE participant_id = $1`, []any{p.ID}},
		{"participant_name_keys", `DELETE FROM participant_name_keys WHERE participant_id = $1`, []any{p.ID}},
		{"payout_accounts", `DELETE FROM payout_accounts WHERE participant_id = $1`, []any{p.ID}},
		{"payouts", `UPDATE payouts SET destination = '', bank = '' WHERE participant_id = $1`, []any{p.ID}},
		{"notifications", `DELETE FROM notifications WHERE participant_id = $1`, []any{p.ID}},
		{"invites", `DELETE FROM invites WHERE participant_id = $1 OR email_canonical = $2`, []any{p.ID, email}},
		{"unsubscribes", `DELETE FROM unsubscribes WHERE email_canonical = $1`, []any{email}},
		{"email_messages", `UPDATE email_messages SET to_email = '', to_canonical = '', subject = '', text_body = '', html_body = '', unsubscribe_url = '',
			status = CASE WHEN status = 'queued' THEN 'suppressed' ELSE status END,
			error = CASE WHEN status = 'queued' THEN 'participant erased' ELSE error END
			WHERE participant_id = $1 OR to_canonical = $2`, []any{p.ID, email}},
		{"moment_trigger_state", `DELETE FROM moment_trigger_state WHERE participant_id = $1`, []any{p.ID}},
		{"provider_links", `DELETE FROM provider_links WHERE participant_id = $1`, []any{p.ID}},
		{"crm_links", `DELETE FROM crm_links WHERE local_ref = $1`, []any{p.ID}},
		{"partner_leads", `UPDATE partner_leads SET contact_name = '', contact_email = '' WHERE lower(contact_email) = $1`, []any{email}},
		// The person's pending notices and CRM syncs: nothing more is to
		// be said to them, or about them to the CRM.
		{"jobs", `DELETE FROM jobs WHERE state = 'available' AND ((kind = $1 AND payload LIKE $2)
			OR (kind = $3 AND payload LIKE ANY_REFERRAL))`, nil},
	}
	for _, st := range steps {
		q, args := st.query, st.args
		if st.name == "jobs" {
			q = strings.Replace(q, "payload LIKE ANY_REFERRAL",
				`EXISTS (SELECT 1 FROM referrals r WHERE (r.advocate_id = $4 OR r.friend_id = $4) AND jobs.payload LIKE '%"' || r.id || '"%')`, 1)
			args = []any{parrain.JobNotify, `%"` + p.ID + `"%`, parrain.JobCRMSyncReferral, p.ID}
		}
		res, err := t.tx.ExecContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("erasing %s: %w", st.name, err)
		}
		n, _ := res.RowsAffected()
		counts[st.name] += n
	}
	return counts, nil
}

// ErasePartnerRecord turns a partner record into a tombstone: a random
// email (the column is unique per program), every other personal field
// blanked, its sessions, sign-in links and survey answers deleted.
func (t *Tx) ErasePartnerRecord(ctx context.Context, partnerID string) (map[string]int64, error) {
	counts := map[string]int64{}
	steps := []struct{ name, query string }{
		{"partners", `UPDATE partners SET email = 'erased+' || id || '@invalid', name = '', company = '', website = '', message = '',
			password_hash = '', decision_note = '', status = 'suspended', updated_at = $2 WHERE id = $1`},
		{"partner_sessions", `DELETE FROM partner_sessions WHERE partner_id = $1`},
		{"partner_magic_links", `DELETE FROM partner_magic_links WHERE partner_id = $1`},
		{"partner_survey_answers", `DELETE FROM partner_survey_answers WHERE partner_id = $1`},
		{"crm_links", `DELETE FROM crm_links WHERE local_ref = 'partner:' || $1`},
	}
	for _, st := range steps {
		args := []any{partnerID}
		if strings.Contains(st.query, "$2") {
			args = append(args, ms(t.Now()))
		}
		res, err := t.tx.ExecContext(ctx, st.query, args...)
		if err != nil {
			return nil, fmt.Errorf("erasing %s: %w", st.name, err)
		}
		n, _ := res.RowsAffected()
		counts[st.name] += n
	}
	return counts, nil
}

// SweepPersonalData searches every personal and text column of the data
// map (except NoSweep tables) for the redactor's needles and redacts each
// value that holds one. Equal values are redacted alike, so a value is
// rewritten wherever it occurs. It returns the values changed per table.
func (t *Tx) SweepPersonalData(ctx context.Context, r *parrain.Redactor) (map[string]int64, error) {
	counts := map[string]int64{}
	if r.Empty() {
		return counts, nil
	}
	var pats []any
	for _, n := range r.Needles() {
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
		pats = append(pats, "%"+esc.Replace(n)+"%", "%"+esc.Replace(strings.ToLower(n))+"%")
	}
	for _, m := range DataMap {
		if m.NoSweep {
			continue
		}
		for _, name := range strings.Fields(m.Personal + " " + m.Text) {
			col := `"` + name + `"`
			var conds []string
			for i := 0; i < len(pats); i += 2 {
				conds = append(conds, fmt.Sprintf(`%s LIKE $%d ESCAPE '\' OR lower(%s) LIKE $%d ESCAPE '\'`, col, i+1, col, i+2))
			}
			rows, err := t.tx.QueryContext(ctx, `SELECT DISTINCT `+col+` FROM `+m.Table+` WHERE `+strings.Join(conds, " OR "), pats...)
			if err != nil {
				return nil, fmt.Errorf("searching %s.%s: %w", m.Table, name, err)
			}
			var found []string
			for rows.Next() {
				var v string
				if err := rows.Scan(&v); err != nil {
					rows.Close()
					return nil, err
				}
				found = append(found, v)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
			for _, v := range found {
				nv, changed := r.Value(v)
				if !changed {
					continue
				}
				res, err := t.tx.ExecContext(ctx, `UPDATE `+m.Table+` SET `+col+` = $1 WHERE `+col+` = $2`, nv, v)
				if err != nil {
					return nil, fmt.Errorf("redacting %s.%s: %w", m.Table, name, err)
				}
				n, _ := res.RowsAffected()
				counts[m.Table] += n
			}
		}
	}
	return counts, nil
}

// ---- retention ----

// RetentionPolicy is how long raw data is kept before the daily retention
// job removes it (zero: forever). See docs/privacy.md.
type RetentionPolicy struct {
	RawPayloads   time.Duration // inbound provider payloads, stored API answers, finished jobs
	ClickIPs      time.Duration // clicks' raw IP and user agent
	EmailBodies   time.Duration // subjects and bodies of emails no longer queued
	WebhookBodies time.Duration // bodies of delivered webhook messages and the receivers' answers
}

// ApplyRetention removes what the policy no longer allows, and erased
// persons' evidence past its expiry. It returns the rows changed per step.
func (s *Store) ApplyRetention(ctx context.Context, pol RetentionPolicy) (map[string]int64, error) {
	now := s.clock.Now()
	cut := func(d time.Duration) int64 { return ms(now.Add(-d)) }
	type step struct {
		name  string
		after time.Duration
		query string
	}
	steps := []step{
		{"inbound_events.payload", pol.RawPayloads, `UPDATE inbound_events SET payload = '' WHERE received_at < $1 AND payload <> '' AND status <> 'deferred'`},
		{"idempotency_keys", pol.RawPayloads, `DELETE FROM idempotency_keys WHERE created_at < $1`},
		{"jobs", pol.RawPayloads, `DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished_at < $1`},
		{"clicks.ip", pol.ClickIPs, `UPDATE clicks SET ip = '', user_agent = '' WHERE created_at < $1 AND (ip <> '' OR user_agent <> '')`},
		{"email_messages.body", pol.EmailBodies, `UPDATE email_messages SET subject = '', text_body = '', html_body = ''
			WHERE created_at < $1 AND status <> 'queued' AND (subject <> '' OR text_body <> '' OR html_body <> '')`},
		{"webhook_attempts.response_body", pol.WebhookBodies, `UPDATE webhook_attempts SET response_body = '' WHERE created_at < $1 AND response_body <> ''
			AND delivery_id IN (SELECT id FROM webhook_deliveries WHERE status = 'succeeded')`},
		{"webhook_deliveries.payload", pol.WebhookBodies, `UPDATE webhook_deliveries SET payload = '' WHERE status = 'succeeded' AND completed_at < $1 AND payload <> ''`},
		{"erased_evidence", time.Nanosecond, `DELETE FROM erased_evidence WHERE expires_at <= $1`},
	}
	out := map[string]int64{}
	for _, st := range steps {
		if st.after <= 0 {
			continue
		}
		at := cut(st.after)
		if st.name == "erased_evidence" {
			at = ms(now)
		}
		res, err := s.w.ExecContext(ctx, st.query, at)
		if err != nil {
			return out, fmt.Errorf("retention of %s: %w", st.name, err)
		}
		n, _ := res.RowsAffected()
		out[st.name] = n
	}
	return out, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

const participantCols = `id, program_id, external_id, email, name, locale, code, status, created_at, updated_at, attributes, do_not_sell, erased_at`

func scanParticipant(sc scanner) (parrain.Participant, error) {
	var p parrain.Participant
	var created, updated int64
	var attrs string
	var erased sql.NullInt64
	err := sc.Scan(&p.ID, &p.ProgramID, &p.ExternalID, &p.Email, &p.Name, &p.Locale, &p.Code, &p.Status, &created, &updated, &attrs, &p.DoNotSell, &erased)
	p.CreatedAt, p.UpdatedAt, p.ErasedAt = fromMS(created), fromMS(updated), fromNullMS(erased)
	if err == nil {
		p.Attributes, err = decodeAttributes(attrs)
	}
	return p, err
}

func (s *Store) upsertParticipantTx(ctx context.Context, tx *sql.Tx, programID string, in parrain.ParticipantInput) (parrain.Participant, bool, error) {
	now := ms(s.clock.Now())
	for attempt := 0; ; attempt++ {
		p, err := scanParticipant(tx.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE program_id = $1 AND external_id = $2`+s.d.forUpdate,
			programID, in.ExternalID))
		if err == nil {
			return s.updateParticipantTx(ctx, tx, p, in)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return p, false, fmt.Errorf("loading participant: %w", err)
		}
		code := in.Code
		if code == "" {
			code = parrain.NewCode()
		}
		status := in.Status
		if status == "" {
			status = parrain.ParticipantActive
		}
		id := newID("part")
		dns := in.DoNotSell != nil && *in.DoNotSell
		res, err := tx.ExecContext(ctx, `INSERT INTO participants (id, program_id, external_id, email, email_canonical, name, locale, code, status, created_at, updated_at, attributes, do_not_sell)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) ON CONFLICT DO NOTHING`,
			id, programID, in.ExternalID, in.Email, canonical(in.Email), in.Name, in.Locale, code, status, now, encodeAttributes(in.Attributes), dns)
		if err != nil {
			return p, false, fmt.Errorf("inserting participant: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			s.codeChangedTx(tx, parrain.NormalizeCode(code)) // it may be cached as unknown
			p, err := scanParticipant(tx.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, id))
			return p, true, err
		}
		// Either a concurrent insert of the same external id (loop and
		// update it) or a code collision.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE program_id = $1 AND external_id = $2`, programID, in.ExternalID).Scan(&n); err != nil {
			return p, false, err
		}
		if n == 0 {
			if in.Code != "" {
				return p, false, &parrain.Error{Code: parrain.CodeConflict, Field: "code", Message: fmt.Sprintf("the code %s is already taken", in.Code)}
			}
			if attempt > 8 {
				return p, false, fmt.Errorf("could not allocate a unique referral code")
			}
		}
	}
}

func (s *Store) updateParticipantTx(ctx context.Context, tx *sql.Tx, p parrain.Participant, in parrain.ParticipantInput) (parrain.Participant, bool, error) {
	changed := false
	oldCode, oldStatus := p.Code, p.Status
	set := func(dst *string, v string) {
		if v != "" && *dst != v {
			*dst, changed = v, true
		}
	}
	set(&p.Email, in.Email)
	set(&p.Name, in.Name)
	set(&p.Locale, in.Locale)
	st := string(p.Status)
	set(&st, string(in.Status))
	p.Status = parrain.ParticipantStatus(st)
	if in.Code != "" && in.Code != p.Code {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE code = $1`, in.Code).Scan(&n); err != nil {
			return p, false, err
		}
		if n > 0 {
			return p, false, &parrain.Error{Code: parrain.CodeConflict, Field: "code", Message: fmt.Sprintf("the code %s is already taken", in.Code)}
		}
		p.Code, changed = in.Code, true
	}
	if in.Attributes != nil && encodeAttributes(in.Attributes) != encodeAttributes(&p.Attributes) {
		p.Attributes, changed = *in.Attributes, true
	}
	if in.DoNotSell != nil && *in.DoNotSell != p.DoNotSell {
		p.DoNotSell, changed = *in.DoNotSell, true
	}
	if !changed {
		return p, false, nil
	}
	p.UpdatedAt = s.clock.Now()
	res, err := tx.ExecContext(ctx, `UPDATE participants SET email = $1, email_canonical = $2, name = $3, locale = $4, code = $5, status = $6, updated_at = $7,
		attributes = $9, do_not_sell = $10 WHERE id = $8 AND NOT EXISTS (SELECT 1 FROM participants o WHERE o.code = $5 AND o.id <> $8)`,
		p.Email, canonical(p.Email), p.Name, p.Locale, p.Code, p.Status, ms(p.UpdatedAt), p.ID, encodeAttributes(&p.Attributes), p.DoNotSell)
	if err != nil {
		return p, false, fmt.Errorf("updating participant: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return p, false, &parrain.Error{Code: parrain.CodeConflict, Field: "code", Message: fmt.Sprintf("the code %s is already taken", in.Code)}
	}
	if p.Code != oldCode || p.Status != oldStatus {
		s.codeChangedTx(tx, parrain.NormalizeCode(oldCode))
		s.codeChangedTx(tx, parrain.NormalizeCode(p.Code))
	}
	return p, false, nil
}

func canonical(email string) string {
	if email == "" {
		return ""
	}
	return parrain.CanonicalEmail(email)
}

// Participant returns a participant by program and external id.
func (s *Store) Participant(ctx context.Context, programID, externalID string) (parrain.Participant, error) {
	p, err := scanParticipant(s.r.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE program_id = $1 AND external_id = $2`, programID, externalID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("participant")
	}
	if err != nil {
		return p, fmt.Errorf("loading participant: %w", err)
	}
	return p, nil
}

// CodeTarget is what a referral code resolves to, for the redirect.
type CodeTarget struct {
	ParticipantID string
	ProgramID     string
	Code          string
	LandingURL    string
	WindowDays    int
	Active        bool // participant active and program active
	// LandingPage is true when the program shows the friend a landing
	// page before redirecting (read in the same query, so a plain redirect
	// costs one lookup).
	LandingPage bool
}

// ResolveCode looks up a referral code (case-insensitively), with a
// statement prepared once (lookup.go).
func (s *Store) ResolveCode(ctx context.Context, code string) (CodeTarget, error) {
	var t CodeTarget
	var pst, prst, xdoc string
	stmt, err := s.resolveCodeStmt(ctx)
	if err != nil {
		return t, err
	}
	err = stmt.QueryRowContext(ctx, parrain.NormalizeCode(code)).
		Scan(&t.ParticipantID, &t.ProgramID, &t.Code, &t.LandingURL, &t.WindowDays, &pst, &prst, &xdoc)
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("code")
	}
	if err != nil {
		return t, fmt.Errorf("resolving code: %w", err)
	}
	t.Active = pst == string(parrain.ParticipantActive) && prst == string(parrain.ProgramActive)
	if xdoc != "" {
		var x struct {
			LandingPage bool `json:"landing_page"`
		}
		if json.Unmarshal([]byte(xdoc), &x) == nil {
			t.LandingPage = x.LandingPage
		}
	}
	return t, nil
}

// FallbackLanding returns the landing URL of the oldest active program, for
// links whose code is unknown.
func (s *Store) FallbackLanding(ctx context.Context) (string, error) {
	var u string
	err := s.r.QueryRowContext(ctx, `SELECT landing_url FROM programs WHERE status = 'active' ORDER BY id LIMIT 1`).Scan(&u)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("program")
	}
	return u, err
}

// Stats are an advocate's referral figures.
//
// Rewards keeps its original meaning for existing clients: per status, what
// is still owed (amount minus what refunds reversed), so a fully reversed
// reward shows 0 under "reversed". The fields after it say what they show
// in their names: RewardsOutstanding (the same numbers, named), RewardsGranted
// (amounts as granted, before reversals), RewardsReversed (what refunds
// took back, per currency, over rewards of every status) and RewardCounts.
type Stats struct {
	Clicks    int64                       `json:"clicks"`
	Signups   int64                       `json:"signups"`
	Purchases int64                       `json:"purchases"`
	Rejected  int64                       `json:"rejected"`
	Rewards   map[string]map[string]int64 `json:"rewards"`  // status → currency → outstanding amount (kept; see RewardsOutstanding)
	Balances  map[string]map[string]int64 `json:"balances"` // ledger bucket → currency → balance
	// RewardsOutstanding is status → currency → amount still owed after
	// reversals (the same numbers as Rewards).
	RewardsOutstanding map[string]map[string]int64 `json:"rewards_outstanding"`
	// RewardsGranted is status → currency → amount as granted, before
	// reversals.
	RewardsGranted map[string]map[string]int64 `json:"rewards_granted"`
	// RewardsReversed is currency → amount taken back by refunds and
	// cancellations, whatever the rewards' status now.
	RewardsReversed map[string]int64 `json:"rewards_reversed"`
	// RewardCounts is status → number of rewards.
	RewardCounts map[string]int64 `json:"reward_counts"`
}

// ParticipantStats computes an advocate's stats.
func (s *Store) ParticipantStats(ctx context.Context, participantID string) (Stats, error) {
	st := Stats{Rewards: map[string]map[string]int64{}, Balances: map[string]map[string]int64{},
		RewardsGranted: map[string]map[string]int64{}, RewardsReversed: map[string]int64{}, RewardCounts: map[string]int64{}}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM clicks WHERE participant_id = $1 AND valid`, participantID).Scan(&st.Clicks); err != nil {
		return st, fmt.Errorf("counting clicks: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT
			COUNT(CASE WHEN status <> 'rejected' THEN 1 END),
			COUNT(CASE WHEN status = 'converted' THEN 1 END),
			COUNT(CASE WHEN status = 'rejected' THEN 1 END)
		FROM referrals WHERE advocate_id = $1`, participantID).Scan(&st.Signups, &st.Purchases, &st.Rejected); err != nil {
		return st, fmt.Errorf("counting referrals: %w", err)
	}
	sum := func(q string, into map[string]map[string]int64) error {
		rows, err := s.r.QueryContext(ctx, q, participantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k, cur string
			var v int64
			if err := rows.Scan(&k, &cur, &v); err != nil {
				return err
			}
			if into[k] == nil {
				into[k] = map[string]int64{}
			}
			into[k][cur] = v
		}
		return rows.Err()
	}
	rows, err := s.r.QueryContext(ctx, `SELECT status, currency, COUNT(*), SUM(amount), SUM(reversed) FROM rewards
		WHERE participant_id = $1 GROUP BY status, currency`, participantID)
	if err != nil {
		return st, fmt.Errorf("summing rewards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, cur string
		var n, granted, reversed int64
		if err := rows.Scan(&status, &cur, &n, &granted, &reversed); err != nil {
			return st, fmt.Errorf("summing rewards: %w", err)
		}
		if st.Rewards[status] == nil {
			st.Rewards[status], st.RewardsGranted[status] = map[string]int64{}, map[string]int64{}
		}
		st.Rewards[status][cur] = granted - reversed
		st.RewardsGranted[status][cur] = granted
		st.RewardCounts[status] += n
		if reversed != 0 {
			st.RewardsReversed[cur] += reversed
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("summing rewards: %w", err)
	}
	st.RewardsOutstanding = st.Rewards
	if err := sum(`SELECT bucket, currency, SUM(amount) FROM ledger_entries WHERE participant_id = $1 GROUP BY bucket, currency`, st.Balances); err != nil {
		return st, fmt.Errorf("summing ledger: %w", err)
	}
	return st, nil
}

// UpsertParticipant creates or refreshes a participant; created is true
// for a new one.
func (t *Tx) UpsertParticipant(ctx context.Context, programID string, in parrain.ParticipantInput) (parrain.Participant, bool, error) {
	return t.s.upsertParticipantTx(ctx, t.tx, programID, in)
}

// SetParticipantStatus sets a participant's status.
func (t *Tx) SetParticipantStatus(ctx context.Context, id string, st parrain.ParticipantStatus) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE participants SET status = $1 WHERE id = $2`, st, id)
	t.s.codeChangedTx(t.tx, AllCodes)
	return err
}

// SetParticipantAttribute sets one attribute of a participant, keeping the
// others.
func (t *Tx) SetParticipantAttribute(ctx context.Context, id, key string, value any) error {
	var attrs string
	if err := t.tx.QueryRowContext(ctx, `SELECT attributes FROM participants WHERE id = $1`, id).Scan(&attrs); err != nil {
		return err
	}
	a, err := decodeAttributes(attrs)
	if err != nil {
		return err
	}
	if a == nil {
		a = parrain.Attributes{}
	}
	a[key] = value
	_, err = t.tx.ExecContext(ctx, `UPDATE participants SET attributes = $1, updated_at = $2 WHERE id = $3`, encodeAttributes(&a), ms(t.s.clock.Now()), id)
	return err
}

// ParticipantByID returns a participant.
func (t *Tx) ParticipantByID(ctx context.Context, id string) (parrain.Participant, error) {
	return scanParticipant(t.tx.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, id))
}

// ParticipantByCode returns the participant whose referral code it is.
func (t *Tx) ParticipantByCode(ctx context.Context, code string) (parrain.Participant, error) {
	return scanParticipant(t.tx.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE code = $1`, code))
}

// ParticipantByExternalID returns a program's participant by the
// operator's id; found is false when there is none.
func (t *Tx) ParticipantByExternalID(ctx context.Context, programID, externalID string) (p parrain.Participant, found bool, err error) {
	p, err = scanParticipant(t.tx.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE program_id = $1 AND external_id = $2`,
		programID, externalID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("loading participant: %w", err)
	}
	return p, true, nil
}

// CodeActive reports whether a code belongs to an active participant of
// the program.
func (t *Tx) CodeActive(ctx context.Context, programID, code string) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE code = $1 AND program_id = $2 AND status = 'active'`,
		code, programID).Scan(&n)
	return n > 0, err
}

// SuspendParticipant suspends a participant and voids everything they have
// that is not yet paid.
func (t *Tx) SuspendParticipant(ctx context.Context, id, memo string) error {
	return t.s.suspendTx(ctx, t.tx, id, memo)
}

// LockForCounts serialises, on PostgreSQL, the events that could race on a
// cap, a tier count or a budget: the participants (in id order), and the
// program when lockProgram (it has a budget). SQLite's single writer
// already serialises them.
func (t *Tx) LockForCounts(ctx context.Context, programID string, lockProgram bool, advocateID, friendID string) error {
	if t.s.d.forUpdate == "" {
		return nil
	}
	if lockProgram {
		if _, err := t.tx.ExecContext(ctx, `SELECT id FROM programs WHERE id = $1`+t.s.d.lockNoKey, programID); err != nil {
			return fmt.Errorf("locking program: %w", err)
		}
	}
	if _, err := t.tx.ExecContext(ctx, `SELECT id FROM participants WHERE id IN ($1, $2) ORDER BY id`+t.s.d.lockNoKey,
		advocateID, friendID); err != nil {
		return fmt.Errorf("locking participants: %w", err)
	}
	return nil
}

// ParticipantsPage lists a program's participants, newest first.
func (s *Store) ParticipantsPage(ctx context.Context, programID string, pg Page) ([]parrain.Participant, string, error) {
	where, args := `program_id = $1`, []any{programID}
	if pg.Cursor != "" {
		where, args = where+` AND id < $2`, append(args, pg.Cursor)
	}
	args = append(args, pg.limit()+1)
	out, err := s.participantsWhere(ctx, where+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(p parrain.Participant) string { return p.ID })
}

func (s *Store) participantsWhere(ctx context.Context, where string, args ...any) ([]parrain.Participant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+participantCols+` FROM participants WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("listing participants: %w", err)
	}
	defer rows.Close()
	out := []parrain.Participant{}
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SearchParticipants finds a program's participants by referral code or
// external id (exact, case-insensitive for codes), or, for queries of three
// characters or more, by the beginning of their name or email (any case),
// through the prefix indexes.
func (s *Store) SearchParticipants(ctx context.Context, programID, q string, limit int) ([]parrain.Participant, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return []parrain.Participant{}, nil
	}
	if len(q) > 200 {
		return nil, parrain.Invalid("q", "must be at most 200 characters")
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	seen := map[string]bool{}
	out := []parrain.Participant{}
	collect := func(where string, args ...any) error {
		ps, err := s.participantsWhere(ctx, where, args...)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if !seen[p.ID] && len(out) < limit {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
		return nil
	}
	for _, sq := range participantSearchSQL(programID, q, limit) {
		if err := collect(sq.where, sq.args...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type searchQuery struct {
	where string
	args  []any
}

// participantSearchSQL builds SearchParticipants' queries, in order: exact
// code or external id, then name prefix, then email prefix.
func participantSearchSQL(programID, q string, limit int) []searchQuery {
	out := []searchQuery{{`program_id = $1 AND (code = $2 OR external_id = $3)`, []any{programID, parrain.NormalizeCode(q), q}}}
	if len([]rune(q)) < 3 {
		return out // names and emails need three characters: an index prefix
	}
	// lower() is computed by the database on both sides, so the comparison
	// uses the same case folding as the index.
	for _, col := range []string{"name", "email"} {
		where := fmt.Sprintf(`program_id = $1 AND substr(lower(%[1]s), 1, 3) = substr(lower(CAST($2 AS TEXT)), 1, 3)
			AND substr(lower(%[1]s), 1, length(CAST($2 AS TEXT))) = lower(CAST($2 AS TEXT))`, col)
		out = append(out, searchQuery{where + ` ORDER BY id DESC LIMIT $3`, []any{programID, q, limit}})
	}
	return out
}

// ParticipantByID returns a participant by its internal id.
func (s *Store) ParticipantByID(ctx context.Context, id string) (parrain.Participant, error) {
	ps, err := s.participantsWhere(ctx, `id = $1`, id)
	if err != nil {
		return parrain.Participant{}, err
	}
	if len(ps) == 0 {
		return parrain.Participant{}, notFound("participant")
	}
	return ps[0], nil
}

// ParticipantsByIDs returns participants by internal id (at most 500).
func (s *Store) ParticipantsByIDs(ctx context.Context, ids []string) (map[string]parrain.Participant, error) {
	out := map[string]parrain.Participant{}
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > 500 {
		return nil, parrain.Invalid("ids", "at most 500 participants at once")
	}
	args := make([]any, len(ids))
	ph := make([]string, len(ids))
	for i, id := range ids {
		args[i] = id
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	ps, err := s.participantsWhere(ctx, `id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, nil
}

// TimelineItem is one thing that happened to or because of a participant.
type TimelineItem struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // click, event, friend_event, ledger
	// For events: the type, and for friend events the friend credited to
	// this participant.
	EventType      parrain.EventType `json:"event_type,omitempty"`
	FriendID       string            `json:"friend_id,omitempty"`
	FriendExternal string            `json:"friend_external_id,omitempty"`
	OrderID        string            `json:"order_id,omitempty"`
	Amount         int64             `json:"amount,omitempty"`
	Currency       string            `json:"currency,omitempty"`
	// For ledger entries.
	EntryType parrain.EntryType `json:"entry_type,omitempty"`
	Bucket    parrain.Bucket    `json:"bucket,omitempty"`
	RewardID  string            `json:"reward_id,omitempty"`
	Memo      string            `json:"memo,omitempty"`
	// For clicks.
	Referer string `json:"referer,omitempty"`
	id      string
}

// ParticipantTimeline returns the latest things that happened to a
// participant, newest first: clicks on their link, their own events, the
// events of the friends they referred, and their ledger entries.
func (s *Store) ParticipantTimeline(ctx context.Context, p parrain.Participant, limit int) ([]TimelineItem, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var items []TimelineItem
	rows, err := s.r.QueryContext(ctx, `SELECT id, created_at, referer FROM clicks WHERE participant_id = $1 AND valid ORDER BY created_at DESC LIMIT $2`, p.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("loading clicks: %w", err)
	}
	for rows.Next() {
		var it TimelineItem
		var at int64
		if err := rows.Scan(&it.id, &at, &it.Referer); err != nil {
			rows.Close()
			return nil, err
		}
		it.At, it.Kind = fromMS(at), "click"
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	const evCols = `SELECT e.id, e.type, e.payload, e.occurred_at, `
	queries := []struct {
		kind, q string
		args    []any
	}{
		// Their own signups and purchases.
		{"event", evCols + `'', '' FROM events e WHERE e.participant_id = $1 ORDER BY e.id DESC LIMIT $2`, []any{p.ID, limit}},
		// Refunds of their own orders (refund events name no participant).
		{"event", evCols + `'', '' FROM events e JOIN referrals r ON r.id = e.referral_id
			WHERE r.program_id = $1 AND r.friend_id = $2 AND e.type = 'refund' ORDER BY e.id DESC LIMIT $3`, []any{p.ProgramID, p.ID, limit}},
		// What the friends they referred did.
		{"friend_event", evCols + `f.id, f.external_id FROM events e JOIN referrals r ON r.id = e.referral_id JOIN participants f ON f.id = r.friend_id
			WHERE r.advocate_id = $1 ORDER BY e.id DESC LIMIT $2`, []any{p.ID, limit}},
	}
	for _, qq := range queries {
		rows, err := s.r.QueryContext(ctx, qq.q, qq.args...)
		if err != nil {
			return nil, fmt.Errorf("loading events: %w", err)
		}
		for rows.Next() {
			var it TimelineItem
			var payload string
			var at int64
			if err := rows.Scan(&it.id, &it.EventType, &payload, &at, &it.FriendID, &it.FriendExternal); err != nil {
				rows.Close()
				return nil, err
			}
			var ev parrain.Event
			if err := json.Unmarshal([]byte(payload), &ev); err == nil {
				it.OrderID, it.Amount, it.Currency = ev.OrderID, ev.Amount, ev.Currency
			}
			it.At, it.Kind = fromMS(at), qq.kind
			items = append(items, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	entries, err := s.r.QueryContext(ctx, `SELECT id, reward_id, type, bucket, amount, currency, memo, created_at FROM ledger_entries
		WHERE participant_id = $1 ORDER BY id DESC LIMIT $2`, p.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("loading ledger: %w", err)
	}
	defer entries.Close()
	for entries.Next() {
		var it TimelineItem
		var at int64
		if err := entries.Scan(&it.id, &it.RewardID, &it.EntryType, &it.Bucket, &it.Amount, &it.Currency, &it.Memo, &at); err != nil {
			return nil, err
		}
		it.At, it.Kind = fromMS(at), "ledger"
		items = append(items, it)
	}
	if err := entries.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].At.Equal(items[j].At) {
			return items[i].At.After(items[j].At)
		}
		return items[i].id > items[j].id
	})
	if len(items) > limit {
		items = items[:limit]
	}
	return items, nil
}

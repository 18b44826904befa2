package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// This file holds the console's list and search queries. Every list is a
// keyset page over an index, so deep pages of million-row programs stay as
// fast as the first one.

// RewardQuery narrows a program's reward list.
type RewardQuery struct {
	ProgramID string
	Status    string // "" for every status
}

// RewardsPage lists a program's rewards, newest first.
func (s *Store) RewardsPage(ctx context.Context, q RewardQuery, pg Page) ([]parrain.Reward, string, error) {
	if q.Status != "" && !parrain.ValidRewardStatus(q.Status) {
		return nil, "", parrain.Invalid("status", "must be pending, approved, paid, reversed or clawed_back")
	}
	where := []string{`r.program_id = $1`}
	args := []any{q.ProgramID}
	if q.Status != "" {
		args = append(args, q.Status)
		where = append(where, fmt.Sprintf(`r.status = $%d`, len(args)))
	}
	if pg.Cursor != "" {
		args = append(args, pg.Cursor)
		where = append(where, fmt.Sprintf(`r.id < $%d`, len(args)))
	}
	args = append(args, pg.limit()+1)
	rws, err := s.rewardsWhere(ctx, s.r, strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY r.id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", err
	}
	return pageOf(rws, pg.limit(), func(r parrain.Reward) string { return r.ID })
}

// RewardByID returns a reward by id, in any program.
func (s *Store) RewardByID(ctx context.Context, id string) (parrain.Reward, error) {
	rws, err := s.rewardsWhere(ctx, s.r, `r.id = $1`, id)
	if err != nil {
		return parrain.Reward{}, err
	}
	if len(rws) == 0 {
		return parrain.Reward{}, notFound("reward")
	}
	return rws[0], nil
}

// ReferralQuery narrows a program's referral list.
type ReferralQuery struct {
	ProgramID  string
	Status     string    // signed_up, converted, rejected; "" for all
	From, To   time.Time // signup time in [From, To); zero for open ends
	Flagged    bool      // only referrals flagged: waiting for fraud review (flagged, held) or rejected
	AdvocateID string    // only this advocate's referrals
}

// ReferralRow is a referral with what the console shows beside it.
type ReferralRow struct {
	parrain.Referral
	AdvocateName   string `json:"advocate_name"`
	FriendName     string `json:"friend_name"`
	FriendEmail    string `json:"friend_email"`
	Via            string `json:"via"`             // code (typed) or cookie (link click)
	PendingRewards int64  `json:"pending_rewards"` // rewards awaiting approval
}

// UnderReview reports whether the referral waits for a fraud reviewer.
func (r ReferralRow) UnderReview() bool { return parrain.UnderReview(r.ReviewStatus) }

const referralRowSelect = `SELECT r.id, r.program_id, r.advocate_id, a.external_id, r.friend_id, f.external_id, r.code, r.status, r.reason,
	r.clicked_at, r.signed_up_at, r.converted_at, r.created_at, r.risk_score, r.review_status, a.name, f.name, f.email, r.via,
	(SELECT COUNT(*) FROM rewards rw WHERE rw.referral_id = r.id AND rw.status = 'pending')
	FROM referrals r JOIN participants a ON a.id = r.advocate_id JOIN participants f ON f.id = r.friend_id`

func scanReferralRow(sc scanner) (ReferralRow, error) {
	var r ReferralRow
	var clicked, converted sql.NullInt64
	var signed, created int64
	err := sc.Scan(&r.ID, &r.ProgramID, &r.AdvocateID, &r.AdvocateExternalID, &r.FriendID, &r.FriendExternalID, &r.Code,
		&r.Status, &r.Reason, &clicked, &signed, &converted, &created, &r.RiskScore, &r.ReviewStatus, &r.AdvocateName, &r.FriendName, &r.FriendEmail, &r.Via, &r.PendingRewards)
	r.ClickedAt, r.ConvertedAt = fromNullMS(clicked), fromNullMS(converted)
	r.SignedUpAt, r.CreatedAt = fromMS(signed), fromMS(created)
	return r, err
}

// referralCursor is "<signed_up_at ms>.<id>": the list is ordered by signup
// time, then id, both descending.
func referralCursor(r ReferralRow) string {
	return strconv.FormatInt(ms(r.SignedUpAt), 10) + "." + r.ID
}

// ReferralsPage lists a program's referrals by signup time, newest first,
// filtered by status, signup dates, flag and advocate.
func (s *Store) ReferralsPage(ctx context.Context, q ReferralQuery, pg Page) ([]ReferralRow, string, error) {
	query, args, err := referralsPageSQL(q, pg)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing referrals: %w", err)
	}
	defer rows.Close()
	out := []ReferralRow{}
	for rows.Next() {
		r, err := scanReferralRow(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), referralCursor)
}

// referralsPageSQL builds ReferralsPage's query (separate so that a test
// can check its plan uses the indexes).
func referralsPageSQL(q ReferralQuery, pg Page) (string, []any, error) {
	switch parrain.ReferralStatus(q.Status) {
	case "", parrain.ReferralSignedUp, parrain.ReferralConverted, parrain.ReferralRejected:
	default:
		return "", nil, parrain.Invalid("status", "must be signed_up, converted or rejected")
	}
	where := []string{`r.program_id = $1`}
	args := []any{q.ProgramID}
	add := func(cond string, vs ...any) {
		idx := make([]any, len(vs))
		for i, v := range vs {
			args = append(args, v)
			idx[i] = len(args)
		}
		where = append(where, fmt.Sprintf(cond, idx...))
	}
	if q.Status != "" {
		add(`r.status = $%d`, q.Status)
	}
	if !q.From.IsZero() {
		add(`r.signed_up_at >= $%d`, ms(q.From))
	}
	if !q.To.IsZero() {
		add(`r.signed_up_at < $%d`, ms(q.To))
	}
	if q.Flagged {
		where = append(where, `(r.review_status IN ('flagged', 'held') OR r.status = 'rejected')`)
	}
	if q.AdvocateID != "" {
		add(`r.advocate_id = $%d`, q.AdvocateID)
	}
	if pg.Cursor != "" {
		at, id, ok := strings.Cut(pg.Cursor, ".")
		t, err := strconv.ParseInt(at, 10, 64)
		if !ok || err != nil || id == "" {
			return "", nil, parrain.Invalid("cursor", "is not a cursor from a previous page")
		}
		add(`(r.signed_up_at < $%d OR (r.signed_up_at = $%d AND r.id < $%d))`, t, t, id)
	}
	args = append(args, pg.limit()+1)
	return referralRowSelect + ` WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY r.signed_up_at DESC, r.id DESC LIMIT $%d`, len(args)), args, nil
}

// ReferralOfFriend returns the referral that brought a participant into
// their program (who referred them), or not_found.
func (s *Store) ReferralOfFriend(ctx context.Context, programID, friendID string) (ReferralRow, error) {
	r, err := scanReferralRow(s.r.QueryRowContext(ctx, referralRowSelect+` WHERE r.program_id = $1 AND r.friend_id = $2`, programID, friendID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("referral")
	}
	if err != nil {
		return r, fmt.Errorf("loading referral: %w", err)
	}
	return r, nil
}

// PendingRewardIDs returns the pending rewards of some referrals of a
// program, for bulk review from the referral list.
func (s *Store) PendingRewardIDs(ctx context.Context, programID string, referralIDs []string) ([]string, error) {
	if len(referralIDs) == 0 {
		return nil, parrain.Invalid("ids", "select at least one referral")
	}
	if len(referralIDs) > MaxBulk {
		return nil, parrain.Invalid("ids", "at most %d referrals at once", MaxBulk)
	}
	args := []any{programID}
	ph := make([]string, len(referralIDs))
	for i, id := range referralIDs {
		args = append(args, id)
		ph[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM rewards WHERE program_id = $1 AND status = 'pending' AND referral_id IN (`+
		strings.Join(ph, ", ")+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing pending rewards: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
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

// FailedJob is a background job that used all its attempts.
type FailedJob struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error"`
	FinishedAt time.Time `json:"finished_at"`
}

// FailedJobs lists the most recent failed jobs.
func (s *Store) FailedJobs(ctx context.Context, limit int) ([]FailedJob, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, kind, attempts, last_error, COALESCE(finished_at, 0) FROM jobs WHERE state = 'failed'
		ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing failed jobs: %w", err)
	}
	defer rows.Close()
	out := []FailedJob{}
	for rows.Next() {
		var j FailedJob
		var fin int64
		if err := rows.Scan(&j.ID, &j.Kind, &j.Attempts, &j.LastError, &fin); err != nil {
			return nil, err
		}
		j.FinishedAt = fromMS(fin)
		out = append(out, j)
	}
	return out, rows.Err()
}

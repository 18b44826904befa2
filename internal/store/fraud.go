package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// FraudPolicyDoc returns a program's stored fraud policy document (empty
// for the default policy), read from the read pool.
func (s *Store) FraudPolicyDoc(ctx context.Context, programID string) (string, error) {
	var doc string
	err := s.r.QueryRowContext(ctx, `SELECT fraud_policy FROM programs WHERE id = $1`, programID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("program")
	}
	if err != nil {
		return "", fmt.Errorf("loading fraud policy: %w", err)
	}
	return doc, nil
}

// SetFraudPolicyDoc stores a program's fraud policy document (validated by
// the caller).
func (s *Store) SetFraudPolicyDoc(ctx context.Context, programID, doc string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE programs SET fraud_policy = $1, updated_at = $2 WHERE id = $3`, doc, ms(s.clock.Now()), programID)
		if err != nil {
			return fmt.Errorf("storing fraud policy: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("program")
		}
		return s.audit(ctx, tx, AuditFraudPolicyUpdated, "program", programID, programID, nil)
	})
}

// recordTraits remembers the facts an event carried about a participant,
// so later referrals can be compared with them.
func (s *Store) recordTraits(ctx context.Context, tx *sql.Tx, programID, participantID string, c *parrain.EventContext, at time.Time) error {
	if c == nil {
		return nil
	}
	for _, kv := range [][2]string{{"ip", c.IP}, {"device", c.DeviceID}, {"payment", c.PaymentFingerprint}, {"address", c.Address}, {"ua", c.UserAgent}} {
		if kv[1] == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO participant_traits (participant_id, program_id, kind, value, first_seen, last_seen)
			VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (participant_id, kind, value) DO UPDATE SET last_seen = excluded.last_seen`,
			participantID, programID, kv[0], kv[1], ms(at)); err != nil {
			return fmt.Errorf("recording trait: %w", err)
		}
	}
	return nil
}

func (s *Store) logReview(ctx context.Context, tx *sql.Tx, ref *parrain.Referral, decision, reason, reviewer string, score int, signals string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO fraud_reviews (id, program_id, referral_id, decision, reason, reviewer, score, signals, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, newID("frv"), ref.ProgramID, ref.ID, decision, reason, reviewer, score, signals, ms(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("recording fraud decision: %w", err)
	}
	return nil
}

// suspendTx suspends a participant and reverses everything they have that
// is not yet paid: an advocate suspended for fraud keeps nothing pending.
func (s *Store) suspendTx(ctx context.Context, tx *sql.Tx, participantID, memo string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE participants SET status = $1, updated_at = $2 WHERE id = $3`,
		parrain.ParticipantSuspended, ms(s.clock.Now()), participantID); err != nil {
		return fmt.Errorf("suspending participant: %w", err)
	}
	s.codeChangedTx(tx, AllCodes)
	return s.voidRewardsTx(ctx, tx, `r.participant_id = $1 AND r.status IN ('pending', 'approved')`, memo, participantID)
}

// voidRewardsTx reverses (pending) or claws back (approved) what is left of
// the selected rewards.
func (s *Store) voidRewardsTx(ctx context.Context, tx *sql.Tx, where, memo string, args ...any) error {
	rws, err := s.rewardsWhere(ctx, tx, where+s.d.forUpdate, args...)
	if err != nil {
		return err
	}
	for i := range rws {
		rw := &rws[i]
		x := rw.Outstanding()
		moves, st := parrain.Reverse(rw, x)
		if len(moves) == 0 {
			continue
		}
		if err := s.applyMoves(ctx, tx, rw, moves, st, rw.Reversed+x, memo); err != nil {
			return err
		}
	}
	return nil
}

// Trait is a fact an event carried about a participant (kind ip, device,
// payment, address or ua), with when it was last seen.
type Trait struct {
	Kind, Value string
	Seen        time.Time
}

func (s *Store) traits(ctx context.Context, q querier, participantID string, since time.Time) ([]Trait, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, value, last_seen FROM participant_traits WHERE participant_id = $1 AND last_seen >= $2
		ORDER BY last_seen DESC LIMIT 100`, participantID, ms(since))
	if err != nil {
		return nil, fmt.Errorf("loading traits: %w", err)
	}
	defer rows.Close()
	var out []Trait
	for rows.Next() {
		var t Trait
		var seen int64
		if err := rows.Scan(&t.Kind, &t.Value, &seen); err != nil {
			return nil, err
		}
		t.Seen = fromMS(seen)
		out = append(out, t)
	}
	return out, rows.Err()
}

// Review decisions a reviewer can take.
const (
	ReviewDecisionClear  = "clear"
	ReviewDecisionReject = "reject"
)

// ReviewItem is a referral waiting for review with the evidence side by
// side.
type ReviewItem struct {
	Referral parrain.Referral `json:"referral"`
	// SignalsDoc is the stored JSON of the signals that fired (decoded by
	// the fraud use cases).
	SignalsDoc string   `json:"-"`
	Advocate   Evidence `json:"advocate"`
	Friend     Evidence `json:"friend"`
	Overdue    bool     `json:"overdue"`
}

// Evidence is what is known of one side of a referral.
type Evidence struct {
	ExternalID string              `json:"external_id"`
	Email      string              `json:"email,omitempty"`
	Name       string              `json:"name,omitempty"`
	Status     string              `json:"status"`
	Since      time.Time           `json:"since"`
	Traits     map[string][]string `json:"traits"`
	Referrals  int                 `json:"referrals"`
	Rejected   int                 `json:"rejected"`
}

// ReviewQueue lists a program's referrals waiting for review (flagged and
// held; or one status), oldest deadline first within the page order.
func (s *Store) ReviewQueue(ctx context.Context, programID, status string, pg Page) ([]ReviewItem, string, error) {
	switch status {
	case "":
	case parrain.ReviewFlagged, parrain.ReviewHeld, parrain.ReviewCleared, parrain.ReviewRejected:
	default:
		return nil, "", parrain.Invalid("status", "must be flagged, held, cleared or rejected")
	}
	refs, next, err := s.referralsWhere(ctx, programID, pg, `(($1 = '' AND r.review_status IN ('flagged', 'held')) OR r.review_status = $1)`, status)
	if err != nil {
		return nil, "", err
	}
	out := make([]ReviewItem, 0, len(refs))
	now := s.clock.Now()
	for _, ref := range refs {
		it := ReviewItem{Referral: ref}
		if err := s.r.QueryRowContext(ctx, `SELECT risk_signals FROM referrals WHERE id = $1`, ref.ID).Scan(&it.SignalsDoc); err != nil {
			return nil, "", err
		}
		if it.Advocate, err = s.evidence(ctx, ref.AdvocateID); err != nil {
			return nil, "", err
		}
		if it.Friend, err = s.evidence(ctx, ref.FriendID); err != nil {
			return nil, "", err
		}
		it.Overdue = ref.ReviewDeadline != nil && now.After(*ref.ReviewDeadline) && parrain.UnderReview(ref.ReviewStatus)
		out = append(out, it)
	}
	return out, next, nil
}

func (s *Store) evidence(ctx context.Context, participantID string) (Evidence, error) {
	p, err := scanParticipant(s.r.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, participantID))
	if err != nil {
		return Evidence{}, fmt.Errorf("loading participant: %w", err)
	}
	e := Evidence{ExternalID: p.ExternalID, Email: p.Email, Name: p.Name, Status: string(p.Status), Since: p.CreatedAt, Traits: map[string][]string{}}
	ts, err := s.traits(ctx, s.r, participantID, time.Time{})
	if err != nil {
		return e, err
	}
	for _, t := range ts {
		e.Traits[t.Kind] = append(e.Traits[t.Kind], t.Value)
	}
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN status = 'rejected' THEN 1 END) FROM referrals WHERE advocate_id = $1`,
		participantID).Scan(&e.Referrals, &e.Rejected)
	return e, err
}

// referralsWhere lists a program's referrals matching an extra condition on
// $1 (keyset by id, newest first).
func (s *Store) referralsWhere(ctx context.Context, programID string, pg Page, cond string, arg any) ([]parrain.Referral, string, error) {
	rows, err := s.r.QueryContext(ctx, referralSelect+` WHERE `+cond+` AND r.program_id = $2 AND ($3 = '' OR r.id < $3) ORDER BY r.id DESC LIMIT $4`,
		arg, programID, pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", fmt.Errorf("listing referrals: %w", err)
	}
	defer rows.Close()
	var out []parrain.Referral
	for rows.Next() {
		r, err := scanReferral(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(r parrain.Referral) string { return r.ID })
}

// SignalDocs returns the signals that fired on a program's referrals (one
// JSON document per referral with any) and the reviewers' decisions with
// the signals they judged, for the fraud use cases to count.
func (s *Store) SignalDocs(ctx context.Context, programID string) (fired []string, reviewed []ReviewedSignals, err error) {
	rows, err := s.r.QueryContext(ctx, `SELECT risk_signals FROM referrals WHERE program_id = $1 AND risk_signals <> '[]'`, programID)
	if err != nil {
		return nil, nil, fmt.Errorf("reading signals: %w", err)
	}
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			rows.Close()
			return nil, nil, err
		}
		fired = append(fired, doc)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, nil, err
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, `SELECT decision, signals FROM fraud_reviews WHERE program_id = $1 AND reviewer <> 'system'`, programID)
	if err != nil {
		return nil, nil, fmt.Errorf("reading reviews: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ReviewedSignals
		if err := rows.Scan(&r.Decision, &r.Doc); err != nil {
			return nil, nil, err
		}
		reviewed = append(reviewed, r)
	}
	return fired, reviewed, rows.Err()
}

// ReviewedSignals is one reviewer decision and the JSON of the signals it
// judged.
type ReviewedSignals struct {
	Decision string
	Doc      string
}

// PurgeClickIPs blanks the raw IP of clicks older than the retention
// period; the keyed hash stays for counting.
func (s *Store) PurgeClickIPs(ctx context.Context, olderThan time.Duration) (int64, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE clicks SET ip = '' WHERE created_at < $1 AND ip <> ''`, ms(s.clock.Now().Add(-olderThan)))
	if err != nil {
		return 0, fmt.Errorf("purging click IPs: %w", err)
	}
	return res.RowsAffected()
}

// clickParams keeps only the query parameters of a click useful for fraud
// checks (ad-click ids, utm_*), to avoid storing arbitrary data.
func clickParams(raw string) string {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return ""
	}
	keep := url.Values{}
	for k, v := range q {
		l := strings.ToLower(k)
		if strings.HasPrefix(l, "utm_") || strings.HasSuffix(l, "clid") || l == "gbraid" || l == "wbraid" || l == "li_fat_id" || l == "yclid" {
			keep[l] = v[:1]
		}
	}
	return keep.Encode()
}

// referralReviewStatus returns a referral's fraud review state.
func (s *Store) referralReviewStatus(ctx context.Context, q querier, referralID string) (string, error) {
	var st string
	if err := q.QueryRowContext(ctx, `SELECT review_status FROM referrals WHERE id = $1`, referralID).Scan(&st); err != nil {
		return "", fmt.Errorf("loading review status: %w", err)
	}
	return st, nil
}

// Traits lists a participant's traits seen since since, newest first.
func (t *Tx) Traits(ctx context.Context, participantID string, since time.Time) ([]Trait, error) {
	return t.s.traits(ctx, t.tx, participantID, since)
}

// RecordTraits remembers the facts an event carried about a participant.
func (t *Tx) RecordTraits(ctx context.Context, programID, participantID string, c *parrain.EventContext, at time.Time) error {
	return t.s.recordTraits(ctx, t.tx, programID, participantID, c, at)
}

// FriendsSharingTrait counts the program's referred friends other than
// exclude that carry a trait (0 for an empty value).
func (t *Tx) FriendsSharingTrait(ctx context.Context, programID, kind, value, exclude string) (int, error) {
	if value == "" {
		return 0, nil
	}
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT t.participant_id) FROM participant_traits t
		JOIN referrals r ON r.friend_id = t.participant_id
		WHERE t.program_id = $1 AND t.kind = $2 AND t.value = $3 AND t.participant_id <> $4`, programID, kind, value, exclude).Scan(&n)
	return n, err
}

// LogFraudReview records a fraud decision on a referral (automatic or a
// reviewer's).
func (t *Tx) LogFraudReview(ctx context.Context, ref *parrain.Referral, decision, reason, reviewer string, score int, signals string) error {
	return t.s.logReview(ctx, t.tx, ref, decision, reason, reviewer, score, signals)
}

// FraudPolicyDoc returns a program's stored fraud policy document (empty
// for the default policy).
func (t *Tx) FraudPolicyDoc(ctx context.Context, programID string) (string, error) {
	var doc string
	if err := t.tx.QueryRowContext(ctx, `SELECT fraud_policy FROM programs WHERE id = $1`, programID).Scan(&doc); err != nil {
		return "", fmt.Errorf("loading fraud policy: %w", err)
	}
	return doc, nil
}

// hourMS is an hour in milliseconds, the unit of the velocity windows.
const hourMS = int64(time.Hour / time.Millisecond)

// AdvocateSignupsPerHour counts an advocate's referred signups in sliding
// hours ending at at: index k of the result holds the signups in
// (at-(k+1)h, at-kh], for k in 0..hours-1. Index 0 is the trailing 60
// minutes, so a burst straddling a clock hour is counted whole.
func (t *Tx) AdvocateSignupsPerHour(ctx context.Context, advocateID string, at time.Time, hours int) ([]int, error) {
	out := make([]int, hours)
	rows, err := t.tx.QueryContext(ctx, `SELECT (CAST($2 AS BIGINT) - signed_up_at) / $4, COUNT(*) FROM referrals
		WHERE advocate_id = $1 AND signed_up_at > $3 AND signed_up_at <= $2 GROUP BY 1`,
		advocateID, ms(at), ms(at)-int64(hours)*hourMS, hourMS)
	if err != nil {
		return nil, fmt.Errorf("counting the advocate's signups per hour: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ago int64
		var n int
		if err := rows.Scan(&ago, &n); err != nil {
			return nil, err
		}
		if ago >= 0 && ago < int64(hours) {
			out[ago] = n
		}
	}
	return out, rows.Err()
}

// ActiveAdvocateHours lists, for the program's sliding hours ending at at
// (oldest first, the trailing hour itself excluded), the signup count of
// every advocate who had at least one signup in that hour: the
// observations of the program's per-active-advocate baseline.
func (t *Tx) ActiveAdvocateHours(ctx context.Context, programID string, at time.Time, hours int) ([]int, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT (CAST($2 AS BIGINT) - signed_up_at) / $4, advocate_id, COUNT(*) FROM referrals
		WHERE program_id = $1 AND signed_up_at > $3 AND signed_up_at <= $2 GROUP BY 1, 2 ORDER BY 1 DESC, 2`,
		programID, ms(at), ms(at)-int64(hours)*hourMS, hourMS)
	if err != nil {
		return nil, fmt.Errorf("counting active advocates' signups per hour: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var ago int64
		var adv string
		var n int
		if err := rows.Scan(&ago, &adv, &n); err != nil {
			return nil, err
		}
		if ago >= 1 {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

// UndecidedReferralsOf lists an advocate's referrals signed up in
// (from, to] that no fraud decision stops yet (not rejected, not held, not
// cleared by a reviewer), other than exclude, oldest first, at most limit:
// the earlier signups of a burst to score again once it shows.
func (t *Tx) UndecidedReferralsOf(ctx context.Context, advocateID, exclude string, from, to time.Time, limit int) ([]parrain.Referral, error) {
	rows, err := t.tx.QueryContext(ctx, referralSelect+` WHERE r.advocate_id = $1 AND r.id <> $2 AND r.signed_up_at > $3 AND r.signed_up_at <= $4
		AND r.status <> 'rejected' AND r.review_status IN ('none', 'flagged') ORDER BY r.signed_up_at, r.id LIMIT $5`,
		advocateID, exclude, ms(from), ms(to), limit)
	if err != nil {
		return nil, fmt.Errorf("listing the advocate's undecided referrals: %w", err)
	}
	defer rows.Close()
	var out []parrain.Referral
	for rows.Next() {
		r, err := scanReferral(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

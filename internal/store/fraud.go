package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
)

// programVelocity caches each program's hourly baseline for the hour it
// was computed in.
var programVelocity sync.Map // program id → cachedVelocity

type cachedVelocity struct {
	hour int64
	v    fraud.Velocity
}

// engines caches one fraud engine per program policy document.
var engines sync.Map // policy JSON → *fraud.Engine

func engineFor(policyJSON string) (*fraud.Engine, error) {
	if e, ok := engines.Load(policyJSON); ok {
		return e.(*fraud.Engine), nil
	}
	p := fraud.DefaultPolicy()
	if policyJSON != "" {
		if err := json.Unmarshal([]byte(policyJSON), &p); err != nil {
			return nil, fmt.Errorf("decoding fraud policy: %w", err)
		}
	}
	e, err := fraud.NewEngine(p)
	if err != nil {
		return nil, err
	}
	engines.Store(policyJSON, e)
	return e, nil
}

// FraudPolicy returns a program's fraud policy (the default one until the
// operator sets their own).
func (s *Store) FraudPolicy(ctx context.Context, programID string) (fraud.Policy, error) {
	var doc string
	err := s.r.QueryRowContext(ctx, `SELECT fraud_policy FROM programs WHERE id = $1`, programID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return fraud.Policy{}, notFound("program")
	}
	if err != nil {
		return fraud.Policy{}, fmt.Errorf("loading fraud policy: %w", err)
	}
	e, err := engineFor(doc)
	if err != nil {
		return fraud.Policy{}, err
	}
	return e.Policy(), nil
}

// SetFraudPolicy validates and stores a program's fraud policy.
func (s *Store) SetFraudPolicy(ctx context.Context, programID string, p fraud.Policy) (fraud.Policy, error) {
	if p.Tuning == (fraud.Tuning{}) {
		p.Tuning = fraud.DefaultTuning()
	}
	if _, err := fraud.NewEngine(p); err != nil {
		return p, parrain.Invalid("policy", "%s", strings.TrimPrefix(err.Error(), "fraud: "))
	}
	b, err := json.Marshal(p)
	if err != nil {
		return p, err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE programs SET fraud_policy = $1, updated_at = $2 WHERE id = $3`, string(b), ms(s.clock.Now()), programID)
	if err != nil {
		return p, fmt.Errorf("storing fraud policy: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return p, notFound("program")
	}
	return s.FraudPolicy(ctx, programID)
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

// riskOutcome is a fraud decision about to be applied to a referral.
type riskOutcome struct {
	decision fraud.Decision
}

func (r *riskOutcome) signalsJSON() string {
	b, _ := json.Marshal(r.decision.Signals)
	if len(r.decision.Signals) == 0 {
		return "[]"
	}
	return string(b)
}

// apply writes the decision into the referral being created.
func (r *riskOutcome) apply(ref *parrain.Referral) {
	d := r.decision
	ref.RiskScore, ref.RiskAction = d.Score, string(d.Action)
	ref.ReviewStatus = parrain.ReviewNone
	switch d.Action {
	case fraud.ActionFlag:
		ref.ReviewStatus = parrain.ReviewFlagged
	case fraud.ActionHold:
		ref.ReviewStatus = parrain.ReviewHeld
		if !d.ReviewBy.IsZero() {
			t := d.ReviewBy.UTC().Truncate(time.Millisecond)
			ref.ReviewDeadline = &t
		}
	case fraud.ActionReject, fraud.ActionSuspend:
		ref.Status, ref.Reason = parrain.ReferralRejected, parrain.ReasonFraud
		ref.ReviewStatus = parrain.ReviewRejected
	}
}

// recordRisk logs a non-trivial automatic decision and, for a suspension,
// suspends the advocate and voids what they have pending.
func (s *Store) recordRisk(ctx context.Context, tx *sql.Tx, ref *parrain.Referral, r *riskOutcome) error {
	if len(r.decision.Signals) == 0 {
		return nil
	}
	if err := s.logReview(ctx, tx, ref, "auto_"+string(r.decision.Action), strings.Join(r.decision.Reasons, "; "), "system", r.decision.Score, r.signalsJSON()); err != nil {
		return err
	}
	if r.decision.Action != fraud.ActionApprove {
		if err := s.emitTx(ctx, tx, ref.ProgramID, parrain.WebhookFraudFlagged, map[string]any{
			"referral": ref, "action": r.decision.Action, "score": r.decision.Score, "signals": r.decision.Signals,
		}); err != nil {
			return err
		}
	}
	if r.decision.Action == fraud.ActionSuspend {
		return s.suspendTx(ctx, tx, ref.AdvocateID, "suspended by the fraud policy")
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

// assess scores the referral being attributed to adv from everything the
// database knows. It runs inside the ingestion transaction.
func (in *ingest) assess(ctx context.Context, adv parrain.Participant, cand *parrain.Candidate) (*riskOutcome, error) {
	var doc string
	if err := in.tx.QueryRowContext(ctx, `SELECT fraud_policy FROM programs WHERE id = $1`, in.prog.ID).Scan(&doc); err != nil {
		return nil, fmt.Errorf("loading fraud policy: %w", err)
	}
	eng, err := engineFor(doc)
	if err != nil {
		return nil, err
	}
	r, err := in.fraudInput(ctx, eng, adv, cand)
	if err != nil {
		return nil, err
	}
	return &riskOutcome{decision: eng.Decide(r)}, nil
}

type trait struct {
	kind, value string
	seen        int64
}

func (s *Store) traits(ctx context.Context, q querier, participantID string, since time.Time) ([]trait, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, value, last_seen FROM participant_traits WHERE participant_id = $1 AND last_seen >= $2
		ORDER BY last_seen DESC LIMIT 100`, participantID, ms(since))
	if err != nil {
		return nil, fmt.Errorf("loading traits: %w", err)
	}
	defer rows.Close()
	var out []trait
	for rows.Next() {
		var t trait
		if err := rows.Scan(&t.kind, &t.value, &t.seen); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// party fills a fraud party's device, payment, address and IPs from traits
// (newest first), without overriding what the event itself says.
func party(p *fraud.Party, ts []trait) {
	for _, t := range ts {
		switch t.kind {
		case "ip":
			if p.IP == "" {
				p.IP = t.value
			} else if t.value != p.IP {
				p.RecentIPs = append(p.RecentIPs, t.value)
			}
		case "device":
			if p.DeviceID == "" {
				p.DeviceID = t.value
			}
		case "payment":
			if p.PaymentFingerprint == "" {
				p.PaymentFingerprint = t.value
			}
		case "address":
			if p.Address == "" {
				p.Address = t.value
			}
		case "ua":
			if p.UserAgent == "" {
				p.UserAgent = t.value
			}
		}
	}
}

func clickOf(at int64, ip, ua, referer, params string) fraud.Click {
	c := fraud.Click{At: fromMS(at), IP: ip, UserAgent: ua, Referer: referer}
	if params != "" {
		c.LandingURL = "/?" + params
	}
	return c
}

func (in *ingest) fraudInput(ctx context.Context, eng *fraud.Engine, adv parrain.Participant, cand *parrain.Candidate) (*fraud.Referral, error) {
	at := in.ev.OccurredAt
	r := &fraud.Referral{At: at, Code: adv.Code}
	r.Advocate = fraud.Party{ExternalID: adv.ExternalID, Email: adv.Email, Name: adv.Name, SignedUpAt: adv.CreatedAt}
	ts, err := in.s.traits(ctx, in.tx, adv.ID, at.Add(-30*24*time.Hour))
	if err != nil {
		return nil, err
	}
	party(&r.Advocate, ts)
	f := in.friend
	r.Friend = fraud.Party{ExternalID: f.ExternalID, Email: f.Email, Name: f.Name, SignedUpAt: at}
	if c := in.ev.Context; c != nil {
		r.Friend.IP, r.Friend.UserAgent, r.Friend.DeviceID = c.IP, c.UserAgent, c.DeviceID
		r.Friend.PaymentFingerprint, r.Friend.Address, r.Friend.Country, r.Friend.AlreadyCustomer = c.PaymentFingerprint, c.Address, c.Country, c.AlreadyCustomer
	}
	fts, err := in.s.traits(ctx, in.tx, f.ID, at.Add(-365*24*time.Hour))
	if err != nil {
		return nil, err
	}
	party(&r.Friend, fts)
	r.Conversion = in.conversion
	r.FriendActivity = in.activityFacts
	if !in.signedUpAt.IsZero() {
		r.Friend.SignedUpAt = in.signedUpAt
	}

	// Clicks on the advocate's code in the recent window, and the click
	// this referral came through.
	window := eng.Policy().Tuning.ClickWindow
	if window <= 0 {
		window = time.Hour
	}
	from := at.Add(-window)
	if cand != nil && !cand.Typed && cand.At.Before(from) {
		from = cand.At.Add(-window)
	}
	rows, err := in.tx.QueryContext(ctx, `SELECT created_at, ip, user_agent, referer, params FROM clicks
		WHERE participant_id = $1 AND created_at >= $2 AND created_at <= $3 ORDER BY created_at DESC LIMIT 500`, adv.ID, ms(from), ms(at))
	if err != nil {
		return nil, fmt.Errorf("loading clicks: %w", err)
	}
	var best *fraud.Click
	for rows.Next() {
		var ca int64
		var ip, ua, ref, params string
		if err := rows.Scan(&ca, &ip, &ua, &ref, &params); err != nil {
			rows.Close()
			return nil, err
		}
		c := clickOf(ca, ip, ua, ref, params)
		if !c.At.Before(at.Add(-window)) {
			r.RecentClicks = append(r.RecentClicks, c)
		}
		// The referral's own click: at the cookie touch time (seconds), or
		// for a typed code the latest click from the friend's IP.
		switch {
		case cand != nil && !cand.Typed:
			if d := c.At.Sub(cand.At); d > -2*time.Second && d < 2*time.Second && (best == nil || (ip != "" && ip == r.Friend.IP)) {
				cc := c
				best = &cc
			}
		case r.Friend.IP != "" && ip == r.Friend.IP && best == nil:
			cc := c
			best = &cc
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r.Click = best

	// Velocity: referrals per hour over the last week, the advocate's own
	// and the program's.
	hourly := func(where string, arg string) (fraud.Velocity, int, error) {
		const hours = 7 * 24
		nowH := at.UnixMilli() / 3600000
		counts := make([]int, hours)
		this := 0
		rows, err := in.tx.QueryContext(ctx, `SELECT signed_up_at / 3600000, COUNT(*) FROM referrals WHERE `+where+
			` AND signed_up_at >= $2 AND signed_up_at <= $3 GROUP BY signed_up_at / 3600000`, arg, (nowH-hours)*3600000, ms(at))
		if err != nil {
			return fraud.Velocity{}, 0, fmt.Errorf("counting referrals per hour: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var h int64
			var n int
			if err := rows.Scan(&h, &n); err != nil {
				return fraud.Velocity{}, 0, err
			}
			switch {
			case h == nowH:
				this = n
			case h >= nowH-hours && h < nowH:
				counts[h-(nowH-hours)] = n
			}
		}
		return fraud.Velocity{}.UpdateAll(counts), this, rows.Err()
	}
	if r.AdvocateHistory.Hourly, r.AdvocateHistory.ThisHour, err = hourly(`advocate_id = $1`, adv.ID); err != nil {
		return nil, err
	}
	r.AdvocateHistory.ThisHour++ // this signup
	// The program's baseline changes slowly: it is computed once per hour
	// per process (the scan covers every referral of the week).
	nowH := at.UnixMilli() / 3600000
	if v, ok := programVelocity.Load(in.prog.ID); ok && v.(cachedVelocity).hour == nowH {
		r.ProgramHourly = v.(cachedVelocity).v
	} else {
		if r.ProgramHourly, _, err = hourly(`program_id = $1`, in.prog.ID); err != nil {
			return nil, err
		}
		programVelocity.Store(in.prog.ID, cachedVelocity{hour: nowH, v: r.ProgramHourly})
	}
	if err := in.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE advocate_id = $1`, adv.ID).Scan(&r.AdvocateHistory.Referrals); err != nil {
		return nil, fmt.Errorf("counting advocate history: %w", err)
	}
	if err := in.tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT p.referral_id) FROM purchases p JOIN referrals r ON r.id = p.referral_id
		WHERE p.program_id = $1 AND p.refunded > 0 AND r.advocate_id = $2`, in.prog.ID, adv.ID).Scan(&r.AdvocateHistory.RefundedReferrals); err != nil {
		return nil, fmt.Errorf("counting refunded referrals: %w", err)
	}
	// Referred friends who never used the product, when the integration
	// reports activity.
	var tracked int
	if err := in.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE program_id = $1 AND type = 'activity' LIMIT 1) x`, in.prog.ID).Scan(&tracked); err != nil {
		return nil, fmt.Errorf("checking activity tracking: %w", err)
	}
	if tracked > 0 {
		if err := in.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals r WHERE r.advocate_id = $1 AND r.signed_up_at < $2
			AND NOT EXISTS (SELECT 1 FROM events e WHERE e.participant_id = r.friend_id AND e.type = 'activity')`,
			adv.ID, ms(at.Add(-eng.Policy().Tuning.InactiveAfter))).Scan(&r.AdvocateHistory.InactiveReferrals); err != nil {
			return nil, fmt.Errorf("counting inactive referrals: %w", err)
		}
	}
	// Convergence: other friends of this program paying with the same card
	// or shipping to the same address.
	same := func(kind, value string) (int, error) {
		if value == "" {
			return 0, nil
		}
		var n int
		err := in.tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT t.participant_id) FROM participant_traits t
			JOIN referrals r ON r.friend_id = t.participant_id
			WHERE t.program_id = $1 AND t.kind = $2 AND t.value = $3 AND t.participant_id <> $4`, in.prog.ID, kind, value, f.ID).Scan(&n)
		return n, err
	}
	if r.Convergence.SamePaymentFriends, err = same("payment", r.Friend.PaymentFingerprint); err != nil {
		return nil, err
	}
	if r.Convergence.SameAddressFriends, err = same("address", r.Friend.Address); err != nil {
		return nil, err
	}
	return r, nil
}

// reassessAfterRefund scores a referral again after a refund of one of its
// purchases, with the conversion timeline (a refund shortly after the reward
// is a signal). It only ever tightens the review state.
func (in *ingest) reassessAfterRefund(ctx context.Context, purchaseAt, rewardedAt time.Time) error {
	ref := in.referral
	if ref.Status == parrain.ReferralRejected || ref.ReviewStatus == parrain.ReviewCleared {
		return nil
	}
	friend, err := scanParticipant(in.tx.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, ref.FriendID))
	if err != nil {
		return fmt.Errorf("loading friend: %w", err)
	}
	in.friend = &friend
	in.conversion = &fraud.Conversion{At: purchaseAt, RewardedAt: rewardedAt, RefundedAt: in.ev.OccurredAt}
	_, err = in.tighten(ctx)
	return err
}

// reassess scores an existing referral again when an event brings new
// evidence (a payment fingerprint, a device) and tightens its review state
// if the new decision is stricter. It returns false when the referral is
// now rejected and must not be rewarded.
func (in *ingest) reassess(ctx context.Context) (bool, error) {
	ref := in.referral
	if in.ev.Context == nil || ref == nil || ref.Status == parrain.ReferralRejected || ref.ReviewStatus == parrain.ReviewCleared {
		return ref != nil && ref.Status != parrain.ReferralRejected, nil
	}
	return in.tighten(ctx)
}

// tighten scores in.referral again and applies the decision if it is
// stricter than the current one.
func (in *ingest) tighten(ctx context.Context) (bool, error) {
	ref := in.referral
	adv, err := scanParticipant(in.tx.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, ref.AdvocateID))
	if err != nil {
		return false, fmt.Errorf("loading advocate: %w", err)
	}
	risk, err := in.assess(ctx, adv, nil)
	if err != nil {
		return false, err
	}
	if severity(string(risk.decision.Action)) <= severity(ref.RiskAction) {
		return true, nil
	}
	next := *ref
	risk.apply(&next)
	if _, err := in.tx.ExecContext(ctx, `UPDATE referrals SET status = $1, reason = $2, risk_score = $3, risk_action = $4, risk_signals = $5,
		review_status = $6, review_deadline = $7 WHERE id = $8`, next.Status, next.Reason, next.RiskScore, next.RiskAction, risk.signalsJSON(),
		next.ReviewStatus, nullMS(next.ReviewDeadline), next.ID); err != nil {
		return false, fmt.Errorf("updating referral risk: %w", err)
	}
	*ref = next
	if err := in.s.recordRisk(ctx, in.tx, ref, risk); err != nil {
		return false, err
	}
	if ref.Status == parrain.ReferralRejected {
		in.res.Message = "rejected by the fraud policy on new evidence: its rewards are voided"
		return false, in.s.voidRewardsTx(ctx, in.tx, `r.referral_id = $1 AND r.status IN ('pending', 'approved')`, "rejected by the fraud policy", ref.ID)
	}
	return true, nil
}

func severity(action string) int {
	switch fraud.Action(action) {
	case fraud.ActionFlag:
		return 1
	case fraud.ActionHold:
		return 2
	case fraud.ActionReject:
		return 3
	case fraud.ActionSuspend:
		return 4
	}
	return 0
}

// Review decisions a reviewer can take.
const (
	ReviewDecisionClear  = "clear"
	ReviewDecisionReject = "reject"
)

// ReviewReferral records a reviewer's decision on a referral. Clearing lets
// its rewards mature as usual; rejecting voids them (reversal while pending,
// clawback once approved) so they never reach a payout.
func (s *Store) ReviewReferral(ctx context.Context, programID, referralID, decision, reason, reviewer string) (parrain.Referral, error) {
	reason = strings.TrimSpace(reason)
	switch decision {
	case ReviewDecisionClear, ReviewDecisionReject:
	default:
		return parrain.Referral{}, parrain.Invalid("decision", "must be clear or reject")
	}
	if decision == ReviewDecisionReject && reason == "" {
		return parrain.Referral{}, parrain.Invalid("reason", "is required to reject")
	}
	if len(reason) > 1000 {
		return parrain.Referral{}, parrain.Invalid("reason", "must be at most 1000 characters")
	}
	var out parrain.Referral
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE referrals SET review_status = review_status WHERE id = $1`, referralID); err != nil {
			return err // takes the row lock on PostgreSQL
		}
		ref, err := s.referralByID(ctx, tx, referralID)
		if err != nil {
			return err
		}
		if ref.ProgramID != programID {
			return notFound("referral")
		}
		var signals string
		if err := tx.QueryRowContext(ctx, `SELECT risk_signals FROM referrals WHERE id = $1`, referralID).Scan(&signals); err != nil {
			return err
		}
		switch decision {
		case ReviewDecisionClear:
			if !parrain.UnderReview(ref.ReviewStatus) {
				return &parrain.Error{Code: parrain.CodeConflict, Field: "decision", Message: "this referral is not waiting for review (status " + ref.ReviewStatus + ")"}
			}
			ref.ReviewStatus = parrain.ReviewCleared
		case ReviewDecisionReject:
			if ref.Status == parrain.ReferralRejected {
				return &parrain.Error{Code: parrain.CodeConflict, Field: "decision", Message: "this referral is already rejected"}
			}
			ref.Status, ref.Reason, ref.ReviewStatus = parrain.ReferralRejected, parrain.ReasonFraudReview, parrain.ReviewRejected
			if err := s.voidRewardsTx(ctx, tx, `r.referral_id = $1 AND r.status IN ('pending', 'approved')`, "rejected in fraud review: "+reason, ref.ID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE referrals SET status = $1, reason = $2, review_status = $3 WHERE id = $4`,
			ref.Status, ref.Reason, ref.ReviewStatus, ref.ID); err != nil {
			return fmt.Errorf("updating referral: %w", err)
		}
		out = ref
		return s.logReview(ctx, tx, &ref, decision, reason, reviewer, ref.RiskScore, signals)
	})
	return out, err
}

// ReviewItem is a referral waiting for review with the evidence side by
// side.
type ReviewItem struct {
	Referral parrain.Referral `json:"referral"`
	Signals  []fraud.Outcome  `json:"signals"`
	Advocate Evidence         `json:"advocate"`
	Friend   Evidence         `json:"friend"`
	Overdue  bool             `json:"overdue"`
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
		it := ReviewItem{Referral: ref, Signals: []fraud.Outcome{}}
		var signals string
		if err := s.r.QueryRowContext(ctx, `SELECT risk_signals FROM referrals WHERE id = $1`, ref.ID).Scan(&signals); err != nil {
			return nil, "", err
		}
		_ = json.Unmarshal([]byte(signals), &it.Signals)
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
		e.Traits[t.kind] = append(e.Traits[t.kind], t.value)
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

// SignalStat says how often a signal fired and how reviewers judged the
// referrals it fired on — which rules are noisy.
type SignalStat struct {
	Code     fraud.Code `json:"code"`
	Fired    int        `json:"fired"`
	Cleared  int        `json:"cleared_by_reviewers"`
	Rejected int        `json:"rejected_by_reviewers"`
}

// FraudSignalStats counts, per signal, the program's referrals it fired on
// and the reviewers' decisions on them.
func (s *Store) FraudSignalStats(ctx context.Context, programID string) ([]SignalStat, error) {
	stats := map[fraud.Code]*SignalStat{}
	get := func(c fraud.Code) *SignalStat {
		if stats[c] == nil {
			stats[c] = &SignalStat{Code: c}
		}
		return stats[c]
	}
	decode := func(doc string) []fraud.Outcome {
		var os []fraud.Outcome
		_ = json.Unmarshal([]byte(doc), &os)
		return os
	}
	rows, err := s.r.QueryContext(ctx, `SELECT risk_signals FROM referrals WHERE program_id = $1 AND risk_signals <> '[]'`, programID)
	if err != nil {
		return nil, fmt.Errorf("reading signals: %w", err)
	}
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			rows.Close()
			return nil, err
		}
		for _, o := range decode(doc) {
			get(o.Code).Fired++
		}
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, `SELECT decision, signals FROM fraud_reviews WHERE program_id = $1 AND reviewer <> 'system'`, programID)
	if err != nil {
		return nil, fmt.Errorf("reading reviews: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var decision, doc string
		if err := rows.Scan(&decision, &doc); err != nil {
			return nil, err
		}
		for _, o := range decode(doc) {
			if decision == ReviewDecisionClear {
				get(o.Code).Cleared++
			} else {
				get(o.Code).Rejected++
			}
		}
	}
	out := make([]SignalStat, 0, len(stats))
	for _, st := range stats {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Fired > out[j].Fired || (out[i].Fired == out[j].Fired && out[i].Code < out[j].Code)
	})
	return out, rows.Err()
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

// activity records that a referred customer used the product: the event
// row itself is the record (counted by activityOf).
func (in *ingest) activity(ctx context.Context) error {
	p, err := scanParticipant(in.tx.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE program_id = $1 AND external_id = $2`,
		in.prog.ID, in.ev.ExternalID))
	if errors.Is(err, sql.ErrNoRows) {
		return &parrain.Error{Code: parrain.CodeNotFound, Field: "external_id", Message: "no participant " + in.ev.ExternalID + " in this program"}
	}
	if err != nil {
		return fmt.Errorf("loading participant: %w", err)
	}
	in.friend = &p
	in.res.Participant = &ParticipantRef{ExternalID: p.ExternalID, Code: p.Code}
	if ref, err := in.s.referralByFriend(ctx, in.tx, in.prog.ID, p.ID); err == nil {
		in.referral = &ref
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	in.res.Message = "activity recorded"
	return in.s.recordTraits(ctx, in.tx, in.prog.ID, p.ID, in.ev.Context, in.ev.OccurredAt)
}

// checkActivity runs before a reward matures, for programs whose
// integration reports activity events: a referred customer with no product
// activity since signup is scored again (the no-activity signal), which may
// put the referral under review. It returns true when approval must wait.
func (s *Store) checkActivity(ctx context.Context, tx *sql.Tx, rw *parrain.Reward) (bool, error) {
	var tracked int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE program_id = $1 AND type = 'activity' LIMIT 1) x`, rw.ProgramID).Scan(&tracked); err != nil {
		return false, fmt.Errorf("checking activity tracking: %w", err)
	}
	if tracked == 0 {
		return false, nil // the integration does not report activity
	}
	ref, err := s.referralByID(ctx, tx, rw.ReferralID)
	if err != nil {
		return false, err
	}
	if ref.Status == parrain.ReferralRejected || ref.ReviewStatus == parrain.ReviewCleared {
		return false, nil
	}
	var n int
	var last sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), MAX(occurred_at) FROM events WHERE participant_id = $1 AND type = 'activity' AND program_id = $2`,
		ref.FriendID, rw.ProgramID).Scan(&n, &last); err != nil {
		return false, fmt.Errorf("counting activity: %w", err)
	}
	prog, err := s.programQ(ctx, tx, rw.ProgramID, "")
	if err != nil {
		return false, err
	}
	friend, err := scanParticipant(tx.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, ref.FriendID))
	if err != nil {
		return false, err
	}
	in := &ingest{s: s, tx: tx, prog: &prog, ev: &parrain.Event{Type: parrain.EventActivity, OccurredAt: s.clock.Now()}, friend: &friend, referral: &ref}
	act := &fraud.Activity{Events: n}
	if last.Valid {
		act.LastSeen = fromMS(last.Int64)
	}
	in.activityFacts = act
	in.signedUpAt = ref.SignedUpAt
	if _, err := in.tighten(ctx); err != nil {
		return false, err
	}
	return parrain.UnderReview(ref.ReviewStatus) || ref.Status == parrain.ReferralRejected, nil
}

// fraudTerms states a fraud policy in the program terms' words: what is
// checked, what each score does, and the rules the operator forced.
func fraudTerms(p fraud.Policy) []string {
	out := []string{
		"Every referral is checked when it happens and again when new evidence arrives: the same device, payment method, " +
			"name or email as the advocate; network addresses shared with the advocate (never decisive on their own, since " +
			"households and offices share them); bursts of clicks or sign-ups; throwaway or machine-made email addresses; " +
			"codes posted on coupon sites or promoted with paid ads; people who were already customers; refunds soon after a " +
			"reward; and, where reported, referred customers who never use the product.",
		fmt.Sprintf("The checks give each referral a risk score from 0 to 100. From %d it is flagged for a person to look at; "+
			"from %d its rewards are held until a reviewer decides (within %d hours, and never approved automatically meanwhile); "+
			"from %d it is rejected. A rejected referral earns nothing and its rewards are reversed.",
			p.FlagAt, p.HoldAt, int(p.ReviewWindow/time.Hour), p.RejectAt),
	}
	codes := make([]string, 0, len(p.Rules))
	for c := range p.Rules {
		codes = append(codes, string(c))
	}
	sort.Strings(codes)
	for _, c := range codes {
		r := p.Rules[fraud.Code(c)]
		info, ok := fraud.Info(fraud.Code(c))
		if !ok {
			continue
		}
		what := strings.TrimSpace(strings.TrimSuffix(info.Summary, "."))
		if i := strings.IndexAny(what, ";:("); i > 0 {
			what = strings.TrimSpace(what[:i])
		}
		if what != "" {
			what = strings.ToLower(what[:1]) + what[1:]
		}
		switch r.Action {
		case fraud.RuleReject:
			out = append(out, fmt.Sprintf("Rejected outright: %s.", strings.TrimSpace(what)))
		case fraud.RuleSuspendAdvocate:
			out = append(out, fmt.Sprintf("Suspends the advocate, whose pending rewards are then cancelled: %s.", strings.TrimSpace(what)))
		case fraud.RuleHold:
			out = append(out, fmt.Sprintf("Always held for review: %s.", strings.TrimSpace(what)))
		}
	}
	if len(p.Lists.BlockedCountries) > 0 {
		cs := append([]string(nil), p.Lists.BlockedCountries...)
		sort.Strings(cs)
		out = append(out, "Sign-ups from these countries are not eligible: "+strings.Join(cs, ", ")+".")
	}
	return out
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
)

// EventResult is the answer to a reported event: who was credited and what
// it created. It is stored with the idempotency key and replayed verbatim.
type EventResult struct {
	EventID   string            `json:"event_id"`
	Type      parrain.EventType `json:"type"`
	Duplicate bool              `json:"duplicate"`
	Message   string            `json:"message,omitempty"`
	// Participant is the friend (signup, purchase).
	Participant *ParticipantRef `json:"participant,omitempty"`
	// Credited is the advocate credited for this event, if any.
	Credited  *ParticipantRef   `json:"credited,omitempty"`
	Referral  *parrain.Referral `json:"referral,omitempty"`
	Rewards   []parrain.Reward  `json:"rewards"`
	Reversals []ReversalResult  `json:"reversals,omitempty"`
	Skipped   []parrain.Skip    `json:"skipped,omitempty"`
	// TriggersFired are the moment triggers this event fired (see
	// triggers.go).
	TriggersFired []FiredTrigger `json:"triggers_fired,omitempty"`
}

// ParticipantRef names a participant in answers.
type ParticipantRef struct {
	ExternalID string `json:"external_id"`
	Code       string `json:"code"`
}

// ReversalResult is what a refund did to one reward.
type ReversalResult struct {
	RewardID  string               `json:"reward_id"`
	Amount    int64                `json:"amount"`
	Currency  string               `json:"currency"`
	EntryType parrain.EntryType    `json:"entry_type"`
	Status    parrain.RewardStatus `json:"status"`
}

// IngestEvent records an event and applies its consequences (attribution,
// referral, rewards, reversals) in one transaction with its idempotency
// record. The bool is true when the answer is a replay.
func (s *Store) IngestEvent(ctx context.Context, programID string, ev parrain.Event, idem Idem) (EventResult, bool, error) {
	if err := ev.Normalize(s.clock.Now()); err != nil {
		return EventResult{}, false, err
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (EventResult, error) {
		prog, err := s.programQ(ctx, tx, programID, "")
		if err != nil {
			return EventResult{}, err
		}
		in := ingest{s: s, tx: tx, prog: &prog, ev: &ev,
			res: EventResult{EventID: newID("evt"), Type: ev.Type, Rewards: []parrain.Reward{}}}
		switch ev.Type {
		case parrain.EventSignup:
			err = in.signup(ctx)
		case parrain.EventPurchase:
			err = in.purchase(ctx)
		case parrain.EventRefund:
			err = in.refund(ctx)
		case parrain.EventStage:
			err = in.stage(ctx)
		case parrain.EventContract:
			err = in.contract(ctx)
		case parrain.EventCancel:
			err = in.cancel(ctx)
		case parrain.EventActivity:
			err = in.activity(ctx)
		case parrain.EventNPS, parrain.EventRating, parrain.EventPlanUpgrade, parrain.EventMilestone, parrain.EventCustom:
			err = in.moment(ctx)
		}
		if err == nil {
			err = in.afterEvent(ctx) // notices and moment triggers (eventhooks.go)
		}
		if err != nil {
			return EventResult{}, err
		}
		return in.res, in.record(ctx)
	})
}

// ingest carries one event's processing state inside its transaction.
type ingest struct {
	s        *Store
	tx       *sql.Tx
	prog     *parrain.Program
	ev       *parrain.Event
	res      EventResult
	friend   *parrain.Participant
	referral *parrain.Referral
	// conversion, when set, tells fraud scoring about a refund or
	// cancellation after the reward.
	conversion *fraud.Conversion
	// activityFacts and signedUpAt, when set, describe the friend's product
	// use since signup (the no-activity check before a reward matures).
	activityFacts *fraud.Activity
	signedUpAt    time.Time
}

func (in *ingest) record(ctx context.Context) error {
	payload, err := json.Marshal(in.ev)
	if err != nil {
		return err
	}
	var pid, rid sql.NullString
	if in.friend != nil {
		pid = sql.NullString{String: in.friend.ID, Valid: true}
	}
	if in.referral != nil {
		rid = sql.NullString{String: in.referral.ID, Valid: true}
	}
	_, err = in.tx.ExecContext(ctx, `INSERT INTO events (id, program_id, type, participant_id, referral_id, payload, occurred_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, in.res.EventID, in.prog.ID, in.ev.Type, pid, rid, string(payload),
		ms(in.ev.OccurredAt), ms(in.s.clock.Now()))
	if err != nil {
		return fmt.Errorf("inserting event: %w", err)
	}
	return nil
}

// upsertFriend creates or refreshes the friend's participant record.
func (in *ingest) upsertFriend(ctx context.Context) error {
	p, _, err := in.s.upsertParticipantTx(ctx, in.tx, in.prog.ID, parrain.ParticipantInput{
		ExternalID: in.ev.ExternalID, Email: in.ev.Email, Name: in.ev.Name, Locale: in.ev.Locale})
	if err != nil {
		return err
	}
	in.friend = &p
	in.res.Participant = &ParticipantRef{ExternalID: p.ExternalID, Code: p.Code}
	return in.s.recordTraits(ctx, in.tx, in.prog.ID, p.ID, in.ev.Context, in.ev.OccurredAt)
}

func (in *ingest) signup(ctx context.Context) error {
	if err := in.upsertFriend(ctx); err != nil {
		return err
	}
	created, err := in.attribute(ctx)
	if err != nil || !created {
		return err
	}
	return in.reward(ctx, parrain.Occasion{Trigger: parrain.TriggerSignup}, "")
}

// attribute finds or creates the friend's referral. created is true when a
// new, rewardable referral was made by this event.
func (in *ingest) attribute(ctx context.Context) (bool, error) {
	ref, err := in.s.referralByFriend(ctx, in.tx, in.prog.ID, in.friend.ID)
	if err == nil {
		in.referral = &ref
		in.res.Referral = &ref
		in.res.Credited = &ParticipantRef{ExternalID: ref.AdvocateExternalID, Code: ref.Code}
		if in.ev.Type == parrain.EventSignup {
			in.res.Duplicate = true
			in.res.Message = "this person was already referred in this program; a person is referred at most once"
		}
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if in.prog.Status != parrain.ProgramActive {
		in.res.Message = "the program is paused: no referral is credited"
		return false, nil
	}
	cands, err := in.candidates(ctx)
	if err != nil {
		return false, err
	}
	best, ok := parrain.Attribute(in.prog.AttributionModel, in.prog.Window(), in.ev.OccurredAt, cands)
	if !ok {
		if in.ev.ReferralCode != "" || len(in.ev.Touches) > 0 {
			in.res.Message = "no active referral code within the cookie window: nobody is credited"
		}
		return false, nil
	}
	adv, err := scanParticipant(in.tx.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE code = $1`, best.Code))
	if err != nil {
		return false, fmt.Errorf("loading advocate: %w", err)
	}
	now := in.s.clock.Now()
	ref = parrain.Referral{ID: newID("ref"), ProgramID: in.prog.ID, AdvocateID: adv.ID, AdvocateExternalID: adv.ExternalID,
		FriendID: in.friend.ID, FriendExternalID: in.friend.ExternalID, Code: adv.Code, Status: parrain.ReferralSignedUp,
		SignedUpAt: in.ev.OccurredAt, CreatedAt: now}
	via := "cookie"
	if best.Typed {
		via = "code"
	} else {
		t := best.At
		ref.ClickedAt = &t
	}
	var risk *riskOutcome
	if parrain.SelfReferral(adv, in.friend.ExternalID, in.ev.Email) || (in.friend.Email != "" && parrain.SelfReferral(adv, in.friend.ExternalID, in.friend.Email)) {
		ref.Status, ref.Reason = parrain.ReferralRejected, parrain.ReasonSelfReferral
		in.res.Message = "self-referral: recorded without reward"
	} else {
		// Fraud scoring, inline: its decision is part of the referral.
		if risk, err = in.assess(ctx, adv, &best); err != nil {
			return false, err
		}
		risk.apply(&ref)
		if ref.Status == parrain.ReferralRejected {
			in.res.Message = "rejected by the fraud policy: recorded without reward"
		}
	}
	if ref.ReviewStatus == "" {
		ref.ReviewStatus, ref.RiskAction = parrain.ReviewNone, "approve"
	}
	signals := "[]"
	if risk != nil {
		signals = risk.signalsJSON()
	}
	res, err := in.tx.ExecContext(ctx, `INSERT INTO referrals (id, program_id, advocate_id, friend_id, code, status, reason, via, clicked_at, signed_up_at, created_at,
			risk_score, risk_action, risk_signals, review_status, review_deadline)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING`,
		ref.ID, ref.ProgramID, ref.AdvocateID, ref.FriendID, ref.Code, ref.Status, ref.Reason, via, nullMS(ref.ClickedAt),
		ms(ref.SignedUpAt), ms(now), ref.RiskScore, ref.RiskAction, signals, ref.ReviewStatus, nullMS(ref.ReviewDeadline))
	if err != nil {
		return false, fmt.Errorf("inserting referral: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// A concurrent event referred this friend first: theirs stands.
		return in.attribute(ctx)
	}
	in.referral = &ref
	in.res.Referral = &ref
	in.res.Credited = &ParticipantRef{ExternalID: adv.ExternalID, Code: adv.Code}
	if risk != nil {
		if err := in.s.recordRisk(ctx, in.tx, &ref, risk); err != nil {
			return false, err
		}
	}
	if err := in.s.emitTx(ctx, in.tx, in.prog.ID, parrain.WebhookReferralCreated, ref); err != nil {
		return false, err
	}
	return ref.Status != parrain.ReferralRejected, nil
}

// candidates resolves the event's codes to active advocates of the program.
func (in *ingest) candidates(ctx context.Context) ([]parrain.Candidate, error) {
	var cands []parrain.Candidate
	seen := map[string]bool{}
	active := func(code string) (bool, error) {
		if v, ok := seen[code]; ok {
			return v, nil
		}
		var n int
		err := in.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE code = $1 AND program_id = $2 AND status = 'active'`,
			code, in.prog.ID).Scan(&n)
		seen[code] = n > 0
		return n > 0, err
	}
	if c := in.ev.ReferralCode; c != "" {
		ok, err := active(c)
		if err != nil {
			return nil, err
		}
		if ok {
			cands = append(cands, parrain.Candidate{Touch: parrain.Touch{Code: c, At: in.ev.OccurredAt}, Typed: true})
		}
	}
	for _, t := range in.ev.Touches {
		ok, err := active(t.Code)
		if err != nil {
			return nil, err
		}
		if ok {
			cands = append(cands, parrain.Candidate{Touch: t})
		}
	}
	return cands, nil
}

func (in *ingest) purchase(ctx context.Context) error {
	if err := in.upsertFriend(ctx); err != nil {
		return err
	}
	// A purchase may be the first thing reported about a referred person
	// (guest checkout): attribute it as their signup.
	newRef, err := in.attribute(ctx)
	if err != nil {
		return err
	}
	purchaseID := newID("pur")
	var refID sql.NullString
	if in.referral != nil {
		refID = sql.NullString{String: in.referral.ID, Valid: true}
	}
	res, err := in.tx.ExecContext(ctx, `INSERT INTO purchases (id, program_id, participant_id, referral_id, order_id, amount, currency, event_id, occurred_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		purchaseID, in.prog.ID, in.friend.ID, refID, in.ev.OrderID, in.ev.Amount, in.ev.Currency, in.res.EventID,
		ms(in.ev.OccurredAt), ms(in.s.clock.Now()))
	if err != nil {
		return fmt.Errorf("inserting purchase: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		in.res.Duplicate = true
		in.res.Message = fmt.Sprintf("order %s was already reported: nothing new is credited", in.ev.OrderID)
		return nil
	}
	if newRef {
		if err := in.reward(ctx, parrain.Occasion{Trigger: parrain.TriggerSignup}, ""); err != nil {
			return err
		}
	}
	if in.referral == nil || in.referral.Status == parrain.ReferralRejected {
		return nil
	}
	if !newRef {
		// New evidence (a payment fingerprint, a device) may change the
		// fraud decision on an existing referral.
		ok, err := in.reassess(ctx)
		if err != nil || !ok {
			return err
		}
	}
	// The first purchase converts the referral; the conditional update
	// makes "first" exact under concurrency.
	r, err := in.tx.ExecContext(ctx, `UPDATE referrals SET status = 'converted', converted_at = $1 WHERE id = $2 AND converted_at IS NULL`,
		ms(in.ev.OccurredAt), in.referral.ID)
	if err != nil {
		return fmt.Errorf("converting referral: %w", err)
	}
	first, _ := r.RowsAffected()
	if first == 1 {
		t := in.ev.OccurredAt
		in.referral.Status, in.referral.ConvertedAt = parrain.ReferralConverted, &t
		// Webhook referral.converted and CRM sync, in this transaction.
		if err := in.s.referralConvertedTx(ctx, in.tx, in.referral, in.ev); err != nil {
			return err
		}
	}
	return in.reward(ctx, parrain.Occasion{Trigger: parrain.TriggerPurchase, FirstPurchase: first == 1,
		Amount: in.ev.Amount, Currency: in.ev.Currency}, purchaseID)
}

// reward evaluates the program's rules for an occasion and stores the
// resulting rewards, their ledger entries, maturation and fulfilment jobs
// (the reward engine, engine.go).
func (in *ingest) reward(ctx context.Context, o parrain.Occasion, purchaseID string) error {
	return in.rewardEngine(ctx, o, purchaseID)
}

func (in *ingest) refund(ctx context.Context) error {
	var purchaseID, currency string
	var amount, refunded int64
	var refID sql.NullString
	var purchaseAtMS int64
	err := in.tx.QueryRowContext(ctx, `SELECT id, amount, currency, refunded, referral_id, occurred_at FROM purchases WHERE program_id = $1 AND order_id = $2`+in.s.d.forUpdate,
		in.prog.ID, in.ev.OrderID).Scan(&purchaseID, &amount, &currency, &refunded, &refID, &purchaseAtMS)
	purchaseAt := fromMS(purchaseAtMS)
	if errors.Is(err, sql.ErrNoRows) {
		return &parrain.Error{Code: parrain.CodeNotFound, Field: "order_id", Message: fmt.Sprintf("no purchase with order id %s in this program", in.ev.OrderID)}
	}
	if err != nil {
		return fmt.Errorf("loading purchase: %w", err)
	}
	if in.ev.Currency != "" && in.ev.Currency != currency {
		return parrain.Invalid("currency", "the order was paid in %s", currency)
	}
	if in.ev.Amount > amount-refunded {
		return parrain.Invalid("amount", "exceeds what is left to refund on this order (%d)", amount-refunded)
	}
	total := refunded + in.ev.Amount
	if _, err := in.tx.ExecContext(ctx, `UPDATE purchases SET refunded = $1 WHERE id = $2`, total, purchaseID); err != nil {
		return fmt.Errorf("updating purchase: %w", err)
	}
	if _, err := in.tx.ExecContext(ctx, `INSERT INTO refunds (id, program_id, purchase_id, amount, event_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		newID("rfd"), in.prog.ID, purchaseID, in.ev.Amount, in.res.EventID, ms(in.s.clock.Now())); err != nil {
		return fmt.Errorf("inserting refund: %w", err)
	}
	if refID.Valid {
		ref, err := in.s.referralByID(ctx, in.tx, refID.String)
		if err != nil {
			return err
		}
		in.referral = &ref
		in.res.Referral = &ref
	}
	rewards, err := in.s.rewardsWhere(ctx, in.tx, `r.purchase_id = $1`+in.s.d.forUpdate, purchaseID)
	if err != nil {
		return err
	}
	for i := range rewards {
		rw := &rewards[i]
		x, err := parrain.Reversal(rw, amount, total)
		if err != nil {
			return err
		}
		moves, st := parrain.Reverse(rw, x)
		if len(moves) == 0 {
			continue
		}
		memo := fmt.Sprintf("refund of %s %s on order %s", parrain.FormatMinor(in.ev.Amount, currency), currency, in.ev.OrderID)
		if err := in.s.applyMoves(ctx, in.tx, rw, moves, st, rw.Reversed+x, memo); err != nil {
			return err
		}
		in.res.Reversals = append(in.res.Reversals, ReversalResult{RewardID: rw.ID, Amount: x, Currency: rw.Currency,
			EntryType: moves[0].Type, Status: st})
	}
	if len(in.res.Reversals) == 0 && len(rewards) > 0 {
		in.res.Message = "partial refund: fixed rewards are reversed only when the order is fully refunded"
	}
	// A refund soon after the reward is evidence: score the referral again.
	if in.referral != nil && len(rewards) > 0 {
		return in.reassessAfterRefund(ctx, purchaseAt, purchaseAt) // rewards are earned when the purchase happens
	}
	return nil
}

// referralByFriend returns the friend's referral in a program.
func (s *Store) referralByFriend(ctx context.Context, q querier, programID, friendID string) (parrain.Referral, error) {
	return scanReferral(q.QueryRowContext(ctx, referralSelect+` WHERE r.program_id = $1 AND r.friend_id = $2`, programID, friendID))
}

func (s *Store) referralByID(ctx context.Context, q querier, id string) (parrain.Referral, error) {
	r, err := scanReferral(q.QueryRowContext(ctx, referralSelect+` WHERE r.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("referral")
	}
	return r, err
}

const referralSelect = `SELECT r.id, r.program_id, r.advocate_id, a.external_id, r.friend_id, f.external_id, r.code, r.status, r.reason,
	r.clicked_at, r.signed_up_at, r.converted_at, r.created_at, r.risk_score, r.risk_action, r.review_status, r.review_deadline
	FROM referrals r JOIN participants a ON a.id = r.advocate_id JOIN participants f ON f.id = r.friend_id`

func scanReferral(sc scanner) (parrain.Referral, error) {
	var r parrain.Referral
	var clicked, converted, deadline sql.NullInt64
	var signed, created int64
	err := sc.Scan(&r.ID, &r.ProgramID, &r.AdvocateID, &r.AdvocateExternalID, &r.FriendID, &r.FriendExternalID, &r.Code,
		&r.Status, &r.Reason, &clicked, &signed, &converted, &created, &r.RiskScore, &r.RiskAction, &r.ReviewStatus, &deadline)
	r.ClickedAt, r.ConvertedAt, r.ReviewDeadline = fromNullMS(clicked), fromNullMS(converted), fromNullMS(deadline)
	r.SignedUpAt, r.CreatedAt = fromMS(signed), fromMS(created)
	return r, err
}

// ReferralFilter narrows a referral listing.
type ReferralFilter struct {
	Status     string
	AdvocateID string
}

// Referrals lists a program's referrals, newest first.
func (s *Store) Referrals(ctx context.Context, programID string, f ReferralFilter, pg Page) ([]parrain.Referral, string, error) {
	where := []string{`r.program_id = $1`, `($2 = '' OR r.id < $2)`}
	args := []any{programID, pg.Cursor}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf(`r.status = $%d`, len(args)))
	}
	if f.AdvocateID != "" {
		args = append(args, f.AdvocateID)
		where = append(where, fmt.Sprintf(`r.advocate_id = $%d`, len(args)))
	}
	args = append(args, pg.limit()+1)
	rows, err := s.r.QueryContext(ctx, referralSelect+` WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY r.id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing referrals: %w", err)
	}
	defer rows.Close()
	out := []parrain.Referral{}
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

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Dry runs and replays: what rules would do, without writing anything.

// DryRunResult is what an event would do under the program's current (or
// proposed) rules. Ids in it are hypothetical: nothing was stored.
type DryRunResult struct {
	EventResult
	DryRun      bool `json:"dry_run"`
	RuleVersion int  `json:"rule_version"`
}

// DryRun processes an event exactly as IngestEvent would — attribution,
// referral, rewards, reversals — in a transaction that is rolled back, and
// returns what it would have done. With proposed rules (a full program
// document), they are evaluated instead of the current ones.
func (s *Store) DryRun(ctx context.Context, programID string, ev parrain.Event, proposed *parrain.Program) (DryRunResult, error) {
	if err := ev.Normalize(s.clock.Now()); err != nil {
		return DryRunResult{}, err
	}
	switch ev.Type {
	case parrain.EventSignup, parrain.EventPurchase, parrain.EventRefund, parrain.EventStage, parrain.EventContract, parrain.EventCancel:
	default:
		return DryRunResult{}, parrain.Invalid("type", "a dry run evaluates reward events: signup, purchase, refund, stage, contract or cancel")
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return DryRunResult{}, fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // always rolled back: a dry run writes nothing
	prog, err := s.programQ(ctx, tx, programID, "")
	if err != nil {
		return DryRunResult{}, err
	}
	if proposed != nil {
		p, err := proposedProgram(prog, *proposed)
		if err != nil {
			return DryRunResult{}, err
		}
		prog = p
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
	}
	if err != nil {
		return DryRunResult{}, err
	}
	return DryRunResult{EventResult: in.res, DryRun: true, RuleVersion: prog.Version}, nil
}

// proposedProgram validates proposed rules for a program: a full document,
// evaluated as the program's next version.
func proposedProgram(cur, p parrain.Program) (parrain.Program, error) {
	p.ID, p.Version = "", 0
	if err := p.Normalize(); err != nil {
		if e := parrain.AsError(err); e != nil && e.Field != "" {
			e.Field = "program." + e.Field
		}
		return p, err
	}
	if p.Currency != cur.Currency {
		return p, parrain.Invalid("program.currency", "must stay %s: past rewards are in it", cur.Currency)
	}
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt = cur.ID, cur.Version+1, cur.CreatedAt, cur.UpdatedAt
	return p, nil
}

// ReplayLine compares what was granted with what would have been.
type ReplayLine struct {
	Actual          int64 `json:"actual"`
	Proposed        int64 `json:"proposed"`
	Delta           int64 `json:"delta"`
	ActualRewards   int   `json:"actual_rewards"`
	ProposedRewards int   `json:"proposed_rewards"`
}

// ReplayParticipant is one participant's line of a replay.
type ReplayParticipant struct {
	ExternalID string `json:"external_id"`
	Name       string `json:"name,omitempty"`
	ReplayLine
}

// ReplayRule is one rule's line of a replay.
type ReplayRule struct {
	RuleID string `json:"rule_id"`
	ReplayLine
}

// ReplayReport is the cost of a rule change: the program's real events of
// the last days replayed under the proposed rules, against what the
// current rules granted for the same events. Amounts are net of
// reversals, in the program currency.
type ReplayReport struct {
	ProgramID       string              `json:"program_id"`
	Currency        string              `json:"currency"`
	Days            int                 `json:"days"`
	From            time.Time           `json:"from"`
	To              time.Time           `json:"to"`
	CurrentVersion  int                 `json:"current_version"`
	ProposedVersion int                 `json:"proposed_version"`
	Events          int                 `json:"events"`
	Total           ReplayLine          `json:"total"`
	Participants    []ReplayParticipant `json:"participants"`
	Rules           []ReplayRule        `json:"rules"`
	Notes           []string            `json:"notes"`
}

// MaxReplayDays bounds a replay's window.
const MaxReplayDays = 366

// Replay replays the program's events of the last days (by when they
// happened, in the order they arrived) under proposed rules, in memory,
// and reports per participant, per rule and in total what would have been
// granted against what was. Nothing is written.
func (s *Store) Replay(ctx context.Context, programID string, proposed parrain.Program, days int) (ReplayReport, error) {
	if days < 1 || days > MaxReplayDays {
		return ReplayReport{}, parrain.Invalid("days", "must be between 1 and %d", MaxReplayDays)
	}
	cur, err := s.Program(ctx, programID)
	if err != nil {
		return ReplayReport{}, err
	}
	prog, err := proposedProgram(cur, proposed)
	if err != nil {
		return ReplayReport{}, err
	}
	now := s.clock.Now()
	from := now.Add(-time.Duration(days) * 24 * time.Hour)
	rep := ReplayReport{ProgramID: programID, Currency: cur.Currency, Days: days, From: from, To: now, CurrentVersion: cur.Version,
		ProposedVersion: prog.Version, Participants: []ReplayParticipant{}, Rules: []ReplayRule{},
		Notes: []string{
			"Events are replayed in the order they arrived; rewards made before the window count toward caps, tiers and milestones as they stand today.",
			"Participant attributes (eligibility, partner tiers) are taken as they are now.",
			"Contest prizes are not replayed.",
		}}
	w := newSimWorld(ctx, s, &prog, from)
	rows, err := s.r.QueryContext(ctx, `SELECT id, type, referral_id, payload FROM events WHERE program_id = $1 AND occurred_at >= $2 AND occurred_at <= $3
		AND referral_id IS NOT NULL ORDER BY id`, programID, ms(from), ms(now))
	if err != nil {
		return rep, fmt.Errorf("loading events: %w", err)
	}
	type evRow struct {
		id, typ, ref, payload string
	}
	var evs []evRow
	for rows.Next() {
		var e evRow
		if err := rows.Scan(&e.id, &e.typ, &e.ref, &e.payload); err != nil {
			rows.Close()
			return rep, err
		}
		evs = append(evs, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}
	for _, e := range evs {
		var ev parrain.Event
		if err := json.Unmarshal([]byte(e.payload), &ev); err != nil {
			return rep, fmt.Errorf("decoding event %s: %w", e.id, err)
		}
		if err := w.replayEvent(e.id, e.ref, &ev); err != nil {
			return rep, fmt.Errorf("replaying event %s: %w", e.id, err)
		}
		rep.Events++
	}
	// What was granted for the same events.
	type agg struct {
		line ReplayLine
		name string
	}
	parts := map[string]*agg{}
	rules := map[string]*ReplayLine{}
	part := func(ext, name string) *agg {
		if parts[ext] == nil {
			parts[ext] = &agg{name: name}
		}
		return parts[ext]
	}
	rule := func(id string) *ReplayLine {
		if rules[id] == nil {
			rules[id] = &ReplayLine{}
		}
		return rules[id]
	}
	arows, err := s.r.QueryContext(ctx, `SELECT p.external_id, p.name, r.rule_id, r.amount - r.reversed FROM rewards r
		JOIN events e ON e.id = r.event_id JOIN participants p ON p.id = r.participant_id
		WHERE e.program_id = $1 AND e.occurred_at >= $2 AND e.occurred_at <= $3 AND e.referral_id IS NOT NULL`, programID, ms(from), ms(now))
	if err != nil {
		return rep, fmt.Errorf("loading granted rewards: %w", err)
	}
	for arows.Next() {
		var ext, name, ruleID string
		var v int64
		if err := arows.Scan(&ext, &name, &ruleID, &v); err != nil {
			arows.Close()
			return rep, err
		}
		a := part(ext, name)
		a.line.Actual += v
		a.line.ActualRewards++
		r := rule(ruleID)
		r.Actual += v
		r.ActualRewards++
	}
	arows.Close()
	if err := arows.Err(); err != nil {
		return rep, err
	}
	for _, sr := range w.sim {
		a := part(sr.ExternalID, w.names[sr.ParticipantID])
		a.line.Proposed += sr.Outstanding()
		a.line.ProposedRewards++
		r := rule(sr.RuleID)
		r.Proposed += sr.Outstanding()
		r.ProposedRewards++
	}
	for ext, a := range parts {
		a.line.Delta = a.line.Proposed - a.line.Actual
		rep.Participants = append(rep.Participants, ReplayParticipant{ExternalID: ext, Name: a.name, ReplayLine: a.line})
		rep.Total.Actual += a.line.Actual
		rep.Total.Proposed += a.line.Proposed
		rep.Total.ActualRewards += a.line.ActualRewards
		rep.Total.ProposedRewards += a.line.ProposedRewards
	}
	rep.Total.Delta = rep.Total.Proposed - rep.Total.Actual
	sort.Slice(rep.Participants, func(i, j int) bool {
		di, dj := replayAbs(rep.Participants[i].Delta), replayAbs(rep.Participants[j].Delta)
		if di != dj {
			return di > dj
		}
		return rep.Participants[i].ExternalID < rep.Participants[j].ExternalID
	})
	for id, l := range rules {
		l.Delta = l.Proposed - l.Actual
		rep.Rules = append(rep.Rules, ReplayRule{RuleID: id, ReplayLine: *l})
	}
	sort.Slice(rep.Rules, func(i, j int) bool { return rep.Rules[i].RuleID < rep.Rules[j].RuleID })
	return rep, nil
}

func replayAbs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// simWorld is the replay's world: the database as it stood before the
// window (read only), plus the replayed decisions in memory.
type simWorld struct {
	ctx     context.Context
	s       *Store
	prog    *parrain.Program
	from    time.Time // window start
	sim     []*parrain.Reward
	seq     int
	reached map[string]map[string]time.Time // referral → stage → when (in the window)
	success map[string]simSuccess           // referral → success in the window
	voided  map[string]bool                 // referrals voided in the window
	refs    map[string]*refCtx
	firstEv map[string]string // referral → its first event
	names   map[string]string // participant id → name
}

type simSuccess struct {
	advocate string
	at       time.Time
}

func newSimWorld(ctx context.Context, s *Store, prog *parrain.Program, from time.Time) *simWorld {
	return &simWorld{ctx: ctx, s: s, prog: prog, from: from, reached: map[string]map[string]time.Time{},
		success: map[string]simSuccess{}, voided: map[string]bool{}, refs: map[string]*refCtx{},
		firstEv: map[string]string{}, names: map[string]string{}}
}

// replayEvent re-applies one real event's reward logic.
func (w *simWorld) replayEvent(eventID, refID string, ev *parrain.Event) error {
	ctx := w.ctx
	rc, err := w.refCtx(refID)
	if err != nil {
		return err
	}
	var out engineOutcome
	src := grantSource{EventID: eventID, OrderID: ev.OrderID}
	first, ok := w.firstEv[refID]
	if !ok {
		if err := w.s.r.QueryRowContext(ctx, `SELECT MIN(id) FROM events WHERE referral_id = $1`, refID).Scan(&first); err != nil {
			return err
		}
		w.firstEv[refID] = first
	}
	rewardable := rc.ref.Status != parrain.ReferralRejected
	if first == eventID && rewardable && (ev.Type == parrain.EventSignup || ev.Type == parrain.EventPurchase || ev.Type == parrain.EventStage) {
		if err := applySignup(ctx, w, w.prog, rc, ev, src, &out); err != nil {
			return err
		}
	}
	if !rewardable {
		return nil
	}
	switch ev.Type {
	case parrain.EventPurchase:
		var pid string
		var pf purchaseFacts
		err := w.s.r.QueryRowContext(ctx, `SELECT id, amount, currency FROM purchases WHERE event_id = $1`, eventID).Scan(&pid, &pf.Amount, &pf.Currency)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // a duplicate report of an order
		}
		if err != nil {
			return err
		}
		var firstAt int64
		if err := w.s.r.QueryRowContext(ctx, `SELECT COUNT(*), MIN(occurred_at) FROM purchases WHERE referral_id = $1 AND id <= $2`,
			refID, pid).Scan(&pf.PaymentNumber, &firstAt); err != nil {
			return err
		}
		pf.FirstPaymentAt = fromMS(firstAt)
		src.PurchaseID = pid
		return applyPurchase(ctx, w, w.prog, rc, ev, pf, src, &out)
	case parrain.EventStage:
		if ev.Stage == "" || !w.prog.HasStage(ev.Stage) {
			return nil
		}
		return applyStage(ctx, w, w.prog, rc, ev, src, &out)
	case parrain.EventContract:
		if ev.Value == nil {
			return nil
		}
		return applyContract(ctx, w, w.prog, rc, ev, src, &out)
	case parrain.EventCancel:
		return applyCancel(ctx, w, w.prog, rc, ev, &out)
	case parrain.EventRefund:
		return w.refund(eventID)
	}
	return nil
}

// refund replays a refund on the simulated rewards of its purchase.
func (w *simWorld) refund(eventID string) error {
	var pid string
	var amount, total int64
	err := w.s.r.QueryRowContext(w.ctx, `SELECT f.purchase_id, p.amount, (SELECT SUM(o.amount) FROM refunds o WHERE o.purchase_id = f.purchase_id AND o.id <= f.id)
		FROM refunds f JOIN purchases p ON p.id = f.purchase_id WHERE f.event_id = $1`, eventID).Scan(&pid, &amount, &total)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, rw := range w.sim {
		if rw.PurchaseID != pid {
			continue
		}
		x, err := parrain.Reversal(rw, amount, total)
		if err != nil {
			return err
		}
		if x > 0 {
			if _, err := w.reverse(w.ctx, rw, x, "refund"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *simWorld) refCtx(refID string) (*refCtx, error) {
	if rc := w.refs[refID]; rc != nil {
		return rc, nil
	}
	ref, err := w.s.referralByID(w.ctx, w.s.r, refID)
	if err != nil {
		return nil, err
	}
	rc, err := w.s.loadRefCtx(w.ctx, w.s.r, ref)
	if err != nil {
		return nil, err
	}
	w.refs[refID] = rc
	w.names[rc.advocate.ID], w.names[rc.friend.ID] = rc.advocate.Name, rc.friend.Name
	return rc, nil
}

// preWindow is the condition selecting the rewards the database knew before
// the window, whose start is parameter n (contest prizes always count:
// they are not replayed).
func preWindow(n int) string {
	return fmt.Sprintf(`(occurred_at < $%d OR trigger_type = 'contest')`, n)
}

func (w *simWorld) Successes(advocateID, exclude string, from, to time.Time) (int, error) {
	rows, err := w.s.r.QueryContext(w.ctx, `SELECT id, succeeded_at FROM referrals WHERE advocate_id = $1 AND id <> $2 AND succeeded_at >= $3
		AND succeeded_at < $4 AND succeeded_at < $5 AND (voided_at IS NULL OR voided_at >= $5)`, advocateID, exclude, ms(from), ms(to), ms(w.from))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return 0, err
		}
		if !w.voided[id] {
			n++
		}
	}
	for id, s := range w.success {
		if s.advocate == advocateID && id != exclude && !w.voided[id] && !s.at.Before(from) && s.at.Before(to) {
			n++
		}
	}
	return n, rows.Err()
}

func (w *simWorld) simSum(match func(*parrain.Reward) bool) int64 {
	var n int64
	for _, r := range w.sim {
		if match(r) {
			n += r.Outstanding()
		}
	}
	return n
}

func simInPeriod(r *parrain.Reward, from, to time.Time) bool {
	return r.OccurredAt != nil && !r.OccurredAt.Before(from) && r.OccurredAt.Before(to)
}

func (w *simWorld) Earned(participantID, referralID string, from, to time.Time) (int64, error) {
	var n int64
	err := w.s.r.QueryRowContext(w.ctx, `SELECT COALESCE(SUM(amount - reversed), 0) FROM rewards WHERE participant_id = $1 AND ($2 = '' OR referral_id = $2)
		AND occurred_at >= $3 AND occurred_at < $4 AND `+preWindow(5), participantID, referralID, ms(from), ms(to), ms(w.from)).Scan(&n)
	if err != nil {
		return 0, err
	}
	return n + w.simSum(func(r *parrain.Reward) bool {
		return r.ParticipantID == participantID && (referralID == "" || r.ReferralID == referralID) && simInPeriod(r, from, to)
	}), nil
}

func (w *simWorld) Spent(from, to time.Time) (int64, error) {
	var n int64
	err := w.s.r.QueryRowContext(w.ctx, `SELECT COALESCE(SUM(amount - reversed), 0) FROM rewards WHERE program_id = $1 AND occurred_at >= $2
		AND occurred_at < $3 AND `+preWindow(4), w.prog.ID, ms(from), ms(to), ms(w.from)).Scan(&n)
	if err != nil {
		return 0, err
	}
	return n + w.simSum(func(r *parrain.Reward) bool { return simInPeriod(r, from, to) }), nil
}

func (w *simWorld) Rewarded(ruleID, participantID string, from, to time.Time) (bool, error) {
	var n int
	err := w.s.r.QueryRowContext(w.ctx, `SELECT COUNT(*) FROM rewards WHERE participant_id = $1 AND rule_id = $2 AND occurred_at >= $3 AND occurred_at < $4
		AND amount > reversed AND `+preWindow(5), participantID, ruleID, ms(from), ms(to), ms(w.from)).Scan(&n)
	if err != nil {
		return false, err
	}
	if n > 0 {
		return true, nil
	}
	return w.simSum(func(r *parrain.Reward) bool {
		return r.ParticipantID == participantID && r.RuleID == ruleID && simInPeriod(r, from, to)
	}) > 0, nil
}

func (w *simWorld) reachedAt(ctx context.Context, refID, stage string) (time.Time, bool, error) {
	if at, ok := w.reached[refID][stage]; ok {
		return at, true, nil
	}
	var at int64
	err := w.s.r.QueryRowContext(ctx, `SELECT occurred_at FROM referral_stages WHERE referral_id = $1 AND stage = $2 AND occurred_at < $3`,
		refID, stage, ms(w.from)).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return fromMS(at), err == nil, err
}

func (w *simWorld) reach(ctx context.Context, rc *refCtx, stage, _ string, _ *int64, _ string, at time.Time) (bool, time.Time, error) {
	t, ok, err := w.reachedAt(ctx, rc.ref.ID, stage)
	if err != nil || ok {
		return false, t, err
	}
	if w.reached[rc.ref.ID] == nil {
		w.reached[rc.ref.ID] = map[string]time.Time{}
	}
	w.reached[rc.ref.ID][stage] = at
	return true, at, nil
}

func (w *simWorld) succeededAt(ctx context.Context, refID string) (*time.Time, error) {
	if w.voided[refID] {
		return nil, nil
	}
	if s, ok := w.success[refID]; ok {
		return &s.at, nil
	}
	var at sql.NullInt64
	err := w.s.r.QueryRowContext(ctx, `SELECT succeeded_at FROM referrals WHERE id = $1 AND succeeded_at < $2 AND (voided_at IS NULL OR voided_at >= $2)`,
		refID, ms(w.from)).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return fromNullMS(at), err
}

func (w *simWorld) succeed(ctx context.Context, rc *refCtx, at time.Time) (bool, error) {
	if _, ok := w.success[rc.ref.ID]; ok {
		return false, nil
	}
	var n int
	if err := w.s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE id = $1 AND succeeded_at < $2`, rc.ref.ID, ms(w.from)).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	w.success[rc.ref.ID] = simSuccess{advocate: rc.ref.AdvocateID, at: at}
	return true, nil
}

func (w *simWorld) cancel(_ context.Context, refID string, _ time.Time, void bool) error {
	if void {
		w.voided[refID] = true
	}
	return nil
}

func (w *simWorld) program(ctx context.Context, version int) (parrain.Program, error) {
	if version == w.prog.Version {
		return *w.prog, nil
	}
	return w.s.programAtVersion(ctx, w.s.r, w.prog.ID, version)
}

// rewardsOf returns the referral's rewards from before the window (read
// only) and the simulated ones.
func (w *simWorld) rewardsOf(ctx context.Context, refID string) ([]parrain.Reward, error) {
	rws, err := w.s.rewardsWhere(ctx, w.s.r, `r.referral_id = $1 AND (r.occurred_at < $2 OR r.trigger_type = 'contest') ORDER BY r.id`, refID, ms(w.from))
	if err != nil {
		return nil, err
	}
	if err := w.s.decorate(ctx, w.s.r, rws); err != nil {
		return nil, err
	}
	for i := range rws {
		rws[i].ID = "db:" + rws[i].ID // read only: reversals of these are not replayed
	}
	for _, r := range w.sim {
		if r.ReferralID == refID {
			rws = append(rws, *r)
		}
	}
	return rws, nil
}

func (w *simWorld) reverse(_ context.Context, rw *parrain.Reward, x int64, _ string) (ReversalResult, error) {
	for _, r := range w.sim {
		if r.ID == rw.ID {
			moves, st := parrain.Reverse(r, x)
			if len(moves) == 0 {
				return ReversalResult{}, nil
			}
			r.Reversed += x
			r.Status = st
			rw.Reversed, rw.Status = r.Reversed, st
			return ReversalResult{RewardID: r.ID, Amount: x, Currency: r.Currency, EntryType: moves[0].Type, Status: st}, nil
		}
	}
	// A reward from before the window: its real reversal already shows in
	// the database.
	return ReversalResult{RewardID: rw.ID, Amount: 0, Currency: rw.Currency}, nil
}

func (w *simWorld) grant(_ context.Context, rc *refCtx, a parrain.Award, src grantSource) (parrain.Reward, error) {
	w.seq++
	owner, ext := rc.ref.AdvocateID, rc.ref.AdvocateExternalID
	if a.Role == parrain.RoleFriend {
		owner, ext = rc.ref.FriendID, rc.ref.FriendExternalID
	}
	hold := a.At.Add(w.prog.Hold())
	if a.Immediate {
		hold = a.At
	}
	version := src.Version
	if version == 0 {
		version = w.prog.Version
	}
	rw := &parrain.Reward{ID: fmt.Sprintf("sim_%d", w.seq), ProgramID: w.prog.ID, ParticipantID: owner, ExternalID: ext,
		ReferralID: rc.ref.ID, PurchaseID: src.PurchaseID, OrderID: src.OrderID, EventID: src.EventID, RuleID: a.RuleID,
		RuleVersion: version, Role: a.Role, Trigger: a.Trigger, Kind: a.Kind, AmountType: a.AmountType, Amount: a.Amount,
		Currency: a.Currency, Status: parrain.RewardPending, Description: a.Description, Explanation: a.Explanation, HoldUntil: hold}
	rw.RewardDetails = detailsOf(a, a.At)
	w.sim = append(w.sim, rw)
	return *rw, nil
}

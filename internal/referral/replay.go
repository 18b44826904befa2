package referral

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

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
func (s *Service) Replay(ctx context.Context, programID string, proposed parrain.Program, days int) (ReplayReport, error) {
	if days < 1 || days > MaxReplayDays {
		return ReplayReport{}, parrain.Invalid("days", "must be between 1 and %d", MaxReplayDays)
	}
	cur, err := s.st.Program(ctx, programID)
	if err != nil {
		return ReplayReport{}, err
	}
	prog, err := proposedProgram(cur, proposed)
	if err != nil {
		return ReplayReport{}, err
	}
	now := s.st.Clock().Now()
	from := now.Add(-time.Duration(days) * 24 * time.Hour)
	rep := ReplayReport{ProgramID: programID, Currency: cur.Currency, Days: days, From: from, To: now, CurrentVersion: cur.Version,
		ProposedVersion: prog.Version, Participants: []ReplayParticipant{}, Rules: []ReplayRule{},
		Notes: []string{
			"Events are replayed in the order they arrived; rewards made before the window count toward caps, tiers and milestones as they stand today.",
			"Participant attributes (eligibility, partner tiers) are taken as they are now.",
			"Contest prizes are not replayed.",
		}}
	w := newSimWorld(ctx, s.st, &prog, from)
	evs, err := s.st.ReplayEvents(ctx, programID, from, now)
	if err != nil {
		return rep, err
	}
	for _, e := range evs {
		var ev parrain.Event
		if err := json.Unmarshal([]byte(e.Payload), &ev); err != nil {
			return rep, fmt.Errorf("decoding event %s: %w", e.ID, err)
		}
		if err := w.replayEvent(e.ID, e.ReferralID, &ev); err != nil {
			return rep, fmt.Errorf("replaying event %s: %w", e.ID, err)
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
	granted, err := s.st.GrantedForEvents(ctx, programID, from, now)
	if err != nil {
		return rep, err
	}
	for _, g := range granted {
		a := part(g.ExternalID, g.Name)
		a.line.Actual += g.Net
		a.line.ActualRewards++
		r := rule(g.RuleID)
		r.Actual += g.Net
		r.ActualRewards++
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
	st      *store.Store
	prog    *parrain.Program
	from    time.Time // window start
	sim     []*parrain.Reward
	seq     int
	reached map[string]map[string]time.Time // referral → stage → when (in the window)
	success map[string]simSuccess           // referral → success in the window
	voided  map[string]bool                 // referrals voided in the window
	refs    map[string]*parrain.Referred
	firstEv map[string]string // referral → its first event
	names   map[string]string // participant id → name
}

type simSuccess struct {
	advocate string
	at       time.Time
}

func newSimWorld(ctx context.Context, st *store.Store, prog *parrain.Program, from time.Time) *simWorld {
	return &simWorld{ctx: ctx, st: st, prog: prog, from: from, reached: map[string]map[string]time.Time{},
		success: map[string]simSuccess{}, voided: map[string]bool{}, refs: map[string]*parrain.Referred{},
		firstEv: map[string]string{}, names: map[string]string{}}
}

// replayEvent re-applies one real event's reward logic through dispatch.
func (w *simWorld) replayEvent(eventID, refID string, ev *parrain.Event) error {
	rc, err := w.referred(refID)
	if err != nil {
		return err
	}
	first, ok := w.firstEv[refID]
	if !ok {
		if first, err = w.st.FirstEventOf(w.ctx, refID); err != nil {
			return err
		}
		w.firstEv[refID] = first
	}
	return dispatch(w.ctx, &replayed{w: w, rc: rc, ev: ev, eventID: eventID, first: first == eventID}, ev.Type)
}

// replayed is the replay's handler of one stored event: the events that
// reward are applied to the simulated world; the others change nothing a
// replay reports.
type replayed struct {
	w       *simWorld
	rc      *parrain.Referred
	ev      *parrain.Event
	eventID string
	first   bool // the referral's first event: it made the referral
	out     engineOutcome
}

func (r *replayed) src() parrain.GrantSource {
	return parrain.GrantSource{EventID: r.eventID, OrderID: r.ev.OrderID}
}

func (r *replayed) rewardable() bool { return r.rc.Referral.Status != parrain.ReferralRejected }

// made rewards the referral's signup when this event made the referral
// (a signup, a guest purchase or a first stage), as ingestion did.
func (r *replayed) made(ctx context.Context) error {
	if !r.first || !r.rewardable() {
		return nil
	}
	return applySignup(ctx, r.w, r.w.prog, r.rc, r.ev, r.src(), &r.out)
}

func (r *replayed) signup(ctx context.Context) error { return r.made(ctx) }

func (r *replayed) purchase(ctx context.Context) error {
	if err := r.made(ctx); err != nil || !r.rewardable() {
		return err
	}
	pur, found, err := r.w.st.PurchaseOfEvent(ctx, r.eventID)
	if err != nil || !found {
		return err // not found: a duplicate report of an order
	}
	pf := purchaseFacts{Amount: pur.Amount, Currency: pur.Currency}
	if pf.PaymentNumber, pf.FirstPaymentAt, err = r.w.st.PaymentRank(ctx, r.rc.Referral.ID, pur.ID); err != nil {
		return err
	}
	src := r.src()
	src.PurchaseID = pur.ID
	return applyPurchase(ctx, r.w, r.w.prog, r.rc, r.ev, pf, src, &r.out)
}

func (r *replayed) stage(ctx context.Context) error {
	if err := r.made(ctx); err != nil || !r.rewardable() {
		return err
	}
	if r.ev.Stage == "" || !r.w.prog.HasStage(r.ev.Stage) {
		return nil
	}
	return applyStage(ctx, r.w, r.w.prog, r.rc, r.ev, r.src(), &r.out)
}

func (r *replayed) contract(ctx context.Context) error {
	if !r.rewardable() || r.ev.Value == nil {
		return nil
	}
	return applyContract(ctx, r.w, r.w.prog, r.rc, r.ev, r.src(), &r.out)
}

func (r *replayed) cancel(ctx context.Context) error {
	if !r.rewardable() {
		return nil
	}
	return applyCancel(ctx, r.w, r.w.prog, r.rc, r.ev, &r.out)
}

// refund replays a refund on the simulated rewards of its purchase.
func (r *replayed) refund(ctx context.Context) error {
	if !r.rewardable() {
		return nil
	}
	rf, found, err := r.w.st.RefundOfEvent(ctx, r.eventID)
	if err != nil || !found {
		return err
	}
	for _, rw := range r.w.sim {
		if rw.PurchaseID != rf.PurchaseID {
			continue
		}
		x, err := parrain.Reversal(rw, rf.PurchaseAmount, rf.RefundedTotal)
		if err != nil {
			return err
		}
		if x > 0 {
			if _, err := r.w.Reverse(ctx, rw, x, "refund"); err != nil {
				return err
			}
		}
	}
	return nil
}

// activity grants nothing: the fraud decisions it feeds are not replayed.
func (r *replayed) activity(context.Context) error { return nil }

// moment grants nothing: moment triggers notify, they do not reward.
func (r *replayed) moment(context.Context) error { return nil }

func (w *simWorld) referred(refID string) (*parrain.Referred, error) {
	if rc := w.refs[refID]; rc != nil {
		return rc, nil
	}
	rc, err := w.st.Referred(w.ctx, refID)
	if err != nil {
		return nil, err
	}
	w.refs[refID] = rc
	w.names[rc.Advocate.ID], w.names[rc.Friend.ID] = rc.Advocate.Name, rc.Friend.Name
	return rc, nil
}

func (w *simWorld) Successes(advocateID, exclude string, from, to time.Time) (int, error) {
	ids, err := w.st.SuccessesBefore(w.ctx, advocateID, exclude, from, to, w.from)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if !w.voided[id] {
			n++
		}
	}
	for id, s := range w.success {
		if s.advocate == advocateID && id != exclude && !w.voided[id] && !s.at.Before(from) && s.at.Before(to) {
			n++
		}
	}
	return n, nil
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
	n, err := w.st.EarnedBefore(w.ctx, participantID, referralID, from, to, w.from)
	if err != nil {
		return 0, err
	}
	return n + w.simSum(func(r *parrain.Reward) bool {
		return r.ParticipantID == participantID && (referralID == "" || r.ReferralID == referralID) && simInPeriod(r, from, to)
	}), nil
}

func (w *simWorld) Spent(from, to time.Time) (int64, error) {
	n, err := w.st.SpentBefore(w.ctx, w.prog.ID, from, to, w.from)
	if err != nil {
		return 0, err
	}
	return n + w.simSum(func(r *parrain.Reward) bool { return simInPeriod(r, from, to) }), nil
}

func (w *simWorld) Rewarded(ruleID, participantID string, from, to time.Time) (bool, error) {
	ok, err := w.st.RewardedBefore(w.ctx, ruleID, participantID, from, to, w.from)
	if err != nil || ok {
		return ok, err
	}
	return w.simSum(func(r *parrain.Reward) bool {
		return r.ParticipantID == participantID && r.RuleID == ruleID && simInPeriod(r, from, to)
	}) > 0, nil
}

func (w *simWorld) ReachedAt(ctx context.Context, refID, stage string) (time.Time, bool, error) {
	if at, ok := w.reached[refID][stage]; ok {
		return at, true, nil
	}
	return w.st.StageReachedBefore(ctx, refID, stage, w.from)
}

func (w *simWorld) Reach(ctx context.Context, rc *parrain.Referred, stage, _ string, _ *int64, _ string, at time.Time) (bool, time.Time, error) {
	t, ok, err := w.ReachedAt(ctx, rc.Referral.ID, stage)
	if err != nil || ok {
		return false, t, err
	}
	if w.reached[rc.Referral.ID] == nil {
		w.reached[rc.Referral.ID] = map[string]time.Time{}
	}
	w.reached[rc.Referral.ID][stage] = at
	return true, at, nil
}

func (w *simWorld) SucceededAt(ctx context.Context, refID string) (*time.Time, error) {
	if w.voided[refID] {
		return nil, nil
	}
	if s, ok := w.success[refID]; ok {
		return &s.at, nil
	}
	return w.st.SucceededBefore(ctx, refID, w.from)
}

func (w *simWorld) Succeed(ctx context.Context, rc *parrain.Referred, at time.Time) (bool, error) {
	if _, ok := w.success[rc.Referral.ID]; ok {
		return false, nil
	}
	already, err := w.st.SucceededSomeTimeBefore(ctx, rc.Referral.ID, w.from)
	if err != nil || already {
		return false, err
	}
	w.success[rc.Referral.ID] = simSuccess{advocate: rc.Referral.AdvocateID, at: at}
	return true, nil
}

func (w *simWorld) Cancel(_ context.Context, refID string, _ time.Time, void bool) error {
	if void {
		w.voided[refID] = true
	}
	return nil
}

func (w *simWorld) Program(ctx context.Context, version int) (parrain.Program, error) {
	if version == w.prog.Version {
		return *w.prog, nil
	}
	return w.st.ProgramAtVersion(ctx, w.prog.ID, version)
}

// RewardsOf returns the referral's rewards from before the window (read
// only) and the simulated ones.
func (w *simWorld) RewardsOf(ctx context.Context, refID string) ([]parrain.Reward, error) {
	rws, err := w.st.ReferralRewardsBefore(ctx, refID, w.from)
	if err != nil {
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

func (w *simWorld) Reverse(_ context.Context, rw *parrain.Reward, x int64, _ string) (parrain.ReversalResult, error) {
	for _, r := range w.sim {
		if r.ID == rw.ID {
			moves, st := parrain.Reverse(r, x)
			if len(moves) == 0 {
				return parrain.ReversalResult{}, nil
			}
			r.Reversed += x
			r.Status = st
			rw.Reversed, rw.Status = r.Reversed, st
			return parrain.ReversalResult{RewardID: r.ID, Amount: x, Currency: r.Currency, EntryType: moves[0].Type, Status: st}, nil
		}
	}
	// A reward from before the window: its real reversal already shows in
	// the database.
	return parrain.ReversalResult{RewardID: rw.ID, Amount: 0, Currency: rw.Currency}, nil
}

func (w *simWorld) Grant(_ context.Context, rc *parrain.Referred, a parrain.Award, src parrain.GrantSource) (parrain.Reward, error) {
	w.seq++
	owner, ext := rc.Referral.AdvocateID, rc.Referral.AdvocateExternalID
	if a.Role == parrain.RoleFriend {
		owner, ext = rc.Referral.FriendID, rc.Referral.FriendExternalID
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
		ReferralID: rc.Referral.ID, PurchaseID: src.PurchaseID, OrderID: src.OrderID, EventID: src.EventID, RuleID: a.RuleID,
		RuleVersion: version, Role: a.Role, Trigger: a.Trigger, Kind: a.Kind, AmountType: a.AmountType, Amount: a.Amount,
		Currency: a.Currency, Status: parrain.RewardPending, Description: a.Description, Explanation: a.Explanation, HoldUntil: hold}
	rw.RewardDetails = store.DetailsOf(a, a.At)
	w.sim = append(w.sim, rw)
	return *rw, nil
}

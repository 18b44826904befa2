package e2e

// The model side of TestLedgerSimulation: the steps the driver can take,
// the seeded generator that writes a step list, and the independent model
// of what the server acknowledged, with the invariants checked after every
// step. The driver itself is in sim_test.go.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
)

// Step kinds. A step list is plain data: it is generated from a seed,
// recorded, and replayed (also shortened, when shrinking a failure).
const (
	stProgram     = "program"      // PUT a new program version: A hold choice, B rate choice, C cap on/off
	stClick       = "click"        // GET /r/{code} of advocate A
	stSignup      = "signup"       // friend A signs up with advocate B's code
	stPurchase    = "purchase"     // friend A buys order B for C minor units in currency S
	stRefund      = "refund"       // refund order A: B‰ of what is left, 1000 = all of it
	stCancel      = "cancel"       // cancel friend A's referral
	stStage       = "stage"        // friend A's deal reaches closed_won with value B
	stContract    = "contract"     // friend A's contract changes to first-year value B
	stMature      = "mature"       // wait (bounded) for the approval job to approve what is due
	stReview      = "review"       // decide the first item of a review queue: A 0 reward/1 referral, B 0 approve/1 reject
	stRun         = "payout-run"   // POST payout-batches; A=1: once the approval job approved what is due
	stApprove     = "approve"      // approve the oldest batch awaiting approval, wait (bounded) for its sends
	stCancelBatch = "cancel-batch" // reject the newest batch awaiting approval
	stFault       = "fault"        // the provider refuses (A=0) or loses the answer to (A=1) the next transfer
	stCrash       = "crash"        // SIGKILL server A and restart it
	stReplay      = "replay"       // resend acknowledged event number A with its Idempotency-Key
)

// simStep is one step. Via picks the server process that receives it; Dup
// sends an event to every process at once, with the same key.
type simStep struct {
	Kind    string
	A, B, C int
	S       string
	Via     int
	Dup     bool
}

func (s simStep) String() string {
	var b strings.Builder
	b.WriteString(s.Kind)
	switch s.Kind {
	case stProgram:
		fmt.Fprintf(&b, " hold_days=%d percent_bps=%d cap=%v", holdChoices[s.A%len(holdChoices)], bpsChoices[s.B%len(bpsChoices)], s.C == 1)
	case stClick:
		fmt.Fprintf(&b, " adv%d", s.A)
	case stSignup:
		fmt.Fprintf(&b, " f%d by adv%d", s.A, s.B)
	case stPurchase:
		fmt.Fprintf(&b, " f%d order o%d %d %s", s.A, s.B, s.C, s.S)
	case stRefund:
		if s.B >= 1000 {
			fmt.Fprintf(&b, " o%d in full", s.A)
		} else {
			fmt.Fprintf(&b, " o%d %d‰ of what is left", s.A, s.B)
		}
	case stCancel:
		fmt.Fprintf(&b, " f%d", s.A)
	case stStage, stContract:
		fmt.Fprintf(&b, " f%d value %d EUR", s.A, s.B)
	case stReview:
		fmt.Fprintf(&b, " %s %s", []string{"reward", "referral"}[s.A], []string{"approve", "reject"}[s.B])
	case stFault:
		fmt.Fprintf(&b, " %s next transfer", []string{"refuse", "lose the answer to"}[s.A])
	case stCrash:
		fmt.Fprintf(&b, " server %d", s.A)
	case stRun:
		if s.A == 1 {
			b.WriteString(" after maturation")
		}
	case stReplay:
		fmt.Fprintf(&b, " event #%d", s.A)
	}
	if s.Dup {
		b.WriteString(" (concurrently to every process)")
	} else if s.Via != 0 {
		fmt.Fprintf(&b, " via %d", s.Via)
	}
	return b.String()
}

var (
	holdChoices = []int{0, 0, 30}
	bpsChoices  = []int64{1000, 500, 1500}
	advocates   = 4 // adv0, adv1, adv3 have Stripe accounts; adv2 none
)

// generate writes a step list from a seed. It depends only on the seed and
// the list so far, never on the server, so a seed replays the same list.
func generate(seed uint64, n int) []simStep {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	weights := []struct {
		kind string
		w    int
	}{
		{stProgram, 3}, {stClick, 2}, {stSignup, 9}, {stPurchase, 16}, {stRefund, 9}, {stCancel, 2}, {stStage, 3},
		{stContract, 3}, {stMature, 9}, {stReview, 3}, {stRun, 8}, {stApprove, 8}, {stCancelBatch, 2}, {stFault, 3},
		{stCrash, 3}, {stReplay, 6},
	}
	total := 0
	for _, w := range weights {
		total += w.w
	}
	var steps []simStep
	friends, orders, events := 0, 0, 0
	for len(steps) < n {
		x := r.IntN(total)
		kind := ""
		for _, w := range weights {
			if x < w.w {
				kind = w.kind
				break
			}
			x -= w.w
		}
		s := simStep{Kind: kind, Via: r.IntN(2)}
		recent := func(k int) int { // mostly recent ones, sometimes any
			if k == 0 {
				return 0
			}
			if r.IntN(3) > 0 {
				return max(0, k-1-r.IntN(min(k, 3)))
			}
			return r.IntN(k)
		}
		switch kind {
		case stProgram:
			s.A, s.B, s.C = r.IntN(len(holdChoices)), r.IntN(len(bpsChoices)), r.IntN(2)
		case stClick:
			s.A = r.IntN(advocates)
		case stSignup:
			s.A, s.B = friends, r.IntN(advocates)
			friends++
		case stPurchase:
			if friends == 0 {
				continue
			}
			s.A, s.B, s.C = recent(friends), orders, 500+r.IntN(60000)
			s.S = []string{"EUR", "EUR", "EUR", "USD", "USD", "GBP"}[r.IntN(6)]
			orders++
		case stRefund:
			if orders == 0 {
				continue
			}
			s.A, s.B = recent(orders), []int{250, 500, 1000, 1000}[r.IntN(4)]
		case stCancel:
			if friends == 0 {
				continue
			}
			s.A = recent(friends)
		case stStage, stContract:
			if friends == 0 {
				continue
			}
			s.A, s.B = recent(friends), 1000+r.IntN(80000)
		case stReview:
			s.A, s.B = r.IntN(2), r.IntN(2)
		case stFault:
			s.A = r.IntN(2)
		case stRun:
			s.A = min(1, r.IntN(3))
		case stCrash:
			s.A = r.IntN(2)
		case stReplay:
			if events == 0 {
				continue
			}
			s.A = r.IntN(events)
		}
		switch kind {
		case stSignup, stPurchase, stRefund, stCancel, stStage, stContract:
			events++
			s.Dup = r.IntN(8) == 0
		}
		steps = append(steps, s)
	}
	return steps
}

// ---- the model ----

// mReward is what the model knows of a reward from acknowledged answers.
type mReward struct {
	id, external, rule, order, referral string
	amount                              int64 // from the answer
	want                                int64 // what the model computes (-1: not computed)
	reversedAck                         int64 // reversals listed in acknowledged answers
	reviewed                            bool  // a review decision touched it: reversals not all listed
}

type mOrder struct {
	friend       string
	amount       int64
	currency     string
	refunded     int64
	acknowledged bool
}

type mEvent struct {
	key, path string
	body      map[string]any
	eventID   string
	rewardIDs []string
}

type model struct {
	hold      int
	bps       int64
	capped    bool
	codes     map[string]string // advocate external id → code
	referred  map[string]string // friend → referral id
	orders    map[int]*mOrder
	rewards   map[string]*mReward
	events    []mEvent
	batches   []string         // batch ids, in creation order
	referrals int              // acknowledged new referrals
	lines     map[string]int64 // referral id → target of the "won" line after the last contract/stage
}

func newModel() *model {
	return &model{hold: 0, bps: 1000, codes: map[string]string{}, referred: map[string]string{}, orders: map[int]*mOrder{},
		rewards: map[string]*mReward{}, lines: map[string]int64{}}
}

func (m *model) programDoc() map[string]any {
	doc := map[string]any{
		"name": "Simulation", "landing_url": "https://shop.example/", "currency": "EUR", "hold_days": m.hold,
		"fx_rates": map[string]any{"USD": "0.92"},
		"stages":   []any{map[string]any{"name": "closed_won"}},
		"rules": []any{
			map[string]any{"id": "buy", "trigger": "purchase", "advocate": map[string]any{"kind": "cash", "type": "percent", "percent_bps": m.bps}},
			map[string]any{"id": "first", "trigger": "first_purchase", "friend": map[string]any{"kind": "cash", "type": "fixed", "amount": 500}},
			map[string]any{"id": "won", "trigger": "stage", "stage": "closed_won",
				"advocate": map[string]any{"kind": "cash", "type": "percent", "percent_bps": 1500, "true_up_months": 12}},
		},
	}
	if m.capped {
		doc["caps"] = map[string]any{"per_referral": 4000, "on_cap": "review"}
	}
	return doc
}

// halfUp divides n by d (both positive), rounding half up.
func halfUp(n, d int64) int64 { return (2*n + d) / (2 * d) }

// convert converts an amount into EUR the way the engine documents it.
func convert(amount int64, currency, eventRate string) (int64, bool) {
	switch {
	case currency == "EUR":
		return amount, true
	case eventRate == "1.17":
		return halfUp(amount*117, 100), true
	case currency == "USD":
		return halfUp(amount*92, 100), true
	}
	return 0, false
}

// ---- invariants ----

// srvReward is a reward as the server shows it, with its ledger.
type srvReward struct {
	ID         string     `json:"id"`
	ExternalID string     `json:"external_id"`
	ReferralID string     `json:"referral_id"`
	OrderID    string     `json:"order_id"`
	RuleID     string     `json:"rule_id"`
	Kind       string     `json:"kind"`
	Amount     int64      `json:"amount"`
	Currency   string     `json:"currency"`
	Reversed   int64      `json:"reversed_amount"`
	Status     string     `json:"status"`
	Review     string     `json:"review"`
	Ledger     []srvEntry `json:"ledger"`
}

type srvEntry struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Bucket    string    `json:"bucket"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"created_at"`
}

type srvPayout struct {
	ID             string       `json:"id"`
	BatchID        string       `json:"batch_id"`
	ExternalID     string       `json:"external_id"`
	Method         string       `json:"method"`
	Amount         int64        `json:"amount"`
	Currency       string       `json:"currency"`
	IdempotencyKey string       `json:"idempotency_key"`
	Status         string       `json:"status"`
	SentAt         *time.Time   `json:"sent_at"`
	Items          []payoutItem `json:"items"`
}

type payoutItem struct {
	RewardID string `json:"reward_id"`
	Amount   int64  `json:"amount"`
}

// world is everything the invariants read, fetched after a step.
type world struct {
	rewards   map[string]*srvReward
	balances  map[string]map[string]map[string]int64 // participant → bucket → currency → amount
	payouts   []srvPayout
	transfers map[string]transfer // provider: idempotency key → the transfer made
	referrals int
	rejected  map[string]bool // referrals the fraud policy or a reviewer rejected
}

// sentAt returns when the paid payout that carried money of a reward
// started sending (the latest such start at or before paidAt), and false
// when no paid payout with a positive item for it says.
func (w *world) sentAt(rewardID string, paidAt time.Time) (time.Time, bool) {
	var at time.Time
	found := false
	for _, p := range w.payouts {
		if p.Status != "paid" || p.SentAt == nil || p.SentAt.After(paidAt) {
			continue
		}
		for _, it := range p.Items {
			if it.RewardID == rewardID && it.Amount > 0 && (!found || p.SentAt.After(at)) {
				at, found = *p.SentAt, true
			}
		}
	}
	return at, found
}

// check returns the violated invariants, each a sentence.
func (m *model) check(w *world) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }

	// Every acknowledged reward exists, and nothing else does (idempotent
	// replays and concurrent duplicates create nothing).
	for id := range m.rewards {
		if w.rewards[id] == nil {
			fail("acknowledged reward %s is missing", id)
		}
	}
	for id := range w.rewards {
		if m.rewards[id] == nil {
			fail("reward %s exists but no acknowledged answer created it", id)
		}
	}
	if w.referrals != m.referrals {
		fail("%d referrals on the server, %d acknowledged", w.referrals, m.referrals)
	}

	sums := map[string]map[string]map[string]int64{}
	for _, id := range sortedKeys(w.rewards) {
		r := w.rewards[id]
		mr := m.rewards[id]
		var accrual, pend, appr, paid, rev, paidNet int64
		approval, paidEver := false, false
		for _, e := range r.Ledger {
			if sums[r.ExternalID] == nil {
				sums[r.ExternalID] = map[string]map[string]int64{}
			}
			if sums[r.ExternalID][e.Bucket] == nil {
				sums[r.ExternalID][e.Bucket] = map[string]int64{}
			}
			sums[r.ExternalID][e.Bucket][e.Currency] += e.Amount
			switch e.Bucket {
			case "pending":
				pend += e.Amount
			case "approved":
				appr += e.Amount
			case "paid":
				paid += e.Amount
			}
			switch e.Type {
			case "accrual":
				accrual += e.Amount
			case "approval":
				approval = true
			case "reversal", "clawback":
				rev -= e.Amount
			}
			if e.Bucket == "paid" {
				paidNet += e.Amount
				if e.Amount > 0 {
					paidEver = true
					// Money sent for a reward never exceeds what is left of
					// it when it is sent: the reversals recorded before the
					// payout moved to sending count. A refund recorded while
					// the money is in flight (sending, processing) cannot
					// stop it: it is a clawback the next payout nets
					// (docs/payouts.md), checked by the bucket invariants.
					sentAt, sent := w.sentAt(id, e.CreatedAt)
					before := rev
					if sent {
						before = 0
						for _, x := range r.Ledger {
							if (x.Type == "reversal" || x.Type == "clawback") && x.CreatedAt.Before(sentAt) {
								before -= x.Amount
							}
						}
					}
					if paidNet > accrual-before {
						fail("reward %s (%s): paid %d in total at entry %s (%s) while amount − reversals before sending (%v) was %d − %d = %d (clawed-back money paid)",
							id, r.ExternalID, paidNet, e.ID, e.CreatedAt.Format(time.RFC3339Nano), sentAt.Format(time.RFC3339Nano), accrual, before, accrual-before)
					}
				}
			}
		}
		if accrual != r.Amount {
			fail("reward %s: accrual %d, amount %d", id, accrual, r.Amount)
		}
		if rev != r.Reversed {
			fail("reward %s: reversal entries %d, reversed_amount %d", id, rev, r.Reversed)
		}
		if rev > r.Amount || rev < 0 {
			fail("reward %s: reversed %d of %d", id, rev, r.Amount)
		}
		if pend < 0 || paid < 0 || paid > r.Amount {
			fail("reward %s: buckets pending %d, approved %d, paid %d of %d", id, pend, appr, paid, r.Amount)
		}
		if pend+appr+paid != r.Amount-rev {
			fail("reward %s: buckets %d+%d+%d ≠ amount − reversed %d", id, pend, appr, paid, r.Amount-rev)
		}
		want := "pending"
		switch {
		case rev >= r.Amount && approval:
			want = "clawed_back"
		case rev >= r.Amount:
			want = "reversed"
		case paidEver:
			want = "paid"
		case approval:
			want = "approved"
		}
		if r.Status != want {
			fail("reward %s: status %s, its entries say %s", id, r.Status, want)
		}
		if mr == nil {
			continue
		}
		if mr.amount != r.Amount {
			fail("reward %s: amount %d, acknowledged %d", id, r.Amount, mr.amount)
		}
		if mr.want >= 0 && mr.want != r.Amount {
			fail("reward %s (rule %s): amount %d, the model computes %d", id, r.RuleID, r.Amount, mr.want)
		}
		// A rejection (automatic fraud decision or review) reverses what is
		// left without an event answer listing it.
		exact := !mr.reviewed && !w.rejected[r.ReferralID]
		if (exact && rev != mr.reversedAck) || rev < mr.reversedAck {
			fail("reward %s: reversed %d, acknowledged reversals %d", id, rev, mr.reversedAck)
		}
	}
	// A fully refunded order leaves nothing of its rewards.
	for n, o := range m.orders {
		if o.refunded < o.amount || !o.acknowledged {
			continue
		}
		for _, r := range w.rewards {
			if r.OrderID == fmt.Sprintf("o%d", n) && r.Reversed != r.Amount {
				fail("order o%d refunded in full but reward %s keeps %d of %d", n, r.ID, r.Amount-r.Reversed, r.Amount)
			}
		}
	}
	// The "won" line of a deal equals its target after stage/contract events,
	// unless the fraud policy or a reviewer rejected the referral since (a
	// refund soon after a reward is such evidence): rejection reverses it.
	for ref, target := range m.lines {
		if w.rejected[ref] {
			continue
		}
		var got int64
		for _, r := range w.rewards {
			if r.ReferralID == ref && r.RuleID == "won" {
				got += r.Amount - r.Reversed
			}
		}
		if got != target {
			fail("deal %s: commission %d, target %d", ref, got, target)
		}
	}
	// Balances are the sums of the entries per bucket.
	for who, bal := range w.balances {
		for _, bucket := range []string{"pending", "approved", "paid"} {
			for cur, v := range sums[who][bucket] {
				if bal[bucket][cur] != v {
					fail("%s: balance %s %s is %d, entries sum to %d", who, bucket, cur, bal[bucket][cur], v)
				}
			}
			for cur, v := range bal[bucket] {
				if v != 0 && sums[who][bucket][cur] != v {
					fail("%s: balance %s %s is %d, entries sum to %d", who, bucket, cur, v, sums[who][bucket][cur])
				}
			}
		}
	}

	// Payouts: one key each; never sent twice; the provider agrees; netting once.
	keys := map[string]string{}
	sentPerReward := map[string]int64{}
	paidItems := map[string]int64{}
	for _, p := range w.payouts {
		if other, ok := keys[p.IdempotencyKey]; ok {
			fail("payouts %s and %s share the key %s", other, p.ID, p.IdempotencyKey)
		}
		keys[p.IdempotencyKey] = p.ID
		var items int64
		for _, it := range p.Items {
			items += it.Amount
		}
		if items != p.Amount {
			fail("payout %s: amount %d, items sum to %d", p.ID, p.Amount, items)
		}
		tr, made := w.transfers[p.IdempotencyKey]
		if made {
			if tr.amount != p.Amount || !strings.EqualFold(tr.currency, p.Currency) {
				fail("payout %s: %d %s, the provider transferred %d %s", p.ID, p.Amount, p.Currency, tr.amount, tr.currency)
			}
			if p.Status != "sending" && p.Status != "paid" {
				fail("payout %s is %s but the provider made its transfer %s (money sent, rewards back in the balance)", p.ID, p.Status, tr.id)
			}
			for _, it := range p.Items {
				if it.Amount > 0 {
					sentPerReward[it.RewardID] += it.Amount
				}
			}
		} else if p.Status == "paid" && p.Method == "stripe" {
			fail("payout %s is paid but the provider made no transfer for key %s", p.ID, p.IdempotencyKey)
		}
		if p.Status == "paid" {
			for _, it := range p.Items {
				paidItems[it.RewardID] += it.Amount
			}
		}
	}
	for key, tr := range w.transfers {
		if _, ok := keys[key]; !ok {
			fail("the provider made transfer %s for key %s that no payout has", tr.id, key)
		}
		if tr.made > 1 {
			fail("the provider made %d transfers for key %s", tr.made, key)
		}
	}
	for id, sent := range sentPerReward {
		if r := w.rewards[id]; r != nil && sent > r.Amount {
			fail("reward %s: %d sent by the provider across payouts, amount %d (paid twice)", id, sent, r.Amount)
		}
	}
	for id, r := range w.rewards {
		var paid int64
		for _, e := range r.Ledger {
			if e.Bucket == "paid" && e.Type == "payout" {
				paid += e.Amount
			}
		}
		if paid != paidItems[id] {
			fail("reward %s: paid bucket %d, items of paid payouts %d (a payout or a netted clawback counted other than once)", id, paid, paidItems[id])
		}
	}
	return bad
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ddmin shrinks a failing step list: it removes chunks of steps as long as
// the rest still fails, down to a list where no single step can go.
func ddmin(steps []simStep, fails func([]simStep) bool, budget func() bool) []simStep {
	n := 2
	for len(steps) >= 2 && budget() {
		chunk := (len(steps) + n - 1) / n
		reduced := false
		for i := 0; i < len(steps) && budget(); i += chunk {
			rest := slices.Concat(steps[:i], steps[min(len(steps), i+chunk):])
			if len(rest) > 0 && fails(rest) {
				steps, n, reduced = rest, max(n-1, 2), true
				break
			}
		}
		if !reduced {
			if n >= len(steps) {
				break
			}
			n = min(len(steps), 2*n)
		}
	}
	return steps
}
